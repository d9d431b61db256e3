/**
 * Exponential backoff with full jitter, capped at maxMs; a provider's Retry-After, when given, is
 * the delay (never sooner than it asked). attempt is 1 for the first retry.
 */
export function retryDelayMs(
  attempt: number,
  opts: { baseMs: number; maxMs: number; retryAfterMs?: number },
  random = Math.random,
): number {
  if (opts.retryAfterMs !== undefined) return Math.max(0, opts.retryAfterMs);
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
