import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import iconv from 'iconv-lite';
import type { Hub } from '../app/hub.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { ADMIN_TOKEN, api } from './helpers/api.ts';
import { prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/**
 * The people directory through the hub's API: a 2,000-row HR export with 20 bad rows, the dry-run
 * diff, the import, export round trip, Big5 / BOM files, the size limit, hand-linking, and
 * provisioning into the DingTalk fake's contacts (exactly once) and syncing back from it.
 */
const available = await services();

const DEPTS = ['Sales/Hong Kong', 'Sales/Shanghai', 'Engineering', 'Finance', 'Operations/Warehouse'];
interface Row {
  name: string;
  email: string;
  mobile: string;
  department: string;
  title: string;
  manager_email: string;
  employee_no: string;
}
const person = (i: number): Row => ({
  name: `Person ${i}`,
  email: `p${i}@example.com`,
  mobile: `6${String(i).padStart(7, '0')}`,
  department: DEPTS[i % DEPTS.length]!,
  title: i === 1 ? 'CEO' : 'Staff',
  manager_email: i === 1 ? '' : 'p1@example.com',
  employee_no: `E${i}`,
});
// Columns in another order than the documented one, and an extra column the import ignores.
const COLS: Array<keyof Row> = ['employee_no', 'email', 'name', 'department', 'mobile', 'manager_email', 'title'];
const toCsv = (rows: Row[]) =>
  `${COLS.join(',')}\n${rows.map((r) => COLS.map((c) => (/[",]/.test(r[c]) ? `"${r[c].replace(/"/g, '""')}"` : r[c])).join(',')).join('\n')}\n`;

/** 20 broken rows of five kinds; data row i is on line i + 1. */
const BAD: Record<number, (r: Row) => void> = {};
[37, 101, 250, 333, 480, 512, 640, 777, 901, 999, 1024, 1200, 1313, 1450, 1500, 1666, 1750, 1888, 1950, 2000].forEach((i, n) => {
  BAD[i] = [
    (r: Row) => {
      r.email = 'not-an-email';
    },
    (r: Row) => {
      r.email = `p${i - 5}@example.com`;
    },
    (r: Row) => {
      r.name = '';
    },
    (r: Row) => {
      r.mobile = '12ab';
    },
    (r: Row) => {
      r.manager_email = 'ghost@example.com';
    },
  ][n % 5]!;
});

const postCsv = (hub: Hub, body: string | Uint8Array, query = '') =>
  fetch(`${hub.url}/api/v1/people/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
    body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

describe('people directory', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  const count = async () => (await queryHub<{ n: number }>(environment, 'select count(*)::int as n from people'))[0]!.n;

  before(async () => {
    fake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    const config = writeConfig(
      tempDir('people-cfg'),
      `
version: 1
connections:
  - id: dingtalk
    connector: dingtalk
    settings: { appKey: ${SEED.appKey}, corpId: ${SEED.corpId}, agentId: "${SEED.agentId}", baseUrl: "${base}", oapiBaseUrl: "${base}" }
    secrets: { appSecret: ${SEED.appSecret} }
hooks: []
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'people', store: 'external', queue: 'postgres' }, 'people', {
      DINGBRIDGE_CONFIG: config,
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  const all = Array.from({ length: 2000 }, (_, k) => person(k + 1));
  const broken = all.map((r, k) => {
    const c = { ...r };
    BAD[k + 1]?.(c);
    return c;
  });

  test('a 2,000-row file with 20 bad rows: exactly those 20 line-numbered errors, nothing written (dry run or not)', async () => {
    for (const query of ['?dry_run=true', '']) {
      const res = await postCsv(hub, toCsv(broken), query);
      assert.equal(res.status, 422, JSON.stringify(res.json).slice(0, 300));
      assert.deepEqual(
        res.json.errors.map((e: any) => e.row),
        Object.keys(BAD).map((i) => Number(i) + 1),
      );
      assert.equal(res.json.created, 0);
      assert.equal(res.json.error.code, 'invalid_rows');
      const byRow = new Map(res.json.errors.map((e: any) => [e.row, e.message]));
      assert.match(byRow.get(38) as string, /email "not-an-email" is not a valid address/);
      assert.match(byRow.get(102) as string, /duplicate: email p96@example.com is also on row 97/);
      assert.match(byRow.get(251) as string, /name is empty/);
      assert.match(byRow.get(334) as string, /mobile "12ab" is not a phone number/);
      assert.match(byRow.get(481) as string, /manager_email ghost@example.com is not in the file/);
    }
    assert.equal(await count(), 0, 'nothing half-written');
  });

  test('the fixed file: the dry run shows 2,000 creates with their fields and writes nothing; the import then creates them all', async () => {
    const dry = await postCsv(hub, toCsv(all), '?dry_run=true');
    assert.equal(dry.status, 200);
    assert.equal(dry.json.dry_run, true);
    assert.equal(dry.json.created, 2000);
    assert.deepEqual(dry.json.errors, []);
    const p7 = dry.json.changes.find((c: any) => c.email === 'p7@example.com');
    assert.equal(p7.action, 'create');
    assert.equal(p7.row, 8);
    assert.deepEqual(p7.fields.mobile, { from: null, to: '+85260000007' });
    assert.deepEqual(p7.fields.department, { from: null, to: 'Engineering' });
    assert.deepEqual(p7.fields.manager, { from: null, to: 'p1@example.com' });
    assert.equal(await count(), 0);

    const res = await postCsv(hub, toCsv(all));
    assert.equal(res.status, 200);
    assert.deepEqual([res.json.created, res.json.updated, res.json.deactivated, res.json.errors.length], [2000, 0, 0, 0]);
    assert.equal(await count(), 2000);
    const { json } = await api(hub, 'GET', '/api/v1/people?q=p7%40example.com');
    assert.equal(json.people.length, 1);
    assert.equal(json.people[0].manager_email, 'p1@example.com');
    assert.equal(json.people[0].mobile, '+85260000007');
    const sales = await api(hub, 'GET', `/api/v1/people?department=${encodeURIComponent('Sales')}`);
    assert.equal(sales.json.people.length, 800, 'Sales and everything under it');
    assert.ok(sales.json.people.every((p: any) => p.department.startsWith('Sales/')));
    assert.deepEqual(sales.json.departments, [...DEPTS].sort());
  });

  test('a changed export: the diff names the changed fields; missing people are deactivated only with deactivate_missing', async () => {
    const changed = all
      .slice(0, 1999)
      .map((r) => (r.email === 'p5@example.com' ? { ...r, title: 'Team lead', department: ' Sales / Shanghai ' } : r));
    const plain = await postCsv(hub, toCsv(changed), '?dry_run=true');
    assert.deepEqual([plain.json.created, plain.json.updated, plain.json.deactivated], [0, 1, 0]);
    const dry = await postCsv(hub, toCsv(changed), '?dry_run=true&deactivate_missing=true');
    assert.deepEqual([dry.json.created, dry.json.updated, dry.json.deactivated, dry.json.unchanged], [0, 1, 1, 1998]);
    const upd = dry.json.changes.find((c: any) => c.action === 'update');
    assert.deepEqual(upd.fields, {
      title: { from: 'Staff', to: 'Team lead' },
      department: { from: 'Sales/Hong Kong', to: 'Sales/Shanghai' },
    });
    const deact = dry.json.changes.find((c: any) => c.action === 'deactivate');
    assert.equal(deact.email, 'p2000@example.com');
    const p5 = await api(hub, 'GET', '/api/v1/people?q=p5%40example.com');
    assert.equal(p5.json.people[0].title, 'Staff', 'the dry run wrote nothing');
  });

  test('the export imports back with no change', async () => {
    const res = await fetch(`${hub.url}/api/v1/people.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, so Excel reads it as UTF-8');
    const text = bytes.toString('utf8');
    assert.equal(text.split('\r\n').filter(Boolean).length, 2001);
    assert.match(text, /^\ufeffname,email,mobile,department,title,manager_email,active,id/);
    const again = await postCsv(hub, text, '?dry_run=true');
    assert.equal(again.status, 200, JSON.stringify(again.json.errors?.slice(0, 3)));
    assert.deepEqual([again.json.created, again.json.updated, again.json.unchanged], [0, 0, 2000]);
  });

  test('Big5 and UTF-8-with-BOM files import with the right names; a missing column is an error on line 1', async () => {
    const big5 = iconv.encode(
      'name,email,mobile,department,title,manager_email\r\n陳大文,chan.taiman@example.com,9123 4567,財務部,會計,\r\n',
      'big5',
    );
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(big5), 'the test file really is not UTF-8');
    const r1 = await postCsv(hub, big5);
    assert.equal(r1.status, 200, JSON.stringify(r1.json));
    const bom = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('name,email,mobile,department\r\n李小龍,lee.siulung@example.com,+852 6999 0000,香港/九龍\r\n'),
    ]);
    const r2 = await postCsv(hub, bom);
    assert.equal(r2.status, 200, JSON.stringify(r2.json));
    const chan = (await api(hub, 'GET', '/api/v1/people?q=chan.taiman')).json.people[0];
    assert.deepEqual([chan.name, chan.department, chan.title, chan.mobile], ['陳大文', '財務部', '會計', '+85291234567']);
    const lee = (await api(hub, 'GET', '/api/v1/people?q=lee.siulung')).json.people[0];
    assert.deepEqual([lee.name, lee.department], ['李小龍', '香港/九龍']);

    const missing = await postCsv(hub, 'name,mail,phone\nA,a@example.com,91234567\n');
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json.errors, [
      {
        row: 1,
        message: 'missing columns: email, mobile, department (the header must name name, email, mobile, department, title, manager_email)',
      },
    ]);
  });

  test('a 10 MB file is refused with 413 and a JSON error; nothing is written', async () => {
    const before = await count();
    const line = 'Someone,someone@example.com,91234567,Sales,Staff,\n';
    const big = `name,email,mobile,department,title,manager_email\n${line.repeat(Math.ceil((10 * 1024 * 1024) / line.length))}`;
    const res = await postCsv(hub, big);
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, 'payload_too_large');
    assert.equal(await count(), before);
  });

  test('an unmatched person is linked to a DingTalk userId by hand; the same userId on another person is refused', async () => {
    const unmatched = (await api(hub, 'GET', '/api/v1/people?unmatched=dingtalk&q=chan.taiman')).json.people;
    assert.equal(unmatched.length, 1);
    const res = await api(hub, 'PATCH', `/api/v1/people/${unmatched[0].id}`, { identities: { dingtalk: { userId: 'user001' } } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.identities, { dingtalk: { userId: 'user001' } });
    const lee = (await api(hub, 'GET', '/api/v1/people?q=lee.siulung')).json.people[0];
    const clash = await api(hub, 'PATCH', `/api/v1/people/${lee.id}`, { identities: { dingtalk: { userId: 'user001' } } });
    assert.equal(clash.status, 409);
    assert.equal(clash.json.error.code, 'identity_taken');
    const bad = await api(hub, 'PATCH', `/api/v1/people/${lee.id}`, { identities: { 'Ding Talk': { userId: 'x' } } });
    assert.equal(bad.status, 400);
    const audit = await queryHub<{ action: string; target: string }>(
      environment,
      "select action, target from audit_log where action like 'person%' or action like 'people%' order by id",
    );
    assert.ok(audit.some((a) => a.action === 'people.imported'));
    assert.ok(audit.some((a) => a.action === 'person.updated' && a.target === unmatched[0].id));
  });

  test('an API key with people:read lists but may not import; the routes are in a valid OpenAPI document', async () => {
    const key = await api(hub, 'POST', '/api/v1/api-keys', { label: 'hr reader', scopes: ['people:read'] });
    assert.equal(key.status, 201, JSON.stringify(key.json));
    const list = await api(hub, 'GET', '/api/v1/people?q=lee.siulung', undefined, key.json.key);
    assert.equal(list.status, 200);
    assert.equal(list.json.people.length, 1);
    const res = await fetch(`${hub.url}/api/v1/people/import?dry_run=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.json.key}`, 'content-type': 'text/csv' },
      body: 'name,email,mobile,department\n',
    });
    assert.equal(res.status, 403);
    assert.equal((await api(hub, 'GET', '/api/v1/people')).status, 200);
    assert.equal((await api(hub, 'GET', '/api/v1/people', undefined, null)).status, 401);

    const doc = (await (await fetch(`${hub.url}/api/openapi.json`)).json()) as any;
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.deepEqual(doc.paths['/api/v1/people/import'].post.security, [{ bearerAuth: ['people:write'] }]);
    for (const p of ['/api/v1/people', '/api/v1/people.csv', '/api/v1/people/{id}', '/api/v1/people/sync', '/api/v1/people/provision'])
      assert.ok(doc.paths[p], `documents ${p}`);
  });

  test('provisioning creates the departments and the staff in DingTalk exactly once; a rerun changes nothing; a leaver is deleted', async () => {
    // The two hand-made people above are unlinked from the seed user first so the run only has the CSV staff to do.
    const chan = (await api(hub, 'GET', '/api/v1/people?q=chan.taiman')).json.people[0];
    await api(hub, 'PATCH', `/api/v1/people/${chan.id}`, { identities: { dingtalk: { userId: null } } });

    const dry = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk', dry_run: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.json).slice(0, 500));
    assert.deepEqual(
      [...dry.json.departments_created].sort(),
      [
        'Engineering',
        'Finance',
        'Operations',
        'Operations/Warehouse',
        'Sales',
        'Sales/Hong Kong',
        'Sales/Shanghai',
        '財務部',
        '香港',
        '香港/九龍',
      ].sort(),
    );
    assert.equal(dry.json.created, 2002, 'every active person (the 2,000 and the two hand-checked files)');
    const depsBefore = (await fake.control<{ departments: unknown[] }>('GET', '/departments')).departments.length;
    assert.equal(depsBefore, 1, 'the dry run created nothing');

    const run = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.equal(run.status, 200, JSON.stringify(run.json).slice(0, 500));
    assert.deepEqual(run.json.errors, []);
    assert.equal(run.json.created, dry.json.created);
    const { departments } = await fake.control<{ departments: Array<{ deptId: number; name: string; parentId: number | null }> }>(
      'GET',
      '/departments',
    );
    assert.equal(departments.length, 11);
    const hk = departments.find((d) => d.name === 'Hong Kong')!;
    assert.equal(departments.find((d) => d.deptId === hk.parentId)!.name, 'Sales');
    const { users } = await fake.control<{
      users: Array<{ userId: string; name: string; mobile?: string; stateCode?: string; deptId: number }>;
    }>('GET', '/users');
    const p7 = users.find((u) => u.name === 'Person 7')!;
    assert.deepEqual([p7.mobile, p7.stateCode], ['60000007', '852']);
    const ceo = users.find((u) => u.name === 'Person 1')!;
    assert.equal((p7 as { managerUserId?: string }).managerUserId, ceo.userId, 'the manager from the file is the DingTalk manager');
    assert.equal(users.filter((u) => u.name === 'Person 7').length, 1);
    const linked = (await api(hub, 'GET', '/api/v1/people?q=p7%40example.com')).json.people[0];
    assert.equal(linked.identities.dingtalk.userId, p7.userId);

    const rerun = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.deepEqual(
      [rerun.json.departments_created, rerun.json.created, rerun.json.updated, rerun.json.deactivated, rerun.json.linked],
      [[], 0, 0, 0, 0],
    );
    assert.equal((await fake.control<{ users: unknown[] }>('GET', '/users')).users.length, users.length);

    const leaver = (await api(hub, 'GET', '/api/v1/people?q=p9%40example.com')).json.people[0];
    await api(hub, 'PATCH', `/api/v1/people/${leaver.id}`, { active: false });
    const out = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.equal(out.json.deactivated, 1);
    assert.ok(
      !(await fake.control<{ users: Array<{ userId: string }> }>('GET', '/users')).users.some(
        (u) => u.userId === leaver.identities.dingtalk.userId,
      ),
    );
    const again = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.deepEqual([again.json.created, again.json.updated, again.json.deactivated], [0, 0, 0]);
  });

  test("a sync from DingTalk adds the people only DingTalk knows, changes nobody already provisioned, and reports DingTalk's duplicate-mobile refusal", async () => {
    const dry = await api(hub, 'POST', '/api/v1/people/sync', { source: 'dingtalk', connection_id: 'dingtalk', dry_run: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.json).slice(0, 500));
    assert.deepEqual([dry.json.created, dry.json.updated], [4, 0], 'the four seed users; the provisioned staff match by their userId');
    assert.deepEqual(dry.json.changes.map((c: any) => c.name).sort(), ['Alice Chan', 'Bob Lee', 'Carol Wong', 'Dan Ho']);
    const before = await count();
    const run = await api(hub, 'POST', '/api/v1/people/sync', { source: 'dingtalk', connection_id: 'dingtalk' });
    assert.equal(run.json.created, 4);
    assert.equal(await count(), before + 4);
    const alice = (await api(hub, 'GET', '/api/v1/people?q=Alice')).json.people[0];
    assert.equal(alice.identities.dingtalk.userId, 'user001');
    assert.deepEqual(alice.sources, ['dingtalk']);

    // A linked person given the mobile DingTalk already has for someone else: DingTalk answers 60104 and the run names the person.
    const p10 = (await api(hub, 'GET', '/api/v1/people?q=p10%40example.com')).json.people[0];
    await api(hub, 'PATCH', `/api/v1/people/${p10.id}`, { mobile: '6000 0011' });
    const prov = await api(hub, 'POST', '/api/v1/people/provision', { connection_id: 'dingtalk' });
    assert.equal(prov.status, 200);
    assert.equal(prov.json.errors.length, 1, JSON.stringify(prov.json.errors));
    assert.equal(prov.json.errors[0].person_id, p10.id);
    assert.match(prov.json.errors[0].message, /errcode 60104/);
    assert.deepEqual([prov.json.created, prov.json.updated], [0, 0]);
  });
});
