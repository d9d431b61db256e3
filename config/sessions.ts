import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { ColumnType } from 'kysely';
import type { Db } from '../core/db/database.ts';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { addAuthenticator, bearerToken, type Role } from './admin-auth.ts';

/**
 * Sign-in sessions of the config UI: express-session with its store in the hub's PostgreSQL (so any
 * hub process knows a session), an HTTP-only SameSite=Lax cookie (Secure when PUBLIC_URL is https),
 * and a synchronizer CSRF token kept in the session that every state-changing call must send back in
 * the `X-CSRF-Token` header. Bearer callers (DINGBRIDGE_ADMIN_TOKEN, API keys) are not cookie-based
 * and so are not asked for it.
 */
export interface UiSessionsTable {
  sid: string;
  user_id: string | null;
  sess: ColumnType<session.SessionData, string, string>;
  expires_at: ColumnType<Date, Date, Date>;
}
export interface HubSettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
declare module '../core/db/schema.ts' {
  interface Database {
    ui_sessions: UiSessionsTable;
    hub_settings: HubSettingsTable;
  }
}
declare module 'express-session' {
  interface SessionData {
    userId?: string;
    csrf?: string;
    signedInAt?: string;
  }
}

export const SESSION_COOKIE = 'dingbridge.sid';
const SESSION_TTL_MS = 12 * 3_600_000;

/** express-session's store over the hub's database. */
export class KyselySessionStore extends session.Store {
  constructor(private readonly db: Db) {
    super();
  }

  override get(sid: string, cb: (err: unknown, s?: session.SessionData | null) => void): void {
    this.db
      .selectFrom('ui_sessions')
      .select('sess')
      .where('sid', '=', sid)
      .where('expires_at', '>', new Date())
      .executeTakeFirst()
      .then(
        (r) => cb(null, r ? r.sess : null),
        (err) => cb(err),
      );
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires) : new Date(Date.now() + SESSION_TTL_MS);
    this.db
      .insertInto('ui_sessions')
      .values({ sid, user_id: sess.userId ?? null, sess: JSON.stringify(sess), expires_at: expires })
      .onConflict((oc) => oc.column('sid').doUpdateSet({ user_id: sess.userId ?? null, sess: JSON.stringify(sess), expires_at: expires }))
      .execute()
      .then(
        () => cb?.(),
        (err) => cb?.(err),
      );
  }

  override touch(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires) : new Date(Date.now() + SESSION_TTL_MS);
    this.db
      .updateTable('ui_sessions')
      .set({ expires_at: expires })
      .where('sid', '=', sid)
      .execute()
      .then(
        () => cb?.(),
        (err) => cb?.(err),
      );
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.db
      .deleteFrom('ui_sessions')
      .where('sid', '=', sid)
      .execute()
      .then(
        () => cb?.(),
        (err) => cb?.(err),
      );
  }
}

/** A value kept in hub_settings, created once by whichever process gets there first. */
export async function hubSetting<T>(db: Db, key: string, create: () => T): Promise<T> {
  const found = await db.selectFrom('hub_settings').select('value').where('key', '=', key).executeTakeFirst();
  if (found) return found.value as T;
  await db
    .insertInto('hub_settings')
    .values({ key, value: JSON.stringify(create()) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('hub_settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return row.value as T;
}

export async function setHubSetting(db: Db, key: string, value: unknown): Promise<void> {
  await db
    .insertInto('hub_settings')
    .values({ key, value: JSON.stringify(value) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: new Date() }))
    .execute();
}

const middlewares = new WeakMap<Runtime, Promise<RequestHandler>>();

/** The session middleware of this runtime; its signing secret lives sealed in the database, shared by every process. */
function sessionMiddleware(rt: Runtime): Promise<RequestHandler> {
  let mw = middlewares.get(rt);
  if (!mw) {
    mw = (async () => {
      const sealed = await hubSetting(rt.db, 'session_secret', () =>
        rt.vault.seal(crypto.randomBytes(32).toString('base64url'), 'hub:session_secret'),
      );
      const secret = rt.vault.open(sealed as string, 'hub:session_secret');
      const secure = rt.settings.PUBLIC_URL?.startsWith('https:') ?? false;
      return session({
        name: SESSION_COOKIE,
        secret,
        store: new KyselySessionStore(rt.db),
        resave: false,
        saveUninitialized: false,
        rolling: true,
        proxy: true,
        cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: SESSION_TTL_MS, path: '/' },
      });
    })();
    mw.catch(() => middlewares.delete(rt));
    middlewares.set(rt, mw);
  }
  return mw;
}

/** Loads the session of a request (once): mounted before the admin routes, and used lazily by the authenticator. */
export function sessions(rt: Runtime): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.session) return next();
    sessionMiddleware(rt).then((mw) => mw(req, res, next), next);
  };
}

async function ensureSession(rt: Runtime, req: Request): Promise<void> {
  if (req.session || !req.res) return;
  const mw = await sessionMiddleware(rt);
  await new Promise<void>((resolve, reject) => mw(req, req.res!, (err?: unknown) => (err ? reject(err) : resolve())));
}

/** The CSRF token of this session, created on first use. */
export function csrfToken(req: Request): string {
  if (!req.session.csrf) req.session.csrf = crypto.randomBytes(24).toString('base64url');
  return req.session.csrf;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses a state-changing cookie-authenticated request without this session's CSRF token. */
export function checkCsrf(req: Request): void {
  if (SAFE.has(req.method)) return;
  const given = req.get('x-csrf-token') ?? '';
  const expected = req.session?.csrf ?? '';
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  if (!given || !expected || !crypto.timingSafeEqual(a, b)) {
    throw new HttpError(403, 'csrf_failed', 'this change needs the X-CSRF-Token header of your session (reload the page)');
  }
}

/** What the session authenticator needs from the accounts module (kept apart to avoid an import cycle). */
export interface SessionUser {
  id: string;
  email: string;
  role: Role;
  disabled: boolean;
  totpEnabled: boolean;
}
let loadUser: ((rt: Runtime, id: string) => Promise<SessionUser | undefined>) | undefined;
let twoFactorRequired: ((rt: Runtime) => Promise<boolean>) | undefined;
export function setSessionUserLoader(load: typeof loadUser, require2fa: typeof twoFactorRequired): void {
  loadUser = load;
  twoFactorRequired = require2fa;
}

/** The signed-in user of this request's session (no CSRF check): for the auth routes themselves. */
export async function sessionUser(rt: Runtime, req: Request): Promise<SessionUser | undefined> {
  await ensureSession(rt, req);
  const id = req.session?.userId;
  if (!id || !loadUser) return undefined;
  const user = await loadUser(rt, id);
  if (!user || user.disabled) return undefined;
  return user;
}

addAuthenticator(async (req, rt) => {
  if (bearerToken(req)) return undefined;
  if (!req.headers.cookie?.includes(`${SESSION_COOKIE}=`)) return undefined;
  const user = await sessionUser(rt, req);
  if (!user) return undefined;
  checkCsrf(req);
  if (!user.totpEnabled && twoFactorRequired && (await twoFactorRequired(rt))) {
    throw new HttpError(403, 'two_factor_required', 'the owner requires two-factor authentication: set it up on the 2FA page first');
  }
  return { kind: 'session', id: user.id, role: user.role, label: user.email };
});
