import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import QuickBooks from 'node-quickbooks';
import {
  startQuickBooksFake, intuitSignature, DEFAULT_APP, DEFAULT_SANDBOX_REALM, DEFAULT_PRODUCTION_REALM, type QboState,
} from '../../sandbox/quickbooks/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ---- Intuit's published webhook test vector (QuickBooks-V3-Java-SDK, WebhooksServiceTest.java) ----
const VECTOR = {
  verifierToken: 'b5771f19b12ddb4bcdb9f08bdc50bc63878a',
  signature: 'JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q=',
  payload: '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}',
};

// An independent verifier (not the fake's signer), with a constant-time compare.
function verify(token: string, raw: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(crypto.createHmac('sha256', Buffer.from(token, 'utf8')).update(raw).digest('base64'));
  const given = Buffer.from(header ?? '');
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

// ---- a webhook receiver that can answer late or fail ----
interface Received { headers: http.IncomingHttpHeaders; raw: Buffer; body: any; at: number }
class Receiver {
  server!: http.Server;
  url = '';
  received: Received[] = [];
  /** Per request in order: a status, or 'hang' (answer 200 after hangMs: too late). Then 200. */
  plan: (number | 'hang')[] = [];
  hangMs = 4000;
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        this.received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')), at: Date.now() });
        const step = this.plan.shift() ?? 200;
        if (step === 'hang') { setTimeout(() => { if (!res.writableEnded) res.writeHead(200).end(); }, this.hangMs).unref(); return; }
        res.writeHead(step).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/quickbooks`;
  }
  stop() { this.server.closeAllConnections(); return new Promise<void>((r) => this.server.close(() => r())); }
}

let fake: RunningFake<QboState>;
let base = '';
const receiver = new Receiver();

before(async () => {
  fake = await startQuickBooksFake();
  base = fake.baseUrl();
  await receiver.start();
  // node-quickbooks reads these module constants at call time (TOKEN_URL, REVOKE_URL) or construction (V3_ENDPOINT_BASE_URL).
  QuickBooks.TOKEN_URL = `${base}/oauth2/v1/tokens/bearer`;
  QuickBooks.REVOKE_URL = `${base}/v2/oauth2/tokens/revoke`;
  QuickBooks.APP_CENTER_BASE = base;
  QuickBooks.V3_ENDPOINT_BASE_URL = `${base}/sandbox-quickbooks/v3/company/`;
});
after(async () => {
  await fake.stop();
  await receiver.stop();
});
beforeEach(() => {
  fake.reset();
  receiver.received = [];
  receiver.plan = [];
});

// ---- helpers ----
const ctl = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}/__sandbox/quickbooks${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json() as any;
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};
interface Conn { access_token: string; refresh_token: string; realmId: string }
const connect = (realmId = DEFAULT_SANDBOX_REALM): Promise<Conn> => ctl('POST', `/apps/${DEFAULT_APP.id}/connect`, { realmId });

function client(conn: Conn, o: { minor?: string; env?: 'sandbox' | 'production'; useSandbox?: boolean } = {}): QuickBooks {
  const keys = DEFAULT_APP[o.env ?? 'sandbox'];
  return new QuickBooks(keys.clientId, keys.clientSecret, conn.access_token, false, conn.realmId, o.useSandbox ?? true, false, o.minor ?? '75', '2.0', conn.refresh_token);
}
/** node-quickbooks callbacks → promises. */
function call<T = any>(fn: (cb: (err: any, data: any) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data))));
}
/** What node-quickbooks hands back on failure: an AxiosError for HTTP errors (body at err.response.data). */
async function failure(p: Promise<unknown>): Promise<{ status: number; body: any }> {
  try { await p; } catch (err: any) {
    if (err?.isAxiosError) return { status: err.response?.status ?? 0, body: err.response?.data };
    return { status: 200, body: err };
  }
  assert.fail('expected a failure');
}
function assertFault(f: { status: number; body: any }, status: number, type: string, code: string) {
  assert.equal(f.status, status, JSON.stringify(f.body));
  assert.equal(f.body.Fault.type, type);
  assert.equal(f.body.Fault.Error[0].code, code, JSON.stringify(f.body));
  assert.equal(typeof f.body.Fault.Error[0].Message, 'string');
  assert.equal(typeof f.body.time, 'string');
}
async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const accountId = async (qbo: QuickBooks, name: string): Promise<string> => {
  const r = await call<any>((cb) => qbo.findAccounts({ Name: name }, cb));
  return r.QueryResponse.Account[0].Id;
};

// ---------------------------------------------------------------------------------------------

test("Intuit's published webhook test vector: the fake's signer produces it", () => {
  assert.equal(intuitSignature(VECTOR.verifierToken, VECTOR.payload), VECTOR.signature);
  assert.ok(verify(VECTOR.verifierToken, Buffer.from(VECTOR.payload), VECTOR.signature));
  const flipped = Buffer.from(VECTOR.payload);
  flipped[10] ^= 1;
  assert.ok(!verify(VECTOR.verifierToken, flipped, VECTOR.signature));
});

test('OAuth: authorize returns code, state and realmId; the code is exchanged with Basic auth; node-quickbooks refreshes', async () => {
  const redirect = 'http://127.0.0.1:9/callback';
  const auth = await fetch(`${base}/connect/oauth2?client_id=${DEFAULT_APP.sandbox.clientId}&response_type=code&scope=com.intuit.quickbooks.accounting&redirect_uri=${encodeURIComponent(redirect)}&state=xyz`, { redirect: 'manual' });
  assert.equal(auth.status, 302);
  const back = new URL(auth.headers.get('location')!);
  assert.equal(back.searchParams.get('state'), 'xyz');
  assert.equal(back.searchParams.get('realmId'), DEFAULT_SANDBOX_REALM);
  const code = back.searchParams.get('code')!;
  assert.ok(code);

  const basic = 'Basic ' + Buffer.from(`${DEFAULT_APP.sandbox.clientId}:${DEFAULT_APP.sandbox.clientSecret}`).toString('base64');
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
  // Credentials in the body only are refused: Intuit wants Basic.
  const postOnly = await fetch(`${base}/oauth2/v1/tokens/bearer`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: DEFAULT_APP.sandbox.clientId, client_secret: DEFAULT_APP.sandbox.clientSecret }) });
  assert.equal(postOnly.status, 401);
  const tok = await fetch(`${base}/oauth2/v1/tokens/bearer`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-include-refresh-token-hard-expires-in': 'true' }, body: form({ grant_type: 'authorization_code', code, redirect_uri: redirect }) });
  assert.equal(tok.status, 200);
  const t = await tok.json() as any;
  assert.equal(t.token_type, 'bearer');
  assert.equal(t.expires_in, 3600);
  assert.equal(t.x_refresh_token_expires_in, 8_726_400);
  assert.equal(t.x_refresh_token_hard_expires_in, 5 * 365 * 24 * 3600);
  const conn = { access_token: t.access_token, refresh_token: t.refresh_token, realmId: back.searchParams.get('realmId')! };

  const qbo = client(conn);
  const info = await call<any>((cb) => qbo.getCompanyInfo(conn.realmId, cb));
  assert.equal(info.Country, 'HK');

  // Within a day the same refresh token comes back (and its 100 days restart).
  const r1 = await call<any>((cb) => qbo.refreshAccessToken(cb));
  assert.equal(r1.refresh_token, conn.refresh_token);
  assert.notEqual(r1.access_token, conn.access_token);
  assert.equal(r1.x_refresh_token_expires_in, 8_726_400);
  assert.equal(r1.x_refresh_token_hard_expires_in, undefined, 'only sent when asked for with the header');

  // A day later the refresh hands out a new one, and the previous one is dead.
  await ctl('POST', '/clock/advance', { hours: 25 });
  const r2 = await call<any>((cb) => qbo.refreshAccessToken(cb));
  assert.notEqual(r2.refresh_token, conn.refresh_token);
  assert.equal(qbo.refreshToken, r2.refresh_token);
  const stale = client({ ...conn, refresh_token: conn.refresh_token });
  const dead = await failure(call((cb) => stale.refreshAccessToken(cb)));
  assert.equal(dead.status, 400);
  assert.equal(dead.body.error, 'invalid_grant');

  // Access tokens last an hour: AuthenticationFault 3200 → 401.
  await call((cb) => qbo.getPreferences(cb));
  await ctl('POST', '/clock/advance', { ms: 3_601_000 });
  assertFault(await failure(call((cb) => qbo.getPreferences(cb))), 401, 'AuthenticationFault', '3200');

  // Revoke (node-quickbooks' revokeAccess): the refresh token and its access tokens stop working.
  await call((cb) => qbo.refreshAccessToken(cb));
  const live = { access_token: qbo.token, refresh_token: qbo.refreshToken!, realmId: conn.realmId };
  await call((cb) => qbo.revokeAccess(true, cb));
  const after = client(live);
  assertFault(await failure(call((cb) => after.getPreferences(cb))), 401, 'AuthenticationFault', '3200');
  assert.equal((await failure(call((cb) => after.refreshAccessToken(cb)))).body.error, 'invalid_grant');
});

test('environments: development keys reach sandbox companies only, on the sandbox host; wrong pairings answer 401/403', async () => {
  const sandboxConn = await connect(DEFAULT_SANDBOX_REALM);
  const prodConn = await connect(DEFAULT_PRODUCTION_REALM);
  // Right host: useSandbox picks V3_ENDPOINT_BASE_URL as is (…/sandbox-quickbooks/…) or without "sandbox-" (…/quickbooks/…).
  assert.equal((await call<any>((cb) => client(sandboxConn).getPreferences(cb))).CurrencyPrefs.HomeCurrency.value, 'HKD');
  assert.equal((await call<any>((cb) => client(prodConn, { env: 'production', useSandbox: false }).getPreferences(cb))).CurrencyPrefs.HomeCurrency.value, 'HKD');
  // A sandbox connection on the production host: 403 ApplicationAuthorizationFailed (3100).
  assertFault(await failure(call((cb) => client(sandboxConn, { useSandbox: false }).getPreferences(cb))), 403, 'SERVICE', '3100');
  // A production connection on the sandbox host: 401 wrong cluster.
  assertFault(await failure(call((cb) => client(prodConn, { env: 'production', useSandbox: true }).getPreferences(cb))), 401, 'AuthenticationFault', '130');
  // A token used for another company: 403.
  assertFault(await failure(call((cb) => client({ ...sandboxConn, realmId: DEFAULT_PRODUCTION_REALM }, { useSandbox: false }).getPreferences(cb))), 403, 'SERVICE', '3100');
  // Refreshing a sandbox connection with the production keys: invalid_grant; a wrong secret: invalid_client.
  const crossed = client(sandboxConn, { env: 'production' });
  assert.equal((await failure(call((cb) => crossed.refreshAccessToken(cb)))).body.error, 'invalid_grant');
  const wrongSecret = new QuickBooks(DEFAULT_APP.sandbox.clientId, 'nope', sandboxConn.access_token, false, sandboxConn.realmId, true, false, '75', '2.0', sandboxConn.refresh_token);
  const bad = await failure(call((cb) => wrongSecret.refreshAccessToken(cb)));
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
});

test('minorversion below 75 is refused with a ValidationFault; 75 works', async () => {
  const conn = await connect();
  assertFault(await failure(call((cb) => client(conn, { minor: '65' }).getPreferences(cb))), 400, 'ValidationFault', '2010');
  await call((cb) => client(conn, { minor: '75' }).getPreferences(cb));
  // Raw call without minorversion (node-quickbooks always sends one): refused too.
  const raw = await fetch(`${base}/v3/company/${conn.realmId}/preferences`, { headers: { authorization: `Bearer ${conn.access_token}`, accept: 'application/json' } });
  assert.equal(raw.status, 400);
  assert.match(JSON.stringify(await raw.json()), /minorversion/);
});

test('CompanyInfo and Preferences: home currency HKD, multicurrency cannot be turned off', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const info = await call<any>((cb) => qbo.getCompanyInfo(conn.realmId, cb));
  assert.equal(info.Id, '1');
  assert.equal(typeof info.CompanyName, 'string');
  const prefs = await call<any>((cb) => qbo.getPreferences(cb));
  assert.deepEqual(prefs.CurrencyPrefs, { MultiCurrencyEnabled: true, HomeCurrency: { value: 'HKD' } });
  const f = await failure(call((cb) => qbo.updatePreferences({ Id: '1', SyncToken: prefs.SyncToken, sparse: true, CurrencyPrefs: { MultiCurrencyEnabled: false } }, cb)));
  assertFault(f, 400, 'ValidationFault', '6000');
  const created = await ctl('POST', '/companies', { realmId: '4620816365000001', multiCurrency: false });
  assert.equal(created.homeCurrency, 'HKD');
  const conn2 = await connect('4620816365000001');
  const q2 = client(conn2);
  const p2 = await call<any>((cb) => q2.getPreferences(cb));
  assert.equal(p2.CurrencyPrefs.MultiCurrencyEnabled, false);
  const on = await call<any>((cb) => q2.updatePreferences({ Id: '1', SyncToken: p2.SyncToken, sparse: true, CurrencyPrefs: { MultiCurrencyEnabled: true } }, cb));
  assert.equal(on.CurrencyPrefs.MultiCurrencyEnabled, true);
});

test('name lists: Account, Vendor, Customer, Employee, Item — create, read, sparse update, duplicate names (6240), 610', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const acc = await call<any>((cb) => qbo.createAccount({ Name: 'Taxis', AccountType: 'Expense' }, cb));
  assert.equal(acc.SyncToken, '0');
  assert.equal(acc.Classification, 'Expense');
  assertFault(await failure(call((cb) => qbo.createAccount({ Name: 'taxis', AccountType: 'Expense' }, cb))), 400, 'ValidationFault', '6240');
  const vendor = await call<any>((cb) => qbo.createVendor({ DisplayName: 'Kowloon Taxi Co', PrimaryEmailAddr: { Address: 'taxi@example.hk' } }, cb));
  assert.equal(vendor.CurrencyRef.value, 'HKD');
  // Names are unique across customers, vendors and employees.
  const dup = await failure(call((cb) => qbo.createCustomer({ DisplayName: 'Kowloon Taxi Co' }, cb)));
  assertFault(dup, 400, 'ValidationFault', '6240');
  assert.match(dup.body.Fault.Error[0].Detail, /customer, vendor or employee/);
  const customer = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'Harbour Foods Ltd' }, cb));
  const employee = await call<any>((cb) => qbo.createEmployee({ GivenName: 'Mei', FamilyName: 'Chan' }, cb));
  assert.equal(employee.DisplayName, 'Mei Chan');
  const item = await call<any>((cb) => qbo.createItem({ Name: 'Consulting', Type: 'Service', UnitPrice: 800 }, cb));
  assertFault(await failure(call((cb) => qbo.createItem({ Name: 'Consulting' }, cb))), 400, 'ValidationFault', '6240');
  assertFault(await failure(call((cb) => qbo.createVendor({}, cb))), 400, 'ValidationFault', '2020');

  const read = await call<any>((cb) => qbo.getVendor(vendor.Id, cb));
  assert.equal(read.PrimaryEmailAddr.Address, 'taxi@example.hk');
  // Sparse update keeps the other fields; SyncToken goes up.
  const upd = await call<any>((cb) => qbo.updateVendor({ Id: vendor.Id, SyncToken: vendor.SyncToken, sparse: true, CompanyName: 'Kowloon Taxi Company Ltd' }, cb));
  assert.equal(upd.SyncToken, '1');
  assert.equal(upd.PrimaryEmailAddr.Address, 'taxi@example.hk');
  // A full update (sparse false) drops what it does not send.
  const full = await call<any>((cb) => qbo.updateCustomer({ Id: customer.Id, SyncToken: customer.SyncToken, sparse: false, DisplayName: 'Harbour Foods Limited' }, cb));
  assert.equal(full.DisplayName, 'Harbour Foods Limited');
  // Name lists are made inactive, never deleted; an inactive one leaves default queries.
  await call((cb) => qbo.updateItem({ Id: item.Id, SyncToken: item.SyncToken, sparse: true, Active: false }, cb));
  const items = await call<any>((cb) => qbo.findItems({ Name: 'Consulting' }, cb));
  assert.deepEqual(items.QueryResponse, {});
  const inactive = await call<any>((cb) => qbo.findItems([{ field: 'Active', value: false }], cb));
  assert.equal(inactive.QueryResponse.Item[0].Name, 'Consulting');
  assert.equal((await call<any>((cb) => qbo.getEmployee(employee.Id, cb))).GivenName, 'Mei');
  assertFault(await failure(call((cb) => qbo.getVendor('9999', cb))), 400, 'ValidationFault', '610');
  assertFault(await failure(call((cb) => qbo.getAccount('9999', cb))), 400, 'ValidationFault', '610');
});

test('SyncToken: a stale update gets the stale-object fault (5010)', async () => {
  const qbo = client(await connect());
  const v = await call<any>((cb) => qbo.createVendor({ DisplayName: 'Stale Supplies' }, cb));
  await call((cb) => qbo.updateVendor({ Id: v.Id, SyncToken: '0', sparse: true, CompanyName: 'A' }, cb));
  const f = await failure(call((cb) => qbo.updateVendor({ Id: v.Id, SyncToken: '0', sparse: true, CompanyName: 'B' }, cb)));
  assertFault(f, 400, 'ValidationFault', '5010');
  assert.equal(f.body.Fault.Error[0].Message, 'Stale Object Error');
  assert.equal((await call<any>((cb) => qbo.getVendor(v.Id, cb))).CompanyName, 'A');
});

test('transactions: Purchase, Bill, Invoice, Payment — create, update, delete, void; business validation (6000)', async () => {
  const qbo = client(await connect());
  const bank = await accountId(qbo, 'Bank');
  const card = await accountId(qbo, 'Company Credit Card');
  const travel = await accountId(qbo, 'Travel');
  const vendor = await call<any>((cb) => qbo.createVendor({ DisplayName: 'Star Ferry' }, cb));

  const purchase = await call<any>((cb) => qbo.createPurchase({
    PaymentType: 'Cash', AccountRef: { value: bank }, EntityRef: { value: vendor.Id, type: 'Vendor' }, PrivateNote: 'Ferry to Central',
    Line: [{ Amount: 20.5, DetailType: 'AccountBasedExpenseLineDetail', AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }, { Amount: 10, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
  }, cb));
  assert.equal(purchase.TotalAmt, 30.5);
  assert.equal(purchase.CurrencyRef.value, 'HKD');
  assert.equal(purchase.ExchangeRate, 1);
  assert.equal(purchase.Line[0].AccountBasedExpenseLineDetail.AccountRef.name, 'Travel');
  // A card purchase from a bank account, a missing account, a bad reference.
  assertFault(await failure(call((cb) => qbo.createPurchase({ PaymentType: 'CreditCard', AccountRef: { value: bank }, Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb))), 400, 'ValidationFault', '6000');
  assertFault(await failure(call((cb) => qbo.createPurchase({ PaymentType: 'Cash', Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb))), 400, 'ValidationFault', '2020');
  assertFault(await failure(call((cb) => qbo.createPurchase({ PaymentType: 'Cash', AccountRef: { value: bank }, Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: '777' } } }] }, cb))), 400, 'ValidationFault', '2500');
  assertFault(await failure(call((cb) => qbo.createPurchase({ PaymentType: 'Cash', AccountRef: { value: bank }, Line: [{ Amount: -5, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb))), 400, 'ValidationFault', '6000');
  const cardPurchase = await call<any>((cb) => qbo.createPurchase({ PaymentType: 'CreditCard', AccountRef: { value: card }, Line: [{ Amount: 99, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb));
  assert.equal(cardPurchase.TotalAmt, 99);
  const pu = await call<any>((cb) => qbo.updatePurchase({ Id: purchase.Id, SyncToken: purchase.SyncToken, sparse: true, PrivateNote: 'Ferry (reviewed)' }, cb));
  assert.equal(pu.TotalAmt, 30.5);
  const del = await call<any>((cb) => qbo.deletePurchase(pu.Id, cb));
  assert.deepEqual(del.Purchase, { domain: 'QBO', status: 'Deleted', Id: pu.Id });
  assertFault(await failure(call((cb) => qbo.getPurchase(pu.Id, cb))), 400, 'ValidationFault', '610');

  const bill = await call<any>((cb) => qbo.createBill({ VendorRef: { value: vendor.Id }, DueDate: '2027-01-31', Line: [{ Amount: 300, DetailType: 'AccountBasedExpenseLineDetail', AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb));
  assert.equal(bill.Balance, 300);
  assert.equal(bill.DueDate, '2027-01-31');
  assert.equal(bill.APAccountRef.name, 'Accounts Payable (A/P)');
  assertFault(await failure(call((cb) => qbo.createBill({ Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb))), 400, 'ValidationFault', '2020');
  await call((cb) => qbo.deleteBill(bill, cb));

  const customer = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'Lantau Bakery' }, cb));
  const inv = await call<any>((cb) => qbo.createInvoice({ CustomerRef: { value: customer.Id }, TxnDate: '2026-12-01', Line: [{ Amount: 1200, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: {} }] }, cb));
  assert.equal(inv.Balance, 1200);
  assert.equal(inv.DueDate, '2026-12-31');
  assert.ok(inv.DocNumber);
  const pay = await call<any>((cb) => qbo.createPayment({ CustomerRef: { value: customer.Id }, TotalAmt: 1200, Line: [{ Amount: 1200, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] }] }, cb));
  assert.equal(pay.UnappliedAmt, 0);
  assert.equal((await call<any>((cb) => qbo.getInvoice(inv.Id, cb))).Balance, 0);
  assertFault(await failure(call((cb) => qbo.deleteInvoice(inv.Id, cb))), 400, 'ValidationFault', '6000');
  // Voiding the payment (node-quickbooks: update with include=void) opens the invoice again.
  const voided = await call<any>((cb) => qbo.voidPayment({ Id: pay.Id, SyncToken: pay.SyncToken }, cb));
  assert.equal(voided.TotalAmt, 0);
  const reopened = await call<any>((cb) => qbo.getInvoice(inv.Id, cb));
  assert.equal(reopened.Balance, 1200);
  const vi = await call<any>((cb) => qbo.voidInvoice(reopened, cb));
  assert.equal(vi.Invoice.TotalAmt, 0);
  assert.equal(vi.Invoice.PrivateNote, 'Voided');
  const inv2 = await call<any>((cb) => qbo.createInvoice({ CustomerRef: { value: customer.Id }, Line: [{ Amount: 50, SalesItemLineDetail: {} }] }, cb));
  await call((cb) => qbo.deleteInvoice(inv2.Id, cb));
});
