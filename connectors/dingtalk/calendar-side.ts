import crypto from 'node:crypto';
import calendarPkg from '@alicloud/dingtalk/dist/calendar_1_0/client.js';
import { instant, isoInZone } from '../../core/calendar-sync/time.ts';
import type { CalendarSide, SideEvent, SyncContent, SyncRule, WriteOptions } from '../../core/calendar-sync/types.ts';
import { type ConnectionHandle, CursorExpired } from '../../core/connector.ts';
import { StepError } from '../../core/errors.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * A person's DingTalk primary calendar (calendar API v1.0 through the SDK's calendar_1_0 client, the
 * app's token, the person named by unionId) as one side of the two-way calendar sync.
 *
 * Changes: `listEvents` with the `syncToken` of the last list (everything changed since, deleted
 * events included as `status: cancelled`); a refused token (400 `invalidParameter.syncToken`) is
 * CursorExpired and the engine lists everything again. DingTalk has no calendar change event in its
 * Stream or HTTP event catalogue, so polling is the only way to read changes.
 *
 * The hub's writes carry `extra: { dingbridgeLink, dingbridgeHash }` (read back as
 * `extendedProperties.sharedProperties`); creates send `x-client-token` derived from the write's key,
 * so a retried create returns the first event. Only events the person organizes are synced from here
 * (an attendee's copy is the organizer's event, synced by the organizer's own sync).
 * Single-occurrence exceptions: a changed or cancelled occurrence of a series is its own event in the
 * listing with `seriesMasterId` + `originStart` (cancelled: `status: cancelled`); the hub finds the
 * occurrence to write through `ListInstances` (GET …/events/{seriesId}/instances) and patches or
 * deletes that instance's id, so `exceptions: true`.
 */
const MARK_LINK = 'dingbridgeLink';
const MARK_HASH = 'dingbridgeHash';

const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export function ruleToDingtalk(r: SyncRule): Record<string, unknown> {
  const pattern: Record<string, unknown> = { interval: r.interval || 1 };
  if (r.freq === 'DAILY') pattern.type = 'daily';
  else if (r.freq === 'WEEKLY') {
    pattern.type = 'weekly';
    if (r.byDay?.length) pattern.daysOfWeek = r.byDay.map((d) => DAY_NAMES[DAYS.indexOf(d)]).join(',');
  } else if (r.freq === 'MONTHLY') {
    pattern.type = 'absoluteMonthly';
    if (r.byMonthDay) pattern.dayOfMonth = r.byMonthDay;
  } else pattern.type = 'absoluteYearly';
  const range = r.count
    ? { type: 'numbered', numberOfOccurrences: r.count }
    : r.until
      ? { type: 'endDate', endDate: `${r.until}T23:59:59Z` }
      : { type: 'noEnd' };
  return { pattern, range };
}

export function ruleFromDingtalk(v: unknown): SyncRule | null {
  const rec = v as { pattern?: Record<string, unknown>; range?: Record<string, unknown> } | undefined;
  if (!rec?.pattern?.type) return null;
  const p = rec.pattern;
  const freqs: Record<string, SyncRule['freq']> = {
    daily: 'DAILY',
    weekly: 'WEEKLY',
    absoluteMonthly: 'MONTHLY',
    absoluteYearly: 'YEARLY',
  };
  const freq = freqs[String(p.type)];
  if (!freq) return null;
  const rule: SyncRule = { freq, interval: Number(p.interval ?? 1) || 1 };
  if (freq === 'WEEKLY' && typeof p.daysOfWeek === 'string' && p.daysOfWeek)
    rule.byDay = p.daysOfWeek.split(',').map((d) => DAYS[DAY_NAMES.indexOf(d.trim().toLowerCase())]!);
  if (freq === 'MONTHLY' && p.dayOfMonth) rule.byMonthDay = Number(p.dayOfMonth);
  const range = rec.range ?? {};
  if (range.type === 'numbered' && range.numberOfOccurrences) rule.count = Number(range.numberOfOccurrences);
  if (range.type === 'endDate' && typeof range.endDate === 'string') rule.until = range.endDate.slice(0, 10);
  return rule;
}

type DEvent = Record<string, any>;

/** An occurrence's original start in the engine's terms: the date (all-day series) or the UTC instant. */
function originalStartOf(ev: DEvent): string | undefined {
  const v = ev.originStart?.dateTime;
  if (typeof v !== 'string' || !v) return undefined;
  const allDay = ev.isAllDay === true || Boolean(ev.start?.date && !ev.start?.dateTime);
  return allDay ? v.slice(0, 10) : instant(v);
}

export function dingtalkToSide(ev: DEvent, unionId: string): SideEvent {
  const deleted = ev.status === 'cancelled';
  const shared = (ev.extendedProperties?.sharedProperties ?? {}) as Record<string, string>;
  const base: SideEvent = {
    id: String(ev.id),
    deleted,
    updated: ev.updateTime ?? new Date().toISOString(),
    guests: [],
    attendeeIds: [],
    owned: !ev.organizer?.id || ev.organizer.id === unionId,
    ...(shared[MARK_LINK] ? { marker: { link: shared[MARK_LINK]!, hash: shared[MARK_HASH] ?? '' } } : {}),
    ...(ev.seriesMasterId ? { seriesId: String(ev.seriesMasterId), originalStart: originalStartOf(ev) } : {}),
  };
  if (deleted || !ev.start) return base;
  const allDay = ev.isAllDay === true || Boolean(ev.start.date && !ev.start.dateTime);
  const content: SyncContent = {
    title: ev.summary ?? '',
    description: ev.description ?? '',
    location: ev.location?.displayName ?? '',
    allDay,
    start: allDay ? ev.start.date : instant(ev.start.dateTime),
    end: allDay ? ev.end.date : instant(ev.end.dateTime),
    ...(ev.start.timeZone ? { timeZone: ev.start.timeZone } : {}),
    attendees: [],
    recurrence: ruleFromDingtalk(ev.recurrence),
  };
  base.content = content;
  base.attendeeIds = ((ev.attendees ?? []) as Array<{ id?: string }>).filter((a) => a.id && a.id !== unionId).map((a) => a.id!);
  return base;
}

export function sideToDingtalk(c: SyncContent, opts: WriteOptions): Record<string, unknown> {
  const when = (v: string) =>
    c.allDay ? { date: v } : { dateTime: isoInZone(v, c.timeZone), ...(c.timeZone ? { timeZone: c.timeZone } : {}) };
  return {
    summary: c.title,
    description: c.description,
    location: { displayName: c.location },
    isAllDay: c.allDay,
    start: when(c.start),
    end: when(c.end),
    attendees: opts.attendeeIds.map((id) => ({ id, isOptional: false })),
    ...(c.recurrence ? { recurrence: ruleToDingtalk(c.recurrence) } : {}),
    extra: { [MARK_LINK]: opts.marker.link, [MARK_HASH]: opts.marker.hash },
  };
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null));

export function dingtalkCalendarSide(conn: ConnectionHandle): CalendarSide {
  const c = () => client(calendarPkg.default, conn.settings);
  const status = (err: unknown) => (err instanceof StepError ? (err.details.status as number | undefined) : undefined);
  const code = (err: unknown) => (err instanceof StepError ? String(err.details.code ?? '') : '');
  return {
    service: 'dingtalk',
    exceptions: true,
    userOf: (p) => p.identities.dingtalk?.unionId,
    async changes(unionId, cursor) {
      const events: SideEvent[] = [];
      let nextToken: string | undefined;
      for (;;) {
        let body: { events?: DEvent[]; nextToken?: string; syncToken?: string };
        try {
          const res = await callApi(conn, 'calendar sync: listEvents', (t) =>
            c().listEventsWithOptions(
              unionId,
              'primary',
              new calendarPkg.ListEventsRequest({
                maxResults: 100,
                ...(nextToken ? { nextToken } : cursor ? { syncToken: cursor } : {}),
              }),
              new calendarPkg.ListEventsHeaders({ xAcsDingtalkAccessToken: t }),
              runtimeOptions(),
            ),
          );
          body = plain(res.body);
        } catch (err) {
          if (status(err) === 400 && /syncToken/i.test(code(err))) throw new CursorExpired('DingTalk refused the syncToken');
          throw err;
        }
        for (const ev of body.events ?? []) events.push(dingtalkToSide(ev, unionId));
        if (body.nextToken) {
          nextToken = body.nextToken;
          continue;
        }
        return { events, cursor: body.syncToken ?? cursor ?? '' };
      }
    },
    async occurrence(unionId, seriesId, originalStart) {
      // The series' instances around the original start (a day either side covers all-day and zones).
      const at = Date.parse(originalStart.length === 10 ? `${originalStart}T00:00:00Z` : originalStart);
      const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 16) + 'Z';
      try {
        const res = await callApi(conn, 'calendar sync: listInstances', (t) =>
          c().listInstancesWithOptions(
            unionId,
            'primary',
            seriesId,
            new calendarPkg.ListInstancesRequest({ timeMin: fmt(at - 86_400_000), timeMax: fmt(at + 2 * 86_400_000), maxResults: 100 }),
            new calendarPkg.ListInstancesHeaders({ xAcsDingtalkAccessToken: t }),
            runtimeOptions(),
          ),
        );
        const body = plain(res.body) as { events?: DEvent[] };
        // The SDK's ListInstances model has no originStart: an unchanged occurrence starts at its original start.
        return (body.events ?? [])
          .map((e) => dingtalkToSide(e, unionId))
          .find((e) => (e.originalStart ?? e.content?.start) === originalStart)?.id;
      } catch (err) {
        if (status(err) === 404 || status(err) === 400) return undefined;
        throw err;
      }
    },
    async create(unionId, content, opts) {
      const token = crypto.createHash('sha256').update(`calendar-sync:${opts.key}`).digest('hex').slice(0, 32);
      const res = await callApi(conn, 'calendar sync: createEvent', (t) =>
        c().createEventWithOptions(
          unionId,
          'primary',
          new calendarPkg.CreateEventRequest(sideToDingtalk(content, opts)),
          new calendarPkg.CreateEventHeaders({ xAcsDingtalkAccessToken: t, xClientToken: token }),
          runtimeOptions(),
        ),
      );
      return dingtalkToSide(plain(res.body), unionId);
    },
    async update(unionId, id, content, opts) {
      try {
        const res = await callApi(conn, 'calendar sync: patchEvent', (t) =>
          c().patchEventWithOptions(
            unionId,
            'primary',
            id,
            new calendarPkg.PatchEventRequest({ id, ...sideToDingtalk(content, opts) }),
            new calendarPkg.PatchEventHeaders({ xAcsDingtalkAccessToken: t }),
            runtimeOptions(),
          ),
        );
        return dingtalkToSide(plain(res.body), unionId);
      } catch (err) {
        if (status(err) === 404) throw Object.assign(new Error(`event ${id} is gone`), { gone: true });
        throw err;
      }
    },
    async remove(unionId, id) {
      try {
        await callApi(conn, 'calendar sync: deleteEvent', (t) =>
          c().deleteEventWithOptions(
            unionId,
            'primary',
            id,
            new calendarPkg.DeleteEventRequest({}),
            new calendarPkg.DeleteEventHeaders({ xAcsDingtalkAccessToken: t }),
            runtimeOptions(),
          ),
        );
      } catch (err) {
        if (status(err) === 404) return;
        throw err;
      }
    },
  };
}
