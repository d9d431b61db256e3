/**
 * How the pipeline treats a failed step:
 * - retryable: try again later (5xx, 429, timeouts, connection errors)
 * - permanent: retrying cannot help (4xx, bad input); dead-lettered at once
 * - needs_reauth: the connection's credentials are no longer valid; kept until an admin reconnects
 */
export type ErrorClass = 'retryable' | 'permanent' | 'needs_reauth';

export class StepError extends Error {
  constructor(
    message: string,
    readonly errorClass: ErrorClass,
    readonly details: { retryAfterMs?: number; status?: number; code?: string; wait?: boolean } = {},
  ) {
    super(message);
    this.name = 'StepError';
  }
}

export const retryable = (message: string, details: StepError['details'] = {}) => new StepError(message, 'retryable', details);
export const permanent = (message: string, details: StepError['details'] = {}) => new StepError(message, 'permanent', details);
/**
 * The provider said to wait (a spent rate budget, with its reset time): the step runs again after
 * `ms` without counting an attempt, like a paced step waiting its turn.
 */
export const waitFor = (message: string, ms: number, details: StepError['details'] = {}) =>
  new StepError(message, 'retryable', { ...details, retryAfterMs: Math.max(0, Math.round(ms)), wait: true });
export const needsReauth = (message: string, details: StepError['details'] = {}) => new StepError(message, 'needs_reauth', details);

/** Classifies an HTTP answer the way every connector should: 408/425/429/5xx retry, 401 re-auth, other 4xx and 3xx are permanent. */
export function classifyHttpStatus(status: number): ErrorClass {
  if (status === 401) return 'needs_reauth';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Any thrown value as a StepError; unknown errors are treated as retryable (a crash of a dependency, a reset socket). */
export function toStepError(err: unknown): StepError {
  if (err instanceof StepError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return retryable(message);
}

/** An error answered to an HTTP caller as {error:{code,message}}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
