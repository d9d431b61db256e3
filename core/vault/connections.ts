import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConnectionRow, ConnectionStatus } from '../db/schema.ts';
import type { ConnectorAuth, ConnectionView } from '../auth-kinds.ts';
import type { ConnectorRegistry } from '../registry.ts';
import { HttpError } from '../errors.ts';
import { registerSealedColumn, type Vault } from './vault.ts';
import { AppStore } from './apps.ts';

export const connectionAad = (id: string) => `connection:${id}`;
registerSealedColumn({ table: 'connections', idColumn: 'id', column: 'secrets', aad: connectionAad });

export interface ConnectionInput {
  id?: string;
  connectorId: string;
  label?: string;
  settings?: Record<string, unknown>;
  secrets?: Record<string, string>;
  origin?: 'config' | 'api';
  /** A provider app (core/vault/apps.ts) whose client credentials this connection uses. */
  appId?: string | null;
}

/** What the admin API shows: never a secret, only whether it is set (and its last 4 characters where that helps). */
export interface ConnectionPublic {
  id: string;
  connectorId: string;
  label: string;
  authKind: string;
  status: ConnectionStatus;
  settings: Record<string, unknown>;
  secrets?: Record<string, { set: true; last4?: string }>;
  scopes: string[];
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  origin: string;
  /** The provider app whose client credentials it uses, if any. */
  appId: string | null;
  /** A link the admin should open to fix it (e.g. DocuSign's consent page), from the connector. */
  actionLink?: { label: string; url: string };
  createdAt: string;
  updatedAt: string;
}

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

/** Connections: one authorised account of one connector, its secrets sealed in the vault. */
export class ConnectionStore {
  readonly apps: AppStore;
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
    private readonly registry: ConnectorRegistry,
  ) {
    this.apps = new AppStore(db, vault, registry);
  }

  /** `view`, with the client credentials of the connection's provider app (they win over its own). */
  async fullView(row: ConnectionRow): Promise<ConnectionView> {
    const own = this.view(row);
    if (!row.app_id) return own;
    const app = await this.apps.get(row.app_id);
    if (!app) return own;
    const given = this.apps.credentialsFor(app);
    return { id: row.id, settings: { ...own.settings, ...given.settings }, secrets: { ...own.secrets, ...given.secrets } };
  }

  private async checkApp(appId: string | null | undefined, connectorId: string) {
    if (!appId) return undefined;
    const app = await this.apps.require(appId);
    if (app.connector_id !== connectorId)
      throw new HttpError(400, 'app_mismatch', `app ${appId} is a ${app.connector_id} app; this is a ${connectorId} connection`);
    return app;
  }

  authOf(connectorId: string): ConnectorAuth {
    const connector = this.registry.connector(connectorId);
    if (!connector)
      throw new HttpError(
        400,
        'unknown_connector',
        `no connector "${connectorId}" (known: ${this.registry
          .list()
          .map((c) => c.id)
          .join(', ')})`,
      );
    return connector.auth;
  }

  async get(id: string): Promise<ConnectionRow | undefined> {
    return this.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async require(id: string): Promise<ConnectionRow> {
    const row = await this.get(id);
    if (!row) throw new HttpError(404, 'connection_not_found', `no connection "${id}"`);
    return row;
  }

  async list(): Promise<ConnectionRow[]> {
    return this.db.selectFrom('connections').selectAll().orderBy('created_at').execute();
  }

  openSecrets(row: Pick<ConnectionRow, 'id' | 'secrets'>): Record<string, string> {
    return row.secrets ? this.vault.openJson<Record<string, string>>(row.secrets, connectionAad(row.id)) : {};
  }

  /** Settings (with the connector's defaults filled in) and opened secrets, for the connector's own functions. */
  view(row: ConnectionRow): ConnectionView {
    const auth = this.authOf(row.connector_id);
    const defaults = Object.fromEntries(
      ('fields' in auth ? auth.fields : []).filter((f) => f.default !== undefined && !f.secret).map((f) => [f.key, f.default]),
    );
    return { id: row.id, settings: { ...defaults, ...(row.settings ?? {}) }, secrets: this.openSecrets(row) };
  }

  async create(input: ConnectionInput): Promise<ConnectionRow> {
    const auth = this.authOf(input.connectorId);
    const id = input.id ?? `${input.connectorId}-${crypto.randomBytes(4).toString('hex')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id))
      throw new HttpError(400, 'invalid_id', 'a connection id is letters, digits, - and _ (at most 64)');
    const { settings, secrets } = this.split(auth, input.settings ?? {}, input.secrets ?? {});
    const app = await this.checkApp(input.appId, input.connectorId);
    const given = app ? this.apps.credentialsFor(app) : { settings: {}, secrets: {} };
    this.checkRequired(auth, { ...settings, ...given.settings }, { ...secrets, ...given.secrets });
    const row = await this.db
      .insertInto('connections')
      .values({
        id,
        connector_id: input.connectorId,
        label: input.label ?? id,
        auth_kind: auth.kind,
        settings: JSON.stringify(settings),
        secrets: Object.keys(secrets).length ? this.vault.sealJson(secrets, connectionAad(id)) : null,
        origin: input.origin ?? 'api',
        ...(app ? { app_id: app.id } : {}),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new HttpError(409, 'connection_exists', `a connection "${id}" exists already`);
    return row;
  }

  /** Changes label, settings (merged) and secrets (merged; an empty string removes one). */
  async update(
    id: string,
    patch: { label?: string; settings?: Record<string, unknown>; secrets?: Record<string, string>; appId?: string | null },
  ): Promise<ConnectionRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('connections').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw new HttpError(404, 'connection_not_found', `no connection "${id}"`);
      if (patch.appId) await this.checkApp(patch.appId, row.connector_id);
      const auth = this.authOf(row.connector_id);
      const split = this.split(auth, patch.settings ?? {}, patch.secrets ?? {});
      const settings = { ...(row.settings ?? {}), ...split.settings };
      const secrets = { ...this.openSecrets(row), ...split.secrets };
      for (const [k, v] of Object.entries(secrets)) if (v === '') delete secrets[k];
      return trx
        .updateTable('connections')
        .set({
          label: patch.label ?? row.label,
          settings: JSON.stringify(settings),
          secrets: Object.keys(secrets).length ? this.vault.sealJson(secrets, connectionAad(id)) : null,
          updated_at: new Date(),
          version: sql`version + 1`,
          ...(patch.appId !== undefined ? { app_id: patch.appId || null } : {}),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  async setStatus(id: string, status: ConnectionStatus, lastError: string | null = null): Promise<void> {
    await this.db
      .updateTable('connections')
      .set({ status, last_error: lastError, updated_at: new Date(), version: sql`version + 1` })
      .where('id', '=', id)
      .execute();
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Declared in the config file: created when missing; settings and the file's secrets updated, tokens kept. */
  async upsertFromConfig(input: ConnectionInput & { id: string }): Promise<void> {
    const existing = await this.get(input.id);
    if (!existing) {
      await this.create({ ...input, secrets: withSeedMarks(input.secrets ?? {}, {}), origin: 'config' });
      return;
    }
    if (existing.connector_id !== input.connectorId) {
      throw new Error(
        `connection ${input.id} exists for connector ${existing.connector_id}, but the config file declares ${input.connectorId}`,
      );
    }
    await this.update(input.id, {
      label: input.label,
      settings: input.settings,
      secrets: withSeedMarks(input.secrets ?? {}, this.openSecrets(existing)),
      ...(input.appId !== undefined ? { appId: input.appId } : {}),
    });
  }

  publicView(row: ConnectionRow, opts: { showSecrets: boolean }): ConnectionPublic {
    const view: ConnectionPublic = {
      id: row.id,
      connectorId: row.connector_id,
      label: row.label,
      authKind: row.auth_kind,
      status: row.status,
      settings: row.settings ?? {},
      scopes: row.scopes ?? [],
      expiresAt: iso(row.expires_at),
      lastRefreshAt: iso(row.last_refresh_at),
      lastError: row.last_error,
      origin: row.origin,
      appId: row.app_id ?? null,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
    const auth = this.registry.connector(row.connector_id)?.auth;
    if (auth && 'actionLink' in auth && auth.actionLink) {
      const link = auth.actionLink({ id: row.id, settings: this.view(row).settings, status: row.status, lastError: row.last_error });
      if (link) view.actionLink = link;
    }
    if (opts.showSecrets) {
      view.secrets = Object.fromEntries(
        Object.entries(this.openSecrets(row)).map(([k, v]) => [
          k,
          v.length >= 16 ? { set: true as const, last4: v.slice(-4) } : { set: true as const },
        ]),
      );
    }
    return view;
  }

  /** Sorts given values into settings and secrets by the connector's declared fields; unknown secret-looking keys are refused. */
  private split(auth: ConnectorAuth, settingsIn: Record<string, unknown>, secretsIn: Record<string, string>) {
    const fields = 'fields' in auth ? auth.fields : [];
    const secretKeys = new Set(fields.filter((f) => f.secret).map((f) => f.key));
    const settings: Record<string, unknown> = {};
    const secrets: Record<string, string> = { ...secretsIn };
    for (const [k, v] of Object.entries(settingsIn)) {
      if (secretKeys.has(k)) secrets[k] = String(v);
      else settings[k] = v;
    }
    for (const [k, v] of Object.entries(secrets)) {
      if (typeof v !== 'string') throw new HttpError(400, 'invalid_secret', `secret ${k} must be a string`);
    }
    return { settings, secrets };
  }

  private checkRequired(auth: ConnectorAuth, settings: Record<string, unknown>, secrets: Record<string, string>): void {
    const fields = 'fields' in auth ? auth.fields : [];
    const missing = fields.filter(
      (f) =>
        f.required && (f.secret ? !secrets[f.key] : (settings[f.key] === undefined || settings[f.key] === '') && f.default === undefined),
    );
    if (missing.length) throw new HttpError(400, 'missing_fields', `missing: ${missing.map((f) => f.key).join(', ')}`);
  }
}

/**
 * Tokens a config file seeds (an account declared without the UI, e.g. `refreshToken: ${QBO_REFRESH_TOKEN}`)
 * are applied once: a provider that rotates refresh tokens (QuickBooks) makes the file's value stale, and
 * restoring it at every start would lose the newest token. A fingerprint of the seeded value is kept
 * (sealed with the secrets); the same value again is skipped, a new value (the admin pasted another
 * token) replaces the stored one.
 */
const SEEDED_TOKEN_KEYS = ['refreshToken', 'accessToken'];
function withSeedMarks(fromFile: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  const out = { ...fromFile };
  for (const key of SEEDED_TOKEN_KEYS) {
    const value = out[key];
    if (!value) continue;
    const mark = `${key}Seed`;
    const fingerprint = crypto.createHash('sha256').update(value).digest('base64url').slice(0, 22);
    if (stored[mark] === fingerprint && stored[key]) delete out[key];
    else out[mark] = fingerprint;
  }
  return out;
}
