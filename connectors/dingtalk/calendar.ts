import crypto from 'node:crypto';
import { z } from 'zod';
import calendarPkg from '@alicloud/dingtalk/dist/calendar_1_0/client.js';
import { defineAction } from '../../core/connector.ts';
import { StepError } from '../../core/errors.ts';
import { appConnection } from './messages.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * A user's primary calendar (new API through the SDK's calendar_1_0 client), the user named by unionId.
 * A create carries `x-client-token` derived from the step's idempotency key, so a retried create
 * returns the event it made the first time instead of making a second one.
 */
const time = z.union([
  z
    .string()
    .min(1)
    .transform((v) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? { date: v } : { dateTime: v })),
  z.object({ dateTime: z.string().optional(), date: z.string().optional(), timeZone: z.string().optional() }),
]);
const attendee = z.union([
  z
    .string()
    .min(1)
    .transform((id) => ({ id, isOptional: false })),
  z.object({ id: z.string().min(1), isOptional: z.boolean().default(false) }),
]);
const reminder = z.object({ method: z.string().default('dingtalk'), minutes: z.coerce.number().int().min(0) });

const eventFields = {
  summary: z.string().min(1),
  description: z.string().optional(),
  start: time,
  end: time,
  isAllDay: z.boolean().optional(),
  attendees: z.array(attendee).optional(),
  /** A place name, or DingTalk's location object. */
  location: z.union([z.string().transform((displayName) => ({ displayName })), z.object({ displayName: z.string() })]).optional(),
  reminders: z.array(reminder).optional(),
  recurrence: z.record(z.string(), z.unknown()).optional(),
  onlineMeetingInfo: z.record(z.string(), z.unknown()).optional(),
  /** Hub-owned key/values kept on the event (e.g. the Google event id it mirrors). */
  extra: z.record(z.string(), z.string()).optional(),
};

const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null));

/** The x-client-token of a step: the same on every attempt. */
export const clientTokenFor = (idempotencyKey: string) =>
  crypto.createHash('sha256').update(`dingtalk.calendar:${idempotencyKey}`).digest('hex').slice(0, 32);

export const createEvent = defineAction({
  id: 'dingtalk.calendar.createEvent',
  title: "Create an event in a user's DingTalk calendar",
  input: z.object({ unionId: z.string().min(1), ...eventFields, clientToken: z.string().optional() }),
  sampleOutput: {
    id: 'ev1',
    summary: 'Design review',
    start: { dateTime: '2030-01-10T10:00:00+08:00' },
    end: { dateTime: '2030-01-10T11:00:00+08:00' },
  },
  outputRef: (out: Record<string, unknown>) => (typeof out?.id === 'string' ? { kind: 'dingtalk.calendar.event', id: out.id } : undefined),
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.calendar.createEvent');
    const { unionId, clientToken, ...fields } = input;
    const token = clientToken ?? clientTokenFor(ctx.idempotencyKey);
    ctx.trace({ request: { unionId, ...fields, clientToken: token } });
    const c = client(calendarPkg.default, conn.settings);
    const res = await callApi(conn, 'calendar events (create)', (t) =>
      c.createEventWithOptions(
        unionId,
        'primary',
        new calendarPkg.CreateEventRequest(fields),
        new calendarPkg.CreateEventHeaders({ xAcsDingtalkAccessToken: t, xClientToken: token }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const out = plain(res.body);
    ctx.trace({ response: out });
    return out;
  },
});

export const updateEvent = defineAction({
  id: 'dingtalk.calendar.updateEvent',
  title: "Change an event in a user's DingTalk calendar (only the given fields)",
  input: z.object({
    unionId: z.string().min(1),
    eventId: z.string().min(1),
    ...(Object.fromEntries(Object.entries(eventFields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof eventFields]: z.ZodOptional<(typeof eventFields)[K]>;
    }),
  }),
  sampleOutput: { id: 'ev1', summary: 'Design review (moved)' },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.calendar.updateEvent');
    const { unionId, eventId, ...fields } = input;
    ctx.trace({ request: { unionId, eventId, ...fields } });
    const c = client(calendarPkg.default, conn.settings);
    const res = await callApi(conn, 'calendar events (patch)', (t) =>
      c.patchEventWithOptions(
        unionId,
        'primary',
        eventId,
        new calendarPkg.PatchEventRequest({ id: eventId, ...fields }),
        new calendarPkg.PatchEventHeaders({ xAcsDingtalkAccessToken: t }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const out = plain(res.body);
    ctx.trace({ response: out });
    return out;
  },
});

export const deleteEvent = defineAction({
  id: 'dingtalk.calendar.deleteEvent',
  title: "Delete (cancel) an event in a user's DingTalk calendar",
  input: z.object({ unionId: z.string().min(1), eventId: z.string().min(1), pushNotification: z.boolean().optional() }),
  sampleOutput: { deleted: true, eventId: 'ev1' },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.calendar.deleteEvent');
    ctx.trace({ request: input });
    const c = client(calendarPkg.default, conn.settings);
    try {
      await callApi(conn, 'calendar events (delete)', (t) =>
        c.deleteEventWithOptions(
          input.unionId,
          'primary',
          input.eventId,
          new calendarPkg.DeleteEventRequest({ pushNotification: input.pushNotification }),
          new calendarPkg.DeleteEventHeaders({ xAcsDingtalkAccessToken: t }),
          runtimeOptions(ctx.timeoutMs),
        ),
      );
    } catch (err) {
      // Already gone (a retry after a lost answer, or deleted in DingTalk): the outcome wanted holds.
      if (err instanceof StepError && err.details.status === 404) return { deleted: true, eventId: input.eventId, alreadyGone: true };
      throw err;
    }
    return { deleted: true, eventId: input.eventId };
  },
});

export const listEvents = defineAction({
  id: 'dingtalk.calendar.listEvents',
  title: "List events of a user's DingTalk calendar",
  input: z.object({
    unionId: z.string().min(1),
    timeMin: z.string().optional(),
    timeMax: z.string().optional(),
    maxResults: z.coerce.number().int().min(1).max(100).optional(),
    nextToken: z.string().optional(),
    syncToken: z.string().optional(),
    showDeleted: z.boolean().optional(),
  }),
  sampleOutput: { events: [{ id: 'ev1', summary: 'Design review' }], nextToken: null, syncToken: 'tok' },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.calendar.listEvents');
    const { unionId, ...query } = input;
    ctx.trace({ request: input });
    const c = client(calendarPkg.default, conn.settings);
    const res = await callApi(conn, 'calendar events (list)', (t) =>
      c.listEventsWithOptions(
        unionId,
        'primary',
        new calendarPkg.ListEventsRequest(query),
        new calendarPkg.ListEventsHeaders({ xAcsDingtalkAccessToken: t }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const body = plain(res.body) as { events?: unknown[]; nextToken?: string; syncToken?: string };
    const out = { events: body.events ?? [], nextToken: body.nextToken ?? null, syncToken: body.syncToken ?? null };
    ctx.trace({ response: { count: out.events.length, nextToken: out.nextToken } });
    return out;
  },
});
