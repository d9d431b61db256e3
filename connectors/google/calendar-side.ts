import crypto from 'node:crypto';
import type { calendar_v3 } from '@googleapis/calendar';
import { formatRrule, instant, isoInZone, parseRrule } from '../../core/calendar-sync/time.ts';
import type { CalendarSide, SideEvent, SyncContent, WriteOptions } from '../../core/calendar-sync/types.ts';
import { type ConnectionHandle, CursorExpired } from '../../core/connector.ts';
import { googleReason, mapGoogleError } from './errors.ts';
import { calendarAs } from './service-account.ts';

/**
 * A person's Google primary calendar as one side of the two-way calendar sync, through the service
 * account acting as that person. Changes come from `events.list` with the `nextSyncToken` of the last
 * list (410 `fullSyncRequired` → CursorExpired: the engine lists everything again); series are one
 * item (RRULE) and their single-occurrence exceptions separate items (`recurringEventId` +
 * `originalStartTime`; a removed occurrence is a cancelled one), which Google can hold, so
 * `exceptions: true`: an occurrence is written through its instance id (`occurrence`). The hub's writes carry
 * `extendedProperties.private.dingbridgeLink` / `dingbridgeHash`; creates use an event id derived from
 * the write's key (base32hex), so a retried create answers 409 and the first event is kept.
 */
export const MARK_LINK = 'dingbridgeLink';
/** The google_sa trigger whose channel (params `{calendarId: the person's e-mail}`) says a person's calendar changed. */
export const CALENDAR_PUSH_TRIGGER = 'google_sa.calendar.push';
export const MARK_HASH = 'dingbridgeHash';

type GEvent = calendar_v3.Schema$Event;

export function googleToSide(ev: GEvent, user: string): SideEvent {
  const deleted = ev.status === 'cancelled';
  const priv = ev.extendedProperties?.private ?? {};
  const base: SideEvent = {
    id: ev.id!,
    deleted,
    updated: ev.updated ?? new Date().toISOString(),
    guests: [],
    attendeeIds: [],
    owned: !ev.organizer?.email || ev.organizer.self === true || ev.organizer.email.toLowerCase() === user.toLowerCase(),
    ...(priv[MARK_LINK] ? { marker: { link: priv[MARK_LINK]!, hash: priv[MARK_HASH] ?? '' } } : {}),
    ...(ev.recurringEventId
      ? {
          seriesId: ev.recurringEventId,
          originalStart: ev.originalStartTime?.dateTime
            ? instant(ev.originalStartTime.dateTime)
            : (ev.originalStartTime?.date ?? undefined),
        }
      : {}),
  };
  if (deleted || !ev.start) return base;
  const allDay = Boolean(ev.start.date);
  const content: SyncContent = {
    title: ev.summary ?? '',
    description: ev.description ?? '',
    location: ev.location ?? '',
    allDay,
    start: allDay ? ev.start.date! : instant(ev.start.dateTime!),
    end: allDay ? ev.end!.date! : instant(ev.end!.dateTime!),
    ...(ev.start.timeZone ? { timeZone: ev.start.timeZone } : {}),
    attendees: [],
    recurrence: parseRrule(ev.recurrence),
  };
  base.content = content;
  base.attendeeIds = (ev.attendees ?? [])
    .filter((a) => a.email && !a.resource && a.email.toLowerCase() !== user.toLowerCase())
    .map((a) => a.email!.toLowerCase());
  return base;
}

export function sideToGoogle(c: SyncContent, opts: WriteOptions, instance: boolean): GEvent {
  const when = (v: string) =>
    c.allDay ? { date: v } : { dateTime: isoInZone(v, c.timeZone), ...(c.timeZone ? { timeZone: c.timeZone } : {}) };
  return {
    summary: c.title,
    description: c.description,
    location: c.location,
    start: when(c.start),
    end: when(c.end),
    attendees: opts.attendeeIds.map((email) => ({ email })),
    ...(instance ? {} : { recurrence: c.recurrence ? [formatRrule(c.recurrence)] : [] }),
    extendedProperties: { private: { [MARK_LINK]: opts.marker.link, [MARK_HASH]: opts.marker.hash } },
  };
}

/** Google event ids are base32hex (`[a-v0-9]`); hex digits are a subset. */
export const googleEventIdFor = (key: string) => `db${crypto.createHash('sha256').update(key).digest('hex').slice(0, 30)}`;

class Gone extends Error {
  gone = true;
}

export function googleCalendarSide(conn: ConnectionHandle): CalendarSide {
  const cal = (user: string) => calendarAs(conn, user);
  return {
    service: 'google',
    exceptions: true,
    push: { trigger: CALENDAR_PUSH_TRIGGER, params: (user) => ({ calendarId: user }) },
    userOf: (p) => p.identities.google?.email ?? p.email ?? undefined,
    async changes(user, cursor) {
      const c = await cal(user);
      const events: SideEvent[] = [];
      let pageToken: string | undefined;
      for (;;) {
        let data: calendar_v3.Schema$Events;
        try {
          data = (
            await c.events.list({
              calendarId: 'primary',
              maxResults: 2500,
              ...(pageToken ? { pageToken } : {}),
              // Deleted events too: a cancelled occurrence of a series is how Google says one was removed.
              showDeleted: true,
              ...(cursor ? { syncToken: cursor } : {}),
            })
          ).data;
        } catch (err) {
          if (googleReason(err).status === 410) throw new CursorExpired('Google answered 410: full sync required');
          throw mapGoogleError('calendar sync: events.list', err);
        }
        for (const ev of data.items ?? []) events.push(googleToSide(ev, user));
        if (data.nextPageToken) {
          pageToken = data.nextPageToken;
          continue;
        }
        return { events, cursor: data.nextSyncToken ?? cursor ?? '' };
      }
    },
    async occurrence(user, seriesId, originalStart) {
      // Google's instance id: the series id, `_`, the original start in UTC (`20301210T020000Z`, all-day `20301210`).
      const stamp =
        originalStart.length === 10
          ? originalStart.replace(/-/g, '')
          : new Date(originalStart)
              .toISOString()
              .replace(/[-:]/g, '')
              .replace(/\.\d{3}/, '');
      const id = `${seriesId}_${stamp}`;
      const c = await cal(user);
      try {
        await c.events.get({ calendarId: 'primary', eventId: id });
        return id;
      } catch (err) {
        const { status } = googleReason(err);
        if (status === 404 || status === 410) return undefined;
        throw mapGoogleError('calendar sync: events.get (instance)', err);
      }
    },
    async create(user, content, opts) {
      const c = await cal(user);
      const id = googleEventIdFor(opts.key);
      try {
        const res = await c.events.insert({ calendarId: 'primary', requestBody: { id, ...sideToGoogle(content, opts, false) } });
        return googleToSide(res.data, user);
      } catch (err) {
        // 409: the first attempt made it (its answer was lost); keep that event.
        if (googleReason(err).status === 409) {
          const res = await c.events.get({ calendarId: 'primary', eventId: id });
          if (res.data.status !== 'cancelled') return googleToSide(res.data, user);
        }
        throw mapGoogleError('calendar sync: events.insert', err);
      }
    },
    async update(user, id, content, opts) {
      const c = await cal(user);
      try {
        const res = await c.events.update({
          calendarId: 'primary',
          eventId: id,
          requestBody: sideToGoogle(content, opts, id.includes('_')),
        });
        return googleToSide(res.data, user);
      } catch (err) {
        const { status } = googleReason(err);
        if (status === 404 || status === 410) throw new Gone(`event ${id} is gone`);
        throw mapGoogleError('calendar sync: events.update', err);
      }
    },
    async remove(user, id) {
      const c = await cal(user);
      try {
        await c.events.delete({ calendarId: 'primary', eventId: id });
      } catch (err) {
        const { status } = googleReason(err);
        if (status === 404 || status === 410) return;
        throw mapGoogleError('calendar sync: events.delete', err);
      }
    },
  };
}
