import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { RunningFakeInternals } from '../framework/index.ts';
import {
  type QboState,
  type QboApp,
  type Environment,
  type EntityType,
  newCompany,
  clockNow,
  qboTime,
  entityType,
  rand,
  appForClient,
  connectedApps,
  DEFAULT_SETTINGS,
} from './state.ts';
import { createEntity, type OnChange } from './entities.ts';
import { QboFault } from './faults.ts';
import { flushAll } from './webhooks.ts';

type Fake = RunningFakeInternals<QboState>;
export const P = '/__sandbox/quickbooks';

const keys = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) });
export const appInput = z.object({
  id: z.string().min(1).optional(),
  name: z.string().optional(),
  sandbox: keys.optional(),
  production: keys.optional(),
  verifierToken: z.string().min(1).optional(),
  webhookUrl: z.string().url().nullable().optional(),
  webhookFormat: z.enum(['legacy', 'cloudevents']).optional(),
  webhookEntities: z.array(z.string()).optional(),
  batchIntervalMs: z.number().int().min(0).optional(),
  redirectUris: z.array(z.string()).optional(),
});
const companyInput = z.object({
  realmId: z.string().regex(/^\d+$/).optional(),
  environment: z.enum(['sandbox', 'production']).default('sandbox'),
  name: z.string().optional(),
  homeCurrency: z.string().length(3).default('HKD'),
  multiCurrency: z.boolean().optional(),
  country: z.string().optional(),
});
const settingsInput = z
  .object({
    minorVersionPolicy: z.enum(['refuse', 'ignore']),
    requestsPerMinute: z.number().int().min(1),
    maxConcurrent: z.number().int().min(1),
    latencyMs: z.number().int().min(0),
    rotateAfterSec: z.number().min(0),
    refreshTokenTtlSec: z.number().int().min(1),
    hardExpirySec: z.number().int().min(1),
    deliveryTimeoutMs: z.number().int().min(1),
    retryDelaysMs: z.array(z.number().int().min(0)),
    cdcMaxDays: z.number().int().min(1),
    cdcMaxObjects: z.number().int().min(1),
    failureRate: z.number().min(0).max(1),
    failureStatus: z.number().int().min(500).max(599),
    failAfterWorkRate: z.number().min(0).max(1),
  })
  .partial();

export const LOOPBACK_REDIRECTS = ['http://127.0.0.1/*', 'http://localhost/*', 'https://127.0.0.1/*', 'https://localhost/*'];

/** Registers an app: its two key pairs become OAuth clients (Basic auth only). */
export function addApp(st: QboState, input: z.infer<typeof appInput>): QboApp {
  const id = input.id ?? rand('app-', 4);
  const app: QboApp = {
    id,
    name: input.name ?? id,
    keys: {
      sandbox: input.sandbox ?? { clientId: rand('AB', 12), clientSecret: rand('', 20) },
      production: input.production ?? { clientId: rand('AB', 12), clientSecret: rand('', 20) },
    },
    verifierToken: input.verifierToken ?? rand('', 18),
    webhookUrl: input.webhookUrl ?? null,
    webhookFormat: input.webhookFormat ?? 'cloudevents',
    webhookEntities: input.webhookEntities ?? [],
    batchIntervalMs: input.batchIntervalMs ?? 60_000,
    dropUntil: 0,
  };
  const old = st.apps.get(id);
  if (old) for (const env of ['sandbox', 'production'] as const) st.oauth.clients.delete(old.keys[env].clientId);
  st.apps.set(id, app);
  for (const env of ['sandbox', 'production'] as const) {
    st.oauth.clients.set(app.keys[env].clientId, {
      clientId: app.keys[env].clientId,
      clientSecret: app.keys[env].clientSecret,
      name: `${app.name} (${env})`,
      redirectUris: input.redirectUris ?? LOOPBACK_REDIRECTS,
      authMethods: ['client_secret_basic'],
    });
  }
  return app;
}

export function appJson(a: QboApp) {
  return {
    id: a.id,
    name: a.name,
    sandbox: a.keys.sandbox,
    production: a.keys.production,
    verifierToken: a.verifierToken,
    webhookUrl: a.webhookUrl,
    webhookFormat: a.webhookFormat,
    webhookEntities: a.webhookEntities,
    batchIntervalMs: a.batchIntervalMs,
    dropWebhooksUntil: a.dropUntil > Date.now() ? new Date(a.dropUntil).toISOString() : null,
  };
}

export function setupControl(
  app: Express,
  fake: Fake,
  onChange: OnChange,
  connect: (a: QboApp, realmId: string) => Record<string, unknown>,
): void {
  const st = () => fake.state;
  const bad = (res: Response, message: string, status = 400) =>
    res.status(status).json({ error: { code: status === 404 ? 'not_found' : 'bad_request', message } });
  const parse = <T>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined => {
    const r = schema.safeParse(req.body ?? {});
    if (!r.success) {
      bad(res, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return undefined;
    }
    return r.data;
  };
  const company = (req: Request, res: Response) => {
    const c = st().companies.get(String(req.params.realmId));
    if (!c) bad(res, `no company ${req.params.realmId}`, 404);
    return c;
  };
  const companyJson = (realmId: string) => {
    const c = st().companies.get(realmId)!;
    return {
      realmId: c.realmId,
      environment: c.environment,
      name: c.name,
      homeCurrency: c.homeCurrency,
      multiCurrency: c.multiCurrency,
      country: c.country,
      connectedApps: connectedApps(st(), c.realmId).map((a) => a.id),
      counts: Object.fromEntries([...c.entities].map(([t, m]) => [t, m.size])),
      changes: c.changes.length,
    };
  };

  app.get(`${P}/state`, (_req, res) => {
    const s = st();
    res.json({
      now: new Date(clockNow(s)).toISOString(),
      clockOffsetMs: s.clockOffsetMs,
      settings: s.settings,
      apps: [...s.apps.values()].map(appJson),
      companies: [...s.companies.keys()].map(companyJson),
      authorizeRealm: s.authorizeRealm,
      throttled: s.throttled,
    });
  });

  // ---- settings and clock ----
  app.get(`${P}/settings`, (_req, res) => {
    res.json(st().settings);
  });
  app.put(`${P}/settings`, (req, res) => {
    const p = parse(settingsInput, req, res);
    if (!p) return;
    Object.assign(st().settings, p);
    res.json(st().settings);
  });
  app.post(`${P}/settings/reset`, (_req, res) => {
    st().settings = { ...DEFAULT_SETTINGS };
    res.json(st().settings);
  });
  app.get(`${P}/clock`, (_req, res) => {
    res.json({ now: new Date(clockNow(st())).toISOString(), offsetMs: st().clockOffsetMs });
  });
  app.post(`${P}/clock/advance`, (req, res) => {
    const p = parse(
      z.object({
        ms: z.number().min(0).optional(),
        seconds: z.number().min(0).optional(),
        hours: z.number().min(0).optional(),
        days: z.number().min(0).optional(),
      }),
      req,
      res,
    );
    if (!p) return;
    st().clockOffsetMs += (p.ms ?? 0) + (p.seconds ?? 0) * 1000 + (p.hours ?? 0) * 3_600_000 + (p.days ?? 0) * 86_400_000;
    res.json({ now: new Date(clockNow(st())).toISOString(), offsetMs: st().clockOffsetMs });
  });

  // ---- apps ----
  app.get(`${P}/apps`, (_req, res) => {
    res.json({ apps: [...st().apps.values()].map(appJson) });
  });
  app.post(`${P}/apps`, (req, res) => {
    const p = parse(appInput, req, res);
    if (!p) return;
    res.status(201).json(appJson(addApp(st(), p)));
  });
  app.patch(`${P}/apps/:id`, (req, res) => {
    const a = st().apps.get(String(req.params.id));
    if (!a) return bad(res, `no app ${req.params.id}`, 404);
    const p = parse(
      appInput.pick({
        webhookUrl: true,
        webhookFormat: true,
        webhookEntities: true,
        batchIntervalMs: true,
        verifierToken: true,
        name: true,
      }),
      req,
      res,
    );
    if (!p) return;
    if (p.webhookUrl !== undefined) a.webhookUrl = p.webhookUrl;
    if (p.webhookFormat) a.webhookFormat = p.webhookFormat;
    if (p.webhookEntities) a.webhookEntities = p.webhookEntities;
    if (p.batchIntervalMs !== undefined) a.batchIntervalMs = p.batchIntervalMs;
    if (p.verifierToken) a.verifierToken = p.verifierToken;
    if (p.name) a.name = p.name;
    res.json(appJson(a));
  });
  app.post(`${P}/apps/:id/drop-webhooks`, (req, res) => {
    const a = st().apps.get(String(req.params.id));
    if (!a) return bad(res, `no app ${req.params.id}`, 404);
    const p = parse(z.object({ forMs: z.number().int().min(0) }), req, res);
    if (!p) return;
    a.dropUntil = Date.now() + p.forMs;
    res.json(appJson(a));
  });
  /** Connects an app to a company without the consent page (an account declared in configuration). */
  app.post(`${P}/apps/:id/connect`, (req, res) => {
    const a = st().apps.get(String(req.params.id));
    if (!a) return bad(res, `no app ${req.params.id}`, 404);
    const p = parse(z.object({ realmId: z.string() }), req, res);
    if (!p) return;
    if (!st().companies.has(p.realmId)) return bad(res, `no company ${p.realmId}`, 404);
    res.status(201).json(connect(a, p.realmId));
  });
  app.put(`${P}/authorize-company`, (req, res) => {
    const p = parse(z.object({ environment: z.enum(['sandbox', 'production']), realmId: z.string() }), req, res);
    if (!p) return;
    const c = st().companies.get(p.realmId);
    if (!c || c.environment !== p.environment) return bad(res, `no ${p.environment} company ${p.realmId}`, 404);
    st().authorizeRealm[p.environment as Environment] = p.realmId;
    res.json(st().authorizeRealm);
  });

  // ---- companies ----
  app.get(`${P}/companies`, (_req, res) => {
    res.json({ companies: [...st().companies.keys()].map(companyJson) });
  });
  app.post(`${P}/companies`, (req, res) => {
    const p = parse(companyInput, req, res);
    if (!p) return;
    const s = st();
    const realmId = p.realmId ?? String(9_341_453_050_000_000 + s.companies.size + 1 + Math.floor(Math.random() * 1000) * 100);
    if (s.companies.has(realmId)) return bad(res, `company ${realmId} exists`, 409);
    s.companies.set(realmId, newCompany({ ...p, realmId }, clockNow(s)));
    res.status(201).json(companyJson(realmId));
  });
  app.get(`${P}/companies/:realmId`, (req, res) => {
    if (!company(req, res)) return;
    res.json(companyJson(String(req.params.realmId)));
  });
  app.patch(`${P}/companies/:realmId`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    const p = parse(z.object({ name: z.string().optional(), multiCurrency: z.boolean().optional() }), req, res);
    if (!p) return;
    if (p.name) c.name = p.name;
    if (p.multiCurrency !== undefined) c.multiCurrency = p.multiCurrency;
    res.json(companyJson(c.realmId));
  });
  /** Creates an entity as a QuickBooks user would (change record, webhooks); body {type, ...fields}. */
  app.post(`${P}/companies/:realmId/entities`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    const p = parse(z.looseObject({ type: z.string() }), req, res);
    if (!p) return;
    const t = entityType(p.type);
    if (!t) return bad(res, `unknown entity type ${p.type}`);
    const { type: _t, ...fields } = p;
    try {
      res.status(201).json({ [t]: createEntity(c, t as EntityType, fields, clockNow(st()), onChange) });
    } catch (err) {
      if (err instanceof QboFault) return bad(res, `${err.code} ${err.message}: ${err.detail ?? ''}`);
      throw err;
    }
  });
  /** Many entities at once (CDC volume tests): body {type, items: [{...fields}]}. */
  app.post(`${P}/companies/:realmId/entities/bulk`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    const p = parse(z.object({ type: z.string(), items: z.array(z.record(z.string(), z.unknown())).max(5000) }), req, res);
    if (!p) return;
    const t = entityType(p.type);
    if (!t) return bad(res, `unknown entity type ${p.type}`);
    try {
      const ids = p.items.map((fields) => createEntity(c, t, fields, clockNow(st()), onChange).Id);
      res.status(201).json({ ids });
    } catch (err) {
      if (err instanceof QboFault) return bad(res, `${err.code} ${err.message}: ${err.detail ?? ''}`);
      throw err;
    }
  });
  app.get(`${P}/companies/:realmId/entities/:type`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    const t = entityType(String(req.params.type));
    if (!t) return bad(res, `unknown entity type ${req.params.type}`);
    res.json({ [t]: [...c.entities.get(t)!.values()] });
  });
  app.get(`${P}/companies/:realmId/changes`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    res.json({ changes: c.changes.map((ch) => ({ ...ch, at: qboTime(ch.at) })) });
  });
  app.get(`${P}/companies/:realmId/requestids`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    res.json({ requests: c.requestIdStats.requests, distinct: c.requestIds.size, replayed: c.requestIdStats.replayed });
  });
  app.get(`${P}/companies/:realmId/attachables`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    res.json({
      attachables: [...c.entities.get('Attachable')!.values()].map((a) => {
        const f = c.files.get(a.Id);
        return {
          Id: a.Id,
          FileName: a.FileName,
          ContentType: a.ContentType,
          AttachableRef: a.AttachableRef ?? [],
          size: f?.bytes.length ?? null,
          sha256: f?.sha256 ?? null,
        };
      }),
    });
  });
  app.get(`${P}/companies/:realmId/attachables/:id/content`, (req, res) => {
    const c = company(req, res);
    if (!c) return;
    const f = c.files.get(String(req.params.id));
    if (!f) return bad(res, `no file for attachable ${req.params.id}`, 404);
    res.status(200).type(f.contentType).send(f.bytes);
  });

  // ---- throttling and concurrency ----
  app.get(`${P}/concurrency`, (_req, res) => {
    const s = st();
    res.json({
      maxConcurrent: Object.fromEntries(s.maxInflight),
      inflight: Object.fromEntries(s.inflight),
      throttled: s.throttled,
      injectedFailures: s.injectedFailures,
      requestsLastMinute: Object.fromEntries(
        [...s.companies.values()].map((c) => [c.realmId, c.window.filter((t) => t > clockNow(s) - 60_000).length]),
      ),
    });
  });
  app.post(`${P}/concurrency/reset`, (_req, res) => {
    const s = st();
    s.maxInflight.clear();
    s.throttled = 0;
    s.injectedFailures = { before: 0, after: 0 };
    for (const c of s.companies.values()) c.window = [];
    res.json({ ok: true });
  });

  // ---- webhooks ----
  app.get(`${P}/webhooks/deliveries`, (req, res) => {
    const appId = typeof req.query.app === 'string' ? req.query.app : undefined;
    res.json({
      deliveries: st().deliveries.filter((d) => !appId || d.appId === appId),
      pending: Object.fromEntries([...st().pending].map(([k, v]) => [k, v.length])),
    });
  });
  app.post(`${P}/webhooks/flush`, (_req, res) => {
    flushAll(st());
    res.json({ ok: true });
  });

  // Which app a client id belongs to (for debugging connections).
  app.get(`${P}/clients/:clientId`, (req, res) => {
    const who = appForClient(st(), String(req.params.clientId));
    if (!who) return bad(res, 'unknown client id', 404);
    res.json({ app: who.app.id, environment: who.environment });
  });
}
