/** Durations as people write them in env vars: `250ms`, `5s`, `5m`, `2h`, `1d`, or a bare number of milliseconds. */
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 0, 500ms, 5s, 5m, 2h, 1d)`);
  return Math.round(Number(m[1]) * UNIT[(m[2] ?? 'ms').toLowerCase()]!);
}

/** A comma-separated list of durations, e.g. the REST-hook retry schedule `0,5s,5m,30m,2h,5h,10h,10h`. */
export function parseDurationList(text: string): number[] {
  const list = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map(parseDuration);
  if (list.length === 0) throw new Error('the list is empty');
  return list;
}

export function isDurationList(text: string): boolean {
  try {
    parseDurationList(text);
    return true;
  } catch {
    return false;
  }
}
