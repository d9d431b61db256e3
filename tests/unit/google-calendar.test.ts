import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dayBounds, idempotentEventId } from '../../connectors/google/calendar-actions.ts';
import { calendarEvent, classifyChange, eventVersion, vanishedEvent } from '../../connectors/google/calendar-normalise.ts';
import { pushWanted } from '../../connectors/google/calendar-trigger.ts';
import { mapGoogleError } from '../../connectors/google/errors.ts';
import { SCOPES, scopesForUse } from '../../connectors/google/scopes.ts';

/** A GaxiosError as the official client throws it: status, headers and Google's error body. */
function gaxios(status: number, reason?: string, opts: { retryAfter?: string; body?: unknown } = {}) {
  const err = new Error(`Request failed with status code ${status}`) as Error & Record<string, unknown>;
  err.status = status;
  err.response = {
    status,
    headers: new Headers(opts.retryAfter ? { 'retry-after': opts.retryAfter } : {}),
    data: opts.body ?? { error: { code: status, message: `${reason} message`, errors: [{ reason, domain: 'global', message: 'm' }] } },
  };
  return err;
}

describe('mapGoogleError', () => {
  const cases: Array<[string, unknown, string, number | undefined]> = [
    ['403 rateLimitExceeded', gaxios(403, 'rateLimitExceeded'), 'retryable', 403],
    ['403 userRateLimitExceeded', gaxios(403, 'userRateLimitExceeded'), 'retryable', 403],
    ['429', gaxios(429, 'rateLimitExceeded'), 'retryable', 429],
    ['403 forbidden (no access to the calendar)', gaxios(403, 'forbidden'), 'permanent', 403],
    ['403 insufficientPermissions (scope not granted)', gaxios(403, 'insufficientPermissions'), 'needs_reauth', 403],
    ['404 notFound', gaxios(404, 'notFound'), 'permanent', 404],
    ['409 duplicate', gaxios(409, 'duplicate'), 'permanent', 409],
    ['410 deleted', gaxios(410, 'deleted'), 'permanent', 410],
    ['410 fullSyncRequired', gaxios(410, 'fullSyncRequired'), 'permanent', 410],
    ['500 backendError', gaxios(500, 'backendError'), 'retryable', 500],
    ['503', gaxios(503, 'backendError'), 'retryable', 503],
    ['401 authError', gaxios(401, 'authError'), 'needs_reauth', 401],
    [
      'invalid_grant from the token endpoint',
      gaxios(400, undefined, { body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } }),
      'needs_reauth',
      400,
    ],
    ['no answer (connection reset)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'retryable', undefined],
  ];
  for (const [name, err, cls, status] of cases) {
    test(name, () => {
      const mapped = mapGoogleError('events.insert', err);
      assert.equal(mapped.errorClass, cls);
      assert.equal(mapped.details.status, status);
      assert.match(mapped.message, /^events\.insert/);
    });
  }
  test('a rate limit waits for Retry-After when Google sends one, else a few seconds', () => {
    assert.equal(mapGoogleError('x', gaxios(429, 'rateLimitExceeded', { retryAfter: '7' })).details.retryAfterMs, 7000);
    assert.ok((mapGoogleError('x', gaxios(403, 'userRateLimitExceeded')).details.retryAfterMs ?? 0) >= 1000);
    assert.equal(mapGoogleError('x', gaxios(403, 'forbidden')).details.retryAfterMs, undefined);
  });
});

describe('calendar changes', () => {
  const base = {
    id: 'evt00001',
    etag: '"1"',
    status: 'confirmed',
    summary: 'Standup',
    start: { dateTime: '2026-03-02T09:00:00+08:00', timeZone: 'Asia/Hong_Kong' },
    end: { dateTime: '2026-03-02T09:15:00+08:00', timeZone: 'Asia/Hong_Kong' },
  };
  test('created, updated, moved, cancelled from the version last seen', () => {
    assert.equal(classifyChange(base, undefined), 'created');
    const v1 = eventVersion(base);
    assert.equal(classifyChange({ ...base, etag: '"2"', summary: 'Daily standup' }, v1), 'updated');
    // The same instant written in another zone is not a move.
    assert.equal(classifyChange({ ...base, etag: '"2"', start: { dateTime: '2026-03-02T01:00:00Z' } }, v1), 'updated');
    assert.equal(classifyChange({ ...base, etag: '"3"', start: { dateTime: '2026-03-02T10:00:00+08:00' } }, v1), 'moved');
    assert.equal(classifyChange({ id: 'evt00001', etag: '"4"', status: 'cancelled' }, v1), 'cancelled');
  });
  test('an exception of a series: updated at its original time, moved away from it; kind exception', () => {
    const ex = {
      ...base,
      id: 'series1_20260302T010000Z',
      recurringEventId: 'series1',
      originalStartTime: { dateTime: '2026-03-02T09:00:00+08:00' },
    };
    assert.equal(classifyChange(ex, undefined), 'updated');
    assert.equal(classifyChange({ ...ex, start: { dateTime: '2026-03-02T11:00:00+08:00' } }, undefined), 'moved');
    const e = calendarEvent('primary', { ...ex, start: { dateTime: '2026-03-02T11:00:00+08:00' } }, undefined);
    assert.equal(e.type, 'google.calendar.event.moved');
    assert.equal((e.data.event as any).kind, 'exception');
    assert.equal((e.data.event as any).recurringEventId, 'series1');
    assert.deepEqual(e.data.previous, { startAt: '2026-03-02T01:00:00.000Z' });
    const series = calendarEvent('primary', { ...base, recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] }, undefined);
    assert.equal((series.data.event as any).kind, 'series');
  });
  test('an all-day event: dates, exclusive end, allDay true', () => {
    const e = calendarEvent('primary', { ...base, start: { date: '2026-03-02' }, end: { date: '2026-03-03' } }, undefined);
    assert.equal((e.data.event as any).allDay, true);
    assert.equal((e.data.event as any).startAt, '2026-03-02');
    assert.equal((e.data.event as any).endAt, '2026-03-03');
  });
  test('a cancellation has one provider id whether a poll saw it or a vanished item was reported', () => {
    const cancelled = { id: 'evt00001', etag: '"9"', status: 'cancelled' };
    const polled = calendarEvent('primary', cancelled, eventVersion(base));
    assert.equal(vanishedEvent('primary', 'evt00001', eventVersion(cancelled)).providerId, polled.providerId);
    assert.notEqual(vanishedEvent('primary', 'evt00001', eventVersion(base)).providerId, polled.providerId);
    assert.notEqual(
      calendarEvent('primary', base, undefined).providerId,
      calendarEvent('primary', { ...base, etag: '"2"' }, undefined).providerId,
    );
  });
});

describe('idempotent event ids, day bounds, push and scopes', () => {
  test('the id from an idempotency key is valid base32hex, 5–1024 characters, stable and distinct', () => {
    const a = idempotentEventId('evt_1:flow:0');
    assert.match(a, /^[a-v0-9]{5,1024}$/);
    assert.equal(idempotentEventId('evt_1:flow:0'), a);
    assert.notEqual(idempotentEventId('evt_1:flow:1'), a);
  });
  test('a day in Hong Kong is 16:00Z to 16:00Z', () => {
    assert.deepEqual(dayBounds('2026-03-02', 'Asia/Hong_Kong'), {
      timeMin: '2026-03-01T16:00:00.000Z',
      timeMax: '2026-03-02T16:00:00.000Z',
      date: '2026-03-02',
    });
    assert.equal(dayBounds('today', 'Asia/Hong_Kong', new Date('2026-03-01T23:30:00Z')).date, '2026-03-02');
  });
  test('push channels only for an https PUBLIC_URL unless GOOGLE_PUSH_ALLOW_HTTP=true', () => {
    const before = process.env.GOOGLE_PUSH_ALLOW_HTTP;
    try {
      delete process.env.GOOGLE_PUSH_ALLOW_HTTP;
      assert.equal(pushWanted('https://hub.example.com'), true);
      assert.equal(pushWanted('http://127.0.0.1:8080'), false);
      assert.equal(pushWanted(undefined), false);
      process.env.GOOGLE_PUSH_ALLOW_HTTP = 'true';
      assert.equal(pushWanted('http://127.0.0.1:8080'), true);
    } finally {
      if (before === undefined) delete process.env.GOOGLE_PUSH_ALLOW_HTTP;
      else process.env.GOOGLE_PUSH_ALLOW_HTTP = before;
    }
  });
  test('scopes follow what the flows use', () => {
    const none = scopesForUse({ actions: [], events: [] });
    assert.ok(none.includes(SCOPES.calendar) && none.includes('openid') && none.includes('email'));
    const drive = scopesForUse({ actions: ['google.drive.upload'], events: [] });
    assert.ok(drive.includes(SCOPES.drive) && !drive.includes(SCOPES.calendar));
    const cal = scopesForUse({ actions: ['google.calendar.create_event'], events: ['google.calendar.event.*'] });
    assert.ok(cal.includes(SCOPES.calendar) && !cal.includes(SCOPES.drive));
    assert.ok(scopesForUse({ actions: [], events: ['google.*'] }).includes(SCOPES.gmailReadonly));
    // The KPI feed appends to a Google Sheet: a connect for it asks for Sheets (and nothing of Calendar).
    const sheets = scopesForUse({ actions: ['google.sheets.append_values'], events: [] });
    assert.ok(sheets.includes(SCOPES.sheets) && !sheets.includes(SCOPES.calendar) && !sheets.includes(SCOPES.drive));
  });
});

describe('calendar recipes', () => {
  test('both recipes load and make valid flows; the invitation condition and the agenda template render', async () => {
    const { loadRecipes, instantiateRecipe } = await import('../../config/recipes.ts');
    const { flowSchema, templateScope } = await import('../../core/flows.ts');
    const { renderMapping, evaluateCondition } = await import('../../core/templating.ts');
    const recipes = new Map(loadRecipes().map((r) => [r.id, r]));
    const invite = recipes.get('google-calendar-invite-to-dingtalk')!;
    const agenda = recipes.get('google-calendar-daily-agenda-to-dingtalk')!;
    assert.ok(invite && agenda);
    const inviteFlow = flowSchema.parse(instantiateRecipe(invite, 'invite', { google: 'g', dingtalk: 'd' }));
    assert.deepEqual(inviteFlow.when.params, { calendarId: 'primary' });
    const event = (attendeeIds: unknown) =>
      ({
        id: 'e1',
        type: 'google.calendar.event.created',
        source: 'g',
        data: {
          ...calendarEvent(
            'primary',
            {
              id: 'evt00001',
              etag: '"1"',
              summary: 'Review',
              start: { date: '2026-03-02' },
              end: { date: '2026-03-03' },
              htmlLink: 'https://calendar.google.com/x',
            },
            undefined,
          ).data,
          attendeeIds,
        },
      }) as never;
    assert.equal(await evaluateCondition(inviteFlow.when.condition!, templateScope(event({}))), false, 'no DingTalk attendee: no message');
    const withUsers = templateScope(event({ dingtalk: { userId: ['u1', 'u2'] } }));
    assert.equal(await evaluateCondition(inviteFlow.when.condition!, withUsers), true);
    const input = (await renderMapping(inviteFlow.then[0]!.input, withUsers)) as Record<string, unknown>;
    assert.deepEqual(input.userIds, ['u1', 'u2']);
    assert.match(String(input.text), /\*\*Review\*\*[\s\S]*2026-03-02 \(all day\)[\s\S]*calendar\.google\.com/);

    const agendaFlow = flowSchema.parse(instantiateRecipe(agenda, 'agenda', { google: 'g', dingtalk: 'd', userId: 'u1' }));
    assert.deepEqual(agendaFlow.when.params, { cron: '30 8 * * *', timezone: 'Asia/Hong_Kong' });
    const out = { date: '2026-03-02', count: 2, agenda: 'All day Holiday\n10:00–11:00 Review' };
    const msg = (await renderMapping(
      agendaFlow.then[1]!.input,
      templateScope({ id: 'e', type: 'schedule.fired', data: {} } as never, [out]),
    )) as any;
    assert.deepEqual(msg.userIds, ['u1']);
    assert.match(msg.text, /Today \(2026-03-02\)[\s\S]*All day Holiday[\s\S]*10:00–11:00 Review/);
  });
});
