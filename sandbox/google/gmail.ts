import crypto from 'node:crypto';
import type { Express, Request } from 'express';
import { GoogleError, badRequest, notFound, required } from './errors.ts';
import { body, publish, q, qbool, qint, qs, route, type Caller, type Fake } from './runtime.ts';
import { parseMultipart } from './drive.ts';
import { now, type GoogleData, type Json, type MailMessage, type Mailbox } from './state.ts';

const P = '/gmail/v1/users/:userId';
const WEEK = 7 * 86_400_000;

export function mailboxOf(g: GoogleData, email: string): Mailbox {
  const e = email.toLowerCase();
  let m = g.mailboxes.get(e);
  if (!m) {
    m = { email: e, messages: [], historyId: 1000, history: [], oldestHistoryId: 1 };
    g.mailboxes.set(e, m);
  }
  return m;
}

/** Headers and text of an RFC 822 message (unfolded headers, first text/plain part). */
export function parseRfc822(raw: Buffer): { headers: { name: string; value: string }[]; text: string } {
  const s = raw.toString('utf8');
  const sep = /\r?\n\r?\n/.exec(s);
  const head = sep ? s.slice(0, sep.index) : s;
  let rest = sep ? s.slice(sep.index + sep[0].length) : '';
  const headers = head
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(':');
      return { name: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
    })
    .filter((h) => h.name);
  const type = headers.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = rest.split(`--${boundary}`).slice(1);
    const plain = parts
      .map((p) => parseRfc822(Buffer.from(p.replace(/^\r?\n/, ''))))
      .find((p) => /text\/plain/i.test(p.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? 'text/plain'));
    rest = plain?.text ?? '';
  } else if (/base64/i.test(headers.find((h) => h.name.toLowerCase() === 'content-transfer-encoding')?.value ?? '')) {
    rest = Buffer.from(rest.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { headers, text: rest.replace(/\r?\n$/, '') };
}

const header = (m: { headers: { name: string; value: string }[] }, name: string) =>
  m.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
const addresses = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((a) => (/<([^>]+)>/.exec(a)?.[1] ?? a).trim().toLowerCase())
    .filter((a) => a.includes('@'));

/** Adds a message to a mailbox: a history record, and a Pub/Sub notification when the mailbox is watched. */
export function deliver(fake: Fake, mailbox: Mailbox, raw: Buffer, labelIds: string[], threadId?: string): MailMessage {
  const g = fake.state.google;
  const parsed = parseRfc822(raw);
  const id = crypto.randomBytes(8).toString('hex');
  const refs = `${header(parsed, 'In-Reply-To') ?? ''} ${header(parsed, 'References') ?? ''}`;
  const related = mailbox.messages.find((m) => {
    const mid = header(m, 'Message-ID');
    return !!mid && refs.includes(mid);
  });
  mailbox.historyId += 1;
  const msg: MailMessage = {
    id,
    threadId: threadId ?? related?.threadId ?? id,
    labelIds,
    raw,
    internalDate: now(g),
    historyId: mailbox.historyId,
    headers: parsed.headers,
    bodyText: parsed.text,
    snippet: parsed.text.replace(/\s+/g, ' ').trim().slice(0, 200),
  };
  mailbox.messages.push(msg);
  mailbox.history.push({ id: mailbox.historyId, messageId: id, threadId: msg.threadId, labelIds, type: 'messageAdded' });
  const w = mailbox.watch;
  if (w && w.expiration > now(g)) {
    const match =
      w.labelIds.length === 0 ||
      (w.labelFilterBehavior === 'exclude' ? !labelIds.some((l) => w.labelIds.includes(l)) : labelIds.some((l) => w.labelIds.includes(l)));
    if (match) publish(fake, w.topicName, { emailAddress: mailbox.email, historyId: mailbox.historyId });
  }
  return msg;
}

function messageJson(m: MailMessage, format: string, metadataHeaders: string[]): Json {
  const base: Json = {
    id: m.id,
    threadId: m.threadId,
    labelIds: m.labelIds,
    snippet: m.snippet,
    historyId: String(m.historyId),
    internalDate: String(m.internalDate),
    sizeEstimate: m.raw.length,
  };
  if (format === 'minimal') return base;
  if (format === 'raw') return { ...base, raw: m.raw.toString('base64url') };
  const headers =
    format === 'metadata' && metadataHeaders.length
      ? m.headers.filter((h) => metadataHeaders.some((x) => x.toLowerCase() === h.name.toLowerCase()))
      : m.headers;
  const mimeType = (header(m, 'Content-Type') ?? 'text/plain').split(';')[0]!.trim();
  return {
    ...base,
    payload: {
      partId: '',
      mimeType,
      filename: '',
      headers,
      body:
        format === 'metadata'
          ? { size: m.bodyText.length }
          : { size: Buffer.byteLength(m.bodyText), data: Buffer.from(m.bodyText).toString('base64url') },
    },
  };
}

/** Gmail search, the subset a trigger uses: from: to: subject: is:unread|read label: in: newer_than:Nd after: before: and plain words; -term negates. */
function matcher(query: string | undefined, now: number): (m: MailMessage) => boolean {
  if (!query) return () => true;
  const terms = query.match(/-?\w+:"[^"]*"|-?\w+:\S+|-?"[^"]*"|\S+/g) ?? [];
  const preds = terms.map((raw) => {
    const neg = raw.startsWith('-');
    const t = neg ? raw.slice(1) : raw;
    const m = /^(\w+):(.*)$/.exec(t);
    const val = (m ? m[2]! : t).replace(/^"|"$/g, '').toLowerCase();
    let p: (x: MailMessage) => boolean;
    switch (m?.[1]?.toLowerCase()) {
      case 'from':
        p = (x) => (header(x, 'From') ?? '').toLowerCase().includes(val);
        break;
      case 'to':
        p = (x) => `${header(x, 'To') ?? ''} ${header(x, 'Cc') ?? ''}`.toLowerCase().includes(val);
        break;
      case 'subject':
        p = (x) => (header(x, 'Subject') ?? '').toLowerCase().includes(val);
        break;
      case 'is':
        p =
          val === 'unread'
            ? (x) => x.labelIds.includes('UNREAD')
            : val === 'read'
              ? (x) => !x.labelIds.includes('UNREAD')
              : (x) => x.labelIds.includes(val.toUpperCase());
        break;
      case 'label':
      case 'in':
        p = (x) => x.labelIds.some((l) => l.toLowerCase() === val);
        break;
      case 'newer_than': {
        const n = Number(/^(\d+)/.exec(val)?.[1] ?? 0);
        const unit = val.endsWith('h')
          ? 3_600_000
          : val.endsWith('m')
            ? 30 * 86_400_000
            : val.endsWith('y')
              ? 365 * 86_400_000
              : 86_400_000;
        p = (x) => x.internalDate >= now - n * unit;
        break;
      }
      case 'after': {
        const t = Date.parse(val.replace(/\//g, '-')) || Number(val) * 1000;
        p = (x) => x.internalDate >= t;
        break;
      }
      case 'before': {
        const t = Date.parse(val.replace(/\//g, '-')) || Number(val) * 1000;
        p = (x) => x.internalDate < t;
        break;
      }
      default:
        p = (x) => `${header(x, 'Subject') ?? ''} ${header(x, 'From') ?? ''} ${x.bodyText}`.toLowerCase().includes(val);
    }
    return neg ? (x: MailMessage) => !p(x) : p;
  });
  return (m) => preds.every((p) => p(m));
}

export function setupGmail(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const box = (req: Request, caller: Caller): Mailbox => {
    const u = String(req.params.userId);
    if (u !== 'me' && u.toLowerCase() !== caller.email) throw new GoogleError(403, 'forbidden', 'Delegation denied for ' + caller.email);
    return mailboxOf(g(), caller.email);
  };

  const send = (raw: Buffer, req: Request, caller: Caller, threadId?: string) => {
    const sender = box(req, caller);
    const parsed = parseRfc822(raw);
    const to = [...addresses(header(parsed, 'To')), ...addresses(header(parsed, 'Cc')), ...addresses(header(parsed, 'Bcc'))];
    if (to.length === 0) throw badRequest('Invalid To header', 'invalidArgument');
    // Gmail drops Bcc from what is stored and delivered, puts the sender's own address in From (a From that is
    // not the sender's is overwritten, its display name kept) and adds Date and Message-ID when missing.
    let text = raw.toString('utf8').replace(/^Bcc:.*\r?\n/im, '');
    const from = header(parsed, 'From');
    const fromAddr = addresses(from)[0];
    const name = from && /^(.*?)\s*</.exec(from)?.[1]?.replace(/^"|"$/g, '');
    const extra: string[] = [];
    if (!from) extra.push(`From: ${sender.email}`);
    else if (fromAddr !== sender.email)
      text = text.replace(/^From:.*\r?\n/im, `From: ${name ? `${name} <${sender.email}>` : sender.email}\r\n`);
    if (!header(parsed, 'Date')) extra.push(`Date: ${new Date(now(g())).toUTCString().replace('GMT', '+0000')}`);
    if (!header(parsed, 'Message-ID')) extra.push(`Message-ID: <${crypto.randomBytes(12).toString('hex')}@mail.gmail.com>`);
    const stored = Buffer.from(extra.map((h) => `${h}\r\n`).join('') + text);
    const sent = deliver(fake, sender, stored, ['SENT'], threadId);
    for (const r of new Set(to)) if (r !== sender.email) deliver(fake, mailboxOf(g(), r), stored, ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL']);
    return { id: sent.id, threadId: sent.threadId, labelIds: sent.labelIds };
  };
  app.post(
    `/gmail/v1/users/:userId/messages/send`,
    route(fake, (req, res, caller) => {
      const b = body(req);
      if (typeof b.raw !== 'string' || !b.raw)
        throw new GoogleError(
          400,
          'invalidArgument',
          "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        );
      res.json(send(Buffer.from(b.raw, 'base64url'), req, caller, typeof b.threadId === 'string' ? b.threadId : undefined));
    }),
  );
  // The media upload form: uploadType=media (the message as message/rfc822) or multipart (JSON metadata + message).
  app.post(
    `/upload/gmail/v1/users/:userId/messages/send`,
    route(fake, (req, res, caller) => {
      if (qs(req, 'uploadType') === 'multipart') {
        const { meta, content } = parseMultipart(req);
        return res.json(send(content, req, caller, typeof meta.threadId === 'string' ? meta.threadId : undefined));
      }
      res.json(send((req as Request & { rawBody: Buffer }).rawBody, req, caller));
    }),
  );

  app.get(
    `${P}/messages`,
    route(fake, (req, res, caller) => {
      const m = box(req, caller);
      const labels = [q(req).labelIds].flat().filter((x): x is string => typeof x === 'string');
      const spam = qbool(req, 'includeSpamTrash');
      const match = matcher(qs(req, 'q'), now(g()));
      const all = [...m.messages]
        .reverse()
        .filter(
          (x) =>
            (spam || !x.labelIds.some((l) => l === 'SPAM' || l === 'TRASH')) && labels.every((l) => x.labelIds.includes(l)) && match(x),
        );
      const max = qint(req, 'maxResults', 100, 500);
      const off = qs(req, 'pageToken') ? Number(qs(req, 'pageToken')) : 0;
      const page = all.slice(off, off + max);
      res.json({
        ...(page.length ? { messages: page.map((x) => ({ id: x.id, threadId: x.threadId })) } : {}),
        ...(off + max < all.length ? { nextPageToken: String(off + max) } : {}),
        resultSizeEstimate: all.length,
      });
    }),
  );
  app.get(
    `${P}/messages/:id`,
    route(fake, (req, res, caller) => {
      const m = box(req, caller).messages.find((x) => x.id === req.params.id);
      if (!m) throw notFound('Requested entity was not found.');
      const format = qs(req, 'format') ?? 'full';
      if (!['full', 'metadata', 'minimal', 'raw'].includes(format))
        throw badRequest(`Invalid value at 'format' (${format})`, 'invalidArgument');
      res.json(
        messageJson(
          m,
          format,
          [q(req).metadataHeaders].flat().filter((x): x is string => typeof x === 'string'),
        ),
      );
    }),
  );

  app.get(
    `${P}/profile`,
    route(fake, (req, res, caller) => {
      const m = box(req, caller);
      res.json({
        emailAddress: m.email,
        messagesTotal: m.messages.length,
        threadsTotal: new Set(m.messages.map((x) => x.threadId)).size,
        historyId: String(m.historyId),
      });
    }),
  );

  app.post(
    `${P}/watch`,
    route(fake, (req, res, caller) => {
      const m = box(req, caller);
      const b = body(req);
      if (typeof b.topicName !== 'string' || !b.topicName)
        throw new GoogleError(400, 'invalidArgument', 'Invalid topicName does not match projects/SOME_PROJECT/topics/SOME_TOPIC');
      if (!/^projects\/[^/]+\/topics\/[^/]+$/.test(b.topicName))
        throw new GoogleError(400, 'invalidArgument', 'Invalid topicName does not match projects/SOME_PROJECT/topics/SOME_TOPIC');
      const labelIds = Array.isArray(b.labelIds) ? b.labelIds.map(String) : [];
      const behavior = String(b.labelFilterBehavior ?? b.labelFilterAction ?? 'include').toLowerCase();
      m.watch = { topicName: b.topicName, labelIds, labelFilterBehavior: behavior, expiration: now(g()) + WEEK };
      res.json({ historyId: String(m.historyId), expiration: String(m.watch.expiration) });
    }),
  );
  app.post(
    `${P}/stop`,
    route(fake, (req, res, caller) => {
      box(req, caller).watch = undefined;
      res.status(204).end();
    }),
  );

  app.get(
    `${P}/history`,
    route(fake, (req, res, caller) => {
      const m = box(req, caller);
      const startRaw = qs(req, 'startHistoryId');
      if (!startRaw) throw required('startHistoryId');
      const start = Number(startRaw);
      if (!Number.isInteger(start)) throw badRequest(`Invalid value at 'start_history_id' (TYPE_UINT64), "${startRaw}"`, 'invalidArgument');
      if (start < m.oldestHistoryId) throw notFound('Requested entity was not found.');
      const label = qs(req, 'labelId');
      const types = [q(req).historyTypes].flat().filter((x): x is string => typeof x === 'string');
      const recs = m.history.filter(
        (h) => h.id > start && (!label || h.labelIds.includes(label)) && (types.length === 0 || types.includes(h.type)),
      );
      const max = qint(req, 'maxResults', 100, 500);
      const off = qs(req, 'pageToken') ? Number(qs(req, 'pageToken')) : 0;
      const page = recs.slice(off, off + max);
      res.json({
        ...(page.length
          ? {
              history: page.map((h) => ({
                id: String(h.id),
                messages: [{ id: h.messageId, threadId: h.threadId }],
                ...(h.type === 'messageAdded'
                  ? { messagesAdded: [{ message: { id: h.messageId, threadId: h.threadId, labelIds: h.labelIds } }] }
                  : { messagesDeleted: [{ message: { id: h.messageId, threadId: h.threadId } }] }),
              })),
            }
          : {}),
        ...(off + max < recs.length ? { nextPageToken: String(off + max) } : {}),
        historyId: String(m.historyId),
      });
    }),
  );
}
