import type { Express, Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { randomHex } from './crypto.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { CalendarEvent, DingtalkState } from './state.ts';
import { apiError } from './errors.ts';
import { occurrences, occurrenceStamp, startMs } from './recurrence.ts';

type Fake = RunningFakeInternals<DingtalkState>;

const BASE = '/v1.0/calendar/users/:unionId/calendars/:calendarId/events';

function timeMs(t: unknown, end = false): number | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const o = t as Record<string, unknown>;
  if (typeof o.dateTime === 'string') {
    const v = Date.parse(o.dateTime);
    return Number.isNaN(v) ? undefined : v;
  }
  if (typeof o.date === 'string') {
    const v = Date.parse(`${o.date}T00:00:00Z`);
    return Number.isNaN(v) ? undefined : v + (end ? 0 : 0);
  }
  return undefined;
}

function visibleTo(ev: CalendarEvent, unionId: string): boolean {
  return ev.organizer === unionId || ev.attendees.some((a) => a.id === unionId);
}

export function eventView(fake: Fake, ev: CalendarEvent, viewer: string): Record<string, unknown> {
  const name = (unionId: string) => [...fake.state.users.values()].find((u) => u.unionId === unionId)?.name ?? unionId;
  return {
    id: ev.id,
    summary: ev.summary,
    ...(ev.description !== undefined ? { description: ev.description } : {}),
    start: ev.start,
    end: ev.end,
    isAllDay: ev.isAllDay,
    status: ev.status,
    organizer: { id: ev.organizer, displayName: name(ev.organizer), responseStatus: 'accepted', self: ev.organizer === viewer },
    attendees: ev.attendees.map((a) => ({
      id: a.id,
      displayName: name(a.id),
      isOptional: a.isOptional ?? false,
      responseStatus: a.id === ev.organizer ? 'accepted' : 'needsAction',
      self: a.id === viewer,
    })),
    ...(ev.location ? { location: ev.location } : {}),
    ...(ev.reminders ? { reminders: ev.reminders.map((r) => ({ method: r.method, minutes: String(r.minutes) })) } : {}),
    ...(ev.recurrence ? { recurrence: ev.recurrence } : {}),
    ...(ev.onlineMeetingInfo ? { onlineMeetingInfo: ev.onlineMeetingInfo } : {}),
    ...(ev.categories ? { categories: ev.categories } : {}),
    ...(ev.extra ? { extendedProperties: { sharedProperties: ev.extra } } : {}),
    ...(ev.seriesMasterId ? { seriesMasterId: ev.seriesMasterId, originStart: ev.originStart } : {}),
    createTime: ev.createTime,
    updateTime: ev.updateTime,
  };
}

function validTimes(res: Response, start: unknown, end: unknown, isAllDay: boolean): boolean {
  const s = timeMs(start);
  const e = timeMs(end, true);
  if (s === undefined) {
    apiError(res, 400, 'invalidParameter.start', 'start 不合法');
    return false;
  }
  if (e === undefined) {
    apiError(res, 400, 'invalidParameter.end', 'end 不合法');
    return false;
  }
  if (isAllDay ? e < s : e <= s) {
    apiError(res, 400, 'invalidParameter.time', '结束时间必须晚于开始时间');
    return false;
  }
  return true;
}

function encodeToken(o: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
function decodeToken(t: string): Record<string, unknown> | undefined {
  try {
    const o = JSON.parse(Buffer.from(t, 'base64url').toString('utf8'));
    return o && typeof o === 'object' ? o : undefined;
  } catch {
    return undefined;
  }
}

const HORIZON_MS = 5 * 366 * 86_400_000;

/** One occurrence of a series as DingTalk shows it: the series' fields at that time, id `${seriesId}_${stamp}`. */
function occurrenceOf(master: CalendarEvent, ms: number): CalendarEvent {
  const dur = startMs(master.end) - startMs(master.start);
  const at = (t: number, shape: Record<string, unknown>) =>
    master.isAllDay
      ? { date: new Date(t).toISOString().slice(0, 10) }
      : { dateTime: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(shape.timeZone ? { timeZone: shape.timeZone } : {}) };
  const { recurrence: _r, ...rest } = structuredClone(master);
  return {
    ...rest,
    id: `${master.id}_${occurrenceStamp(ms, master.isAllDay)}`,
    start: at(ms, master.start),
    end: at(ms + dur, master.end),
    seriesMasterId: master.id,
    originStart: { dateTime: new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

/** The occurrences of a series, its changed and cancelled ones (stored exceptions) applied. */
function instancesOf(events: Map<string, CalendarEvent>, master: CalendarEvent, now: number): CalendarEvent[] {
  return occurrences(master, now + HORIZON_MS).map((ms) => {
    const v = occurrenceOf(master, ms);
    return events.get(v.id) ?? v;
  });
}

/** An occurrence id (`${seriesId}_${stamp}`) not stored yet: its generated view. */
function virtualOccurrence(events: Map<string, CalendarEvent>, id: string): CalendarEvent | undefined {
  const i = id.lastIndexOf('_');
  if (i < 0) return undefined;
  const master = events.get(id.slice(0, i));
  if (!master?.recurrence || master.status === 'cancelled') return undefined;
  return instancesOf(events, master, Date.now()).find((v) => v.id === id && !events.has(id));
}

export function registerCalendarRoutes(app: Express, fake: Fake, _rt: DingtalkRuntime): void {
  const st = () => fake.state;
  const primary = (res: Response, calendarId: string): boolean => {
    if (calendarId !== 'primary') {
      apiError(res, 400, 'invalidParameter.calendarId', `calendarId ${calendarId} 不存在，仅支持 primary`);
      return false;
    }
    return true;
  };

  app.post(BASE, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const b = (req.body ?? {}) as Record<string, unknown>;
    const clientToken = req.headers['x-client-token'];
    const key = typeof clientToken === 'string' && clientToken ? `${unionId}|${clientToken}` : undefined;
    if (key && st().clientTokens.has(key)) {
      const existing = st().calendarEvents.get(st().clientTokens.get(key)!);
      if (existing) return void res.json(eventView(fake, existing, unionId));
    }
    if (typeof b.summary !== 'string' || !b.summary) return apiError(res, 400, 'Missingsummary', 'summary is mandatory for this action.');
    if (!b.start) return apiError(res, 400, 'Missingstart', 'start is mandatory for this action.');
    if (!b.end) return apiError(res, 400, 'Missingend', 'end is mandatory for this action.');
    const isAllDay = b.isAllDay === true;
    if (!validTimes(res, b.start, b.end, isAllDay)) return;
    const now = new Date().toISOString();
    const ev: CalendarEvent = {
      id: randomHex(12),
      organizer: unionId,
      summary: b.summary,
      description: typeof b.description === 'string' ? b.description : undefined,
      start: b.start as Record<string, unknown>,
      end: b.end as Record<string, unknown>,
      isAllDay,
      attendees: Array.isArray(b.attendees)
        ? (b.attendees as Array<Record<string, unknown>>)
            .filter((a) => a && typeof a.id === 'string')
            .map((a) => ({ id: String(a.id), isOptional: a.isOptional === true }))
        : [],
      location: b.location as Record<string, unknown> | undefined,
      reminders: b.reminders as Array<Record<string, unknown>> | undefined,
      recurrence: b.recurrence,
      onlineMeetingInfo: b.onlineMeetingInfo,
      extra: b.extra,
      categories: b.categories,
      createTime: now,
      updateTime: now,
      status: 'confirmed',
      seq: ++st().calendarSeq,
    };
    st().calendarEvents.set(ev.id, ev);
    if (key) st().clientTokens.set(key, ev.id);
    res.json(eventView(fake, ev, unionId));
  });

  app.get(BASE, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const q = req.query as Record<string, string | undefined>;
    const maxResults = Math.min(Math.max(Number(q.maxResults ?? 100) || 100, 1), 100);
    let offset = 0;
    let since: number | undefined;
    let timeMin = q.timeMin;
    let timeMax = q.timeMax;
    let showDeleted = q.showDeleted === 'true';
    if (q.nextToken) {
      const t = decodeToken(q.nextToken);
      if (!t || typeof t.o !== 'number') return apiError(res, 400, 'invalidParameter.nextToken', 'nextToken 不合法');
      offset = t.o;
      since = typeof t.s === 'number' ? t.s : undefined;
      timeMin = t.tmin as string | undefined;
      timeMax = t.tmax as string | undefined;
      showDeleted = t.d === true;
    } else if (q.syncToken) {
      const t = decodeToken(q.syncToken);
      if (!t || typeof t.seq !== 'number' || t.seq > st().calendarSeq || (t.e ?? 0) !== st().calendarTokenEpoch)
        return apiError(res, 400, 'invalidParameter.syncToken', 'syncToken 不合法或已失效');
      since = t.seq;
    }
    const min = timeMin ? Date.parse(timeMin) : undefined;
    const max = timeMax ? Date.parse(timeMax) : undefined;
    if ((timeMin && Number.isNaN(min)) || (timeMax && Number.isNaN(max)))
      return apiError(res, 400, 'invalidParameter.time', 'timeMin/timeMax 不合法');
    let list = [...st().calendarEvents.values()].filter((e) => visibleTo(e, unionId));
    if (since !== undefined) {
      // Incremental sync: everything changed since the token, deleted ones included.
      list = list.filter((e) => e.seq > since!).sort((a, b) => a.seq - b.seq);
    } else {
      list = list
        // Like Google: a cancelled occurrence of a live series is listed (it is how the series says it skips one).
        .filter(
          (e) =>
            showDeleted ||
            e.status !== 'cancelled' ||
            (e.seriesMasterId !== undefined && st().calendarEvents.get(e.seriesMasterId)?.status === 'confirmed'),
        )
        .filter((e) => (min === undefined || (timeMs(e.end, true) ?? 0) > min) && (max === undefined || (timeMs(e.start) ?? 0) < max))
        .sort((a, b) => (timeMs(a.start) ?? 0) - (timeMs(b.start) ?? 0));
    }
    const page = list.slice(offset, offset + maxResults);
    const more = offset + maxResults < list.length;
    const body: Record<string, unknown> = { events: page.map((e) => eventView(fake, e, unionId)) };
    if (more) body.nextToken = encodeToken({ o: offset + maxResults, s: since, tmin: timeMin, tmax: timeMax, d: showDeleted });
    else body.syncToken = encodeToken({ seq: st().calendarSeq, e: st().calendarTokenEpoch, r: randomHex(4) });
    res.json(body);
  });

  app.get(`${BASE}/:eventId`, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const id = String(req.params.eventId);
    const ev = st().calendarEvents.get(id) ?? virtualOccurrence(st().calendarEvents, id);
    if (!ev || !visibleTo(ev, unionId)) return apiError(res, 404, 'eventNotFound', '日程不存在');
    res.json(eventView(fake, ev, unionId));
  });

  // The occurrences of a series (ListInstances): changed ones as changed, cancelled ones left out.
  app.get(`${BASE}/:eventId/instances`, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const master = st().calendarEvents.get(String(req.params.eventId));
    if (!master || !visibleTo(master, unionId) || master.status === 'cancelled') return apiError(res, 404, 'eventNotFound', '日程不存在');
    if (!master.recurrence) return apiError(res, 400, 'invalidParameter.eventId', '该日程不是循环日程');
    const q = req.query as Record<string, string | undefined>;
    const min = q.timeMin ? Date.parse(q.timeMin) : -Infinity;
    const max = q.timeMax ? Date.parse(q.timeMax) : Infinity;
    if (Number.isNaN(min) || Number.isNaN(max)) return apiError(res, 400, 'invalidParameter.time', 'timeMin/timeMax 不合法');
    const maxResults = Math.min(Math.max(Number(q.maxResults ?? 100) || 100, 1), 100);
    const offset = q.nextToken ? Number(decodeToken(q.nextToken)?.o ?? Number.NaN) : 0;
    if (Number.isNaN(offset)) return apiError(res, 400, 'invalidParameter.nextToken', 'nextToken 不合法');
    const list = instancesOf(st().calendarEvents, master, Date.now()).filter(
      (e) => e.status !== 'cancelled' && startMs(e.end) > min && startMs(e.start) < max,
    );
    const page = list.slice(offset, offset + maxResults);
    res.json({
      events: page.map((e) => eventView(fake, e, unionId)),
      ...(offset + maxResults < list.length ? { nextToken: encodeToken({ o: offset + maxResults }) } : {}),
    });
  });

  app.put(`${BASE}/:eventId`, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const id = String(req.params.eventId);
    // Changing one occurrence of a series makes an exception (seriesMasterId + originStart), the rest unchanged.
    const ev = st().calendarEvents.get(id) ?? virtualOccurrence(st().calendarEvents, id);
    if (!ev || !visibleTo(ev, unionId) || ev.status === 'cancelled') return apiError(res, 404, 'eventNotFound', '日程不存在');
    if (ev.organizer !== unionId) return apiError(res, 403, 'forbidden.noPermission', '只有组织者可以修改日程');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const start = b.start ?? ev.start;
    const end = b.end ?? ev.end;
    const isAllDay = typeof b.isAllDay === 'boolean' ? b.isAllDay : ev.isAllDay;
    if ((b.start || b.end || typeof b.isAllDay === 'boolean') && !validTimes(res, start, end, isAllDay)) return;
    if (!st().calendarEvents.has(id)) st().calendarEvents.set(id, ev);
    if (typeof b.summary === 'string') ev.summary = b.summary;
    if (typeof b.description === 'string') ev.description = b.description;
    ev.start = start as Record<string, unknown>;
    ev.end = end as Record<string, unknown>;
    ev.isAllDay = isAllDay;
    if (Array.isArray(b.attendees))
      ev.attendees = (b.attendees as Array<Record<string, unknown>>)
        .filter((a) => a && typeof a.id === 'string')
        .map((a) => ({ id: String(a.id), isOptional: a.isOptional === true }));
    if (b.location !== undefined) ev.location = b.location as Record<string, unknown>;
    if (b.reminders !== undefined) ev.reminders = b.reminders as Array<Record<string, unknown>>;
    if (b.recurrence !== undefined && !ev.seriesMasterId) ev.recurrence = b.recurrence;
    if (b.onlineMeetingInfo !== undefined) ev.onlineMeetingInfo = b.onlineMeetingInfo;
    if (b.extra !== undefined) ev.extra = b.extra;
    if (b.categories !== undefined) ev.categories = b.categories;
    ev.updateTime = new Date().toISOString();
    ev.seq = ++st().calendarSeq;
    res.json(eventView(fake, ev, unionId));
  });

  app.delete(`${BASE}/:eventId`, (req, res) => {
    const unionId = String(req.params.unionId);
    if (!primary(res, String(req.params.calendarId))) return;
    const id = String(req.params.eventId);
    const ev = st().calendarEvents.get(id) ?? virtualOccurrence(st().calendarEvents, id);
    if (!ev || !visibleTo(ev, unionId)) return apiError(res, 404, 'eventNotFound', '日程不存在');
    if (ev.status !== 'cancelled') {
      if (ev.organizer === unionId) {
        // One occurrence: a cancelled exception. A series: its exceptions go with it.
        if (!st().calendarEvents.has(id)) st().calendarEvents.set(id, ev);
        ev.status = 'cancelled';
        if (ev.recurrence)
          for (const x of st().calendarEvents.values())
            if (x.seriesMasterId === ev.id && x.status !== 'cancelled') {
              x.status = 'cancelled';
              x.updateTime = new Date().toISOString();
              x.seq = ++st().calendarSeq;
            }
      } else {
        // An attendee deleting removes the event from their own calendar only.
        ev.attendees = ev.attendees.filter((a) => a.id !== unionId);
      }
      ev.updateTime = new Date().toISOString();
      ev.seq = ++st().calendarSeq;
    }
    res.status(200).end();
  });
}
