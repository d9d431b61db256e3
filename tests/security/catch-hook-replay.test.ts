import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { prepareEnvironment, startTestHub, tempDir, writeConfig, TEST_ADMIN_TOKEN, type Environment } from '../helpers/hub.ts';
import { queryHub } from '../helpers/hub-db.ts';
import { services } from '../helpers/services.ts';
import type { Hub } from '../../app/hub.ts';

// Finding 11: an HMAC catch hook stored the same signed body twice as two events (an eavesdropper could
// replay a signed request at will, even with a fresh Idempotency-Key). Now each signed body is accepted
// once per window, and `hmac_timestamped` bounds how old a signed request may be.
const available = await services();
const SECRET = 'an-hmac-secret-for-replays';
const CONFIG = `
version: 1
hooks:
  - id: plain
    verify: { type: hmac, header: X-Signature, secret: "${SECRET}" }
  - id: stamped
    verify: { type: hmac_timestamped, header: X-Signature, timestampHeader: X-Timestamp, secret: "${SECRET}" }
`;
const hmac = (text: string, secret = SECRET) => crypto.createHmac('sha256', secret).update(text).digest('hex');

describe('HMAC catch hooks refuse replays (finding 11)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;
  const post = async (hook: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${hub.url}/hooks/catch/${hook}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const stored = async (marker: string) =>
    Number(
      (
        await queryHub(environment, `select count(*)::int as n from events where type = 'catch_hook.received' and data->>'marker' = $1`, [
          marker,
        ])
      )[0]!.n,
    );

  before(async () => {
    environment = await prepareEnvironment({ name: 'replay', store: 'external', queue: 'postgres' }, 'hook-replay');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('hook-replay-config'), CONFIG);
    hub = await startTestHub(environment, { workers: false });
  });
  after(async () => {
    await hub?.stop();
    await environment?.cleanup();
  });

  test('hmac: the same signed body again is a duplicate, whatever Idempotency-Key the replayer adds', async () => {
    const body = JSON.stringify({ marker: 'plain-1', amount: 900 });
    const first = await post('plain', body, { 'x-signature': hmac(body) });
    assert.equal(first.status, 200);
    assert.equal(first.json.duplicate, false);
    const replay = await post('plain', body, { 'x-signature': hmac(body) });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.json, { id: first.json.id, duplicate: true }, "answered like any repeat: the first event's id, duplicate");
    const withKey = await post('plain', body, { 'x-signature': hmac(body), 'idempotency-key': 'fresh-key-1' });
    assert.equal(withKey.json.duplicate, true);
    assert.equal(await stored('plain-1'), 1, 'one event stored');
    const other = JSON.stringify({ marker: 'plain-1', amount: 901 });
    assert.equal((await post('plain', other, { 'x-signature': hmac(other) })).json.duplicate, false, 'another body is a new event');
  });

  test('hmac_timestamped: a fresh request is accepted once; stale, future, unsigned-timestamp or replayed ones are not', async () => {
    const body = JSON.stringify({ marker: 'stamped-1' });
    const now = Math.floor(Date.now() / 1000);
    const sign = (at: number) => ({ 'x-timestamp': String(at), 'x-signature': hmac(`${at}.${body}`) });
    const first = await post('stamped', body, sign(now));
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.duplicate, false);
    assert.equal((await post('stamped', body, sign(now))).json.duplicate, true, 'the same signed request again');
    const old = await post('stamped', body, sign(now - 600));
    assert.equal(old.status, 401);
    assert.equal(old.json.error.code, 'timestamp_out_of_tolerance');
    assert.equal((await post('stamped', body, sign(now + 600))).status, 401);
    const moved = await post('stamped', body, { 'x-timestamp': String(now - 1), 'x-signature': hmac(`${now}.${body}`) });
    assert.equal(moved.status, 401, 'the timestamp is covered by the signature');
    assert.equal((await post('stamped', body, { 'x-signature': hmac(`${now}.${body}`) })).json.error.code, 'timestamp_missing');
    const resent = await post('stamped', body, sign(now + 1));
    assert.equal(resent.json.duplicate, false, 'the sender re-signing the same body later is a new request');
    assert.equal(await stored('stamped-1'), 2);
  });

  test('a hook made through the API with hmac_timestamped works the same', async () => {
    const res = await fetch(`${hub.url}/api/v1/catch-hooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'api-stamped', verify: { type: 'hmac_timestamped' } }),
    });
    const created = (await res.json()) as any;
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.verify.timestamp_header, 'X-Timestamp');
    const body = JSON.stringify({ marker: 'api-1' });
    const at = Math.floor(Date.now() / 1000);
    const headers = { 'x-timestamp': String(at), 'x-signature': hmac(`${at}.${body}`, created.secret) };
    assert.equal((await post('api-stamped', body, headers)).json.duplicate, false);
    assert.equal((await post('api-stamped', body, headers)).json.duplicate, true);
    assert.equal(await stored('api-1'), 1);
  });
});
