const SECRET_KEY = /(secret|password|token|authorization|cookie|signature|api[-_]?key|^sign$)/i;

/** A deep copy with every secret-looking key's value replaced; used for anything stored or shown. */
export function redact(value: unknown, extraKeys: string[] = [], depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, extraKeys, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) || extraKeys.includes(k) ? '[redacted]' : redact(v, extraKeys, depth + 1);
    }
    return out;
  }
  return value;
}
