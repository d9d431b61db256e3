import { createTrelloClient } from 'trello.js';
import { buildUrl } from 'trello.js/core';
import type { Client, SendRequestOptions } from 'trello.js/core';
import type { ConnectionHandle } from '../../core/connector.ts';
import { needsReauth, parseRetryAfter, permanent, retryable } from '../../core/errors.ts';

export const DEFAULT_TRELLO_BASE_URL = process.env.TRELLO_BASE_URL || 'https://api.trello.com';

/**
 * trello.js (the official-style SDK) with our own transport: the SDK's retry loop on 429 would block
 * a worker for up to 14 s and ignore Trello's limit headers, so the hub's retry rules take over
 * instead: 429 → retryable after the limit's window, 5xx → retryable, 401 → needs re-authorisation.
 */
export function trelloTransport(baseUrl: string, apiKey: string, token: string, timeoutMs = 15_000): Client {
  const base = `${baseUrl.replace(/\/+$/, '')}/1`;
  return {
    async sendRequest<T>(options: SendRequestOptions<T>): Promise<T> {
      const url = buildUrl(base + options.url, { ...options.searchParams, key: apiKey, token });
      const hasJson = options.body !== undefined && options.body !== null && typeof options.body !== 'string';
      let res: Response;
      try {
        res = await fetch(url, {
          method: options.method ?? 'GET',
          headers: { ...(hasJson ? { 'content-type': 'application/json' } : {}), ...(options.headers ?? {}) },
          body: options.body === undefined || options.body === null ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw retryable(`Trello ${options.method ?? 'GET'} ${options.url} failed: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
      }
      const text = await res.text();
      if (!res.ok) {
        const what = `Trello ${options.method ?? 'GET'} ${options.url} answered ${res.status}: ${text.slice(0, 200)}`;
        if (res.status === 429) {
          const windowMs = Number(res.headers.get('x-rate-limit-api-token-interval-ms') ?? res.headers.get('x-rate-limit-api-key-interval-ms') ?? 10_000);
          throw retryable(what, { status: 429, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) ?? windowMs });
        }
        if (res.status >= 500 || res.status === 408) throw retryable(what, { status: res.status });
        if (res.status === 401) throw needsReauth(what, { status: 401 });
        throw permanent(what, { status: res.status });
      }
      if (res.status === 204 || !text) return undefined as T;
      const data = JSON.parse(text) as unknown;
      // The SDK's schemas lag behind Trello's answers; the raw JSON is what callers use.
      return data as T;
    },
  };
}

export type Trello = ReturnType<typeof createTrelloClient>;

export async function trelloFor(conn: ConnectionHandle, timeoutMs?: number): Promise<Trello> {
  const secrets = await conn.secrets();
  if (!secrets.token) throw needsReauth(`Trello connection ${conn.id} has no user token: connect it (or paste a token)`);
  const baseUrl = String(conn.settings.baseUrl || DEFAULT_TRELLO_BASE_URL);
  return createTrelloClient(trelloTransport(baseUrl, String(conn.settings.apiKey ?? ''), secrets.token, timeoutMs));
}
