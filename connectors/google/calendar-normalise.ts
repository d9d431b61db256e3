import type { calendar_v3 } from '@googleapis/calendar';
import type { TriggeredEvent } from '../../core/connector.ts';

/**
 * Google Calendar events as hub events (pure: no I/O; tests/unit/google-calendar.test.ts).
 *
 * Types: `google.calendar.event.created` (an event not seen before), `.updated` (seen, same time),
 * `.moved` (seen, its start or end changed; `data.previous` holds the old times), `.cancelled`
 * (deleted, or one instance of a series cancelled). An instance of a recurring series changed on its
 * own (an "exception": `recurringEventId` + `originalStartTime`) is `updated`, or `moved` when its start
 * is no longer its original start; `data.event.kind` says `single`, `series` or `exception`.
 *
 * What the trigger remembers of each event (the poller's item version) is its etag and times, so a
 * change of time can be told from any other change, and an unchanged event is never emitted twice.
 */
export const CALENDAR_EVENT_TYPES = {
  created: 'google.calendar.event.created',
  updated: 'google.calendar.event.updated',
  moved: 'google.calendar.event.moved',
  cancelled: 'google.calendar.event.cancelled',
} as const;
export type CalendarChange = keyof typeof CALENDAR_EVENT_TYPES;

type GEvent = calendar_v3.Schema$Event;
type GTime = calendar_v3.Schema$EventDateTime | undefined;

/** A time as one comparable string: the date of an all-day event, the instant of a timed one. */
export function timeKey(t: GTime): string {
  if (!t) return '';
  if (t.date) return t.date;
  if (t.dateTime) {
    const ms = Date.parse(t.dateTime);
    return Number.isNaN(ms) ? t.dateTime : new Date(ms).toISOString();
  }
  return '';
}

/** The item version the poller keeps: `cancelled|<etag>`, or `<etag>|<start>|<end>`. */
export function eventVersion(e: GEvent): string {
  if (e.status === 'cancelled') return `cancelled|${e.etag ?? ''}`;
  return `${e.etag ?? ''}|${timeKey(e.start)}|${timeKey(e.end)}`;
}

const isCancelledVersion = (v: string | undefined) => Boolean(v?.startsWith('cancelled|'));

/** What changed, from the event as it is now and the version last seen (undefined: never seen). */
export function classifyChange(e: GEvent, previous: string | undefined): CalendarChange {
  if (e.status === 'cancelled') return 'cancelled';
  if (previous === undefined || isCancelledVersion(previous)) {
    if (e.recurringEventId && e.originalStartTime) return timeKey(e.start) === timeKey(e.originalStartTime) ? 'updated' : 'moved';
    return 'created';
  }
  const [, start, end] = previous.split('|');
  return start !== timeKey(e.start) || end !== timeKey(e.end) ? 'moved' : 'updated';
}

const time = (t: GTime) =>
  t
    ? {
        ...(t.date ? { date: t.date } : {}),
        ...(t.dateTime ? { dateTime: t.dateTime } : {}),
        ...(t.timeZone ? { timeZone: t.timeZone } : {}),
      }
    : null;

/** The event as flows see it (`data.event`): flat where it helps templates, Google's own names otherwise. */
export function eventData(e: GEvent) {
  const attendees = (e.attendees ?? []).map((a) => ({
    email: a.email ?? null,
    displayName: a.displayName ?? null,
    responseStatus: a.responseStatus ?? null,
    optional: Boolean(a.optional),
    organizer: Boolean(a.organizer),
    self: Boolean(a.self),
  }));
  return {
    id: e.id ?? '',
    status: e.status ?? 'confirmed',
    kind: e.recurringEventId ? 'exception' : e.recurrence?.length ? 'series' : 'single',
    summary: e.summary ?? null,
    description: e.description ?? null,
    location: e.location ?? null,
    htmlLink: e.htmlLink ?? null,
    start: time(e.start),
    end: time(e.end),
    allDay: Boolean(e.start?.date),
    /** The start as one string: the date (all-day, YYYY-MM-DD) or the instant in UTC. */
    startAt: timeKey(e.start) || null,
    /** The end as one string (all-day: exclusive, the day after the last day). */
    endAt: timeKey(e.end) || null,
    timeZone: e.start?.timeZone ?? null,
    recurrence: e.recurrence ?? null,
    recurringEventId: e.recurringEventId ?? null,
    originalStartTime: time(e.originalStartTime),
    organizer: e.organizer ? { email: e.organizer.email ?? null, displayName: e.organizer.displayName ?? null } : null,
    creator: e.creator ? { email: e.creator.email ?? null, displayName: e.creator.displayName ?? null } : null,
    attendees,
    attendeeEmails: attendees.map((a) => a.email).filter((x): x is string => Boolean(x)),
    iCalUID: e.iCalUID ?? null,
    sequence: e.sequence ?? null,
    created: e.created ?? null,
    updated: e.updated ?? null,
    privateProperties: e.extendedProperties?.private ?? {},
  };
}

export type CalendarEventData = ReturnType<typeof eventData>;

/**
 * One hub event for one change of one Google event. `providerId` is `<calendar>:<event id>:<etag>`
 * (every write changes the etag; a cancellation is keyed the same way whether a poll or a resync saw
 * it), so whatever reports the same change twice collapses into one hub event.
 */
export function calendarEvent(calendarId: string, e: GEvent, previous: string | undefined): TriggeredEvent {
  const change = classifyChange(e, previous);
  const data = eventData(e);
  const prev = previous && !isCancelledVersion(previous) ? previous.split('|') : undefined;
  return {
    providerId: e.status === 'cancelled' ? `${calendarId}:${e.id}:cancelled:${e.etag ?? ''}` : `${calendarId}:${e.id}:${e.etag ?? ''}`,
    type: CALENDAR_EVENT_TYPES[change],
    occurredAt: e.updated ?? undefined,
    subject: e.summary ?? (change === 'cancelled' ? `cancelled event ${e.id}` : null),
    data: {
      calendarId,
      change,
      event: data,
      ...(change === 'moved' && prev ? { previous: { startAt: prev[1] || null, endAt: prev[2] || null } } : {}),
      ...(change === 'moved' && !prev && e.originalStartTime ? { previous: { startAt: timeKey(e.originalStartTime) || null } } : {}),
    },
    refs: [{ kind: 'google.calendar.event', id: `${calendarId}/${e.id}` }],
    echoKeys: [`google.calendar.event:${e.id}:${e.etag ?? ''}`],
  };
}

/** An event that vanished from a full listing (Google purged it): reported as cancelled, once. */
export function vanishedEvent(calendarId: string, id: string, version: string): TriggeredEvent {
  const etag = isCancelledVersion(version) ? version.slice('cancelled|'.length) : `gone-${version.split('|')[0]}`;
  return {
    providerId: `${calendarId}:${id}:cancelled:${etag}`,
    type: CALENDAR_EVENT_TYPES.cancelled,
    subject: `cancelled event ${id}`,
    data: { calendarId, change: 'cancelled', event: { id, status: 'cancelled' } },
    refs: [{ kind: 'google.calendar.event', id: `${calendarId}/${id}` }],
  };
}

/** Google event ids are base32hex (a–v, 0–9), 5–1024 characters: the one derived from a step's idempotency key. */
export function eventIdFromKey(key: string, hash: (s: string) => Buffer): string {
  const bytes = hash(key);
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let bits = 0;
  let value = 0;
  let out = 'db';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
