import crypto from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { QboFault, faults, faultBody } from './faults.ts';
import {
  type QboState,
  type Company,
  type Environment,
  type EntityType,
  type Entity,
  entityType,
  appForClient,
  clockNow,
  qboTime,
  qboDate,
  exchangeRate,
  ENTITY_TYPES,
} from './state.ts';
import { createEntity, updateEntity, deleteEntity, voidEntity, respondEntity, type OnChange } from './entities.ts';
import { parseQuery, runQuery } from './query.ts';
import { parseMultipart } from './multipart.ts';

type Fake = RunningFakeInternals<QboState>;
type Answer = { status: number; body: unknown; headers?: Record<string, string>; raw?: { type: string; data: Buffer | string } };
interface Ctx {
  company: Company;
  appId: string;
  environment: Environment;
  req: Request;
}

/** Where the accounting API is mounted: '' serves any company; the two named hosts check the cluster like Intuit's. */
export const API_MOUNTS: { prefix: string; host: Environment | 'any' }[] = [
  { prefix: '', host: 'any' },
  { prefix: '/sandbox-quickbooks', host: 'sandbox' },
  { prefix: '/quickbooks', host: 'production' },
];

const systemFault = (status: number) =>
  new QboFault(
    status,
    'SystemFault',
    '10000',
    'An application error has occurred while processing your request',
    'System Failure Error: an unexpected error occurred (sandbox failureRate)',
  );
const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });
const DAY = 86_400_000;

export function sendFault(st: QboState, res: Response, f: QboFault): void {
  for (const [k, v] of Object.entries(f.headers)) res.setHeader(k, v);
  res
    .status(f.status)
    .json(faultBody({ type: f.type, code: f.code, message: f.message, detail: f.detail, element: f.element }, qboTime(clockNow(st))));
}

export function setupApi(app: Express, fake: Fake, onChange: OnChange): void {
  const st = () => fake.state;
  const now = () => clockNow(st());

  function authenticate(req: Request, host: Environment | 'any'): Ctx {
    const s = st();
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const rec = m ? s.oauth.accessTokens.get(m[1]!) : undefined;
    const injected = fake.faults.takeAuthFault(req);
    if (!rec || injected || rec.revoked || rec.expiresAt <= now()) throw faults.authentication();
    const who = appForClient(s, rec.clientId);
    if (!who) throw faults.authentication();
    const realmId = String(req.params.realmId);
    if (rec.sub !== realmId) throw faults.authorization();
    const company = s.companies.get(realmId);
    if (!company) throw faults.authorization();
    // The keys decide the environment: development keys reach sandbox companies only.
    if (company.environment !== who.environment) throw faults.authorization();
    if (host === 'production' && company.environment === 'sandbox') throw faults.authorization();
    if (host === 'sandbox' && company.environment === 'production') throw faults.wrongCluster();
    return { company, appId: who.app.id, environment: who.environment, req };
  }

  function minorVersion(req: Request): void {
    if (st().settings.minorVersionPolicy === 'ignore') return;
    const v = req.query.minorversion;
    const n = typeof v === 'string' ? Number(v) : NaN;
    if (!(n >= 75)) throw faults.minorVersion(typeof v === 'string' ? v : undefined);
  }

  function throttleWindow(c: Company): void {
    const t = now();
    c.window = c.window.filter((x) => x > t - 60_000);
    if (c.window.length >= st().settings.requestsPerMinute) throw faults.throttled();
    c.window.push(t);
  }

  /** Wraps a provider route: auth, minorversion, throttles, concurrency slot, requestid replay, Fault bodies. */
  const handle = (host: Environment | 'any', fn: (ctx: Ctx) => Answer | Promise<Answer>) => async (req: Request, res: Response) => {
    const s = st();
    let slot: string | undefined;
    // Intuit's transaction id on every answer (support asks for it).
    res.setHeader('intuit_tid', `1-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(12).toString('hex')}`);
    try {
      const ctx = authenticate(req, host);
      minorVersion(req);
      const key = `${ctx.appId}:${ctx.company.realmId}`;
      const inflight = s.inflight.get(key) ?? 0;
      if (inflight >= s.settings.maxConcurrent) throw faults.throttled();
      throttleWindow(ctx.company);
      slot = key;
      s.inflight.set(key, inflight + 1);
      s.maxInflight.set(key, Math.max(s.maxInflight.get(key) ?? 0, inflight + 1));
      if (s.settings.latencyMs > 0) await sleep(s.settings.latencyMs);
      const failure =
        Math.random() < s.settings.failureRate ? (Math.random() < s.settings.failAfterWorkRate ? 'after' : 'before') : undefined;
      if (failure === 'before') {
        s.injectedFailures.before += 1;
        throw systemFault(s.settings.failureStatus);
      }
      const requestId = req.method === 'POST' && typeof req.query.requestid === 'string' ? req.query.requestid : undefined;
      const run = async (): Promise<Answer> => {
        try {
          return await fn(ctx);
        } catch (err) {
          if (err instanceof QboFault)
            return {
              status: err.status,
              body: faultBody(
                { type: err.type, code: err.code, message: err.message, detail: err.detail, element: err.element },
                qboTime(now()),
              ),
            };
          throw err;
        }
      };
      let answer: Answer;
      if (requestId) {
        const c = ctx.company;
        c.requestIdStats.requests += 1;
        const seen = c.requestIds.get(requestId);
        if (seen) {
          c.requestIdStats.replayed += 1;
          answer = await seen;
        } else {
          const p = run();
          c.requestIds.set(requestId, p);
          try {
            answer = await p;
          } catch (err) {
            c.requestIds.delete(requestId); // a crash is not an answer to replay
            throw err;
          }
          c.requestIds.set(requestId, { status: answer.status, body: answer.body });
        }
      } else {
        answer = await run();
      }
      if (failure === 'after') {
        s.injectedFailures.after += 1;
        throw systemFault(s.settings.failureStatus);
      }
      for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
      if (answer.raw) res.status(answer.status).type(answer.raw.type).send(answer.raw.data);
      else res.status(answer.status).json(answer.body);
    } catch (err) {
      if (err instanceof QboFault) {
        if (err.status === 429) s.throttled += 1;
        return sendFault(s, res, err);
      }
      res.status(500).json(
        faultBody(
          {
            type: 'SystemFault',
            code: '10000',
            message: 'An application error has occurred while processing your request',
            detail: `System Failure Error: ${(err as Error).message}`,
          },
          qboTime(now()),
        ),
      );
    } finally {
      if (slot) s.inflight.set(slot, (s.inflight.get(slot) ?? 1) - 1);
    }
  };

  const ok = (body: Record<string, unknown>): Answer => ({ status: 200, body: { ...body, time: qboTime(now()) } });
  const bodyOf = (req: Request): Record<string, unknown> => {
    if (req.body && typeof req.body === 'object' && !Array.isArray(req.body)) return req.body as Record<string, unknown>;
    throw new QboFault(400, 'ValidationFault', '2010', 'Request has invalid or unsupported property', 'Request body must be a JSON object');
  };

  for (const { prefix, host } of API_MOUNTS) {
    const r = express.Router({ mergeParams: true });
    app.use(`${prefix}/v3/company/:realmId`, r);

    const query = handle(host, ({ company, req }) => {
      const text = req.method === 'GET' ? req.query.query : (req as Request & { rawBody: Buffer }).rawBody.toString('utf8');
      if (typeof text !== 'string' || !text.trim()) throw faults.required('query');
      const q = parseQuery(text);
      const rows = [...company.entities.get(q.entity)!.values()];
      const { rows: page, total } = runQuery(q, rows);
      if (q.count) return ok({ QueryResponse: { totalCount: total } });
      if (!page.length) return ok({ QueryResponse: {} });
      return ok({
        QueryResponse: { [q.entity]: page.map((e) => respondEntity(e as Entity)), startPosition: q.startPosition, maxResults: page.length },
      });
    });
    r.get('/query', query);
    r.post('/query', query);

    r.get(
      '/cdc',
      handle(host, ({ company, req }) => {
        const names = String(req.query.entities ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        if (!names.length) throw faults.required('entities');
        const types = names.map(
          (n) =>
            entityType(n) ??
            (() => {
              throw faults.invalidValue('entities', `entities ${n} is not supported`);
            })(),
        );
        const sinceRaw = req.query.changedSince;
        if (typeof sinceRaw !== 'string' || !sinceRaw) throw faults.required('changedSince');
        const since = Date.parse(sinceRaw);
        if (Number.isNaN(since)) throw faults.invalidValue('changedSince', `changedSince ${sinceRaw} is not a date-time`);
        const maxDays = st().settings.cdcMaxDays;
        if (since < now() - maxDays * DAY)
          throw faults.invalidValue('changedSince', `changedSince ${sinceRaw} is more than ${maxDays} days in the past`);
        // Last change per object since `since`, oldest first, at most cdcMaxObjects in the answer.
        const last = new Map<string, { type: EntityType; id: string; at: number; deleted: boolean }>();
        for (const ch of company.changes) {
          if (ch.at <= since || !types.includes(ch.type)) continue;
          last.set(`${ch.type}:${ch.id}`, { type: ch.type, id: ch.id, at: ch.at, deleted: ch.operation === 'Delete' });
        }
        const picked = [...last.values()].sort((a, b) => a.at - b.at).slice(0, st().settings.cdcMaxObjects);
        const responses = types.map((t) => {
          const objs = picked
            .filter((p) => p.type === t)
            .map((p) => {
              const e = company.entities.get(t)!.get(p.id);
              if (!e || p.deleted) return { domain: 'QBO', status: 'Deleted', Id: p.id, MetaData: { LastUpdatedTime: qboTime(p.at) } };
              return respondEntity(e);
            });
          return objs.length ? { [t]: objs, startPosition: 1, maxResults: objs.length, totalCount: objs.length } : {};
        });
        return ok({ CDCResponse: [{ QueryResponse: responses }] });
      }),
    );

    r.post(
      '/upload',
      handle(host, ({ company, req }) => {
        const raw = (req as Request & { rawBody: Buffer }).rawBody;
        const parts = parseMultipart(raw, String(req.headers['content-type'] ?? ''));
        if (!parts)
          throw new QboFault(
            400,
            'ValidationFault',
            '2010',
            'Request has invalid or unsupported property',
            'Content-Type must be multipart/form-data with a boundary',
          );
        const responses: unknown[] = [];
        for (const content of parts.filter((p) => p.name.startsWith('file_content_'))) {
          const suffix = content.name.slice('file_content_'.length);
          const metaPart = parts.find((p) => p.name === `file_metadata_${suffix}`);
          try {
            let meta: Record<string, unknown> = {};
            if (metaPart) {
              try {
                meta = JSON.parse(metaPart.data.toString('utf8')) as Record<string, unknown>;
              } catch {
                throw faults.invalidValue(metaPart.name, `${metaPart.name} is not JSON`);
              }
            }
            const fileName = String(meta.FileName ?? content.filename ?? 'attachment');
            const contentType = String(meta.ContentType ?? content.contentType ?? 'application/octet-stream');
            const e = createEntity(
              company,
              'Attachable',
              { ...meta, FileName: fileName, ContentType: contentType, Size: content.data.length },
              now(),
              onChange,
            );
            const sha256 = crypto.createHash('sha256').update(content.data).digest('hex');
            company.files.set(e.Id, { bytes: content.data, sha256, contentType, fileName });
            e.FileAccessUri = `/v3/company/${company.realmId}/download/${e.Id}`;
            e.TempDownloadUri = `${fake.baseUrl()}/__files/quickbooks/${company.realmId}/${e.Id}?sig=${sha256.slice(0, 16)}`;
            responses.push({ Attachable: respondEntity(e) });
          } catch (err) {
            if (!(err instanceof QboFault)) throw err;
            responses.push({
              Fault: { Error: [{ Message: err.message, Detail: err.detail, code: err.code, element: err.element }], type: err.type },
            });
          }
        }
        if (!responses.length) throw faults.required('file_content_0');
        return ok({ AttachableResponse: responses });
      }),
    );

    r.get(
      '/download/:id',
      handle(host, ({ company, req }) => {
        const file = company.files.get(String(req.params.id));
        if (!file) throw faults.notFound('Attachable', String(req.params.id));
        return {
          status: 200,
          body: null,
          raw: {
            type: 'text/plain',
            data: `${fake.baseUrl()}/__files/quickbooks/${company.realmId}/${req.params.id}?sig=${file.sha256.slice(0, 16)}`,
          },
        };
      }),
    );

    r.get(
      '/companyinfo/:id',
      handle(host, ({ company, req }) => {
        if (String(req.params.id) !== company.realmId) throw faults.notFound('CompanyInfo', String(req.params.id));
        return ok({ CompanyInfo: companyInfo(company) });
      }),
    );
    r.post(
      '/companyinfo',
      handle(host, ({ company, req }) => {
        const b = bodyOf(req);
        if (String(b.SyncToken) !== String(company.companyInfoSyncToken)) throw faults.stale();
        if (typeof b.CompanyName === 'string' && b.CompanyName) company.name = b.CompanyName;
        company.companyInfoSyncToken += 1;
        return ok({ CompanyInfo: companyInfo(company) });
      }),
    );
    // ExchangeRate as Intuit serves it: home-currency units per foreign unit (the fake's fixed table).
    r.get(
      '/exchangerate',
      handle(host, ({ company, req }) => {
        const source = String(req.query.sourcecurrencycode ?? '').toUpperCase();
        if (!/^[A-Z]{3}$/.test(source)) throw faults.required('sourcecurrencycode');
        const asOf = typeof req.query.asofdate === 'string' && req.query.asofdate ? req.query.asofdate : qboDate(now());
        return ok({
          ExchangeRate: {
            SourceCurrencyCode: source,
            TargetCurrencyCode: company.homeCurrency,
            Rate: exchangeRate(source, company.homeCurrency),
            AsOfDate: asOf,
            SyncToken: '0',
          },
        });
      }),
    );
    r.get(
      '/preferences',
      handle(host, ({ company }) => ok({ Preferences: preferences(company) })),
    );
    r.post(
      '/preferences',
      handle(host, ({ company, req }) => {
        const b = bodyOf(req);
        if (String(b.SyncToken) !== String(company.preferencesSyncToken)) throw faults.stale();
        const cp = (b.CurrencyPrefs ?? {}) as Record<string, unknown>;
        if (cp.MultiCurrencyEnabled === false && company.multiCurrency)
          throw faults.business('Multicurrency cannot be turned off once it is on', 'MultiCurrencyEnabled');
        if (cp.MultiCurrencyEnabled === true) company.multiCurrency = true;
        const home = (cp.HomeCurrency as Record<string, unknown> | undefined)?.value;
        if (typeof home === 'string' && home !== company.homeCurrency)
          throw faults.business('The home currency cannot be changed', 'HomeCurrency');
        company.preferencesSyncToken += 1;
        return ok({ Preferences: preferences(company) });
      }),
    );

    r.get(
      '/:entity/:id',
      handle(host, ({ company, req }) => {
        const t = known(String(req.params.entity));
        const e = company.entities.get(t)!.get(String(req.params.id));
        if (!e) throw faults.notFound(t, String(req.params.id));
        return ok({ [t]: respondEntity(e) });
      }),
    );

    r.post(
      '/:entity',
      handle(host, ({ company, req }) => {
        const t = known(String(req.params.entity));
        const b = bodyOf(req);
        const op = String(req.query.operation ?? '').toLowerCase();
        const include = String(req.query.include ?? '').toLowerCase();
        if (op === 'delete') {
          const gone = deleteEntity(company, t, b, now(), onChange);
          if (t === 'Attachable') company.files.delete(String(gone.Id));
          return ok({ [t]: gone });
        }
        if (op === 'void' || (op === 'update' && include === 'void'))
          return ok({ [t]: respondEntity(voidEntity(company, t, b, now(), onChange)) });
        if (op === 'update' || (op === '' && b.Id !== undefined))
          return ok({ [t]: respondEntity(updateEntity(company, t, b, now(), onChange)) });
        if (op !== '') throw faults.unsupported(op);
        return ok({ [t]: respondEntity(createEntity(company, t, b, now(), onChange)) });
      }),
    );
  }

  // The presigned download link Attachable.TempDownloadUri points at (no bearer token, like Intuit's S3 links).
  app.get('/__files/quickbooks/:realmId/:id', (req, res) => {
    const file = st().companies.get(String(req.params.realmId))?.files.get(String(req.params.id));
    if (!file || req.query.sig !== file.sha256.slice(0, 16)) return res.status(403).type('text/plain').send('AccessDenied');
    res.setHeader('Content-Disposition', `attachment; filename="${file.fileName.replace(/"/g, '')}"`);
    res.status(200).type(file.contentType).send(file.bytes);
  });

  function known(name: string): EntityType {
    const t = entityType(name);
    if (!t)
      throw new QboFault(
        400,
        'ValidationFault',
        '4000',
        'Unsupported entity',
        `The sandbox fake serves ${ENTITY_TYPES.join(', ')}, CompanyInfo and Preferences, not ${name}`,
      );
    return t;
  }

  function companyInfo(c: Company) {
    const created = qboTime(c.createdAt);
    return {
      CompanyName: c.name,
      LegalName: c.name,
      Country: c.country,
      CompanyAddr: { Id: '1', City: 'Hong Kong', Country: c.country },
      Email: { Address: 'finance@example.com' },
      SupportedLanguages: 'en',
      DefaultTimeZone: 'Asia/Hong_Kong',
      FiscalYearStartMonth: 'April',
      CompanyStartDate: created.slice(0, 10),
      NameValue: [
        { Name: 'NeoEnabled', Value: 'true' },
        { Name: 'IsQbdtMigrated', Value: 'false' },
      ],
      domain: 'QBO',
      sparse: false,
      Id: '1',
      SyncToken: String(c.companyInfoSyncToken),
      MetaData: { CreateTime: created, LastUpdatedTime: created },
    };
  }
  function preferences(c: Company) {
    const created = qboTime(c.createdAt);
    return {
      AccountingInfoPrefs: { TrackDepartments: false, ClassTrackingPerTxn: false, CustomerTerminology: 'Customers' },
      SalesFormsPrefs: { AllowDiscount: true, AllowDeposit: true, DefaultTerms: { value: '3' } },
      VendorAndPurchasesPrefs: { BillableExpenseTracking: true, TrackingByCustomer: true },
      CurrencyPrefs: { MultiCurrencyEnabled: c.multiCurrency, HomeCurrency: { value: c.homeCurrency } },
      TaxPrefs: { UsingSalesTax: false },
      domain: 'QBO',
      sparse: false,
      Id: '1',
      SyncToken: String(c.preferencesSyncToken),
      MetaData: { CreateTime: created, LastUpdatedTime: created },
    };
  }
}
