import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import pino from 'pino';
import type { ActionContext, FileRef } from '../core/connector.ts';
import { stopOcr } from '../connectors/ocr/engine.ts';
import { readReceiptTotal } from '../connectors/ocr/read-total.ts';

/**
 * ocr.receipt.total on real pixels: receipts rendered by Chromium (tests/fixtures/receipts/make.ts),
 * read by tesseract.js with the English and traditional-Chinese models from npm, offline (one worker,
 * reused by every case). No database: the files are handed over as the pipeline's file access does.
 */
const DIR = path.join(import.meta.dirname, 'fixtures/receipts');
const files = new Map<string, Buffer>();
function ref(name: string, contentType: string): FileRef {
  const bytes = fs.readFileSync(path.join(DIR, name));
  files.set(name, bytes);
  return {
    fileId: `file_fixture_${name.replace(/[^A-Za-z0-9]/g, '_')}`,
    name,
    contentType,
    size: bytes.length,
    sha256: '0'.repeat(64),
  } as FileRef;
}
const ctx = (): ActionContext => ({
  idempotencyKey: 'k',
  attempt: 1,
  log: pino({ level: 'silent' }),
  timeoutMs: 30_000,
  trace: () => {},
  files: {
    put: async () => {
      throw new Error('not used');
    },
    open: async (r) => Readable.from([files.get(typeof r === 'string' ? r : r.name)!]),
  },
});
const run = (input: Record<string, unknown>) => readReceiptTotal.run(ctx(), readReceiptTotal.input.parse(input));

after(() => stopOcr());

test('an English receipt: TOTAL HK$ 250.00 read, matching the claim', async () => {
  const t0 = Date.now();
  const out = await run({ file: ref('receipt-en.png', 'image/png'), expectedAmount: '250.00', expectedCurrency: 'HKD' });
  console.log(
    `english receipt read in ${Date.now() - t0} ms (worker start included): ${out.total} ${out.currency}, confidence ${out.confidence}`,
  );
  assert.equal(out.total, 250);
  assert.equal(out.currency, 'HKD');
  assert.equal(out.source, 'total_line');
  assert.ok(out.confidence >= 60, `confidence ${out.confidence}`);
  assert.match(out.text, /TOTAL/);
  assert.deepEqual([out.matches, out.review, out.note], [true, false, '']);
});

test('a traditional-Chinese receipt: 總計 HK$1,234.50; a claim of 1,500 is flagged for review', async () => {
  const t0 = Date.now();
  const out = await run({
    file: ref('receipt-zh-hk.png', 'image/png'),
    expectedAmount: '1,500',
    expectedCurrency: 'HKD',
    tolerancePercent: 1,
  });
  console.log(`chinese receipt read in ${Date.now() - t0} ms: ${out.total} ${out.currency}, confidence ${out.confidence}`);
  assert.equal(out.total, 1234.5);
  assert.equal(out.currency, 'HKD');
  assert.match(out.text.replace(/\s+/g, ''), /總計/);
  assert.equal(out.review, true);
  assert.equal(out.note, 'Receipt total HKD 1234.50 differs from claimed HKD 1500.00 — review');
});

test('a PDF receipt is read from its text layer', async () => {
  const out = await run({ file: ref('receipt-en.pdf', 'application/pdf'), expectedAmount: 450, expectedCurrency: 'HKD' });
  assert.equal(out.total, 450);
  assert.equal(out.matches, true);
});

test('unreadable (a blank image, bytes that are no image): flagged for review, never a failure', async () => {
  const blank = await run({ file: ref('blank.png', 'image/png'), expectedAmount: '99', expectedCurrency: 'HKD' });
  assert.deepEqual([blank.total, blank.review, blank.read], [null, true, false]);
  assert.equal(blank.note, 'Receipt total could not be read; claimed HKD 99.00 — review');
  files.set('junk.jpg', Buffer.from('definitely not a jpeg'));
  const junk = await run({
    file: { fileId: 'file_junk_bytes', name: 'junk.jpg', contentType: 'image/jpeg', size: 21, sha256: '0'.repeat(64) },
    expectedAmount: 10,
  });
  assert.equal(junk.review, true);
  const none = await run({ file: null, expectedAmount: 10 });
  assert.deepEqual([none.review, none.read], [false, false], 'no receipt: nothing read, nothing flagged');
});
