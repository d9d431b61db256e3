import { sql } from 'kysely';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { audit } from './audit.ts';

/**
 * Sign-in limits that hold under concurrency and across processes: each attempt is reserved (a
 * `pending` row, under a lock per email and per address) before its password is checked, so thirty
 * parallel guesses cannot all slip past a limit of five. Per email, the first few failures are free and
 * then each further attempt waits a growing delay (30 s, 1 min, 2 min … at most 15 min) instead of
 * locking the real user out for the window; per address, a hard cap.
 */
declare module '../core/db/schema.ts' {
  interface Database {
    sign_in_attempts: SignInAttemptsTable;
  }
}
export interface SignInAttemptsTable {
  id: import('kysely').Generated<string>;
  email: string;
  ip: string;
  outcome: import('kysely').Generated<string>;
  at: import('kysely').Generated<Date>;
}

export const WINDOW_MS = 15 * 60_000;
export const FREE_PER_EMAIL = 5;
export const MAX_PER_IP = 20;
const BASE_DELAY_MS = 30_000;

/** How long after the last attempt the next one may come, given the failures (and reserved attempts) so far. */
export function delayAfter(failures: number): number {
  if (failures < FREE_PER_EMAIL) return 0;
  return Math.min(WINDOW_MS, BASE_DELAY_MS * 2 ** (failures - FREE_PER_EMAIL));
}

/** Reserves one attempt for this email from this address, or throws 429 with the time to wait. */
export async function reserveSignIn(rt: Runtime, email: string, ip: string): Promise<string> {
  const refused = await rt.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`dingbridge:sign-in:email:${email}`}))`.execute(trx);
    await sql`select pg_advisory_xact_lock(hashtext(${`dingbridge:sign-in:ip:${ip}`}))`.execute(trx);
    const now = Date.now();
    const since = new Date(now - WINDOW_MS);
    const r = await sql<{ by_email: string; last_email: Date | null; by_ip: string; first_ip: Date | null }>`
      select
        (select count(*) from sign_in_attempts a where a.email = ${email} and a.outcome <> 'ok' and a.at > ${since}
           and a.at > coalesce((select max(at) from sign_in_attempts o where o.email = ${email} and o.outcome = 'ok'), '-infinity')) as by_email,
        (select max(at) from sign_in_attempts a where a.email = ${email} and a.outcome <> 'ok' and a.at > ${since}) as last_email,
        (select count(*) from sign_in_attempts a where a.ip = ${ip} and a.outcome <> 'ok' and a.at > ${since}) as by_ip,
        (select min(at) from sign_in_attempts a where a.ip = ${ip} and a.outcome <> 'ok' and a.at > ${since}) as first_ip`.execute(trx);
    const row = r.rows[0]!;
    if (Number(row.by_ip) >= MAX_PER_IP) {
      return Math.max(1, Math.ceil(((row.first_ip ? new Date(row.first_ip).getTime() : now) + WINDOW_MS - now) / 1000));
    }
    const wait = delayAfter(Number(row.by_email));
    const last = row.last_email ? new Date(row.last_email).getTime() : 0;
    if (wait && now - last < wait) return Math.max(1, Math.ceil((last + wait - now) / 1000));
    const ins = await trx.insertInto('sign_in_attempts').values({ email, ip }).returning('id').executeTakeFirstOrThrow();
    return ins.id;
  });
  if (typeof refused === 'number') {
    await audit(rt, { action: 'auth.sign_in_throttled', target: email, ip, outcome: 'denied' });
    throw new HttpError(
      429,
      'too_many_attempts',
      `too many failed sign-ins; try again in ${refused >= 60 ? `${Math.ceil(refused / 60)} minute(s)` : `${refused} second(s)`}`,
      { retryAfterSeconds: refused },
    );
  }
  return refused;
}

/** Records how a reserved attempt ended. */
export async function settleSignIn(rt: Runtime, id: string, outcome: 'ok' | 'failed'): Promise<void> {
  await rt.db.updateTable('sign_in_attempts').set({ outcome }).where('id', '=', id).execute();
}

/** Removes attempts older than the window (kept small). */
export async function pruneSignIns(rt: Runtime): Promise<void> {
  await rt.db
    .deleteFrom('sign_in_attempts')
    .where('at', '<', new Date(Date.now() - 2 * WINDOW_MS))
    .execute();
}
