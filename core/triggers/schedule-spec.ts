import crypto from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';

/**
 * What a schedule flow says (`when: { event: schedule.fired, params: { every: "15m" } }` or
 * `params: { cron: "0 9 * * 1-5", timezone: "Asia/Hong_Kong" }`) and the slots it stands for. Pure:
 * no clock but the one passed in, no database; the schedule manager (schedules.ts) does the rest.
 */
export const SCHEDULE_EVENT = 'schedule.fired';
export const DEFAULT_TIMEZONE = 'Asia/Hong_Kong';

const EVERY_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SCHEDULE_PARAMS = ['every', 'cron', 'timezone', 'catchUp'];

export interface ScheduleSpec {
  /** The params as the schedule's events carry them (flows that say the same match the same events). */
  params: { every?: string; cron?: string; timezone: string; catchUp: 'true' | 'false' };
  everyMs?: number;
  cron?: string;
  timezone: string;
  catchUp: boolean;
}

/** `15m` → 900000. A whole number with a unit s, m, h or d, at least one second. */
export function parseEvery(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not an interval: a whole number with a unit s, m, h or d (e.g. 30s, 15m, 2h, 1d)`);
  const ms = Number(m[1]) * EVERY_UNITS[m[2]!]!;
  if (ms < 1000) throw new Error(`"${text}" is shorter than 1s`);
  if (ms > 366 * 86_400_000) throw new Error(`"${text}" is longer than a year`);
  return ms;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Throws when the cron expression does not parse (5 fields, or 6 with seconds first). */
export function checkCron(expr: string, timezone = DEFAULT_TIMEZONE): void {
  const fields = expr.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6)
    throw new Error(`"${expr}" is not a cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first`);
  try {
    CronExpressionParser.parse(expr, { tz: timezone, strict: false }).next();
  } catch (err) {
    throw new Error(`"${expr}" is not a cron expression: ${(err as Error).message}`);
  }
}

/** Problems with a schedule flow's params, each with the param it is about (for config line numbers and API 400s). */
export function scheduleParamIssues(params: Record<string, string> | undefined): { param: string; message: string }[] {
  const p = params ?? {};
  const issues: { param: string; message: string }[] = [];
  if (p.every === undefined && p.cron === undefined)
    issues.push({ param: 'every', message: 'a schedule needs `every` (e.g. 15m) or `cron` (e.g. "0 9 * * 1-5")' });
  if (p.every !== undefined && p.cron !== undefined) issues.push({ param: 'cron', message: 'a schedule has `every` or `cron`, not both' });
  if (p.every !== undefined) {
    try {
      parseEvery(p.every);
    } catch (err) {
      issues.push({ param: 'every', message: (err as Error).message });
    }
  }
  if (p.timezone !== undefined && !isTimeZone(p.timezone))
    issues.push({ param: 'timezone', message: `"${p.timezone}" is not an IANA time zone (e.g. Asia/Hong_Kong)` });
  if (p.cron !== undefined) {
    try {
      checkCron(p.cron, p.timezone && isTimeZone(p.timezone) ? p.timezone : DEFAULT_TIMEZONE);
    } catch (err) {
      issues.push({ param: 'cron', message: (err as Error).message });
    }
  }
  if (p.catchUp !== undefined && !['true', 'false'].includes(p.catchUp))
    issues.push({ param: 'catchUp', message: 'catchUp is true or false' });
  for (const key of Object.keys(p))
    if (!SCHEDULE_PARAMS.includes(key))
      issues.push({ param: key, message: `unknown schedule param "${key}" (known: ${SCHEDULE_PARAMS.join(', ')})` });
  return issues;
}

/** The schedule a flow's params describe; `defaultTimezone` is DINGBRIDGE_TIMEZONE. Throws on bad params. */
export function scheduleSpec(params: Record<string, string> | undefined, defaultTimezone = DEFAULT_TIMEZONE): ScheduleSpec {
  const issues = scheduleParamIssues(params);
  if (issues.length) throw new Error(issues.map((i) => `${i.param}: ${i.message}`).join('; '));
  const p = params!;
  const timezone = p.timezone ?? defaultTimezone;
  const catchUp = p.catchUp !== 'false';
  const base = { timezone, catchUp: (catchUp ? 'true' : 'false') as 'true' | 'false' };
  if (p.every !== undefined) return { params: { every: p.every.trim(), ...base }, everyMs: parseEvery(p.every), timezone, catchUp };
  return { params: { cron: p.cron!.trim(), ...base }, cron: p.cron!.trim(), timezone, catchUp };
}

/** The id of a schedule's BullMQ job scheduler and its events' source: the same params give the same id. */
export function scheduleKey(spec: ScheduleSpec): string {
  const p = spec.params;
  const canonical = JSON.stringify([p.every ?? null, p.cron ?? null, p.timezone, p.catchUp]);
  return `sched_${crypto.createHash('sha256').update(canonical).digest('hex').slice(0, 20)}`;
}

/** The first slot strictly after `afterMs`. */
export function nextSlot(spec: ScheduleSpec, afterMs: number): number {
  if (spec.everyMs) return (Math.floor(afterMs / spec.everyMs) + 1) * spec.everyMs;
  return CronExpressionParser.parse(spec.cron!, { tz: spec.timezone, currentDate: new Date(afterMs) })
    .next()
    .getTime();
}

/** The last slot at or before `atMs`, or undefined when there is none. */
export function lastSlotAtOrBefore(spec: ScheduleSpec, atMs: number): number | undefined {
  if (spec.everyMs) return Math.floor(atMs / spec.everyMs) * spec.everyMs;
  try {
    return CronExpressionParser.parse(spec.cron!, { tz: spec.timezone, currentDate: new Date(atMs + 1) })
      .prev()
      .getTime();
  } catch {
    return undefined;
  }
}

/** The slots in (fromMs, toMs], oldest first, at most `limit` (the newest ones when there are more). */
export function slotsBetween(spec: ScheduleSpec, fromMs: number, toMs: number, limit = 1000): number[] {
  if (toMs <= fromMs) return [];
  if (spec.everyMs) {
    const first = Math.floor(fromMs / spec.everyMs) + 1;
    const last = Math.floor(toMs / spec.everyMs);
    const out: number[] = [];
    for (let k = Math.max(first, last - limit + 1); k <= last; k++) out.push(k * spec.everyMs);
    return out;
  }
  const out: number[] = [];
  let at = toMs + 1;
  // Walk back from the end, so a long gap costs `limit` steps at most.
  while (out.length < limit) {
    const prev = lastSlotAtOrBefore(spec, at - 1);
    if (prev === undefined || prev <= fromMs) break;
    out.push(prev);
    at = prev;
  }
  return out.reverse();
}

/**
 * Which slots a firing at `nowMs` stands for. Every slot after the last fired one is due; a slot that
 * passed before this process started was missed while no hub ran (when another process was running,
 * that one fires it): of those only the newest fires, and only with catchUp. Slots before `sinceMs`
 * (when the schedule was made) are not due.
 */
export function dueSlots(spec: ScheduleSpec, opts: { lastFiredMs?: number; sinceMs: number; nowMs: number; startedMs: number }): number[] {
  const from = Math.max(opts.lastFiredMs ?? -Infinity, opts.sinceMs - 1);
  const all = slotsBetween(spec, from, opts.nowMs);
  const missed = all.filter((s) => s < opts.startedMs);
  const live = all.filter((s) => s >= opts.startedMs);
  return [...(spec.catchUp && missed.length ? [missed[missed.length - 1]!] : []), ...live];
}
