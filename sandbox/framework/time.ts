/** Wall-clock arithmetic in IANA time zones with Intl only (no tz database of our own). */

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function validTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

export function wallOf(ms: number, tz: string): Wall {
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute'), s: get('second') };
}

/** The zone's offset from UTC at an instant, in ms (whole seconds). */
export function offsetAt(ms: number, tz: string): number {
  const w = wallOf(ms, tz);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time in `tz` denotes (the earlier one in a DST overlap). */
export function wallToUtc(w: Wall, tz: string): number {
  const guess = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  const off1 = offsetAt(guess, tz);
  const t = guess - off1;
  const off2 = offsetAt(t, tz);
  return off2 === off1 ? t : guess - off2;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 3339 with the zone's offset, as Calendar writes dateTime values: 2026-03-01T09:00:00+08:00. */
export function formatInZone(ms: number, tz: string): string {
  const w = wallOf(ms, tz);
  const off = Math.round(offsetAt(ms, tz) / 60000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const zone = tz === 'UTC' || tz === 'Etc/UTC' ? 'Z' : `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}${zone}`;
}

/** Parses an RFC 3339 dateTime; one without an offset is read in `tz`. NaN when invalid. */
export function parseDateTime(s: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i.exec(s);
  if (!m) return NaN;
  if (m[8]) return Date.parse(s);
  return wallToUtc({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! }, tz);
}

export function parseDate(s: string): { y: number; mo: number; d: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  const back = new Date(t);
  if (back.getUTCDate() !== +m[3]! || back.getUTCMonth() !== +m[2]! - 1) return undefined;
  return { y: +m[1]!, mo: +m[2]!, d: +m[3]! };
}

export const dateString = (y: number, mo: number, d: number) => {
  const t = new Date(Date.UTC(y, mo - 1, d));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};

/** Adds days to a wall date, normalising month/year overflow. */
export function addDays(w: Wall, days: number): Wall {
  const t = new Date(Date.UTC(w.y, w.mo - 1, w.d + days));
  return { ...w, y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export const utcStamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
