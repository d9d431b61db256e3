import { needsReauth, parseRetryAfter, permanent, retryable, StepError } from '../../core/errors.ts';

/**
 * Google's answers (GaxiosError: `status`, `response.data.error.{code,message,errors[0].reason}`) as the
 * pipeline's classes. Google answers 403 for two opposite things: a rate limit (`rateLimitExceeded`,
 * `userRateLimitExceeded`: wait and retry) and a missing permission (`forbidden`,
 * `insufficientPermissions`: retrying cannot help), so the reason decides, not the status.
 */
interface GoogleErrorShape {
  status?: number;
  code?: string | number;
  message?: string;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'backendError']);
const THROTTLE_DELAY_MS = 5_000;

export function googleReason(err: unknown): { status?: number; reason?: string; message: string; retryAfterMs?: number } {
  const e = err as GoogleErrorShape;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
  const body = e.response?.data as
    | { error?: { message?: string; errors?: { reason?: string }[] } | string; error_description?: string }
    | undefined;
  const apiError = typeof body?.error === 'object' ? body.error : undefined;
  const reason = apiError?.errors?.[0]?.reason ?? (typeof body?.error === 'string' ? body.error : undefined);
  const message = apiError?.message ?? body?.error_description ?? e.message ?? String(err);
  const headers = e.response?.headers as { get?: (n: string) => string | null } | Record<string, string> | undefined;
  const retryAfter =
    headers && typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get: (n: string) => string | null }).get('retry-after')
      : (headers as Record<string, string> | undefined)?.['retry-after'];
  return { status, reason, message, retryAfterMs: parseRetryAfter(retryAfter) };
}

/** Maps an error from a Google call to a StepError; `what` names the call for the run page. */
export function mapGoogleError(what: string, err: unknown): StepError {
  if (err instanceof StepError) return err;
  const { status, reason, message, retryAfterMs } = googleReason(err);
  const detail = `${what}: Google answered ${status ?? 'nothing'}${reason ? ` ${reason}` : ''}: ${message}`;
  const details = { status, code: reason };
  if (status === undefined) return retryable(`${what}: Google could not be reached (${message})`, details);
  if (status === 401 || reason === 'invalid_grant') return needsReauth(`${detail} — connect the Google account again`, details);
  if (status === 429 || (status === 403 && reason && RATE_LIMIT_REASONS.has(reason)))
    return retryable(detail, { ...details, retryAfterMs: retryAfterMs ?? THROTTLE_DELAY_MS });
  if (status >= 500 || status === 408) return retryable(detail, details);
  return permanent(detail, details);
}
