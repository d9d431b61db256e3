import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentHash } from '../../core/calendar-sync/engine.ts';
import { formatRrule, instant, isoInZone, parseRrule } from '../../core/calendar-sync/time.ts';
import type { SyncContent } from '../../core/calendar-sync/types.ts';
import { dingtalkToSide, ruleFromDingtalk, ruleToDingtalk, sideToDingtalk } from '../../connectors/dingtalk/calendar-side.ts';
import { googleEventIdFor, googleToSide, sideToGoogle } from '../../connectors/google/calendar-side.ts';

const base: SyncContent = {
  title: 'Design review',
  description: '',
  location: 'Room 1',
  allDay: false,
  start: '2030-01-10T02:00:00.000Z',
  end: '2030-01-10T03:00:00.000Z',
  attendees: [],
  recurrence: null,
};

describe('calendar sync: time zones and recurrence', () => {
  test('an instant written in Hong Kong and in Shanghai is the same instant (same hash); the zone is kept on write', () => {
    assert.equal(isoInZone('2030-01-10T02:00:00Z', 'Asia/Hong_Kong'), '2030-01-10T10:00:00+08:00');
    assert.equal(isoInZone('2030-01-10T02:00:00Z', 'Asia/Shanghai'), '2030-01-10T10:00:00+08:00');
    assert.equal(isoInZone('2030-07-10T02:00:00Z', 'America/New_York'), '2030-07-09T22:00:00-04:00');
    assert.equal(instant('2030-01-10T10:00:00+08:00'), base.start);
    assert.equal(contentHash({ ...base, timeZone: 'Asia/Hong_Kong' }), contentHash({ ...base, timeZone: 'Asia/Shanghai' }));
    assert.notEqual(contentHash(base), contentHash({ ...base, start: '2030-01-10T02:30:00.000Z' }));
    assert.equal(contentHash({ ...base, attendees: ['b', 'a'] }), contentHash({ ...base, attendees: ['a', 'b'] }));
  });

  test('RRULE ↔ neutral rule ↔ DingTalk recurrence', () => {
    const rule = parseRrule(['RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6;BYDAY=MO,WE'])!;
    assert.deepEqual(rule, { freq: 'WEEKLY', interval: 2, count: 6, byDay: ['MO', 'WE'] });
    assert.equal(formatRrule(rule), 'RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6;BYDAY=MO,WE');
    const d = ruleToDingtalk(rule);
    assert.deepEqual(d, {
      pattern: { interval: 2, type: 'weekly', daysOfWeek: 'monday,wednesday' },
      range: { type: 'numbered', numberOfOccurrences: 6 },
    });
    assert.deepEqual(ruleFromDingtalk(d), rule);
    const until = parseRrule(['EXDATE:20300101T000000Z', 'RRULE:FREQ=DAILY;UNTIL=20300131T235959Z'])!;
    assert.deepEqual(ruleFromDingtalk(ruleToDingtalk(until)), until);
    assert.equal(parseRrule(['RRULE:FREQ=HOURLY']), null);
  });
});

describe('calendar sync: provider shapes', () => {
  test("Google: all-day keeps the exclusive end date; the hub's marker rides in extendedProperties.private; guests stay", () => {
    const g = sideToGoogle(
      { ...base, allDay: true, start: '2030-01-10', end: '2030-01-12', recurrence: { freq: 'DAILY', interval: 1, count: 3 } },
      { marker: { link: 'L1', hash: 'h1' }, key: 'k', attendeeIds: ['bob@example.com', 'guest@outside.example'] },
      false,
    );
    assert.deepEqual([g.start, g.end], [{ date: '2030-01-10' }, { date: '2030-01-12' }]);
    assert.deepEqual(g.recurrence, ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(g.extendedProperties, { private: { dingbridgeLink: 'L1', dingbridgeHash: 'h1' } });
    const back = googleToSide(
      { id: 'x', ...g, updated: '2030-01-01T00:00:00Z', organizer: { email: 'alice@example.com', self: true } },
      'alice@example.com',
    );
    assert.deepEqual(back.marker, { link: 'L1', hash: 'h1' });
    assert.deepEqual(back.attendeeIds, ['bob@example.com', 'guest@outside.example']);
    assert.equal(back.content!.end, '2030-01-12');
    // An exception of a series is an instance: no recurrence written, the series named on read.
    const inst = sideToGoogle(base, { marker: { link: 'L', hash: 'h' }, key: 'k', attendeeIds: [] }, true);
    assert.equal(inst.recurrence, undefined);
    const exc = googleToSide(
      {
        id: 's_20300110T020000Z',
        recurringEventId: 's',
        originalStartTime: { dateTime: '2030-01-10T10:00:00+08:00' },
        status: 'cancelled',
      },
      'a',
    );
    // The original start as an instant in UTC (the same form both sides give), so occurrences match across sides.
    assert.deepEqual([exc.deleted, exc.seriesId, exc.originalStart], [true, 's', '2030-01-10T02:00:00.000Z']);
    assert.match(googleEventIdFor('link:b:0'), /^[a-v0-9]{5,1024}$/);
  });

  test('DingTalk: the marker rides in extra and comes back as extendedProperties.sharedProperties; an attendee copy is not owned', () => {
    const body = sideToDingtalk(
      { ...base, timeZone: 'Asia/Hong_Kong' },
      { marker: { link: 'L2', hash: 'h2' }, key: 'k', attendeeIds: ['union-bob'] },
    );
    assert.deepEqual(body.start, { dateTime: '2030-01-10T10:00:00+08:00', timeZone: 'Asia/Hong_Kong' });
    assert.deepEqual(body.extra, { dingbridgeLink: 'L2', dingbridgeHash: 'h2' });
    const ev = {
      id: 'e1',
      ...body,
      location: { displayName: 'Room 1' },
      organizer: { id: 'union-alice' },
      extendedProperties: { sharedProperties: body.extra },
      updateTime: '2030-01-01T00:00:00Z',
    };
    const asAlice = dingtalkToSide(ev, 'union-alice');
    assert.equal(asAlice.owned, true);
    assert.deepEqual(asAlice.marker, { link: 'L2', hash: 'h2' });
    assert.equal(contentHash(asAlice.content!), contentHash(base));
    assert.equal(dingtalkToSide(ev, 'union-bob').owned, false);
    // A changed or cancelled occurrence: the series and the original start, in the same form as Google's.
    const occ = dingtalkToSide(
      {
        ...ev,
        id: 'e1_20300110T020000Z',
        seriesMasterId: 'e1',
        originStart: { dateTime: '2030-01-10T10:00:00+08:00' },
        status: 'cancelled',
      },
      'union-alice',
    );
    assert.deepEqual([occ.deleted, occ.seriesId, occ.originalStart], [true, 'e1', '2030-01-10T02:00:00.000Z']);
  });
});
