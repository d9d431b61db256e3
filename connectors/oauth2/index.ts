import { z } from 'zod';
import { defineAction, defineConnector } from '../../core/connector.ts';
import { classifyHttpStatus, needsReauth, parseRetryAfter, permanent, retryable, StepError } from '../../core/errors.ts';

/**
 * Any OAuth 2 API (an in-house system, a provider without its own connector): the admin gives the
 * authorization and token URLs, the client, and the scopes; the hub does the connect flow with PKCE
 * and keeps the token fresh. Its action calls the API with the token.
 */
async function call(method: string, url: string, token: string, body: unknown, headers: Record<string, string>, timeoutMs: number) {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers, authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw retryable(`${method} ${url} failed: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
}

const request = defineAction({
  id: 'oauth2.request',
  title: 'Call the API with the connection\'s token',
  input: z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    url: z.string().url(),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  sampleOutput: { status: 200, body: { ok: true } },
  async run(ctx, input) {
    if (!ctx.connection) throw permanent('oauth2.request needs a connection (set `connection:` on the step)');
    ctx.trace({ request: { method: input.method, url: input.url, body: input.body } });
    const res = await ctx.connection.withToken((token) => call(input.method, input.url, token, input.body, input.headers, ctx.timeoutMs));
    ctx.trace({ response: { status: res.status, body: res.body } });
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
    const errorClass = classifyHttpStatus(res.status);
    if (errorClass === 'needs_reauth') throw needsReauth(`${input.url} answered ${res.status}`);
    throw new StepError(`${input.method} ${input.url} answered ${res.status}`, errorClass, { status: res.status, retryAfterMs: parseRetryAfter(res.retryAfter) });
  },
});

export default defineConnector({
  id: 'oauth2',
  name: 'OAuth 2 API',
  auth: {
    kind: 'oauth2',
    fields: [
      { key: 'authorizationUrl', label: 'Authorization URL', required: true },
      { key: 'tokenUrl', label: 'Token URL', required: true },
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
      if (typeof url !== 'string' || !url) return { note: 'no test URL set; the token is valid' , tokenPresent: Boolean(await conn.accessToken()) };
      const res = await conn.withToken((token) => call('GET', url, token, undefined, {}, 10_000));
      if (res.status < 200 || res.status >= 300) throw permanent(`${url} answered ${res.status}`);
      return { status: res.status, body: res.body };
    },
  },
  triggers: [],
  actions: [request],
});
