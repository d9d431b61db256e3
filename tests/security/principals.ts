import { createUser } from '../../config/accounts.ts';
import { createApiKey } from '../../config/api-keys.ts';
import { API_KEY_SCOPES } from '../../config/scopes.ts';
import type { Hub } from '../../app/hub.ts';
import { TEST_ADMIN_TOKEN } from '../helpers/hub.ts';
import { Client } from '../helpers/client.ts';

export { Client };

/** One kind of caller of the admin API, and how it sends a request. */
export interface Principal {
  name: string;
  kind: 'anonymous' | 'session' | 'admin_token' | 'api_key';
  role?: 'viewer' | 'admin' | 'owner';
  scope?: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any; headers: Headers }>;
}

async function raw(base: string, method: string, path: string, body: unknown, headers: Record<string, string>) {
  const ctrl = new AbortController();
  const res = await fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    signal: ctrl.signal,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), accept: 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // Streams (the runs' server-sent events) never end: the status is what counts.
  let json: any;
  if ((res.headers.get('content-type') ?? '').includes('event-stream')) ctrl.abort();
  else {
    const text = await res.text();
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
  }
  return { status: res.status, json, headers: res.headers };
}

export function bearerPrincipal(base: string, name: string, kind: 'admin_token' | 'api_key', token: string, scope?: string): Principal {
  return {
    name,
    kind,
    role: kind === 'admin_token' ? 'owner' : 'admin',
    scope,
    call: (m, p, b, h = {}) => raw(base, m, p, b, { authorization: `Bearer ${token}`, ...h }),
  };
}

/** Signs a user in with a browser-like client (cookie and CSRF token). */
export async function sessionPrincipal(
  base: string,
  role: 'viewer' | 'admin' | 'owner',
  email: string,
  password: string,
): Promise<Principal & { client: Client }> {
  const client = new Client(base);
  const r = await client.call('POST', '/api/v1/auth/login', { email, password });
  if (r.status !== 200) throw new Error(`sign-in of ${email} answered ${r.status}: ${JSON.stringify(r.json)}`);
  return {
    name: `${role} session`,
    kind: 'session',
    role,
    client,
    call: async (m, p, b, h = {}) => {
      const headers: Record<string, string> = { accept: 'application/json', ...h };
      if (client.cookie) headers.cookie = client.cookie;
      if (client.csrf) headers['x-csrf-token'] = client.csrf;
      return raw(base, m, p, b, headers);
    },
  };
}

/** Every principal kind: anonymous, the three roles signed in, the admin token, and one API key per scope. */
export async function allPrincipals(hub: Hub): Promise<Principal[]> {
  const base = hub.url!;
  const rt = hub.runtime;
  const out: Principal[] = [{ name: 'anonymous', kind: 'anonymous', call: (m, p, b, h = {}) => raw(base, m, p, b, h) }];
  for (const role of ['viewer', 'admin', 'owner'] as const) {
    const email = `table-${role}@example.com`;
    const password = `a long ${role} password`;
    await createUser(rt, { email, role, password });
    out.push(await sessionPrincipal(base, role, email, password));
  }
  out.push(bearerPrincipal(base, 'admin token', 'admin_token', TEST_ADMIN_TOKEN));
  for (const scope of Object.keys(API_KEY_SCOPES)) {
    const { key } = await createApiKey(rt, { label: `table ${scope}`, scopes: [scope] });
    out.push(bearerPrincipal(base, `API key ${scope}`, 'api_key', key, scope));
  }
  return out;
}
