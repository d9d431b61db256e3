import type { TriggeredEvent } from '../../core/connector.ts';

/**
 * Pure functions from Intuit's payloads to hub events (the unit tests cover them).
 *
 * Webhooks come in two formats (switchable per app in Intuit's portal): the legacy
 * `{eventNotifications:[{realmId, dataChangeEvent:{entities:[{name, id, operation, lastUpdated}]}}]}`
 * and the CloudEvents array `[{specversion, id, type: "qbo.invoice.created.v1", time, intuitentityid,
 * intuitaccountid, data: {}}]`. Both become the same `Notification`, and one change becomes one hub event
 * whatever told the hub about it (either webhook format, or the CDC poll): its provider id is
 * realm + entity + id + the change's time to the second.
 */
export const OPERATIONS = ['created', 'updated', 'deleted', 'voided', 'merged'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The entities the connector's trigger declares events for (Intuit's webhook entities that matter to finance). */
export const WEBHOOK_ENTITIES = [
  'Account',
  'Bill',
  'BillPayment',
  'Customer',
  'Employee',
  'Invoice',
  'Item',
  'Payment',
  'Purchase',
  'Vendor',
  'Attachable',
  'CreditMemo',
  'Estimate',
  'JournalEntry',
  'SalesReceipt',
] as const;
export const QUICKBOOKS_EVENTS = WEBHOOK_ENTITIES.flatMap((e) => OPERATIONS.map((op) => `quickbooks.${e.toLowerCase()}.${op}`));

export interface Notification {
  realmId: string;
  /** QuickBooks' entity name as it spells it (`Invoice`). */
  entity: string;
  id: string;
  operation: Operation;
  /** ISO time of the change, to the second. */
  at: string;
}

const LEGACY_OPS: Record<string, Operation> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  void: 'voided',
  merge: 'merged',
  emailed: 'updated',
};

/** To the second: legacy times are `2015-10-05T14:42:19-0700`, CloudEvents `…T14:42:19.123Z`, CDC `…+00:00`. */
export function secondOf(time: unknown): string | undefined {
  if (typeof time !== 'string' || !time) return undefined;
  const fixed = time.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(fixed);
  if (Number.isNaN(ms)) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Canonical entity spelling from any case (`invoice`, `INVOICE` → `Invoice`). */
export function canonicalEntity(name: string): string {
  const known = (WEBHOOK_ENTITIES as readonly string[]).find((e) => e.toLowerCase() === name.toLowerCase());
  return known ?? name.charAt(0).toUpperCase() + name.slice(1);
}

/** Either format → notifications; anything else → an error naming what is wrong. */
export function parseNotifications(body: unknown): Notification[] {
  const out: Notification[] = [];
  if (Array.isArray(body)) {
    for (const ce of body as Array<Record<string, unknown>>) {
      const m = /^qbo\.([a-z]+)\.([a-z]+)\.v\d+$/i.exec(String(ce?.type ?? ''));
      const realmId = String(ce?.intuitaccountid ?? '');
      const id = String(ce?.intuitentityid ?? '');
      if (!m || !realmId || !id) continue;
      const op = m[2]!.toLowerCase() as Operation;
      out.push({
        realmId,
        entity: canonicalEntity(m[1]!),
        id,
        operation: OPERATIONS.includes(op) ? op : 'updated',
        at: secondOf(ce.time) ?? new Date(0).toISOString(),
      });
    }
    return out;
  }
  const notes = (body as { eventNotifications?: unknown })?.eventNotifications;
  if (!Array.isArray(notes)) throw new Error('neither eventNotifications nor a CloudEvents array');
  for (const n of notes as Array<Record<string, unknown>>) {
    const realmId = String(n?.realmId ?? '');
    const entities = ((n?.dataChangeEvent as { entities?: unknown })?.entities ?? []) as Array<Record<string, unknown>>;
    for (const e of entities) {
      if (!realmId || !e?.name || !e?.id) continue;
      out.push({
        realmId,
        entity: canonicalEntity(String(e.name)),
        id: String(e.id),
        operation: LEGACY_OPS[String(e.operation ?? '').toLowerCase()] ?? 'updated',
        at: secondOf(e.lastUpdated) ?? new Date(0).toISOString(),
      });
    }
  }
  return out;
}

/** The realms a delivery is about (routing to connections). */
export function realmsOf(body: unknown): string[] {
  try {
    return [...new Set(parseNotifications(body).map((n) => n.realmId))];
  } catch {
    return [];
  }
}

const num = (v: unknown) => (typeof v === 'number' ? v : v === undefined || v === null || v === '' ? undefined : Number(v));
const refName = (v: unknown) => (v as { name?: string; value?: string } | undefined)?.name ?? (v as { value?: string })?.value;

/** A short human subject: a document number or name. */
function subjectOf(entity: string, e: Record<string, unknown> | null, id: string): string {
  if (!e) return `${entity} ${id}`;
  const name = e.DisplayName ?? e.Name ?? e.FileName;
  if (name) return `${entity} ${String(name)}`;
  const party = refName(e.CustomerRef) ?? refName(e.VendorRef) ?? refName(e.EntityRef);
  return `${entity} ${String(e.DocNumber ?? id)}${party ? ` (${party})` : ''}`;
}

export interface CompanyView {
  realmId: string;
  companyName?: string;
  /** Link builder for the entity's page. */
  link?: (entity: string, id: string) => string;
}

/**
 * One change → one hub event. `entity` is the object as QuickBooks holds it now (null when deleted or
 * not found); `data` keeps the common fields flat for templates (`data.entity` has everything).
 */
export function changeEvent(n: Notification, entity: Record<string, unknown> | null, company: CompanyView, raw?: unknown): TriggeredEvent {
  const type = `quickbooks.${n.entity.toLowerCase()}.${n.operation}`;
  const e = entity ?? null;
  const balance = num(e?.Balance);
  const due = typeof e?.DueDate === 'string' ? e.DueDate : undefined;
  return {
    providerId: `${n.realmId}:${n.entity}:${n.id}:${n.at}`,
    type,
    occurredAt: n.at,
    subject: subjectOf(n.entity, e, n.id),
    data: {
      realmId: n.realmId,
      companyName: company.companyName ?? null,
      entityType: n.entity,
      id: n.id,
      operation: n.operation,
      changedAt: n.at,
      entity: e,
      docNumber: e?.DocNumber ?? null,
      name: e?.DisplayName ?? e?.Name ?? null,
      customer: refName(e?.CustomerRef) ?? null,
      vendor: refName(e?.VendorRef) ?? null,
      totalAmount: num(e?.TotalAmt) ?? null,
      balance: balance ?? null,
      currency: (e?.CurrencyRef as { value?: string } | undefined)?.value ?? null,
      dueDate: due ?? null,
      /** Invoices and bills: a balance of 0 after a payment. */
      paid: balance !== undefined && balance === 0 && num(e?.TotalAmt) !== undefined && (num(e?.TotalAmt) ?? 0) > 0,
      /** A balance left after the due date (as of the change). */
      overdue: balance !== undefined && balance > 0 && due !== undefined && due < n.at.slice(0, 10),
      link: company.link ? company.link(n.entity, n.id) : null,
    },
    raw,
    refs: [{ kind: `quickbooks.${n.entity.toLowerCase()}`, id: n.id }],
    echoKeys: [`quickbooks.${n.entity.toLowerCase()}:${n.id}:${n.operation}`],
  };
}

/** A CDC answer → notifications: deleted objects carry `status: "Deleted"`; created when CreateTime is LastUpdatedTime. */
export function cdcChanges(
  realmId: string,
  body: unknown,
): Array<{ notification: Notification; entity: Record<string, unknown> | null; lastUpdated: string }> {
  const out: Array<{ notification: Notification; entity: Record<string, unknown> | null; lastUpdated: string }> = [];
  const responses = ((body as { CDCResponse?: Array<{ QueryResponse?: Array<Record<string, unknown>> }> })?.CDCResponse ?? []).flatMap(
    (r) => r.QueryResponse ?? [],
  );
  for (const qr of responses) {
    for (const [name, list] of Object.entries(qr)) {
      if (!Array.isArray(list)) continue;
      for (const obj of list as Array<Record<string, unknown>>) {
        const meta = (obj.MetaData ?? {}) as { CreateTime?: string; LastUpdatedTime?: string };
        const at = secondOf(meta.LastUpdatedTime);
        if (!obj.Id || !at) continue;
        const deleted = String(obj.status ?? '').toLowerCase() === 'deleted';
        const created = !deleted && secondOf(meta.CreateTime) === at;
        const voided = !deleted && /voided/i.test(String(obj.PrivateNote ?? '')) && num(obj.TotalAmt) === 0;
        out.push({
          notification: {
            realmId,
            entity: canonicalEntity(name),
            id: String(obj.Id),
            operation: deleted ? 'deleted' : created ? 'created' : voided ? 'voided' : 'updated',
            at,
          },
          entity: deleted ? null : obj,
          lastUpdated: at,
        });
      }
    }
  }
  return out;
}
