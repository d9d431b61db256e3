import { z } from 'zod';
import { defineAction, fileRef } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { recognize } from './engine.ts';
import { pdfText } from './pdf.ts';
import { compareTotal, readTotal } from './total.ts';

/** Receipts larger than this are not read (a phone photo is a few MB; OCR time grows with pixels). */
const MAX_BYTES = 15 * 1024 * 1024;

/** The image format by its first bytes (never by the name or the declared type: a damaged file is not handed to tesseract). */
export function imageKind(b: Buffer): string | undefined {
  if (b.length > 8 && b[0] === 0x89 && b.subarray(1, 4).toString('latin1') === 'PNG') return 'png';
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (b.subarray(0, 2).toString('latin1') === 'BM' && b.length > 54) return 'bmp';
  return undefined;
}

/** "1,234.50", "HK$ 1234.5", 1234.5 → 1234.5; empty → undefined. */
const amount = z.preprocess((v) => {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const s = String(v).replace(/[^\d.-]/g, '');
  return s === '' ? undefined : Number(s);
}, z.number().finite().optional());

export const readReceiptTotal = defineAction({
  id: 'ocr.receipt.total',
  title: "Read a receipt's total (offline OCR) and compare it with the claim",
  description:
    'Reads the total of a receipt image (PNG, JPEG) with tesseract on this server (English and traditional Chinese), or of a PDF from its text layer, and compares it with the claimed amount: `review` is true and `note` says why when they differ by more than the tolerance or the receipt cannot be read. Never fails the flow for an unreadable receipt.',
  input: z.object({
    file: fileRef.nullable().optional().describe('the receipt (from an earlier step); none: nothing is read and nothing flagged'),
    expectedAmount: amount.describe('the claimed amount'),
    expectedCurrency: z.string().trim().optional().describe('the claimed currency (empty: not compared)'),
    tolerancePercent: z.number().min(0).max(100).default(1),
  }),
  output: z.object({
    total: z.number().nullable(),
    currency: z.string().nullable(),
    confidence: z.number(),
    text: z.string(),
    source: z.enum(['total_line', 'largest_amount', 'none']),
    read: z.boolean(),
    matches: z.boolean(),
    review: z.boolean(),
    note: z.string(),
  }),
  needsConnection: false,
  sampleOutput: {
    total: 1234.5,
    currency: 'HKD',
    confidence: 87,
    text: '總計 HK$1,234.50',
    source: 'total_line',
    read: true,
    matches: true,
    review: false,
    note: '',
  },
  async run(ctx, input) {
    const A = 'ocr.receipt.total';
    const claimed = input.expectedAmount;
    const claimedCurrency = input.expectedCurrency || null;
    if (!input.file) {
      return {
        total: null,
        currency: null,
        confidence: 0,
        text: '',
        source: 'none' as const,
        read: false,
        matches: false,
        review: false,
        note: '',
      };
    }
    if (!ctx.files) throw permanent(`${A}: files are not available in this hub`);
    const file = input.file;
    let text = '';
    let confidence = 0;
    let failure = '';
    if (file.size > MAX_BYTES) failure = `the file is larger than ${MAX_BYTES / 1024 / 1024} MB`;
    else {
      const chunks: Buffer[] = [];
      for await (const c of await ctx.files.open(file)) chunks.push(Buffer.from(c as Uint8Array));
      const bytes = Buffer.concat(chunks);
      const isPdf = file.contentType === 'application/pdf' || bytes.subarray(0, 5).toString('latin1') === '%PDF-';
      try {
        if (isPdf) {
          text = await pdfText(new Uint8Array(bytes));
          confidence = text.trim() ? 95 : 0;
          if (!text.trim()) failure = 'the PDF has no text layer (a scan)';
        } else if (imageKind(bytes)) {
          ({ text, confidence } = await recognize(bytes));
        } else failure = 'it is not a PNG, JPEG, BMP, GIF or WebP image nor a PDF';
      } catch (err) {
        // An unreadable receipt is flagged for review, never a dead step.
        failure = `it could not be read (${err instanceof Error ? err.message : String(err)})`.slice(0, 300);
        ctx.log.warn({ err: String(err), file: file.name }, `${A}: receipt not readable`);
      }
    }
    const found = readTotal(text, confidence);
    const read = found.total !== null;
    ctx.trace({
      response: {
        file: file.name,
        total: found.total,
        currency: found.currency,
        confidence: found.confidence,
        source: found.source,
        failure,
      },
    });
    if (claimed === undefined)
      return {
        ...found,
        text,
        read,
        matches: false,
        review: !read,
        note: read ? '' : `Receipt total could not be read${failure ? `: ${failure}` : ''} — review`,
      };
    const cmp = compareTotal(found, claimed, claimedCurrency, input.tolerancePercent);
    return { ...found, text, read, ...cmp };
  },
});
