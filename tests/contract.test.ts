import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { defineAction, defineConnector } from '../core/connector.ts';
import { ConnectorRegistry } from '../core/registry.ts';
import { connectors } from '../connectors/index.ts';
import { parseConfig, ConfigError } from '../config/load.ts';
import { catalog } from '../config/flows-api.ts';
import type { Runtime } from '../core/runtime.ts';
import { classifyAnswer, createProviderClient } from '../core/http/provider-client.ts';
import { DEFAULT_TRELLO_BASE_URL, TRELLO_RULES } from '../connectors/trello/client.ts';
import { trelloFields } from '../connectors/trello/fields.ts';
import { typedSettings } from '../core/auth-kinds.ts';
import { ROBOT_RULES } from '../connectors/dingtalk/robot-send.ts';

/** The typed connector contract (issue 12, item 8) and the provider client's rules (item 7): no services needed. */
describe('connector contract', () => {
  const action = (id: string) =>
    defineAction({ id, title: id, input: z.object({}), output: z.object({ ok: z.boolean() }), run: async () => ({ ok: true }) });

  test('defineAction keeps its types: the output schema and run must agree', () => {
    const a = defineAction({
      id: 'x.y',
      title: 'y',
      input: z.object({ n: z.number() }),
      output: z.object({ twice: z.number() }),
      run: async (_ctx, input) => ({ twice: input.n * 2 }),
    });
    defineAction({
      id: 'x.z',
      title: 'z',
      input: z.object({}),
      output: z.object({ twice: z.number() }),
      // @ts-expect-error run's output does not match the declared output schema
      run: async () => ({ twice: 'two' }),
    });
    const ref = a.outputRef; // typed as (output: { twice: number }) => …
    assert.equal(ref, undefined);
  });

  test("connection settings are typed from the connector's auth fields", () => {
    const s = typedSettings(trelloFields, { apiKey: 'k', token: 'must not appear', other: 1 });
    assert.equal(s.apiKey, 'k');
    assert.equal(s.baseUrl, DEFAULT_TRELLO_BASE_URL, 'the field default');
    // @ts-expect-error a secret field is not a setting
    assert.equal(s.token, undefined);
    // @ts-expect-error no such field
    assert.equal(s.baseURL, undefined);
  });

  test('duplicate action or trigger ids are refused at start', () => {
    const one = defineConnector({
      id: 'one',
      name: 'One',
      auth: { kind: 'none' },
      triggers: [{ id: 'one.t', title: 't', events: ['e'], kind: 'webhook' }],
      actions: [action('one.a')],
    });
    const two = defineConnector({
      id: 'two',
      name: 'Two',
      auth: { kind: 'none' },
      actionPrefix: 'one',
      triggers: [],
      actions: [action('one.a')],
    });
    assert.throws(() => new ConnectorRegistry([one, two]), /action one\.a is declared twice/);
    const three = defineConnector({
      id: 'three',
      name: 'Three',
      auth: { kind: 'none' },
      triggers: [{ id: 'one.t', title: 't', events: ['e'], kind: 'webhook' }],
      actions: [],
    });
    assert.throws(() => new ConnectorRegistry([one, three]), /trigger one\.t is declared twice/);
    assert.doesNotThrow(() => new ConnectorRegistry(connectors));
  });

  test('which actions need a connection, and of which connector; the catalog shows it with the output schema', () => {
    const registry = new ConnectorRegistry(connectors);
    assert.deepEqual(registry.connectionNeed('trello.card.create'), { required: true, connectors: ['trello'] });
    assert.deepEqual(registry.connectionNeed('dingtalk.robot.send'), { required: true, connectors: ['dingtalk_robot'] });
    assert.deepEqual(registry.connectionNeed('http.post'), { required: false, connectors: [] });
    const card = catalog({ registry } as Runtime)
      .connectors.find((c) => c.id === 'trello')!
      .actions.find((a) => a.id === 'trello.card.create')!;
    assert.deepEqual(Object.keys((card.outputSchema as { properties: object }).properties).sort(), [
      'closed',
      'due',
      'id',
      'idBoard',
      'idList',
      'name',
      'url',
    ]);
    assert.equal(card.needsConnection.required, true);
  });

  test('the config file refuses a step without the connection its action needs, or with one of another connector', () => {
    const registry = new ConnectorRegistry(connectors);
    const checks = { actionIds: registry.actionIds(), connectionNeed: (id: string) => registry.connectionNeed(id) };
    const yaml = `
connections:
  - { id: board, connector: trello, settings: { apiKey: k } }
flows:
  - id: a
    when: { event: catch_hook.received }
    then:
      - action: trello.card.create
        input: { list: l, name: n }
      - action: dingtalk.robot.send
        connection: board
        input: { text: hi }
      - action: http.post
        input: { url: "https://example.org", body: {} }
`;
    assert.throws(
      () => parseConfig(yaml, 'c.yaml', {}, checks),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => [p.path, p.line]),
          [
            ['flows.0.then.0.connection', 8],
            ['flows.0.then.1.connection', 11],
          ],
        );
        assert.match(err.problems[0]!.message, /trello\.card\.create needs a connection \(a trello connection\)/);
        assert.match(err.problems[1]!.message, /needs a dingtalk_robot connection; board is a trello connection/);
        return true;
      },
    );
  });
});

describe('provider client rules', () => {
  const headers = (h: Record<string, string>) => (n: string) => h[n.toLowerCase()];
  test('Trello: 429 waits the window its headers give; 5xx retries; 401 needs re-authorisation; other 4xx are permanent', () => {
    const throttled = classifyAnswer(
      429,
      'slow down',
      headers({ 'x-rate-limit-api-token-interval-ms': '1500' }),
      TRELLO_RULES,
      'Trello POST /1/cards',
    )!;
    assert.equal(throttled.errorClass, 'retryable');
    assert.equal(throttled.details.retryAfterMs, 1500);
    assert.equal(classifyAnswer(429, '', headers({ 'retry-after': '3' }), TRELLO_RULES, 'x')!.details.retryAfterMs, 3000);
    assert.equal(classifyAnswer(503, '', headers({}), TRELLO_RULES, 'x')!.errorClass, 'retryable');
    assert.equal(classifyAnswer(401, 'invalid token', headers({}), TRELLO_RULES, 'x')!.errorClass, 'needs_reauth');
    assert.equal(classifyAnswer(400, 'invalid value for idList', headers({}), TRELLO_RULES, 'x')!.errorClass, 'permanent');
    assert.equal(classifyAnswer(200, { id: 'c1' }, headers({}), TRELLO_RULES, 'x'), undefined);
  });

  test('DingTalk robot: errcode 0 is success, 130101 is throttled, a bad signature needs re-authorisation', () => {
    assert.equal(classifyAnswer(200, { errcode: 0, errmsg: 'ok' }, headers({}), ROBOT_RULES, 'x'), undefined);
    const fast = classifyAnswer(200, { errcode: 130101, errmsg: 'send too fast' }, headers({}), ROBOT_RULES, 'x')!;
    assert.equal(fast.errorClass, 'retryable');
    assert.ok(fast.details.retryAfterMs! >= 60_000);
    assert.equal(
      classifyAnswer(200, { errcode: 310000, errmsg: 'sign not match' }, headers({}), ROBOT_RULES, 'x')!.errorClass,
      'needs_reauth',
    );
    assert.equal(classifyAnswer(429, '', headers({}), ROBOT_RULES, 'x')!.errorClass, 'retryable');
  });

  test('body codes and window headers as data (e.g. X-BurstLimit-*), and calls outside the allowed origins refused before sending', async () => {
    const rules = {
      codePath: 'error.code',
      throttledCodes: ['ThrottleExceeded'],
      expiredCodes: ['AuthenticationFailed'],
      waitHeaders: [{ name: 'x-burstlimit-reset', unit: 's' as const }],
    };
    const t = classifyAnswer(400, { error: { code: 'ThrottleExceeded' } }, headers({ 'x-burstlimit-reset': '2' }), rules, 'x')!;
    assert.deepEqual([t.errorClass, t.details.retryAfterMs], ['retryable', 2000]);
    assert.equal(classifyAnswer(400, { error: { code: 'AuthenticationFailed' } }, headers({}), rules, 'x')!.errorClass, 'needs_reauth');
    const client = createProviderClient({ name: 'Example', baseUrl: 'https://api.example.org/v1' });
    await assert.rejects(
      client.request({ url: 'http://127.0.0.1:1/steal' }),
      (err: Error & { errorClass?: string }) => err.errorClass === 'permanent' && /allowed: https:\/\/api\.example\.org/.test(err.message),
    );
  });
});
