import crypto from 'node:crypto';
import type { Generated, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConnectorAuth } from '../auth-kinds.ts';
import type { ConnectorRegistry } from '../registry.ts';
import { HttpError } from '../errors.ts';
import { registerSealedColumn, type Vault } from './vault.ts';

/**
 * Provider apps apart from connections (as Nango separates integrations from connections): an admin
 * registers an app once (client id and secret, webhook verifier token, sandbox or production) and
 * connects many accounts with it. Secrets are sealed by the vault and never shown again.
 */
declare module '../db/schema.ts' {
  interface Database {
    provider_apps: ProviderAppsTable;
  }
  interface ConnectionsTable {
    app_id: Generated<string | null>;
  }
}

export interface ProviderAppsTable {
  id: string;
  connector_id: string;
  label: string;
  environment: Generated<string>;
  client_id: string;
  settings: Generated<Record<string, unknown>>;
  secrets: string | null;
  origin: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type AppRow = Selectable<ProviderAppsTable>;

export const appAad = (id: string) => `provider_app:${id}`;
registerSealedColumn({ table: 'provider_apps', idColumn: 'id', column: 'secrets', aad: appAad });

/** The app's secrets: which keys exist. */
export const APP_SECRET_KEYS = ['clientSecret', 'webhookVerifierToken'] as const;
export type AppSecrets = Partial<Record<(typeof APP_SECRET_KEYS)[number], string>>;

export interface AppInput {
  id?: string;
  connectorId: string;
  label?: string;
  environment?: string;
  clientId: string;
  settings?: Record<string, unknown>;
  secrets?: AppSecrets;
  origin?: 'config' | 'api';
}

export interface AppPublic {
  id: string;
  connectorId: string;
  label: string;
  environment: string;
  clientId: string;
  settings: Record<string, unknown>;
  /** Write-only: only whether each is set. */
  secrets: Record<string, { set: true }>;
  connections: string[];
  origin: string;
  createdAt: string;
  updatedAt: string;
}

/** Where a connector keeps the app's credentials among its own fields (default clientId / clientSecret / webhookVerifierToken). */
export function appFieldKeys(auth: ConnectorAuth): { clientId: string; clientSecret: string; webhookVerifierToken: string } {
  const keys = 'appFields' in auth ? auth.appFields : undefined;
  return {
    clientId: keys?.clientId ?? 'clientId',
    clientSecret: keys?.clientSecret ?? 'clientSecret',
    webhookVerifierToken: keys?.webhookVerifierToken ?? 'webhookVerifierToken',
  };
}

const iso = (d: unknown) => new Date(d as string).toISOString();

export class AppStore {
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
    private readonly registry: ConnectorRegistry,
  ) {}

  private authOf(connectorId: string): ConnectorAuth {
    const c = this.registry.connector(connectorId);
    if (!c) throw new HttpError(400, 'unknown_connector', `no connector "${connectorId}"`);
    if (!['oauth2', 'api_token', 'app_credentials'].includes(c.auth.kind))
      throw new HttpError(400, 'no_app', `${connectorId} connections have no provider app`);
    return c.auth;
  }

  async get(id: string): Promise<AppRow | undefined> {
    return this.db.selectFrom('provider_apps').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async require(id: string): Promise<AppRow> {
    const row = await this.get(id);
    if (!row) throw new HttpError(404, 'app_not_found', `no app "${id}"`);
    return row;
  }
  async list(): Promise<AppRow[]> {
    return this.db.selectFrom('provider_apps').selectAll().orderBy('created_at').execute();
  }

  openSecrets(row: Pick<AppRow, 'id' | 'secrets'>): AppSecrets {
    return row.secrets ? this.vault.openJson<AppSecrets>(row.secrets, appAad(row.id)) : {};
  }

  /** The settings and secrets an app gives a connection that uses it, under the connector's field keys. */
  credentialsFor(row: AppRow): { settings: Record<string, unknown>; secrets: Record<string, string> } {
    const keys = appFieldKeys(this.registry.connector(row.connector_id)?.auth ?? { kind: 'none' });
    const s = this.openSecrets(row);
    const secrets: Record<string, string> = {};
    if (s.clientSecret) secrets[keys.clientSecret] = s.clientSecret;
    if (s.webhookVerifierToken) secrets[keys.webhookVerifierToken] = s.webhookVerifierToken;
    return { settings: { ...(row.settings ?? {}), [keys.clientId]: row.client_id, environment: row.environment }, secrets };
  }

  async create(input: AppInput): Promise<AppRow> {
    this.authOf(input.connectorId);
    const id = input.id ?? `${input.connectorId}-app-${crypto.randomBytes(3).toString('hex')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id))
      throw new HttpError(400, 'invalid_id', 'an app id is letters, digits, - and _ (at most 64)');
    const secrets = clean(input.secrets);
    const row = await this.db
      .insertInto('provider_apps')
      .values({
        id,
        connector_id: input.connectorId,
        label: input.label ?? id,
        environment: input.environment ?? 'production',
        client_id: input.clientId,
        settings: JSON.stringify(input.settings ?? {}) as never,
        secrets: Object.keys(secrets).length ? this.vault.sealJson(secrets, appAad(id)) : null,
        origin: input.origin ?? 'api',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new HttpError(409, 'app_exists', `an app "${id}" exists already`);
    return row;
  }

  /** Changes label, environment, client id, settings (merged) and secrets (merged; an empty string removes one). */
  async update(
    id: string,
    patch: { label?: string; environment?: string; clientId?: string; settings?: Record<string, unknown>; secrets?: AppSecrets },
  ): Promise<AppRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('provider_apps').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw new HttpError(404, 'app_not_found', `no app "${id}"`);
      const secrets: Record<string, string> = { ...this.openSecrets(row), ...(patch.secrets ?? {}) };
      for (const [k, v] of Object.entries(secrets)) if (v === '' || v === undefined) delete secrets[k];
      return trx
        .updateTable('provider_apps')
        .set({
          label: patch.label ?? row.label,
          environment: patch.environment ?? row.environment,
          client_id: patch.clientId ?? row.client_id,
          settings: JSON.stringify({ ...(row.settings ?? {}), ...(patch.settings ?? {}) }) as never,
          secrets: Object.keys(secrets).length ? this.vault.sealJson(secrets, appAad(id)) : null,
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /** Refused while connections use the app (409): move or delete them first. */
  async remove(id: string): Promise<boolean> {
    const users = await this.db.selectFrom('connections').select('id').where('app_id', '=', id).execute();
    if (users.length)
      throw new HttpError(
        409,
        'app_in_use',
        `app ${id} is used by ${users.map((u) => u.id).join(', ')}: delete them or move them to another app first`,
      );
    const res = await this.db.deleteFrom('provider_apps').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async upsertFromConfig(input: AppInput & { id: string }): Promise<void> {
    const existing = await this.get(input.id);
    if (!existing) {
      await this.create({ ...input, origin: 'config' });
      return;
    }
    if (existing.connector_id !== input.connectorId)
      throw new Error(`app ${input.id} exists for connector ${existing.connector_id}, but the config file declares ${input.connectorId}`);
    await this.update(input.id, {
      label: input.label,
      environment: input.environment,
      clientId: input.clientId,
      settings: input.settings,
      secrets: input.secrets,
    });
  }

  async publicView(row: AppRow): Promise<AppPublic> {
    const connections = await this.db.selectFrom('connections').select('id').where('app_id', '=', row.id).orderBy('id').execute();
    return {
      id: row.id,
      connectorId: row.connector_id,
      label: row.label,
      environment: row.environment,
      clientId: row.client_id,
      settings: row.settings ?? {},
      secrets: Object.fromEntries(Object.keys(this.openSecrets(row)).map((k) => [k, { set: true as const }])),
      connections: connections.map((c) => c.id),
      origin: row.origin,
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
  }
}

function clean(s: AppSecrets | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(s ?? {}).filter(([, v]) => typeof v === 'string' && v !== '')) as Record<string, string>;
}
