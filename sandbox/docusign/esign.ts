import express, { type Express, type Request, type Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import type { OAuth2State, AccessTokenRecord } from '../oauth2/index.ts';
import type { DsState, DsAccount, Envelope, ConnectConfig } from './state.ts';
import { topOfNextHour } from './state.ts';
import { DsError, type EnvelopeOps } from './envelopes.ts';
import { configJson, SIM_EVENTS } from './connect.ts';

export type DocusignFakeState = OAuth2State & { ds: DsState };
type Fake = RunningFakeInternals<DocusignFakeState>;

export function dsErrorBody(errorCode: string, message: string) {
  return { errorCode, message };
}

interface Ctx {
  req: Request;
  res: Response;
  token: AccessTokenRecord;
  account: DsAccount;
  st: DsState;
}

/** Hourly window (top of the hour, or the control API's override) and the 30 s burst window; true when the call may proceed. */
function countCall(st: DsState, a: DsAccount, res: Response): DsError | undefined {
  const r = a.rate;
  const t = Date.now();
  if (t >= r.resetAt) {
    r.remaining = r.limit;
    r.resetAt = topOfNextHour(t);
    r.overrideResetAt = undefined;
  }
  if (t >= r.burstResetAt) {
    r.burstRemaining = r.burstLimit;
    r.burstResetAt = t + st.settings.burstWindowSec * 1000;
  }
  let err: DsError | undefined;
  if (r.remaining <= 0) {
    err = new DsError(
      429,
      'HOURLY_APIINVOCATION_LIMIT_EXCEEDED',
      `The maximum number of hourly API invocations has been exceeded. The hourly limit is ${r.limit}.`,
    );
  } else if (r.burstRemaining <= 0) {
    err = new DsError(
      429,
      'BURST_APIINVOCATION_LIMIT_EXCEEDED',
      `The maximum number of burst API invocations has been exceeded. The burst limit is ${r.burstLimit}.`,
    );
  } else {
    r.remaining -= 1;
    r.burstRemaining -= 1;
  }
  res.setHeader('X-RateLimit-Limit', String(r.limit));
  res.setHeader('X-RateLimit-Remaining', String(Math.max(0, r.remaining)));
  res.setHeader('X-RateLimit-Reset', String(Math.ceil(r.resetAt / 1000)));
  res.setHeader('X-BurstLimit-Limit', String(r.burstLimit));
  res.setHeader('X-BurstLimit-Remaining', String(Math.max(0, r.burstRemaining)));
  res.setHeader('X-BurstLimit-Reset', String(Math.ceil(r.burstResetAt / 1000)));
  return err;
}

function pollEnvelope(st: DsState, e: Envelope): void {
  const hour = Math.floor(Date.now() / 3_600_000);
  if (e.polls.hour !== hour) e.polls = { hour, count: 0 };
  e.polls.count += 1;
  if (e.polls.count > st.settings.envelopePollingLimitPerHour) {
    throw new DsError(
      400,
      'HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED',
      `The maximum number of hourly API invocations for this envelope has been exceeded. The hourly limit is ${st.settings.envelopePollingLimitPerHour}.`,
    );
  }
}

const list = (v: unknown): string[] =>
  v === undefined
    ? []
    : String(v)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** eSignature REST v2.1 under `/restapi` and `/{site}/restapi` (an account's base_uri may carry a site path). */
export function setupEsign(app: Express, fake: Fake, ops: EnvelopeOps): void {
  const ds = () => fake.state.ds;
  const router = express.Router({ mergeParams: true });

  const handle = (fn: (c: Ctx) => unknown) => (req: Request, res: Response) => {
    try {
      const st = ds();
      const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
      const rec = m ? fake.state.accessTokens.get(m[1]!) : undefined;
      const fault = fake.faults.takeAuthFault(req);
      if (!rec || rec.revoked || rec.expiresAt <= Date.now() || fault) {
        throw new DsError(401, 'USER_AUTHENTICATION_FAILED', 'One or both of Username and Password are invalid. Invalid access token');
      }
      const accountId = String(req.params.accountId);
      const account = st.accounts.get(accountId);
      const user = st.users.get(rec.sub);
      if (!account) throw new DsError(400, 'INVALID_ACCOUNT_ID', 'Invalid Account ID. The account ID is not valid.');
      if (!user?.accountIds.includes(accountId))
        throw new DsError(400, 'USER_LACKS_MEMBERSHIP', 'The UserID does not have a valid membership in this Account.');
      // An account lives on one site; calling it on another answers as DocuSign does for a stale base URI.
      if ((req.params.site ?? '') !== account.site)
        throw new DsError(
          401,
          'USER_AUTHENTICATION_FAILED',
          'One or both of Username and Password are invalid. The account is not on this site.',
        );
      const limited = countCall(st, account, res);
      if (limited) throw limited;
      const out = fn({ req, res, token: rec, account, st });
      if (out !== undefined && !res.headersSent) res.json(out);
    } catch (err) {
      if (err instanceof DsError) {
        if (!res.headersSent) res.status(err.status).json(dsErrorBody(err.errorCode, err.message));
        return;
      }
      throw err;
    }
  };
  const envelope = (c: Ctx, poll: boolean): Envelope => {
    const e = c.st.envelopes.get(String(c.req.params.envelopeId));
    if (!e || e.accountId !== c.account.accountId)
      throw new DsError(
        404,
        'ENVELOPE_DOES_NOT_EXIST',
        'The envelope specified either does not exist or you have no rights to the envelope.',
      );
    if (poll) pollEnvelope(c.st, e);
    return e;
  };
  const A = '/v2.1/accounts/:accountId';

  router.get(
    A,
    handle((c) => ({
      accountId: c.account.accountId,
      accountIdGuid: c.account.accountId,
      accountName: c.account.accountName,
      currentPlanId: 'sandbox',
      planName: 'DEVELOPER',
      createdDate: '2024-01-01T00:00:00.0000000Z',
      isDowngrade: 'false',
      suspensionStatus: '',
    })),
  );

  router.post(
    `${A}/envelopes`,
    handle((c) => {
      // Flaky creates: some fail before anything exists, some after the envelope was made (the answer is lost).
      const flaky = Math.random() < c.st.settings.createFailureRate;
      const afterCommit = flaky && Math.random() < c.st.settings.createFailureAfterCommitShare;
      if (flaky && !afterCommit)
        throw new DsError(503, 'UNSPECIFIED_ERROR', 'The service is temporarily unavailable (sandbox create failure).');
      const e = ops.create(c.account.accountId, c.token.sub, c.req.body);
      if (afterCommit)
        throw new DsError(503, 'UNSPECIFIED_ERROR', 'The service is temporarily unavailable (sandbox create failure after commit).');
      c.res.status(201);
      return { envelopeId: e.envelopeId, uri: `/envelopes/${e.envelopeId}`, statusDateTime: e.statusChangedDateTime, status: e.status };
    }),
  );

  router.get(
    `${A}/envelopes`,
    handle((c) => {
      const q = c.req.query as Record<string, string | undefined>;
      const ids = list(q.envelope_ids);
      const from = q.from_date ? Date.parse(q.from_date) : NaN;
      if (ids.length === 0 && Number.isNaN(from)) {
        throw new DsError(
          400,
          'INVALID_REQUEST_PARAMETER',
          "The request contained at least one invalid parameter. Query parameter 'from_date' must be set to a valid DateTime, or 'envelope_ids' or 'transaction_ids' must be specified.",
        );
      }
      const to = q.to_date ? Date.parse(q.to_date) : Number.POSITIVE_INFINITY;
      const statuses = list(q.status).map((s) => s.toLowerCase());
      const parse = (s: string) => Date.parse(s.replace(/(\.\d{3})\d+Z$/, '$1Z'));
      // custom_field=name=value: envelopes with that text custom field value.
      const cf = q.custom_field ? /^([^=]+)=(.*)$/.exec(q.custom_field) : null;
      if (q.custom_field && !cf)
        throw new DsError(
          400,
          'INVALID_REQUEST_PARAMETER',
          "The request contained at least one invalid parameter. 'custom_field' must be name=value.",
        );
      let found = [...c.st.envelopes.values()].filter(
        (e) =>
          e.accountId === c.account.accountId &&
          (ids.length === 0 || ids.includes(e.envelopeId)) &&
          (Number.isNaN(from) || parse(e.statusChangedDateTime) >= from) &&
          parse(e.statusChangedDateTime) <= to &&
          (statuses.length === 0 || statuses.includes('any') || statuses.includes(e.status)) &&
          (!cf || e.textCustomFields.some((f) => f.name === cf[1] && f.value === cf[2])),
      );
      found.sort((a, b) => a.statusChangedDateTime.localeCompare(b.statusChangedDateTime));
      if (q.order === 'desc') found.reverse();
      const total = found.length;
      const start = Number(q.start_position ?? 0);
      const count = Math.min(Number(q.count ?? 1000), 1000);
      found = found.slice(start, start + count);
      const include = list(q.include);
      return {
        resultSetSize: String(found.length),
        startPosition: String(start),
        endPosition: String(Math.max(start, start + found.length - 1)),
        totalSetSize: String(total),
        nextUri:
          start + found.length < total
            ? `/envelopes?start_position=${start + found.length}&count=${count}&from_date=${encodeURIComponent(q.from_date ?? '')}`
            : '',
        previousUri: '',
        envelopes: found.map((e) => ops.json(e, include)),
      };
    }),
  );

  router.get(
    `${A}/envelopes/:envelopeId`,
    handle((c) => ops.json(envelope(c, true), list(c.req.query.include))),
  );

  router.put(
    `${A}/envelopes/:envelopeId`,
    handle((c) => {
      const e = envelope(c, true);
      const b = (c.req.body && typeof c.req.body === 'object' ? c.req.body : {}) as Record<string, unknown>;
      if (c.req.query.resend_envelope === 'true') ops.resend(e);
      if (b.status === 'voided') ops.void(e, String(b.voidedReason ?? ''));
      else if (b.status === 'sent') ops.send(e);
      else if (b.status !== undefined)
        throw new DsError(400, 'INVALID_ENVELOPE_STATUS', `Invalid envelope status. '${String(b.status)}' cannot be set.`);
      if (typeof b.emailSubject === 'string' && e.status === 'created') e.emailSubject = b.emailSubject;
      return { envelopeId: e.envelopeId };
    }),
  );

  router.get(
    `${A}/envelopes/:envelopeId/recipients`,
    handle((c) => ops.recipientsJson(envelope(c, true))),
  );
  router.put(
    `${A}/envelopes/:envelopeId/recipients`,
    handle((c) => {
      const e = envelope(c, true);
      if (c.req.query.resend_envelope === 'true') ops.resend(e);
      return {
        recipientUpdateResults: e.recipients.map((r) => ({
          recipientId: r.recipientId,
          recipientIdGuid: r.recipientIdGuid,
          errorDetails: null,
        })),
      };
    }),
  );
  router.get(
    `${A}/envelopes/:envelopeId/custom_fields`,
    handle((c) => ({ textCustomFields: envelope(c, true).textCustomFields, listCustomFields: [] })),
  );

  router.get(
    `${A}/envelopes/:envelopeId/documents`,
    handle((c) => {
      const e = envelope(c, true);
      const base = `/envelopes/${e.envelopeId}/documents`;
      return {
        envelopeId: e.envelopeId,
        envelopeDocuments: [
          ...e.documents.map((d) => ({
            documentId: d.documentId,
            documentIdGuid: d.documentId,
            name: d.name,
            type: 'content',
            uri: `${base}/${d.documentId}`,
            order: String(d.order),
            pages: [{ pageId: '1', sequence: '1' }],
            display: 'inline',
            includeInDownload: 'true',
            signerMustAcknowledge: 'no_interaction',
            authoritativeCopy: 'false',
          })),
          {
            documentId: 'certificate',
            name: 'Summary',
            type: 'summary',
            uri: `${base}/certificate`,
            order: '999',
            display: 'inline',
            includeInDownload: 'true',
            signerMustAcknowledge: 'no_interaction',
            authoritativeCopy: 'false',
          },
        ],
      };
    }),
  );

  router.get(
    `${A}/envelopes/:envelopeId/documents/:documentId`,
    handle((c) => {
      const e = envelope(c, true);
      const id = String(c.req.params.documentId);
      let pdf: Buffer;
      let name: string;
      if (id === 'combined') {
        if (!c.account.combinedPdfAllowed)
          throw new DsError(400, 'COMBINED_PDF_DOWNLOAD_NOT_ALLOWED', 'Combined PDF download is not allowed for this account.');
        pdf = ops.combinedPdf(e, c.req.query.certificate === 'true');
        name = `${e.emailSubject}.pdf`;
      } else if (id === 'certificate' || id === 'summary') {
        pdf = ops.certificatePdf(e);
        name = 'Summary.pdf';
      } else {
        const d = e.documents.find((x) => x.documentId === id);
        if (!d) throw new DsError(400, 'DOCUMENT_DOES_NOT_EXIST', 'The document specified was not found.');
        pdf = ops.documentPdf(e, d);
        name = `${d.name.replace(/\.[a-z0-9]+$/i, '')}.pdf`;
      }
      c.res
        .status(200)
        .type('application/pdf')
        .setHeader('Content-Disposition', `file; filename="${name.replace(/"/g, '')}"; documentid="${id}"`);
      c.res.send(pdf);
      return undefined;
    }),
  );

  router.get(
    `${A}/templates`,
    handle((c) => {
      const all = [...c.account.templates.values()];
      return {
        resultSetSize: String(all.length),
        startPosition: '0',
        endPosition: String(Math.max(0, all.length - 1)),
        totalSetSize: String(all.length),
        envelopeTemplates: all.map((t) => ({
          templateId: t.templateId,
          uri: `/templates/${t.templateId}`,
          name: t.name,
          description: t.description,
          emailSubject: t.emailSubject,
          created: t.created,
          lastModified: t.lastModified,
          shared: 'false',
          pageCount: String(t.documents.length),
          folderName: 'Templates',
          documents: t.documents.map((d) => ({ documentId: d.documentId, name: d.name, order: String(d.order) })),
          recipients: {
            signers: t.roles
              .filter((r) => r.type === 'signer')
              .map((r) => ({ roleName: r.roleName, recipientId: r.recipientId, routingOrder: String(r.routingOrder) })),
            carbonCopies: t.roles
              .filter((r) => r.type === 'carbonCopy')
              .map((r) => ({ roleName: r.roleName, recipientId: r.recipientId, routingOrder: String(r.routingOrder) })),
          },
        })),
      };
    }),
  );
  router.get(
    `${A}/templates/:templateId`,
    handle((c) => {
      const t = c.account.templates.get(String(c.req.params.templateId));
      if (!t) throw new DsError(404, 'TEMPLATE_ID_INVALID', 'Invalid template ID.');
      return {
        templateId: t.templateId,
        name: t.name,
        description: t.description,
        emailSubject: t.emailSubject,
        created: t.created,
        lastModified: t.lastModified,
        documents: t.documents.map((d) => ({ documentId: d.documentId, name: d.name, order: String(d.order) })),
        recipients: {
          signers: t.roles
            .filter((r) => r.type === 'signer')
            .map((r) => ({ roleName: r.roleName, recipientId: r.recipientId, routingOrder: String(r.routingOrder), tabs: r.tabs })),
          carbonCopies: t.roles
            .filter((r) => r.type === 'carbonCopy')
            .map((r) => ({ roleName: r.roleName, recipientId: r.recipientId, routingOrder: String(r.routingOrder) })),
        },
      };
    }),
  );

  // Connect (account-level configurations).
  const parseConfig = (b: Record<string, unknown>, old?: ConnectConfig): ConnectConfig => {
    const bool = (v: unknown, d: boolean) => (v === undefined ? d : v === true || v === 'true');
    const url = String(b.urlToPublishTo ?? old?.urlToPublishTo ?? '');
    if (!/^https?:\/\//.test(url))
      throw new DsError(
        400,
        'INVALID_REQUEST_PARAMETER',
        'The request contained at least one invalid parameter. urlToPublishTo must be an http(s) URL.',
      );
    const events = Array.isArray(b.events) ? b.events.map(String) : (old?.events ?? []);
    for (const ev of events)
      if (!SIM_EVENTS.includes(ev))
        throw new DsError(400, 'INVALID_REQUEST_PARAMETER', `The request contained at least one invalid parameter. Unknown event '${ev}'.`);
    const ed = (b.eventData && typeof b.eventData === 'object' ? b.eventData : {}) as Record<string, unknown>;
    return {
      connectId: old?.connectId ?? String(ds().nextConnectId++),
      name: String(b.name ?? old?.name ?? 'Connect'),
      urlToPublishTo: url,
      configurationType: String(b.configurationType ?? old?.configurationType ?? 'custom'),
      allUsers: bool(b.allUsers, old?.allUsers ?? true),
      userIds: Array.isArray(b.userIds) ? b.userIds.map(String) : (old?.userIds ?? []),
      events,
      requiresAcknowledgement: bool(b.requiresAcknowledgement, old?.requiresAcknowledgement ?? true),
      includeHMAC: bool(b.includeHMAC, old?.includeHMAC ?? false),
      disabled: bool(b.disabled, old?.disabled ?? false),
      includeData: Array.isArray(ed.includeData) ? ed.includeData.map(String) : (old?.includeData ?? []),
      deliveryMode: String(b.deliveryMode ?? old?.deliveryMode ?? 'SIM'),
    };
  };
  router.get(
    `${A}/connect`,
    handle((c) => {
      const all = [...c.account.connect.values()].map(configJson);
      return { configurations: all, totalRecords: String(all.length) };
    }),
  );
  router.get(
    `${A}/connect/:connectId`,
    handle((c) => {
      const cfg = c.account.connect.get(String(c.req.params.connectId));
      if (!cfg) throw new DsError(404, 'INVALID_CONNECT_ID', 'The Connect configuration specified was not found.');
      return { configurations: [configJson(cfg)], totalRecords: '1' };
    }),
  );
  router.post(
    `${A}/connect`,
    handle((c) => {
      const cfg = parseConfig((c.req.body ?? {}) as Record<string, unknown>);
      c.account.connect.set(cfg.connectId, cfg);
      c.res.status(201);
      return configJson(cfg);
    }),
  );
  router.put(
    `${A}/connect`,
    handle((c) => {
      const b = (c.req.body ?? {}) as Record<string, unknown>;
      const old = c.account.connect.get(String(b.connectId));
      if (!old) throw new DsError(404, 'INVALID_CONNECT_ID', 'The Connect configuration specified was not found.');
      const cfg = parseConfig(b, old);
      c.account.connect.set(cfg.connectId, cfg);
      return configJson(cfg);
    }),
  );
  router.delete(
    `${A}/connect/:connectId`,
    handle((c) => {
      if (!c.account.connect.delete(String(c.req.params.connectId)))
        throw new DsError(404, 'INVALID_CONNECT_ID', 'The Connect configuration specified was not found.');
      return {};
    }),
  );

  router.use((req: Request, res: Response) => {
    res
      .status(404)
      .json(
        dsErrorBody(
          'INVALID_REQUEST_PARAMETER',
          `The URL provided does not resolve to a resource: ${req.method} ${req.originalUrl.split('?')[0]}`,
        ),
      );
  });
  app.use('/restapi', router);
  app.use('/:site/restapi', router);
}
