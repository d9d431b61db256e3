import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConnectionRow } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ConnectorAuth, TokenResponse } from '../auth-kinds.ts';
import { needsReauth, retryable, StepError } from '../errors.ts';
import { connectionAad, type ConnectionStore } from './connections.ts';
import type { Vault } from './vault.ts';
import { createStrategy, refreshAccessToken, type RefreshError } from './oauth2-client.ts';

/** Errors of the token endpoint that no retry can fix: the admin must connect the account again. */
const REAUTH_ERRORS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_request']);

export interface TokenManagerEvents {
  /** A connection just moved to needs_reauth (the hub emits an event and tells the admins). */
  onNeedsReauth(row: ConnectionRow, reason: string): Promise<void>;
}

type Outcome = { token: string } | { reauth: string } | { failure: string };

/**
 * Keeps access tokens fresh. A refresh is single-flight: one per connection in this process (calls
 * share the promise) and one across processes (a PostgreSQL advisory lock, then the row is read
 * again: another process may have refreshed already). A rotated refresh token is saved in the same
 * transaction as the new access token.
 */
export class TokenManager {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
    private readonly connections: ConnectionStore,
    private readonly log: Logger,
    private readonly events: TokenManagerEvents,
    /** An on-demand call refreshes a token this close to expiry (the proactive job uses a wider margin). */
    private readonly onDemandMarginMs = 60_000,
  ) {}

  async accessToken(id: string): Promise<string> {
    const row = await this.connections.require(id);
    this.assertUsable(row);
    const secrets = this.connections.openSecrets(row);
    if (secrets.accessToken && !this.expiresWithin(row, this.onDemandMarginMs)) return secrets.accessToken;
    return this.refresh(id, secrets.accessToken ?? null, this.onDemandMarginMs);
  }

  /**
   * Refreshes unless someone already replaced `staleToken` with a token that is not about to expire.
   * Throws a needs-reauth StepError when the provider refuses, a retryable one on a passing failure.
   */
  refresh(id: string, staleToken: string | null, marginMs = this.onDemandMarginMs): Promise<string> {
    const key = `${id}\u0000${staleToken ?? ''}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.refreshLocked(id, staleToken, marginMs).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async refreshLocked(id: string, staleToken: string | null, marginMs: number): Promise<string> {
    let reauthRow: ConnectionRow | undefined;
    const outcome: Outcome = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`dingbridge:connection:${id}`}, 0))`.execute(trx);
      const row = await trx.selectFrom('connections').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) return { failure: `no connection "${id}"` };
      if (row.status === 'needs_reauth') return { reauth: row.last_error ?? 'the connection needs to be authorised again' };
      if (row.status === 'disabled') return { reauth: 'the connection is disabled' };
      const secrets = this.connections.openSecrets(row);
      if (secrets.accessToken && secrets.accessToken !== staleToken && !this.expiresWithin(row, marginMs)) {
        return { token: secrets.accessToken };
      }
      const auth = this.connections.authOf(row.connector_id);
      let token: TokenResponse;
      try {
        token = await this.obtain(auth, row, secrets);
      } catch (err) {
        const e = err as RefreshError & { reauth?: boolean };
        const reason = `refresh failed: ${e.description ?? e.message}`;
        if (e.reauth || (e.error && REAUTH_ERRORS.has(e.error))) {
          await trx
            .updateTable('connections')
            .set({ status: 'needs_reauth', last_error: reason, updated_at: new Date(), version: sql`version + 1` })
            .where('id', '=', id)
            .execute();
          reauthRow = { ...row, status: 'needs_reauth', last_error: reason };
          return { reauth: reason };
        }
        await trx.updateTable('connections').set({ last_error: reason, updated_at: new Date() }).where('id', '=', id).execute();
        return { failure: reason };
      }
      const next = { ...secrets, accessToken: token.accessToken, ...(token.refreshToken ? { refreshToken: token.refreshToken } : {}) };
      await trx
        .updateTable('connections')
        .set({
          secrets: this.vault.sealJson(next, connectionAad(id)),
          expires_at: token.expiresIn ? new Date(Date.now() + token.expiresIn * 1000) : null,
          last_refresh_at: new Date(),
          last_error: null,
          status: 'active',
          ...(token.scopes?.length ? { scopes: JSON.stringify(token.scopes) } : {}),
          ...(token.settings ? { settings: JSON.stringify({ ...(row.settings ?? {}), ...token.settings }) } : {}),
          updated_at: new Date(),
          version: sql`version + 1`,
        })
        .where('id', '=', id)
        .execute();
      this.log.info(
        { connectionId: id, rotated: Boolean(token.refreshToken && token.refreshToken !== secrets.refreshToken) },
        'access token refreshed',
      );
      return { token: token.accessToken };
    });

    if ('token' in outcome) return outcome.token;
    if ('reauth' in outcome) {
      if (reauthRow) {
        this.log.warn({ connectionId: id, reason: outcome.reauth }, 'connection needs re-authorisation');
        await this.events
          .onNeedsReauth(reauthRow, outcome.reauth)
          .catch((err) => this.log.error({ err }, 'could not record the needs_reauth event'));
      }
      throw needsReauth(`connection ${id}: ${outcome.reauth}`);
    }
    throw retryable(`connection ${id}: ${outcome.failure}`);
  }

  private async obtain(auth: ConnectorAuth, row: ConnectionRow, secrets: Record<string, string>): Promise<TokenResponse> {
    const view = await this.connections.fullView(row);
    if (auth.kind === 'app_credentials') return auth.fetchToken(view);
    if (auth.kind !== 'oauth2') throw Object.assign(new Error(`${auth.kind} connections have no token to refresh`), { reauth: true });
    const own = auth.grant?.(view);
    if (own) return own;
    if (!secrets.refreshToken) throw Object.assign(new Error('no refresh token: connect the account again'), { reauth: true });
    const strategy = createStrategy(auth, view, '');
    const res = await refreshAccessToken(strategy, secrets.refreshToken);
    const expiresIn = Number(res.params.expires_in);
    const scope = typeof res.params.scope === 'string' ? res.params.scope.split(/[ ,]+/).filter(Boolean) : undefined;
    return {
      accessToken: res.accessToken,
      refreshToken: res.refreshToken,
      expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
      scopes: scope,
    };
  }

  private assertUsable(row: ConnectionRow): void {
    if (row.status === 'needs_reauth')
      throw needsReauth(`connection ${row.id} needs to be authorised again${row.last_error ? ` (${row.last_error})` : ''}`);
    if (row.status === 'disabled') throw new StepError(`connection ${row.id} is disabled`, 'needs_reauth');
  }

  private expiresWithin(row: ConnectionRow, ms: number): boolean {
    if (!row.expires_at) return false;
    return new Date(row.expires_at as unknown as string).getTime() - Date.now() < ms;
  }
}
