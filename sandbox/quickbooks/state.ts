import crypto from 'node:crypto';
import type { OAuth2State } from '../oauth2/index.ts';

export type Environment = 'sandbox' | 'production';
export type Entity = Record<string, unknown> & { Id: string; SyncToken: string; MetaData: { CreateTime: string; LastUpdatedTime: string } };

/** The entities the fake keeps, with how Intuit lets them end. */
export const ENTITY_TYPES = [
  'Account',
  'Vendor',
  'Customer',
  'Employee',
  'Item',
  'Purchase',
  'Bill',
  'Invoice',
  'Payment',
  'Attachable',
] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
/** Name-list entities are never deleted (set Active false); transactions are deleted, some voided. */
export const DELETABLE = new Set<EntityType>(['Purchase', 'Bill', 'Invoice', 'Payment', 'Attachable']);
export const VOIDABLE = new Set<EntityType>(['Invoice', 'Payment']);
export const NAME_LIST = new Set<EntityType>(['Vendor', 'Customer', 'Employee']);

export function entityType(name: string): EntityType | undefined {
  return ENTITY_TYPES.find((t) => t.toLowerCase() === name.toLowerCase());
}

export interface ChangeRecord {
  seq: number;
  type: EntityType;
  id: string;
  operation: 'Create' | 'Update' | 'Delete' | 'Void' | 'Merge';
  at: number;
}

export interface StoredFile {
  bytes: Buffer;
  sha256: string;
  contentType: string;
  fileName: string;
}

export interface Company {
  realmId: string;
  environment: Environment;
  name: string;
  homeCurrency: string;
  multiCurrency: boolean;
  country: string;
  createdAt: number;
  companyInfoSyncToken: number;
  preferencesSyncToken: number;
  entities: Map<EntityType, Map<string, Entity>>;
  nextId: number;
  changes: ChangeRecord[];
  files: Map<string, StoredFile>;
  /** requestid → the first answer (or its pending promise). */
  requestIds: Map<string, { status: number; body: unknown } | Promise<{ status: number; body: unknown }>>;
  requestIdStats: { requests: number; replayed: number };
  /** Request times (fake clock) in the last minute, for the 500/min throttle. */
  window: number[];
}

export interface QboApp {
  id: string;
  name: string;
  keys: Record<Environment, { clientId: string; clientSecret: string }>;
  verifierToken: string;
  webhookUrl: string | null;
  webhookFormat: 'legacy' | 'cloudevents';
  /** Entity names the app subscribed to; empty = all. */
  webhookEntities: string[];
  batchIntervalMs: number;
  /** Notifications produced while Date.now() < dropUntil are discarded. */
  dropUntil: number;
}

export interface PendingEvent {
  realmId: string;
  type: EntityType;
  id: string;
  operation: ChangeRecord['operation'];
  at: number;
  deletedId?: string;
}

export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}
export interface Delivery {
  id: number;
  appId: string;
  url: string;
  format: QboApp['webhookFormat'];
  body: string;
  signature: string;
  events: number;
  attempts: DeliveryAttempt[];
  status: 'pending' | 'delivered' | 'failed';
}

export interface QboSettings {
  /** 'refuse': a minorversion missing or below 75 answers a ValidationFault; 'ignore': served as 75 (what Intuit does since 2025-08-01). */
  minorVersionPolicy: 'refuse' | 'ignore';
  requestsPerMinute: number;
  maxConcurrent: number;
  /** Artificial time each API call holds its concurrency slot (ms). */
  latencyMs: number;
  /** A refresh with a refresh token older than this hands out a new one (Intuit: about a day). */
  rotateAfterSec: number;
  /** Refresh tokens live this long from their last use (x_refresh_token_expires_in). */
  refreshTokenTtlSec: number;
  /** x_refresh_token_hard_expires_in counts down from the connection's start. */
  hardExpirySec: number;
  deliveryTimeoutMs: number;
  retryDelaysMs: number[];
  cdcMaxDays: number;
  cdcMaxObjects: number;
  /** Share of API calls (0–1) answered with a 5xx SystemFault, at random. */
  failureRate: number;
  failureStatus: number;
  /** Share of those failures that happen after the work was done (the answer is lost, the change stays). */
  failAfterWorkRate: number;
}

export const DEFAULT_SETTINGS: QboSettings = {
  minorVersionPolicy: 'refuse',
  requestsPerMinute: 500,
  maxConcurrent: 10,
  latencyMs: 0,
  rotateAfterSec: 24 * 3600,
  refreshTokenTtlSec: 8_726_400,
  hardExpirySec: 5 * 365 * 24 * 3600,
  deliveryTimeoutMs: 3000,
  retryDelaysMs: [1000, 5000, 20_000],
  cdcMaxDays: 30,
  cdcMaxObjects: 1000,
  failureRate: 0,
  failureStatus: 503,
  failAfterWorkRate: 0.5,
};

export interface QboState {
  oauth: OAuth2State;
  settings: QboSettings;
  /** Fake clock: Date.now() + clockOffsetMs. */
  clockOffsetMs: number;
  apps: Map<string, QboApp>;
  companies: Map<string, Company>;
  /** The company a user picks on the consent page next, per environment. */
  authorizeRealm: Partial<Record<Environment, string>>;
  /** When each connection (client + realm) started, for the hard expiry. */
  connectionStart: Map<string, number>;
  inflight: Map<string, number>;
  maxInflight: Map<string, number>;
  throttled: number;
  /** Random 5xx answers given: before the work, and after it (the change was made). */
  injectedFailures: { before: number; after: number };
  pending: Map<string, PendingEvent[]>;
  timers: Map<string, NodeJS.Timeout>;
  deliveries: Delivery[];
  nextDeliveryId: number;
  activeDeliveries: number;
  stopped: boolean;
}

export const DEFAULT_APP = {
  id: 'dingbridge',
  sandbox: { clientId: 'qbo-sandbox-client', clientSecret: 'qbo-sandbox-secret' },
  production: { clientId: 'qbo-production-client', clientSecret: 'qbo-production-secret' },
  verifierToken: 'qbo-webhook-verifier',
};
export const DEFAULT_SANDBOX_REALM = '9341453050000001';
export const DEFAULT_PRODUCTION_REALM = '9341453050000002';

export const clockNow = (st: QboState) => Date.now() + st.clockOffsetMs;

/** Intuit's timestamps: ISO 8601 with an offset, e.g. 2026-12-06T10:01:58-08:00 (the fake writes UTC as +00:00). */
export function qboTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
export const qboDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const rand = (prefix: string, bytes = 12) => prefix + crypto.randomBytes(bytes).toString('hex');

/** Exchange rates to HKD the fake fills in when a foreign-currency transaction sends none (home units per foreign unit). */
export const RATES_TO_HKD: Record<string, number> = { USD: 7.8, EUR: 8.45, GBP: 9.9, CNY: 1.08, JPY: 0.052, SGD: 5.8, TWD: 0.24, HKD: 1 };
export function exchangeRate(foreign: string, home: string): number {
  const f = RATES_TO_HKD[foreign] ?? 1;
  const h = RATES_TO_HKD[home] ?? 1;
  return Math.round((f / h) * 1e6) / 1e6;
}

export function newCompany(
  input: { realmId: string; environment: Environment; name?: string; homeCurrency?: string; multiCurrency?: boolean; country?: string },
  now: number,
): Company {
  const c: Company = {
    realmId: input.realmId,
    environment: input.environment,
    name: input.name ?? (input.environment === 'sandbox' ? 'Sandbox Company_HK_1' : 'Demo Trading Ltd'),
    homeCurrency: input.homeCurrency ?? 'HKD',
    multiCurrency: input.multiCurrency ?? true,
    country: input.country ?? 'HK',
    createdAt: now,
    companyInfoSyncToken: 0,
    preferencesSyncToken: 0,
    entities: new Map(ENTITY_TYPES.map((t) => [t, new Map()])),
    nextId: 1,
    changes: [],
    files: new Map(),
    requestIds: new Map(),
    requestIdStats: { requests: 0, replayed: 0 },
    window: [],
  };
  // A small chart of accounts, as a new QuickBooks company has.
  const cur = { value: c.homeCurrency };
  const accounts: [string, string, string][] = [
    ['Bank', 'Bank', 'Checking'],
    ['Petty Cash', 'Bank', 'CashOnHand'],
    ['Company Credit Card', 'Credit Card', 'CreditCard'],
    ['Accounts Receivable (A/R)', 'Accounts Receivable', 'AccountsReceivable'],
    ['Accounts Payable (A/P)', 'Accounts Payable', 'AccountsPayable'],
    ['Sales', 'Income', 'SalesOfProductIncome'],
    ['Services', 'Income', 'ServiceFeeIncome'],
    ['Travel', 'Expense', 'Travel'],
    ['Meals and Entertainment', 'Expense', 'EntertainmentMeals'],
    ['Office Supplies', 'Expense', 'OfficeGeneralAdministrativeExpenses'],
    ['Advertising', 'Expense', 'AdvertisingPromotional'],
  ];
  for (const [Name, AccountType, AccountSubType] of accounts) {
    seedEntity(
      c,
      'Account',
      {
        Name,
        FullyQualifiedName: Name,
        AccountType,
        AccountSubType,
        Active: true,
        CurrentBalance: 0,
        CurrencyRef: cur,
        Classification: classification(AccountType),
      },
      now,
    );
  }
  const services = [...c.entities.get('Account')!.values()].find((a) => a.Name === 'Services')!;
  seedEntity(
    c,
    'Item',
    {
      Name: 'Services',
      FullyQualifiedName: 'Services',
      Type: 'Service',
      Active: true,
      UnitPrice: 0,
      IncomeAccountRef: { value: services.Id, name: 'Services' },
    },
    now,
  );
  return c;
}

export function classification(accountType: string): string {
  if (['Bank', 'Accounts Receivable', 'Other Current Asset', 'Fixed Asset', 'Other Asset'].includes(accountType)) return 'Asset';
  if (['Credit Card', 'Accounts Payable', 'Other Current Liability', 'Long Term Liability'].includes(accountType)) return 'Liability';
  if (accountType === 'Equity') return 'Equity';
  if (['Income', 'Other Income'].includes(accountType)) return 'Revenue';
  return 'Expense';
}

/** Adds an entity without a change record (seed data predates any subscriber). */
export function seedEntity(c: Company, type: EntityType, fields: Record<string, unknown>, now: number): Entity {
  const id = String(c.nextId++);
  const e = {
    ...fields,
    Id: id,
    SyncToken: '0',
    domain: 'QBO',
    sparse: false,
    MetaData: { CreateTime: qboTime(now), LastUpdatedTime: qboTime(now) },
  } as Entity;
  c.entities.get(type)!.set(id, e);
  return e;
}

export function initialQboState(oauth: OAuth2State, settings: Partial<QboSettings> = {}): QboState {
  const st: QboState = {
    oauth,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    clockOffsetMs: 0,
    apps: new Map(),
    companies: new Map(),
    authorizeRealm: {},
    connectionStart: new Map(),
    inflight: new Map(),
    maxInflight: new Map(),
    throttled: 0,
    injectedFailures: { before: 0, after: 0 },
    pending: new Map(),
    timers: new Map(),
    deliveries: [],
    nextDeliveryId: 1,
    activeDeliveries: 0,
    stopped: false,
  };
  const now = clockNow(st);
  st.companies.set(DEFAULT_SANDBOX_REALM, newCompany({ realmId: DEFAULT_SANDBOX_REALM, environment: 'sandbox' }, now));
  st.companies.set(DEFAULT_PRODUCTION_REALM, newCompany({ realmId: DEFAULT_PRODUCTION_REALM, environment: 'production' }, now));
  return st;
}

export function appForClient(st: QboState, clientId: string): { app: QboApp; environment: Environment } | undefined {
  for (const app of st.apps.values()) {
    if (app.keys.sandbox.clientId === clientId) return { app, environment: 'sandbox' };
    if (app.keys.production.clientId === clientId) return { app, environment: 'production' };
  }
  return undefined;
}

/** Apps holding a live refresh token for the company: Intuit sends them its webhooks. */
export function connectedApps(st: QboState, realmId: string): QboApp[] {
  const out = new Set<QboApp>();
  for (const r of st.oauth.refreshTokens.values()) {
    if (r.sub !== realmId || r.revoked || r.rotatedTo || (r.expiresAt !== null && r.expiresAt <= clockNow(st))) continue;
    const who = appForClient(st, r.clientId);
    if (who) out.add(who.app);
  }
  return [...out];
}
