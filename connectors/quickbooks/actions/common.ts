import type { ActionContext, ConnectionHandle, StepPace } from '../../../core/connector.ts';
import { permanent, StepError } from '../../../core/errors.ts';
import { accounts, currencyPrefs, q, qboCall, query, realmOf, unwrap } from '../client.ts';
import { environmentOf } from '../fields.ts';

export function qboConnection(ctx: ActionContext, action: string): ConnectionHandle {
  if (!ctx.connection) throw permanent(`${action} needs a QuickBooks connection (set \`connection:\` on the step)`);
  if (ctx.connection.connectorId !== 'quickbooks')
    throw permanent(`${action} needs a QuickBooks connection, not ${ctx.connection.connectorId}`);
  return ctx.connection;
}

/**
 * Per company: at most `maxConcurrent` (10) steps at once and `requestsPerMinute` (500) a minute, across
 * processes (core/pipeline/pacing.ts): a step over the limit waits in line without spending an attempt.
 * Inside a process the client's limiter holds every request (steps, webhook fetches, polls) to the same limits.
 */
export function qboPace(_input: unknown, conn: ConnectionHandle | undefined): StepPace | undefined {
  if (!conn?.settings.realmId) return undefined;
  return {
    key: `quickbooks:${environmentOf(conn.settings)}:${String(conn.settings.realmId)}`,
    concurrency: Math.max(1, Number(conn.settings.maxConcurrent ?? 10) || 10),
    limit: Math.max(1, Number(conn.settings.requestsPerMinute ?? 500) || 500),
    intervalMs: 60_000,
  };
}

/** A value the form must give: a clear step error naming the field (never a QuickBooks fault about it). */
export function need<T>(value: T | undefined | null, field: string, action: string, hint = ''): T {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
    throw permanent(`${action}: ${field} is missing${hint ? ` (${hint})` : ''}`, { code: 'missing_field' });
  return value;
}

/** "HKD 1,234.50", "1234.5", 1234.5 → 1234.5; anything else → a step error naming the field. */
export function money(value: unknown, field: string, action: string): number {
  need(value as string | number | undefined, field, action);
  const n = typeof value === 'number' ? value : Number(String(value).replace(/[^\d.-]/g, ''));
  if (!Number.isFinite(n) || (typeof value === 'string' && !/\d/.test(value)))
    throw permanent(`${action}: ${field} "${String(value)}" is not an amount`, { code: 'invalid_field' });
  return Math.round(n * 100) / 100;
}

/** An account by id, name or full name (case-insensitive), from the company's chart of accounts. */
export async function resolveAccount(
  conn: ConnectionHandle,
  given: string,
  field: string,
  action: string,
  types?: string[],
): Promise<{ Id: string; Name: string; AccountType?: string }> {
  const wanted = given.trim().toLowerCase();
  const pick = (list: Array<Record<string, unknown>>) =>
    list.find((a) => String(a.Id) === given.trim()) ??
    list.find((a) => String(a.Name ?? '').toLowerCase() === wanted || String(a.FullyQualifiedName ?? '').toLowerCase() === wanted);
  let found = pick(await accounts(conn));
  if (!found) found = pick(await accounts(conn, true));
  if (!found) {
    const names = (await accounts(conn))
      .filter((a) => !types || types.includes(String(a.AccountType)))
      .map((a) => String(a.Name))
      .slice(0, 20);
    throw permanent(
      `${action}: ${field} "${given}" is not an account of this company${names.length ? ` (e.g. ${names.join(', ')})` : ''}`,
      {
        code: 'unknown_account',
      },
    );
  }
  return { Id: String(found.Id), Name: String(found.Name), AccountType: found.AccountType as string | undefined };
}

/** Currency and its exchange rate (home units per foreign unit): 1 in the home currency; else the given rate or QuickBooks' own. */
export async function currencyAndRate(
  conn: ConnectionHandle,
  currency: string | undefined,
  rate: number | undefined,
  action: string,
  txnDate?: string,
): Promise<{ currency: string; home: string; exchangeRate: number }> {
  const prefs = await currencyPrefs(conn);
  const code = (currency?.trim() || prefs.home).toUpperCase();
  if (!/^[A-Z]{3}$/.test(code))
    throw permanent(`${action}: currency "${currency}" is not a currency code (e.g. HKD, USD)`, { code: 'invalid_field' });
  if (code === prefs.home) return { currency: code, home: prefs.home, exchangeRate: 1 };
  if (!prefs.multi)
    throw permanent(`${action}: currency ${code} needs multicurrency, which this company (home currency ${prefs.home}) has not turned on`, {
      code: 'multicurrency_off',
    });
  if (rate !== undefined && rate > 0) return { currency: code, home: prefs.home, exchangeRate: rate };
  const body = await qboCall<{ ExchangeRate?: { Rate?: number } }>(
    conn,
    'exchangerate',
    (qbo, cb) => qbo.getExchangeRate({ sourcecurrencycode: code, ...(txnDate ? { asofdate: txnDate } : {}) }, cb),
    { idempotent: true },
  );
  const got = Number(body.ExchangeRate?.Rate);
  if (!(got > 0))
    throw permanent(`${action}: QuickBooks has no exchange rate for ${code}: give exchangeRate`, { code: 'no_exchange_rate' });
  return { currency: code, home: prefs.home, exchangeRate: got };
}

const vendorCache = new Map<string, string>();

export interface PartyInput {
  name?: string;
  email?: string;
  /** The requester's DingTalk user id: the People directory gives their name, email and remembered vendor. */
  dingtalkUserId?: string;
  currency?: string;
}

/**
 * Finds the vendor (by remembered identity, display name or email) or creates it (with a requestid, so a
 * retry never makes two). QuickBooks gives a vendor one currency: for another currency the vendor is
 * "<name> (<CUR>)", as bookkeepers do. What was found is remembered on the person in People.
 */
export async function findOrCreateVendor(
  ctx: ActionContext,
  conn: ConnectionHandle,
  input: PartyInput,
  action: string,
  requestId: string,
): Promise<{ id: string; name: string; created: boolean; currency: string; personId: string | null }> {
  const realm = realmOf(conn);
  const prefs = await currencyPrefs(conn);
  const currency = (input.currency?.trim() || prefs.home).toUpperCase();
  let person = null as Awaited<ReturnType<NonNullable<ActionContext['people']>['byEmail']>> | null;
  if (ctx.people) {
    if (input.dingtalkUserId) person = (await ctx.people.byIdentity('dingtalk', 'userId', input.dingtalkUserId)) ?? null;
    if (!person && input.email) person = (await ctx.people.byEmail(input.email)) ?? null;
  }
  const identityKind = `vendor:${realm}:${currency}`;
  const remembered = person?.identities?.quickbooks?.[identityKind];
  const baseName = input.name?.trim() || person?.name || '';
  const email = input.email?.trim() || person?.email || '';
  if (!baseName && !email) need(undefined, 'vendor', action, 'give the payee name or email, or a requester known to People');
  const displayName = (cur: string) => (cur === prefs.home || !prefs.multi ? baseName : `${baseName} (${cur})`);
  const cacheKey = `${realm}:${currency}:${(baseName || email).toLowerCase()}`;
  const remember = async (id: string) => {
    vendorCache.set(cacheKey, id);
    if (person && ctx.people && remembered !== id)
      await ctx.people.setIdentities(person.id, { quickbooks: { [identityKind]: id } }).catch(() => undefined);
  };
  if (remembered) return { id: String(remembered), name: baseName, created: false, currency, personId: person?.id ?? null };
  const cached = vendorCache.get(cacheKey);
  if (cached) return { id: cached, name: baseName, created: false, currency, personId: person?.id ?? null };

  const currencyOf = (v: Record<string, unknown>) => String((v.CurrencyRef as { value?: string } | undefined)?.value ?? prefs.home);
  const lookup = async (): Promise<Record<string, unknown> | undefined> => {
    const names = baseName ? [...new Set([baseName, displayName(currency)])] : [];
    for (const n of names) {
      const rows = await query(conn, 'Vendor', `where DisplayName = ${q(n)}`);
      const hit = rows.find((v) => currencyOf(v) === currency);
      if (hit) return hit;
    }
    if (email) {
      const rows = await query(conn, 'Vendor', `where PrimaryEmailAddr = ${q(email)}`);
      const hit = rows.find((v) => currencyOf(v) === currency);
      if (hit) return hit;
    }
    return undefined;
  };
  const found = await lookup();
  if (found) {
    await remember(String(found.Id));
    return { id: String(found.Id), name: String(found.DisplayName), created: false, currency, personId: person?.id ?? null };
  }
  const name = displayName(currency) || email;
  const vendor: Record<string, unknown> = {
    DisplayName: name,
    ...(email ? { PrimaryEmailAddr: { Address: email } } : {}),
    ...(currency !== prefs.home ? { CurrencyRef: { value: currency } } : {}),
    requestId,
  };
  try {
    const body = unwrap(
      await qboCall(conn, 'create vendor', (qbo, cb) => qbo.createVendor({ ...vendor }, cb), { idempotent: true }),
      'Vendor',
    );
    await remember(String(body.Id));
    return { id: String(body.Id), name, created: true, currency, personId: person?.id ?? null };
  } catch (err) {
    // 6240: another step made the same vendor a moment ago (two claims of one person in a burst).
    if (err instanceof StepError && err.details.code === '6240') {
      const again = await lookup();
      if (again) {
        await remember(String(again.Id));
        return { id: String(again.Id), name: String(again.DisplayName), created: false, currency, personId: person?.id ?? null };
      }
    }
    throw err;
  }
}

/** A customer by display name, created when missing (requestid). */
export async function findOrCreateCustomer(conn: ConnectionHandle, name: string, currency: string, home: string, requestId: string) {
  const rows = await query(conn, 'Customer', `where DisplayName = ${q(name)}`);
  if (rows[0]) return { id: String(rows[0].Id), name: String(rows[0].DisplayName) };
  try {
    const body = unwrap(
      await qboCall(
        conn,
        'create customer',
        (qbo, cb) =>
          qbo.createCustomer({ DisplayName: name, ...(currency !== home ? { CurrencyRef: { value: currency } } : {}), requestId }, cb),
        { idempotent: true },
      ),
      'Customer',
    );
    return { id: String(body.Id), name };
  } catch (err) {
    if (err instanceof StepError && err.details.code === '6240') {
      const again = await query(conn, 'Customer', `where DisplayName = ${q(name)}`);
      if (again[0]) return { id: String(again[0].Id), name: String(again[0].DisplayName) };
    }
    throw err;
  }
}
