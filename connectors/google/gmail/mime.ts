import crypto from 'node:crypto';

/**
 * RFC 822 / RFC 5322 messages for Gmail's `users.messages.send` (`raw`, base64url). Pure functions,
 * unit-tested: headers are 7-bit, so a subject or display name outside ASCII is an RFC 2047 encoded word
 * (`=?UTF-8?B?…?=`, each at most 75 characters, never splitting a character), and bodies are UTF-8 in
 * base64 lines of 76 characters.
 */

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** A header value as one or more encoded words when it is not plain ASCII (folded with CRLF + space). */
export function encodeHeaderValue(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (ASCII_PRINTABLE.test(clean)) return clean;
  const words: string[] = [];
  // 75 characters per word: "=?UTF-8?B?" + "?=" is 12, leaving 63 base64 characters → 45 bytes (a multiple of 3 stays whole).
  const MAX_BYTES = 45;
  let bytes: Buffer[] = [];
  let size = 0;
  for (const ch of clean) {
    const b = Buffer.from(ch, 'utf8');
    if (size + b.length > MAX_BYTES) {
      words.push(`=?UTF-8?B?${Buffer.concat(bytes).toString('base64')}?=`);
      bytes = [];
      size = 0;
    }
    bytes.push(b);
    size += b.length;
  }
  if (bytes.length) words.push(`=?UTF-8?B?${Buffer.concat(bytes).toString('base64')}?=`);
  return words.join('\r\n ');
}

/** An address with an optional display name: `Name <a@b>`; the name quoted or encoded as needed. */
export function formatAddress(input: string): string {
  const m = /^\s*(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$/.exec(input);
  if (!m) return input.trim();
  const name = m[1]!.replace(/^"|"$/g, '');
  const email = m[2]!;
  if (!name) return email;
  if (!ASCII_PRINTABLE.test(name)) return `${encodeHeaderValue(name)} <${email}>`;
  return /[()<>[\]:;@\\,."]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}" <${email}>` : `${name} <${email}>`;
}

const base64Lines = (text: string) =>
  (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? ['']
  ).join('\r\n');

export interface MailInput {
  to: string[];
  cc?: string[];
  bcc?: string[];
  from?: string;
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  inReplyTo?: string;
  messageId?: string;
  date?: Date;
}

/** The whole message as RFC 822 text (CRLF line ends). */
export function buildMessage(m: MailInput): string {
  const headers: string[] = [];
  if (m.from) headers.push(`From: ${formatAddress(m.from)}`);
  headers.push(`To: ${m.to.map(formatAddress).join(', ')}`);
  if (m.cc?.length) headers.push(`Cc: ${m.cc.map(formatAddress).join(', ')}`);
  if (m.bcc?.length) headers.push(`Bcc: ${m.bcc.map(formatAddress).join(', ')}`);
  if (m.replyTo) headers.push(`Reply-To: ${formatAddress(m.replyTo)}`);
  headers.push(`Subject: ${encodeHeaderValue(m.subject)}`);
  headers.push(`Date: ${(m.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`);
  if (m.messageId) headers.push(`Message-ID: ${m.messageId}`);
  if (m.inReplyTo) headers.push(`In-Reply-To: ${m.inReplyTo}`, `References: ${m.inReplyTo}`);
  headers.push('MIME-Version: 1.0');
  const part = (type: string, body: string) =>
    [`Content-Type: ${type}; charset="UTF-8"`, 'Content-Transfer-Encoding: base64', '', base64Lines(body)].join('\r\n');
  if (m.text !== undefined && m.html !== undefined) {
    const boundary = `=_dingbridge_${crypto.randomBytes(12).toString('hex')}`;
    return [
      ...headers,
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      part('text/plain', m.text),
      `--${boundary}`,
      part('text/html', m.html),
      `--${boundary}--`,
      '',
    ].join('\r\n');
  }
  return [...headers, part(m.html !== undefined ? 'text/html' : 'text/plain', m.html ?? m.text ?? ''), ''].join('\r\n');
}

/** Gmail's `raw`: the message in base64url. */
export const toRaw = (message: string) => Buffer.from(message, 'utf8').toString('base64url');

/** Decodes RFC 2047 encoded words in a header (for the trigger's `subject` and `from`). */
export function decodeHeaderValue(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
              'latin1',
            );
      try {
        return new TextDecoder(charset.toLowerCase()).decode(bytes);
      } catch {
        return bytes.toString('utf8');
      }
    });
}
