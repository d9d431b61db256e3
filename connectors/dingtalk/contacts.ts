import type { ConnectionHandle } from '../../core/connector.ts';
import { needsReauth, permanent, retryable, StepError } from '../../core/errors.ts';
import {
  splitMobile,
  type DirectoryEntry,
  type DirectoryProvider,
  type ProvisionPerson,
  type ProvisionResult,
} from '../../core/people/index.ts';
import { appConnection } from './messages.ts';
import { oapiBaseUrlOf } from './sdk.ts';

/**
 * DingTalk's contacts (departments and users) for the people directory. The new-API SDK's
 * contact_1_0 client has no department or user create/update/list, so these use the old API
 * (oapi host, `topapi/v2/…`, `?access_token=` with the same app token, HTTP 200 `{errcode, errmsg}`).
 */
export class ContactsError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    what: string,
  ) {
    super(`${what}: DingTalk answered errcode ${errcode}: ${errmsg}`);
    this.name = 'ContactsError';
  }
}

const EXPIRED = new Set([40014, 42001]);

async function oapi<T>(conn: ConnectionHandle, path: string, body: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
  const base = oapiBaseUrlOf(conn.settings);
  const res = await conn.withToken(async (token) => {
    let r: Response;
    try {
      r = await fetch(`${base}${path}?access_token=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw retryable(
        `${path}: DingTalk could not be reached (${e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message)})`,
      );
    }
    const text = await r.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    // The expiry signal the connection's auth declares, so withToken refreshes once.
    if (EXPIRED.has(Number(parsed.errcode))) return { status: r.status, body: { ...parsed, code: 'InvalidAuthentication' } };
    return { status: r.status, body: parsed };
  });
  const b = res.body as { errcode?: number; errmsg?: string; code?: string; result?: T };
  if (b.code === 'InvalidAuthentication') throw needsReauth(`${path}: DingTalk refused the app token (${b.errcode} ${b.errmsg})`);
  if (res.status === 429 || Number(b.errcode) === 90018)
    throw retryable(`${path}: throttled by DingTalk`, { status: res.status, retryAfterMs: 2000 });
  if (res.status >= 500 || Number(b.errcode) === -1)
    throw retryable(`${path}: DingTalk answered ${res.status} ${b.errcode ?? ''} ${b.errmsg ?? ''}`.trim(), { status: res.status });
  if (res.status !== 200) throw permanent(`${path}: DingTalk answered HTTP ${res.status}`, { status: res.status });
  if (b.errcode !== 0) throw new ContactsError(Number(b.errcode), String(b.errmsg ?? ''), path);
  return b.result as T;
}

interface DeptRow {
  dept_id: number;
  name: string;
  parent_id?: number;
}
interface UserRow {
  userid: string;
  unionid?: string;
  name: string;
  mobile?: string;
  state_code?: string;
  email?: string;
  title?: string;
  dept_id_list?: number[];
  manager_userid?: string;
}

export const ROOT_DEPT = 1;

/** Every department under the root, with its path (`Sales/Hong Kong`); the root's own path is ''. */
export async function readDepartments(conn: ConnectionHandle): Promise<Map<number, { id: number; path: string }>> {
  const out = new Map<number, { id: number; path: string }>([[ROOT_DEPT, { id: ROOT_DEPT, path: '' }]]);
  const queue = [ROOT_DEPT];
  while (queue.length) {
    const parent = queue.shift()!;
    const subs = await oapi<DeptRow[]>(conn, '/topapi/v2/department/listsub', { dept_id: parent });
    for (const d of subs ?? []) {
      if (out.has(d.dept_id)) continue;
      const parentPath = out.get(parent)!.path;
      out.set(d.dept_id, { id: d.dept_id, path: parentPath ? `${parentPath}/${d.name}` : d.name });
      queue.push(d.dept_id);
    }
  }
  return out;
}

/** Every user of the given departments (topapi/v2/user/list, 100 a page), once each. */
export async function readUsers(conn: ConnectionHandle, deptIds: number[]): Promise<UserRow[]> {
  const users = new Map<string, UserRow>();
  for (const dept of deptIds) {
    let cursor = 0;
    for (;;) {
      const page = await oapi<{ has_more: boolean; next_cursor?: number; list: UserRow[] }>(conn, '/topapi/v2/user/list', {
        dept_id: dept,
        cursor,
        size: 100,
      });
      for (const u of page.list ?? []) if (!users.has(u.userid)) users.set(u.userid, u);
      if (!page.has_more || page.next_cursor === undefined) break;
      cursor = page.next_cursor;
    }
  }
  return [...users.values()];
}

const e164 = (u: UserRow) => (u.mobile ? `+${u.state_code || '86'}${u.mobile.replace(/^\+\d+-/, '')}` : null);
/** DingTalk takes mainland numbers bare and others as `+852-61234567`. */
const dingtalkMobile = (m: string) => {
  const { countryCode, national } = splitMobile(m);
  return countryCode === '86' ? national : `+${countryCode}-${national}`;
};

async function read(connection: ConnectionHandle): Promise<DirectoryEntry[]> {
  const conn = appConnection(connection, 'people sync');
  const depts = await readDepartments(conn);
  const users = await readUsers(conn, [...depts.keys()]);
  return users.map((u) => ({
    identities: { dingtalk: { userId: u.userid, ...(u.unionid ? { unionId: u.unionid } : {}) } },
    name: u.name,
    email: u.email || null,
    mobile: e164(u),
    department: depts.get(u.dept_id_list?.[0] ?? ROOT_DEPT)?.path || null,
    title: u.title || null,
    // No manager in DingTalk says nothing (provisioning does not set one), so a manager known from HR stays.
    managerIdentity: u.manager_userid ? { service: 'dingtalk', kind: 'userId', value: u.manager_userid } : undefined,
  }));
}

async function provision(connection: ConnectionHandle, people: ProvisionPerson[], opts: { dryRun: boolean }): Promise<ProvisionResult> {
  const conn = appConnection(connection, 'people provisioning');
  const result: ProvisionResult = { departmentsCreated: [], changes: [], links: [], errors: [] };
  const depts = await readDepartments(conn);
  const byPath = new Map([...depts.values()].map((d) => [d.path, d.id]));
  let planned = -1;

  // Departments: every prefix of every active person's path, parents first.
  const paths = [
    ...new Set(
      people
        .filter((p) => p.active && p.department)
        .flatMap((p) => {
          const parts = p.department!.split('/');
          return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
        }),
    ),
  ].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  for (const path of paths) {
    if (byPath.has(path)) continue;
    const cut = path.lastIndexOf('/');
    const parentId = cut < 0 ? ROOT_DEPT : byPath.get(path.slice(0, cut));
    if (parentId === undefined) continue;
    if (opts.dryRun || parentId < 0) {
      byPath.set(path, planned--);
      result.departmentsCreated.push(path);
      continue;
    }
    const created = await oapi<{ dept_id: number }>(conn, '/topapi/v2/department/create', {
      name: path.slice(cut + 1),
      parent_id: parentId,
    });
    byPath.set(path, created.dept_id);
    result.departmentsCreated.push(path);
  }

  const users = await readUsers(conn, [...depts.keys()]);
  const byId = new Map(users.map((u) => [u.userid, u]));
  const byMobile = new Map(users.filter((u) => u.mobile).map((u) => [e164(u)!, u]));
  const byEmail = new Map(users.filter((u) => u.email).map((u) => [u.email!.toLowerCase(), u]));
  const wrap = async (p: ProvisionPerson, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ContactsError) result.errors.push({ personId: p.id, name: p.name, message: err.message });
      else if (err instanceof StepError && err.errorClass === 'permanent')
        result.errors.push({ personId: p.id, name: p.name, message: err.message });
      else throw err;
    }
  };

  // Managers before their reports, so a new account gets its manager (manager_userid) when it is created.
  const managerOf = new Map(people.map((p) => [p.id, p.managerId ?? null]));
  const depth = (id: string) => {
    let d = 0;
    const seen = new Set<string>();
    for (let m = managerOf.get(id); m && !seen.has(m); m = managerOf.get(m)) {
      seen.add(m);
      d++;
    }
    return d;
  };
  const ordered = people
    .map((p) => ({ p, d: depth(p.id) }))
    .sort((x, y) => x.d - y.d)
    .map((x) => x.p);
  const userIdOf = new Map(people.filter((p) => p.identity.userId).map((p) => [p.id, p.identity.userId!]));
  const managerUserId = (p: ProvisionPerson) => (p.managerId ? userIdOf.get(p.managerId) : undefined);

  for (const p of ordered) {
    let u = p.identity.userId ? byId.get(p.identity.userId) : undefined;
    if (!p.active) {
      if (u)
        await wrap(p, async () => {
          if (!opts.dryRun) await oapi(conn, '/topapi/v2/user/delete', { userid: u!.userid });
          result.changes.push({ action: 'deactivate', personId: p.id, name: p.name });
        });
      continue;
    }
    if (!u) {
      u = (p.mobile ? byMobile.get(p.mobile) : undefined) ?? (p.email ? byEmail.get(p.email.toLowerCase()) : undefined);
      if (u) {
        userIdOf.set(p.id, u.userid);
        result.links.push({ personId: p.id, identity: { userId: u.userid, ...(u.unionid ? { unionId: u.unionid } : {}) } });
        result.changes.push({
          action: 'link',
          personId: p.id,
          name: p.name,
          fields: { 'dingtalk.userId': { from: p.identity.userId ?? null, to: u.userid } },
        });
      }
    }
    const deptId = p.department ? byPath.get(p.department) : ROOT_DEPT;
    if (!u) {
      await wrap(p, async () => {
        if (!p.mobile) throw permanent('DingTalk needs a mobile number to create an account');
        if (!opts.dryRun) {
          const created = await oapi<{ userid: string; unionId?: string }>(conn, '/topapi/v2/user/create', {
            name: p.name,
            mobile: dingtalkMobile(p.mobile),
            dept_id_list: String(deptId ?? ROOT_DEPT),
            ...(p.email ? { email: p.email } : {}),
            ...(p.title ? { title: p.title } : {}),
            ...(managerUserId(p) ? { manager_userid: managerUserId(p) } : {}),
          });
          userIdOf.set(p.id, created.userid);
          result.links.push({
            personId: p.id,
            identity: { userId: created.userid, ...(created.unionId ? { unionId: created.unionId } : {}) },
          });
        }
        result.changes.push({
          action: 'create',
          personId: p.id,
          name: p.name,
          fields: { department: { from: null, to: p.department }, mobile: { from: null, to: p.mobile } },
        });
      });
      continue;
    }
    const fields: Record<string, { from: unknown; to: unknown }> = {};
    const patch: Record<string, unknown> = {};
    if (u.name !== p.name) {
      fields.name = { from: u.name, to: p.name };
      patch.name = p.name;
    }
    if ((u.title ?? '') !== (p.title ?? '')) {
      fields.title = { from: u.title || null, to: p.title };
      patch.title = p.title ?? '';
    }
    if (p.email && (u.email ?? '').toLowerCase() !== p.email) {
      fields.email = { from: u.email || null, to: p.email };
      patch.email = p.email;
    }
    if (p.mobile && e164(u) !== p.mobile) {
      fields.mobile = { from: e164(u), to: p.mobile };
      patch.mobile = dingtalkMobile(p.mobile);
    }
    const mgr = managerUserId(p);
    if (mgr && (u.manager_userid ?? '') !== mgr) {
      fields.manager = { from: u.manager_userid || null, to: mgr };
      patch.manager_userid = mgr;
    }
    if (deptId !== undefined && u.dept_id_list?.[0] !== deptId) {
      fields.department = { from: depts.get(u.dept_id_list?.[0] ?? ROOT_DEPT)?.path || null, to: p.department };
      patch.dept_id_list = String(deptId);
    }
    if (Object.keys(patch).length) {
      await wrap(p, async () => {
        if (!opts.dryRun) await oapi(conn, '/topapi/v2/user/update', { userid: u!.userid, ...patch });
        result.changes.push({ action: 'update', personId: p.id, name: p.name, fields });
      });
    }
  }
  return result;
}

export const dingtalkDirectory: DirectoryProvider = { service: 'dingtalk', read, provision };
