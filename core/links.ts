import { sql, type ColumnType, type Generated } from 'kysely';
import type { Db } from './db/database.ts';

declare module './db/schema.ts' {
  interface Database {
    links: { id: Generated<string>; a_kind: string; a_id: string; b_kind: string; b_id: string; created_at: Generated<Date> };
    own_changes: { key: string; created_at: Generated<Date>; expires_at: ColumnType<Date, Date, Date>; once: Generated<boolean> };
  }
}

/** A thing in some service: `{ kind: 'trello.card', id: '…' }`, `{ kind: 'dingtalk.conversation', id: 'cid…' }`. */
export interface LinkRef {
  kind: string;
  id: string;
}

/** How long the hub remembers its own changes, to recognise the provider's echo of them. */
const OWN_CHANGE_TTL_MS = 15 * 60_000;

/**
 * The link table: which thing in one service belongs with which in another (a card made from a
 * DingTalk chat is linked to that conversation), connector-agnostic; and the hub's own changes, so
 * that a provider's echo of a change the hub made is never taken for a person's.
 */
export class Links {
  constructor(private readonly db: Db) {}

  async link(a: LinkRef, b: LinkRef): Promise<void> {
    if (!a.id || !b.id) return;
    await this.db
      .insertInto('links')
      .values({ a_kind: a.kind, a_id: a.id, b_kind: b.kind, b_id: b.id })
      .onConflict((oc) => oc.columns(['a_kind', 'a_id', 'b_kind', 'b_id']).doNothing())
      .execute();
  }

  /** Everything of `kind` linked to any of the refs, either way round, oldest link first. */
  async linked(refs: LinkRef[], kind: string): Promise<string[]> {
    if (refs.length === 0) return [];
    const out: string[] = [];
    for (const ref of refs) {
      const rows = await this.db
        .selectFrom('links')
        .select(['a_kind', 'a_id', 'b_kind', 'b_id', 'created_at'])
        .where((eb) =>
          eb.or([
            eb.and([eb('a_kind', '=', ref.kind), eb('a_id', '=', ref.id), eb('b_kind', '=', kind)]),
            eb.and([eb('b_kind', '=', ref.kind), eb('b_id', '=', ref.id), eb('a_kind', '=', kind)]),
          ]),
        )
        .orderBy('created_at')
        .execute();
      for (const r of rows) out.push(r.a_kind === kind && !(r.a_kind === ref.kind && r.a_id === ref.id) ? r.a_id : r.b_id);
    }
    return [...new Set(out)];
  }

  /** For templates: `linked["dingtalk.conversation"]` is the first thing of that kind linked to the event's refs. */
  async scopeFor(refs: LinkRef[], db: Db = this.db): Promise<Record<string, string>> {
    if (refs.length === 0) return {};
    const rows = await db
      .selectFrom('links')
      .select(['a_kind', 'a_id', 'b_kind', 'b_id'])
      .where((eb) =>
        eb.or(
          refs.flatMap((r) => [
            eb.and([eb('a_kind', '=', r.kind), eb('a_id', '=', r.id)]),
            eb.and([eb('b_kind', '=', r.kind), eb('b_id', '=', r.id)]),
          ]),
        ),
      )
      .orderBy('created_at')
      .execute();
    const scope: Record<string, string> = {};
    const own = new Set(refs.map((r) => `${r.kind}\u0000${r.id}`));
    for (const row of rows) {
      const [kind, id] = own.has(`${row.a_kind}\u0000${row.a_id}`) ? [row.b_kind, row.b_id] : [row.a_kind, row.a_id];
      scope[kind] ??= id;
    }
    return scope;
  }

  /** The hub made this change (e.g. `trello.card:<id>:created`): its echo will be recognised. */
  async ownChange(key: string, opts: { once?: boolean } = {}): Promise<void> {
    const expires = new Date(Date.now() + OWN_CHANGE_TTL_MS);
    await this.db
      .insertInto('own_changes')
      .values({ key, expires_at: expires, once: opts.once ?? false })
      .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expires, once: opts.once ?? false }))
      .execute();
  }

  /** True when one of the keys is a change the hub made recently. */
  async isEcho(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    // A one-shot key is used up by the echo it matches; a lasting one matches every repeat.
    const used = await this.db
      .deleteFrom('own_changes')
      .where('key', 'in', keys)
      .where('once', '=', true)
      .where('expires_at', '>', new Date())
      .returning('key')
      .executeTakeFirst();
    if (used) return true;
    const hit = await this.db
      .selectFrom('own_changes')
      .select('key')
      .where('key', 'in', keys)
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
    return Boolean(hit);
  }

  async prune(): Promise<void> {
    await sql`delete from own_changes where expires_at < now()`.execute(this.db);
  }
}
