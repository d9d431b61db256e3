import crypto from 'node:crypto';
import type { calendar_v3 } from '@googleapis/calendar';
import {
  CursorExpired,
  type ConnectionHandle,
  type PollContext,
  type PolledEvent,
  type TriggerDefinition,
  type TriggeredEvent,
  type WebhookRequest,
} from '../../core/connector.ts';
import { HttpError } from '../../core/errors.ts';
import { calendarEvent, CALENDAR_EVENT_TYPES, eventVersion, vanishedEvent } from './calendar-normalise.ts';
import { calendarFor } from './client.ts';
import { googleReason, mapGoogleError } from './errors.ts';

/**
 * "Calendar event changed": one poller per (connection, calendar) on Google's `syncToken`, and, when the
 * hub is reachable over https, a push channel (`events.watch`) whose body-less notifications ask that
 * poller to poll at once. The two share the event types, so a flow on `google.calendar.event.*` with
 * `params: { calendarId: primary }` gets both.
 *
 * - First poll: a full listing that only records what exists (nothing is announced) and the sync token.
 * - Every poll: the changes since the token, all pages, the next token from the last page.
 * - 410 (`fullSyncRequired`): the hub asks for a full listing (`showDeleted`, so deletions in the gap
 *   are seen as cancelled events) and compares it with the versions it kept: only what changed is emitted.
 * - The channel is renewed before it expires (subscribe anew, save, then stop the old one); its expiry
 *   is the earlier of Google's `expiration` and the ttl asked for, so a clock apart from Google's cannot
 *   make the hub renew late. Every notification (`sync` included: it closes the gap of a renewal) polls.
 */

const PAGE = 1000;
const SDK = { retry: false } as const;

/** Seconds a channel lives (Google's default is 7 days): GOOGLE_CALENDAR_CHANNEL_TTL_SEC. */
export function channelTtlSec(): number {
  const n = Number(process.env.GOOGLE_CALENDAR_CHANNEL_TTL_SEC);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 7 * 86_400;
}

/**
 * Google sends channel notifications to https addresses only, so a channel is made only when PUBLIC_URL
 * is https; GOOGLE_PUSH_ALLOW_HTTP=true allows an http PUBLIC_URL (for the sandbox fake, never in
 * production). Otherwise the trigger polls alone.
 */
export function pushWanted(publicUrl: string | undefined): boolean {
  if (!publicUrl) return false;
  if (publicUrl.startsWith('https:')) return true;
  return process.env.GOOGLE_PUSH_ALLOW_HTTP === 'true' && publicUrl.startsWith('http:');
}

const header = (req: WebhookRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function calendarIdOf(params: Record<string, string>): string {
  const id = params.calendarId?.trim();
  if (!id) throw new Error('the calendar trigger needs params.calendarId (e.g. primary)');
  return id;
}

const status = (err: unknown) => googleReason(err).status;

/** Every event of the calendar (cancelled ones included) and the sync token to continue from. */
async function fullListing(
  cal: calendar_v3.Calendar,
  calendarId: string,
): Promise<{ items: calendar_v3.Schema$Event[]; cursor: string | null }> {
  const items: calendar_v3.Schema$Event[] = [];
  let pageToken: string | undefined;
  let cursor: string | null = null;
  do {
    const res = await cal.events.list({ calendarId, showDeleted: true, maxResults: 2500, pageToken }, SDK).catch((err) => {
      throw mapGoogleError(`Google Calendar full listing of ${calendarId}`, err);
    });
    items.push(...(res.data.items ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
    cursor = res.data.nextSyncToken ?? cursor;
  } while (pageToken);
  return { items, cursor };
}

/**
 * Adds what the people directory knows of the attendees: `data.attendeeIds.<service>.<kind>` lists the
 * attendees' ids in other services (e.g. `data.attendeeIds.dingtalk.userId`), `data.attendeePeople` who
 * they are. Emails nobody in the directory has are left out.
 */
async function withPeople<T extends TriggeredEvent>(ctx: PollContext, events: T[]): Promise<T[]> {
  if (!ctx.people) return events;
  const cache = new Map<string, Awaited<ReturnType<NonNullable<PollContext['people']>['byEmail']>>>();
  for (const ev of events) {
    const emails = ((ev.data.event as { attendeeEmails?: string[] } | undefined)?.attendeeEmails ?? []).map((e) => e.toLowerCase());
    const ids: Record<string, Record<string, string[]>> = {};
    const people: Array<{ id: string; name: string; email: string }> = [];
    for (const email of emails) {
      if (!cache.has(email)) cache.set(email, await ctx.people.byEmail(email));
      const person = cache.get(email);
      if (!person) continue;
      people.push({ id: person.id, name: person.name, email });
      for (const [service, kinds] of Object.entries(person.identities))
        for (const [kind, value] of Object.entries(kinds)) ((ids[service] ??= {})[kind] ??= []).push(value);
    }
    ev.data.attendeeIds = ids;
    ev.data.attendeePeople = people;
  }
  return events;
}

async function knownVersions(ctx: PollContext, ids: string[]): Promise<Map<string, string>> {
  return ctx.known ? ctx.known(ids) : new Map();
}

export const calendarEventsPolled: TriggerDefinition = {
  id: 'google.calendar.events',
  title: 'Calendar event changed',
  events: Object.values(CALENDAR_EVENT_TYPES),
  kind: 'polling',
  sample: {
    calendarId: 'primary',
    change: 'created',
    event: {
      id: 'k3v1q0s6p2m8c4a9e7o5i1u3g0',
      status: 'confirmed',
      kind: 'single',
      summary: 'Quarterly review',
      location: 'Room 3, Central',
      htmlLink: 'https://www.google.com/calendar/event?eid=azN2MXEwczZwMm04YzRhOWU3bzVpMXUzZzA',
      start: { dateTime: '2026-03-02T10:00:00+08:00', timeZone: 'Asia/Hong_Kong' },
      end: { dateTime: '2026-03-02T11:00:00+08:00', timeZone: 'Asia/Hong_Kong' },
      allDay: false,
      startAt: '2026-03-02T02:00:00.000Z',
      endAt: '2026-03-02T03:00:00.000Z',
      timeZone: 'Asia/Hong_Kong',
      recurrence: null,
      recurringEventId: null,
      originalStartTime: null,
      organizer: { email: 'amy@example.com', displayName: 'Amy Chan' },
      attendees: [
        { email: 'ben@example.com', displayName: 'Ben Lau', responseStatus: 'needsAction', optional: false, organizer: false, self: false },
      ],
      attendeeEmails: ['ben@example.com'],
      updated: '2026-02-20T08:15:00.000Z',
      privateProperties: {},
    },
  },
  poll: {
    params: ['calendarId'],
    skipHistory: true,
    async poll(ctx, params, cursor) {
      const calendarId = calendarIdOf(params);
      const cal = await calendarFor(ctx.connection);
      if (cursor === null) {
        // The first poll: record what exists (skipHistory: nothing is announced) and where changes start.
        const listing = await fullListing(cal, calendarId);
        return {
          events: listing.items.map((e) => ({ ...calendarEvent(calendarId, e, undefined), item: { id: e.id!, version: eventVersion(e) } })),
          cursor: listing.cursor,
        };
      }
      const changed: calendar_v3.Schema$Event[] = [];
      let pageToken: string | undefined;
      let next: string | null = null;
      do {
        let res;
        try {
          res = await cal.events.list({ calendarId, syncToken: cursor, maxResults: PAGE, pageToken }, SDK);
        } catch (err) {
          if (status(err) === 410) throw new CursorExpired(`Google answered 410 for the sync token of ${calendarId}: full resync`);
          throw mapGoogleError(`Google Calendar changes of ${calendarId}`, err);
        }
        changed.push(...(res.data.items ?? []));
        pageToken = res.data.nextPageToken ?? undefined;
        next = res.data.nextSyncToken ?? next;
      } while (pageToken);
      const known = await knownVersions(
        ctx,
        changed.map((e) => e.id!),
      );
      const events: PolledEvent[] = [];
      for (const e of changed) {
        const version = eventVersion(e);
        const previous = known.get(e.id!);
        if (previous === version) continue; // reported again without a change
        events.push({ ...calendarEvent(calendarId, e, previous), item: { id: e.id!, version } });
        known.set(e.id!, version);
      }
      return { events: await withPeople(ctx, events), cursor: next ?? cursor };
    },
    async resync(ctx, params) {
      const calendarId = calendarIdOf(params);
      const listing = await fullListing(await calendarFor(ctx.connection), calendarId);
      const known = await knownVersions(
        ctx,
        listing.items.map((e) => e.id!),
      );
      const items = listing.items.map((e) => ({
        id: e.id!,
        version: eventVersion(e),
        event: calendarEvent(calendarId, e, known.get(e.id!)),
      }));
      // Only what the hub will emit (new or changed versions) needs the directory.
      const changed = items.filter((i) => known.get(i.id) !== i.version).map((i) => i.event);
      await withPeople(ctx, changed);
      return { items, cursor: listing.cursor };
    },
    deletedEvent(item, params): TriggeredEvent {
      return vanishedEvent(calendarIdOf(params), item.id, item.version);
    },
  },
};

type CalendarOf = (conn: ConnectionHandle, calendarId: string) => Promise<calendar_v3.Calendar>;

async function watch(conn: ConnectionHandle, calendarId: string, callbackUrl: string, calendarOf: CalendarOf, watched: string) {
  const cal = await calendarOf(conn, calendarId);
  const id = crypto.randomUUID();
  const token = crypto.randomBytes(24).toString('base64url');
  const ttl = channelTtlSec();
  const asked = Date.now();
  const res = await cal.events
    .watch({ calendarId: watched, requestBody: { id, type: 'web_hook', address: callbackUrl, token, params: { ttl: String(ttl) } } }, SDK)
    .catch((err) => {
      throw mapGoogleError(`Google Calendar events.watch on ${calendarId}`, err);
    });
  const googleExpiry = Number(res.data.expiration);
  const ours = asked + ttl * 1000;
  return {
    externalId: id,
    expiresAt: new Date(Number.isFinite(googleExpiry) && googleExpiry > 0 ? Math.min(googleExpiry, ours) : ours),
    state: { resourceId: res.data.resourceId, calendarId },
    secret: token,
  };
}

/**
 * A calendar push channel as a trigger: its body-less notifications ask for a poll of the pollers
 * (and anything else listening for poll requests, e.g. the two-way calendar sync) with its params.
 * `calendarOf` makes the client for the watched calendar (the connection's own user, or the person a
 * service account acts as); `watched` is the calendar id given to events.watch (default: the param).
 */
export function calendarPushTrigger(opts: {
  id: string;
  title: string;
  events: string[];
  calendarOf: CalendarOf;
  watched?: (calendarId: string) => string;
}): TriggerDefinition {
  const watched = opts.watched ?? ((c: string) => c);
  return {
    id: opts.id,
    title: opts.title,
    events: opts.events,
    kind: 'webhook',
    webhook: {
      async receive(req, _conn, ctx) {
        const sub = ctx?.subscription;
        const token = header(req, 'x-goog-channel-token') ?? '';
        if (!sub?.secret || token.length !== sub.secret.length || !crypto.timingSafeEqual(Buffer.from(token), Buffer.from(sub.secret))) {
          throw new HttpError(401, 'invalid_token', 'the channel token does not match');
        }
        // No body: every state ('sync' of a new channel included) means "poll now".
        return { events: [], reply: { status: 200 }, pollNow: true };
      },
      accepts: (req) => /\/calendar\/v3\//.test(header(req, 'x-goog-resource-uri') ?? ''),
    },
    subscription: {
      params: ['calendarId'],
      wanted: ({ publicUrl }) => pushWanted(publicUrl),
      // A channel is this connector's only when Google says it watches a calendar (Drive's channels share the headers).
      match: (req) => (/\/calendar\/v3\//.test(header(req, 'x-goog-resource-uri') ?? '') ? header(req, 'x-goog-channel-id') : undefined),
      subscribe: (conn, params, callbackUrl) => {
        const calendarId = calendarIdOf(params);
        return watch(conn, calendarId, callbackUrl, opts.calendarOf, watched(calendarId));
      },
      async unsubscribe(conn, externalId, record) {
        const cal = await opts.calendarOf(conn, String(record?.state.calendarId ?? record?.params.calendarId ?? 'primary'));
        try {
          await cal.channels.stop({ requestBody: { id: externalId, resourceId: String(record?.state.resourceId ?? '') } }, SDK);
        } catch (err) {
          if (status(err) !== 404) throw mapGoogleError('Google channels.stop', err);
        }
      },
      async check(_conn, _externalId, record) {
        // Google has no API that lists channels: one past its expiry is gone.
        return record?.expiresAt && Date.parse(record.expiresAt) <= Date.now() ? 'gone' : 'ok';
      },
    },
  };
}

export const calendarEventsPush: TriggerDefinition = calendarPushTrigger({
  id: 'google.calendar.push',
  title: 'Calendar push channel (asks for a poll)',
  events: Object.values(CALENDAR_EVENT_TYPES),
  calendarOf: (conn) => calendarFor(conn),
});
