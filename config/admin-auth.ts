import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';

/** Who is calling the admin API, and what they may do. */
export type Role = 'owner' | 'admin' | 'viewer';
export interface Principal {
  kind: 'admin_token' | 'api_key' | 'session';
  id: string;
  role: Role;
  /** API-key scopes (e.g. `hooks:write`); undefined means every scope of the role. */
  scopes?: string[];
  label: string;
}

/**
 * Ways to prove who you are. Each looks at a request and returns a principal, or undefined when the
 * request does not carry its kind of credential (throwing HttpError when it carries a bad one).
 * Features add theirs (API keys, UI sessions) with `addAuthenticator`.
 */
export type Authenticator = (req: Request, rt: Runtime) => Promise<Principal | undefined>;

const authenticators: Authenticator[] = [];
export function addAuthenticator(a: Authenticator): void {
  if (!authenticators.includes(a)) authenticators.push(a);
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim();
}

/** DINGBRIDGE_ADMIN_TOKEN as an owner-level Bearer token, for automation and before any user exists. */
const adminToken: Authenticator = async (req, rt) => {
  const expected = rt.settings.DINGBRIDGE_ADMIN_TOKEN;
  const given = bearerToken(req);
  if (!expected || !given) return undefined;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  if (!crypto.timingSafeEqual(a, b)) return undefined;
  return { kind: 'admin_token', id: 'admin-token', role: 'owner', label: 'DINGBRIDGE_ADMIN_TOKEN' };
};
addAuthenticator(adminToken);

const RANK: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** A route's `scope` that lets any valid API key in (only /api/v1/me, which Zapier calls to test a key). */
export const ANY_KEY = '*';

/** Refuses an API key that does not hold `scope` (sessions and the admin token pass). */
export function requireScope(principal: Principal | undefined, scope: string): void {
  if (principal?.kind !== 'api_key') return;
  if (scope === ANY_KEY || principal.scopes?.includes(scope)) return;
  throw new HttpError(403, 'forbidden', `this API key lacks the scope ${scope}`);
}

/**
 * Requires a signed-in principal with at least `role`. API keys are denied by default: a key passes
 * only a route that declares a scope the key holds; a route without a scope is closed to every key.
 * 401 when nobody is recognised, 403 when the principal may not do this.
 */
export function requireRole(rt: Runtime, role: Role, scope?: string) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    let principal: Principal | undefined;
    for (const authenticate of authenticators) {
      principal = await authenticate(req, rt);
      if (principal) break;
    }
    if (!principal) return next(new HttpError(401, 'unauthenticated', 'sign in, or send a valid API key as a Bearer token'));
    if (RANK[principal.role] < RANK[role]) return next(new HttpError(403, 'forbidden', `this needs the ${role} role`));
    if (principal.kind === 'api_key') {
      if (!scope) return next(new HttpError(403, 'forbidden', 'API keys cannot use this route; sign in instead'));
      if (scope !== ANY_KEY && !principal.scopes?.includes(scope))
        return next(new HttpError(403, 'forbidden', `this API key lacks the scope ${scope}`));
    }
    req.principal = principal;
    next();
  };
}
