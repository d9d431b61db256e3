import { createTrelloClient } from 'trello.js';
import { buildUrl } from 'trello.js/core';
import type { Client, SendRequestOptions } from 'trello.js/core';
import type { ConnectionHandle } from '../../core/connector.ts';
import { needsReauth } from '../../core/errors.ts';
import { createProviderClient, type ProviderRules } from '../../core/http/provider-client.ts';

import { DEFAULT_TRELLO_BASE_URL, trelloFields } from './fields.ts';
import { typedSettings } from '../../core/auth-kinds.ts';

export { DEFAULT_TRELLO_BASE_URL };

/** Trello's answers as the hub's step errors: 429 waits for the limit's window (its headers say how long). */
export const TRELLO_RULES: ProviderRules = {
  throttledStatuses: [429],
  waitHeaders: [
    { name: 'retry-after', unit: 'retry-after' },
    { name: 'x-rate-limit-api-token-interval-ms', unit: 'ms' },
    { name: 'x-rate-limit-api-key-interval-ms', unit: 'ms' },
  ],
  throttleDelayMs: 10_000,
};

/**
 * trello.js (the official-style SDK) with the hub's own transport: the shared provider client (the
 * egress path, a timeout, TRELLO_RULES) instead of the SDK's retry loop, which on 429 would block a
 * worker for up to 14 s and ignore Trello's limit headers.
 */
export function trelloTransport(baseUrl: string, apiKey: string, token: string, timeoutMs = 15_000): Client {
  const base = `${baseUrl.replace(/\/+$/, '')}/1`;
  const http = createProviderClient({
    name: 'Trello',
    baseUrl: base,
    rules: TRELLO_RULES,
    timeoutMs,
    auth: {
      kind: 'custom',
      apply: (url) => {
        url.searchParams.set('key', apiKey);
        url.searchParams.set('token', token);
      },
    },
  });
  return {
    async sendRequest<T>(options: SendRequestOptions<T>): Promise<T> {
      const url = buildUrl(base + options.url, { ...options.searchParams });
      const hasBody = options.body !== undefined && options.body !== null;
      const res = await http.request({
        method: options.method ?? 'GET',
        url,
        headers: { ...((options.headers as Record<string, string> | undefined) ?? {}) },
        ...(hasBody ? (typeof options.body === 'string' ? { body: options.body } : { json: options.body }) : {}),
      });
      // The SDK's schemas lag behind Trello's answers; the raw JSON is what callers use.
      return (res.status === 204 || res.body === undefined || res.body === '' ? undefined : res.body) as T;
    },
  };
}

export type Trello = ReturnType<typeof createTrelloClient>;

export async function trelloFor(conn: ConnectionHandle, timeoutMs?: number): Promise<Trello> {
  const secrets = await conn.secrets();
  if (!secrets.token) throw needsReauth(`Trello connection ${conn.id} has no user token: connect it (or paste a token)`);
  const settings = typedSettings(trelloFields, conn.settings);
  return createTrelloClient(trelloTransport(settings.baseUrl ?? DEFAULT_TRELLO_BASE_URL, settings.apiKey ?? '', secrets.token, timeoutMs));
}
