import type { ConnectionHandle } from '../connector.ts';
import type { ConnectionRow } from '../db/schema.ts';
import { eventIdFor } from '../events.ts';
import { needsReauth } from '../errors.ts';
import { ingestEvent } from '../pipeline/ingest.ts';
import { replayStep } from '../pipeline/replay.ts';
import type { Runtime } from '../runtime.ts';
import { ConnectionStore } from './connections.ts';
import { DelegatedTokens } from './delegated-tokens.ts';
import { TokenManager } from './token-manager.ts';

export const NEEDS_REAUTH_EVENT = 'hub.connection.needs_reauth';

/** Connections, their tokens, and what happens when one needs the admin. */
export class ConnectionService {
  readonly store: ConnectionStore;
  readonly tokens: TokenManager;

  constructor(private readonly rt: Runtime) {
    this.store = new ConnectionStore(rt.db, rt.vault, rt.registry);
    this.tokens = new TokenManager(
      rt.db,
      rt.vault,
      this.store,
      rt.log,
      {
        onNeedsReauth: (row, reason) => this.emitNeedsReauth(row, reason),
      },
      60_000,
    );
  }

  /** The handle an action gets for `connection: <id>`. */
  async handle(id: string): Promise<ConnectionHandle> {
    const row = await this.store.get(id);
    if (!row) throw needsReauth(`connection "${id}" does not exist (create it, then replay)`);
    const auth = this.store.authOf(row.connector_id);
    const expiry = 'expiry' in auth ? auth.expiry : undefined;
    const isExpiredAnswer = (status: number, body: unknown) =>
      status === 401 || (expiry?.statuses ?? []).includes(status) || Boolean(expiry?.body?.(status, body));
    const view = await this.store.fullView(row);
    const delegated = new DelegatedTokens(this.rt.db, this.rt.vault);
    const handle: ConnectionHandle = {
      id: row.id,
      connectorId: row.connector_id,
      settings: view.settings,
      secrets: async () => (await this.store.fullView(await this.store.require(id))).secrets,
      accessToken: () => this.tokens.accessToken(id),
      tokenRejected: (stale) => this.tokens.refresh(id, stale),
      isExpiredAnswer,
      delegatedTokens: {
        get: (subject) => delegated.get(row.id, subject),
        put: (subject, token, expiresAt) => delegated.put(row.id, subject, token, expiresAt),
      },
      async withToken(call) {
        const token = await handle.accessToken();
        const first = await call(token);
        if (!isExpiredAnswer(first.status, first.body)) return first;
        const fresh = await handle.tokenRejected(token);
        const second = await call(fresh);
        if (isExpiredAnswer(second.status, second.body))
          throw needsReauth(`connection ${id}: the provider refused a freshly refreshed token`);
        return second;
      },
    };
    return handle;
  }

  /** Tokens expiring within the margin are refreshed now, so no call waits on a refresh. */
  async refreshExpiring(marginMs: number): Promise<number> {
    const soon = new Date(Date.now() + marginMs);
    const rows = await this.rt.db
      .selectFrom('connections')
      .select(['id', 'secrets'])
      .where('status', '=', 'active')
      .where('auth_kind', 'in', ['oauth2', 'app_credentials'])
      .where('expires_at', 'is not', null)
      .where('expires_at', '<', soon)
      .execute();
    let refreshed = 0;
    for (const row of rows) {
      try {
        const stale = this.store.openSecrets(row).accessToken ?? null;
        await this.tokens.refresh(row.id, stale, marginMs);
        refreshed += 1;
      } catch (err) {
        this.rt.log.warn({ connectionId: row.id, err: (err as Error).message }, 'proactive refresh failed');
      }
    }
    return refreshed;
  }

  /** After a successful (re)connect: the steps that waited for it run again. */
  async resumeWaitingSteps(connectionId: string): Promise<number> {
    const waiting = await this.rt.db
      .selectFrom('step_runs')
      .select('id')
      .where('connection_id', '=', connectionId)
      .where('status', '=', 'waiting_reauth')
      .execute();
    let n = 0;
    for (const { id } of waiting) if (await replayStep(this.rt, id)) n += 1;
    if (n) this.rt.log.info({ connectionId, steps: n }, 'resumed steps that waited for re-authorisation');
    return n;
  }

  private async emitNeedsReauth(row: ConnectionRow, reason: string): Promise<void> {
    await ingestEvent(this.rt, {
      id: eventIdFor('hub', `needs_reauth:${row.id}:${row.version}`),
      type: NEEDS_REAUTH_EVENT,
      source: 'hub',
      connectionId: row.id,
      occurredAt: new Date().toISOString(),
      subject: row.label,
      data: { connection: { id: row.id, label: row.label, connectorId: row.connector_id }, reason },
    });
  }
}
