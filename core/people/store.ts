import { sql, type ColumnType, type Generated, type Selectable } from 'kysely';
import type { Db } from '../db/database.ts';

export interface PeopleTable {
  id: Generated<string>;
  name: string;
  email: string | null;
  mobile: string | null;
  department: string | null;
  title: string | null;
  manager_id: string | null;
  active: Generated<boolean>;
  sources: ColumnType<string[], string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export interface PersonIdentitiesTable {
  person_id: string;
  service: string;
  kind: string;
  value: string;
  created_at: Generated<Date>;
}
declare module '../db/schema.ts' {
  interface Database {
    people: PeopleTable;
    person_identities: PersonIdentitiesTable;
  }
}
export type PersonRow = Selectable<PeopleTable>;

/** Identities of one person: service id → kind → value, e.g. `{ dingtalk: { userId: 'u1', unionId: 'x' }, google: { email: '…' } }`. */
export type Identities = Record<string, Record<string, string>>;

export interface Person {
  id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  department: string | null;
  title: string | null;
  managerId: string | null;
  managerEmail: string | null;
  active: boolean;
  sources: string[];
  identities: Identities;
  createdAt: string;
  updatedAt: string;
}

export interface ListQuery {
  q?: string;
  department?: string;
  active?: boolean;
  unmatched?: string;
}

/**
 * The people directory: what every feature reads (calendar sync maps attendees, approvals find the
 * requester's QuickBooks identity, chat commands check the sender). Identities are keyed by the
 * service's id string ('dingtalk', 'google', …), never by a provider-specific column.
 */
export class PeopleStore {
  constructor(private readonly db: Db) {}

  private async hydrate(rows: PersonRow[]): Promise<Person[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const idents = await this.db
      .selectFrom('person_identities')
      .select(['person_id', 'service', 'kind', 'value'])
      .where('person_id', 'in', ids)
      .execute();
    const byPerson = new Map<string, Identities>();
    for (const i of idents) {
      const m = byPerson.get(i.person_id) ?? {};
      (m[i.service] ??= {})[i.kind] = i.value;
      byPerson.set(i.person_id, m);
    }
    const managerIds = [...new Set(rows.map((r) => r.manager_id).filter((v): v is string => !!v))];
    const managers = managerIds.length
      ? await this.db.selectFrom('people').select(['id', 'email']).where('id', 'in', managerIds).execute()
      : [];
    const managerEmail = new Map(managers.map((m) => [m.id, m.email]));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      email: r.email,
      mobile: r.mobile,
      department: r.department,
      title: r.title,
      managerId: r.manager_id,
      managerEmail: r.manager_id ? (managerEmail.get(r.manager_id) ?? null) : null,
      active: r.active,
      sources: r.sources ?? [],
      identities: byPerson.get(r.id) ?? {},
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  async get(id: string): Promise<Person | undefined> {
    const row = await this.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  async byEmail(email: string): Promise<Person | undefined> {
    const row = await this.db.selectFrom('people').selectAll().where(sql`lower(email)`, '=', email.trim().toLowerCase()).executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** By an already normalised (E.164) mobile; the active person first when several share one. */
  async byMobile(mobile: string): Promise<Person | undefined> {
    const row = await this.db
      .selectFrom('people')
      .selectAll()
      .where('mobile', '=', mobile)
      .orderBy('active', 'desc')
      .orderBy('created_at')
      .executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** The person whose identity in `service` of `kind` is `value` (e.g. 'dingtalk', 'userId', 'u123'). */
  async byIdentity(service: string, kind: string, value: string): Promise<Person | undefined> {
    const row = await this.db
      .selectFrom('people')
      .selectAll()
      .where('id', '=', (eb) =>
        eb
          .selectFrom('person_identities')
          .select('person_id')
          .where('service', '=', service)
          .where('kind', '=', kind)
          .where('value', '=', value),
      )
      .executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** `q` searches name, email, mobile and title; `department` matches the path and everything under it; `unmatched` = people without an identity in that service. */
  async list(q: ListQuery = {}): Promise<Person[]> {
    let s = this.db.selectFrom('people').selectAll();
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, '\\$&')}%`;
      s = s.where((eb) =>
        eb.or([eb('name', 'ilike', like), eb('email', 'ilike', like), eb('mobile', 'ilike', like), eb('title', 'ilike', like)]),
      );
    }
    if (q.department) {
      const d = q.department.replace(/^\/+|\/+$/g, '');
      s = s.where((eb) => eb.or([eb('department', '=', d), eb('department', 'like', `${d.replace(/[\\%_]/g, '\\$&')}/%`)]));
    }
    if (q.active !== undefined) s = s.where('active', '=', q.active);
    if (q.unmatched)
      s = s.where('id', 'not in', (eb) => eb.selectFrom('person_identities').select('person_id').where('service', '=', q.unmatched!));
    return this.hydrate(await s.orderBy('department').orderBy('name').execute());
  }

  async departments(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('people')
      .select('department')
      .distinct()
      .where('department', 'is not', null)
      .orderBy('department')
      .execute();
    return rows.map((r) => r.department!);
  }

  /** Sets (or, with null, removes) identities of one person; an identity held by someone else is refused. */
  async setIdentities(personId: string, identities: Record<string, Record<string, string | null>>, db: Db = this.db): Promise<void> {
    for (const [service, kinds] of Object.entries(identities)) {
      for (const [kind, value] of Object.entries(kinds)) {
        await db
          .deleteFrom('person_identities')
          .where('person_id', '=', personId)
          .where('service', '=', service)
          .where('kind', '=', kind)
          .execute();
        if (value === null || value === '') continue;
        const holder = await db
          .selectFrom('person_identities')
          .select('person_id')
          .where('service', '=', service)
          .where('kind', '=', kind)
          .where('value', '=', value)
          .executeTakeFirst();
        if (holder && holder.person_id !== personId) throw new IdentityTakenError(service, kind, value, holder.person_id);
        await db.insertInto('person_identities').values({ person_id: personId, service, kind, value }).execute();
      }
    }
  }
}

export class IdentityTakenError extends Error {
  constructor(
    readonly service: string,
    readonly kind: string,
    readonly value: string,
    readonly holder: string,
  ) {
    super(`the ${service} ${kind} ${value} already belongs to person ${holder}`);
    this.name = 'IdentityTakenError';
  }
}
