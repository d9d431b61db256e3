import type { Hub } from '../../app/hub.ts';

/** A 24+ character owner token the REST-hook, catch-hook and Zapier suites start their hubs with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface ApiAnswer {
  status: number;
  json: any;
  headers: Headers;
}

/** Calls the hub's JSON API with a Bearer token (the admin token by default). */
export async function api(
  hub: Hub,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Posts one event into the hub through an unverified catch hook. */
export async function postEvent(hub: Hub, hookId: string, data: Record<string, unknown>, deliveryId?: string): Promise<string> {
  const res = await fetch(`${hub.url}/hooks/catch/${hookId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(deliveryId ? { 'idempotency-key': deliveryId } : {}) },
    body: JSON.stringify(data),
  });
  if (res.status !== 200) throw new Error(`catch hook answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}
