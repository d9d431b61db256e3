import type { SyncRule } from './types.ts';
import { wallClock, zoneOffsetMs } from '../time-zone.ts';

/** An instant written as wall-clock time in `zone` with its offset (`2030-01-10T10:00:00+08:00`). */
export function isoInZone(instant: string, zone: string | undefined): string {
  const ms = Date.parse(instant);
  if (!zone) return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  try {
    const parts = wallClock(new Date(ms), zone);
    const offMin = Math.round(zoneOffsetMs(new Date(ms), zone) / 60_000);
    const sign = offMin < 0 ? '-' : '+';
    const abs = Math.abs(offMin);
    const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
  } catch {
    return new Date(ms).toISOString();
  }
}

/** Any ISO date-time (with an offset or Z) as the UTC instant the sync compares. */
export const instant = (v: string): string => new Date(Date.parse(v)).toISOString();

/** RFC 5545 RRULE lines → the neutral rule (null when there is none or it says more than the sync can carry). */
export function parseRrule(lines: string[] | null | undefined): SyncRule | null {
  const line = (lines ?? []).find((l) => l.startsWith('RRULE:'));
  if (!line) return null;
  const kv = Object.fromEntries(
    line
      .slice(6)
      .split(';')
      .map((p) => p.split('=') as [string, string]),
  );
  const freq = kv.FREQ as SyncRule['freq'];
  if (!['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(freq)) return null;
  const rule: SyncRule = { freq, interval: kv.INTERVAL ? Number(kv.INTERVAL) : 1 };
  if (kv.COUNT) rule.count = Number(kv.COUNT);
  if (kv.UNTIL) rule.until = `${kv.UNTIL.slice(0, 4)}-${kv.UNTIL.slice(4, 6)}-${kv.UNTIL.slice(6, 8)}`;
  if (kv.BYDAY) rule.byDay = kv.BYDAY.split(',').filter((d) => /^(MO|TU|WE|TH|FR|SA|SU)$/.test(d));
  if (kv.BYMONTHDAY) rule.byMonthDay = Number(kv.BYMONTHDAY);
  return rule;
}

export function formatRrule(rule: SyncRule): string {
  const parts = [`FREQ=${rule.freq}`];
  if (rule.interval && rule.interval !== 1) parts.push(`INTERVAL=${rule.interval}`);
  if (rule.count) parts.push(`COUNT=${rule.count}`);
  if (rule.until) parts.push(`UNTIL=${rule.until.replace(/-/g, '')}T235959Z`);
  if (rule.byDay?.length) parts.push(`BYDAY=${rule.byDay.join(',')}`);
  if (rule.byMonthDay) parts.push(`BYMONTHDAY=${rule.byMonthDay}`);
  return `RRULE:${parts.join(';')}`;
}
