import crypto from 'node:crypto';
import { promisify } from 'node:util';
import express, { type Request, type Response, type Router } from 'express';
import type { ColumnType, Generated, Selectable } from 'kysely';
import { sql } from 'kysely';
import { generateSecret, generateURI, verifySync } from 'otplib';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { bearerToken, requireRole, type Role } from './admin-auth.ts';
import { audit, auditRequest } from './audit.ts';
import { validate } from './http-validate.ts';
import { pruneSignIns, reserveSignIn, settleSignIn } from './sign-in-limits.ts';
import { checkCsrf, csrfToken, sessions, sessionUser, setHubSetting, setSessionUserLoader, type SessionUser } from './sessions.ts';

/**
 * Admin accounts: first-run owner setup, email + password (scrypt), TOTP two-factor with hashed
 * recovery codes, roles owner / admin / viewer, sign-in rate limiting that holds across processes
 * (failed sign-ins are counted in the audit log), and the owner's user management.
 */
export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  role: string;
  password_hash: string;
  totp_secret: string | null;
  totp_pending: string | null;
  totp_enabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The time step of the last TOTP code accepted (pg bigint, read as a string). */
  totp_last_step: ColumnType<string | null, number | null | undefined, number | null>;
  recovery_codes: ColumnType<string[], string | undefined, string>;
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_sign_in_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
declare module '../core/db/schema.ts' {
  interface Database {
    users: UsersTable;
  }
}
export type UserRow = Selectable<UsersTable>;

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(got, expected);
}
/** Compared against when the email is unknown, so both answers take the same time. */
const DUMMY_HASH = hashPassword(crypto.randomBytes(12).toString('hex'));

const totpAad = (userId: string) => `user-totp:${userId}`;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const normaliseRecovery = (code: string) =>
  code
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

export const ROLES = ['owner', 'admin', 'viewer'] as const;
const emailSchema = z.string().trim().toLowerCase().pipe(z.email('an email address')).pipe(z.string().max(200));
const passwordSchema = z.string().min(10, 'at least 10 characters').max(200);

export interface UserPublic {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  twoFactor: boolean;
  disabled: boolean;
  lastSignInAt: string | null;
  createdAt: string;
}
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
export const userView = (u: UserRow): UserPublic => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role as Role,
  twoFactor: Boolean(u.totp_enabled_at),
  disabled: Boolean(u.disabled_at),
  lastSignInAt: iso(u.last_sign_in_at),
  createdAt: iso(u.created_at)!,
});

async function getUser(rt: Runtime, id: string) {
  return rt.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function twoFactorRequired(rt: Runtime): Promise<boolean> {
  const row = await rt.db.selectFrom('hub_settings').select('value').where('key', '=', 'require_2fa').executeTakeFirst();
  return row?.value === true;
}

setSessionUserLoader(async (rt, id): Promise<SessionUser | undefined> => {
  const u = await getUser(rt, id);
  return u
    ? { id: u.id, email: u.email, role: u.role as Role, disabled: Boolean(u.disabled_at), totpEnabled: Boolean(u.totp_enabled_at) }
    : undefined;
}, twoFactorRequired);

export async function userCount(rt: Runtime): Promise<number> {
  const row = await rt.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Creates a user; used by setup, the owner's users page and tests. */
export async function createUser(
  rt: Runtime,
  input: { email: string; name?: string | null; role: Role; password: string },
): Promise<UserRow> {
  const row = await rt.db
    .insertInto('users')
    .values({
      id: `usr_${crypto.randomBytes(9).toString('base64url')}`,
      email: input.email.toLowerCase(),
      name: input.name ?? null,
      role: input.role,
      password_hash: await hashPassword(input.password),
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new HttpError(409, 'user_exists', `a user with the email ${input.email} exists already`);
  return row;
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

async function signIn(rt: Runtime, req: Request, user: UserRow): Promise<void> {
  await regenerate(req);
  req.session.userId = user.id;
  req.session.signedInAt = new Date().toISOString();
  csrfToken(req);
  await rt.db.updateTable('users').set({ last_sign_in_at: new Date() }).where('id', '=', user.id).execute();
}

/** The time step of a valid code (one 30 s window either side is accepted), or undefined. */
function checkTotp(secret: string, code: string): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  try {
    const r = verifySync({ secret, token: code, epochTolerance: 30 }) as { valid: boolean; timeStep?: number };
    return r.valid ? (r.timeStep ?? 0) : undefined;
  } catch {
    return undefined;
  }
}

const principalOfUser = (u: { id: string; email: string }) => ({ kind: 'session', id: u.id, label: u.email });

async function requireSessionUser(rt: Runtime, req: Request): Promise<UserRow> {
  const su = await sessionUser(rt, req);
  if (!su) throw new HttpError(401, 'unauthenticated', 'sign in first');
  checkCsrf(req);
  return (await getUser(rt, su.id))!;
}

function makeRecoveryCodes(): string[] {
  return Array.from({ length: 10 }, () => {
    const raw = crypto.randomBytes(5).toString('hex');
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
}

/**
 * First-run setup is guarded: with DINGBRIDGE_ADMIN_TOKEN set, creating the first owner needs that
 * token; without it, a one-time setup code printed in the log at start (while no user exists; a
 * newer start replaces it). Only its hash is stored, so any process can check it.
 */
const SETUP_CODE_KEY = 'setup_code';
export async function prepareSetupCode(rt: Runtime): Promise<string | undefined> {
  if (rt.settings.DINGBRIDGE_ADMIN_TOKEN || (await userCount(rt)) > 0) return undefined;
  const raw = crypto.randomBytes(15).toString('base64url').replace(/[-_]/g, 'x').toUpperCase();
  const code = raw.match(/.{1,5}/g)!.join('-');
  await setHubSetting(rt.db, SETUP_CODE_KEY, sha256(normaliseSetupCode(code)));
  rt.log.warn(
    { setupCode: code },
    `first-run setup: no owner exists yet; open the config UI and enter the setup code ${code} (it works once)`,
  );
  return code;
}
const normaliseSetupCode = (code: string) =>
  code
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
const sameHash = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** /api/v1/auth/* (setup, sign-in, sign-out, 2FA), /api/v1/users (owner) and /api/v1/security (owner). */
export function accountsRouter(rt: Runtime): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });
  router.use('/api/v1/auth', sessions(rt));
  prepareSetupCode(rt).catch((err) => rt.log.error({ err: (err as Error).message }, 'could not prepare the first-run setup code'));

  router.get('/api/v1/auth/status', async (req: Request, res: Response) => {
    const setupRequired = (await userCount(rt)) === 0;
    const su = setupRequired ? undefined : await sessionUser(rt, req);
    const user = su ? await getUser(rt, su.id) : undefined;
    const required = await twoFactorRequired(rt);
    res.setHeader('cache-control', 'no-store');
    res.json({
      setupRequired,
      /** What first-run setup asks for: the admin token when one is set, else the code in the log. */
      setupProof: setupRequired ? (rt.settings.DINGBRIDGE_ADMIN_TOKEN ? 'admin_token' : 'setup_code') : null,
      user: user ? userView(user) : null,
      csrfToken: user ? csrfToken(req) : null,
      twoFactorRequired: required,
      needsTwoFactorSetup: Boolean(user && required && !user.totp_enabled_at),
      /** The company's time zone (DINGBRIDGE_TIMEZONE): the UI shows times in it. */
      timeZone: rt.settings.DINGBRIDGE_TIMEZONE,
    });
  });

  router.post('/api/v1/auth/setup', json, async (req: Request, res: Response) => {
    const input = validate(
      z
        .object({
          email: emailSchema,
          name: z.string().trim().max(200).optional(),
          password: passwordSchema,
          setupCode: z.string().max(500).optional(),
        })
        .strict(),
      req.body,
    );
    const given = input.setupCode ?? bearerToken(req) ?? '';
    const adminToken = rt.settings.DINGBRIDGE_ADMIN_TOKEN;
    const refused = async () => {
      await audit(rt, { action: 'auth.setup_refused', target: input.email, ip: req.ip ?? null, outcome: 'denied' });
      return new HttpError(
        403,
        'setup_code_required',
        adminToken
          ? 'creating the first owner needs DINGBRIDGE_ADMIN_TOKEN (as setupCode, or as a Bearer token)'
          : "creating the first owner needs the one-time setup code printed in the hub's log at start",
      );
    };
    if (adminToken && !sameHash(sha256(given), sha256(adminToken))) {
      if ((await userCount(rt)) > 0) throw new HttpError(409, 'setup_done', 'the hub has an owner already; sign in instead');
      throw await refused();
    }
    let codeOk = Boolean(adminToken);
    const user = await rt.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('dingbridge:first-run-setup'))`.execute(trx);
      const existing = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
      if (existing) return undefined;
      if (!adminToken) {
        // The code is used up with the owner it created (same transaction): it works once.
        const stored = await trx
          .selectFrom('hub_settings')
          .select('value')
          .where('key', '=', SETUP_CODE_KEY)
          .forUpdate()
          .executeTakeFirst();
        codeOk = typeof stored?.value === 'string' && given !== '' && sameHash(stored.value, sha256(normaliseSetupCode(given)));
        if (!codeOk) return undefined;
        await trx.deleteFrom('hub_settings').where('key', '=', SETUP_CODE_KEY).execute();
      }
      return trx
        .insertInto('users')
        .values({
          id: `usr_${crypto.randomBytes(9).toString('base64url')}`,
          email: input.email,
          name: input.name ?? null,
          role: 'owner',
          password_hash: await hashPassword(input.password),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    if (!user && !codeOk && (await userCount(rt)) === 0) throw await refused();
    if (!user) throw new HttpError(409, 'setup_done', 'the hub has an owner already; sign in instead');
    await signIn(rt, req, user);
    await auditRequest(rt, req, 'user.owner_created', user.email, undefined, { actor: principalOfUser(user) });
    res.status(201).json({ user: userView(user), csrfToken: csrfToken(req) });
  });

  router.post('/api/v1/auth/login', json, async (req: Request, res: Response) => {
    const input = validate(
      z.object({ email: emailSchema, password: z.string().min(1).max(200), code: z.string().trim().max(20).optional() }).strict(),
      req.body,
    );
    const ip = req.ip ?? '';
    // The attempt is reserved before the password is checked: parallel guesses cannot outrun the limit.
    const attempt = await reserveSignIn(rt, input.email, ip);
    void pruneSignIns(rt).catch(() => {});
    const user = await rt.db.selectFrom('users').selectAll().where('email', '=', input.email).executeTakeFirst();
    const ok = user
      ? await verifyPassword(input.password, user.password_hash)
      : (await verifyPassword(input.password, await DUMMY_HASH), false);
    const fail = async (reason: string) => {
      await settleSignIn(rt, attempt, 'failed');
      await audit(rt, {
        action: 'auth.sign_in_failed',
        target: input.email,
        ip,
        outcome: 'denied',
        details: { reason },
        actor: user ? principalOfUser(user) : undefined,
      });
      return new HttpError(
        401,
        reason === 'bad_code' ? 'invalid_code' : 'invalid_credentials',
        reason === 'bad_code' ? 'that code is not valid' : 'wrong email or password',
      );
    };
    if (!user || !ok) throw await fail('bad_password');
    if (user.disabled_at) throw await fail('disabled');
    if (user.totp_enabled_at && user.totp_secret) {
      if (!input.code) {
        // Counted like a failure: only a full sign-in resets the count, so a known password does not open TOTP guessing.
        await settleSignIn(rt, attempt, 'failed');
        throw new HttpError(401, 'totp_required', 'enter the 6-digit code from your authenticator app, or a recovery code');
      }
      const secret = rt.vault.open(user.totp_secret, totpAad(user.id));
      const step = checkTotp(secret, input.code);
      if (step !== undefined) {
        // A code is good once: a step at or before the last one accepted is a replay.
        const took = await rt.db
          .updateTable('users')
          .set({ totp_last_step: step })
          .where('id', '=', user.id)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', String(step) as never)]))
          .returning('id')
          .executeTakeFirst();
        if (!took) throw await fail('bad_code');
      } else {
        const hashed = sha256(normaliseRecovery(input.code));
        // Consumed with a conditional update: of concurrent sign-ins with one code, only one removes it.
        const took = await rt.db
          .updateTable('users')
          .set({ recovery_codes: sql`recovery_codes - ${hashed}::text`, updated_at: new Date() })
          .where('id', '=', user.id)
          .where(sql<boolean>`recovery_codes ? ${hashed}::text`)
          .returning(sql<number>`jsonb_array_length(recovery_codes)`.as('left'))
          .executeTakeFirst();
        if (!took) throw await fail('bad_code');
        await audit(rt, {
          action: 'auth.recovery_code_used',
          target: user.email,
          ip,
          actor: principalOfUser(user),
          details: { left: Number(took.left) },
        });
      }
    }
    await settleSignIn(rt, attempt, 'ok');
    await signIn(rt, req, user);
    await auditRequest(
      rt,
      req,
      'auth.signed_in',
      user.email,
      { twoFactor: Boolean(user.totp_enabled_at) },
      { actor: principalOfUser(user) },
    );
    res.json({
      user: userView(user),
      csrfToken: csrfToken(req),
      needsTwoFactorSetup: !user.totp_enabled_at && (await twoFactorRequired(rt)),
    });
  });

  router.post('/api/v1/auth/logout', async (req: Request, res: Response) => {
    const user = await requireSessionUser(rt, req);
    await auditRequest(rt, req, 'auth.signed_out', user.email, undefined, { actor: principalOfUser(user) });
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    res.clearCookie('dingbridge.sid', { path: '/' });
    res.status(204).end();
  });

  router.post('/api/v1/auth/password', json, async (req: Request, res: Response) => {
    const user = await requireSessionUser(rt, req);
    const input = validate(z.object({ current: z.string().min(1).max(200), password: passwordSchema }).strict(), req.body);
    if (!(await verifyPassword(input.current, user.password_hash)))
      throw new HttpError(400, 'invalid_password', 'the current password is wrong');
    await rt.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(input.password), updated_at: new Date() })
      .where('id', '=', user.id)
      .execute();
    // Other sessions of this user end; this one goes on.
    await rt.db.deleteFrom('ui_sessions').where('user_id', '=', user.id).where('sid', '!=', req.sessionID).execute();
    await auditRequest(rt, req, 'user.password_changed', user.email, undefined, { actor: principalOfUser(user) });
    res.status(204).end();
  });

  router.post('/api/v1/auth/2fa/setup', async (req: Request, res: Response) => {
    const user = await requireSessionUser(rt, req);
    const secret = generateSecret();
    await rt.db
      .updateTable('users')
      .set({ totp_pending: rt.vault.seal(secret, totpAad(user.id)), updated_at: new Date() })
      .where('id', '=', user.id)
      .execute();
    const otpauthUrl = generateURI({ issuer: 'dingbridge', label: user.email, secret });
    // Loaded on first use: only a user turning on two-step sign-in needs it.
    const QRCode = (await import('qrcode')).default;
    const qrSvg = await QRCode.toString(otpauthUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    res.setHeader('cache-control', 'no-store');
    res.json({ secret, otpauthUrl, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(qrSvg).toString('base64')}` });
  });

  router.post('/api/v1/auth/2fa/enable', json, async (req: Request, res: Response) => {
    const user = await requireSessionUser(rt, req);
    const { code } = validate(
      z
        .object({
          code: z
            .string()
            .trim()
            .regex(/^\d{6}$/, 'the 6-digit code'),
        })
        .strict(),
      req.body,
    );
    if (!user.totp_pending) throw new HttpError(409, 'no_pending_setup', 'start the setup first');
    const secret = rt.vault.open(user.totp_pending, totpAad(user.id));
    const step = checkTotp(secret, code);
    if (step === undefined)
      throw new HttpError(400, 'invalid_code', 'that code is not valid; check the time on your phone and try the next one');
    const recoveryCodes = makeRecoveryCodes();
    await rt.db
      .updateTable('users')
      .set({
        totp_secret: user.totp_pending,
        totp_pending: null,
        totp_enabled_at: new Date(),
        totp_last_step: step,
        recovery_codes: JSON.stringify(recoveryCodes.map((c) => sha256(normaliseRecovery(c)))),
        updated_at: new Date(),
      })
      .where('id', '=', user.id)
      .execute();
    await auditRequest(rt, req, 'auth.2fa_enabled', user.email, undefined, { actor: principalOfUser(user) });
    res.setHeader('cache-control', 'no-store');
    res.json({ recoveryCodes });
  });

  router.post('/api/v1/auth/2fa/disable', json, async (req: Request, res: Response) => {
    const user = await requireSessionUser(rt, req);
    const { password } = validate(z.object({ password: z.string().min(1).max(200) }).strict(), req.body);
    if (!(await verifyPassword(password, user.password_hash))) throw new HttpError(400, 'invalid_password', 'the password is wrong');
    if (await twoFactorRequired(rt))
      throw new HttpError(409, 'two_factor_required', 'the owner requires two-factor authentication for everyone');
    await rt.db
      .updateTable('users')
      .set({
        totp_secret: null,
        totp_pending: null,
        totp_enabled_at: null,
        totp_last_step: null,
        recovery_codes: '[]',
        updated_at: new Date(),
      })
      .where('id', '=', user.id)
      .execute();
    await auditRequest(rt, req, 'auth.2fa_disabled', user.email, undefined, { actor: principalOfUser(user) });
    res.status(204).end();
  });

  // The owner's pages: users and the hub's security policy.
  router.get('/api/v1/security', requireRole(rt, 'viewer'), async (req, res) => {
    const users = await rt.db
      .selectFrom('users')
      .select(['email', 'name', 'role', 'totp_enabled_at'])
      .where('disabled_at', 'is', null)
      .orderBy('created_at')
      .execute();
    const owners = users.filter((u) => u.role === 'owner').length;
    res.json({
      require2fa: await twoFactorRequired(rt),
      auditRetentionDays: rt.settings.DINGBRIDGE_AUDIT_RETENTION_DAYS,
      owners,
      /** At least two owners, so the hub is not lost with one person's phone or password. */
      recommendation:
        owners < 2
          ? 'add a second owner: with one owner, losing that account locks everyone out of users, keys and security settings'
          : null,
      adminAllow: rt.settings.DINGBRIDGE_ADMIN_ALLOW || null,
      // Who has 2FA: for admins and owners.
      users:
        req.principal?.role === 'viewer'
          ? undefined
          : users.map((u) => ({ email: u.email, name: u.name, role: u.role, twoFactor: Boolean(u.totp_enabled_at) })),
    });
  });
  router.put('/api/v1/security', requireRole(rt, 'owner'), json, async (req, res) => {
    const { require2fa } = validate(z.object({ require2fa: z.boolean() }).strict(), req.body);
    await setHubSetting(rt.db, 'require_2fa', require2fa);
    let signedOut = 0;
    if (require2fa) {
      // Sessions of users without 2FA end (the owner's own session stays, to set 2FA up).
      const r = await rt.db
        .deleteFrom('ui_sessions')
        .where('user_id', 'in', rt.db.selectFrom('users').select('id').where('totp_enabled_at', 'is', null))
        .where('sid', '!=', req.sessionID ?? '')
        .executeTakeFirst();
      signedOut = Number(r.numDeletedRows);
    }
    await auditRequest(rt, req, 'security.require_2fa_changed', null, { require2fa, signedOut });
    res.json({ require2fa, signedOut });
  });

  router.get('/api/v1/users', requireRole(rt, 'owner'), async (_req, res) => {
    const rows = await rt.db.selectFrom('users').selectAll().orderBy('created_at').execute();
    res.json({ items: rows.map(userView) });
  });
  router.post('/api/v1/users', requireRole(rt, 'owner'), json, async (req, res) => {
    const input = validate(
      z.object({ email: emailSchema, name: z.string().trim().max(200).optional(), role: z.enum(ROLES), password: passwordSchema }).strict(),
      req.body,
    );
    const row = await createUser(rt, input);
    await auditRequest(rt, req, 'user.created', row.email, { role: row.role });
    res.status(201).json(userView(row));
  });
  const idParams = z.object({ id: z.string().min(1).max(100) });
  const lastOwnerGuard = async (id: string) => {
    const owners = await rt.db.selectFrom('users').select('id').where('role', '=', 'owner').where('disabled_at', 'is', null).execute();
    if (owners.length === 1 && owners[0]!.id === id) throw new HttpError(409, 'last_owner', 'the hub needs at least one active owner');
  };
  router.patch('/api/v1/users/:id', requireRole(rt, 'owner'), json, async (req, res) => {
    const { id } = validate(idParams, req.params, 'params');
    const patch = validate(
      z
        .object({
          name: z.string().trim().max(200).optional(),
          role: z.enum(ROLES).optional(),
          disabled: z.boolean().optional(),
          password: passwordSchema.optional(),
        })
        .strict(),
      req.body,
    );
    const user = await getUser(rt, id);
    if (!user) throw new HttpError(404, 'user_not_found', `no user "${id}"`);
    if ((patch.role && patch.role !== 'owner') || patch.disabled) await lastOwnerGuard(id);
    const row = await rt.db
      .updateTable('users')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.role ? { role: patch.role } : {}),
        ...(patch.disabled !== undefined ? { disabled_at: patch.disabled ? new Date() : null } : {}),
        ...(patch.password ? { password_hash: await hashPassword(patch.password) } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (patch.disabled || patch.password) await rt.db.deleteFrom('ui_sessions').where('user_id', '=', id).execute();
    await auditRequest(rt, req, 'user.updated', row.email, {
      role: patch.role,
      disabled: patch.disabled,
      passwordReset: Boolean(patch.password),
      name: patch.name,
    });
    res.json(userView(row));
  });
  router.delete('/api/v1/users/:id', requireRole(rt, 'owner'), async (req, res) => {
    const { id } = validate(idParams, req.params, 'params');
    const user = await getUser(rt, id);
    if (!user) throw new HttpError(404, 'user_not_found', `no user "${id}"`);
    await lastOwnerGuard(id);
    await rt.db.deleteFrom('users').where('id', '=', id).execute();
    await rt.db.deleteFrom('ui_sessions').where('user_id', '=', id).execute();
    await auditRequest(rt, req, 'user.deleted', user.email);
    res.status(204).end();
  });
  return router;
}
