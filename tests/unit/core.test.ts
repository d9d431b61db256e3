import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDurationList, parseDuration, parseDurationList } from '../../core/durations.ts';
import { eventTypeMatches, flowMatches, flowSchema } from '../../core/flows.ts';
import { checkUrl, addressKind, EgressError, parseEgressAllow } from '../../core/net/egress.ts';
import { retryDelayMs } from '../../core/pipeline/retry-policy.ts';
import { redact } from '../../core/redact.ts';
import { checkCondition, checkMapping, evaluateCondition, renderMapping, TemplateError } from '../../core/templating.ts';
import type { HubEvent } from '../../core/events.ts';

describe('durations', () => {
  test('units, bare milliseconds and lists', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration(' 1.5m '), 90_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('400'), 400);
    assert.throws(() => parseDuration('5 minutes'), /is not a duration/);
    assert.deepEqual(parseDurationList('0,5s, 5m'), [0, 5000, 300_000]);
    assert.equal(isDurationList(''), false);
    assert.equal(isDurationList('1s,x'), false);
  });
});

describe('retry policy', () => {
  test('full jitter between half and the whole of base × 2^(attempt-1), capped; Retry-After wins', () => {
    const opts = { baseMs: 1000, maxMs: 10_000 };
    assert.equal(
      retryDelayMs(1, opts, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, opts, () => 1),
      1000,
    );
    assert.equal(
      retryDelayMs(3, opts, () => 1),
      4000,
    );
    assert.equal(
      retryDelayMs(10, opts, () => 1),
      10_000,
      'capped at maxMs',
    );
    assert.equal(
      retryDelayMs(10, opts, () => 0),
      5000,
    );
    assert.equal(retryDelayMs(2, { ...opts, retryAfterMs: 30_000 }), 30_000, "a provider's Retry-After beyond the cap is honoured");
    assert.equal(retryDelayMs(2, { ...opts, retryAfterMs: -5 }), 0);
  });
});

describe('egress address classification (what must stay refused)', () => {
  const none = parseEgressAllow('');
  test('loopback, private and metadata addresses are refused; public ones pass', () => {
    for (const [ip, kind] of [
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['192.168.0.5', 'private'],
      ['169.254.169.254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['::ffff:10.0.0.1', 'private'],
    ]) {
      assert.equal(addressKind(ip!), kind, ip);
    }
    assert.equal(addressKind('93.184.216.34'), undefined);
    for (const url of ['http://127.0.0.1:3000/', 'http://10.0.0.8/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/'])
      assert.throws(() => checkUrl(url, none), EgressError, url);
    assert.equal(checkUrl('https://93.184.216.34/hook', none).hostname, '93.184.216.34');
    assert.equal(checkUrl('https://hooks.example.com/x', none).hostname, 'hooks.example.com', 'names are checked when resolved, not here');
  });
  test('an allow list lets named addresses through, and only those', () => {
    const allow = parseEgressAllow('127.0.0.1, 10.0.0.0/8');
    assert.equal(checkUrl('http://127.0.0.1:9/', allow).port, '9');
    assert.ok(checkUrl('http://10.20.30.40/', allow));
    assert.throws(() => checkUrl('http://192.168.1.1/', allow), EgressError);
    assert.throws(() => parseEgressAllow('10.0.0.0/33'), /bad prefix/);
  });
});

describe('templating', () => {
  const scope = { data: { name: 'Chan Tai Man', amount: 250, tags: ['a', 'b'] } };
  test('a lone expression keeps its type; text renders to a string; nested mappings render throughout', async () => {
    assert.deepEqual(
      await renderMapping({ n: '{{ data.amount }}', t: 'Hi {{ data.name }}', list: ['{{ data.tags }}', 7], k: true }, scope),
      { n: 250, t: 'Hi Chan Tai Man', list: [['a', 'b'], 7], k: true },
    );
  });
  test('conditions are bare Liquid expressions', async () => {
    assert.equal(await evaluateCondition('data.amount > 100 and data.name contains "Chan"', scope), true);
    assert.equal(await evaluateCondition('data.amount > 1000', scope), false);
    assert.throws(() => checkCondition('{{ data.amount }} > 1'), TemplateError);
  });
  test('a template that does not parse is reported with its path; unknown filters and file includes are refused', async () => {
    assert.deepEqual(checkMapping({ a: { b: ['ok', '{{ oops'] } })?.path, ['a', 'b', '1']);
    assert.equal(checkMapping({ a: '{{ data.name }}' }), undefined);
    await assert.rejects(renderMapping('{{ data.name | nosuchfilter }}', scope));
    await assert.rejects(renderMapping('{% include "/etc/passwd" %}', scope));
  });
  test('only own properties are visible to templates', async () => {
    assert.equal(await renderMapping('{{ data.constructor }}', scope), undefined);
  });
});

describe('flows: matching', () => {
  const event = (type: string, data: Record<string, unknown>): HubEvent => ({
    id: 'evt_1',
    type,
    source: 'conn_1',
    connectionId: 'conn_1',
    occurredAt: '2026-12-04T00:00:00Z',
    subject: null,
    data,
  });
  const flow = (when: Record<string, unknown>) => flowSchema.parse({ id: 'f', when, then: [{ action: 'http.post' }] });
  test('event patterns with *', () => {
    assert.ok(eventTypeMatches('trello.card.*', 'trello.card.moved'));
    assert.ok(!eventTypeMatches('trello.card.*', 'trello.list.created'));
    assert.ok(eventTypeMatches('*', 'anything'));
    assert.ok(!eventTypeMatches('trello.card', 'trello.card.moved'));
  });
  test('params match data.<key> or data.<key>.id; source and condition filter too', async () => {
    const e = event('trello.card.moved', { board: { id: 'b1' }, amount: 5 });
    assert.equal(await flowMatches(flow({ event: 'trello.card.*', params: { board: 'b1' } }), e), true);
    assert.equal(await flowMatches(flow({ event: 'trello.card.*', params: { board: 'b2' } }), e), false);
    assert.equal(await flowMatches(flow({ event: 'trello.card.moved', source: 'other' }), e), false);
    assert.equal(await flowMatches(flow({ event: 'trello.card.moved', condition: 'data.amount > 3' }), e), true);
    assert.equal(await flowMatches({ ...flow({ event: 'trello.card.moved' }), enabled: false }, e), false);
  });
});

describe('redaction', () => {
  test('secret-looking keys are replaced at any depth', () => {
    assert.deepEqual(
      redact({ a: 1, headers: { Authorization: 'Bearer x', 'x-api-key': 'k' }, list: [{ client_secret: 's', sign: 'v' }] }),
      {
        a: 1,
        headers: { Authorization: '[redacted]', 'x-api-key': '[redacted]' },
        list: [{ client_secret: '[redacted]', sign: '[redacted]' }],
      },
    );
  });
});
