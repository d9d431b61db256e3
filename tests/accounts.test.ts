import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import { TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import { Client } from './helpers/client.ts';
import type { Hub } from '../app/hub.ts';

const available = await services();

const bearer = (base: string, method: string, p: string, body?: unknown) =>
  fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  }).then(async (r) => ({ status: r.status, json: (await r.json().catch(() => undefined)) as any }));

describe('accounts, sessions, CSRF, roles, 2FA, audit', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;
  const owner = { email: 'owner@example.com', password: 'correct horse battery' };

  before(async () => {
    environment = await prepareEnvironment({ name: 'accounts', store: 'external', queue: 'postgres' }, 'accounts');
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await environment?.cleanup();
  });

  test('first run: the status says setup is needed; setup creates the owner and signs in with a secure cookie', async () => {
    const c = new Client(hub.url!);
    const status = await c.call('GET', '/api/v1/auth/status');
    assert.equal(status.status, 200);
    assert.equal(status.json.setupRequired, true);
    assert.equal(status.json.user, null);

    const weak = await c.call('POST', '/api/v1/auth/setup', { email: owner.email, password: 'short', setupCode: TEST_ADMIN_TOKEN });
    assert.equal(weak.status, 400);
    assert.equal(weak.json.error.code, 'invalid_request');

    const unguarded = await c.call('POST', '/api/v1/auth/setup', { ...owner, name: 'Olivia Owner' });
    assert.equal(unguarded.status, 403, 'setup needs the admin token when one is set');
    const setup = await c.call('POST', '/api/v1/auth/setup', { ...owner, name: 'Olivia Owner', setupCode: TEST_ADMIN_TOKEN });
    assert.equal(setup.status, 201, JSON.stringify(setup.json));
    assert.equal(setup.json.user.role, 'owner');
    const cookie = setup.headers.getSetCookie().find((x) => x.startsWith('dingbridge.sid='))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.ok(c.csrf.length > 20);

    const again = await new Client(hub.url!).call('POST', '/api/v1/auth/setup', {
      email: 'other@example.com',
      password: 'another long password',
    });
    assert.equal(again.status, 409, 'setup only works once');

    const me = await c.call('GET', '/api/v1/auth/status');
    assert.equal(me.json.setupRequired, false);
    assert.equal(me.json.user.email, owner.email);
    const [row] = await queryHub<{ password_hash: string }>(environment, 'select password_hash from users where email = $1', [owner.email]);
    assert.match(row!.password_hash, /^scrypt\$/);
  });

  test('sign-in, CSRF on every state-changing call, sign-out', async () => {
    const c = new Client(hub.url!);
    const bad = await c.call('POST', '/api/v1/auth/login', { email: owner.email, password: 'wrong password!' });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.code, 'invalid_credentials');
    const ok = await c.call('POST', '/api/v1/auth/login', owner);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));

    const flow = {
      id: 'csrf-probe',
      when: { event: 'catch_hook.received' },
      then: [{ action: 'http.post', input: { url: 'https://example.org/x', body: '{}' } }],
    };
    const refused = await c.call('POST', '/api/v1/flows', flow, { csrf: false });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, 'csrf_failed');
    const wrong = await c.call('POST', '/api/v1/flows', flow, { csrf: false, headers: { 'x-csrf-token': 'not-the-token' } });
    assert.equal(wrong.status, 403);
    const accepted = await c.call('POST', '/api/v1/flows', flow);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.json));
    // The existing connections API is protected the same way.
    const conn = await c.call('POST', '/api/v1/connections', { connector: 'http' }, { csrf: false });
    assert.equal(conn.status, 403);
    // Reads need no token; Bearer callers are not cookie-based and need none.
    assert.equal((await c.call('GET', '/api/v1/flows', undefined, { csrf: false })).status, 200);
    assert.equal((await bearer(hub.url!, 'POST', '/api/v1/flows/csrf-probe/disable')).status, 200);

    const noCsrfLogout = await c.call('POST', '/api/v1/auth/logout', undefined, { csrf: false });
    assert.equal(noCsrfLogout.status, 403);
    const out = await c.call('POST', '/api/v1/auth/logout');
    assert.equal(out.status, 204);
    assert.equal((await c.call('GET', '/api/v1/flows')).status, 401, 'the session is gone');
  });

  test('roles: a viewer sees no credentials and changes nothing; only owners manage users', async () => {
    const o = new Client(hub.url!);
    await o.call('POST', '/api/v1/auth/login', owner);
    for (const [email, role] of [
      ['viewer@example.com', 'viewer'],
      ['admin@example.com', 'admin'],
    ]) {
      const created = await o.call('POST', '/api/v1/users', { email, role, password: 'a long enough password' });
      assert.equal(created.status, 201, JSON.stringify(created.json));
    }
    await o.call('POST', '/api/v1/connections', {
      id: 'api-secret',
      connector: 'oauth2',
      settings: { authorizationUrl: 'https://a.example/auth', tokenUrl: 'https://a.example/token', clientId: 'c' },
      secrets: { clientSecret: 'very-secret-value-1234' },
    });

    const v = new Client(hub.url!);
    assert.equal(
      (await v.call('POST', '/api/v1/auth/login', { email: 'viewer@example.com', password: 'a long enough password' })).status,
      200,
    );
    const list = await v.call('GET', '/api/v1/connections');
    assert.equal(list.status, 200);
    assert.equal(list.json.connections[0].secrets, undefined, 'no credential detail for a viewer');
    assert.equal((await v.call('PATCH', '/api/v1/connections/api-secret', { secrets: { clientSecret: 'x' } })).status, 403);
    assert.equal((await v.call('PUT', '/api/v1/flows/csrf-probe', { when: { event: 'x' }, then: [{ action: 'http.post' }] })).status, 403);
    assert.equal((await v.call('POST', '/api/v1/flows/csrf-probe/enable')).status, 403);
    assert.equal((await v.call('GET', '/api/v1/users')).status, 403);
    assert.equal((await v.call('GET', '/api/v1/audit')).status, 403);

    const a = new Client(hub.url!);
    await a.call('POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'a long enough password' });
    assert.equal((await a.call('GET', '/api/v1/users')).status, 403, 'admins do not manage users');
    assert.equal((await a.call('POST', '/api/v1/api-keys', { label: 'x', scopes: ['hooks:read'] })).status, 403, 'nor keys');
    assert.equal((await a.call('POST', '/api/v1/flows/csrf-probe/enable')).status, 200);

    const users = await o.call('GET', '/api/v1/users');
    const ownerRow = users.json.items.find((u: any) => u.role === 'owner');
    const demote = await o.call('PATCH', `/api/v1/users/${ownerRow.id}`, { role: 'admin' });
    assert.equal(demote.status, 409, 'the last owner stays');
    const viewer = users.json.items.find((u: any) => u.role === 'viewer');
    assert.equal((await o.call('PATCH', `/api/v1/users/${viewer.id}`, { disabled: true })).status, 200);
    assert.equal((await v.call('GET', '/api/v1/connections')).status, 401, 'a disabled user is signed out at once');
  });

  test('TOTP two-factor: setup with a QR code, sign-in needs a code, recovery codes work once; the owner can require it', async () => {
    const c = new Client(hub.url!);
    await c.call('POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'a long enough password' });
    const setup = await c.call('POST', '/api/v1/auth/2fa/setup');
    assert.equal(setup.status, 200);
    assert.match(setup.json.qrDataUrl, /^data:image\/svg\+xml;base64,/);
    assert.match(setup.json.otpauthUrl, /^otpauth:\/\/totp\//);
    const secret = setup.json.secret as string;
    assert.equal((await c.call('POST', '/api/v1/auth/2fa/enable', { code: '000000' })).status, 400);
    const enabled = await c.call('POST', '/api/v1/auth/2fa/enable', { code: generateSync({ secret }) });
    assert.equal(enabled.status, 200);
    assert.equal(enabled.json.recoveryCodes.length, 10);
    const [stored] = await queryHub<{ totp_secret: string; recovery_codes: string[] }>(
      environment,
      "select totp_secret, recovery_codes from users where email = 'admin@example.com'",
    );
    assert.ok(!stored!.totp_secret.includes(secret), 'the TOTP secret is sealed');
    assert.ok(!JSON.stringify(stored!.recovery_codes).includes(enabled.json.recoveryCodes[0]), 'recovery codes are hashed');

    const d = new Client(hub.url!);
    const needs = await d.call('POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'a long enough password' });
    assert.equal(needs.status, 401);
    assert.equal(needs.json.error.code, 'totp_required');
    // Each code works once: the next window's code (one window ahead is accepted) signs in, and is refused the second time.
    const nextCode = generateSync({ secret, epoch: (Math.floor(Date.now() / 30_000) + 1) * 30 });
    assert.equal(
      (await d.call('POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'a long enough password', code: nextCode }))
        .status,
      200,
    );
    const replayed = await new Client(hub.url!).call('POST', '/api/v1/auth/login', {
      email: 'admin@example.com',
      password: 'a long enough password',
      code: nextCode,
    });
    assert.equal(replayed.status, 401, 'a used TOTP code is refused');
    assert.equal(replayed.json.error.code, 'invalid_code');
    const rc = enabled.json.recoveryCodes[0];
    assert.equal(
      (
        await new Client(hub.url!).call('POST', '/api/v1/auth/login', {
          email: 'admin@example.com',
          password: 'a long enough password',
          code: rc,
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await new Client(hub.url!).call('POST', '/api/v1/auth/login', {
          email: 'admin@example.com',
          password: 'a long enough password',
          code: rc,
        })
      ).status,
      401,
      'a recovery code works once',
    );

    const o = new Client(hub.url!);
    await o.call('POST', '/api/v1/auth/login', owner);
    assert.equal((await o.call('PUT', '/api/v1/security', { require2fa: true })).status, 200);
    const blocked = await o.call('GET', '/api/v1/flows');
    assert.equal(blocked.status, 403, 'without 2FA the owner must set it up first');
    assert.equal(blocked.json.error.code, 'two_factor_required');
    assert.equal((await o.call('GET', '/api/v1/auth/status')).json.needsTwoFactorSetup, true);
    assert.equal((await d.call('GET', '/api/v1/flows')).status, 200, 'a user with 2FA goes on');
    assert.equal((await bearer(hub.url!, 'PUT', '/api/v1/security', { require2fa: false })).status, 200, 'the admin token is owner-level');
    assert.equal((await o.call('GET', '/api/v1/flows')).status, 200);
  });

  test('sign-in is rate limited per email, across processes (counted in the database)', async () => {
    const c = new Client(hub.url!);
    const email = 'nobody@example.com';
    for (let i = 0; i < 5; i++) assert.equal((await c.call('POST', '/api/v1/auth/login', { email, password: `guess-${i}` })).status, 401);
    const limited = await c.call('POST', '/api/v1/auth/login', { email, password: 'guess-6' });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'too_many_attempts');
  });

  test('the audit log records who did what from where; read-only, CSV export; admin-token use is audited', async () => {
    await bearer(hub.url!, 'POST', '/api/v1/flows/csrf-probe/enable');
    const log = await bearer(hub.url!, 'GET', '/api/v1/audit?limit=500');
    assert.equal(log.status, 200);
    const actions = new Set(log.json.items.map((i: any) => i.action));
    for (const a of [
      'user.owner_created',
      'auth.signed_in',
      'auth.sign_in_failed',
      'auth.signed_out',
      'flow.created',
      'flow.enabled',
      'flow.disabled',
      'user.created',
      'user.updated',
      'connection.created',
      'auth.2fa_enabled',
      'security.require_2fa_changed',
      'auth.recovery_code_used',
      'auth.sign_in_throttled',
    ]) {
      assert.ok(actions.has(a), `audit has ${a}: ${[...actions].join(', ')}`);
    }
    const byToken = log.json.items.find((i: any) => i.actor.kind === 'admin_token' && i.action === 'flow.enabled');
    assert.ok(byToken, 'admin-token actions are audited');
    assert.equal(byToken.ip, '127.0.0.1');
    const signIn = log.json.items.find((i: any) => i.action === 'auth.signed_in');
    assert.equal(signIn.actor.kind, 'session');
    assert.ok(signIn.at);

    const page = await bearer(hub.url!, 'GET', '/api/v1/audit?limit=2');
    assert.equal(page.json.items.length, 2);
    assert.ok(page.json.next);
    const next = await bearer(hub.url!, 'GET', `/api/v1/audit?limit=2&before=${page.json.next}`);
    assert.ok(next.json.items[0].id < page.json.items[1].id);

    const csv = await fetch(`${hub.url}/api/v1/audit.csv`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    const text = await csv.text();
    assert.match(text.split('\r\n')[0]!, /^id,at,actor_kind/);
    assert.match(text, /flow\.created/);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await bearer(hub.url!, method, '/api/v1/audit');
      assert.equal(res.status, 404, `the audit log is read-only (${method})`);
    }

    await queryHub(
      environment,
      "insert into audit_log (at, actor_kind, action) values (now() - interval '181 days', 'test', 'old.entry'), (now() - interval '179 days', 'test', 'recent.entry')",
    );
    const { pruneAudit } = await import('../config/audit.ts');
    assert.equal(await pruneAudit(hub.runtime), 1);
    const left = await queryHub<{ action: string }>(environment, "select action from audit_log where actor_kind = 'test'");
    assert.deepEqual(
      left.map((r) => r.action),
      ['recent.entry'],
      'kept 180 days, pruned after',
    );
  });

  test('secrets never reach responses or the audit log', async () => {
    const dump = JSON.stringify(await queryHub(environment, 'select * from audit_log'));
    assert.equal(dump.includes('very-secret-value-1234'), false);
    assert.equal(dump.includes(owner.password), false);
    assert.equal(dump.includes('a long enough password'), false);
  });
});
