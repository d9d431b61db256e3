import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ColumnType, Generated, Selectable } from 'kysely';
import { z } from 'zod';
import type { Runtime } from '../core/runtime.ts';
import { registerBackgroundWork } from '../core/pipeline/extensions.ts';
import { requireRole, type Principal } from './admin-auth.ts';
import { validate } from './http-validate.ts';

/**
 * The audit log: every admin action (sign-in, sign-out, failed sign-in, 2FA and user changes,
 * credentials, flows, replays, keys) with who, when and from where. Read-only through the API, kept
 * DINGBRIDGE_AUDIT_RETENTION_DAYS (default 180) and pruned by a maintenance job.
 */
export interface AuditLogTable {
  id: Generated<string>;
  at: Generated<Date>;
  actor_kind: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  outcome: Generated<string>;
  details: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}
declare module '../core/db/schema.ts' {
  interface Database {
    audit_log: AuditLogTable;
  }
}
export type AuditRow = Selectable<AuditLogTable>;

export interface AuditEntry {
  action: string;
  target?: string | null;
  outcome?: 'ok' | 'denied' | 'failed';
  details?: Record<string, unknown>;
  actor?: { kind: string; id?: string | null; label?: string | null };
  ip?: string | null;
}

declare module 'express-serve-static-core' {
  interface Locals {
    audited?: boolean;
  }
}

const actorOf = (p?: Principal) => (p ? { kind: p.kind, id: p.id, label: p.label } : { kind: 'anonymous', id: null, label: null });

/** Records one entry; a failure to write is logged, never thrown at the caller. */
export async function audit(rt: Runtime, entry: AuditEntry): Promise<void> {
  const actor = entry.actor ?? actorOf();
  try {
    await rt.db
      .insertInto('audit_log')
      .values({
        actor_kind: actor.kind,
        actor_id: actor.id ?? null,
        actor_label: actor.label ?? null,
        action: entry.action,
        target: entry.target ?? null,
        ip: entry.ip ?? null,
        outcome: entry.outcome ?? 'ok',
        details: entry.details ? JSON.stringify(entry.details) : null,
      })
      .execute();
  } catch (err) {
    rt.log.error({ err: (err as Error).message, action: entry.action }, 'audit entry not written');
  }
}

/** Records an action of this request's principal (or the given actor), from the request's address. */
export async function auditRequest(
  rt: Runtime,
  req: Request,
  action: string,
  target?: string | null,
  details?: Record<string, unknown>,
  extra: Partial<AuditEntry> = {},
): Promise<void> {
  if (req.res) req.res.locals.audited = true;
  await audit(rt, { action, target, details, ip: req.ip ?? null, actor: extra.actor ?? actorOf(req.principal), outcome: extra.outcome });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Actions of routes that do not audit themselves, named from their method and path. */
const NAMED: [RegExp, string, string][] = [
  [/^\/api\/v1\/api-keys$/, 'POST', 'api_key.created'],
  [/^\/api\/v1\/api-keys\/([^/]+)$/, 'DELETE', 'api_key.revoked'],
  [/^\/api\/v1\/catch-hooks$/, 'POST', 'catch_hook.created'],
  [/^\/api\/v1\/catch-hooks\/([^/]+)\/rotate$/, 'POST', 'catch_hook.rotated'],
  [/^\/api\/v1\/catch-hooks\/([^/]+)$/, 'DELETE', 'catch_hook.deleted'],
  [/^\/api\/v1\/hooks$/, 'POST', 'rest_hook.subscribed'],
  [/^\/api\/v1\/hooks\/([^/]+)$/, 'DELETE', 'rest_hook.unsubscribed'],
];

let lastTokenRead = 0;

/**
 * For routes that do not audit themselves: every successful state-changing admin call is recorded
 * once it has answered (with a name for the known ones, `api.<method>` otherwise), and the use of
 * DINGBRIDGE_ADMIN_TOKEN is recorded too (reads at most once a minute per process).
 */
export function auditTrail(rt: Runtime) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/api/') && !req.path.startsWith('/oauth/')) return next();
    res.on('finish', () => {
      const p = req.principal;
      if (!p || res.locals.audited) return;
      const path = req.originalUrl.split('?')[0]!;
      if (UNSAFE.has(req.method)) {
        const named = NAMED.find(([re, m]) => m === req.method && re.test(path));
        const target = named ? (named[0].exec(path)?.[1] ?? null) : null;
        void audit(rt, {
          action: named?.[2] ?? `api.${req.method.toLowerCase()}`,
          target,
          ip: req.ip ?? null,
          actor: actorOf(p),
          outcome: res.statusCode < 400 ? 'ok' : 'failed',
          details: { method: req.method, path, status: res.statusCode },
        });
      } else if (p.kind === 'admin_token' && Date.now() - lastTokenRead > 60_000) {
        lastTokenRead = Date.now();
        void audit(rt, {
          action: 'admin_token.used',
          ip: req.ip ?? null,
          actor: actorOf(p),
          details: { method: req.method, path, status: res.statusCode },
        });
      }
    });
    next();
  };
}

/** Removes entries older than the retention; returns how many. */
export async function pruneAudit(rt: Runtime, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - rt.settings.DINGBRIDGE_AUDIT_RETENTION_DAYS * 86_400_000);
  const res = await rt.db.deleteFrom('audit_log').where('at', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows);
}

registerBackgroundWork((rt) => {
  const tick = () => {
    pruneAudit(rt).then(
      (n) => {
        if (n) rt.log.info({ removed: n }, 'audit log pruned');
      },
      (err) => rt.log.warn({ err: (err as Error).message }, 'audit prune failed'),
    );
  };
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, 3_600_000);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
});

export const auditQuerySchema = z.object({
  action: z.string().max(100).optional(),
  actor: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface AuditView {
  id: number;
  at: string;
  actor: { kind: string; id: string | null; label: string | null };
  action: string;
  target: string | null;
  ip: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}
const view = (r: AuditRow): AuditView => ({
  id: Number(r.id),
  at: new Date(r.at).toISOString(),
  actor: { kind: r.actor_kind, id: r.actor_id, label: r.actor_label },
  action: r.action,
  target: r.target,
  ip: r.ip,
  outcome: r.outcome,
  details: r.details,
});

function query(rt: Runtime, q: z.output<typeof auditQuerySchema>) {
  let s = rt.db.selectFrom('audit_log').selectAll();
  if (q.action)
    s = q.action.endsWith('*')
      ? s.where('action', 'like', `${q.action.slice(0, -1).replace(/[%_]/g, '\\$&')}%`)
      : s.where('action', '=', q.action);
  if (q.actor) s = s.where((eb) => eb.or([eb('actor_label', '=', q.actor!), eb('actor_id', '=', q.actor!)]));
  if (q.since) s = s.where('at', '>=', new Date(q.since));
  if (q.until) s = s.where('at', '<', new Date(q.until));
  if (q.before) s = s.where('id', '<', String(q.before));
  return s.orderBy('id', 'desc');
}

const csvCell = (v: unknown) => {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // Cells a spreadsheet would run as a formula are quoted as text.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** GET /api/v1/audit (JSON, paged by `before`) and GET /api/v1/audit.csv; admins and owners only. */
export function auditRouter(rt: Runtime): Router {
  const router = express.Router();
  router.get('/api/v1/audit', requireRole(rt, 'admin', 'audit:read'), async (req, res) => {
    const q = validate(auditQuerySchema, req.query, 'query');
    const rows = await query(rt, q)
      .limit(q.limit + 1)
      .execute();
    const items = rows.slice(0, q.limit).map(view);
    res.json({ items, next: rows.length > q.limit ? items.at(-1)!.id : null });
  });
  router.get('/api/v1/audit.csv', requireRole(rt, 'admin', 'audit:read'), async (req, res) => {
    const q = validate(
      auditQuerySchema.extend({ limit: z.coerce.number().int().min(1).max(100_000).default(100_000) }),
      req.query,
      'query',
    );
    const rows = await query(rt, q).limit(q.limit).execute();
    res.locals.audited = true;
    await auditRequest(rt, req, 'audit.exported', null, { rows: rows.length });
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="dingbridge-audit-${new Date().toISOString().slice(0, 10)}.csv"`);
    const header = ['id', 'at', 'actor_kind', 'actor_id', 'actor', 'action', 'target', 'ip', 'outcome', 'details'];
    const lines = rows
      .map(view)
      .map((r) =>
        [r.id, r.at, r.actor.kind, r.actor.id, r.actor.label, r.action, r.target, r.ip, r.outcome, r.details].map(csvCell).join(','),
      );
    res.send(`${header.join(',')}\r\n${lines.join('\r\n')}${lines.length ? '\r\n' : ''}`);
  });
  return router;
}
