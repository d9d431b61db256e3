import crypto from 'node:crypto';
import type { Express, Request } from 'express';
import { GoogleError, badRequest, notFound, required } from './errors.ts';
import { dateMs, expand, validRecurrence } from './recurrence.ts';
import { body, notifyChannel, notifyWatchers, qbool, qint, qs, route, type Caller, type Fake } from './runtime.ts';
import { newId, now, type Calendar, type Channel, type EventRecord, type GoogleData, type Json } from './state.ts';
import { dateString, formatInZone, parseDateTime, utcStamp, validTimeZone, wallToUtc } from '../framework/time.ts';

const P = '/calendar/v3';
const DAY = 86_400_000;
const DEFAULT_TTL_SEC = 604_800;
const key = (calendarId: string, eventId: string) => `${calendarId}\u0000${eventId}`;
const iso = (ms: number) => new Date(ms).toISOString();
const etag = (n: number) => `"${3_300_000_000_000_000 + n * 1000}"`;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const unb64 = (s: string): Json | undefined => {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Json;
  } catch {
    return undefined;
  }
};
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

// ---------------- calendars ----------------

export function ensurePrimary(g: GoogleData, email: string): Calendar {
  let c = g.calendars.get(email);
  if (!c) {
    c = {
      id: email,
      owner: email,
      summary: email,
      timeZone: 'UTC',
      primary: true,
      sharedWith: [],
      syncEpoch: 1,
      oldestSyncSeq: 0,
      etagSeq: ++g.seq,
    };
    g.calendars.set(email, c);
  }
  return c;
}

export function createCalendar(
  g: GoogleData,
  owner: string,
  fields: { id?: string; summary: string; description?: string; timeZone?: string; sharedWith?: string[] },
): Calendar {
  const id = fields.id ?? `c_${newId(16)}@group.calendar.google.com`;
  const c: Calendar = {
    id,
    owner,
    summary: fields.summary,
    description: fields.description,
    timeZone: fields.timeZone ?? 'UTC',
    primary: false,
    sharedWith: fields.sharedWith ?? [],
    syncEpoch: 1,
    oldestSyncSeq: 0,
    etagSeq: ++g.seq,
  };
  g.calendars.set(id, c);
  return c;
}

function resolveCalendar(g: GoogleData, caller: Caller, idParam: string): Calendar {
  const id = idParam === 'primary' ? caller.email : idParam;
  if (id === caller.email) return ensurePrimary(g, caller.email);
  const c = g.calendars.get(id);
  if (!c || (c.owner !== caller.email && !c.sharedWith.includes(caller.email))) throw notFound();
  return c;
}

const calendarJson = (c: Calendar) => ({
  kind: 'calendar#calendar',
  etag: etag(c.etagSeq),
  id: c.id,
  summary: c.summary,
  ...(c.description ? { description: c.description } : {}),
  timeZone: c.timeZone,
  conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
});
const calendarListJson = (c: Calendar, caller: Caller) => ({
  kind: 'calendar#calendarListEntry',
  etag: etag(c.etagSeq),
  id: c.id,
  summary: c.summary,
  ...(c.description ? { description: c.description } : {}),
  timeZone: c.timeZone,
  colorId: '14',
  backgroundColor: '#9fe1e7',
  foregroundColor: '#000000',
  selected: true,
  accessRole: c.owner === caller.email ? 'owner' : 'writer',
  defaultReminders: c.owner === caller.email ? [{ method: 'popup', minutes: 10 }] : [],
  ...(c.primary && c.owner === caller.email ? { primary: true } : {}),
});

// ---------------- events: times ----------------

interface EventTime {
  startMs: number;
  endMs: number;
  allDay: boolean;
  tz: string;
}

/** Validates start/end as Calendar does and returns the instants. */
function eventTimes(data: Json, cal: Calendar): EventTime {
  const start = data.start,
    end = data.end;
  if (!isObj(start)) throw new GoogleError(400, 'required', 'Missing start time.');
  if (!isObj(end)) throw new GoogleError(400, 'required', 'Missing end time.');
  const allDay = typeof start.date === 'string';
  if (allDay !== (typeof end.date === 'string') || (allDay && start.dateTime) || (!allDay && typeof start.dateTime !== 'string')) {
    throw badRequest(allDay || start.date ? 'Start and end times must either both be date or both be dateTime.' : 'Missing start time.');
  }
  for (const t of [start, end])
    if (t.timeZone !== undefined && (typeof t.timeZone !== 'string' || !validTimeZone(t.timeZone))) {
      throw badRequest(`Invalid time zone definition for ${t === start ? 'start' : 'end'} time.`);
    }
  const tz = (start.timeZone as string | undefined) ?? cal.timeZone;
  let startMs: number, endMs: number;
  if (allDay) {
    startMs = dateMs(start.date as string);
    endMs = dateMs(end.date as string);
  } else {
    startMs = parseDateTime(start.dateTime as string, tz);
    endMs = parseDateTime(end.dateTime as string, (end.timeZone as string | undefined) ?? tz);
  }
  if (Number.isNaN(startMs) || Number.isNaN(endMs)) throw badRequest('Bad Request', 'badRequest');
  // All-day events end on the day after the last day (exclusive), so end must be after start.
  if (endMs < startMs || (allDay && endMs === startMs))
    throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.', { location: 'end.dateTime', locationType: 'other' });
  return { startMs, endMs, allDay, tz };
}

/** Instants for filtering: all-day dates are midnights in the calendar's time zone. */
function absolute(t: EventTime, cal: Calendar): { start: number; end: number } {
  if (!t.allDay) return { start: t.startMs, end: t.endMs };
  const conv = (ms: number) => {
    const d = new Date(ms);
    return wallToUtc({ y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: 0, mi: 0, s: 0 }, cal.timeZone);
  };
  return { start: conv(t.startMs), end: conv(t.endMs) };
}

function timeJson(ms: number, allDay: boolean, tz: string, withZone: boolean): Json {
  if (allDay) {
    const d = new Date(ms);
    return { date: dateString(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()) };
  }
  return { dateTime: formatInZone(ms, tz), ...(withZone ? { timeZone: tz } : {}) };
}

const instanceSuffix = (ms: number, allDay: boolean) => (allDay ? utcStamp(ms).slice(0, 8) : utcStamp(ms));

// ---------------- events: expansion ----------------

/** An event as a list shows it; pos orders it stably (record insertion order, then instance) for paging. */
interface View {
  id: string;
  data: Json;
  record?: EventRecord;
  pos?: [number, number];
}

/** The instances of a series (with its exceptions applied), as events.instances and singleEvents=true show them. */
function instancesOf(g: GoogleData, cal: Calendar, series: EventRecord, opts: { showDeleted: boolean; horizonMs: number }): View[] {
  const t = eventTimes(series.data, cal);
  const occ = expand(series.data.recurrence as string[], t.startMs, t.tz, t.allDay, opts.horizonMs);
  const dur = t.endMs - t.startMs;
  const startObj = series.data.start as Json;
  const out: View[] = [];
  for (const o of occ) {
    const id = `${series.data.id as string}_${instanceSuffix(o.startMs, t.allDay)}`;
    const ex = g.events.get(key(cal.id, id));
    if (ex) {
      if (ex.data.status === 'cancelled' && !opts.showDeleted) continue;
      out.push({ id, data: ex.data, record: ex });
      continue;
    }
    if (series.data.status === 'cancelled' && !opts.showDeleted) continue;
    const { recurrence: _r, ...rest } = series.data;
    const withZone = startObj.timeZone !== undefined;
    out.push({
      id,
      data: {
        ...rest,
        id,
        recurringEventId: series.data.id,
        originalStartTime: timeJson(o.startMs, t.allDay, t.tz, withZone),
        start: timeJson(o.startMs, t.allDay, t.tz, withZone),
        end: timeJson(o.startMs + dur, t.allDay, t.tz, withZone),
      },
    });
  }
  return out;
}

/** An instance id (series id + _ + UTC start stamp) that is not stored yet: its generated view. */
function virtualInstance(g: GoogleData, cal: Calendar, id: string): { series: EventRecord; view: View } | undefined {
  const i = id.lastIndexOf('_');
  if (i < 0) return undefined;
  const series = g.events.get(key(cal.id, id.slice(0, i)));
  if (!series || !Array.isArray(series.data.recurrence)) return undefined;
  const view = instancesOf(g, cal, series, { showDeleted: true, horizonMs: now(g) + 5 * 366 * DAY }).find((v) => v.id === id);
  return view ? { series, view } : undefined;
}

// ---------------- events: output ----------------

function eventJson(fake: Fake, cal: Calendar, data: Json, opts: { tz?: string; minimalCancelled?: boolean } = {}): Json {
  const g = fake.state.google;
  const rec = g.events.get(key(cal.id, data.id as string));
  const seq = rec?.seq ?? g.seq;
  if (data.status === 'cancelled' && opts.minimalCancelled) {
    return {
      kind: 'calendar#event',
      etag: etag(seq),
      id: data.id,
      status: 'cancelled',
      ...(data.recurringEventId ? { recurringEventId: data.recurringEventId, originalStartTime: data.originalStartTime } : {}),
    };
  }
  const out: Json = { kind: 'calendar#event', etag: etag(seq), ...data };
  if (opts.tz) {
    for (const k of ['start', 'end', 'originalStartTime'] as const) {
      const t = out[k];
      if (isObj(t) && typeof t.dateTime === 'string')
        out[k] = { ...t, dateTime: formatInZone(parseDateTime(t.dateTime, (t.timeZone as string) ?? cal.timeZone), opts.tz) };
    }
  }
  return out;
}

// ---------------- events: writes ----------------

const EVENT_ID = /^[a-v0-9]{5,1024}$/;
const WRITABLE = [
  'summary',
  'description',
  'location',
  'start',
  'end',
  'recurrence',
  'attendees',
  'extendedProperties',
  'reminders',
  'transparency',
  'visibility',
  'colorId',
  'status',
  'source',
  'guestsCanModify',
  'guestsCanInviteOthers',
  'guestsCanSeeOtherGuests',
  'conferenceData',
  'eventType',
  'attachments',
  'sequence',
];

function pickWritable(input: Json): Json {
  const out: Json = {};
  for (const k of WRITABLE) if (input[k] !== undefined) out[k] = input[k];
  if (Array.isArray(out.attendees)) out.attendees = (out.attendees as Json[]).map((a) => ({ responseStatus: 'needsAction', ...a }));
  return out;
}

/** Patch semantics: objects merge, arrays and scalars replace, null clears. */
function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if ((k === 'start' || k === 'end') && isObj(v) && isObj(out[k])) {
      // A patched time keeps its timeZone; switching between date and dateTime drops the other.
      const prev = { ...(out[k] as Json) };
      if (v.date !== undefined) delete prev.dateTime;
      if (v.dateTime !== undefined) delete prev.date;
      out[k] = { ...prev, ...v };
    } else if (isObj(v) && isObj(out[k])) out[k] = merge(out[k] as Json, v);
    else out[k] = v;
  }
  return out;
}

function write(fake: Fake, cal: Calendar, data: Json, existing?: EventRecord): EventRecord {
  const g = fake.state.google;
  const t = now(g);
  const rec: EventRecord = existing ?? { calendarId: cal.id, data, seq: 0, order: ++g.order };
  rec.data = { ...data, updated: iso(t) };
  rec.seq = ++g.seq;
  g.events.set(key(cal.id, data.id as string), rec);
  notifyWatchers(fake, 'calendar', [cal.id], 'exists');
  return rec;
}

function validate(data: Json, cal: Calendar): void {
  eventTimes(data, cal);
  // Calendar stores dateTime values with their offset (a value given without one is read in timeZone).
  for (const k of ['start', 'end'] as const) {
    const t = data[k] as Json;
    if (typeof t.dateTime === 'string') {
      const tz = (t.timeZone as string | undefined) ?? ((data.start as Json).timeZone as string | undefined) ?? cal.timeZone;
      data[k] = { ...t, dateTime: formatInZone(parseDateTime(t.dateTime, tz), tz) };
    }
  }
  if (data.recurrence !== undefined) {
    const bad = validRecurrence(data.recurrence);
    if (bad) throw badRequest(bad);
  }
  const ext = data.extendedProperties;
  if (
    ext !== undefined &&
    (!isObj(ext) || Object.values(ext).some((v) => !isObj(v) || Object.values(v).some((x) => typeof x !== 'string')))
  ) {
    throw badRequest('Invalid extended properties.');
  }
}

function newEventData(fake: Fake, cal: Calendar, caller: Caller, input: Json, id: string): Json {
  const t = iso(now(fake.state.google));
  const person = { email: caller.email, ...(caller.email === cal.owner ? { self: true } : {}) };
  return {
    id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${cal.id}`).toString('base64url')}`,
    created: t,
    updated: t,
    creator: person,
    organizer: { email: cal.id, ...(cal.primary ? { self: true } : { displayName: cal.summary }) },
    iCalUID: `${id}@google.com`,
    sequence: 0,
    reminders: { useDefault: true },
    eventType: 'default',
    ...pickWritable(input),
  };
}

/** Inserts an event as `owner` would through events.insert (control API seeding). */
export function insertEvent(fake: Fake, cal: Calendar, owner: string, input: Json, created?: string): Json {
  const g = fake.state.google;
  let id = input.id as string | undefined;
  if (id !== undefined && (!EVENT_ID.test(id) || g.events.has(key(cal.id, id)))) throw badRequest(`Invalid or duplicate event id ${id}`);
  id ??= crypto.randomBytes(13).toString('hex').replace(/[w-z]/g, 'v');
  const data = newEventData(fake, cal, { email: owner, sub: owner, scopes: [] }, input, id);
  if (created) data.created = data.updated = new Date(created).toISOString();
  if (typeof input.recurringEventId === 'string') {
    data.recurringEventId = input.recurringEventId;
    data.originalStartTime = input.originalStartTime;
  }
  validate(data, cal);
  return eventJson(fake, cal, write(fake, cal, data).data);
}

// ---------------- sync tokens and page tokens ----------------

const syncToken = (cal: Calendar, seq: number) => `CP${b64({ c: cal.id, e: cal.syncEpoch, s: seq })}`;

function readSyncToken(token: string, cal: Calendar): number {
  const t = token.startsWith('CP') ? unb64(token.slice(2)) : undefined;
  if (!t || typeof t.s !== 'number') throw badRequest('Invalid sync token value.');
  if (t.c !== cal.id || t.e !== cal.syncEpoch || t.s < cal.oldestSyncSeq) {
    throw new GoogleError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.');
  }
  return t.s;
}

export function invalidateSyncTokens(g: GoogleData, calendarId?: string): number {
  let n = 0;
  for (const c of g.calendars.values())
    if (!calendarId || c.id === calendarId) {
      c.syncEpoch += 1;
      n++;
    }
  return n;
}

// ---------------- routes ----------------

export function setupCalendar(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const cal = (req: Request, caller: Caller) => resolveCalendar(g(), caller, String(req.params.calendarId));
  const findEvent = (c: Calendar, id: string) => g().events.get(key(c.id, id));

  // calendarList
  app.get(
    `${P}/users/me/calendarList`,
    route(fake, (req, res, caller) => {
      ensurePrimary(g(), caller.email);
      const items = [...g().calendars.values()]
        .filter((c) => c.owner === caller.email || c.sharedWith.includes(caller.email))
        .sort((a, b) => Number(b.primary && b.owner === caller.email) - Number(a.primary && a.owner === caller.email));
      const max = qint(req, 'maxResults', 100, 250);
      const off = Number(qs(req, 'pageToken') ? (unb64(qs(req, 'pageToken')!)?.o ?? 0) : 0);
      const page = items.slice(off, off + max);
      res.json({
        kind: 'calendar#calendarList',
        etag: etag(g().seq),
        ...(off + max < items.length
          ? { nextPageToken: b64({ o: off + max }) }
          : { nextSyncToken: syncToken(ensurePrimary(g(), caller.email), g().seq) }),
        items: page.map((c) => calendarListJson(c, caller)),
      });
    }),
  );
  app.get(
    `${P}/users/me/calendarList/:calendarId`,
    route(fake, (req, res, caller) => {
      res.json(calendarListJson(cal(req, caller), caller));
    }),
  );

  // calendars
  app.post(
    `${P}/calendars`,
    route(fake, (req, res, caller) => {
      const b = body(req);
      if (typeof b.summary !== 'string' || !b.summary) throw new GoogleError(400, 'required', 'Missing title.');
      if (b.timeZone !== undefined && (typeof b.timeZone !== 'string' || !validTimeZone(b.timeZone)))
        throw badRequest('Invalid time zone definition.');
      const c = createCalendar(g(), caller.email, {
        summary: b.summary,
        description: b.description as string | undefined,
        timeZone: b.timeZone as string | undefined,
      });
      res.json(calendarJson(c));
    }),
  );
  app.get(
    `${P}/calendars/:calendarId`,
    route(fake, (req, res, caller) => {
      res.json(calendarJson(cal(req, caller)));
    }),
  );
  const updateCalendar = (replace: boolean) =>
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const b = body(req);
      if (replace && typeof b.summary !== 'string') throw new GoogleError(400, 'required', 'Missing title.');
      if (b.timeZone !== undefined && (typeof b.timeZone !== 'string' || !validTimeZone(b.timeZone)))
        throw badRequest('Invalid time zone definition.');
      if (typeof b.summary === 'string') c.summary = b.summary;
      if (typeof b.description === 'string' || replace) c.description = b.description as string | undefined;
      if (typeof b.timeZone === 'string') c.timeZone = b.timeZone;
      c.etagSeq = ++g().seq;
      res.json(calendarJson(c));
    });
  app.put(`${P}/calendars/:calendarId`, updateCalendar(true));
  app.patch(`${P}/calendars/:calendarId`, updateCalendar(false));
  app.delete(
    `${P}/calendars/:calendarId`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      if (c.primary) throw badRequest('Cannot delete primary calendar.', 'cannotDeletePrimaryCalendar');
      if (c.owner !== caller.email) throw new GoogleError(403, 'forbidden', 'Forbidden');
      g().calendars.delete(c.id);
      for (const [k, e] of g().events) if (e.calendarId === c.id) g().events.delete(k);
      res.status(204).end();
    }),
  );

  // events.list
  app.get(
    `${P}/calendars/:calendarId/events`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      res.json(listEvents(fake, c, req));
    }),
  );

  // events.insert
  app.post(
    `${P}/calendars/:calendarId/events`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const input = body(req);
      let id = input.id;
      if (id !== undefined) {
        if (typeof id !== 'string' || !EVENT_ID.test(id)) throw badRequest('Invalid resource id value.');
        if (findEvent(c, id)) throw new GoogleError(409, 'duplicate', 'The requested identifier already exists.');
      } else {
        do id = crypto.randomBytes(13).toString('hex').replace(/[w-z]/g, 'v');
        while (findEvent(c, id as string));
      }
      const data = newEventData(fake, c, caller, input, id as string);
      data.status = input.status === 'tentative' ? 'tentative' : 'confirmed';
      validate(data, c);
      const rec = write(fake, c, data);
      res.json(eventJson(fake, c, rec.data));
    }),
  );

  // events.get / instances / update / patch / delete / move / watch
  app.get(
    `${P}/calendars/:calendarId/events/:eventId`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const id = String(req.params.eventId);
      const rec = findEvent(c, id);
      const data = rec?.data ?? virtualInstance(g(), c, id)?.view.data;
      if (!data) throw notFound();
      res.json(eventJson(fake, c, data, { tz: qs(req, 'timeZone') }));
    }),
  );

  app.get(
    `${P}/calendars/:calendarId/events/:eventId/instances`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const series = findEvent(c, String(req.params.eventId));
      if (!series) throw notFound();
      if (!Array.isArray(series.data.recurrence)) throw badRequest('The event is not a recurring event.', 'badRequest');
      const timeMin = qs(req, 'timeMin'),
        timeMax = qs(req, 'timeMax');
      const min = timeMin ? Date.parse(timeMin) : -Infinity;
      const max = timeMax ? Date.parse(timeMax) : Infinity;
      let views = instancesOf(g(), c, series, {
        showDeleted: qbool(req, 'showDeleted'),
        horizonMs: Number.isFinite(max) ? max : now(g()) + 2 * 366 * DAY,
      });
      views = views.filter((v) => {
        const a = absolute(eventTimes(v.data, c), c);
        return a.end > min && a.start < max;
      });
      const maxResults = qint(req, 'maxResults', 250, 2500);
      const off = Number(qs(req, 'pageToken') ? (unb64(qs(req, 'pageToken')!)?.o ?? 0) : 0);
      const page = views.slice(off, off + maxResults);
      res.json({
        kind: 'calendar#events',
        etag: etag(g().seq),
        summary: c.summary,
        updated: iso(now(g())),
        timeZone: c.timeZone,
        accessRole: 'owner',
        defaultReminders: [],
        ...(off + maxResults < views.length ? { nextPageToken: b64({ o: off + maxResults }) } : {}),
        items: page.map((v) => eventJson(fake, c, v.data, { tz: qs(req, 'timeZone') })),
      });
    }),
  );

  const modify = (mode: 'update' | 'patch') =>
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const id = String(req.params.eventId);
      const input = body(req);
      let rec = findEvent(c, id);
      let base: Json;
      if (rec) base = rec.data;
      else {
        // Changing one instance of a series makes an exception: an event with recurringEventId + originalStartTime.
        const v = virtualInstance(g(), c, id);
        if (!v) throw notFound();
        base = v.view.data;
      }
      let data: Json;
      if (mode === 'patch') data = merge(base, pickWritable(input));
      else {
        const keep = [
          'id',
          'htmlLink',
          'created',
          'creator',
          'organizer',
          'iCalUID',
          'recurringEventId',
          'originalStartTime',
          'eventType',
          'sequence',
        ];
        data = {
          ...Object.fromEntries(keep.filter((k) => base[k] !== undefined).map((k) => [k, base[k]])),
          reminders: { useDefault: true },
          status: 'confirmed',
          ...pickWritable(input),
        };
      }
      if (data.recurringEventId) delete data.recurrence;
      if (typeof data.status !== 'string' || !['confirmed', 'tentative', 'cancelled'].includes(data.status)) data.status = 'confirmed';
      validate(data, c);
      if (JSON.stringify(base.start) !== JSON.stringify(data.start) || JSON.stringify(base.end) !== JSON.stringify(data.end))
        data.sequence = Number(base.sequence ?? 0) + 1;
      rec = write(fake, c, data, rec);
      res.json(eventJson(fake, c, rec.data));
    });
  app.put(`${P}/calendars/:calendarId/events/:eventId`, modify('update'));
  app.patch(`${P}/calendars/:calendarId/events/:eventId`, modify('patch'));

  app.delete(
    `${P}/calendars/:calendarId/events/:eventId`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const id = String(req.params.eventId);
      const rec = findEvent(c, id);
      if (rec) {
        if (rec.data.status === 'cancelled') throw new GoogleError(410, 'deleted', 'Resource has been deleted');
        write(fake, c, { ...rec.data, status: 'cancelled' }, rec);
        // Deleting a series cancels its exceptions too.
        if (Array.isArray(rec.data.recurrence)) {
          for (const e of g().events.values())
            if (e.calendarId === c.id && e.data.recurringEventId === id && e.data.status !== 'cancelled')
              write(fake, c, { ...e.data, status: 'cancelled' }, e);
        }
      } else {
        const v = virtualInstance(g(), c, id);
        if (!v || v.view.data.status === 'cancelled') throw notFound();
        write(fake, c, { ...v.view.data, status: 'cancelled' });
      }
      res.status(204).end();
    }),
  );

  app.post(
    `${P}/calendars/:calendarId/events/:eventId/move`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const dest = qs(req, 'destination');
      if (!dest) throw required('destination');
      const to = resolveCalendar(g(), caller, dest);
      const id = String(req.params.eventId);
      const rec = findEvent(c, id);
      if (!rec || rec.data.status === 'cancelled') throw notFound();
      if (rec.data.recurringEventId) throw badRequest('Cannot change the organizer of an instance.', 'cannotChangeOrganizerOfInstance');
      if (findEvent(to, id)) throw new GoogleError(409, 'duplicate', 'The requested identifier already exists.');
      const moved = write(fake, to, {
        ...rec.data,
        organizer: { email: to.id, ...(to.primary ? { self: true } : { displayName: to.summary }) },
      });
      write(fake, c, { ...rec.data, status: 'cancelled' }, rec);
      res.json(eventJson(fake, to, moved.data));
    }),
  );

  app.post(
    `${P}/calendars/:calendarId/events/watch`,
    route(fake, (req, res, caller) => {
      const c = cal(req, caller);
      const ch = createChannel(
        fake,
        req,
        caller,
        'calendar',
        c.id,
        `${fake.baseUrl()}${P}/calendars/${encodeURIComponent(c.id)}/events?alt=json`,
      );
      res.json(channelJson(ch));
    }),
  );

  app.post(
    `${P}/channels/stop`,
    route(fake, (req, res, caller) => {
      stopChannel(fake, req, caller);
      res.status(204).end();
    }),
  );

  app.post(
    `${P}/freeBusy`,
    route(fake, (req, res, caller) => {
      const b = body(req);
      const min = Date.parse(String(b.timeMin ?? '')),
        max = Date.parse(String(b.timeMax ?? ''));
      if (Number.isNaN(min)) throw required('timeMin');
      if (Number.isNaN(max)) throw required('timeMax');
      if (max <= min) throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.');
      const calendars: Json = {};
      for (const item of Array.isArray(b.items) ? (b.items as Json[]) : []) {
        const id = String(item.id);
        try {
          const c = resolveCalendar(g(), caller, id);
          const busy = collect(fake, c, { singleEvents: true, showDeleted: false, horizonMs: max })
            .filter((v) => v.data.status !== 'cancelled' && v.data.transparency !== 'transparent')
            .map((v) => absolute(eventTimes(v.data, c), c))
            .filter((a) => a.end > min && a.start < max)
            .sort((a, b2) => a.start - b2.start);
          const merged: { start: number; end: number }[] = [];
          for (const a of busy) {
            const last = merged.at(-1);
            if (last && a.start <= last.end) last.end = Math.max(last.end, a.end);
            else merged.push({ ...a });
          }
          calendars[id] = {
            busy: merged.map((m) => ({
              start: iso(Math.max(m.start, min)).replace('.000', ''),
              end: iso(Math.min(m.end, max)).replace('.000', ''),
            })),
          };
        } catch {
          calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
        }
      }
      res.json({ kind: 'calendar#freeBusy', timeMin: iso(min), timeMax: iso(max), calendars });
    }),
  );
}

/** Stored events of a calendar, series expanded when singleEvents. */
function collect(
  fake: Fake,
  c: Calendar,
  opts: { singleEvents: boolean; showDeleted: boolean; horizonMs: number; since?: number },
): View[] {
  const g = fake.state.google;
  const recs = [...g.events.values()].filter((e) => e.calendarId === c.id).sort((a, b) => a.order - b.order);
  const out: View[] = [];
  const seen = new Set<string>();
  const push = (v: View) => {
    if (!seen.has(v.id)) {
      seen.add(v.id);
      out.push(v);
    }
  };
  for (const r of recs) {
    const changed = opts.since === undefined || r.seq > opts.since;
    if (opts.since !== undefined && !changed) continue;
    const cancelledVisible = opts.since !== undefined || opts.showDeleted;
    if (r.data.status === 'cancelled' && !cancelledVisible) continue;
    if (opts.singleEvents && Array.isArray(r.data.recurrence) && r.data.status !== 'cancelled') {
      instancesOf(g, c, r, { showDeleted: cancelledVisible, horizonMs: opts.horizonMs }).forEach((v, i) =>
        push({ ...v, pos: [r.order, i + 1] }),
      );
    } else {
      // With singleEvents an exception shows in its series' expansion (the id is then already seen), or on its own.
      push({ id: r.data.id as string, data: r.data, record: r, pos: [r.order, 0] });
    }
  }
  return out;
}

function listEvents(fake: Fake, c: Calendar, req: Request): Json {
  const g = fake.state.google;
  const sync = qs(req, 'syncToken');
  const pageToken = qs(req, 'pageToken');
  const page = pageToken ? unb64(pageToken) : undefined;
  if (pageToken && (!page || (typeof page.o !== 'number' && !Array.isArray(page.k)))) throw badRequest('Invalid page token value.');
  const restrict = ['timeMin', 'timeMax', 'q', 'orderBy', 'updatedMin', 'iCalUID', 'privateExtendedProperty', 'sharedExtendedProperty'];
  if (sync && restrict.some((k) => qs(req, k) !== undefined)) {
    throw badRequest(
      `Sync token cannot be used together with other query restrictions: ${restrict.filter((k) => qs(req, k) !== undefined).join(', ')}.`,
    );
  }
  const since = sync ? readSyncToken(sync, c) : (page?.since as number | undefined);
  const singleEvents = qbool(req, 'singleEvents');
  const orderBy = qs(req, 'orderBy');
  if (orderBy && orderBy !== 'startTime' && orderBy !== 'updated') throw badRequest(`Invalid value for orderBy: ${orderBy}`);
  if (orderBy === 'startTime' && !singleEvents)
    throw badRequest('The requested ordering is not available for the particular query.', 'badRequest');
  const tMin = qs(req, 'timeMin'),
    tMax = qs(req, 'timeMax'),
    updMin = qs(req, 'updatedMin');
  const min = tMin ? Date.parse(tMin) : -Infinity,
    max = tMax ? Date.parse(tMax) : Infinity;
  if (Number.isNaN(min) || Number.isNaN(max)) throw badRequest('Bad Request', 'badRequest');
  if (min >= max) throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.');
  const maxResults = qint(req, 'maxResults', 250, 2500);
  const snap = (page?.snap as number | undefined) ?? g.seq;
  const horizon = Number.isFinite(max) ? max : now(g) + 2 * 366 * DAY;
  let views = collect(fake, c, { singleEvents, showDeleted: qbool(req, 'showDeleted'), horizonMs: horizon, since });
  const text = qs(req, 'q')?.toLowerCase();
  const props = (k: 'private' | 'shared', param: string) => {
    const want = [req.query[param]].flat().filter((x): x is string => typeof x === 'string');
    return (v: View) =>
      want.every((w) => {
        const i = w.indexOf('=');
        const ep = (v.data.extendedProperties as Json | undefined)?.[k] as Json | undefined;
        return ep?.[w.slice(0, i)] === w.slice(i + 1);
      });
  };
  const pp = props('private', 'privateExtendedProperty'),
    sp = props('shared', 'sharedExtendedProperty');
  views = views.filter((v) => {
    if (!pp(v) || !sp(v)) return false;
    if (
      text &&
      !['summary', 'description', 'location'].some((k) =>
        String(v.data[k] ?? '')
          .toLowerCase()
          .includes(text),
      )
    )
      return false;
    if (updMin && Date.parse(String(v.data.updated)) < Date.parse(updMin)) return false;
    if (qs(req, 'iCalUID') && v.data.iCalUID !== qs(req, 'iCalUID')) return false;
    if (since === undefined && (tMin || tMax) && v.data.status !== 'cancelled') {
      const t = eventTimes(v.data, c);
      if (Array.isArray(v.data.recurrence)) {
        const occ = expand(v.data.recurrence as string[], t.startMs, t.tz, t.allDay, horizon);
        const dur = t.endMs - t.startMs;
        return occ.some((o) => {
          const a = absolute({ ...t, startMs: o.startMs, endMs: o.startMs + dur }, c);
          return a.end > min && a.start < max;
        });
      }
      const a = absolute(t, c);
      return a.end > min && a.start < max;
    }
    return true;
  });
  if (orderBy === 'startTime') views.sort((a, b) => absolute(eventTimes(a.data, c), c).start - absolute(eventTimes(b.data, c), c).start);
  if (orderBy === 'updated') views.sort((a, b) => Date.parse(String(a.data.updated)) - Date.parse(String(b.data.updated)));
  // Default order pages by position, so events deleted or added between pages neither shift nor skip others.
  let slice: View[];
  let next: Json | undefined;
  if (!orderBy) {
    const after = page?.k as [number, number] | undefined;
    const rest = after ? views.filter((v) => v.pos![0] > after[0] || (v.pos![0] === after[0] && v.pos![1] > after[1])) : views;
    slice = rest.slice(0, maxResults);
    if (rest.length > maxResults) next = { k: slice.at(-1)!.pos, snap, since };
  } else {
    const off = (page?.o as number | undefined) ?? 0;
    slice = views.slice(off, off + maxResults);
    if (off + maxResults < views.length) next = { o: off + maxResults, snap, since };
  }
  const last = next === undefined;
  const tz = qs(req, 'timeZone');
  if (tz && !validTimeZone(tz)) throw badRequest('Invalid time zone definition.');
  return {
    kind: 'calendar#events',
    etag: etag(snap),
    summary: c.summary,
    ...(c.description ? { description: c.description } : {}),
    updated: iso(now(g)),
    timeZone: c.timeZone,
    accessRole: 'owner',
    defaultReminders: [{ method: 'popup', minutes: 10 }],
    ...(last ? { nextSyncToken: syncToken(c, snap) } : { nextPageToken: b64(next) }),
    items: slice.map((v) => eventJson(fake, c, v.data, { tz, minimalCancelled: true })),
  };
}

// ---------------- channels (shared with Drive) ----------------

const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]{1,64}$/;

export function createChannel(
  fake: Fake,
  req: Request,
  caller: Caller,
  kind: Channel['kind'],
  target: string,
  resourceUri: string,
  ttl: { defaultTtlSec: number; maxTtlSec: number } = { defaultTtlSec: DEFAULT_TTL_SEC, maxTtlSec: 30 * 86_400 },
): Channel {
  const g = fake.state.google;
  const b = body(req);
  if (typeof b.id !== 'string' || !b.id) throw required('id');
  if (!CHANNEL_ID.test(b.id)) throw badRequest(`Invalid channel id: ${b.id}`, 'invalid');
  if (b.type !== 'web_hook' && b.type !== 'webhook') throw new GoogleError(400, 'invalid', `Invalid value for type: ${String(b.type)}`);
  if (typeof b.address !== 'string' || !b.address) throw required('address');
  let url: URL;
  try {
    url = new URL(b.address);
  } catch {
    throw badRequest(`Invalid value for address: ${b.address}`);
  }
  if (g.settings.requireHttpsAddress && url.protocol !== 'https:') {
    throw new GoogleError(400, 'push.webhookUrlNotHttps', `WebHook callback must be HTTPS: ${b.address}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`Invalid value for address: ${b.address}`);
  if (g.channels.has(b.id)) throw new GoogleError(400, 'channelIdNotUnique', `Channel id ${b.id} not unique`);
  const params = isObj(b.params) ? b.params : {};
  const ttlSec = params.ttl !== undefined ? Number(params.ttl) : ttl.defaultTtlSec;
  if (!Number.isFinite(ttlSec) || ttlSec <= 0) throw badRequest(`Invalid value for params.ttl: ${String(params.ttl)}`);
  const t = now(g);
  let expiration = t + Math.min(ttlSec, ttl.maxTtlSec) * 1000;
  if (b.expiration !== undefined) {
    const e = Number(b.expiration);
    if (Number.isFinite(e) && e > t) expiration = Math.min(expiration, e);
  }
  const ch: Channel = {
    id: b.id,
    resourceId: crypto.createHash('sha1').update(`${kind}:${target}`).digest('base64url').slice(0, 27),
    resourceUri,
    token: typeof b.token === 'string' ? b.token : undefined,
    address: b.address,
    expiration,
    kind,
    target,
    owner: caller.email,
    messageNumber: 0,
    stopped: false,
    deliveriesAfterStop: 0,
    queue: Promise.resolve(),
  };
  g.channels.set(ch.id, ch);
  notifyChannel(fake, ch, 'sync');
  return ch;
}

export const channelJson = (c: Channel) => ({
  kind: 'api#channel',
  id: c.id,
  resourceId: c.resourceId,
  resourceUri: c.resourceUri,
  ...(c.token !== undefined ? { token: c.token } : {}),
  expiration: String(c.expiration),
});

export function stopChannel(fake: Fake, req: Request, caller: Caller): void {
  const g = fake.state.google;
  const b = body(req);
  if (typeof b.id !== 'string') throw required('id');
  const ch = g.channels.get(b.id);
  if (!ch || ch.stopped || ch.owner !== caller.email || (b.resourceId !== undefined && b.resourceId !== ch.resourceId)) {
    throw notFound(`Channel '${String(b.id)}' not found for project '000000000000'`);
  }
  ch.stopped = true;
  ch.deliveriesAfterStop = g.settings.deliveriesAfterStop;
}

export function expireChannels(g: GoogleData, id?: string): number {
  let n = 0;
  const t = now(g);
  for (const c of g.channels.values())
    if ((!id || c.id === id) && c.expiration > t) {
      c.expiration = t;
      n++;
    }
  return n;
}
