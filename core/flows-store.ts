import { sql, type ColumnType, type Generated, type Selectable } from 'kysely';
import type { Db } from './db/database.ts';
import { flowSchema, type Flow } from './flows.ts';
import { HttpError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { FlowSource } from './runtime.ts';
import { registerSealedColumn, type Vault } from './vault/vault.ts';

const flowAad = (id: string) => `flow:${id}`;
registerSealedColumn({ table: 'flows', idColumn: 'id', column: 'secrets', aad: flowAad });

/** Which input keys of an action are secrets (from the registry). */
export type SecretInputsOf = (actionId: string) => string[];

/** Flows made in the config UI, stored beside the config file's (which win on an id clash and are read-only). */
export interface FlowsTable {
  id: string;
  definition: ColumnType<Omit<Flow, 'enabled'>, string, string>;
  enabled: Generated<boolean>;
  recipe: string | null;
  /** Sealed JSON {"<step index>": {"<input key>": value}} of the steps' secret inputs; the definition holds none. */
  secrets: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
declare module './db/schema.ts' {
  interface Database {
    flows: FlowsTable;
  }
}
export type FlowRow = Selectable<FlowsTable>;

export interface FlowMeta {
  origin: 'config' | 'ui';
  recipe: string | null;
  createdBy: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/**
 * The flows every process sees: the config file's plus the database's. The pipeline reads them
 * synchronously, so they are cached: a process that changes a flow refreshes its cache before
 * answering, and every process polls a cheap signature of the table each second.
 */
export class FlowStore implements FlowSource {
  private stored = new Map<string, { flow: Flow; meta: FlowMeta }>();
  private readonly configFlows: Map<string, Flow>;
  private signature = '';
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly db: Db,
    configFlows: Flow[],
    private readonly log: Logger,
    private readonly vault?: Vault,
    private readonly secretInputsOf: SecretInputsOf = () => [],
  ) {
    this.configFlows = new Map(configFlows.map((f) => [f.id, f]));
  }

  list(): Flow[] {
    return [...this.configFlows.values(), ...[...this.stored.values()].filter((s) => !this.configFlows.has(s.flow.id)).map((s) => s.flow)];
  }

  get(id: string): Flow | undefined {
    return this.configFlows.get(id) ?? this.stored.get(id)?.flow;
  }

  meta(id: string): FlowMeta | undefined {
    if (this.configFlows.has(id)) return { origin: 'config', recipe: null, createdBy: null, createdAt: null, updatedAt: null };
    return this.stored.get(id)?.meta;
  }

  isConfig(id: string): boolean {
    return this.configFlows.has(id);
  }

  /** Reloads the database's flows now (and whenever the table's signature changed). */
  refresh(force = true): Promise<void> {
    const run = async () => {
      const sig = await sql<{
        s: string;
      }>`select count(*)::text || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(hashtext(id || updated_at::text || enabled::text)), 0)::text as s from flows`.execute(
        this.db,
      );
      const signature = sig.rows[0]?.s ?? '';
      if (!force && signature === this.signature) return;
      const rows = await this.db.selectFrom('flows').selectAll().execute();
      const next = new Map<string, { flow: Flow; meta: FlowMeta }>();
      for (const row of rows) {
        const parsed = flowSchema.safeParse(this.unseal({ ...row.definition, id: row.id, enabled: row.enabled }, row.secrets));
        if (!parsed.success) {
          this.log.warn({ flowId: row.id, issues: parsed.error.issues.length }, 'stored flow no longer valid; skipped');
          continue;
        }
        next.set(row.id, {
          flow: parsed.data,
          meta: {
            origin: 'ui',
            recipe: row.recipe,
            createdBy: row.created_by,
            createdAt: new Date(row.created_at).toISOString(),
            updatedAt: new Date(row.updated_at).toISOString(),
          },
        });
      }
      this.stored = next;
      this.signature = signature;
    };
    // One refresh at a time; a forced one waits for the running one, then runs. The kept promise never
    // rejects: a failed refresh (e.g. the database refusing connections) is the caller's to handle, and
    // an unhandled rejection here would end the process.
    const chained = (this.refreshing ?? Promise.resolve()).then(run);
    const settled: Promise<void> = chained
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        if (this.refreshing === settled) this.refreshing = undefined;
      });
    this.refreshing = settled;
    return chained;
  }

  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh(false).catch((err) => this.log.debug({ err: (err as Error).message }, 'flow refresh failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes the steps' secret inputs out of the definition and seals them together. */
  private seal(id: string, flow: Omit<Flow, 'enabled'>): { definition: Omit<Flow, 'enabled'>; secrets: string | null } {
    const taken: Record<string, Record<string, unknown>> = {};
    const then = flow.then.map((step, i) => {
      const keys = this.secretInputsOf(step.action).filter((k) => step.input[k] !== undefined);
      if (!keys.length || !this.vault) return step;
      taken[i] = Object.fromEntries(keys.map((k) => [k, step.input[k]]));
      return { ...step, input: Object.fromEntries(Object.entries(step.input).filter(([k]) => !keys.includes(k))) };
    });
    const secrets = Object.keys(taken).length && this.vault ? this.vault.sealJson(taken, flowAad(id)) : null;
    return { definition: { ...flow, then }, secrets };
  }

  private unseal(flow: Record<string, unknown>, sealed: string | null): Record<string, unknown> {
    if (!sealed || !this.vault) return flow;
    const taken = this.vault.openJson<Record<string, Record<string, unknown>>>(sealed, flowAad(String(flow.id)));
    const then = (flow.then as Array<{ input?: Record<string, unknown> }>).map((step, i) =>
      taken[i] ? { ...step, input: { ...(step.input ?? {}), ...taken[i] } } : step,
    );
    return { ...flow, then };
  }

  private refuseConfig(id: string): void {
    if (this.configFlows.has(id)) throw new HttpError(409, 'flow_read_only', `flow "${id}" comes from the config file; change it there`);
  }

  async create(flow: Flow, opts: { recipe?: string | null; by?: string | null } = {}): Promise<void> {
    this.refuseConfig(flow.id);
    const { enabled, ...plain } = flow;
    const { definition, secrets } = this.seal(flow.id, plain);
    const row = await this.db
      .insertInto('flows')
      .values({
        id: flow.id,
        definition: JSON.stringify(definition),
        secrets,
        enabled,
        recipe: opts.recipe ?? null,
        created_by: opts.by ?? null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) throw new HttpError(409, 'flow_exists', `a flow "${flow.id}" exists already`);
    await this.refresh();
  }

  async update(id: string, flow: Flow): Promise<void> {
    this.refuseConfig(id);
    const { enabled, ...plain } = flow;
    const { definition, secrets } = this.seal(id, plain);
    const res = await this.db
      .updateTable('flows')
      .set({ definition: JSON.stringify({ ...definition, id }), secrets, enabled, updated_at: new Date() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (!Number(res.numUpdatedRows)) throw new HttpError(404, 'flow_not_found', `no flow "${id}"`);
    await this.refresh();
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    this.refuseConfig(id);
    const res = await this.db.updateTable('flows').set({ enabled, updated_at: new Date() }).where('id', '=', id).executeTakeFirst();
    if (!Number(res.numUpdatedRows)) throw new HttpError(404, 'flow_not_found', `no flow "${id}"`);
    await this.refresh();
  }

  async remove(id: string): Promise<void> {
    this.refuseConfig(id);
    const res = await this.db.deleteFrom('flows').where('id', '=', id).executeTakeFirst();
    if (!Number(res.numDeletedRows)) throw new HttpError(404, 'flow_not_found', `no flow "${id}"`);
    await this.refresh();
  }
}

/** The flow source of a runtime: loaded before the first event is dispatched, then kept fresh. */
export async function openFlowStore(
  db: Db,
  configFlows: Flow[],
  log: Logger,
  vault?: Vault,
  secretInputsOf?: SecretInputsOf,
): Promise<FlowStore> {
  const store = new FlowStore(db, configFlows, log, vault, secretInputsOf);
  await store.refresh();
  store.start();
  return store;
}
