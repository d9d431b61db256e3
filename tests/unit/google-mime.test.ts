import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMessage, decodeHeaderValue, encodeHeaderValue, formatAddress } from '../../connectors/google/gmail/mime.ts';
import { parseFrom } from '../../connectors/google/gmail/trigger.ts';

test('an ASCII subject stays as it is; a UTF-8 one becomes encoded words of at most 75 characters that decode back', () => {
  assert.equal(encodeHeaderValue('Quotation signed'), 'Quotation signed');
  const subject = '報價單已簽署：二〇二六年第四季度所有分店的採購合約及附件（共十二份）✅';
  const encoded = encodeHeaderValue(subject);
  const words = encoded.split('\r\n ');
  assert.ok(words.length > 1, 'long subjects are folded into several words');
  for (const w of words) {
    assert.match(w, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.ok(w.length <= 75, `${w.length} characters`);
    // each word holds whole characters: it decodes on its own
    assert.ok(!decodeHeaderValue(w).includes('\uFFFD'));
  }
  assert.equal(decodeHeaderValue(encoded), subject);
});

test('a header value cannot smuggle a new header line', () => {
  assert.equal(encodeHeaderValue('Hi\r\nBcc: evil@example.com'), 'Hi Bcc: evil@example.com');
});

test('addresses: plain, quoted when needed, encoded when not ASCII', () => {
  assert.equal(formatAddress('bob@example.com'), 'bob@example.com');
  assert.equal(formatAddress('Bob <bob@example.com>'), 'Bob <bob@example.com>');
  assert.equal(formatAddress('Chan, Tai Man <tm@example.com>'), '"Chan, Tai Man" <tm@example.com>');
  assert.match(formatAddress('陳大文 <tm@example.com>'), /^=\?UTF-8\?B\?.+\?= <tm@example\.com>$/);
  assert.deepEqual(parseFrom('"Mei Ling" <mei@customer.example>'), { name: 'Mei Ling', email: 'mei@customer.example' });
  assert.deepEqual(parseFrom('mei@customer.example'), { name: '', email: 'mei@customer.example' });
});

test('a message: CRLF lines, 7-bit headers, UTF-8 body in base64; text and html as alternatives', () => {
  const one = buildMessage({
    to: ['a@example.com'],
    subject: '你好',
    text: '正文',
    date: new Date('2026-12-01T00:00:00Z'),
    messageId: '<x@y>',
  });
  assert.ok(!/[^\r]\n/.test(one), 'every line ends in CRLF');
  assert.match(one, /^Subject: =\?UTF-8\?B\?5L2g5aW9\?=\r$/m);
  assert.match(one, /^Date: Tue, 01 Dec 2026 00:00:00 \+0000\r$/m);
  assert.match(one, /^Message-ID: <x@y>\r$/m);
  assert.match(one, /Content-Transfer-Encoding: base64\r\n\r\n5q2j5paH\r\n$/);
  const both = buildMessage({ to: ['a@example.com'], subject: 's', text: 't', html: '<b>t</b>' });
  const boundary = /boundary="([^"]+)"/.exec(both)![1]!;
  assert.equal(both.split(`--${boundary}`).length, 4);
  assert.match(both, /text\/plain; charset="UTF-8"/);
  assert.match(both, /text\/html; charset="UTF-8"/);
});
