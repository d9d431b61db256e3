import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Runtime } from '../../core/runtime.ts';
import type { Flow } from '../../core/flows.ts';
import { accountsRouter } from '../accounts.ts';
import { adminAllow } from '../admin-allow.ts';
import { auditRouter, auditTrail } from '../audit.ts';
import { flowsRouter } from '../flows-api.ts';
import { runsRouter } from '../runs-api.ts';
import { SESSION_COOKIE, sessions } from '../sessions.ts';
import { documentUiApi } from './api-docs.ts';

/** Where `npm run build:ui` puts the single-page app. */
export const UI_DIST = path.join(import.meta.dirname, 'dist');

/** Paths the SPA fallback never answers: the API, ingress, OAuth and operations. */
const NOT_UI = /^\/(api|hooks|webhooks|oauth|healthz|readyz|metrics)(\/|$)/;

/**
 * Mounted first: the audit trail of admin calls, the session of cookie-carrying admin requests, and
 * the UI's APIs (accounts, audit log, flows, runs).
 */
export function adminUiRouters(
  rt: Runtime,
  configHooks: { id: string; name: string | null }[] = [],
  flowsAsWritten: Record<string, Flow> = {},
): Router[] {
  documentUiApi();
  const front = express.Router();
  front.use(adminAllow(rt));
  front.use(auditTrail(rt));
  const session = sessions(rt);
  front.use((req: Request, res: Response, next: NextFunction) => {
    if (!(req.path.startsWith('/api/') || req.path.startsWith('/oauth/'))) return next();
    if (!req.headers.cookie?.includes(`${SESSION_COOKIE}=`)) return next();
    session(req, res, next);
  });
  return [front, accountsRouter(rt), auditRouter(rt), flowsRouter(rt, configHooks, flowsAsWritten), runsRouter(rt)];
}

function uiSecurityHeaders(res: Response): void {
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader(
    'content-security-policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  );
}

/** Mounted last: the built app's files, and index.html for any other GET that wants HTML. */
export function uiStaticRouter(_rt: Runtime): Router {
  const router = express.Router();
  const index = path.join(UI_DIST, 'index.html');
  // Every answer of the UI (index.html asked for by name included) carries the same frame and CSP headers.
  router.use((_req: Request, res: Response, next: NextFunction) => {
    uiSecurityHeaders(res);
    next();
  });
  router.get('/index.html', (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index, (err) => {
      if (err) res.status(503).type('text').send('The config UI is not built yet: run `npm run build:ui`.');
    });
  });
  router.use(
    express.static(UI_DIST, {
      index: false,
      maxAge: '1h',
      setHeaders: (res, file) => {
        if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  router.get(/.*/, (req: Request, res: Response, next: NextFunction) => {
    if (NOT_UI.test(req.path) || !req.accepts('html')) return next();
    if (!fs.existsSync(index)) {
      res
        .status(503)
        .type('text')
        .send('The config UI is not built yet: run `npm run build:ui` (npm start does it when the build is missing).');
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
