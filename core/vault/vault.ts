import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { decrypt, encrypt, keyIdOf } from './cipher.ts';
import { KeyError, readKeyFile, type KeyRing } from './keyring.ts';

/**
 * Seals and opens secrets with the key ring. Every stored secret goes through here; `aad` names the
 * place the value belongs to (e.g. `connection:<id>`), so a ciphertext moved elsewhere fails.
 */
export class Vault {
  constructor(private ring: KeyRing) {}

  get keyIds(): string[] {
    return this.ring.ids();
  }
  get keyRing(): KeyRing {
    return this.ring;
  }
  get currentKeyId(): string {
    return this.ring.current.id;
  }

  seal(plaintext: string, aad: string): string {
    return encrypt(this.ring, plaintext, aad);
  }
  open(sealed: string, aad: string): string {
    // A rotation by `dingbridge keys rotate` adds a key to the key file while this process runs.
    if (this.ring.source.kind === 'file' && !this.ring.find(keyIdOf(sealed))) this.reload();
    return decrypt(this.ring, sealed, aad);
  }

  /** Re-reads the key file; the newest key becomes the one that encrypts. */
  reload(): boolean {
    if (this.ring.source.kind !== 'file') return false;
    const fresh = readKeyFile(this.ring.source.file);
    const changed = fresh.ids().join() !== this.ring.ids().join();
    this.ring = fresh;
    return changed;
  }
  sealJson(value: unknown, aad: string): string {
    return this.seal(JSON.stringify(value), aad);
  }
  openJson<T = Record<string, unknown>>(sealed: string, aad: string): T {
    return JSON.parse(this.open(sealed, aad)) as T;
  }

  /** Replaces the key ring (after a rotation elsewhere wrote a new key file). */
  useKeys(ring: KeyRing): void {
    this.ring = ring;
  }
}

/** One row per sealed column, so start-up checks and rotation find every secret wherever it is stored. */
export interface SealedColumn {
  table: string;
  idColumn: string;
  column: string;
  aad: (id: string) => string;
}

const sealedColumns: SealedColumn[] = [];

/** Features that store secrets register their columns here (at module load). */
export function registerSealedColumn(column: SealedColumn): void {
  if (!sealedColumns.some((c) => c.table === column.table && c.column === column.column)) sealedColumns.push(column);
}
export function listSealedColumns(): SealedColumn[] {
  return [...sealedColumns];
}

/**
 * At start: a known value sealed under each key proves the configured keys are the right ones. A
 * database whose values are sealed under keys we do not have is refused with a clear error, never
 * read as garbage.
 */
export async function checkKeys(db: Db, vault: Vault): Promise<void> {
  const rows = (await sql<{ key_id: string; sealed: string }>`select key_id, sealed from vault_canary`.execute(db)).rows;
  const known = rows.filter((r) => vault.keyIds.includes(r.key_id));
  if (rows.length > 0 && known.length === 0) {
    throw new KeyError(
      `the encryption key does not match this database: its secrets are sealed under key(s) ${rows.map((r) => r.key_id).join(', ')}, the configured key is ${vault.keyIds.join(', ')}. Set DINGBRIDGE_ENCRYPTION_KEY (or restore the data dir's encryption-keys file) to the key this database was set up with.`,
    );
  }
  for (const row of known) {
    if (vault.open(row.sealed, 'vault-canary') !== 'dingbridge') throw new KeyError('the vault canary did not decrypt to its known value');
  }
  if (!rows.some((r) => r.key_id === vault.currentKeyId)) {
    await sql`insert into vault_canary (key_id, sealed) values (${vault.currentKeyId}, ${vault.seal('dingbridge', 'vault-canary')}) on conflict do nothing`.execute(
      db,
    );
  }
  for (const col of sealedColumns) {
    const ids = (
      await sql<{
        k: string;
      }>`select distinct split_part(${sql.ref(col.column)}, '.', 2) as k from ${sql.table(col.table)} where ${sql.ref(col.column)} is not null`.execute(
        db,
      )
    ).rows.map((r) => r.k);
    const unknown = ids.filter((k) => !vault.keyIds.includes(k));
    if (unknown.length)
      throw new KeyError(
        `${col.table}.${col.column} holds secrets sealed under key(s) ${unknown.join(', ')}, which are not configured (configured: ${vault.keyIds.join(', ')})`,
      );
  }
}

/** Re-seals every registered secret under the current key, row by row; returns how many moved. */
export async function resealAll(db: Db, vault: Vault): Promise<number> {
  let moved = 0;
  for (const col of sealedColumns) {
    const rows = (
      await sql<{
        id: string;
        sealed: string;
      }>`select ${sql.ref(col.idColumn)} as id, ${sql.ref(col.column)} as sealed from ${sql.table(col.table)} where ${sql.ref(col.column)} is not null`.execute(
        db,
      )
    ).rows;
    for (const row of rows) {
      if (keyIdOf(row.sealed) === vault.currentKeyId) continue;
      const resealed = vault.seal(vault.open(row.sealed, col.aad(row.id)), col.aad(row.id));
      // Only if unchanged meanwhile: a concurrent writer already sealed under whatever key it had.
      const res =
        await sql`update ${sql.table(col.table)} set ${sql.ref(col.column)} = ${resealed} where ${sql.ref(col.idColumn)} = ${row.id} and ${sql.ref(col.column)} = ${row.sealed}`.execute(
          db,
        );
      moved += Number(res.numAffectedRows ?? 0);
    }
  }
  await sql`insert into vault_canary (key_id, sealed) values (${vault.currentKeyId}, ${vault.seal('dingbridge', 'vault-canary')}) on conflict do nothing`.execute(
    db,
  );
  await sql`delete from vault_canary where key_id <> ${vault.currentKeyId}`.execute(db);
  return moved;
}
