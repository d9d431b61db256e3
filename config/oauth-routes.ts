import crypto from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ConnectionRow } from '../core/db/schema.ts';
import { HttpError } from '../core/errors.ts';
import type { OAuth2AuthKind } from '../core/auth-kinds.ts';
import type { Runtime } from '../core/runtime.ts';
import { connectionAad } from '../core/vault/connections.ts';
import { createStrategy, runStrategy, type StateStore } from '../core/vault/oauth2-client.ts';
import { requireRole } from './admin-auth.ts';
import { validate } from './http-validate.ts';
import { audit, auditRequest } from './audit.ts';
import { loadKpiDefinitions } from './kpis/definitions.ts';

const STATE_TTL_MS = 10 * 60_000;
const stateAad = (state: string) => `oauth-state:${state}`;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

declare module '../core/db/schema.ts' {
  interface OAuthStatesTable {
    session_hash: string | null;
    started_by: string | null;
  }
}

/**
 * A `returnTo` the hub may send the admin back to: resolved against the hub's public address and
 * required to stay on its origin; backslashes and control characters are refused outright (browsers
 * read `/\evil.example` as another host). Returns the path (with query and fragment) to store.
 */
export function safeReturnTo(rt: Runtime, req: Request, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const bad = () => new HttpError(400, 'invalid_return_to', 'returnTo must be a path on this hub');
  if (value.length > 2000 || /[\\\u0000-\u001f\u007f]/.test(value) || !value.startsWith('/') || value.startsWith('//')) throw bad();
  const base = new URL(`${publicUrl(rt, req)}/`);
  let target: URL;
  try {
    target = new URL(value, base);
  } catch {
    throw bad();
  }
  if (target.origin !== base.origin) throw bad();
  return `${target.pathname}${target.search}${target.hash}`;
}

/** Who started a connect flow: the session (when a browser did) must be the one that comes back. */
function starter(req: Request): { session_hash: string | null; started_by: string | null } {
  const p = req.principal;
  return {
    session_hash: p?.kind === 'session' && req.sessionID ? sha256(req.sessionID) : null,
    started_by: p ? `${p.kind}:${p.id}` : null,
  };
}

/** Refuses an answer that comes back in another browser session than the one that started the flow. */
function checkSameSession(req: Request, pending: { session_hash: string | null }): void {
  if (!pending.session_hash) return;
  const given = req.sessionID ? sha256(req.sessionID) : '';
  if (given.length !== pending.session_hash.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(pending.session_hash))) {
    throw new HttpError(400, 'invalid_state', 'this sign-in answer belongs to another session: start connecting again from the hub');
  }
}

/** The hub's public address: PUBLIC_URL, or (when unset) the address this request came to. */
export function publicUrl(rt: Runtime, req: Request): string {
  return (rt.settings.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');
}

function oauthAuth(rt: Runtime, row: ConnectionRow): OAuth2AuthKind {
  const auth = rt.connections.store.authOf(row.connector_id);
  if (auth.kind !== 'oauth2') throw new HttpError(400, 'not_oauth2', `${row.connector_id} connections do not use OAuth 2`);
  return auth;
}

/**
 * The actions the KPI history backfill runs with this connection (those of its connector the KPI file's
 * `backfill` names, on this connection or unnamed): reading past calendars and Drive folders needs their scopes too. A
 * KPI file that does not load asks for nothing more (the KPIs page reports it).
 */
function kpiActionsOf(row: ConnectionRow): string[] {
  try {
    const b = loadKpiDefinitions().backfill;
    return [...(b?.meetings ?? []), ...(b?.files ? [b.files] : [])]
      .filter((m) => m.action.split('.')[0] === row.connector_id && (!m.connection || m.connection === row.id))
      .map((m) => m.action);
  } catch {
    return [];
  }
}

/** The auth kind with the scopes the enabled flows need of this connection (`scopesFor`), when the connector says. */
function oauthAuthForConnect(rt: Runtime, row: ConnectionRow): OAuth2AuthKind {
  const auth = oauthAuth(rt, row);
  if (!auth.scopesFor) return auth;
  const actions = new Set<string>();
  const events = new Set<string>();
  for (const flow of rt.flows.list()) {
    if (!flow.enabled) continue;
    if (flow.when.source === row.id) events.add(flow.when.event);
    for (const step of flow.then) if (step.connection === row.id) actions.add(step.action);
  }
  for (const a of kpiActionsOf(row)) actions.add(a);
  return { ...auth, scopes: auth.scopesFor({ actions: [...actions], events: [...events] }, row.settings ?? {}) };
}

/** State handles live in the database (any process can take the callback), one use each, with the PKCE verifier sealed. */
function stateStore(rt: Runtime, row: ConnectionRow, returnTo?: string, startedBy?: ReturnType<typeof starter>): StateStore {
  return {
    store(_req, verifier, _state, _meta, cb) {
      const handle = crypto.randomBytes(24).toString('base64url');
      rt.db
        .insertInto('oauth_states')
        .values({
          state: handle,
          connection_id: row.id,
          connector_id: row.connector_id,
          verifier: rt.vault.seal(verifier, stateAad(handle)),
          return_to: returnTo ?? null,
          session_hash: startedBy?.session_hash ?? null,
          started_by: startedBy?.started_by ?? null,
        })
        .execute()
        .then(
          () => cb(null, handle),
          (err) => cb(err as Error),
        );
    },
    verify(_req, handle, cb) {
      rt.db
        .updateTable('oauth_states')
        .set({ used_at: new Date() })
        .where('state', '=', handle)
        .where('used_at', 'is', null)
        .where('connection_id', '=', row.id)
        .where('created_at', '>', new Date(Date.now() - STATE_TTL_MS))
        .returning(['verifier'])
        .executeTakeFirst()
        .then(
          (hit) => {
            if (!hit?.verifier) return cb(null, false, { message: 'this sign-in link was already used or has expired; start again' });
            cb(null, rt.vault.open(hit.verifier, stateAad(handle)));
          },
          (err) => cb(err as Error),
        );
    },
  };
}

/** Records a state (with its PKCE verifier) and returns the provider's authorization URL. */
export async function beginAuthorization(rt: Runtime, req: Request, row: ConnectionRow, returnTo?: string): Promise<string> {
  const kind = rt.connections.store.authOf(row.connector_id);
  if (kind.kind === 'api_token') return beginTokenAuthorization(rt, req, row, returnTo);
  const auth = oauthAuthForConnect(rt, row);
  const view = await rt.connections.store.fullView(row);
  const strategy = createStrategy(
    auth,
    view,
    `${publicUrl(rt, req)}/oauth/${row.connector_id}/callback`,
    stateStore(rt, row, returnTo, starter(req)),
  );
  const outcome = await runStrategy(strategy, { ...req, query: {}, body: {} } as unknown as Request);
  if (outcome.kind !== 'redirect')
    throw new HttpError(
      500,
      'oauth_start_failed',
      outcome.kind === 'error' ? outcome.error.message : 'could not build the authorization URL',
    );
  rt.log.info({ connectionId: row.id }, 'OAuth connect started');
  return outcome.url;
}

/**
 * API-token providers (Trello) have their own authorize page that returns the token in the URL
 * fragment, which only the browser sees: the return page reads it and posts it back with the state.
 */
async function beginTokenAuthorization(rt: Runtime, req: Request, row: ConnectionRow, returnTo?: string): Promise<string> {
  const auth = rt.connections.store.authOf(row.connector_id);
  if (auth.kind !== 'api_token' || !auth.authorizeUrl)
    throw new HttpError(400, 'not_authorizable', `${row.connector_id} connections take a pasted token`);
  const handle = crypto.randomBytes(24).toString('base64url');
  await rt.db
    .insertInto('oauth_states')
    .values({
      state: handle,
      connection_id: row.id,
      connector_id: row.connector_id,
      verifier: null,
      return_to: returnTo ?? null,
      ...starter(req),
    })
    .execute();
  const returnUrl = `${publicUrl(rt, req)}/oauth/${row.connector_id}/token?state=${encodeURIComponent(handle)}`;
  return auth.authorizeUrl(await rt.connections.store.fullView(row), returnUrl);
}

const TOKEN_RETURN_PAGE = `<!doctype html><meta charset="utf-8"><title>Connecting…</title><p id="m">Connecting…</p><script>
(async () => {
  const params = new URLSearchParams(location.hash.slice(1));
  const state = new URLSearchParams(location.search).get('state');
  const m = document.getElementById('m');
  if (!params.get('token')) { m.textContent = 'The provider did not return a token' + (params.get('error') ? ' (' + params.get('error') + ')' : '') + '.'; return; }
  const res = await fetch(location.pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state, token: params.get('token') }) });
  const body = await res.json();
  history.replaceState(null, '', location.pathname);
  if (res.ok && body.returnTo) { location.replace(body.returnTo); return; }
  m.textContent = res.ok ? 'Connected ' + body.label + '. You can close this window.' : 'Connecting failed: ' + body.error.message;
})();
</script>`;

/**
 * POST /oauth/:connectorId/start (connection, returnTo; with the session's CSRF token) sends the admin
 * to the provider — a link alone cannot start it; GET
 * /oauth/:connectorId/callback takes the answer: the state must be one this hub issued, unused and
 * recent; the code is exchanged with the PKCE verifier; the tokens are sealed; steps that waited for
 * this connection run again.
 */
export function oauthRouter(rt: Runtime): Router {
  const router = express.Router();

  router.get('/oauth/:connectorId/start', (_req: Request, res: Response) => {
    res.setHeader('allow', 'POST');
    res.status(405).json({
      error: {
        code: 'method_not_allowed',
        message: "start connecting with POST (and the session's X-CSRF-Token), or POST /api/v1/connections/:id/authorize",
      },
    });
  });
  router.post(
    '/oauth/:connectorId/start',
    requireRole(rt, 'admin'),
    express.json({ limit: '8kb' }),
    express.urlencoded({ extended: false, limit: '8kb' }),
    async (req: Request, res: Response) => {
      const input = validate(
        z.object({ connection: z.string().min(1).max(100), returnTo: z.string().max(2000).optional() }).strict(),
        req.body ?? {},
      );
      const row = await rt.connections.store.require(input.connection);
      if (row.connector_id !== req.params.connectorId)
        throw new HttpError(400, 'connector_mismatch', `connection ${row.id} belongs to ${row.connector_id}`);
      const authorizeUrl = await beginAuthorization(rt, req, row, safeReturnTo(rt, req, input.returnTo));
      await auditRequest(rt, req, 'connection.connect_started', row.id);
      res.redirect(303, authorizeUrl);
    },
  );

  router.get('/oauth/:connectorId/token', (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(TOKEN_RETURN_PAGE);
  });

  router.post('/oauth/:connectorId/token', express.json({ limit: '8kb' }), async (req: Request, res: Response) => {
    const input = validate(z.object({ state: z.string().min(1).max(200), token: z.string().min(8).max(512) }).strict(), req.body);
    const pending = await rt.db.selectFrom('oauth_states').select(['session_hash']).where('state', '=', input.state).executeTakeFirst();
    if (pending) checkSameSession(req, pending);
    const used = await rt.db
      .updateTable('oauth_states')
      .set({ used_at: new Date() })
      .where('state', '=', input.state)
      .where('used_at', 'is', null)
      .where('connector_id', '=', String(req.params.connectorId))
      .where('created_at', '>', new Date(Date.now() - STATE_TTL_MS))
      .returningAll()
      .executeTakeFirst();
    if (!used)
      throw new HttpError(400, 'invalid_state', 'this sign-in answer was not started by this hub, was already used, or has expired');
    const row = await rt.connections.store.update(used.connection_id, { secrets: { token: input.token } });
    await rt.connections.store.setStatus(row.id, 'active');
    rt.log.info({ connectionId: row.id }, 'token connect finished');
    await rt.connections.resumeWaitingSteps(row.id);
    res.json({
      ok: true,
      connection: row.id,
      label: row.label,
      returnTo: used.return_to
        ? `${used.return_to}${used.return_to.includes('?') ? '&' : '?'}connected=${encodeURIComponent(row.id)}`
        : null,
    });
  });

  router.get('/oauth/:connectorId/callback', async (req: Request, res: Response) => {
    const query = validate(
      z
        .object({
          state: z.string().min(1).max(200),
          code: z.string().max(2000).optional(),
          error: z.string().max(100).optional(),
          error_description: z.string().max(300).optional(),
        })
        .passthrough(),
      req.query,
      'query',
    );
    const pending = await rt.db.selectFrom('oauth_states').selectAll().where('state', '=', query.state).executeTakeFirst();
    if (!pending || pending.connector_id !== req.params.connectorId) {
      throw new HttpError(400, 'invalid_state', 'this sign-in answer was not started by this hub (unknown state)');
    }
    // Every path (the provider's error answer included) needs an unused, recent state from this session.
    if (pending.used_at || new Date(pending.created_at).getTime() <= Date.now() - STATE_TTL_MS) {
      throw new HttpError(400, 'invalid_state', 'this sign-in link was already used or has expired; start again');
    }
    checkSameSession(req, pending);
    const row = await rt.connections.store.require(pending.connection_id);

    if (query.error) {
      const took = await rt.db
        .updateTable('oauth_states')
        .set({ used_at: new Date() })
        .where('state', '=', query.state)
        .where('used_at', 'is', null)
        .where('created_at', '>', new Date(Date.now() - STATE_TTL_MS))
        .returning('state')
        .executeTakeFirst();
      if (!took) throw new HttpError(400, 'invalid_state', 'this sign-in link was already used or has expired; start again');
      const reason =
        query.error === 'access_denied' ? 'the account owner declined access at the provider' : `the provider answered ${query.error}`;
      const connectedBefore = Boolean(rt.connections.store.openSecrets(row).accessToken);
      await rt.connections.store.setStatus(
        row.id,
        connectedBefore ? row.status : 'error',
        `authorization failed: ${reason}${query.error_description ? ` (${query.error_description})` : ''}`,
      );
      rt.log.warn({ connectionId: row.id, error: query.error }, 'OAuth connect refused at the provider');
      throw new HttpError(
        400,
        query.error === 'access_denied' ? 'access_denied' : 'authorization_failed',
        `Connecting ${row.label} failed: ${reason}.`,
      );
    }

    const auth = oauthAuth(rt, row);
    const view = await rt.connections.store.fullView(row);
    const strategy = createStrategy(auth, view, `${publicUrl(rt, req)}/oauth/${row.connector_id}/callback`, stateStore(rt, row));
    const outcome = await runStrategy(strategy, req);
    if (outcome.kind === 'fail') throw new HttpError(400, 'invalid_state', outcome.message);
    if (outcome.kind === 'error') {
      const data = outcome.error.oauthError?.data;
      let providerError: string | undefined;
      try {
        providerError = JSON.parse(String(data ?? '')).error;
      } catch {
        /* not JSON */
      }
      await rt.connections.store.setStatus(row.id, 'error', `code exchange failed${providerError ? `: ${providerError}` : ''}`);
      throw new HttpError(
        502,
        'code_exchange_failed',
        `the provider refused the authorization code${providerError ? ` (${providerError})` : ''}`,
      );
    }
    if (outcome.kind !== 'success') throw new HttpError(500, 'oauth_failed', 'unexpected OAuth outcome');

    const { accessToken, refreshToken, params } = outcome.user;
    const expiresIn = Number(params.expires_in);
    const callbackSettings = Object.fromEntries(
      (auth.callbackParams ?? []).filter((p) => typeof req.query[p] === 'string').map((p) => [p, req.query[p]]),
    );
    const extra = auth.afterAuthorize
      ? await auth.afterAuthorize({ accessToken, refreshToken }, { ...view, settings: { ...view.settings, ...callbackSettings } })
      : {};
    // The connection's own secrets only: an app's client secret stays with the app.
    const secrets = { ...rt.connections.store.openSecrets(row), accessToken, ...(refreshToken ? { refreshToken } : {}) };
    const scopes = typeof params.scope === 'string' ? params.scope.split(/[ ,]+/).filter(Boolean) : auth.scopes;
    await rt.db
      .updateTable('connections')
      .set({
        secrets: rt.vault.sealJson(secrets, connectionAad(row.id)),
        settings: JSON.stringify({ ...(row.settings ?? {}), ...callbackSettings, ...extra }),
        scopes: JSON.stringify(scopes),
        expires_at: Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null,
        last_refresh_at: new Date(),
        status: 'active',
        last_error: null,
        updated_at: new Date(),
        version: sql`version + 1`,
      })
      .where('id', '=', row.id)
      .execute();
    rt.log.info({ connectionId: row.id }, 'OAuth connect finished');
    await audit(rt, {
      action: 'connection.connected',
      target: row.id,
      ip: req.ip ?? null,
      actor: { kind: 'oauth_callback', label: row.connector_id },
    });
    const resumed = await rt.connections.resumeWaitingSteps(row.id);

    if (pending.return_to)
      return res.redirect(302, `${pending.return_to}${pending.return_to.includes('?') ? '&' : '?'}connected=${encodeURIComponent(row.id)}`);
    res
      .status(200)
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Connected</title><p>Connected <strong>${escapeHtml(row.label)}</strong>.${resumed ? ` ${resumed} waiting step(s) resumed.` : ''} You can close this window.</p>`,
      );
  });

  return router;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
