import crypto from 'node:crypto';
import type { calendar_v3 } from '@googleapis/calendar';
import { z } from 'zod';
import { defineAction, type ActionContext } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { zoneOffsetMs } from '../../core/time-zone.ts';
import { eventData, eventIdFromKey, type CalendarEventData } from './calendar-normalise.ts';
import { calendarFor, requireConnection } from './client.ts';
import { googleReason, mapGoogleError } from './errors.ts';

/**
 * Calendar actions. Times are given as one string each: `YYYY-MM-DD` for an all-day event (the end is
 * exclusive, as Google has it: a one-day event on 2 March ends on 3 March), or an ISO date-time (with an
 * offset, or read in `timeZone`). Every output is the event as the calendar trigger shows it.
 */

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const when = z
  .string()
  .min(1)
  .refine((v) => DATE.test(v) || !Number.isNaN(Date.parse(v)), 'a date (YYYY-MM-DD) or an ISO date-time');
const calendarId = z.string().min(1).default('primary');
const eventId = z.string().min(1);
const attendees = z
  .union([z.array(z.string().email()), z.string().transform((s) => s.split(/[\s,;]+/).filter(Boolean))])
  .pipe(z.array(z.string().email()).max(300));

function timeOf(value: string, timeZone?: string): calendar_v3.Schema$EventDateTime {
  if (DATE.test(value)) return { date: value };
  return { dateTime: value, ...(timeZone ? { timeZone } : {}) };
}

const fields = {
  summary: z.string().max(1024).optional(),
  description: z.string().max(8192).optional(),
  location: z.string().max(1024).optional(),
  timeZone: z.string().optional(),
  attendees: attendees.optional(),
  /** Google's own notification e-mails to attendees: `all`, `externalOnly` or `none` (the default: DingTalk tells them). */
  sendUpdates: z.enum(['all', 'externalOnly', 'none']).default('none'),
  privateProperties: z.record(z.string(), z.string()).optional(),
};

const eventOutput = z.object({
  id: z.string(),
  status: z.string(),
  kind: z.string(),
  summary: z.string().nullable(),
  description: z.string().nullable(),
  location: z.string().nullable(),
  htmlLink: z.string().nullable(),
  start: z.record(z.string(), z.string()).nullable(),
  end: z.record(z.string(), z.string()).nullable(),
  allDay: z.boolean(),
  startAt: z.string().nullable(),
  endAt: z.string().nullable(),
  timeZone: z.string().nullable(),
  recurrence: z.array(z.string()).nullable(),
  recurringEventId: z.string().nullable(),
  attendeeEmails: z.array(z.string()),
  /** When the event was made (a history backfill counts it on that day). */
  created: z.string().nullable(),
  updated: z.string().nullable(),
});
const sampleEvent = {
  id: 'db0k2m4q6s8u0a1c3e5g7i9k1m',
  status: 'confirmed',
  kind: 'single',
  summary: 'Quarterly review',
  description: null,
  location: 'Room 3, Central',
  htmlLink: 'https://www.google.com/calendar/event?eid=ZGIwazJtNHE2czh1MGExYzNlNWc3aTlrMW0',
  start: { dateTime: '2026-03-02T10:00:00+08:00', timeZone: 'Asia/Hong_Kong' },
  end: { dateTime: '2026-03-02T11:00:00+08:00', timeZone: 'Asia/Hong_Kong' },
  allDay: false,
  startAt: '2026-03-02T02:00:00.000Z',
  endAt: '2026-03-02T03:00:00.000Z',
  timeZone: 'Asia/Hong_Kong',
  recurrence: null,
  recurringEventId: null,
  attendeeEmails: ['ben@example.com'],
  created: '2026-02-20T08:15:00.000Z',
  updated: '2026-02-20T08:15:00.000Z',
};

const opts = (ctx: ActionContext) => ({ retry: false, timeout: ctx.timeoutMs });
const ref = (o: { id: string }) => ({ kind: 'google.calendar.event', id: o.id });

/** The event id a step's idempotency key gives: the same on every attempt, so a retried insert is a 409, never a second event. */
export const idempotentEventId = (key: string) => eventIdFromKey(key, (s) => crypto.createHash('sha256').update(s).digest());

function body(input: {
  summary?: string;
  description?: string;
  location?: string;
  start?: string;
  end?: string;
  timeZone?: string;
  attendees?: string[];
  recurrence?: string[];
  privateProperties?: Record<string, string>;
}): calendar_v3.Schema$Event {
  return {
    ...(input.summary !== undefined ? { summary: input.summary } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.location !== undefined ? { location: input.location } : {}),
    ...(input.start ? { start: timeOf(input.start, input.timeZone) } : {}),
    ...(input.end ? { end: timeOf(input.end, input.timeZone) } : {}),
    ...(input.attendees ? { attendees: input.attendees.map((email) => ({ email })) } : {}),
    ...(input.recurrence?.length ? { recurrence: input.recurrence } : {}),
    ...(input.privateProperties ? { extendedProperties: { private: input.privateProperties } } : {}),
  };
}

const out = (e: calendar_v3.Schema$Event): CalendarEventData => eventData(e);

export const createEvent = defineAction({
  id: 'google.calendar.create_event',
  title: 'Create a Google Calendar event',
  description: 'Idempotent: the event id comes from the step, so a retried step finds the event it made instead of making a second one.',
  input: z
    .object({
      calendarId,
      ...fields,
      summary: z.string().min(1).max(1024),
      start: when,
      end: when,
      /** RRULE / EXDATE / RDATE lines for a recurring series, e.g. `RRULE:FREQ=WEEKLY;COUNT=10`. */
      recurrence: z.array(z.string().regex(/^(RRULE|EXRULE|EXDATE|RDATE)[:;]/)).optional(),
    })
    .refine((i) => DATE.test(i.start) === DATE.test(i.end), 'start and end must both be dates (all-day) or both date-times'),
  output: eventOutput.extend({ alreadyExisted: z.boolean() }),
  sampleOutput: { ...sampleEvent, alreadyExisted: false },
  outputRef: ref,
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.create_event');
    const cal = await calendarFor(conn);
    const id = idempotentEventId(ctx.idempotencyKey);
    const requestBody = { id, ...body(input) };
    ctx.trace({
      request: { calendarId: input.calendarId, event: { id, summary: input.summary, start: requestBody.start, end: requestBody.end } },
    });
    try {
      const res = await cal.events.insert({ calendarId: input.calendarId, sendUpdates: input.sendUpdates, requestBody }, opts(ctx));
      ctx.trace({ response: { id: res.data.id, status: res.data.status } });
      return { ...out(res.data), alreadyExisted: false };
    } catch (err) {
      // 409 on our own id: an earlier attempt made it (its answer was lost). Return that event.
      if (googleReason(err).status !== 409) throw mapGoogleError('Google Calendar events.insert', err);
      try {
        const got = await cal.events.get({ calendarId: input.calendarId, eventId: id }, opts(ctx));
        ctx.trace({ response: { id: got.data.id, status: got.data.status, alreadyExisted: true } });
        return { ...out(got.data), alreadyExisted: true };
      } catch (e2) {
        throw mapGoogleError('Google Calendar events.get (after 409 on insert)', e2);
      }
    }
  },
});

export const updateEvent = defineAction({
  id: 'google.calendar.update_event',
  title: 'Update a Google Calendar event',
  description: 'Changes only the fields given (events.patch); an instance id of a recurring series changes that instance only.',
  input: z.object({
    calendarId,
    eventId,
    ...fields,
    start: when.optional(),
    end: when.optional(),
  }),
  output: eventOutput,
  sampleOutput: sampleEvent,
  outputRef: ref,
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.update_event');
    const cal = await calendarFor(conn);
    const requestBody = body(input);
    if (!Object.keys(requestBody).length) throw permanent('nothing to change: give at least one field');
    ctx.trace({ request: { calendarId: input.calendarId, eventId: input.eventId, fields: Object.keys(requestBody) } });
    try {
      const res = await cal.events.patch(
        { calendarId: input.calendarId, eventId: input.eventId, sendUpdates: input.sendUpdates, requestBody },
        opts(ctx),
      );
      ctx.trace({ response: { id: res.data.id, status: res.data.status } });
      return out(res.data);
    } catch (err) {
      throw mapGoogleError('Google Calendar events.patch', err);
    }
  },
});

export const deleteEvent = defineAction({
  id: 'google.calendar.delete_event',
  title: 'Delete a Google Calendar event',
  description: 'An event already deleted (Google answers 410) counts as done, so a retried step succeeds.',
  input: z.object({ calendarId, eventId, sendUpdates: fields.sendUpdates }),
  output: z.object({ id: z.string(), deleted: z.literal(true), alreadyDeleted: z.boolean() }),
  sampleOutput: { id: 'db0k2m4q6s8u0a1c3e5g7i9k1m', deleted: true, alreadyDeleted: false },
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.delete_event');
    const cal = await calendarFor(conn);
    ctx.trace({ request: { calendarId: input.calendarId, eventId: input.eventId } });
    try {
      await cal.events.delete({ calendarId: input.calendarId, eventId: input.eventId, sendUpdates: input.sendUpdates }, opts(ctx));
      return { id: input.eventId, deleted: true as const, alreadyDeleted: false };
    } catch (err) {
      if (googleReason(err).status === 410) return { id: input.eventId, deleted: true as const, alreadyDeleted: true };
      throw mapGoogleError('Google Calendar events.delete', err);
    }
  },
});

export const getEvent = defineAction({
  id: 'google.calendar.get_event',
  title: 'Get a Google Calendar event',
  input: z.object({ calendarId, eventId, timeZone: z.string().optional() }),
  output: eventOutput,
  sampleOutput: sampleEvent,
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.get_event');
    const cal = await calendarFor(conn);
    try {
      const res = await cal.events.get({ calendarId: input.calendarId, eventId: input.eventId, timeZone: input.timeZone }, opts(ctx));
      return out(res.data);
    } catch (err) {
      throw mapGoogleError('Google Calendar events.get', err);
    }
  },
});

/** The start and end instants of a calendar day in a zone (08:30 agenda: "today" in Asia/Hong_Kong). */
export function dayBounds(day: string, timeZone: string, now = new Date()): { timeMin: string; timeMax: string; date: string } {
  const date = day === 'today' || day === 'tomorrow' ? localDate(now, timeZone, day === 'tomorrow' ? 1 : 0) : day;
  if (!DATE.test(date)) throw permanent(`day must be today, tomorrow or YYYY-MM-DD, not ${day}`);
  const startUtc = Date.parse(`${date}T00:00:00Z`);
  const start = startUtc - zoneOffsetMs(new Date(startUtc), timeZone);
  const nextUtc = startUtc + 86_400_000;
  const end = nextUtc - zoneOffsetMs(new Date(nextUtc), timeZone);
  return { timeMin: new Date(start).toISOString(), timeMax: new Date(end).toISOString(), date };
}

function localDate(now: Date, timeZone: string, plusDays: number): string {
  const d = new Date(now.getTime() + plusDays * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export const listEvents = defineAction({
  id: 'google.calendar.list_events',
  title: 'List Google Calendar events of a day or a time range',
  description:
    'Instances of recurring series are listed one by one, in start order. Give `day` (today, tomorrow or YYYY-MM-DD in `timeZone`) or `timeMin` + `timeMax`.',
  input: z
    .object({
      calendarId,
      day: z.string().optional(),
      timeZone: z.string().default('Asia/Hong_Kong'),
      timeMin: z.string().datetime({ offset: true }).optional(),
      timeMax: z.string().datetime({ offset: true }).optional(),
      q: z.string().optional(),
      maxResults: z.number().int().min(1).max(2500).default(250),
    })
    .refine((i) => i.day || (i.timeMin && i.timeMax), 'give day, or timeMin and timeMax'),
  output: z.object({
    date: z.string().nullable(),
    timeMin: z.string(),
    timeMax: z.string(),
    count: z.number(),
    events: z.array(eventOutput),
    /** One line per event (`09:00–10:00 Title`, `All day Title`), for a message. */
    agenda: z.string(),
  }),
  sampleOutput: {
    date: '2026-03-02',
    timeMin: '2026-03-01T16:00:00.000Z',
    timeMax: '2026-03-02T16:00:00.000Z',
    count: 1,
    events: [sampleEvent],
    agenda: '10:00–11:00 Quarterly review (Room 3, Central)',
  },
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.list_events');
    const cal = await calendarFor(conn);
    const range = input.day ? dayBounds(input.day, input.timeZone) : { timeMin: input.timeMin!, timeMax: input.timeMax!, date: null };
    const items: calendar_v3.Schema$Event[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const res = await cal.events.list(
          {
            calendarId: input.calendarId,
            singleEvents: true,
            orderBy: 'startTime',
            timeMin: range.timeMin,
            timeMax: range.timeMax,
            timeZone: input.timeZone,
            q: input.q,
            maxResults: Math.min(input.maxResults, 2500),
            pageToken,
          },
          opts(ctx),
        );
        items.push(...(res.data.items ?? []));
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken && items.length < input.maxResults);
    } catch (err) {
      throw mapGoogleError('Google Calendar events.list', err);
    }
    const events = items.slice(0, input.maxResults).map(out);
    const hm = (t: { dateTime?: string } | null) =>
      t?.dateTime
        ? new Intl.DateTimeFormat('en-GB', { timeZone: input.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
            new Date(t.dateTime),
          )
        : '';
    const agenda = events
      .map(
        (e) =>
          `${e.allDay ? 'All day' : `${hm(e.start)}–${hm(e.end)}`} ${e.summary ?? '(no title)'}${e.location ? ` (${e.location})` : ''}`,
      )
      .join('\n');
    return { date: range.date, timeMin: range.timeMin, timeMax: range.timeMax, count: events.length, events, agenda };
  },
});

export const freeBusy = defineAction({
  id: 'google.calendar.free_busy',
  title: 'Find free/busy times',
  description: 'Busy periods of calendars (or people, by e-mail) between two times; `free` says whether all of them are free.',
  input: z.object({
    calendars: z
      .union([z.array(z.string().min(1)), z.string().transform((s) => s.split(/[\s,;]+/).filter(Boolean))])
      .pipe(z.array(z.string().min(1)).min(1).max(50)),
    timeMin: z.string().datetime({ offset: true }),
    timeMax: z.string().datetime({ offset: true }),
    timeZone: z.string().optional(),
  }),
  output: z.object({
    free: z.boolean(),
    calendars: z.array(
      z.object({
        id: z.string(),
        busy: z.array(z.object({ start: z.string(), end: z.string() })),
        errors: z.array(z.string()),
      }),
    ),
  }),
  sampleOutput: {
    free: false,
    calendars: [
      { id: 'amy@example.com', busy: [{ start: '2026-03-02T02:00:00Z', end: '2026-03-02T03:00:00Z' }], errors: [] },
      { id: 'ben@example.com', busy: [], errors: [] },
    ],
  },
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.calendar.free_busy');
    const cal = await calendarFor(conn);
    try {
      const res = await cal.freebusy.query(
        {
          requestBody: {
            timeMin: input.timeMin,
            timeMax: input.timeMax,
            timeZone: input.timeZone,
            items: input.calendars.map((id) => ({ id })),
          },
        },
        opts(ctx),
      );
      const calendars = input.calendars.map((id) => {
        const c = res.data.calendars?.[id];
        return {
          id,
          busy: (c?.busy ?? []).map((b) => ({ start: b.start ?? '', end: b.end ?? '' })),
          errors: (c?.errors ?? []).map((e) => e.reason ?? 'unknown'),
        };
      });
      return { free: calendars.every((c) => c.busy.length === 0), calendars };
    } catch (err) {
      throw mapGoogleError('Google Calendar freebusy.query', err);
    }
  },
});

export const calendarActions = [createEvent, updateEvent, deleteEvent, getEvent, listEvents, freeBusy];
