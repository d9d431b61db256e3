const SECRET_KEY = /(secret|password|token|authorization|cookie|signature|api[-_]?key|^sign$)/i;

/**
 * Headers kept in traces; every other header's value is redacted, whatever its name (a custom
 * `X-Custom-Auth` is as secret as `Authorization`).
 */
export const TRACE_HEADER_ALLOW = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'accept',
  'accept-encoding',
  'date',
  'retry-after',
  'x-request-id',
  'request-id',
  'x-correlation-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'webhook-id',
  'webhook-timestamp',
  'idempotency-key',
]);

function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, TRACE_HEADER_ALLOW.has(k.toLowerCase()) ? v : '[redacted]']));
}

/** Every header value replaced: what viewers and API keys see of a trace (values are for admins only). */
export function hideHeaderValues(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => hideHeaderValues(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        /^headers$/i.test(k) && v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.keys(v).map((h) => [h, '[hidden]']))
          : hideHeaderValues(v, depth + 1),
      ]),
    );
  }
  return value;
}

/** A deep copy with every secret-looking key's value replaced, and headers kept only when allow-listed; used for anything stored or shown. */
export function redact(value: unknown, extraKeys: string[] = [], depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, extraKeys, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (/^headers$/i.test(k) && v && typeof v === 'object' && !Array.isArray(v)) {
        out[k] = redactHeaders(v as Record<string, unknown>);
        continue;
      }
      out[k] = SECRET_KEY.test(k) || extraKeys.includes(k) ? '[redacted]' : redact(v, extraKeys, depth + 1);
    }
    return out;
  }
  return value;
}
