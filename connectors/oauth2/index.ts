import { z } from 'zod';
import { defineAction, defineConnector } from '../../core/connector.ts';
import type { ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { createProviderClient, type ProviderClientOptions } from '../../core/http/provider-client.ts';
import { oauth2I18n } from './i18n.ts';

/**
 * Any OAuth 2 API (an in-house system, a provider without its own connector): the admin gives the
 * authorization and token URLs, the client, and the scopes; the hub does the connect flow with PKCE
 * and keeps the token fresh. Its action calls the API with the token.
 */

/**
 * The origins this connection's calls may reach: its admin's `apiBaseUrl` (one or more, space- or
 * comma-separated), else the origins of its token and test URLs. A flow cannot aim the token elsewhere.
 */
export function apiOrigins(settings: Record<string, unknown>): string[] {
  const declared = String(settings.apiBaseUrl ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
  const list = declared.length
    ? declared
    : [settings.tokenUrl, settings.userinfoUrl].filter((u): u is string => typeof u === 'string' && Boolean(u));
  return [
    ...new Set(
      list.flatMap((u) => {
        try {
          return [new URL(u).origin];
        } catch {
          return [];
        }
      }),
    ),
  ];
}

function clientFor(conn: ConnectionHandle, timeoutMs: number, trace?: ProviderClientOptions['trace'], extraOrigins: string[] = []) {
  return createProviderClient({
    name: 'OAuth 2 API',
    allowedOrigins: [...apiOrigins(conn.settings), ...extraOrigins],
    auth: { kind: 'bearer', connection: conn },
    timeoutMs,
    trace,
  });
}

const request = defineAction({
  id: 'oauth2.request',
  title: "Call the API with the connection's token",
  input: z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    url: z.string().url(),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  output: z.object({ status: z.number().int(), body: z.unknown() }),
  sampleOutput: { status: 200, body: { ok: true } },
  async run(ctx, input) {
    if (!ctx.connection) throw permanent('oauth2.request needs a connection (set `connection:` on the step)');
    const headers = Object.fromEntries(Object.entries(input.headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    const res = await clientFor(ctx.connection, ctx.timeoutMs, ctx.trace).request({
      method: input.method,
      url: input.url,
      headers,
      ...(input.body === undefined ? {} : { json: input.body }),
    });
    return { status: res.status, body: res.body };
  },
});

export default defineConnector({
  id: 'oauth2',
  name: 'OAuth 2 API',
  i18n: oauth2I18n,
  auth: {
    kind: 'oauth2',
    fields: [
      { key: 'authorizationUrl', label: 'Authorization URL', required: true },
      { key: 'tokenUrl', label: 'Token URL', required: true },
      {
        key: 'apiBaseUrl',
        label: 'API base URL(s): the only origins its calls may reach (space-separated)',
        description: 'Default: the origins of the token and test URLs.',
      },
      { key: 'userinfoUrl', label: 'A URL to test the connection with (e.g. userinfo)' },
      { key: 'scopes', label: 'Scopes (space-separated)' },
      { key: 'clientId', label: 'Client ID', required: true },
      { key: 'clientSecret', label: 'Client secret', secret: true, required: true },
    ],
    authorizationUrl: (s) => String(s.authorizationUrl),
    tokenUrl: (s) => String(s.tokenUrl),
    scopes: [],
    async test(conn) {
      const url = conn.settings.userinfoUrl;
      if (typeof url !== 'string' || !url)
        return { note: 'no test URL set; the token is valid', tokenPresent: Boolean(await conn.accessToken()) };
      const res = await clientFor(conn, 10_000, undefined, apiOrigins({ userinfoUrl: url })).request({ url });
      return { status: res.status, body: res.body };
    },
  },
  triggers: [],
  actions: [request],
});
