import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { registerSealedColumn, type Vault } from './vault.ts';

export interface DelegatedTokensTable {
  id: string;
  connection_id: string;
  subject: string;
  token: string;
  expires_at: Date;
  updated_at: Date;
}
declare module '../db/schema.ts' {
  interface Database {
    delegated_tokens: DelegatedTokensTable;
  }
}

const aad = (id: string) => `delegated_token:${id}`;
registerSealedColumn({ table: 'delegated_tokens', idColumn: 'id', column: 'token', aad });

/** Tokens obtained for a subject (sealed, with their expiry): see ConnectionHandle.delegatedTokens. */
export class DelegatedTokens {
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
  ) {}

  async get(connectionId: string, subject: string): Promise<{ token: string; expiresAt: number } | undefined> {
    const id = `${connectionId}|${subject}`;
    const row = await this.db
      .selectFrom('delegated_tokens')
      .select(['token', 'expires_at'])
      .where('id', '=', id)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return row ? { token: this.vault.open(row.token, aad(id)), expiresAt: row.expires_at.getTime() } : undefined;
  }

  async put(connectionId: string, subject: string, token: string, expiresAt: number): Promise<void> {
    const id = `${connectionId}|${subject}`;
    const sealed = this.vault.seal(token, aad(id));
    await this.db
      .insertInto('delegated_tokens')
      .values({ id, connection_id: connectionId, subject, token: sealed, expires_at: new Date(expiresAt), updated_at: new Date() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ token: sealed, expires_at: new Date(expiresAt), updated_at: new Date() }))
      .execute();
  }
}
