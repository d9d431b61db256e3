import { addDays, parseDate, parseDateTime, wallOf, wallToUtc, type Wall } from '../framework/time.ts';

/**
 * RRULE expansion for the subset calendars use: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY, INTERVAL, COUNT,
 * UNTIL, BYDAY (weekly, and monthly with an ordinal such as 2TU or -1FR), BYMONTHDAY; EXDATE and RDATE lines.
 * Occurrences are computed on the wall clock of the series' time zone, so 09:00 stays 09:00 across DST.
 */

const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
export const MAX_INSTANCES = 1000;

export interface Occurrence {
  startMs: number;
  wall: Wall;
}

function parseRule(line: string): Record<string, string> | undefined {
  const m = /^RRULE:(.+)$/i.exec(line.trim());
  if (!m) return undefined;
  return Object.fromEntries(
    m[1]!.split(';').map((kv) => {
      const [k, v] = kv.split('=');
      return [k!.toUpperCase(), (v ?? '').toUpperCase()];
    }),
  );
}

export function validRecurrence(lines: unknown): string | undefined {
  if (!Array.isArray(lines)) return 'recurrence must be a list';
  for (const l of lines) {
    if (typeof l !== 'string') return 'Invalid recurrence rule.';
    if (/^(EXDATE|RDATE|EXRULE)/i.test(l)) continue;
    const r = parseRule(l);
    if (!r || !['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(r.FREQ ?? '')) return 'Invalid recurrence rule.';
  }
  return undefined;
}

function parseUntil(v: string, tz: string): number {
  if (/^\d{8}$/.test(v)) return wallToUtc({ y: +v.slice(0, 4), mo: +v.slice(4, 6), d: +v.slice(6, 8), h: 23, mi: 59, s: 59 }, tz);
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/.exec(v);
  if (!m) return Number.POSITIVE_INFINITY;
  const w = { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! };
  return m[7] ? Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) : wallToUtc(w, tz);
}

function parseDateList(line: string, tz: string, allDay: boolean): number[] {
  const [head, values] = line.split(':');
  const tzid = /TZID=([^;:]+)/i.exec(head ?? '')?.[1] ?? tz;
  return (values ?? '').split(',').map((v) => {
    if (/^\d{8}$/.test(v)) return allDay ? Date.UTC(+v.slice(0, 4), +v.slice(4, 6) - 1, +v.slice(6, 8)) : parseUntil(v, tzid);
    return parseUntil(v, tzid);
  });
}

const weekday = (w: Wall) => new Date(Date.UTC(w.y, w.mo - 1, w.d)).getUTCDay();
const daysInMonth = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();

/**
 * Occurrence starts of a series whose first start is `startMs` (timed, in `tz`) or the all-day date
 * (allDay: startMs is UTC midnight of the date), up to `untilMs` and MAX_INSTANCES.
 */
export function expand(lines: string[], startMs: number, tz: string, allDay: boolean, horizonMs: number): Occurrence[] {
  const rules = lines.map(parseRule).filter((r): r is Record<string, string> => !!r);
  const exdates = new Set(lines.filter((l) => /^EXDATE/i.test(l)).flatMap((l) => parseDateList(l, tz, allDay)));
  const rdates = lines.filter((l) => /^RDATE/i.test(l)).flatMap((l) => parseDateList(l, tz, allDay));
  const zone = allDay ? 'UTC' : tz;
  const start = wallOf(startMs, zone);
  const toMs = (w: Wall) => (allDay ? Date.UTC(w.y, w.mo - 1, w.d) : wallToUtc(w, zone));
  const out = new Map<number, Occurrence>();
  out.set(startMs, { startMs, wall: start });
  for (const r of rules) {
    const interval = Math.max(1, Number(r.INTERVAL ?? 1) || 1);
    const count = r.COUNT ? Number(r.COUNT) : Number.POSITIVE_INFINITY;
    const until = r.UNTIL ? parseUntil(r.UNTIL, zone) : Number.POSITIVE_INFINITY;
    const byday = r.BYDAY
      ? r.BYDAY.split(',')
          .map((x) => {
            const m = /^([+-]?\d+)?(SU|MO|TU|WE|TH|FR|SA)$/.exec(x);
            return m ? { n: m[1] ? Number(m[1]) : 0, day: DAYS.indexOf(m[2]!) } : undefined;
          })
          .filter((x): x is { n: number; day: number } => !!x)
      : [];
    const bymonthday = r.BYMONTHDAY
      ? r.BYMONTHDAY.split(',')
          .map(Number)
          .filter((n) => Number.isInteger(n) && n !== 0)
      : [];
    let n = 0;
    const emit = (w: Wall): boolean => {
      const ms = toMs(w);
      if (ms < startMs) return true;
      if (ms > until || ms > horizonMs || n >= count || out.size >= MAX_INSTANCES) return false;
      n++;
      out.set(ms, { startMs: ms, wall: w });
      return true;
    };
    let guard = 0;
    if (r.FREQ === 'DAILY') {
      for (let w = start; guard++ < 100_000 && emit(w); w = addDays(w, interval));
    } else if (r.FREQ === 'WEEKLY') {
      const days = byday.length ? [...new Set(byday.map((b) => b.day))] : [weekday(start)];
      // Weeks start on Monday (WKST=MO, Google's default).
      const monday = addDays(start, -((weekday(start) + 6) % 7));
      let go = true;
      for (let week = monday; go && guard++ < 10_000; week = addDays(week, 7 * interval)) {
        const inWeek = days.map((d) => addDays(week, (d + 6) % 7)).sort((a, b) => toMs(a) - toMs(b));
        for (const w of inWeek) if (!(go = emit(w))) break;
      }
    } else if (r.FREQ === 'MONTHLY') {
      let go = true;
      for (let k = 0; go && guard++ < 10_000; k += interval) {
        const y = start.y + Math.floor((start.mo - 1 + k) / 12);
        const mo = ((start.mo - 1 + k) % 12) + 1;
        const dim = daysInMonth(y, mo);
        let dates: number[];
        if (byday.length) {
          dates = [];
          for (const b of byday) {
            const all: number[] = [];
            for (let d = 1; d <= dim; d++) if (new Date(Date.UTC(y, mo - 1, d)).getUTCDay() === b.day) all.push(d);
            if (b.n === 0) dates.push(...all);
            else {
              const d = b.n > 0 ? all[b.n - 1] : all[all.length + b.n];
              if (d) dates.push(d);
            }
          }
        } else if (bymonthday.length) {
          dates = bymonthday.map((d) => (d > 0 ? d : dim + d + 1)).filter((d) => d >= 1 && d <= dim);
        } else {
          dates = start.d <= dim ? [start.d] : [];
        }
        for (const d of [...new Set(dates)].sort((a, b) => a - b)) if (!(go = emit({ ...start, y, mo, d }))) break;
      }
    } else if (r.FREQ === 'YEARLY') {
      for (let y = start.y; guard++ < 1000; y += interval) {
        if (start.d > daysInMonth(y, start.mo)) continue;
        if (!emit({ ...start, y })) break;
      }
    }
  }
  for (const ms of rdates) if (Number.isFinite(ms) && ms <= horizonMs) out.set(ms, { startMs: ms, wall: wallOf(ms, zone) });
  return [...out.values()].filter((o) => !exdates.has(o.startMs)).sort((a, b) => a.startMs - b.startMs);
}

/** UTC midnight of an all-day `date`, or NaN. */
export function dateMs(date: string): number {
  const d = parseDate(date);
  return d ? Date.UTC(d.y, d.mo - 1, d.d) : NaN;
}

export { parseDateTime };
