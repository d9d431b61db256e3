import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { PeopleStore, type Identities, type Person } from './store.ts';

/** One person as a source (a CSV row, a directory listing) describes them. `undefined` = the source says nothing. */
export interface IncomingPerson {
  /** The line in the file (CSV) for errors. */
  row?: number;
  name: string;
  email?: string | null;
  mobile?: string | null;
  department?: string | null;
  title?: string | null;
  /** The manager by email (CSV) … */
  managerEmail?: string | null;
  /** … or by an identity in the source's service (directory sync). */
  managerIdentity?: { service: string; kind: string; value: string } | null;
  identities?: Identities;
}

export interface PlanOptions {
  /** Recorded in each touched person's `sources` ('csv', 'dingtalk', …). */
  source: string;
  /** Deactivate active people the source does not list (all of them, or only those linked to `deactivateScope`'s service). */
  deactivateMissing?: boolean;
  deactivateScope?: string;
}

export interface FieldChange {
  from: unknown;
  to: unknown;
}
export interface Change {
  action: 'create' | 'update' | 'deactivate';
  id: string | null;
  row?: number;
  name: string;
  email: string | null;
  fields: Record<string, FieldChange>;
}
export interface RowError {
  row: number;
  message: string;
}

export interface Plan {
  changes: Change[];
  errors: RowError[];
  unchanged: number;
  counts: { created: number; updated: number; deactivated: number };
  /** What apply() needs beyond the diff. */
  internal: { targets: Target[]; deactivate: string[]; source: string };
}

interface Target {
  incoming: IncomingPerson;
  existing?: Person;
  id: string;
  create: boolean;
  set: Partial<{
    name: string;
    email: string | null;
    mobile: string | null;
    department: string | null;
    title: string | null;
    active: boolean;
  }>;
  managerTarget?: string | null;
  identities: Record<string, Record<string, string>>;
}

const lower = (s: string | null | undefined) => (s ? s.toLowerCase() : s);

/**
 * Works out what a source would change in the directory, person by person. Matching: an identity the
 * source carries (e.g. the DingTalk userId already linked), then email (case-insensitive), then
 * mobile. Nothing is written; `applyPlan` writes it in one transaction.
 */
export async function planChanges(db: Db, incoming: IncomingPerson[], opts: PlanOptions): Promise<Plan> {
  const store = new PeopleStore(db);
  const everyone = await store.list();
  const byId = new Map(everyone.map((p) => [p.id, p]));
  const byEmail = new Map(everyone.filter((p) => p.email).map((p) => [p.email!.toLowerCase(), p]));
  const byMobile = new Map<string, Person>();
  for (const p of [...everyone].sort((a, b) => Number(a.active) - Number(b.active))) if (p.mobile) byMobile.set(p.mobile, p);
  const byIdentity = new Map<string, Person>();
  const identKey = (s: string, k: string, v: string) => `${s}\u0000${k}\u0000${v}`;
  for (const p of everyone)
    for (const [s, kinds] of Object.entries(p.identities)) for (const [k, v] of Object.entries(kinds)) byIdentity.set(identKey(s, k, v), p);

  const errors: RowError[] = [];
  const claimedBy = new Map<string, IncomingPerson>();
  const targets: Target[] = [];
  for (const inc of incoming) {
    let existing: Person | undefined;
    for (const [s, kinds] of Object.entries(inc.identities ?? {}))
      for (const [k, v] of Object.entries(kinds)) existing ??= byIdentity.get(identKey(s, k, v));
    if (!existing && inc.email) existing = byEmail.get(inc.email.toLowerCase());
    if (!existing && inc.mobile) existing = byMobile.get(inc.mobile);
    if (existing) {
      const other = claimedBy.get(existing.id);
      if (other) {
        errors.push({
          row: inc.row ?? 0,
          message: `matches the same person (${existing.email ?? existing.mobile ?? existing.name}) as ${other.row ? `row ${other.row}` : other.name}`,
        });
        continue;
      }
      claimedBy.set(existing.id, inc);
      if (inc.email && existing.email && inc.email.toLowerCase() !== existing.email.toLowerCase()) {
        const holder = byEmail.get(inc.email.toLowerCase());
        if (holder && holder.id !== existing.id) {
          errors.push({ row: inc.row ?? 0, message: `email ${inc.email} belongs to another person (${holder.name})` });
          continue;
        }
      }
    }
    targets.push({ incoming: inc, existing, id: existing?.id ?? crypto.randomUUID(), create: !existing, set: {}, identities: {} });
  }

  // Managers: by email among the incoming and the directory, or by identity.
  const targetByEmail = new Map<string, Target>();
  const targetByIdentity = new Map<string, Target>();
  for (const t of targets) {
    const email = t.incoming.email ?? t.existing?.email;
    if (email) targetByEmail.set(email.toLowerCase(), t);
    for (const [s, kinds] of Object.entries(t.incoming.identities ?? {}))
      for (const [k, v] of Object.entries(kinds)) targetByIdentity.set(identKey(s, k, v), t);
  }
  const nameOf = (id: string | null | undefined): string | null => {
    if (!id) return null;
    const t = targets.find((x) => x.id === id);
    const p = byId.get(id);
    return t?.incoming.email ?? p?.email ?? t?.incoming.name ?? p?.name ?? null;
  };

  const changes: Change[] = [];
  let unchanged = 0;
  for (const t of targets) {
    const inc = t.incoming;
    const ex = t.existing;
    const fields: Record<string, FieldChange> = {};
    const consider = <K extends keyof Target['set']>(
      key: K,
      to: Target['set'][K] | undefined,
      same = (a: unknown, b: unknown) => a === b,
    ) => {
      if (to === undefined) return;
      const from = ex ? (ex as unknown as Record<string, unknown>)[key] : undefined;
      if (ex && same(from ?? null, to ?? null)) return;
      if (!ex && (to === null || to === undefined)) return;
      t.set[key] = to;
      fields[key] = { from: ex ? (from ?? null) : null, to };
    };
    consider('name', inc.name);
    // An empty email or mobile never clears a known one: they are how people are matched.
    if (inc.email) consider('email', inc.email, (a, b) => lower(a as string) === lower(b as string));
    if (inc.mobile) consider('mobile', inc.mobile);
    consider('department', inc.department);
    consider('title', inc.title);
    if (ex && !ex.active) consider('active', true);

    let managerTarget: string | null | undefined;
    if (inc.managerEmail !== undefined) {
      if (inc.managerEmail === null) managerTarget = null;
      else {
        const m = targetByEmail.get(inc.managerEmail.toLowerCase())?.id ?? byEmail.get(inc.managerEmail.toLowerCase())?.id;
        if (!m) {
          errors.push({ row: inc.row ?? 0, message: `manager_email ${inc.managerEmail} is not in the file or the directory` });
          continue;
        }
        managerTarget = m;
      }
    } else if (inc.managerIdentity !== undefined) {
      const r = inc.managerIdentity;
      managerTarget = r
        ? (targetByIdentity.get(identKey(r.service, r.kind, r.value))?.id ??
          byIdentity.get(identKey(r.service, r.kind, r.value))?.id ??
          null)
        : null;
    }
    if (managerTarget === t.id) managerTarget = null;
    if (managerTarget !== undefined && (ex?.managerId ?? null) !== managerTarget && !(managerTarget === null && !ex)) {
      t.managerTarget = managerTarget;
      fields.manager = { from: ex ? nameOf(ex.managerId) : null, to: nameOf(managerTarget) };
    }

    for (const [s, kinds] of Object.entries(inc.identities ?? {})) {
      for (const [k, v] of Object.entries(kinds)) {
        if (!v || ex?.identities[s]?.[k] === v) continue;
        const holder = byIdentity.get(identKey(s, k, v));
        if (holder && holder.id !== t.id) {
          errors.push({ row: inc.row ?? 0, message: `the ${s} ${k} ${v} already belongs to ${holder.name}` });
          continue;
        }
        (t.identities[s] ??= {})[k] = v;
        fields[`${s}.${k}`] = { from: ex?.identities[s]?.[k] ?? null, to: v };
      }
    }
    if (t.create) changes.push({ action: 'create', id: null, row: inc.row, name: inc.name, email: inc.email ?? null, fields });
    else if (Object.keys(fields).length)
      changes.push({ action: 'update', id: t.id, row: inc.row, name: inc.name, email: inc.email ?? ex!.email, fields });
    else unchanged++;
  }

  const deactivate: string[] = [];
  if (opts.deactivateMissing) {
    const listed = new Set(targets.map((t) => t.id));
    for (const p of everyone) {
      if (!p.active || listed.has(p.id) || claimedBy.has(p.id)) continue;
      if (opts.deactivateScope && !p.identities[opts.deactivateScope]) continue;
      deactivate.push(p.id);
      changes.push({ action: 'deactivate', id: p.id, name: p.name, email: p.email, fields: { active: { from: true, to: false } } });
    }
  }
  errors.sort((a, b) => a.row - b.row);
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  return {
    changes,
    errors,
    unchanged,
    counts: { created: count('create'), updated: count('update'), deactivated: count('deactivate') },
    internal: { targets, deactivate, source: opts.source },
  };
}

/** Writes a plan in one transaction (the caller refuses plans with errors). */
export async function applyPlan(db: Db, plan: Plan): Promise<void> {
  const { targets, deactivate, source } = plan.internal;
  await db.transaction().execute(async (trx) => {
    const creates = targets.filter((t) => t.create);
    for (let i = 0; i < creates.length; i += 500) {
      await trx
        .insertInto('people')
        .values(
          creates.slice(i, i + 500).map((t) => ({
            id: t.id,
            name: t.set.name ?? t.incoming.name,
            email: t.set.email ?? null,
            mobile: t.set.mobile ?? null,
            department: t.set.department ?? null,
            title: t.set.title ?? null,
            sources: JSON.stringify([source]),
          })),
        )
        .execute();
    }
    for (const t of targets) {
      if (!t.create && Object.keys(t.set).length) {
        await trx
          .updateTable('people')
          .set({
            ...t.set,
            updated_at: sql`now()`,
            sources: sql`(select jsonb_agg(distinct s) from jsonb_array_elements(sources || ${JSON.stringify([source])}::jsonb) s)`,
          })
          .where('id', '=', t.id)
          .execute();
      }
      if (t.managerTarget !== undefined)
        await trx.updateTable('people').set({ manager_id: t.managerTarget, updated_at: sql`now()` }).where('id', '=', t.id).execute();
      if (Object.keys(t.identities).length) {
        await new PeopleStore(trx).setIdentities(t.id, t.identities, trx);
        if (!t.create && !Object.keys(t.set).length)
          await trx.updateTable('people').set({ updated_at: sql`now()` }).where('id', '=', t.id).execute();
      }
    }
    if (deactivate.length)
      await trx.updateTable('people').set({ active: false, updated_at: sql`now()` }).where('id', 'in', deactivate).execute();
  });
}
