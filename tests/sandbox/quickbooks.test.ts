import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import qbModule, { type QuickBooks as QuickBooksClient } from 'node-quickbooks';
import {
  startQuickBooksFake,
  intuitSignature,
  DEFAULT_APP,
  DEFAULT_SANDBOX_REALM,
  DEFAULT_PRODUCTION_REALM,
  type QboState,
} from '../../sandbox/quickbooks/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ---- Intuit's published webhook test vector (QuickBooks-V3-Java-SDK, WebhooksServiceTest.java) ----
const VECTOR = {
  verifierToken: 'b5771f19b12ddb4bcdb9f08bdc50bc63878a',
  signature: 'JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q=',
  payload:
    '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}',
};

// An independent verifier (not the fake's signer), with a constant-time compare.
function verify(token: string, raw: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(crypto.createHmac('sha256', Buffer.from(token, 'utf8')).update(raw).digest('base64'));
  const given = Buffer.from(header ?? '');
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

// ---- a webhook receiver that can answer late or fail ----
interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: any;
  at: number;
}
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
        if (step === 'hang') {
          setTimeout(() => {
            if (!res.writableEnded) res.writeHead(200).end();
          }, this.hangMs).unref();
          return;
        }
        res.writeHead(step).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/quickbooks`;
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

// node-quickbooks is CommonJS (module.exports = the class) but its types declare an ES default export:
// under NodeNext the default import is the class itself at run time, typed as the module.
const QuickBooks = qbModule as unknown as typeof QuickBooksClient;

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
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};
interface Conn {
  access_token: string;
  refresh_token: string;
  realmId: string;
}
const connect = (realmId = DEFAULT_SANDBOX_REALM): Promise<Conn> => ctl('POST', `/apps/${DEFAULT_APP.id}/connect`, { realmId });

function client(conn: Conn, o: { minor?: string; env?: 'sandbox' | 'production'; useSandbox?: boolean } = {}): QuickBooksClient {
  const keys = DEFAULT_APP[o.env ?? 'sandbox'];
  return new QuickBooks(
    keys.clientId,
    keys.clientSecret,
    conn.access_token,
    false,
    conn.realmId,
    o.useSandbox ?? true,
    false,
    o.minor ?? '75',
    '2.0',
    conn.refresh_token,
  );
}
/** node-quickbooks callbacks → promises. */
function call<T = any>(fn: (cb: (err: any, data: any) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data))));
}
/** What node-quickbooks hands back on failure: an AxiosError for HTTP errors (body at err.response.data). */
async function failure(p: Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await p;
  } catch (err: any) {
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
const accountId = async (qbo: QuickBooksClient, name: string): Promise<string> => {
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
  const auth = await fetch(
    `${base}/connect/oauth2?client_id=${DEFAULT_APP.sandbox.clientId}&response_type=code&scope=com.intuit.quickbooks.accounting&redirect_uri=${encodeURIComponent(redirect)}&state=xyz`,
    { redirect: 'manual' },
  );
  assert.equal(auth.status, 302);
  const back = new URL(auth.headers.get('location')!);
  assert.equal(back.searchParams.get('state'), 'xyz');
  assert.equal(back.searchParams.get('realmId'), DEFAULT_SANDBOX_REALM);
  const code = back.searchParams.get('code')!;
  assert.ok(code);

  const basic = 'Basic ' + Buffer.from(`${DEFAULT_APP.sandbox.clientId}:${DEFAULT_APP.sandbox.clientSecret}`).toString('base64');
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
  // Credentials in the body only are refused: Intuit wants Basic.
  const postOnly = await fetch(`${base}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      client_id: DEFAULT_APP.sandbox.clientId,
      client_secret: DEFAULT_APP.sandbox.clientSecret,
    }),
  });
  assert.equal(postOnly.status, 401);
  const tok = await fetch(`${base}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: {
      authorization: basic,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'x-include-refresh-token-hard-expires-in': 'true',
    },
    body: form({ grant_type: 'authorization_code', code, redirect_uri: redirect }),
  });
  assert.equal(tok.status, 200);
  const t = (await tok.json()) as any;
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

test('refresh tokens: 100 days from their last use, never past the 5-year hard expiry', async () => {
  const conn = await connect();
  const qbo = client(conn);
  await ctl('POST', '/clock/advance', { days: 90 });
  // Used on day 90: a new token (it was older than a day) that again lives 101 days.
  const r = await call<any>((cb) => qbo.refreshAccessToken(cb));
  assert.notEqual(r.refresh_token, conn.refresh_token);
  assert.equal(r.x_refresh_token_expires_in, 8_726_400);
  // Left unused past its 101 days: invalid_grant, the cliff an idle connection must avoid.
  await ctl('POST', '/clock/advance', { days: 102 });
  const dead = await failure(call((cb) => qbo.refreshAccessToken(cb)));
  assert.equal(dead.status, 400);
  assert.equal(dead.body.error, 'invalid_grant');
  // The hard expiry counts down from the connection's start, asked for with Intuit's header.
  const fresh = await connect();
  const basic = 'Basic ' + Buffer.from(`${DEFAULT_APP.sandbox.clientId}:${DEFAULT_APP.sandbox.clientSecret}`).toString('base64');
  await ctl('POST', '/clock/advance', { days: 10 });
  const res = await fetch(`${base}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: {
      authorization: basic,
      'content-type': 'application/x-www-form-urlencoded',
      'x-include-refresh-token-hard-expires-in': 'true',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: fresh.refresh_token }).toString(),
  });
  const t = (await res.json()) as any;
  assert.equal(t.x_refresh_token_hard_expires_in, 5 * 365 * 86_400 - 10 * 86_400);
});

test('environments: development keys reach sandbox companies only, on the sandbox host; wrong pairings answer 401/403', async () => {
  const sandboxConn = await connect(DEFAULT_SANDBOX_REALM);
  const prodConn = await connect(DEFAULT_PRODUCTION_REALM);
  // Right host: useSandbox picks V3_ENDPOINT_BASE_URL as is (…/sandbox-quickbooks/…) or without "sandbox-" (…/quickbooks/…).
  assert.equal((await call<any>((cb) => client(sandboxConn).getPreferences(cb))).CurrencyPrefs.HomeCurrency.value, 'HKD');
  assert.equal(
    (await call<any>((cb) => client(prodConn, { env: 'production', useSandbox: false }).getPreferences(cb))).CurrencyPrefs.HomeCurrency
      .value,
    'HKD',
  );
  // A sandbox connection on the production host: 403 ApplicationAuthorizationFailed (3100).
  assertFault(await failure(call((cb) => client(sandboxConn, { useSandbox: false }).getPreferences(cb))), 403, 'SERVICE', '3100');
  // A production connection on the sandbox host: 401 wrong cluster.
  assertFault(
    await failure(call((cb) => client(prodConn, { env: 'production', useSandbox: true }).getPreferences(cb))),
    401,
    'AuthenticationFault',
    '130',
  );
  // A token used for another company: 403.
  assertFault(
    await failure(call((cb) => client({ ...sandboxConn, realmId: DEFAULT_PRODUCTION_REALM }, { useSandbox: false }).getPreferences(cb))),
    403,
    'SERVICE',
    '3100',
  );
  // Refreshing a sandbox connection with the production keys: invalid_grant; a wrong secret: invalid_client.
  const crossed = client(sandboxConn, { env: 'production' });
  assert.equal((await failure(call((cb) => crossed.refreshAccessToken(cb)))).body.error, 'invalid_grant');
  const wrongSecret = new QuickBooks(
    DEFAULT_APP.sandbox.clientId,
    'nope',
    sandboxConn.access_token,
    false,
    sandboxConn.realmId,
    true,
    false,
    '75',
    '2.0',
    sandboxConn.refresh_token,
  );
  const bad = await failure(call((cb) => wrongSecret.refreshAccessToken(cb)));
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
});

test('minorversion below 75 is refused with a ValidationFault; 75 works', async () => {
  const conn = await connect();
  assertFault(await failure(call((cb) => client(conn, { minor: '65' }).getPreferences(cb))), 400, 'ValidationFault', '2010');
  await call((cb) => client(conn, { minor: '75' }).getPreferences(cb));
  // Raw call without minorversion (node-quickbooks always sends one): refused too.
  const raw = await fetch(`${base}/v3/company/${conn.realmId}/preferences`, {
    headers: { authorization: `Bearer ${conn.access_token}`, accept: 'application/json' },
  });
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
  const f = await failure(
    call((cb) =>
      qbo.updatePreferences({ Id: '1', SyncToken: prefs.SyncToken, sparse: true, CurrencyPrefs: { MultiCurrencyEnabled: false } }, cb),
    ),
  );
  assertFault(f, 400, 'ValidationFault', '6000');
  const created = await ctl('POST', '/companies', { realmId: '4620816365000001', multiCurrency: false });
  assert.equal(created.homeCurrency, 'HKD');
  const conn2 = await connect('4620816365000001');
  const q2 = client(conn2);
  const p2 = await call<any>((cb) => q2.getPreferences(cb));
  assert.equal(p2.CurrencyPrefs.MultiCurrencyEnabled, false);
  const on = await call<any>((cb) =>
    q2.updatePreferences({ Id: '1', SyncToken: p2.SyncToken, sparse: true, CurrencyPrefs: { MultiCurrencyEnabled: true } }, cb),
  );
  assert.equal(on.CurrencyPrefs.MultiCurrencyEnabled, true);
});

test('name lists: Account, Vendor, Customer, Employee, Item — create, read, sparse update, duplicate names (6240), 610', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const acc = await call<any>((cb) => qbo.createAccount({ Name: 'Taxis', AccountType: 'Expense' }, cb));
  assert.equal(acc.SyncToken, '0');
  assert.equal(acc.Classification, 'Expense');
  assertFault(
    await failure(call((cb) => qbo.createAccount({ Name: 'taxis', AccountType: 'Expense' }, cb))),
    400,
    'ValidationFault',
    '6240',
  );
  const vendor = await call<any>((cb) =>
    qbo.createVendor({ DisplayName: 'Kowloon Taxi Co', PrimaryEmailAddr: { Address: 'taxi@example.hk' } }, cb),
  );
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
  const upd = await call<any>((cb) =>
    qbo.updateVendor({ Id: vendor.Id, SyncToken: vendor.SyncToken, sparse: true, CompanyName: 'Kowloon Taxi Company Ltd' }, cb),
  );
  assert.equal(upd.SyncToken, '1');
  assert.equal(upd.PrimaryEmailAddr.Address, 'taxi@example.hk');
  // A full update (sparse false) drops what it does not send.
  const full = await call<any>((cb) =>
    qbo.updateCustomer({ Id: customer.Id, SyncToken: customer.SyncToken, sparse: false, DisplayName: 'Harbour Foods Limited' }, cb),
  );
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

  const purchase = await call<any>((cb) =>
    qbo.createPurchase(
      {
        PaymentType: 'Cash',
        AccountRef: { value: bank },
        EntityRef: { value: vendor.Id, type: 'Vendor' },
        PrivateNote: 'Ferry to Central',
        Line: [
          { Amount: 20.5, DetailType: 'AccountBasedExpenseLineDetail', AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } },
          { Amount: 10, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } },
        ],
      },
      cb,
    ),
  );
  assert.equal(purchase.TotalAmt, 30.5);
  assert.equal(purchase.CurrencyRef.value, 'HKD');
  assert.equal(purchase.ExchangeRate, 1);
  assert.equal(purchase.Line[0].AccountBasedExpenseLineDetail.AccountRef.name, 'Travel');
  // A card purchase from a bank account, a missing account, a bad reference.
  assertFault(
    await failure(
      call((cb) =>
        qbo.createPurchase(
          {
            PaymentType: 'CreditCard',
            AccountRef: { value: bank },
            Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
          },
          cb,
        ),
      ),
    ),
    400,
    'ValidationFault',
    '6000',
  );
  assertFault(
    await failure(
      call((cb) =>
        qbo.createPurchase(
          { PaymentType: 'Cash', Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] },
          cb,
        ),
      ),
    ),
    400,
    'ValidationFault',
    '2020',
  );
  assertFault(
    await failure(
      call((cb) =>
        qbo.createPurchase(
          {
            PaymentType: 'Cash',
            AccountRef: { value: bank },
            Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: '777' } } }],
          },
          cb,
        ),
      ),
    ),
    400,
    'ValidationFault',
    '2500',
  );
  assertFault(
    await failure(
      call((cb) =>
        qbo.createPurchase(
          {
            PaymentType: 'Cash',
            AccountRef: { value: bank },
            Line: [{ Amount: -5, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
          },
          cb,
        ),
      ),
    ),
    400,
    'ValidationFault',
    '6000',
  );
  const cardPurchase = await call<any>((cb) =>
    qbo.createPurchase(
      {
        PaymentType: 'CreditCard',
        AccountRef: { value: card },
        Line: [{ Amount: 99, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
      },
      cb,
    ),
  );
  assert.equal(cardPurchase.TotalAmt, 99);
  const pu = await call<any>((cb) =>
    qbo.updatePurchase({ Id: purchase.Id, SyncToken: purchase.SyncToken, sparse: true, PrivateNote: 'Ferry (reviewed)' }, cb),
  );
  assert.equal(pu.TotalAmt, 30.5);
  const del = await call<any>((cb) => qbo.deletePurchase(pu.Id, cb));
  assert.deepEqual(del.Purchase, { domain: 'QBO', status: 'Deleted', Id: pu.Id });
  assertFault(await failure(call((cb) => qbo.getPurchase(pu.Id, cb))), 400, 'ValidationFault', '610');

  const bill = await call<any>((cb) =>
    qbo.createBill(
      {
        VendorRef: { value: vendor.Id },
        DueDate: '2027-01-31',
        Line: [
          { Amount: 300, DetailType: 'AccountBasedExpenseLineDetail', AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } },
        ],
      },
      cb,
    ),
  );
  assert.equal(bill.Balance, 300);
  assert.equal(bill.DueDate, '2027-01-31');
  assert.equal(bill.APAccountRef.name, 'Accounts Payable (A/P)');
  assertFault(
    await failure(
      call((cb) => qbo.createBill({ Line: [{ Amount: 1, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }] }, cb)),
    ),
    400,
    'ValidationFault',
    '2020',
  );
  await call((cb) => qbo.deleteBill(bill, cb));

  const customer = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'Lantau Bakery' }, cb));
  const inv = await call<any>((cb) =>
    qbo.createInvoice(
      {
        CustomerRef: { value: customer.Id },
        TxnDate: '2026-12-01',
        Line: [{ Amount: 1200, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: {} }],
      },
      cb,
    ),
  );
  assert.equal(inv.Balance, 1200);
  assert.equal(inv.DueDate, '2026-12-31');
  assert.ok(inv.DocNumber);
  const pay = await call<any>((cb) =>
    qbo.createPayment(
      { CustomerRef: { value: customer.Id }, TotalAmt: 1200, Line: [{ Amount: 1200, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] }] },
      cb,
    ),
  );
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
  const inv2 = await call<any>((cb) =>
    qbo.createInvoice({ CustomerRef: { value: customer.Id }, Line: [{ Amount: 50, SalesItemLineDetail: {} }] }, cb),
  );
  await call((cb) => qbo.deleteInvoice(inv2.Id, cb));
});

test('query: =, <, >, IN, LIKE, AND, orderby, startposition/maxresults, COUNT(*), fetchAll; bad queries fault', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const names = ['Alpha Printing', 'Beta Paper', 'Gamma Ink', 'Delta Couriers', 'Epsilon Paper'];
  const vendors: any[] = [];
  for (const [i, n] of names.entries()) vendors.push(await call<any>((cb) => qbo.createVendor({ DisplayName: n, Balance: i * 100 }, cb)));
  const ids = (r: any) => (r.QueryResponse.Vendor ?? []).map((v: any) => v.DisplayName);

  assert.deepEqual(ids(await call((cb) => qbo.findVendors({ DisplayName: 'Gamma Ink' }, cb))), ['Gamma Ink']);
  assert.deepEqual(ids(await call((cb) => qbo.findVendors([{ field: 'DisplayName', value: '%Paper', operator: 'LIKE' }], cb))), [
    'Beta Paper',
    'Epsilon Paper',
  ]);
  assert.deepEqual(ids(await call((cb) => qbo.findVendors([{ field: 'Id', value: [vendors[0].Id, vendors[3].Id], operator: 'IN' }], cb))), [
    'Alpha Printing',
    'Delta Couriers',
  ]);
  assert.deepEqual(
    ids(
      await call((cb) =>
        qbo.findVendors(
          [
            { field: 'Balance', value: 150, operator: '>' },
            { field: 'Balance', value: 350, operator: '<' },
          ],
          cb,
        ),
      ),
    ),
    ['Gamma Ink', 'Delta Couriers'],
  );
  assert.deepEqual(
    ids(
      await call((cb) =>
        qbo.findVendors(
          [
            { field: 'DisplayName', value: '%a%', operator: 'LIKE' },
            { field: 'desc', value: 'DisplayName' },
            { field: 'limit', value: 2 },
            { field: 'offset', value: 2 },
          ],
          cb,
        ),
      ),
    ),
    ['Epsilon Paper', 'Delta Couriers'],
  );
  const count = await call<any>((cb) => qbo.findVendors({ count: true }, cb));
  assert.equal(count.QueryResponse.totalCount, 5);
  const page = await call<any>((cb) =>
    qbo.findVendors(
      [
        { field: 'limit', value: 2 },
        { field: 'asc', value: 'Id' },
      ],
      cb,
    ),
  );
  assert.equal(page.QueryResponse.maxResults, 2);
  assert.equal(page.QueryResponse.startPosition, 1);
  const all = await call<any>((cb) =>
    qbo.findVendors(
      [
        { field: 'fetchAll', value: true },
        { field: 'limit', value: 2 },
      ],
      cb,
    ),
  );
  assert.equal(all.QueryResponse.Vendor.length, 5);
  // A raw query string as node-quickbooks passes it through (MetaData dates, AND).
  const since = vendors[2].MetaData.CreateTime;
  // node-quickbooks passes a string criteria through as the query's tail (its types do not declare it).
  const raw = await call<any>((cb) => qbo.findVendors(`where MetaData.CreateTime >= '${since}' AND Active = true` as any, cb));
  assert.ok(raw.QueryResponse.Vendor.length >= 1);
  const none = await call<any>((cb) => qbo.findVendors({ DisplayName: 'Nobody' }, cb));
  assert.deepEqual(none.QueryResponse, {});
  assertFault(
    await failure(call((cb) => qbo.findVendors("where DisplayName = 'A' or DisplayName = 'B'" as any, cb))),
    400,
    'ValidationFault',
    '4000',
  );
  assertFault(await failure(call((cb) => qbo.findVendors([{ field: 'limit', value: 1001 }], cb))), 400, 'ValidationFault', '4000');
});

test('upload: node-quickbooks uploads and links a receipt; Intuit-style file_metadata_0/file_content_0 too; the fake keeps the bytes (sha256)', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const bank = await accountId(qbo, 'Bank');
  const travel = await accountId(qbo, 'Travel');
  const purchase = await call<any>((cb) =>
    qbo.createPurchase(
      {
        PaymentType: 'Cash',
        AccountRef: { value: bank },
        Line: [{ Amount: 88, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
      },
      cb,
    ),
  );
  const receipt = crypto.randomBytes(3000);
  // node-quickbooks posts part file_content_01 (no metadata), then links it with a sparse Attachable update.
  const linked = await call<any>((cb) => qbo.upload('receipt.png', 'image/png', receipt, 'Purchase', purchase.Id, cb));
  assert.equal(linked.FileName, 'receipt.png');
  assert.deepEqual(
    linked.AttachableRef.map((r: any) => r.EntityRef),
    [{ type: 'Purchase', value: purchase.Id }],
  );
  assert.equal(linked.SyncToken, '1');
  const listed = await ctl('GET', `/companies/${conn.realmId}/attachables`);
  const a = listed.attachables.find((x: any) => x.Id === linked.Id);
  assert.equal(a.sha256, crypto.createHash('sha256').update(receipt).digest('hex'));
  assert.equal(a.size, 3000);
  const fetched = Buffer.from(await (await fetch(linked.TempDownloadUri)).arrayBuffer());
  assert.ok(fetched.equals(receipt));
  const found = await call<any>((cb) => qbo.findAttachables([{ field: 'AttachableRef.EntityRef.value', value: purchase.Id }], cb));
  assert.equal(found.QueryResponse.Attachable[0].Id, linked.Id);
  // node-quickbooks' download link helper is not there: Intuit's /download/{id} answers the temporary URL as text.
  const dl = await fetch(`${base}/v3/company/${conn.realmId}/download/${linked.Id}?minorversion=75`, {
    headers: { authorization: `Bearer ${conn.access_token}` },
  });
  assert.equal(await dl.text(), linked.TempDownloadUri);

  // The documented multipart form (metadata with AttachableRef in the same request) — node-quickbooks cannot send it.
  const form = new FormData();
  form.append(
    'file_metadata_0',
    new Blob(
      [
        JSON.stringify({
          AttachableRef: [{ EntityRef: { type: 'Purchase', value: purchase.Id } }],
          FileName: 'receipt.pdf',
          ContentType: 'application/pdf',
        }),
      ],
      { type: 'application/json' },
    ),
    'meta.json',
  );
  form.append('file_content_0', new Blob([Buffer.from('%PDF-1.4 fake')], { type: 'application/pdf' }), 'receipt.pdf');
  const res = await fetch(`${base}/v3/company/${conn.realmId}/upload?minorversion=75`, {
    method: 'POST',
    headers: { authorization: `Bearer ${conn.access_token}`, accept: 'application/json' },
    body: form,
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  assert.equal(body.AttachableResponse[0].Attachable.AttachableRef[0].EntityRef.value, purchase.Id);
  // Linking to something that does not exist: a Fault inside AttachableResponse.
  // Deleting the Attachable deletes the file.
  const second = body.AttachableResponse[0].Attachable;
  await call((cb) => qbo.deleteAttachable(second.Id, cb));
  assert.equal((await fetch(second.TempDownloadUri)).status, 403);
  assert.equal((await ctl('GET', `/companies/${conn.realmId}/attachables`)).attachables.length, 1);
  const bad = new FormData();
  bad.append(
    'file_metadata_0',
    new Blob([JSON.stringify({ AttachableRef: [{ EntityRef: { type: 'Purchase', value: '9999' } }] })], { type: 'application/json' }),
  );
  bad.append('file_content_0', new Blob([Buffer.from('x')], { type: 'text/plain' }), 'x.txt');
  const badRes = (await (
    await fetch(`${base}/v3/company/${conn.realmId}/upload?minorversion=75`, {
      method: 'POST',
      headers: { authorization: `Bearer ${conn.access_token}` },
      body: bad,
    })
  ).json()) as any;
  assert.equal(badRes.AttachableResponse[0].Fault.Error[0].code, '2500');
});

test('requestid: the same requestid returns the first answer; the control API counts them', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const bank = await accountId(qbo, 'Bank');
  const travel = await accountId(qbo, 'Travel');
  const purchase = () => ({
    requestId: 'step-42',
    PaymentType: 'Cash',
    AccountRef: { value: bank },
    Line: [{ Amount: 15, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
  });
  const [a, b] = await Promise.all([
    call<any>((cb) => qbo.createPurchase(purchase(), cb)),
    call<any>((cb) => qbo.createPurchase(purchase(), cb)),
  ]);
  const c = await call<any>((cb) => qbo.createPurchase(purchase(), cb));
  assert.equal(a.Id, b.Id);
  assert.equal(a.Id, c.Id);
  const other = await call<any>((cb) => qbo.createPurchase({ ...purchase(), requestId: 'step-43' }, cb));
  assert.notEqual(other.Id, a.Id);
  const calls = (await (await fetch(`${base}/__sandbox/calls?path=/purchase`)).json()) as any;
  assert.ok(
    calls.calls.every((x: any) => x.query.requestid && !('requestId' in (x.body ?? {}))),
    'node-quickbooks moves requestId to the requestid query parameter',
  );
  assert.deepEqual(await ctl('GET', `/companies/${conn.realmId}/requestids`), { requests: 4, distinct: 2, replayed: 2 });
  const all = await call<any>((cb) => qbo.findPurchases({ count: true }, cb));
  assert.equal(all.QueryResponse.totalCount, 2);
  // A 5xx after the work was done (the answer lost): the retry with the same requestid gets the Purchase made then.
  await ctl('PUT', '/settings', { failureRate: 1, failAfterWorkRate: 1 });
  assertFault(await failure(call((cb) => qbo.createPurchase({ ...purchase(), requestId: 'step-45' }, cb))), 503, 'SystemFault', '10000');
  await ctl('PUT', '/settings', { failureRate: 0 });
  const retried = await call<any>((cb) => qbo.createPurchase({ ...purchase(), requestId: 'step-45' }, cb));
  assert.equal((await call<any>((cb) => qbo.findPurchases({ count: true }, cb))).QueryResponse.totalCount, 3);
  assert.equal((await ctl('GET', '/concurrency')).injectedFailures.after, 1);
  assert.equal((await call<any>((cb) => qbo.getPurchase(retried.Id, cb))).Id, retried.Id);
  // A failed create is replayed as the same Fault.
  const bad = () => ({ requestId: 'step-44', PaymentType: 'Cash', Line: [] });
  assertFault(await failure(call((cb) => qbo.createPurchase(bad(), cb))), 400, 'ValidationFault', '2020');
  assertFault(await failure(call((cb) => qbo.createPurchase(bad(), cb))), 400, 'ValidationFault', '2020');
});

test('throttling: 11 concurrent calls → exactly one 429 ThrottleExceeded (003001); 500 a minute per company', async () => {
  const conn = await connect();
  const qbo = client(conn);
  await ctl('PUT', '/settings', { latencyMs: 1500 });
  const results = await Promise.allSettled(Array.from({ length: 11 }, () => call((cb) => qbo.getPreferences(cb))));
  const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(rejected.length, 1);
  const f = rejected[0]!.reason.response;
  assert.equal(f.status, 429);
  assert.equal(f.data.Fault.type, 'SERVICE');
  assert.equal(f.data.Fault.Error[0].code, '3001');
  assert.match(f.data.Fault.Error[0].Message, /ThrottleExceeded; errorCode=003001; statusCode=429/);
  const conc = await ctl('GET', '/concurrency');
  assert.equal(conc.maxConcurrent[`${DEFAULT_APP.id}:${conn.realmId}`], 10);

  await ctl('PUT', '/settings', { latencyMs: 0 });
  await ctl('POST', '/concurrency/reset');
  assert.equal((await ctl('GET', '/settings')).requestsPerMinute, 500);
  for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 10 }, () => call((cb) => qbo.getPreferences(cb))));
  const over = await failure(call((cb) => qbo.getPreferences(cb)));
  assertFault(over, 429, 'SERVICE', '3001');
  // Another company has its own minute; a minute later the first one is served again.
  await ctl('POST', '/companies', { realmId: '4620816365000002' });
  const other = await connect('4620816365000002');
  await call((cb) => client(other).getPreferences(cb));
  await ctl('POST', '/clock/advance', { seconds: 61 });
  await call((cb) => qbo.getPreferences(cb));
});

test('multicurrency: a USD purchase in an HKD company carries CurrencyRef, ExchangeRate and HomeTotalAmt; refused when multicurrency is off', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const bank = await accountId(qbo, 'Bank');
  const travel = await accountId(qbo, 'Travel');
  const usdVendor = await call<any>((cb) => qbo.createVendor({ DisplayName: 'Delta Air Lines', CurrencyRef: { value: 'USD' } }, cb));
  const p = await call<any>((cb) =>
    qbo.createPurchase(
      {
        PaymentType: 'Cash',
        AccountRef: { value: bank },
        EntityRef: { value: usdVendor.Id, type: 'Vendor' },
        CurrencyRef: { value: 'USD' },
        ExchangeRate: 7.81,
        Line: [{ Amount: 100, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
      },
      cb,
    ),
  );
  assert.deepEqual(p.CurrencyRef, { value: 'USD', name: 'USD' });
  assert.equal(p.ExchangeRate, 7.81);
  assert.equal(p.HomeTotalAmt, 781);
  // Without a rate the company's rate applies; a currency that differs from the vendor's is refused.
  const p2 = await call<any>((cb) =>
    qbo.createPurchase(
      {
        PaymentType: 'Cash',
        AccountRef: { value: bank },
        CurrencyRef: { value: 'USD' },
        Line: [{ Amount: 10, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
      },
      cb,
    ),
  );
  assert.equal(p2.ExchangeRate, 7.8);
  assertFault(
    await failure(
      call((cb) =>
        qbo.createPurchase(
          {
            PaymentType: 'Cash',
            AccountRef: { value: bank },
            EntityRef: { value: usdVendor.Id, type: 'Vendor' },
            CurrencyRef: { value: 'HKD' },
            Line: [{ Amount: 10, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
          },
          cb,
        ),
      ),
    ),
    400,
    'ValidationFault',
    '6000',
  );
  await ctl('PATCH', `/companies/${conn.realmId}`, { multiCurrency: false });
  const off = await failure(
    call((cb) =>
      qbo.createPurchase(
        {
          PaymentType: 'Cash',
          AccountRef: { value: bank },
          CurrencyRef: { value: 'USD' },
          Line: [{ Amount: 10, AccountBasedExpenseLineDetail: { AccountRef: { value: travel } } }],
        },
        cb,
      ),
    ),
  );
  assertFault(off, 400, 'ValidationFault', '6000');
  assert.match(off.body.Fault.Error[0].Detail, /Multicurrency/);
});

test('CDC: changes since a time, deleted objects as status Deleted, at most 30 days back and 1,000 objects', async () => {
  const conn = await connect();
  const qbo = client(conn);
  const start = new Date(Date.now() - 1000);
  const c1 = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'CDC Customer' }, cb));
  const inv = await call<any>((cb) =>
    qbo.createInvoice({ CustomerRef: { value: c1.Id }, Line: [{ Amount: 10, SalesItemLineDetail: {} }] }, cb),
  );
  const inv2 = await call<any>((cb) =>
    qbo.createInvoice({ CustomerRef: { value: c1.Id }, Line: [{ Amount: 20, SalesItemLineDetail: {} }] }, cb),
  );
  await call((cb) => qbo.deleteInvoice(inv2.Id, cb));
  const cdc = await call<any>((cb) => qbo.changeDataCapture(['Invoice', 'Customer'], start, cb));
  const [invoices, customers] = cdc.CDCResponse[0].QueryResponse;
  assert.deepEqual(
    invoices.Invoice.map((x: any) => [x.Id, x.status ?? 'live']),
    [
      [inv.Id, 'live'],
      [inv2.Id, 'Deleted'],
    ],
  );
  assert.equal(invoices.Invoice[1].domain, 'QBO');
  assert.equal(customers.Customer[0].DisplayName, 'CDC Customer');

  // 1,000 objects an answer, oldest changes first.
  await ctl('POST', `/companies/${conn.realmId}/entities/bulk`, {
    type: 'Customer',
    items: Array.from({ length: 1005 }, (_, i) => ({ DisplayName: `Bulk ${i}` })),
  });
  const big = await call<any>((cb) => qbo.changeDataCapture('Customer', start, cb));
  assert.equal(big.CDCResponse[0].QueryResponse[0].Customer.length, 1000);
  assert.equal(big.CDCResponse[0].QueryResponse[0].Customer[0].DisplayName, 'CDC Customer');

  // 30 days back at most.
  await ctl('POST', '/clock/advance', { days: 31 });
  const fresh = await connect();
  const later = client(fresh);
  assertFault(await failure(call((cb) => later.changeDataCapture('Invoice', start, cb))), 400, 'ValidationFault', '2010');
  const recent = await call<any>((cb) => later.changeDataCapture('Invoice', new Date(Date.now() + 2 * 86_400_000), cb));
  assert.deepEqual(recent.CDCResponse[0].QueryResponse, [{}]);
});

test('webhooks: batched legacy notifications signed with the verifier token, retried until answered 200 within 3 s', async () => {
  // A long batch interval, flushed by hand: the three changes go out in one POST however slow the machine is.
  await ctl('PATCH', `/apps/${DEFAULT_APP.id}`, { webhookUrl: receiver.url, webhookFormat: 'legacy', batchIntervalMs: 60_000 });
  await ctl('PUT', '/settings', { retryDelaysMs: [50, 50, 50] });
  const conn = await connect();
  const qbo = client(conn);
  const v = await call<any>((cb) => qbo.createVendor({ DisplayName: 'Webhook Vendor' }, cb));
  await call((cb) => qbo.updateVendor({ Id: v.Id, SyncToken: v.SyncToken, sparse: true, CompanyName: 'WV Ltd' }, cb));
  const c = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'Webhook Customer' }, cb));
  assert.equal(receiver.received.length, 0);
  await ctl('POST', '/webhooks/flush');
  const got = await until('a legacy delivery', () => receiver.received[0]);
  assert.ok(verify(DEFAULT_APP.verifierToken, got.raw, got.headers['intuit-signature'] as string));
  assert.equal(receiver.received.length, 1, 'one batch');
  const [n] = got.body.eventNotifications;
  assert.equal(n.realmId, conn.realmId);
  assert.deepEqual(
    n.dataChangeEvent.entities.map((e: any) => [e.name, e.id, e.operation]),
    [
      ['Vendor', v.Id, 'Create'],
      ['Vendor', v.Id, 'Update'],
      ['Customer', c.Id, 'Create'],
    ],
  );
  assert.ok(n.dataChangeEvent.entities.every((e: any) => typeof e.lastUpdated === 'string'));

  // Not answered 200 (a 500, then an answer after 3 s): retried, same body and signature.
  receiver.received = [];
  receiver.plan = [500, 'hang'];
  await call((cb) => qbo.createCustomer({ DisplayName: 'Retry Customer' }, cb));
  await ctl('POST', '/webhooks/flush');
  await until('three attempts', () => receiver.received.length >= 3 && receiver.received, 30_000);
  const [a, b, d] = receiver.received;
  assert.ok(a!.raw.equals(b!.raw) && b!.raw.equals(d!.raw));
  assert.equal(a!.headers['intuit-signature'], d!.headers['intuit-signature']);
  const deliveries = await until(
    'delivered',
    async () => {
      const ds = (await ctl('GET', '/webhooks/deliveries')).deliveries;
      return ds.at(-1).status === 'delivered' && ds;
    },
    30_000,
  );
  assert.deepEqual(
    deliveries.at(-1).attempts.map((x: any) => x.status ?? 'timeout'),
    [500, 'timeout', 200],
  );
  assert.match(deliveries.at(-1).attempts[1].error, /3000 ms/);
});

test('webhooks: CloudEvents format (switchable per app), signed; a drop window loses notifications that CDC still sees', async () => {
  await ctl('PATCH', `/apps/${DEFAULT_APP.id}`, { webhookUrl: receiver.url, webhookFormat: 'cloudevents', batchIntervalMs: 200 });
  const conn = await connect();
  const qbo = client(conn);
  const cust = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'CE Customer' }, cb));
  const inv = await call<any>((cb) =>
    qbo.createInvoice({ CustomerRef: { value: cust.Id }, Line: [{ Amount: 10, SalesItemLineDetail: {} }] }, cb),
  );
  await call((cb) => qbo.voidInvoice(inv.Id, cb));
  const got = await until('a CloudEvents delivery', () =>
    receiver.received.flatMap((r) => r.body).length >= 3 ? receiver.received : undefined,
  );
  for (const r of got) assert.ok(verify(DEFAULT_APP.verifierToken, r.raw, r.headers['intuit-signature'] as string));
  const events = got.flatMap((r) => r.body);
  assert.ok(Array.isArray(got[0]!.body));
  assert.deepEqual(
    events.map((e: any) => [e.type, e.intuitentityid]),
    [
      ['qbo.customer.created.v1', cust.Id],
      ['qbo.invoice.created.v1', inv.Id],
      ['qbo.invoice.voided.v1', inv.Id],
    ],
  );
  for (const e of events) {
    assert.equal(e.specversion, '1.0');
    assert.equal(e.intuitaccountid, conn.realmId);
    assert.deepEqual(e.data, {});
    assert.match(e.source, /^intuit\./);
    assert.ok(e.id && !Number.isNaN(Date.parse(e.time)));
  }
  assert.equal(new Set(events.map((e: any) => e.id)).size, 3);

  // Drop webhooks for a while: nothing is sent for changes made then, CDC still has them.
  receiver.received = [];
  // node-quickbooks sends changedSince to the second: move the fake's clock past the changes above.
  await ctl('POST', '/clock/advance', { seconds: 2 });
  const since = new Date(Date.now() + 1000);
  await ctl('POST', `/apps/${DEFAULT_APP.id}/drop-webhooks`, { forMs: 60_000 });
  const lost = await call<any>((cb) => qbo.createCustomer({ DisplayName: 'Missed Customer' }, cb));
  await ctl('POST', '/webhooks/flush');
  assert.deepEqual((await ctl('GET', '/webhooks/deliveries')).pending, {});
  assert.equal(receiver.received.length, 0);
  const cdc = await call<any>((cb) => qbo.changeDataCapture('Customer', since, cb));
  assert.deepEqual(
    cdc.CDCResponse[0].QueryResponse[0].Customer.map((x: any) => x.Id),
    [lost.Id],
  );
  // An app no longer connected (its refresh token revoked) gets nothing.
  await ctl('POST', `/apps/${DEFAULT_APP.id}/drop-webhooks`, { forMs: 0 });
  await call((cb) => qbo.revokeAccess(true, cb));
  await ctl('POST', `/companies/${conn.realmId}/entities`, { type: 'Customer', DisplayName: 'After revoke' });
  await ctl('POST', '/webhooks/flush');
  assert.equal(receiver.received.length, 0);
});

test("injected faults answer in Intuit's shape (SystemFault on 5xx)", async () => {
  const qbo = client(await connect());
  await fetch(`${base}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'status', status: 503, path: '/preferences' }),
  });
  const f = await failure(call((cb) => qbo.getPreferences(cb)));
  assertFault(f, 503, 'SystemFault', '10000');
  await call((cb) => qbo.getPreferences(cb));
});
