import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../app/hub.ts';
import { SEED, startDingtalkFake, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { startGoogleFake } from '../sandbox/google/index.ts';
import { ADMIN_TOKEN, api } from './helpers/api.ts';
import { prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/**
 * People from Google's Directory through a service-account connection (domain-wide delegation, the key
 * sealed in the vault): the dry-run diff (matched by email, then mobile), the sync with departments,
 * titles and managers, and provisioning into DingTalk that sets each account's manager.
 */
const available = await services();

describe('people from the Google Directory', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let gfake: Awaited<ReturnType<typeof startGoogleFake>>;
  let dfake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  let gbase: string;
  const gcontrol = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${gbase}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  before(async () => {
    gfake = await startGoogleFake();
    gbase = gfake.baseUrl();
    dfake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    const dbase = dfake.baseUrl();
    const key = await gcontrol('POST', '/__sandbox/google/service-accounts', { name: 'dingbridge-directory' });
    await gcontrol('PUT', `/__sandbox/google/service-accounts/${key.client_email}/delegation`, {
      scopes: ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/admin.directory.user.readonly'],
    });
    await gcontrol('POST', '/__sandbox/google/users', {
      primaryEmail: 'carol@example.com',
      givenName: 'Carol',
      familyName: 'Wong',
      phones: [{ value: '+852 6123 4567', type: 'mobile' }],
      organizations: [{ title: 'Sales Lead', department: 'Sales/Hong Kong', primary: true }],
    });
    await gcontrol('POST', '/__sandbox/google/users', {
      primaryEmail: 'dave@example.com',
      givenName: 'Dave',
      familyName: 'Ho',
      phones: [{ value: '+852 6234 5678', type: 'mobile' }],
      organizations: [{ title: 'Account Manager', department: 'Sales/Hong Kong', primary: true }],
      relations: [{ value: 'carol@example.com', type: 'manager' }],
    });
    await gcontrol('POST', '/__sandbox/google/users', {
      primaryEmail: 'erin@example.com',
      givenName: 'Erin',
      familyName: 'Lau',
      phones: [{ value: '+852 6345 6789', type: 'mobile' }],
      orgUnitPath: '/Finance',
      relations: [{ value: 'carol@example.com', type: 'manager' }],
    });
    const config = writeConfig(
      tempDir('people-google-cfg'),
      `
version: 1
connections:
  - id: google
    connector: google_sa
    settings: { adminEmail: demo@example.com, baseUrl: "${gbase}", oauthBaseUrl: "${gbase}" }
    secrets: { serviceAccountKey: ${JSON.stringify(JSON.stringify(key))} }
  - id: dingtalk
    connector: dingtalk
    settings: { appKey: ${SEED.appKey}, corpId: ${SEED.corpId}, agentId: "${SEED.agentId}", baseUrl: "${dbase}", oapiBaseUrl: "${dbase}" }
    secrets: { appSecret: ${SEED.appSecret} }
hooks: []
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'people-google', store: 'external', queue: 'postgres' }, 'people-google', {
      DINGBRIDGE_CONFIG: config,
    });
    hub = await startTestHub(environment);
    // Erin is already in People from an HR file, under an old email: the Directory finds her by mobile.
    const csv = 'name,email,mobile,department,title,manager_email\nErin Lau,erin.lau@old.example,+85263456789,Finance,Accountant,\n';
    const imported = await fetch(`${hub.url}/api/v1/people/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(imported.status, 200);
  });

  after(async () => {
    await hub?.stop();
    await gfake?.stop();
    await dfake?.stop();
    await environment?.cleanup();
  });

  test('the service-account connection tests by a token as the admin; its key never comes back', async () => {
    const res = await api(hub, 'POST', '/api/v1/connections/google/test');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const shown = await api(hub, 'GET', '/api/v1/connections/google');
    assert.doesNotMatch(JSON.stringify(shown.json), /PRIVATE KEY/);
  });

  test('dry run: the diff per person, nothing written; then the sync links Google identities, departments, titles and managers', async () => {
    const dry = await api(hub, 'POST', '/api/v1/people/sync', { connection_id: 'google', dry_run: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.json));
    const json = dry.json as {
      created: number;
      updated: number;
      changes: Array<{ action: string; name: string; fields?: Record<string, any> }>;
    };
    // demo, alice, bob (seeded), carol, dave are new; Erin is matched by her mobile and gets her Google email.
    assert.equal(json.created, 5);
    assert.equal(json.updated, 1);
    const erin = json.changes.find((c) => c.name === 'Erin Lau')!;
    assert.equal(erin.action, 'update');
    assert.equal(erin.fields!.email.to, 'erin@example.com');
    const before = (await api(hub, 'GET', '/api/v1/people')).json as { people: unknown[] };
    assert.equal(before.people.length, 1, 'the dry run wrote nothing');

    const run = await api(hub, 'POST', '/api/v1/people/sync', { connection_id: 'google' });
    assert.equal(run.status, 200, JSON.stringify(run.json));
    const people = ((await api(hub, 'GET', '/api/v1/people')).json as { people: Array<Record<string, any>> }).people;
    const by = (email: string) => people.find((p) => p.email === email)!;
    assert.equal(people.length, 6);
    assert.deepEqual([by('dave@example.com').department, by('dave@example.com').title], ['Sales/Hong Kong', 'Account Manager']);
    assert.equal(by('dave@example.com').manager_email ?? by('dave@example.com').managerEmail, 'carol@example.com');
    assert.equal(by('erin@example.com').identities.google.email, 'erin@example.com');
    assert.ok(by('erin@example.com').identities.google.id);

    // The admin's delegated token is kept sealed in the vault with its expiry (about an hour).
    const tokens = await queryHub<{ subject: string; token: string; expires_at: Date }>(
      environment,
      'select subject, token, expires_at from delegated_tokens',
    );
    assert.equal(tokens.length, 1);
    assert.match(tokens[0]!.subject, /^demo@example\.com\|/);
    assert.ok(tokens[0]!.expires_at.getTime() > Date.now() + 50 * 60_000);
    const issued = (await gcontrol('GET', '/__sandbox/google/oauth/tokens')) as { accessTokens: Array<{ token: string; sub: string }> };
    assert.ok(issued.accessTokens.length > 0);
    for (const t of issued.accessTokens) assert.ok(!tokens[0]!.token.includes(t.token), 'sealed, not the token itself');
    const again = await api(hub, 'POST', '/api/v1/people/sync', { connection_id: 'google', dry_run: true });
    assert.deepEqual([again.json.created, again.json.updated], [0, 0], 'a rerun changes nothing');
  });

  test('provisioning into DingTalk gives each account its manager; a rerun changes nothing', async () => {
    const run = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.ok([200, 422].includes(run.status), JSON.stringify(run.json));
    const { users } = await dfake.control<{ users: Array<{ userId: string; name: string; managerUserId?: string }> }>('GET', '/users');
    const people = ((await api(hub, 'GET', '/api/v1/people')).json as { people: Array<Record<string, any>> }).people;
    const account = (email: string) => users.find((u) => u.userId === people.find((p) => p.email === email)?.identities.dingtalk?.userId)!;
    const carol = account('carol@example.com');
    const dave = account('dave@example.com');
    const erin = account('erin@example.com');
    assert.ok(carol && dave && erin);
    assert.equal(dave.managerUserId, carol.userId);
    assert.equal(erin.managerUserId, carol.userId);
    const rerun = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.deepEqual([rerun.json.created, rerun.json.updated], [0, 0]);
  });
});
