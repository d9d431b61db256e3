import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { MODES, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';
import { ADMIN_TOKEN, api } from './helpers/api.ts';
import type { Hub } from '../app/hub.ts';

const CONFIG = `
version: 1
hooks:
  - id: from-file
    verify: { type: token, token: "a-path-token-of-enough-length" }
    response: { status: 202, body: { received: true } }
  - id: sw-file
    verify: { type: standard_webhooks, secret: "whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}" }
`;

describe('catch hooks through the admin API, verification options, actions API (default mode)', () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let key: string;
  const send = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  before(async () => {
    sink = await startSink();
    environment = await prepareEnvironment(MODES[0]!, 'catchadmin', { DINGBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN });
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('catchadmin-config'), CONFIG);
    hub = await startTestHub(environment);
    key = (
      await api(hub, 'POST', '/api/v1/api-keys', { label: 'hooks admin', scopes: ['catch_hooks:read', 'catch_hooks:write', 'actions:run'] })
    ).json.key;
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test('config file: a token in the path, a configured response, and Standard Webhooks', async () => {
    const ok = await send('/hooks/catch/from-file/a-path-token-of-enough-length', '{"a":1}');
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { received: true });
    assert.equal((await send('/hooks/catch/from-file/wrong-token-wrong-token', '{}')).status, 401);
    const missing = await send('/hooks/catch/from-file', '{}');
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as any).error.code, 'token_missing');

    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const body = '{"order":"SO-77"}';
    const at = new Date();
    const signed = {
      'webhook-id': 'msg_sw_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_sw_1', at, body),
    };
    const first = await send('/hooks/catch/sw-file', body, signed);
    assert.equal(first.status, 200);
    const again = await send('/hooks/catch/sw-file', body, signed);
    assert.equal(((await again.json()) as any).duplicate, true, 'the webhook-id de-duplicates');
    const tampered = await send('/hooks/catch/sw-file', '{"order":"SO-78"}', signed);
    assert.equal(tampered.status, 401);
    assert.equal((await send('/hooks/catch/sw-file', body)).status, 401);
  });

  test('create (secret shown once, sealed), use, rotate, list, delete — HMAC with a chosen header and base64', async () => {
    const created = await api(
      hub,
      'POST',
      '/api/v1/catch-hooks',
      { id: 'shop', name: 'Web shop', verify: { type: 'hmac', header: 'X-Shop-Signature', encoding: 'base64' }, id_field: 'order.id' },
      key,
    );
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const secret = created.json.secret as string;
    assert.ok(secret.length >= 32);
    assert.equal(created.json.url, `${hub.url}/hooks/catch/shop`);
    const [row] = await queryHub<{ secret: string }>(environment, 'select secret from catch_hooks where id = $1', ['shop']);
    assert.ok(row!.secret.startsWith('v1.') && !row!.secret.includes(secret), 'stored sealed');

    const body = JSON.stringify({ order: { id: 'A-1' }, total: 99 });
    const sig = (s: string, b: string) => crypto.createHmac('sha256', s).update(b).digest('base64');
    const res = await send('/hooks/catch/shop', body, { 'X-Shop-Signature': sig(secret, body) });
    assert.equal(res.status, 200);
    const { id } = (await res.json()) as { id: string };
    await waitUntil(async () => (await queryHub(environment, 'select 1 from events where id = $1', [id])).length === 1, 'event stored');
    assert.equal((await send('/hooks/catch/shop', body, { 'X-Shop-Signature': sig('wrong', body) })).status, 401);

    const listed = await api(hub, 'GET', '/api/v1/catch-hooks', undefined, key);
    assert.ok(listed.json.items.some((h: any) => h.id === 'shop'));
    assert.ok(!JSON.stringify(listed.json).includes(secret), 'secrets never listed');

    const rotated = await api(hub, 'POST', '/api/v1/catch-hooks/shop/rotate', undefined, key);
    assert.equal(rotated.status, 200);
    const body2 = JSON.stringify({ order: { id: 'A-2' } });
    assert.equal(
      (await send('/hooks/catch/shop', body2, { 'X-Shop-Signature': sig(secret, body2) })).status,
      401,
      'the old secret stops working',
    );
    assert.equal((await send('/hooks/catch/shop', body2, { 'X-Shop-Signature': sig(rotated.json.secret, body2) })).status, 200);

    assert.equal((await api(hub, 'POST', '/api/v1/catch-hooks', { id: 'shop' }, key)).status, 409);
    assert.equal((await api(hub, 'POST', '/api/v1/catch-hooks', { id: 'from-file' }, key)).status, 409, 'config ids are taken');
    assert.equal((await api(hub, 'DELETE', '/api/v1/catch-hooks/shop', undefined, key)).status, 204);
    assert.equal((await send('/hooks/catch/shop', body2, { 'X-Shop-Signature': sig(rotated.json.secret, body2) })).status, 404);
  });

  test('token and Standard Webhooks hooks from the API; a custom response', async () => {
    const token = await api(
      hub,
      'POST',
      '/api/v1/catch-hooks',
      { verify: { type: 'token' }, response: { status: 201, body: { thanks: 'ok' } } },
      key,
    );
    assert.equal(token.status, 201);
    const res = await fetch(token.json.url_with_token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { thanks: 'ok' });
    assert.equal((await send(`/hooks/catch/${token.json.id}/not-the-token`, '{}')).status, 401);

    const sw = await api(hub, 'POST', '/api/v1/catch-hooks', { verify: { type: 'standard_webhooks' } }, key);
    assert.match(sw.json.secret, /^whsec_/);
    const body = '{"from":"another hub"}';
    const at = new Date();
    const ok = await send(`/hooks/catch/${sw.json.id}`, body, {
      'webhook-id': 'm1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(sw.json.secret).sign('m1', at, body),
    });
    assert.equal(ok.status, 200);

    const bad = await api(hub, 'POST', '/api/v1/catch-hooks', { verify: { type: 'magic' } }, key);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'invalid_request');
    assert.equal((await api(hub, 'POST', '/api/v1/catch-hooks', { response: { status: 500 } }, key)).status, 400);
    assert.equal((await api(hub, 'GET', '/api/v1/catch-hooks', undefined, null)).status, 401);
  });

  test('POST /api/v1/actions/:actionId/run runs a registered action; unknown actions and bad input are clear errors', async () => {
    const ok = await api(hub, 'POST', '/api/v1/actions/http.post/run', { input: { url: sink.url, body: { hello: 'world' } } }, key, {
      'idempotency-key': 'run-1',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.output.status, 200);
    await sink.waitFor(1);
    assert.deepEqual(sink.requests.at(-1)!.json, { hello: 'world' });
    const unknown = await api(hub, 'POST', '/api/v1/actions/nope.send/run', { input: {} }, key);
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /no action "nope\.send" is registered on this hub \(known: .*http\.post/);
    const invalid = await api(hub, 'POST', '/api/v1/actions/http.post/run', { input: { url: 'not a url' } }, key);
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.error.code, 'invalid_input');
    const refused = await api(hub, 'POST', '/api/v1/actions/http.post/run', { input: { url: 'http://10.0.0.1/', body: {} } }, key);
    assert.equal(refused.status, 422);
    assert.match(refused.json.error.message, /refused/);
    const list = await api(hub, 'GET', '/api/v1/actions', undefined, key);
    assert.ok(list.json.items.some((a: any) => a.id === 'http.post' && a.input_schema.properties.url));
  });
});
