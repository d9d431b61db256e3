import { offsetAt, validTimeZone } from '../framework/time.ts';
import type { CalendarEvent } from './state.ts';

/**
 * The occurrences of a DingTalk recurring event (calendar v1.0 `recurrence: {pattern, range}`):
 * pattern `daily` | `weekly` (`daysOfWeek` "monday,friday", default the start's weekday) |
 * `absoluteMonthly` (`dayOfMonth`, default the start's) | `absoluteYearly`, every `interval`; range
 * `numbered` (`numberOfOccurrences`) | `endDate` (last day an occurrence may start) | `noEnd`.
 * Computed on the wall clock of the start's zone at its offset at the start (the fake's zones have no
 * daylight saving), so a weekly meeting at 07:00 in Hong Kong stays on its Hong Kong weekday.
 */
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAY = 86_400_000;

function offsetMs(ms: number, zone: string | undefined): number {
  return zone && validTimeZone(zone) ? offsetAt(ms, zone) : 0;
}

export function startMs(t: Record<string, unknown>): number {
  if (typeof t.dateTime === 'string') return Date.parse(t.dateTime);
  return Date.parse(`${String(t.date)}T00:00:00Z`);
}

/** Occurrence start instants (ms) of a series, up to `horizonMs` (at most 1,000). */
export function occurrences(ev: CalendarEvent, horizonMs: number): number[] {
  const rec = ev.recurrence as { pattern?: Record<string, unknown>; range?: Record<string, unknown> } | undefined;
  const type = String(rec?.pattern?.type ?? '');
  const first = startMs(ev.start);
  if (!rec?.pattern || Number.isNaN(first)) return [];
  const interval = Math.max(1, Number(rec.pattern.interval ?? 1) || 1);
  const range = rec.range ?? {};
  const count = range.type === 'numbered' ? Math.max(1, Number(range.numberOfOccurrences) || 1) : Infinity;
  const until = range.type === 'endDate' && typeof range.endDate === 'string' ? Date.parse(range.endDate) : Infinity;
  const off = ev.isAllDay ? 0 : offsetMs(first, typeof ev.start.timeZone === 'string' ? ev.start.timeZone : undefined);
  const local0 = new Date(first + off);
  const out: number[] = [];
  const push = (local: number): boolean => {
    const ms = local - off;
    if (ms < first) return true;
    if (out.length >= count || ms > until || ms > horizonMs || out.length >= 1000) return false;
    out.push(ms);
    return true;
  };
  const timeOfDay = local0.getTime() % DAY;
  if (type === 'daily') {
    for (let i = 0; push(local0.getTime() + i * interval * DAY); i++);
  } else if (type === 'weekly') {
    const names = typeof rec.pattern.daysOfWeek === 'string' && rec.pattern.daysOfWeek ? rec.pattern.daysOfWeek.split(',') : [];
    const days = names.map((d) => DAY_NAMES.indexOf(d.trim().toLowerCase())).filter((d) => d >= 0);
    if (!days.length) days.push(local0.getUTCDay());
    const weekStart = local0.getTime() - timeOfDay - local0.getUTCDay() * DAY;
    outer: for (let w = 0; ; w += interval) {
      for (const d of [...days].sort()) if (!push(weekStart + w * 7 * DAY + d * DAY + timeOfDay)) break outer;
    }
  } else if (type === 'absoluteMonthly' || type === 'absoluteYearly') {
    const dom = type === 'absoluteMonthly' ? Number(rec.pattern.dayOfMonth ?? local0.getUTCDate()) : local0.getUTCDate();
    const step = type === 'absoluteMonthly' ? interval : 12 * interval;
    for (let m = 0; m < 12 * 100; m += step) {
      const y = local0.getUTCFullYear();
      const mo = local0.getUTCMonth() + m;
      const at = Date.UTC(y, mo, dom) + timeOfDay;
      if (new Date(at).getUTCDate() !== dom) continue; // no 31st that month: skipped, like DingTalk
      if (!push(at)) break;
    }
  }
  return out;
}

/** `20301210T020000Z` (or `20301210` all-day): the stamp in an occurrence's id. */
export const occurrenceStamp = (ms: number, allDay: boolean) => {
  const s = new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return allDay ? s.slice(0, 8) : s;
};
