import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DEFAULT_APP,
  DEFAULT_SANDBOX_REALM,
  intuitSignature,
  startQuickBooksFake,
  flushWebhooks,
  type QboState,
} from '../sandbox/quickbooks/index.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import {
  MODES,
  ROOT,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { freePort } from './helpers/ports.ts';
import { services } from './helpers/services.ts';
import type { Hub } from '../app/hub.ts';

/**
 * The QuickBooks connector end to end: examples/quickbooks-dingtalk.yaml as shipped, a hub (external
 * PostgreSQL, BullMQ on PostgreSQL), the QuickBooks fake (node-quickbooks talks to it) and the DingTalk
 * fake. The 200-reimbursement burst with faults and hub kills is tests/quickbooks-burst.test.ts.
 */
const available = await services();
const REALM = DEFAULT_SANDBOX_REALM;
const PROCESS = 'PROC-REIMBURSE';
const GROUP = SEED.groupId;

describe('QuickBooks ↔ DingTalk (examples/quickbooks-dingtalk.yaml)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let qbo: RunningFake<QboState>;
  let dingtalk: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  let hubUrl = '';
  let firstRefreshToken = '';

  const qctl = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${qbo.baseUrl()}/__sandbox/quickbooks${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    assert.ok(res.ok, `${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const entities = async (type: string): Promise<any[]> => {
    const j = await qctl('GET', `/companies/${REALM}/entities/${type}`);
    return (j.entities ?? j.items ?? j[type] ?? j) as any[];
  };
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${hubUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  const eventsOf = (type: string) =>
    queryHub<{ id: string; type: string; data: any }>(
      environment,
      `select id, type, data from events where type like $1 order by received_at`,
      [type],
    );

  /** A reimbursement approval started and agreed by the approver, as people do in DingTalk. */
  async function reimburse(form: Record<string, string>, receipt?: { name: string; bytes: Buffer; contentType: string }): Promise<string> {
    const values = Object.entries(form).map(([name, value]) => ({ name, value }));
    if (receipt) {
      const att = await dingtalk.control<any>('POST', '/approval-files', {
        fileName: receipt.name,
        contentType: receipt.contentType,
        contentBase64: receipt.bytes.toString('base64'),
      });
      values.push({ name: 'Receipt', value: JSON.stringify([att]), componentType: 'DDAttachment' } as never);
    }
    const started = await dingtalk.control<any>('POST', '/approvals', {
      processCode: PROCESS,
      originatorUserId: 'user001',
      formComponentValues: values,
    });
    await dingtalk.control('POST', `/approvals/${started.instanceId}/agree`, {});
    return started.instanceId as string;
  }
  /** The reimbursement flow's steps for one approval, once none is pending or running. */
  async function stepsFor(instanceId: string, timeoutMs = 60_000) {
    return waitUntil(
      async () => {
        const rows = await queryHub<{ step_index: number; action: string; status: string; last_error: string | null; output: any }>(
          environment,
          `select s.step_index, s.action, s.status, s.last_error, s.output from step_runs s join events e on e.id = s.event_id
            where e.type = 'dingtalk.approval.finished' and e.data->>'processInstanceId' = $1 order by s.step_index`,
          [instanceId],
        );
        if (!rows.length) return false;
        const last = rows[rows.length - 1]!;
        const settled = rows.every((r) => r.status === 'succeeded' || r.status === 'dead');
        return settled && (last.status === 'dead' || rows.length === 7) ? rows : false;
      },
      `steps of approval ${instanceId}`,
      timeoutMs,
    ).catch(async (err) => {
      const ev = await queryHub<any>(
        environment,
        `select id, type, data, flows_matched, status from events where data->>'processInstanceId' = $1`,
        [instanceId],
      );
      const st = await queryHub<any>(
        environment,
        `select s.id, s.status, s.attempts, s.last_error from step_runs s where s.event_id = any($1)`,
        [ev.map((e) => e.id)],
      );
      throw new Error(
        `${(err as Error).message}\nevents: ${JSON.stringify(ev.map((e) => [e.type, e.status, e.flows_matched, e.data.formFetched, e.data.form, e.data.formError]))}\nsteps: ${JSON.stringify(st)}`,
      );
    });
  }

  before(async () => {
    qbo = await startQuickBooksFake({ batchIntervalMs: 100, webhookFormat: 'legacy' });
    dingtalk = await startDingtalkFake({ stream: { ackTimeoutMs: 1500 } });
    const tokens = await qctl('POST', `/apps/${DEFAULT_APP.id}/connect`, { realmId: REALM });
    firstRefreshToken = tokens.refresh_token;
    const port = await freePort();
    hubUrl = `http://127.0.0.1:${port}`;
    await qctl('PATCH', `/apps/${DEFAULT_APP.id}`, { webhookUrl: `${hubUrl}/webhooks/quickbooks`, webhookFormat: 'legacy' });
    environment = await prepareEnvironment(MODES[2]!, 'quickbooks', {
      PORT: String(port),
      PUBLIC_URL: hubUrl,
      DINGBRIDGE_STEP_ATTEMPTS: '8',
      DINGBRIDGE_WORKER_CONCURRENCY: '12',
      DINGBRIDGE_POLL_INTERVAL_MS: '3600000',
      // Exactly the variables for QuickBooks (the example needs nothing else).
      QBO_CLIENT_ID: DEFAULT_APP.sandbox.clientId,
      QBO_CLIENT_SECRET: DEFAULT_APP.sandbox.clientSecret,
      QBO_WEBHOOK_VERIFIER: DEFAULT_APP.verifierToken,
      QBO_ENVIRONMENT: 'sandbox',
      QBO_REALM_ID: REALM,
      QBO_REFRESH_TOKEN: firstRefreshToken,
      QBO_BASE_URL: qbo.baseUrl(),
      QBO_OAUTH_BASE_URL: qbo.baseUrl(),
      DINGTALK_APP_KEY: SEED.appKey,
      DINGTALK_APP_SECRET: SEED.appSecret,
      DINGTALK_BASE_URL: dingtalk.baseUrl(),
      DINGTALK_OAPI_BASE_URL: dingtalk.baseUrl(),
      DINGTALK_REIMBURSEMENT_PROCESS: PROCESS,
    });
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('quickbooks'),
      fs.readFileSync(path.join(ROOT, 'examples/quickbooks-dingtalk.yaml'), 'utf8'),
    );
    hub = await startTestHub(environment);
    await waitUntil(
      async () => (await dingtalk.control<{ connections: unknown[] }>('GET', '/stream/connections')).connections.length === 1,
      'DingTalk stream connected',
      60_000,
    );
  });
  after(async () => {
    await hub?.stop();
    await qbo?.stop();
    await dingtalk?.stop();
    await environment?.cleanup();
  });

  test('a reimbursement agreed → one Purchase with the receipt attached, a message to the requester, a comment on the approval', async () => {
    const receipt = crypto.randomBytes(3000);
    const id = await reimburse(
      { Amount: '420.50', Currency: 'HKD', Category: 'Travel', Description: 'Taxi to the airport', Payee: 'Alice Chan' },
      { name: 'taxi.jpg', bytes: receipt, contentType: 'image/jpeg' },
    );
    const steps = await stepsFor(id);
    assert.deepEqual(
      steps.map((s) => [s.action, s.status]),
      [
        ['dingtalk.approval.attachments', 'succeeded'],
        ['ocr.receipt.total', 'succeeded'],
        ['quickbooks.purchase.create', 'succeeded'],
        ['quickbooks.attach', 'succeeded'],
        ['dingtalk.message.sendToUsers', 'succeeded'],
        ['dingtalk.approval.comment', 'succeeded'],
        ['dingtalk.message.sendToGroup', 'succeeded'],
      ],
      JSON.stringify(steps.map((s) => s.last_error)),
    );
    const purchaseId = steps[2]!.output.id as string;
    const purchase = (await entities('Purchase')).find((p) => p.Id === purchaseId);
    assert.ok(purchase, 'the Purchase exists in QuickBooks');
    assert.equal(purchase.TotalAmt, 420.5);
    assert.equal(purchase.CurrencyRef.value, 'HKD');
    assert.equal(purchase.PaymentType, 'Cash');
    assert.match(purchase.PrivateNote, /Taxi to the airport/);
    assert.equal(purchase.Line[0].AccountBasedExpenseLineDetail.AccountRef.name, 'Travel');
    const attachables = (await qctl('GET', `/companies/${REALM}/attachables`)).attachables as any[];
    const mine = attachables.filter((a) =>
      a.AttachableRef?.some((r: any) => r.EntityRef.type === 'Purchase' && r.EntityRef.value === purchaseId),
    );
    assert.equal(mine.length, 1, 'one receipt attached to the Purchase');
    assert.equal(mine[0].sha256, crypto.createHash('sha256').update(receipt).digest('hex'), 'the very bytes of the receipt');
    const toUser = (await dingtalk.control<{ messages: any[] }>('GET', '/messages?userId=user001')).messages;
    assert.ok(
      toUser.some((m) => JSON.stringify(m).includes(`expense **${purchaseId}**`) && JSON.stringify(m).includes('Open in QuickBooks')),
      'the requester is told the QuickBooks id and link',
    );
    const inst = await dingtalk.control<any>('GET', `/approvals/${id}`);
    const records = (inst.instance ?? inst).operationRecords as any[];
    assert.ok(
      records.some((r) => r.type === 'ADD_REMARK' && r.remark.includes(`expense ${purchaseId}`) && r.remark.includes('receipt attached')),
    );
    const counts = await qctl('GET', `/companies/${REALM}/requestids`);
    assert.equal(counts.requests - counts.replayed, counts.distinct, 'every requestid answered once');
  });

  const RECEIPTS = path.join(ROOT, 'tests/fixtures/receipts');
  const groupMessagesAbout = async (purchaseId: string) =>
    (await dingtalk.control<{ messages: any[] }>('GET', `/conversations/${GROUP}/messages`)).messages.filter((m) =>
      JSON.stringify(m).includes(`Expense **${purchaseId}**`),
    );

  test('a receipt whose total (read offline, 總計 HK$1,234.50) matches the claim → booked as before, no review flag', async () => {
    const id = await reimburse(
      { Amount: '1,234.50', Currency: 'HKD', Category: 'Meals and Entertainment', Description: 'Team lunch', Payee: 'Alice Chan' },
      { name: 'lunch.png', bytes: fs.readFileSync(path.join(RECEIPTS, 'receipt-zh-hk.png')), contentType: 'image/png' },
    );
    const steps = await stepsFor(id, 120_000);
    assert.deepEqual(
      steps.map((s) => s.status),
      Array(7).fill('succeeded'),
      JSON.stringify(steps.map((s) => s.last_error)),
    );
    assert.equal(steps[1]!.output.total, 1234.5, 'the total read from the image');
    assert.equal(steps[1]!.output.review, false);
    const purchaseId = steps[2]!.output.id as string;
    const purchase = (await entities('Purchase')).find((p) => p.Id === purchaseId);
    assert.equal(purchase.TotalAmt, 1234.5);
    assert.doesNotMatch(purchase.PrivateNote, /review/);
    assert.equal(steps[6]!.output.skipped, true);
    assert.equal((await groupMessagesAbout(purchaseId)).length, 0, 'finance is not bothered');
  });

  test('a receipt whose total differs from the claim → the Purchase is still booked, with a review memo and a note to finance', async () => {
    const id = await reimburse(
      { Amount: '300', Currency: 'HKD', Category: 'Travel', Description: 'Taxi (claimed more)', Payee: 'Alice Chan' },
      { name: 'taxi.png', bytes: fs.readFileSync(path.join(RECEIPTS, 'receipt-en.png')), contentType: 'image/png' },
    );
    const steps = await stepsFor(id, 120_000);
    assert.deepEqual(
      steps.map((s) => s.status),
      Array(7).fill('succeeded'),
      JSON.stringify(steps.map((s) => s.last_error)),
    );
    const purchaseId = steps[2]!.output.id as string;
    const purchase = (await entities('Purchase')).find((p) => p.Id === purchaseId);
    assert.equal(purchase.TotalAmt, 300, 'booked as claimed, not blocked');
    assert.match(
      purchase.PrivateNote,
      /^Receipt total HKD 250\.00 differs from claimed HKD 300\.00 — review\. DingTalk approval .*: Taxi \(claimed more\)$/,
    );
    const notes = await groupMessagesAbout(purchaseId);
    assert.equal(notes.length, 1, 'one note to the finance group');
    assert.match(JSON.stringify(notes[0]), /Receipt total HKD 250\.00 differs from claimed HKD 300\.00/);
    const inst = await dingtalk.control<any>('GET', `/approvals/${id}`);
    const records = (inst.instance ?? inst).operationRecords as any[];
    assert.ok(records.some((r) => r.type === 'ADD_REMARK' && r.remark.includes('marked for review')));
  });

  test('a USD reimbursement in the HKD company carries the exchange rate (and a USD vendor)', async () => {
    const id = await reimburse({
      Amount: '100',
      Currency: 'USD',
      Category: 'Meals and Entertainment',
      Description: 'Client dinner in SF',
      Payee: 'Alice Chan',
    });
    const steps = await stepsFor(id);
    assert.equal(steps[2]!.status, 'succeeded', String(steps[2]!.last_error));
    const out = steps[2]!.output;
    assert.equal(out.currency, 'USD');
    assert.equal(out.exchangeRate, 7.8);
    assert.equal(out.homeTotalAmount, 780);
    const purchase = (await entities('Purchase')).find((p) => p.Id === out.id);
    assert.equal(purchase.CurrencyRef.value, 'USD');
    assert.equal(purchase.ExchangeRate, 7.8);
    assert.equal(purchase.HomeTotalAmt, 780);
    const vendor = (await entities('Vendor')).find((v) => v.Id === purchase.EntityRef.value);
    assert.equal(vendor.DisplayName, 'Alice Chan (USD)');
    assert.equal(vendor.CurrencyRef.value, 'USD');
    assert.equal(steps[3]!.output.skipped, true, 'no receipt: nothing to attach, not a failure');
  });

  test('a form without amount, account or payee → a step error naming the field, and nothing sent to QuickBooks', async () => {
    const before = (await entities('Purchase')).length;
    const creates = async () => (await qctl('GET', `/companies/${REALM}/requestids`)).requests as number;
    const sent = await creates();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { Currency: 'HKD', Category: 'Travel', Description: 'no amount', Payee: 'Alice Chan' },
        /quickbooks\.purchase\.create: amount is missing/,
      ],
      [{ Amount: '50', Description: 'no category', Payee: 'Alice Chan' }, /quickbooks\.purchase\.create: account is missing/],
      [{ Amount: '50', Category: 'Travel', Description: 'no payee' }, /quickbooks\.purchase\.create: vendor is missing/],
      [
        { Amount: '50', Category: 'Teleportation', Description: 'unknown account', Payee: 'Alice Chan' },
        /account "Teleportation" is not an account of this company/,
      ],
    ];
    for (const [form, expected] of cases) {
      const id = await reimburse(form);
      const steps = await stepsFor(id);
      assert.equal(steps[2]!.status, 'dead', `${form.Description}: dead at once`);
      assert.match(String(steps[2]!.last_error), expected);
      assert.doesNotMatch(String(steps[2]!.last_error), /Fault/);
    }
    assert.equal((await entities('Purchase')).length, before);
    assert.equal(await creates(), sent, 'no create reached QuickBooks');
  });

  test("webhooks: Intuit's signature on the raw body; a flipped byte is refused with nothing stored; both formats → the same events", async () => {
    // A change made in QuickBooks by a person: the fake sends it (legacy format) to the hub.
    const created = await qctl('POST', `/companies/${REALM}/entities`, { type: 'Customer', DisplayName: `Kowloon Florists ${Date.now()}` });
    const customerId = String(created.Customer.Id);
    flushWebhooks(qbo);
    const stored = await waitUntil(async () => {
      const found = (await eventsOf('quickbooks.customer.created')).filter((e) => e.data.id === customerId);
      return found.length > 0 && found;
    }, 'the webhook stored as quickbooks.customer.created');
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.data.entity.DisplayName, created.Customer.DisplayName, 'the entity was fetched');

    // The same change as a CloudEvents delivery: verified, routed, and the same hub event (a duplicate).
    const change = (await qctl('GET', `/companies/${REALM}/changes`)).changes.find(
      (c: any) => c.type === 'Customer' && String(c.id) === customerId,
    );
    const at = change.at ?? change.time;
    const cloud = JSON.stringify([
      {
        specversion: '1.0',
        id: crypto.randomUUID(),
        source: 'intuit.test',
        type: 'qbo.customer.created.v1',
        datacontenttype: 'application/json',
        time: typeof at === 'number' ? new Date(at).toISOString() : at,
        intuitentityid: customerId,
        intuitaccountid: REALM,
        data: {},
      },
    ]);
    const post = (body: string | Buffer, signature: string) =>
      fetch(`${hubUrl}/webhooks/quickbooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'intuit-signature': signature },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
    const countAll = async () =>
      Number(
        (
          await queryHub<{ n: string }>(
            environment,
            `select count(*) n from events where source = 'quickbooks' or type like 'quickbooks.%'`,
          )
        )[0]!.n,
      );
    const ok = await post(cloud, intuitSignature(DEFAULT_APP.verifierToken, cloud));
    assert.equal(ok.status, 200);
    const again = (await eventsOf('quickbooks.customer.created')).filter((e) => e.data.id === customerId);
    assert.equal(again.length, 1, 'both formats give one event');
    assert.equal(again[0]!.id, stored[0]!.id);

    // A flipped byte: 401, nothing stored.
    const n = await countAll();
    const updated = JSON.stringify([
      { ...JSON.parse(cloud)[0], type: 'qbo.customer.updated.v1', time: new Date(Date.now() + 5000).toISOString() },
    ]);
    const good = intuitSignature(DEFAULT_APP.verifierToken, updated);
    const flipped = Buffer.from(updated);
    flipped[flipped.length - 5]! ^= 0x01;
    const refused = await post(flipped, good);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as any).code ?? 'invalid_signature', 'invalid_signature');
    assert.equal((await post(updated, '')).status, 401, 'no signature');
    assert.equal((await post(updated, intuitSignature('another-verifier', updated))).status, 401, "another app's verifier");
    assert.equal(await countAll(), n, 'nothing stored');
    // The genuine one is stored.
    const genuine = await post(updated, good);
    assert.equal(genuine.status, 200, await genuine.text());
    const all = await queryHub<any>(
      environment,
      `select id, type, source, data->>'id' as eid, data->>'changedAt' as at from events where type like 'quickbooks.%' order by received_at`,
    );
    assert.equal(await countAll(), n + 1, JSON.stringify(all));
    // Another company's delivery is not ours.
    const foreign = JSON.stringify([{ ...JSON.parse(updated)[0], intuitaccountid: '1185883450' }]);
    assert.equal((await post(foreign, intuitSignature(DEFAULT_APP.verifierToken, foreign))).status, 404);
  });

  test('the fake switched to CloudEvents: an invoice paid → quickbooks.invoice.updated with the entity → a group message', async () => {
    await qctl('PATCH', `/apps/${DEFAULT_APP.id}`, { webhookFormat: 'cloudevents' });
    const customers = await entities('Customer');
    const inv = await qctl('POST', `/companies/${REALM}/entities`, {
      type: 'Invoice',
      CustomerRef: { value: customers[0].Id },
      DocNumber: `INV-${Date.now() % 100000}`,
      Line: [{ Amount: 800, DetailType: 'SalesItemLineDetail' }],
    });
    const invoice = inv.Invoice;
    await qctl('POST', `/companies/${REALM}/entities`, {
      type: 'Payment',
      CustomerRef: { value: customers[0].Id },
      TotalAmt: 800,
      Line: [{ Amount: 800, LinkedTxn: [{ TxnId: invoice.Id, TxnType: 'Invoice' }] }],
    });
    flushWebhooks(qbo);
    const paid = await waitUntil(
      async () => (await eventsOf('quickbooks.invoice.%')).find((e) => e.data.id === String(invoice.Id) && e.data.paid),
      'the invoice paid event',
    );
    assert.equal(paid.data.balance, 0);
    const msg = await waitUntil(
      async () =>
        (await dingtalk.control<{ messages: any[] }>('GET', `/conversations/${GROUP}/messages`)).messages.find((m) =>
          JSON.stringify(m).includes(`Invoice ${invoice.DocNumber}`),
        ),
      'the group message',
    );
    assert.match(JSON.stringify(msg), /is paid/);
    await qctl('PATCH', `/apps/${DEFAULT_APP.id}`, { webhookFormat: 'legacy' });
  });

  test('webhooks missed for an hour → the CDC poll emits each change once, and never what a webhook already delivered', async () => {
    const triggers = await admin('GET', '/api/v1/triggers');
    const poller = (triggers.body.triggers as any[]).find((t) => t.kind === 'poll' && t.connector === 'quickbooks');
    assert.ok(poller, `a CDC poller: ${JSON.stringify(triggers.body).slice(0, 500)}`);
    const pollNow = async () => {
      assert.equal((await admin('POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
    };
    await pollNow(); // learns QuickBooks' clock (the first poll emits no history)
    await waitUntil(async () => {
      const t = (await admin('GET', '/api/v1/triggers')).body;
      const p = (t.triggers as any[]).find((x) => x.id === poller.id);
      return p?.lastPollAt;
    }, 'the first poll done');

    // The hub is unreachable for an hour: Intuit's deliveries are lost.
    await qctl('POST', `/apps/${DEFAULT_APP.id}/drop-webhooks`, { forMs: 3_600_000 });
    const customers = await entities('Customer');
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      await qctl('POST', '/clock/advance', { ms: 15 * 60_000 });
      const inv = await qctl('POST', `/companies/${REALM}/entities`, {
        type: 'Invoice',
        CustomerRef: { value: customers[0].Id },
        DocNumber: `CDC-${i}-${Date.now() % 10000}`,
        Line: [{ Amount: 100 + i, DetailType: 'SalesItemLineDetail' }],
      });
      made.push(String(inv.Invoice.Id));
    }
    flushWebhooks(qbo);
    assert.equal((await eventsOf('quickbooks.invoice.%')).filter((e) => made.includes(e.data.id)).length, 0, 'no webhook arrived');
    await pollNow();
    const seen = await waitUntil(async () => {
      const evs = (await eventsOf('quickbooks.invoice.%')).filter((e) => made.includes(e.data.id));
      return evs.length >= made.length && evs;
    }, 'the CDC poll emitted the missed invoices');
    assert.deepEqual(seen.map((e) => e.data.id).sort(), [...made].sort());
    assert.ok(seen.every((e) => e.type === 'quickbooks.invoice.created' && e.data.entity?.Id));

    // Polling again (the cursor overlaps) emits nothing new.
    await pollNow();
    await pollNow();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await eventsOf('quickbooks.invoice.%')).filter((e) => made.includes(e.data.id)).length, made.length, 'each change once');

    // Webhooks back: a change they deliver is not emitted again by the poll.
    await qctl('POST', `/apps/${DEFAULT_APP.id}/drop-webhooks`, { forMs: 0 });
    const inv = await qctl('POST', `/companies/${REALM}/entities`, {
      type: 'Invoice',
      CustomerRef: { value: customers[0].Id },
      DocNumber: `HOOK-${Date.now() % 10000}`,
      Line: [{ Amount: 55, DetailType: 'SalesItemLineDetail' }],
    });
    const hookId = String(inv.Invoice.Id);
    flushWebhooks(qbo);
    await waitUntil(async () => (await eventsOf('quickbooks.invoice.%')).some((e) => e.data.id === hookId), 'the webhook delivered it');
    await pollNow();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await eventsOf('quickbooks.invoice.%')).filter((e) => e.data.id === hookId).length, 1);
  });

  test('a refresh-token rotation while 50 steps run → one refresh, the newest token stored, the old one refused, no needs_reauth', async () => {
    // A day later: every access token has expired and Intuit hands out a new refresh token on the next refresh.
    await qctl('POST', '/clock/advance', { hours: 25 });
    await fetch(`${qbo.baseUrl()}/__sandbox/calls`, { method: 'DELETE' });
    const stale = (await queryHub<{ secrets: string }>(environment, `select secrets from connections where id = 'quickbooks'`))[0];
    assert.ok(stale);
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        reimburse({ Amount: String(10 + i), Currency: 'HKD', Category: 'Office Supplies', Description: `Pens ${i}`, Payee: 'Alice Chan' }),
      ),
    );
    for (const id of ids) {
      const steps = await stepsFor(id, 120_000);
      assert.equal(steps[2]!.status, 'succeeded', String(steps[2]!.last_error));
    }
    const calls = (await (await fetch(`${qbo.baseUrl()}/__sandbox/calls?path=/oauth2/v1/tokens/bearer`)).json()) as any;
    const refreshes = (calls.calls ?? calls).filter((c: any) => String(c.body?.grant_type ?? c.body ?? '').includes('refresh_token'));
    assert.equal(refreshes.length, 1, 'one refresh for 50 steps');
    const conn = hub.runtime.connections.store;
    const row = await conn.require('quickbooks');
    assert.equal(row.status, 'active');
    const secrets = conn.openSecrets(row);
    assert.notEqual(secrets.refreshToken, firstRefreshToken, 'the rotated refresh token is stored');
    const tokens = (await qctl('GET', '/oauth/tokens')).refreshTokens as any[];
    const newest = tokens
      .filter((t) => t.clientId === DEFAULT_APP.sandbox.clientId)
      .sort((a, b) => String(b.issuedAt).localeCompare(String(a.issuedAt)))[0];
    assert.equal(secrets.refreshToken, newest.token ?? newest.refreshToken ?? newest.value, 'the newest one');
    // The old refresh token is refused by Intuit now.
    const basic = Buffer.from(`${DEFAULT_APP.sandbox.clientId}:${DEFAULT_APP.sandbox.clientSecret}`).toString('base64');
    const old = await fetch(`${qbo.baseUrl()}/oauth2/v1/tokens/bearer`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: firstRefreshToken }).toString(),
    });
    assert.equal(old.status, 400);
    assert.equal(((await old.json()) as any).error, 'invalid_grant');
    const reauth = await queryHub(environment, `select id from events where type = 'hub.connection.needs_reauth'`);
    assert.equal(reauth.length, 0);
  });

  test("an idle connection's tokens are renewed by the hub's refresh job, with no step running (Intuit's 100 days never come)", async () => {
    await fetch(`${qbo.baseUrl()}/__sandbox/calls`, { method: 'DELETE' });
    const store = hub.runtime.connections.store;
    const before = store.openSecrets(await store.require('quickbooks'));
    // The job refreshes what expires within its margin; an hour-long access token always comes within it.
    const refreshed = await hub.runtime.connections.refreshExpiring(2 * 3_600_000);
    assert.ok(refreshed >= 1);
    const calls = (await (await fetch(`${qbo.baseUrl()}/__sandbox/calls?path=/oauth2/v1/tokens/bearer`)).json()) as any;
    assert.equal((calls.calls ?? calls).length, 1, 'one refresh');
    const row = await store.require('quickbooks');
    assert.equal(row.status, 'active');
    assert.notEqual(store.openSecrets(row).accessToken, before.accessToken);
    assert.ok(Date.now() - new Date(row.last_refresh_at as unknown as string).getTime() < 60_000);
  });
});
