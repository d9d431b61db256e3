/**
 * Reading a receipt's total from recognised text (pure: what tests/unit/ocr.test.ts covers).
 *
 * OCR text is noisy: tesseract spaces out Chinese characters ("總 計"), reads "HK$" as "HKS", and
 * receipts print a subtotal, a service charge and a total. The total is the amount on the last line
 * that names a total (TOTAL, GRAND TOTAL, AMOUNT DUE, 總計, 合計, 總額, 應付, 实付 …) and is not a
 * subtotal; without such a line, the largest amount on the receipt, with a lower confidence.
 */
export interface ReadTotal {
  total: number | null;
  currency: string | null;
  /** 0–100: tesseract's confidence, lowered when no line names the total. */
  confidence: number;
  /** How the total was found: a line naming it, the largest amount, or not at all. */
  source: 'total_line' | 'largest_amount' | 'none';
}

const TOTAL_WORDS =
  /(grand\s*total|total\s*(?:due|amount|payable)?|amount\s*(?:due|payable|paid)|balance\s*due|總計|總額|總數|合計|應付|實付|总计|总额|合计|应付|实付|共計|共计)/i;
const SUBTOTAL_WORDS = /(sub\s*-?\s*total|小計|小计)/i;

/** A currency mark and an amount: `HK$1,234.50`, `HKS 34.50` (OCR's HK$), `USD 12`, `¥88.00`, `1234.50`. */
const AMOUNT =
  /(HK\s*S?\s*\$|HKS|HKD|US\s*\$|USD|NT\s*\$|TWD|RMB|CNY|MOP|SGD|S\$|GBP|£|EUR|€|JPY|¥|￥|\$)?\s*((?:\d{1,3}(?:[,，]\d{3})+|\d+)(?:[.．]\d{1,2})?)(?![\d.])/gi;

function currencyOf(mark: string | undefined): string | null {
  if (!mark) return null;
  const m = mark.toUpperCase().replace(/\s+/g, '');
  if (m === 'HK$' || m === 'HKS$' || m === 'HKS' || m === 'HKD') return 'HKD';
  if (m === 'US$' || m === 'USD') return 'USD';
  if (m === 'NT$' || m === 'TWD') return 'TWD';
  if (m === 'RMB' || m === 'CNY' || m === '¥' || m === '￥') return 'CNY';
  if (m === 'S$' || m === 'SGD') return 'SGD';
  if (m === '£' || m === 'GBP') return 'GBP';
  if (m === '€' || m === 'EUR') return 'EUR';
  if (m === 'MOP' || m === 'JPY') return m;
  return null; // a bare "$": which dollar is not said
}

/** OCR spaces out CJK characters; join them back so "總 計" reads as "總計". */
export function tidy(text: string): string {
  return text.replace(/([\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])/g, '$1');
}

interface Amount {
  value: number;
  currency: string | null;
}

function amountsOf(line: string): Amount[] {
  const out: Amount[] = [];
  for (const m of line.matchAll(AMOUNT)) {
    const digits = m[2]!.replace(/[,，]/g, '').replace('．', '.');
    // A date or a time is not an amount: "2026-12-01", "08:12".
    const before = line.slice(Math.max(0, m.index! - 1), m.index!);
    const after = line.slice(m.index! + m[0].length, m.index! + m[0].length + 1);
    if (!m[1] && (/[-/:]/.test(before) || /[-/:]/.test(after))) continue;
    const value = Number(digits);
    if (Number.isFinite(value)) out.push({ value, currency: currencyOf(m[1]) });
  }
  return out;
}

export function readTotal(text: string, ocrConfidence = 100): ReadTotal {
  const lines = tidy(text)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const anyCurrency = () => {
    for (const l of lines) for (const a of amountsOf(l)) if (a.currency) return a.currency;
    return null;
  };
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!TOTAL_WORDS.test(line) || SUBTOTAL_WORDS.test(line)) continue;
    // The amount is on the line, or (a two-line layout) on the next one.
    const found = amountsOf(line).pop() ?? (lines[i + 1] ? amountsOf(lines[i + 1]!).pop() : undefined);
    if (found)
      return { total: found.value, currency: found.currency ?? anyCurrency(), confidence: Math.round(ocrConfidence), source: 'total_line' };
  }
  let best: Amount | undefined;
  for (const l of lines) for (const a of amountsOf(l)) if (!best || a.value > best.value) best = a;
  if (best)
    return {
      total: best.value,
      currency: best.currency ?? anyCurrency(),
      confidence: Math.round(ocrConfidence / 2),
      source: 'largest_amount',
    };
  return { total: null, currency: null, confidence: 0, source: 'none' };
}

export interface Comparison {
  /** The receipt agrees with the claim (within the tolerance, and in the same currency when both are known). */
  matches: boolean;
  review: boolean;
  /** Why it needs review, in words for the memo and the finance note ('' when it matches). */
  note: string;
}

export function compareTotal(read: ReadTotal, claimed: number, claimedCurrency: string | null, tolerancePercent: number): Comparison {
  const money = (cur: string | null, v: number) => `${cur ? `${cur} ` : ''}${v.toFixed(2)}`;
  if (read.total === null)
    return { matches: false, review: true, note: `Receipt total could not be read; claimed ${money(claimedCurrency, claimed)} — review` };
  const sameCurrency = !read.currency || !claimedCurrency || read.currency === claimedCurrency.toUpperCase();
  const within = Math.abs(read.total - claimed) <= (Math.abs(claimed) * tolerancePercent) / 100 + 0.005;
  if (within && sameCurrency) return { matches: true, review: false, note: '' };
  return {
    matches: false,
    review: true,
    note: `Receipt total ${money(read.currency, read.total)} differs from claimed ${money(claimedCurrency, claimed)} — review`,
  };
}
