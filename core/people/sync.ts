import type { ConnectionHandle } from '../connector.ts';
import type { Db } from '../db/database.ts';
import { HttpError } from '../errors.ts';
import { directoryProvider, type ProvisionResult } from './directory.ts';
import { normaliseMobile } from './mobile.ts';
import { applyPlan, planChanges, type Plan } from './plan.ts';
import { PeopleStore } from './store.ts';

function providerFor(conn: ConnectionHandle, what: 'read' | 'provision') {
  const p = directoryProvider(conn.connectorId);
  if (!p || (what === 'provision' && !p.provision))
    throw new HttpError(
      400,
      'not_supported',
      `connection ${conn.id} (${conn.connectorId}) cannot ${what === 'read' ? 'be synced into' : 'be provisioned from'} the people directory`,
    );
  return p;
}

/** Reads a service's directory into People (matched by identity, email, mobile; identities linked); a dry run only plans. */
export async function syncDirectory(db: Db, conn: ConnectionHandle, opts: { dryRun: boolean; deactivateMissing: boolean }): Promise<Plan> {
  const provider = providerFor(conn, 'read');
  const entries = await provider.read(conn);
  const plan = await planChanges(
    db,
    entries.map((e) => ({
      name: e.name,
      email: e.email ? e.email.toLowerCase() : e.email,
      mobile: e.mobile ? (normaliseMobile(e.mobile) ?? null) : e.mobile,
      department: e.department,
      title: e.title,
      managerIdentity: e.managerIdentity,
      identities: e.identities,
    })),
    { source: provider.service, deactivateMissing: opts.deactivateMissing, deactivateScope: provider.service },
  );
  if (!opts.dryRun && plan.errors.length === 0) await applyPlan(db, plan);
  return plan;
}

/** Creates departments and accounts in the service from People, deactivates leavers; links are stored unless it is a dry run. */
export async function provisionDirectory(db: Db, conn: ConnectionHandle, opts: { dryRun: boolean }): Promise<ProvisionResult> {
  const provider = providerFor(conn, 'provision');
  const store = new PeopleStore(db);
  const people = await store.list();
  const result = await provider.provision!(
    conn,
    people.map((p) => ({
      id: p.id,
      name: p.name,
      email: p.email,
      mobile: p.mobile,
      department: p.department,
      title: p.title,
      active: p.active,
      identity: p.identities[provider.service] ?? {},
      managerId: p.managerId,
    })),
    opts,
  );
  if (!opts.dryRun && result.links.length) {
    await db.transaction().execute(async (trx) => {
      for (const l of result.links) await new PeopleStore(trx).setIdentities(l.personId, { [provider.service]: l.identity }, trx);
    });
  }
  return result;
}
