import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../core/errors.ts';
import { inCidrList, parseCidrList } from '../core/net/cidr.ts';
import type { Runtime } from '../core/runtime.ts';
import { audit } from './audit.ts';

/** What stays open to the internet whatever DINGBRIDGE_ADMIN_ALLOW says: provider webhooks, catch hooks, health. */
const OPEN = /^\/(webhooks|hooks|healthz|readyz|metrics)(\/|$)/;

/**
 * DINGBRIDGE_ADMIN_ALLOW: the admin UI, /api and /oauth answer only requests from these networks;
 * elsewhere a 403 JSON error, audited (every refused sign-in; other refusals once a minute per address).
 */
export function adminAllow(rt: Runtime) {
  const value = rt.settings.DINGBRIDGE_ADMIN_ALLOW;
  const list = value ? parseCidrList(value) : undefined;
  const lastAudit = new Map<string, number>();
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!list || OPEN.test(req.path)) return next();
    const ip = req.ip ?? req.socket.remoteAddress ?? '';
    if (inCidrList(list, ip)) return next();
    const signIn = req.method === 'POST' && /^\/api\/v1\/auth\/(login|setup)$/.test(req.path);
    const now = Date.now();
    if (signIn || now - (lastAudit.get(ip) ?? 0) > 60_000) {
      lastAudit.set(ip, now);
      if (lastAudit.size > 10_000) lastAudit.clear();
      void audit(rt, {
        action: signIn ? 'auth.sign_in_refused_network' : 'admin.network_refused',
        ip,
        outcome: 'denied',
        details: { method: req.method, path: req.path },
      });
    }
    next(new HttpError(403, 'network_not_allowed', 'the admin UI and API are not open to your network (DINGBRIDGE_ADMIN_ALLOW)'));
  };
}
