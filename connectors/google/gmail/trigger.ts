import crypto from 'node:crypto';
import type { gmail_v1 } from '@googleapis/gmail';
import { type PollContext, type TriggerDefinition, type TriggeredEvent } from '../../../core/connector.ts';
import { gmailFor } from '../client.ts';
import { googleReason, mapGoogleError } from '../errors.ts';
import { decodeHeaderValue } from './mime.ts';

/**
 * "A new Gmail message matching a query": `users.history.list` from a stored `historyId` (what arrived
 * since), each new message checked against the flow's Gmail search (`params.query`, e.g.
 * `from:@customer.com`). A history id Gmail no longer keeps (404) starts again from now. The first poll
 * only takes the mailbox's current history id: mail already there is not announced.
 */
export const GMAIL_RECEIVED = 'google.gmail.message.received';

interface GmailCursor {
  v: 1;
  /** The history id to continue from. */
  h: string;
  /** When the cursor was taken (ms), bounding the search that checks the query. */
  at: number;
  /** When the trigger started (ms): mail older than this was there before the flow and is never announced. */
  b?: number;
}
const parseCursor = (raw: string | null): GmailCursor | undefined => {
  try {
    const c = raw ? (JSON.parse(raw) as GmailCursor) : undefined;
    return c?.v === 1 ? c : undefined;
  } catch {
    return undefined;
  }
};

async function call<T>(what: string, fn: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await fn()).data;
  } catch (err) {
    throw mapGoogleError(what, err);
  }
}

const headerOf = (m: gmail_v1.Schema$Message, name: string) =>
  m.payload?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? '';

/** `Name <a@b>` → { name, email }. */
export function parseFrom(value: string): { name: string; email: string } {
  const m = /^\s*"?(.*?)"?\s*<([^>]+)>\s*$/.exec(value);
  return m ? { name: m[1]!.trim(), email: m[2]!.trim() } : { name: '', email: value.trim() };
}

const queryKey = (query: string) => crypto.createHash('sha256').update(query).digest('hex').slice(0, 12);

export function gmailEvent(m: gmail_v1.Schema$Message, query: string, account: string): TriggeredEvent {
  const subject = decodeHeaderValue(headerOf(m, 'Subject'));
  const fromRaw = decodeHeaderValue(headerOf(m, 'From'));
  const from = parseFrom(fromRaw);
  const occurredAt = m.internalDate ? new Date(Number(m.internalDate)).toISOString() : undefined;
  return {
    // Per query: two flows with different searches each get the message that matches theirs.
    providerId: `gmail:${m.id}:${queryKey(query)}`,
    type: GMAIL_RECEIVED,
    occurredAt,
    subject: subject || '(no subject)',
    data: {
      query,
      account,
      messageId: m.id,
      threadId: m.threadId,
      subject,
      from: fromRaw,
      fromName: from.name,
      fromEmail: from.email,
      to: decodeHeaderValue(headerOf(m, 'To')),
      date: occurredAt ?? null,
      snippet: m.snippet ?? '',
      labelIds: m.labelIds ?? [],
      link: `https://mail.google.com/mail/u/${encodeURIComponent(account)}/#all/${m.id}`,
    },
    refs: m.id ? [{ kind: 'google.gmail.message', id: m.id }] : [],
  };
}

/** Slack before the cursor's time when checking the query with `after:` (clocks and delivery delays). */
const AFTER_SLACK_MS = 3_600_000;
const MAX_PAGES = 10;

async function poll(ctx: PollContext, params: Record<string, string>, raw: string | null) {
  const query = (params.query ?? '').trim();
  const gm = await gmailFor(ctx.connection);
  const profile = async () => call('Gmail users.getProfile', () => gm.users.getProfile({ userId: 'me' }, { retry: false }));
  const cur = parseCursor(raw);
  if (!cur) {
    const p = await profile();
    const now = Date.now();
    return { events: [], cursor: JSON.stringify({ v: 1, h: String(p.historyId), at: now, b: now } satisfies GmailCursor) };
  }
  const added = new Map<string, string | undefined>();
  let pageToken: string | undefined;
  let latest = cur.h;
  let pages = 0;
  let expired = false;
  try {
    do {
      const res = await gm.users.history.list(
        { userId: 'me', startHistoryId: cur.h, historyTypes: ['messageAdded'], maxResults: 500, pageToken },
        { retry: false },
      );
      for (const h of res.data.history ?? [])
        for (const a of h.messagesAdded ?? []) if (a.message?.id) added.set(a.message.id, a.message.threadId ?? undefined);
      latest = String(res.data.historyId ?? latest);
      pageToken = res.data.nextPageToken ?? undefined;
      pages += 1;
    } while (pageToken && pages < MAX_PAGES);
  } catch (err) {
    if (googleReason(err).status !== 404) throw mapGoogleError('Gmail users.history.list', err);
    // Gmail keeps history for about a week: an older start id is 404. Nothing is skipped: the messages
    // matching the search since the cursor's time are announced (repeats collapse on their ids), and
    // the mailbox's current history id is the new start.
    expired = true;
    pageToken = undefined;
    latest = String((await profile()).historyId);
    ctx.log.warn('Gmail no longer has history from the stored historyId: searching since the last poll instead');
  }
  const events: TriggeredEvent[] = [];
  if (added.size || expired) {
    // Which of the new messages match the flow's search: Gmail's own search, bounded to the cursor's time.
    const matching = new Set<string>();
    const after = Math.floor((cur.at - AFTER_SLACK_MS) / 1000);
    let mt: string | undefined;
    do {
      const res = await call('Gmail users.messages.list', () =>
        gm.users.messages.list(
          { userId: 'me', q: `${query ? `${query} ` : ''}after:${after}`, maxResults: 500, pageToken: mt },
          { retry: false },
        ),
      );
      for (const m of res.messages ?? []) if (m.id) matching.add(m.id);
      mt = res.nextPageToken ?? undefined;
    } while (mt);
    const account = String((await profile()).emailAddress ?? '');
    for (const id of expired ? matching : added.keys()) {
      if (!matching.has(id)) continue;
      try {
        const msg = (
          await gm.users.messages.get(
            { userId: 'me', id, format: 'metadata', metadataHeaders: ['Subject', 'From', 'To', 'Date'] },
            { retry: false },
          )
        ).data;
        if (expired && cur.b && Number(msg.internalDate ?? 0) < cur.b) continue; // there before the flow started
        events.push(gmailEvent(msg, query, account));
      } catch (err) {
        if (googleReason(err).status === 404) continue; // deleted since it arrived
        throw mapGoogleError('Gmail users.messages.get', err);
      }
    }
  }
  const next: GmailCursor = { v: 1, h: pageToken ? cur.h : latest, at: pageToken ? cur.at : Date.now(), b: cur.b };
  if (pageToken) ctx.log.warn({ pages }, 'Gmail history longer than one poll reads: continuing next poll');
  return { events, cursor: JSON.stringify(next), more: false };
}

export const gmailMessageTrigger: TriggerDefinition = {
  id: 'google.gmail.message',
  title: 'Gmail: new message matching a search',
  events: [GMAIL_RECEIVED],
  kind: 'polling',
  sample: {
    query: 'from:@customer.example',
    account: 'owner@example.com',
    messageId: '18c3f0a1b2c3d4e5',
    threadId: '18c3f0a1b2c3d4e5',
    subject: 'Re: quotation for 200 units',
    from: 'Mei Ling Wong <meiling@customer.example>',
    fromName: 'Mei Ling Wong',
    fromEmail: 'meiling@customer.example',
    to: 'owner@example.com',
    date: '2026-12-01T02:15:00.000Z',
    snippet: 'Thanks for the quotation. We would like to go ahead with…',
    labelIds: ['INBOX', 'UNREAD'],
    link: 'https://mail.google.com/mail/u/owner%40example.com/#all/18c3f0a1b2c3d4e5',
  },
  poll: {
    params: ['query'],
    skipHistory: true,
    poll,
    async resync(ctx) {
      // History cannot be listed again: continue from the mailbox's history id now (no items to compare).
      const gm = await gmailFor(ctx.connection);
      const p = await call('Gmail users.getProfile', () => gm.users.getProfile({ userId: 'me' }, { retry: false }));
      ctx.log.warn('Gmail history expired: continuing from now; mail that arrived in the gap is not announced');
      const now = Date.now();
      return { items: [], cursor: JSON.stringify({ v: 1, h: String(p.historyId), at: now, b: now } satisfies GmailCursor) };
    },
    deletedEvent: (item, params) => ({
      providerId: `gmail:${item.id}:deleted`,
      type: GMAIL_RECEIVED,
      data: { query: params.query, messageId: item.id },
    }),
  },
};
