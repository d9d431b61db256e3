import assert from 'node:assert/strict';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { decodeCsv, normaliseMobile, parsePeopleCsv, peopleCsv } from '../core/people/index.ts';

/** The CSV reader and mobile rules on their own (no services). */
test('mobiles: HK 8-digit default, mainland 11-digit, 00 and + prefixes kept, junk refused', () => {
  assert.equal(normaliseMobile('9123 4567'), '+85291234567');
  assert.equal(normaliseMobile('(852) 9123-4567'), '+85291234567');
  assert.equal(normaliseMobile('13800138000'), '+8613800138000');
  assert.equal(normaliseMobile('00852 6123 4567'), '+85261234567');
  assert.equal(normaliseMobile('+44 7700 900123'), '+447700900123');
  assert.equal(normaliseMobile(''), undefined);
  assert.equal(normaliseMobile('12ab'), null);
  assert.equal(normaliseMobile('12345'), null);
});

test('line numbers count the header as line 1, blank lines, and a quoted cell spanning two lines', () => {
  const csv = 'name,email,mobile,department\n"Ann\nLee",ann@example.com,91234567,Sales\n\nBad,nope,91234568,Sales\n';
  const r = parsePeopleCsv(Buffer.from(csv));
  assert.equal(r.people.length, 1);
  assert.equal(r.people[0]!.name, 'Ann\nLee');
  assert.deepEqual(r.errors, [{ row: 5, message: 'email "nope" is not a valid address' }]);
});

test('encodings: a BOM is stripped, Big5 is recognised, UTF-8 stays UTF-8', () => {
  assert.deepEqual(decodeCsv(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), { text: 'a', encoding: 'utf-8' });
  assert.deepEqual(decodeCsv(iconv.encode('陳大文', 'big5')), { text: '陳大文', encoding: 'big5' });
  assert.deepEqual(decodeCsv(Buffer.from('陳大文')), { text: '陳大文', encoding: 'utf-8' });
});

test('the export quotes formulas but not phone numbers, and reads back', () => {
  const out = peopleCsv([
    {
      id: 'x',
      name: '=cmd()',
      email: 'a@example.com',
      mobile: '+85291234567',
      department: 'Sales/HK',
      title: null,
      managerEmail: null,
      active: true,
      identities: { dingtalk: { userId: 'u1' } },
    },
  ]);
  assert.match(out, /'=cmd\(\),a@example.com,\+85291234567,Sales\/HK,,,true,x,u1/);
  const back = parsePeopleCsv(Buffer.from(out));
  assert.deepEqual(back.errors, []);
  assert.equal(back.people[0]!.mobile, '+85291234567');
});
