import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { HttpError, StepError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import {
  applyPlan,
  IdentityTakenError,
  MAX_CSV_BYTES,
  normaliseDepartment,
  normaliseMobile,
  parsePeopleCsv,
  PeopleStore,
  peopleCsv,
  planChanges,
  provisionDirectory,
  syncDirectory,
  type Person,
  type Plan,
} from '../core/people/index.ts';
import { requireRole } from './admin-auth.ts';
import { auditRequest } from './audit.ts';
import { documentOperation, errorSchema, route } from './openapi.ts';

const boolish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');
const identitiesSchema = z.record(z.string(), z.record(z.string(), z.string()));
const personSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  mobile: z.string().nullable(),
  department: z.string().nullable(),
  title: z.string().nullable(),
  manager_id: z.string().nullable(),
  manager_email: z.string().nullable(),
  active: z.boolean(),
  sources: z.array(z.string()),
  identities: identitiesSchema.describe('service → kind → value, e.g. {"dingtalk":{"userId":"u1","unionId":"x"}}'),
  created_at: z.string(),
  updated_at: z.string(),
});
const view = (p: Person): z.output<typeof personSchema> => ({
  id: p.id,
  name: p.name,
  email: p.email,
  mobile: p.mobile,
  department: p.department,
  title: p.title,
  manager_id: p.managerId,
  manager_email: p.managerEmail,
  active: p.active,
  sources: p.sources,
  identities: p.identities,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
});

const changeSchema = z.object({
  action: z.enum(['create', 'update', 'deactivate']),
  id: z.string().nullable(),
  row: z.number().optional(),
  name: z.string(),
  email: z.string().nullable(),
  fields: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
});
const rowErrorSchema = z.object({ row: z.number().int(), message: z.string() });
const planSchema = z.object({
  dry_run: z.boolean(),
  created: z.number().int(),
  updated: z.number().int(),
  deactivated: z.number().int(),
  unchanged: z.number().int(),
  errors: z.array(rowErrorSchema),
  changes: z.array(changeSchema),
});
const planBody = (plan: Plan, dryRun: boolean) => {
  const failed = plan.errors.length > 0;
  return {
    ...(failed
      ? {
          error: {
            code: 'invalid_rows',
            message: `${plan.errors.length} row${plan.errors.length > 1 ? 's have' : ' has'} errors; nothing was imported`,
          },
        }
      : {}),
    dry_run: dryRun,
    created: failed ? 0 : plan.counts.created,
    updated: failed ? 0 : plan.counts.updated,
    deactivated: failed ? 0 : plan.counts.deactivated,
    unchanged: failed ? 0 : plan.unchanged,
    errors: plan.errors,
    changes: failed ? [] : plan.changes,
  };
};

const listQuery = z.object({
  q: z.string().max(200).optional().describe('Searches name, email, mobile and title'),
  department: z.string().max(500).optional().describe('A department path; people in its sub-departments are included'),
  active: boolish.optional(),
  unmatched: z.string().max(64).optional().describe('Only people with no identity in this service (e.g. dingtalk)'),
  format: z.enum(['json', 'csv']).default('json'),
});
const importQuery = z.object({
  dry_run: boolish.default(false).describe('Plan only: the answer shows the diff, nothing is written'),
  deactivate_missing: boolish.default(false).describe('Deactivate active people who are not in the file (a full HR export)'),
});
const patchSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    email: z.email().nullable().optional(),
    mobile: z.string().max(40).nullable().optional(),
    department: z.string().max(500).nullable().optional(),
    title: z.string().max(200).nullable().optional(),
    manager_id: z.string().nullable().optional(),
    active: z.boolean().optional(),
    identities: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
        z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/), z.string().min(1).max(200).nullable()),
      )
      .optional()
      .describe('Identities to set (null removes one), e.g. {"dingtalk":{"userId":"manager01"}}'),
  })
  .strict();
const syncBody = z
  .object({
    source: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('The connector of the connection, e.g. dingtalk (checked against the connection)'),
    connection_id: z.string().min(1).max(64),
    dry_run: z.boolean().default(false),
    deactivate_missing: z.boolean().default(false).describe('Deactivate people linked to this service whom its directory no longer lists'),
  })
  .strict();
const provisionBody = z.object({ connection_id: z.string().min(1).max(64), dry_run: z.boolean().default(false) }).strict();
const provisionSchema = z.object({
  dry_run: z.boolean(),
  departments_created: z.array(z.string()),
  created: z.number().int(),
  updated: z.number().int(),
  deactivated: z.number().int(),
  linked: z.number().int(),
  changes: z.array(
    z.object({
      action: z.string(),
      person_id: z.string(),
      name: z.string(),
      fields: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
    }),
  ),
  errors: z.array(z.object({ person_id: z.string(), name: z.string(), message: z.string() })),
});

/** A failed call to the service becomes 502 (503 when its credentials need re-authorising), with the provider's message; a concurrent change of the directory (unique email or identity) becomes 409. */
async function providerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError)
      throw new HttpError(
        err.errorClass === 'needs_reauth' ? 503 : 502,
        err.errorClass === 'needs_reauth' ? 'needs_reauth' : 'provider_error',
        err.message,
      );
    if (err instanceof IdentityTakenError) throw new HttpError(409, 'identity_taken', err.message);
    if ((err as { code?: string }).code === '23505')
      throw new HttpError(
        409,
        'conflict',
        'the directory changed while this ran (another import or sync?); nothing was written: run it again',
      );
    throw err;
  }
}

/**
 * /api/v1/people — the directory: list/search/export (viewers), CSV import with a dry run, hand-linking
 * of identities, directory sync from a connection and provisioning into one (admins). Every change is
 * audited.
 */
export function peopleRouter(rt: Runtime): Router {
  const router = express.Router();
  const store = new PeopleStore(rt.db);

  const sendCsv = async (req: Request, res: Response, people: Person[]) => {
    res.locals.audited = true;
    await auditRequest(rt, req, 'people.exported', null, { rows: people.length });
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="dingbridge-people-${new Date().toISOString().slice(0, 10)}.csv"`);
    res.send(peopleCsv(people));
  };

  route(router, rt, {
    method: 'get',
    path: '/api/v1/people.csv',
    operationId: 'exportPeople',
    tags: ['People'],
    summary: 'The directory as CSV (imports back unchanged)',
    auth: { role: 'viewer', scope: 'people:read' },
    query: listQuery.omit({ format: true }),
    responses: { 200: { description: 'UTF-8 CSV with a BOM', schema: z.string(), contentType: 'text/csv' } },
    handler: async ({ query, req, res }) => {
      await sendCsv(req, res, await store.list(query));
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/people',
    operationId: 'listPeople',
    tags: ['People'],
    summary: 'People, with search and department filter (format=csv exports)',
    auth: { role: 'viewer', scope: 'people:read' },
    query: listQuery,
    responses: {
      200: { description: 'The people', schema: z.object({ people: z.array(personSchema), departments: z.array(z.string()) }) },
    },
    handler: async ({ query, req, res }) => {
      const { format, ...q } = query;
      const people = await store.list(q);
      if (format === 'csv') return sendCsv(req, res, people);
      return { status: 200, body: { people: people.map(view), departments: await store.departments() } };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/people/:id',
    operationId: 'getPerson',
    tags: ['People'],
    summary: 'One person',
    auth: { role: 'viewer', scope: 'people:read' },
    params: z.object({ id: z.string().min(1).max(64) }),
    responses: { 200: { description: 'The person', schema: personSchema }, 404: { description: 'No such person' } },
    handler: async ({ params }) => {
      const p = await store.get(params.id);
      if (!p) throw new HttpError(404, 'not_found', 'no such person');
      return { status: 200, body: view(p) };
    },
  });

  route(router, rt, {
    method: 'patch',
    path: '/api/v1/people/:id',
    operationId: 'updatePerson',
    tags: ['People'],
    summary: 'Change a person or link their identities by hand',
    auth: { role: 'admin', scope: 'people:write' },
    params: z.object({ id: z.string().min(1).max(64) }),
    body: patchSchema,
    responses: {
      200: { description: 'The person', schema: personSchema },
      404: { description: 'No such person' },
      409: { description: 'The identity or email belongs to someone else' },
    },
    handler: async ({ params, body, req }) => {
      const before = await store.get(params.id);
      if (!before) throw new HttpError(404, 'not_found', 'no such person');
      const set: Record<string, unknown> = {};
      if (body.name !== undefined) set.name = body.name;
      if (body.email !== undefined) set.email = body.email ? body.email.toLowerCase() : null;
      if (body.mobile !== undefined) {
        const m = body.mobile ? normaliseMobile(body.mobile) : null;
        if (m === undefined || (body.mobile && !m))
          throw new HttpError(400, 'invalid_request', `mobile "${body.mobile}" is not a phone number`);
        set.mobile = m ?? null;
      }
      if (body.department !== undefined) set.department = body.department ? normaliseDepartment(body.department) : null;
      if (body.title !== undefined) set.title = body.title;
      if (body.active !== undefined) set.active = body.active;
      if (body.manager_id !== undefined) {
        if (body.manager_id && !(await store.get(body.manager_id)))
          throw new HttpError(400, 'invalid_request', 'manager_id is not a person');
        if (body.manager_id === params.id) throw new HttpError(400, 'invalid_request', 'a person cannot be their own manager');
        set.manager_id = body.manager_id;
      }
      try {
        await rt.db.transaction().execute(async (trx) => {
          if (Object.keys(set).length || body.identities)
            await trx
              .updateTable('people')
              .set({ ...set, updated_at: new Date() })
              .where('id', '=', params.id)
              .execute();
          if (body.identities) await new PeopleStore(trx).setIdentities(params.id, body.identities, trx);
        });
      } catch (err) {
        if (err instanceof IdentityTakenError) throw new HttpError(409, 'identity_taken', err.message);
        if ((err as { code?: string }).code === '23505') throw new HttpError(409, 'email_taken', 'another person has this email');
        throw err;
      }
      await auditRequest(rt, req, 'person.updated', params.id, { fields: Object.keys(set), identities: body.identities ?? undefined });
      return { status: 200, body: view((await store.get(params.id))!) };
    },
  });

  documentOperation({
    method: 'post',
    path: '/api/v1/people/import',
    operationId: 'importPeople',
    tags: ['People'],
    summary: "Import people from an HR system's CSV export",
    description: `Body: CSV (content-type text/csv, UTF-8 with or without a BOM, or Big5), at most ${MAX_CSV_BYTES} bytes. Header row (line 1) with the columns name, email, mobile, department, title, manager_email in any order (title and manager_email may be left out; extra columns are ignored). People are matched by email, then mobile. A file with any error imports nothing; each error names its line.`,
    auth: { role: 'admin', scope: 'people:write' },
    query: importQuery,
    bodyContentTypes: ['text/csv'],
    responses: {
      200: { description: 'Imported (or, with dry_run, what would be)', schema: planSchema },
      413: { description: `Over ${MAX_CSV_BYTES} bytes`, schema: errorSchema },
      415: { description: 'Not a CSV body', schema: errorSchema },
      422: { description: 'Rows with errors: nothing was imported', schema: planSchema.extend({ error: errorSchema.shape.error }) },
    },
  });
  router.post(
    '/api/v1/people/import',
    requireRole(rt, 'admin', 'people:write'),
    express.raw({ type: ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'], limit: MAX_CSV_BYTES }),
    async (req: Request, res: Response) => {
      const q = importQuery.safeParse(req.query);
      if (!q.success)
        throw new HttpError(400, 'invalid_request', q.error.issues.map((i) => `query ${i.path.join('.')}: ${i.message}`).join('; '));
      if (!Buffer.isBuffer(req.body))
        throw new HttpError(415, 'unsupported_media_type', 'send the file as the body with content-type: text/csv');
      const parsed = parsePeopleCsv(req.body);
      const plan = await planChanges(rt.db, parsed.people, { source: 'csv', deactivateMissing: q.data.deactivate_missing });
      plan.errors = [...parsed.errors, ...plan.errors].sort((a, b) => a.row - b.row);
      const body = planBody(plan, q.data.dry_run);
      if (plan.errors.length === 0 && !q.data.dry_run) await providerCall(() => applyPlan(rt.db, plan));
      await auditRequest(
        rt,
        req,
        q.data.dry_run ? 'people.import_checked' : 'people.imported',
        null,
        {
          bytes: req.body.length,
          encoding: parsed.encoding,
          created: body.created,
          updated: body.updated,
          deactivated: body.deactivated,
          errors: plan.errors.length,
        },
        { outcome: plan.errors.length ? 'failed' : 'ok' },
      );
      res.status(plan.errors.length ? 422 : 200).json(body);
    },
  );

  route(router, rt, {
    method: 'post',
    path: '/api/v1/people/sync',
    operationId: 'syncPeople',
    tags: ['People'],
    summary: "Fill People from a connection's directory (e.g. DingTalk contacts)",
    auth: { role: 'admin', scope: 'people:write' },
    body: syncBody,
    responses: {
      200: { description: 'Synced (or, with dry_run, what would be)', schema: planSchema },
      422: { description: 'Conflicts: nothing was written', schema: planSchema },
    },
    handler: async ({ body, req }) => {
      const conn = await rt.connections.handle(body.connection_id);
      if (body.source && body.source !== conn.connectorId)
        throw new HttpError(400, 'invalid_request', `connection ${conn.id} is a ${conn.connectorId} connection, not ${body.source}`);
      const plan = await providerCall(() =>
        syncDirectory(rt.db, conn, { dryRun: body.dry_run, deactivateMissing: body.deactivate_missing }),
      );
      const out = planBody(plan, body.dry_run);
      await auditRequest(rt, req, body.dry_run ? 'people.sync_checked' : 'people.synced', conn.id, {
        created: out.created,
        updated: out.updated,
        deactivated: out.deactivated,
        errors: plan.errors.length,
      });
      return { status: plan.errors.length ? 422 : 200, body: out };
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/people/provision',
    operationId: 'provisionPeople',
    tags: ['People'],
    summary: 'Create departments and accounts in a service from People; deactivate leavers',
    description: 'Idempotent: people already linked (or found by mobile/email) are not created again; a rerun changes nothing.',
    auth: { role: 'admin', scope: 'people:write' },
    body: provisionBody,
    responses: { 200: { description: 'Provisioned (or, with dry_run, what would be)', schema: provisionSchema } },
    handler: async ({ body, req }) => {
      const conn = await rt.connections.handle(body.connection_id);
      const r = await providerCall(() => provisionDirectory(rt.db, conn, { dryRun: body.dry_run }));
      const count = (a: string) => r.changes.filter((c) => c.action === a).length;
      const out = {
        dry_run: body.dry_run,
        departments_created: r.departmentsCreated,
        created: count('create'),
        updated: count('update'),
        deactivated: count('deactivate'),
        linked: count('link'),
        changes: r.changes.map((c) => ({
          action: c.action,
          person_id: c.personId,
          name: c.name,
          ...(c.fields ? { fields: c.fields } : {}),
        })),
        errors: r.errors.map((e) => ({ person_id: e.personId, name: e.name, message: e.message })),
      };
      await auditRequest(
        rt,
        req,
        body.dry_run ? 'people.provision_checked' : 'people.provisioned',
        conn.id,
        {
          departments: r.departmentsCreated.length,
          created: out.created,
          updated: out.updated,
          deactivated: out.deactivated,
          errors: r.errors.length,
        },
        { outcome: r.errors.length ? 'failed' : 'ok' },
      );
      return { status: 200, body: out };
    },
  });
  return router;
}
