import { needsReauth, permanent, retryable, StepError } from '../../core/errors.ts';

/**
 * DingTalk's errors as the pipeline's classes:
 * - throttling (new API 429 / `Throttling.*`; the custom robot's 130101 "send too fast" and 660026) → retryable, with a delay
 * - a bad or expired token (`InvalidAuthentication`, HTTP 400 on the real service) → refreshed once by
 *   `conn.withToken`; still refused → needs_reauth
 * - 5xx and network failures → retryable
 * - anything else (bad input, a missing permission, an unknown id) → permanent
 */

/** What @alicloud/tea's SDK clients throw for a non-2xx answer (or a network failure: no statusCode). */
export type SdkError = Error & { code?: string; statusCode?: number; data?: Record<string, unknown> };

/** A throttled robot must wait for its window (the real service keeps refusing ~10 min after an excess; the pacing avoids that). */
export const ROBOT_THROTTLE_DELAY_MS = 60_000;
export const API_THROTTLE_DELAY_MS = 2_000;

export const THROTTLE_ERRCODES = new Set([130101, 660026, 90018, 90002]);

export function isExpiredTokenBody(body: unknown): boolean {
  const code = (body as { code?: unknown } | null)?.code;
  return code === 'InvalidAuthentication' || code === 'InvalidAccessToken' || code === 'AuthenticationFailed.InvalidAccessToken';
}

/** Maps an error of a new-API call (through the SDK) to a StepError. */
export function mapSdkError(what: string, err: unknown): StepError {
  if (err instanceof StepError) return err;
  const e = err as SdkError;
  const status = e.statusCode;
  const code = e.code ?? (e.data?.code as string | undefined);
  const message = String((e.data?.message as string | undefined) ?? e.message ?? err).replace(/\s+request id: .*$/, '');
  const requestId = e.data?.requestid as string | undefined;
  const detail = `${what}: DingTalk answered ${status ?? 'nothing'}${code ? ` ${code}` : ''}: ${message}${requestId ? ` (request id ${requestId})` : ''}`;
  if (status === undefined) {
    // ECONNREFUSED, a timeout, a reset socket: the service may be back later.
    return retryable(`${what}: DingTalk could not be reached (${e.code ?? e.name ?? 'error'}: ${e.message})`, { code: e.code });
  }
  if (isExpiredTokenBody({ code })) return needsReauth(`${detail} — the app credentials no longer give a usable token`, { status, code });
  if (status === 429 || (code && /^Throttling|QpsLimit|LimitExceeded|flowControl/i.test(code))) {
    return retryable(`${detail} (throttled; tried again later)`, { status, code, retryAfterMs: API_THROTTLE_DELAY_MS });
  }
  if (status >= 500 || status === 408) return retryable(detail, { status, code });
  if (status === 403)
    return permanent(`${detail} — grant the app this API's permission in the DingTalk developer console`, { status, code });
  return permanent(detail, { status, code });
}

/** Maps an old-API answer `{errcode, errmsg}` of the custom group robot. */
export function mapRobotError(body: { errcode?: number; errmsg?: string }): StepError {
  const code = Number(body.errcode);
  const msg = String(body.errmsg ?? '');
  const detail = `DingTalk robot refused the message: ${code} ${msg}`;
  if (THROTTLE_ERRCODES.has(code))
    return retryable(`${detail} (throttled; tried again after the robot's window)`, {
      code: String(code),
      retryAfterMs: ROBOT_THROTTLE_DELAY_MS,
    });
  if (code === 310000 && /sign not match/i.test(msg))
    return needsReauth(`${detail} — the connection's signing secret (SEC…) is wrong`, { code: String(code) });
  if (code === 310000 && /keywords/i.test(msg))
    return permanent(`${detail} — the robot is in keyword mode: the message must contain one of its keywords`, { code: String(code) });
  if (code === 310000 && /timestamp/i.test(msg))
    return retryable(`${detail} — this machine's clock is more than an hour off`, { code: String(code) });
  if (code === 310000 && /ip/i.test(msg)) return permanent(`${detail} — the robot only accepts its IP allow-list`, { code: String(code) });
  if (code === 300001 || code === 300005 || code === 400013 || code === 410100)
    return needsReauth(`${detail} — the robot's access token is unknown (the robot was removed?)`, { code: String(code) });
  if (code === -1 || (code >= 500 && code < 600)) return retryable(detail, { code: String(code) });
  return permanent(detail, { code: String(code) });
}
