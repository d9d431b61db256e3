import crypto from 'node:crypto';
import { z } from 'zod';
import { Webhook } from 'standardwebhooks';
import { defineAction } from '../../core/connector.ts';
import { classifyHttpStatus, parseRetryAfter, permanent, retryable, StepError } from '../../core/errors.ts';
import { EgressError, egressRequest, type EgressResponse } from '../../core/net/egress.ts';

const input = z.object({
  url: z
    .string()
    .url()
    .refine((u) => /^https?:/i.test(u), 'must be an http or https URL'),
  /** A JSON value, or a string of JSON text (a rendered template). */
  body: z.unknown(),
  /** A Standard Webhooks secret (`whsec_…`); when set, the request is signed. */
  secret: z.string().startsWith('whsec_', 'a Standard Webhooks secret starts with whsec_').optional(),
  headers: z.record(z.string(), z.string()).default({}),
});

/** The Standard Webhooks message id: the same for every attempt of one step, so receivers can drop repeats. */
export function webhookIdFor(idempotencyKey: string): string {
  return `msg_${crypto.createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 27)}`;
}

export const httpPost = defineAction({
  id: 'http.post',
  title: 'Send JSON to a URL',
  description:
    'POSTs a JSON body, signed per the Standard Webhooks spec when a secret is given. Redirects are not followed; private addresses are refused unless DINGBRIDGE_EGRESS_ALLOW allows them.',
  input,
  secretInputs: ['secret'],
  output: z.object({ status: z.number().int(), body: z.unknown() }),
  sampleOutput: { status: 200, body: { ok: true } },
  async run(ctx, { url, body, secret, headers }) {
    let payload: string;
    if (typeof body === 'string') {
      try {
        payload = JSON.stringify(JSON.parse(body));
      } catch (err) {
        throw permanent(`body is not valid JSON after rendering: ${(err as Error).message}`);
      }
    } else {
      payload = JSON.stringify(body ?? null);
    }
    const msgId = webhookIdFor(ctx.idempotencyKey);
    const sent: Record<string, string> = {
      ...headers,
      'content-type': 'application/json',
      'user-agent': 'dingbridge',
      'webhook-id': msgId,
    };
    if (secret) {
      const now = new Date();
      sent['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
      sent['webhook-signature'] = new Webhook(secret).sign(msgId, now, payload);
    }
    ctx.trace({ request: { method: 'POST', url, headers: sent, body: safeJson(payload) } });

    let res: EgressResponse;
    try {
      // Through the SSRF guard: the resolved address is checked on the connection itself; no redirects.
      res = await egressRequest(url, { method: 'POST', headers: sent, body: payload, timeoutMs: ctx.timeoutMs });
    } catch (err) {
      if (err instanceof EgressError) throw permanent(err.message, { code: err.code });
      const e = err as Error & { code?: string };
      const reason = e.name === 'TimeoutError' ? `no answer within ${ctx.timeoutMs} ms` : (e.code ?? e.message);
      throw retryable(`POST ${url} failed: ${reason}`);
    }
    const text = res.body.slice(0, 4096);
    ctx.trace({ response: { status: res.status, body: safeJson(text) } });
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: safeJson(text) };
    if (res.status >= 300 && res.status < 400)
      throw permanent(`POST ${url} answered ${res.status} (redirects are not followed)`, { status: res.status });
    const errorClass = classifyHttpStatus(res.status);
    // A generic URL's 401 is a rejected request, not a connection that needs re-authorising.
    throw new StepError(
      `POST ${url} answered ${res.status}: ${text.slice(0, 200)}`,
      errorClass === 'needs_reauth' ? 'permanent' : errorClass,
      {
        status: res.status,
        retryAfterMs: parseRetryAfter(res.header('retry-after')),
      },
    );
  },
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
