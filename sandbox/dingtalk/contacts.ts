import type { Express, Request, Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { randomHex, requestId } from './crypto.ts';
import { CONTROL_PREFIX } from './control.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { DingtalkState, User } from './state.ts';

type Fake = RunningFakeInternals<DingtalkState>;

/**
 * The contacts API as DingTalk serves it on the old API host (oapi.dingtalk.com): departments
 * (topapi/v2/department/listsub, get, create) and users (topapi/v2/user/create, update, get, delete,
 * list). The new-API SDK (@alicloud/dingtalk contact_1_0) has no department or user create, so
 * callers use these. Answers are HTTP 200 `{errcode, errmsg, result, request_id}`; the error codes
 * are DingTalk's global ones: 40014 bad access_token, 40035 bad parameter, 60003 no such department,
 * 60008 a department of that name exists under the parent, 60102 userid taken, 60103 bad mobile,
 * 60104 mobile already in the organisation, 60121 no such user.
 */
export function registerContactsRoutes(app: Express, fake: Fake, rt: DingtalkRuntime): void {
  const st = () => fake.state;
  const fail = (res: Response, errcode: number, errmsg: string) => {
    res.json({ errcode, errmsg, request_id: requestId() });
  };
  const ok = (res: Response, result?: unknown) => {
    res.json({ errcode: 0, errmsg: 'ok', ...(result === undefined ? {} : { result }), request_id: requestId() });
  };

  app.use('/topapi/v2', (req: Request, res: Response, next) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : '';
    if (!token) return fail(res, 40014, '不合法的access_token');
    const fault = fake.faults.takeAuthFault(req);
    if (fault || !rt.appForToken(token))
      return fail(res, fault === 'expired_token' ? 42001 : 40014, fault === 'expired_token' ? 'access_token超时' : '不合法的access_token');
    next();
  });

  const body = (req: Request) => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
  const deptView = (d: { deptId: number; name: string; parentId: number | null }) => ({
    dept_id: d.deptId,
    name: d.name,
    parent_id: d.parentId ?? undefined,
    create_dept_group: false,
    auto_add_user: false,
  });
  const deptIds = (u: User) => u.deptIdList ?? [u.deptId];
  const userView = (u: User) => ({
    userid: u.userId,
    unionid: u.unionId,
    name: u.name,
    mobile: u.mobile ?? '',
    state_code: u.stateCode ?? '86',
    email: u.email ?? '',
    title: u.title ?? '',
    dept_id_list: deptIds(u),
    manager_userid: u.managerUserId ?? '',
    active: true,
    admin: false,
    boss: false,
    leader: false,
    hide_mobile: false,
  });
  /** "+852-61234567" or "13800000000" → state code and national number; undefined when it is not a number. */
  const parseMobile = (v: unknown): { stateCode: string; mobile: string } | undefined => {
    if (typeof v !== 'string') return undefined;
    const m = /^\+(\d{1,4})-(\d{5,15})$/.exec(v.trim());
    if (m) return { stateCode: m[1]!, mobile: m[2]! };
    return /^1\d{10}$/.test(v.trim()) ? { stateCode: '86', mobile: v.trim() } : undefined;
  };
  const parseDeptList = (v: unknown): number[] | undefined => {
    const parts = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : typeof v === 'number' ? [v] : undefined;
    if (!parts || parts.length === 0) return undefined;
    const ids = parts.map((p) => Number(String(p).trim()));
    return ids.every((n) => Number.isInteger(n) && n > 0) ? ids : undefined;
  };
  const mobileTaken = (sm: { stateCode: string; mobile: string }, except?: string) =>
    [...st().users.values()].some((u) => u.userId !== except && u.mobile === sm.mobile && (u.stateCode ?? '86') === sm.stateCode);

  app.post('/topapi/v2/department/listsub', (req, res) => {
    const id = body(req).dept_id === undefined ? 1 : Number(body(req).dept_id);
    if (!st().departments.has(id)) return fail(res, 60003, '部门不存在');
    ok(
      res,
      [...st().departments.values()]
        .filter((d) => d.parentId === id)
        .sort((a, b) => a.deptId - b.deptId)
        .map(deptView),
    );
  });

  app.post('/topapi/v2/department/get', (req, res) => {
    const d = st().departments.get(Number(body(req).dept_id));
    if (!d) return fail(res, 60003, '部门不存在');
    ok(res, deptView(d));
  });

  app.post('/topapi/v2/department/create', (req, res) => {
    const b = body(req);
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (!name) return fail(res, 40035, '不合法的参数: name');
    if (name.length > 64) return fail(res, 60002, '部门名称长度超过限制');
    const parentId = Number(b.parent_id);
    if (!st().departments.has(parentId)) return fail(res, 60003, '部门不存在');
    if ([...st().departments.values()].some((d) => d.parentId === parentId && d.name === name))
      return fail(res, 60008, '父部门下该部门名称已存在');
    const deptId = ++st().deptSeq;
    st().departments.set(deptId, { deptId, name, parentId, createdAt: new Date().toISOString() });
    ok(res, { dept_id: deptId });
  });

  app.post('/topapi/v2/user/list', (req, res) => {
    const b = body(req);
    const deptId = Number(b.dept_id);
    if (!st().departments.has(deptId)) return fail(res, 60003, '部门不存在');
    const size = Number(b.size);
    const cursor = b.cursor === undefined ? 0 : Number(b.cursor);
    if (!Number.isInteger(size) || size < 1 || size > 100) return fail(res, 40035, '不合法的参数: size');
    if (!Number.isInteger(cursor) || cursor < 0) return fail(res, 40035, '不合法的参数: cursor');
    const all = [...st().users.values()].filter((u) => deptIds(u).includes(deptId)).sort((a, b2) => a.userId.localeCompare(b2.userId));
    const page = all.slice(cursor, cursor + size);
    const more = cursor + size < all.length;
    ok(res, { has_more: more, ...(more ? { next_cursor: cursor + size } : {}), list: page.map(userView) });
  });

  app.post('/topapi/v2/user/get', (req, res) => {
    const u = st().users.get(String(body(req).userid ?? ''));
    if (!u) return fail(res, 60121, '找不到该用户');
    ok(res, userView(u));
  });

  app.post('/topapi/v2/user/create', (req, res) => {
    const b = body(req);
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (!name) return fail(res, 40035, '不合法的参数: name');
    if (b.mobile === undefined || b.mobile === '') return fail(res, 40035, '不合法的参数: mobile');
    const sm = parseMobile(b.mobile);
    if (!sm) return fail(res, 60103, '手机号码不合法');
    const depts = parseDeptList(b.dept_id_list);
    if (!depts) return fail(res, 40035, '不合法的参数: dept_id_list');
    if (depts.some((d) => !st().departments.has(d))) return fail(res, 60003, '部门不存在');
    if (mobileTaken(sm)) return fail(res, 60104, '手机号码在公司中已注册');
    const userId = typeof b.userid === 'string' && b.userid ? b.userid : randomHex(8);
    if (st().users.has(userId)) return fail(res, 60102, 'UserID在公司中已存在');
    const first = st().departments.get(depts[0]!)!;
    const u: User = {
      userId,
      unionId: randomHex(12),
      name,
      deptId: first.deptId,
      deptName: first.name,
      deptIdList: depts,
      mobile: sm.mobile,
      stateCode: sm.stateCode,
      email: typeof b.email === 'string' ? b.email : undefined,
      title: typeof b.title === 'string' ? b.title : undefined,
      managerUserId: typeof b.manager_userid === 'string' && b.manager_userid ? b.manager_userid : undefined,
      createdAt: new Date().toISOString(),
    };
    st().users.set(userId, u);
    ok(res, { userid: userId, unionId: u.unionId });
  });

  app.post('/topapi/v2/user/update', (req, res) => {
    const b = body(req);
    const u = st().users.get(String(b.userid ?? ''));
    if (!u) return fail(res, 60121, '找不到该用户');
    const next = { ...u };
    if (b.name !== undefined) {
      if (typeof b.name !== 'string' || !b.name.trim()) return fail(res, 40035, '不合法的参数: name');
      next.name = b.name.trim();
    }
    if (b.mobile !== undefined) {
      const sm = parseMobile(b.mobile);
      if (!sm) return fail(res, 60103, '手机号码不合法');
      if (mobileTaken(sm, u.userId)) return fail(res, 60104, '手机号码在公司中已注册');
      next.mobile = sm.mobile;
      next.stateCode = sm.stateCode;
    }
    if (b.dept_id_list !== undefined) {
      const depts = parseDeptList(b.dept_id_list);
      if (!depts) return fail(res, 40035, '不合法的参数: dept_id_list');
      if (depts.some((d) => !st().departments.has(d))) return fail(res, 60003, '部门不存在');
      next.deptIdList = depts;
      next.deptId = depts[0]!;
      next.deptName = st().departments.get(depts[0]!)!.name;
    }
    if (typeof b.title === 'string') next.title = b.title;
    if (typeof b.email === 'string') next.email = b.email;
    if (typeof b.manager_userid === 'string') next.managerUserId = b.manager_userid || undefined;
    st().users.set(u.userId, next);
    ok(res);
  });

  app.post('/topapi/v2/user/delete', (req, res) => {
    const id = String(body(req).userid ?? '');
    if (!st().users.has(id)) return fail(res, 60121, '找不到该用户');
    st().users.delete(id);
    ok(res);
  });

  // Control: what the contacts hold, for tests and the page.
  app.get(`${CONTROL_PREFIX}/departments`, (_req, res) => {
    res.json({ departments: [...st().departments.values()] });
  });
}
