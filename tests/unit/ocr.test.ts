import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareTotal, readTotal, tidy } from '../../connectors/ocr/total.ts';
import { imageKind } from '../../connectors/ocr/read-total.ts';

// What tesseract gave for tests/fixtures/receipts/*.png (its usual noise: "HKS" for HK$, spaced CJK).
const EN = 'CITY TAXI LTD\nTrip 2026-12-01 08:12\nFare HK$ 220.00\nTunnel HK$ 25.00\nTip HK$ 5.00\n\nTOTAL HKS$ 250.00\nThank you\n';
const ZH = '大 快活 餐廳\n\n日 期 2026-12-02\n\n午餐 套餐 HKS 1,200.00\n服務 費 HKS 34.50\n\n總 計 HKS$1,234.50\n\n多 謝 惠顧\n';

test('the total line wins over the items, the subtotal and the dates', () => {
  assert.deepEqual(readTotal(EN, 89), { total: 250, currency: 'HKD', confidence: 89, source: 'total_line' });
  assert.deepEqual(readTotal(ZH, 87), { total: 1234.5, currency: 'HKD', confidence: 87, source: 'total_line' });
  assert.equal(readTotal('Subtotal 100.00\nService 10%  10.00\nGrand Total USD 110.00').total, 110);
  assert.equal(readTotal('Subtotal 100.00\nGrand Total USD 110.00').currency, 'USD');
  assert.equal(readTotal('小計 HK$100.00\n合計 HK$110.00').total, 110);
  assert.equal(readTotal('TOTAL\nHK$ 88.80').total, 88.8, 'amount on the line after the word');
});

test('no total line: the largest amount, at half the confidence; nothing: null', () => {
  assert.deepEqual(readTotal('Coffee 38.00\nCake 42.50', 80), { total: 42.5, currency: null, confidence: 40, source: 'largest_amount' });
  assert.deepEqual(readTotal('', 0), { total: null, currency: null, confidence: 0, source: 'none' });
  assert.equal(tidy('總 計 HK$ 1'), '總計 HK$ 1');
});

test('compared with the claim: within 1 % matches, else a review note in words', () => {
  const r = readTotal(ZH, 87);
  assert.deepEqual(compareTotal(r, 1234.5, 'HKD', 1), { matches: true, review: false, note: '' });
  assert.equal(compareTotal(r, 1240, 'HKD', 1).matches, true, '0.45 % off');
  const off = compareTotal(r, 1500, 'HKD', 1);
  assert.equal(off.review, true);
  assert.equal(off.note, 'Receipt total HKD 1234.50 differs from claimed HKD 1500.00 — review');
  assert.equal(compareTotal(r, 1234.5, 'USD', 1).review, true, 'another currency');
  assert.match(compareTotal(readTotal(''), 10, null, 1).note, /could not be read; claimed 10\.00 — review/);
});

test('images are known by their bytes, not their names', () => {
  assert.equal(imageKind(Buffer.from('89504e470d0a1a0a0000000d', 'hex')), 'png');
  assert.equal(imageKind(Buffer.from('ffd8ffe000104a464946', 'hex')), 'jpeg');
  assert.equal(imageKind(Buffer.from('not an image at all')), undefined);
});
