import crypto from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import { eventIdFor, newEventId, type HubEvent } from '../core/events.ts';
import { ingestEvent } from '../core/pipeline/ingest.ts';
import type { Runtime } from '../core/runtime.ts';
import type { CatchHookConfig } from '../config/schema.ts';
import { documentOperation } from '../config/openapi.ts';
import { registerSecretPath } from '../core/logger.ts';

import { CATCH_HOOK_EVENT } from '../connectors/catch-hook/index.ts';

/** Hooks from the config file and, through the admin API, from the database (hence possibly async). */
export interface CatchHookSource {
  get(id: string): CatchHookConfig | undefined | Promise<CatchHookConfig | undefined>;
}

/**
 * POST /hooks/catch/:hookId — JSON or form bodies. Answers 200 with the event id only once the event is
 * stored; a repeat of a delivery (same webhook-id, Idempotency-Key or configured id field) is answered
 * 200 with `duplicate: true` and not processed again.
 */
export function catchHookRouter(rt: Runtime, hooks: CatchHookSource): Router {
  const router = express.Router();
  documentCatchHook();
  registerSecretPath(/^(\/+hooks\/+catch\/+[^/]+\/+).+$/i);
  const handler = async (req: Request, res: Response) => {
    const hookId = String(req.params.hookId);
    const pathToken = req.params.token === undefined ? undefined : String(req.params.token);
    let hook = await hooks.get(hookId);
    // A token segment only exists on hooks verified by a token in the path.
    if (hook && pathToken !== undefined && hook.verify.type !== 'token') hook = undefined;
    const reject = (err: HttpError): never => {
      rt.metrics.events.inc({ outcome: 'rejected', type: CATCH_HOOK_EVENT });
      throw err;
    };
    if (!hook) reject(new HttpError(404, 'hook_not_found', `no catch hook with id "${hookId}"`));
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    rt.metrics.events.inc({ outcome: 'received', type: CATCH_HOOK_EVENT });
    if (hook!.maxBodyBytes && raw.length > hook!.maxBodyBytes) {
      reject(new HttpError(413, 'payload_too_large', `this hook accepts bodies up to ${hook!.maxBodyBytes} bytes`));
    }
    const verifyError = verify(hook!, req, raw, pathToken);
    if (verifyError) reject(verifyError);

    let data: Record<string, unknown>;
    try {
      data = parseBody(req, raw);
    } catch (err) {
      return reject(err as HttpError);
    }

    const deliveryId =
      header(req, 'webhook-id') ?? header(req, 'idempotency-key') ?? (hook!.idField ? fieldAt(data, hook!.idField) : undefined);
    const event: HubEvent = {
      id: deliveryId ? eventIdFor(`hook:${hookId}`, deliveryId) : newEventId(),
      type: CATCH_HOOK_EVENT,
      source: hookId,
      connectionId: null,
      occurredAt: new Date().toISOString(),
      subject: deliveryId ?? null,
      data,
      raw: { contentType: req.headers['content-type'] ?? null, query: req.query },
    };
    // A signed body cannot be told apart from its replay by headers the signature does not cover, so
    // a signed hook accepts each signed body once within its window (a repeat is a duplicate).
    const replay = replayKey(hook!, req, raw);
    // The replay claim is taken in the ingest transaction: stored together, or not at all.
    const result = await ingestEvent(rt, event, replay ? { replay: { scope: `catch_hook:${hookId}`, ...replay } } : {});
    rt.log.info(
      { eventId: result.id, hookId, duplicate: result.duplicate, reqId: res.getHeader('x-request-id') },
      'catch hook event stored',
    );
    const reply = hook!.response;
    res.status(reply?.status ?? 200).json(reply && reply.body !== undefined ? reply.body : { id: result.id, duplicate: result.duplicate });
  };
  const raw = express.raw({ type: () => true, limit: rt.settings.DINGBRIDGE_BODY_LIMIT });
  router.post('/hooks/catch/:hookId', raw, handler);
  router.post('/hooks/catch/:hookId/:token', raw, handler);
  return router;
}

function documentCatchHook(): void {
  const responses = {
    200: {
      description: 'Stored (or a repeat, with duplicate: true); a hook may be configured to answer another 2xx status and body',
      schema: z.object({ id: z.string(), duplicate: z.boolean() }),
    },
    401: { description: 'Missing or bad signature or token' },
    404: { description: 'No such hook' },
    413: { description: 'Body over the limit' },
    415: { description: 'Not JSON or a form' },
  };
  const body = z.record(z.string(), z.unknown()).describe('Any JSON object (or a form); it becomes the event data');
  const description =
    "Verification per hook: none, a token in the path, HMAC-SHA256 of the raw body in a chosen header (hex or base64), HMAC-SHA256 of `<timestamp>.<raw body>` with a timestamp header (`hmac_timestamped`, 5-minute tolerance), or Standard Webhooks (recommended). A repeat of a delivery (same `webhook-id` or `Idempotency-Key` header, or the hook's id field) is stored once; on HMAC hooks the same signed body again within the replay window is answered as a duplicate too.";
  documentOperation({
    method: 'post',
    path: '/hooks/catch/:hookId',
    operationId: 'catchHook',
    tags: ['Catch hooks'],
    summary: 'Send an event to a catch hook',
    description,
    params: z.object({ hookId: z.string() }),
    body,
    bodyContentTypes: ['application/x-www-form-urlencoded'],
    responses,
  });
  documentOperation({
    method: 'post',
    path: '/hooks/catch/:hookId/:token',
    operationId: 'catchHookWithToken',
    tags: ['Catch hooks'],
    summary: 'Send an event to a catch hook verified by a secret token in the path',
    description,
    params: z.object({ hookId: z.string(), token: z.string() }),
    body,
    bodyContentTypes: ['application/x-www-form-urlencoded'],
    responses,
  });
}

const sameSecret = (a: string, b: string) => {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
};

function verify(hook: CatchHookConfig, req: Request, raw: Buffer, pathToken?: string): HttpError | undefined {
  const v = hook.verify;
  if (v.type === 'none') return undefined;
  if (v.type === 'token') {
    if (!pathToken)
      return new HttpError(
        401,
        'token_missing',
        'this hook takes its secret token as the last path segment: /hooks/catch/<hookId>/<token>',
      );
    return sameSecret(pathToken, v.token) ? undefined : new HttpError(401, 'token_invalid', "the token in the path is not this hook's");
  }
  if (v.type === 'standard_webhooks') {
    const h = {
      'webhook-id': header(req, 'webhook-id') ?? '',
      'webhook-timestamp': header(req, 'webhook-timestamp') ?? '',
      'webhook-signature': header(req, 'webhook-signature') ?? '',
    };
    if (!h['webhook-id'] || !h['webhook-timestamp'] || !h['webhook-signature'])
      return new HttpError(
        401,
        'signature_missing',
        'the webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks) are required',
      );
    try {
      new Webhook(v.secret).verify(raw.toString('utf8'), h);
      return undefined;
    } catch (err) {
      return new HttpError(401, 'signature_invalid', `the Standard Webhooks signature does not verify: ${(err as Error).message}`);
    }
  }
  const given = header(req, v.header);
  if (!given) return new HttpError(401, 'signature_missing', `header ${v.header} with the body's HMAC-SHA256 is required`);
  const mac = crypto.createHmac(v.algorithm, v.secret);
  if (v.type === 'hmac_timestamped') {
    const at = header(req, v.timestampHeader);
    if (!at) return new HttpError(401, 'timestamp_missing', `header ${v.timestampHeader} with the Unix time in seconds is required`);
    if (!/^\d{1,12}$/.test(at)) return new HttpError(401, 'timestamp_invalid', `header ${v.timestampHeader} is not a Unix time in seconds`);
    if (Math.abs(Date.now() / 1000 - Number(at)) > v.toleranceSeconds)
      return new HttpError(
        401,
        'timestamp_out_of_tolerance',
        `the ${v.timestampHeader} time is more than ${v.toleranceSeconds} seconds from now`,
      );
    mac.update(`${at}.`);
  }
  const expected = mac.update(raw).digest(v.encoding);
  const presented = given.replace(/^sha256=/i, '').trim();
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  const equal = a.length === b.length && crypto.timingSafeEqual(a, b);
  return equal ? undefined : new HttpError(401, 'signature_invalid', `the ${v.header} signature does not match the body`);
}

/** For a signed hook: what makes a request unique (the signed bytes) and how long it is remembered. */
function replayKey(hook: CatchHookConfig, req: Request, raw: Buffer): { key: string; windowMs: number } | undefined {
  const v = hook.verify;
  if (v.type === 'hmac') return { key: crypto.createHash('sha256').update(raw).digest('hex'), windowMs: v.replayWindowSeconds * 1000 };
  if (v.type === 'hmac_timestamped') {
    // Kept for both sides of the tolerance: a timestamp up to toleranceSeconds ahead stays valid that much longer.
    const key = crypto
      .createHash('sha256')
      .update(`${header(req, v.timestampHeader)}.`)
      .update(raw)
      .digest('hex');
    return { key, windowMs: 2 * v.toleranceSeconds * 1000 + 60_000 };
  }
  return undefined;
}

function parseBody(req: Request, raw: Buffer): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  const text = raw.toString('utf8');
  let value: unknown;
  if (type.includes('json') || (type === '' && raw.length > 0)) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
    }
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    value = Object.fromEntries(new URLSearchParams(text));
  } else if (raw.length === 0) {
    value = {};
  } else {
    throw new HttpError(415, 'unsupported_media_type', 'send application/json or application/x-www-form-urlencoded');
  }
  // PostgreSQL's JSON cannot hold the NUL character: refused here with a clear answer, not at the store.
  if ((text.includes('u0000') || text.includes('%00')) && holdsNul(value)) {
    throw new HttpError(
      400,
      'nul_character',
      'the body holds the NUL character (\\u0000), which cannot be stored; remove it and send again',
    );
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { body: value };
}

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v));
  return false;
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() ? s.trim() : undefined;
}

function fieldAt(data: Record<string, unknown>, dotted: string): string | undefined {
  let cur: unknown = data;
  for (const part of dotted.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null || cur === '' ? undefined : String(cur);
}
