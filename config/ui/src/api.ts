/** The hub's /api/v1, called with the session cookie and this session's CSRF token. */
let csrf = '';
export function setCsrf(token: string | null | undefined) {
  csrf = token ?? '';
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: any,
  ) {
    super(message);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = { error: { code: 'bad_response', message: text.slice(0, 200) } };
  }
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? 'error', json?.error?.message ?? res.statusText, json);
  if (json && typeof json.csrfToken === 'string') setCsrf(json.csrfToken);
  return json as T;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: 'owner' | 'admin' | 'viewer';
  twoFactor: boolean;
  disabled: boolean;
  lastSignInAt: string | null;
  createdAt: string;
}
export interface AuthStatus {
  setupRequired: boolean;
  setupProof: 'admin_token' | 'setup_code' | null;
  user: User | null;
  csrfToken: string | null;
  twoFactorRequired: boolean;
  needsTwoFactorSetup: boolean;
  timeZone?: string;
}
export interface AuthField {
  key: string;
  label: string;
  secret: boolean;
  required: boolean;
  description: string | null;
  default: string | null;
}
export interface CatalogAction {
  id: string;
  title: string;
  description: string | null;
  inputSchema: any;
  secretInputs: string[];
  outputSchema?: any;
  sampleOutput?: unknown;
}
type Text = Record<'en' | 'zh-CN' | 'zh-HK', string>;
export interface CatalogFieldTexts {
  label: Text;
  help?: Text;
  example?: string | Text;
  options?: Record<string, Text>;
  choices?: string;
}
/** A connector's words (connectors/<id>/i18n.ts). */
export interface ConnectorI18n {
  name: Text;
  actions?: Record<string, { title: Text; description?: Text; fields?: Record<string, CatalogFieldTexts> }>;
  triggers?: Record<string, { title: Text; description?: Text; params?: Record<string, CatalogFieldTexts> }>;
  events?: Record<string, Text>;
  connectionFields?: Record<string, CatalogFieldTexts>;
  errors?: Record<string, Text>;
  guide?: { title: Text; body: Text; link?: string; paste?: string[]; fields?: string[] }[];
  choices?: Record<string, Text>;
}
export interface CatalogConnector {
  id: string;
  name: string;
  auth: { kind: string; fields: AuthField[]; testable: boolean };
  triggers: { id: string; title: string; kind: string; events: string[]; sample: Record<string, unknown> | null; params?: string[] }[];
  actions: CatalogAction[];
  i18n?: ConnectorI18n | null;
  choices?: string[];
}
export interface Catalog {
  connectors: CatalogConnector[];
  eventTypes: string[];
  catchHooks: { id: string; name: string | null; origin: string }[];
  publicUrl?: string;
}
export interface Connection {
  id: string;
  connectorId: string;
  label: string;
  authKind: string;
  status: 'active' | 'needs_reauth' | 'error' | 'disabled';
  settings: Record<string, unknown>;
  secrets?: Record<string, { set: true; last4?: string }>;
  scopes: string[];
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  origin: string;
  createdAt: string;
  updatedAt: string;
  appId?: string | null;
  /** A link to open to fix the connection (e.g. DocuSign's consent page). */
  actionLink?: { label: string; url: string };
}
export interface FlowStep {
  name?: string;
  action: string;
  connection?: string;
  input: Record<string, unknown>;
}
export interface Flow {
  id: string;
  name?: string;
  enabled: boolean;
  when: { event: string; source?: string; condition?: string; params?: Record<string, string> };
  then: FlowStep[];
  meta?: { origin: 'config' | 'ui'; recipe: string | null; createdBy: string | null; createdAt: string | null; updatedAt: string | null };
  lastRun?: { status: string; eventId: string; at: string; error: string | null } | null;
}
export interface Recipe {
  id: string;
  /** What instantiating it makes: a flow, or a two-way calendar sync. */
  makes?: 'flow' | 'calendarSync';
  title: string | Record<string, string>;
  description?: string | Record<string, string>;
  requires: string[];
  fields: {
    key: string;
    kind: string;
    connector?: string;
    required: boolean;
    label: string | Record<string, string>;
    placeholder?: string;
    default?: string | Record<string, string>;
    choices?: string;
    from?: string;
  }[];
  event?: string;
  actions?: string[];
  services?: string[];
}
export interface StepSummary {
  id: string;
  flowId: string;
  stepIndex: number;
  action: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  attemptBase: number;
  connectionId: string | null;
  lastError: string | null;
  errorClass: string | null;
  createdAt: string | null;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  durationMs: number | null;
  replayable: boolean;
}
export interface RunItem {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  receivedAt: string;
  occurredAt: string;
  status: string;
  test: boolean;
  flowsMatched: number;
  steps: StepSummary[];
}
export interface Attempt {
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  errorClass: string | null;
  error: string | null;
  request: unknown;
  response: unknown;
}
export interface ProviderApp {
  id: string;
  connectorId: string;
  label: string;
  environment: string;
  clientId: string;
  settings: Record<string, unknown>;
  secrets: Record<string, { set: true }>;
  connections: string[];
  origin: string;
  createdAt: string;
  updatedAt: string;
}
export interface RunFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string | null;
  expiresAt: string;
}
export interface RunDetail extends Omit<RunItem, 'steps'> {
  data: unknown;
  connectionId: string | null;
  dispatchedAt: string | null;
  files?: RunFile[];
  steps: (StepSummary & { output: unknown; attemptDetails: Attempt[] })[];
}
export interface AuditItem {
  id: number;
  at: string;
  actor: { kind: string; id: string | null; label: string | null };
  action: string;
  target: string | null;
  ip: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}
export interface ApiKey {
  id: string;
  label: string;
  prefix: string;
  role: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** GET /api/v1/triggers: one row per subscription, poller, stream, webhook or schedule. */
export interface TriggerRow {
  id: string;
  connector: string;
  kind: 'webhook' | 'subscription' | 'poll' | 'stream' | 'schedule';
  connection: string | null;
  status: string;
  expiresAt: string | null;
  nextRunAt: string | null;
  lastEventAt: string | null;
  lastError: string | null;
  trigger?: string;
  title?: string;
  lastPollAt?: string | null;
  cursorAgeMs?: number | null;
  lastNotificationAt?: string | null;
  eventsLast24h?: number;
  actions?: Array<'poll' | 'resync' | 'renew'>;
}
/** Posts a file as the raw body (e.g. a CSV import), with the CSRF token; answers with status and JSON even when it is an error. */
export async function upload<T = any>(path: string, file: Blob, contentType: string): Promise<{ status: number; json: T }> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': contentType, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
    body: file,
    credentials: 'same-origin',
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = { error: { code: 'bad_response', message: text.slice(0, 200) } };
  }
  return { status: res.status, json };
}
export interface Person {
  id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  department: string | null;
  title: string | null;
  manager_id: string | null;
  manager_email: string | null;
  active: boolean;
  sources: string[];
  identities: Record<string, Record<string, string>>;
}
export interface PeopleDiff {
  dry_run: boolean;
  created: number;
  updated: number;
  deactivated: number;
  unchanged: number;
  error?: { code: string; message: string };
  errors: { row: number; message: string }[];
  changes: {
    action: 'create' | 'update' | 'deactivate';
    id: string | null;
    row?: number;
    name: string;
    email: string | null;
    fields: Record<string, { from: unknown; to: unknown }>;
  }[];
}
