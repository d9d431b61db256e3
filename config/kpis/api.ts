import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../../core/errors.ts';
import type { Runtime } from '../../core/runtime.ts';
import { route } from '../openapi.ts';
import { loadKpiDefinitions, type KpiDefinitions } from './definitions.ts';
import { backfillRunning, runBackfill } from './backfill.ts';
import { kpiReport, toCsv } from './report.ts';

const month = /^\d{4}-(0[1-9]|1[0-2])$/;
const dayRe = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export const kpisQuerySchema = z.object({
  from: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'YYYY-MM (or YYYY-MM-DD with granularity=day)'),
  to: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'YYYY-MM (or YYYY-MM-DD with granularity=day)'),
  granularity: z.enum(['month', 'day']).default('month'),
  format: z.enum(['json', 'csv']).default('json'),
  /** Only this approval process code in process_cycle_hours and by_process. */
  process: z.string().max(200).optional(),
  /** Only approvals started by people of this department (a People directory path; sub-departments included). */
  department: z.string().max(500).optional(),
});

const num = z.number().nullable();
const periodSchema = z.object({
  month: z.string().optional(),
  day: z.string().optional(),
  login_rate: num,
  process_cycle_hours: num,
  meetings_via_dingtalk_share: num,
  hours_saved: num,
  files_shared: z.number(),
  mobile_share: num,
  by_process: z.record(
    z.string(),
    z.object({ cycle_hours: num, finished: z.number(), started: z.number(), automated: z.boolean().nullable() }),
  ),
});

/** GET /api/v1/kpis: the adoption KPIs per month (or day), JSON or CSV. */
export function kpisRouter(rt: Runtime, load: () => KpiDefinitions = () => loadKpiDefinitions()): Router {
  const router = express.Router();
  route(router, rt, {
    method: 'get',
    path: '/api/v1/kpis',
    operationId: 'getKpis',
    tags: ['KPIs'],
    summary:
      'Adoption KPIs per month (or day): login rate, process cycle time, meetings via DingTalk, hours saved, files shared, mobile share',
    description:
      "Shares are fractions 0–1 (4 decimals), hours 2 decimals; null when nothing was measured. `format=csv` answers text/csv with the same columns. `definitions` are the targets and thresholds of the KPI file; `status` the latest period's green/amber/red.",
    auth: { role: 'viewer', scope: 'kpis:read' },
    query: kpisQuerySchema,
    responses: {
      200: {
        description: 'The KPIs',
        schema: z.object({
          months: z.array(periodSchema).optional(),
          days: z.array(periodSchema).optional(),
          baselines: z.record(z.string(), z.unknown()),
          definitions: z.record(z.string(), z.unknown()),
          status: z.record(z.string(), z.string().nullable()),
          departments: z.array(z.string()),
        }),
      },
      400: { description: 'Bad range' },
    },
    handler: async ({ query, res }) => {
      const re = query.granularity === 'month' ? month : dayRe;
      if (!re.test(query.from) || !re.test(query.to))
        throw new HttpError(
          400,
          'invalid_request',
          query.granularity === 'month' ? 'from and to are months, YYYY-MM' : 'from and to are days, YYYY-MM-DD',
        );
      if (query.from > query.to) throw new HttpError(400, 'invalid_request', 'from is after to');
      const span =
        query.granularity === 'month'
          ? (Number(query.to.slice(0, 4)) - Number(query.from.slice(0, 4))) * 12 +
            Number(query.to.slice(5, 7)) -
            Number(query.from.slice(5, 7))
          : (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000;
      if (span > (query.granularity === 'month' ? 120 : 400))
        throw new HttpError(400, 'invalid_request', 'the range is too long (at most 120 months or 400 days)');
      const defs = load();
      const report = await kpiReport(rt, defs, {
        from: query.from,
        to: query.to,
        granularity: query.granularity,
        process: query.process,
        department: query.department,
      });
      if (query.format === 'csv') {
        res.setHeader('content-type', 'text/csv; charset=utf-8');
        res.send(toCsv(report.periods, query.granularity));
        return;
      }
      return {
        status: 200,
        body: {
          [query.granularity === 'month' ? 'months' : 'days']: report.periods,
          baselines: report.baselines,
          definitions: defs.kpis,
          status: report.status,
          departments: report.departments,
        },
      };
    },
  });
  route(router, rt, {
    method: 'post',
    path: '/api/v1/kpis/backfill',
    operationId: 'backfillKpis',
    tags: ['KPIs'],
    summary: 'Read the months before the hub was installed from the providers and roll their KPI facts up',
    description:
      "Past approvals of the process codes in the KPI file's `backfill` section (and its baselines, and those already seen) are read from DingTalk, past meetings from the calendars it names (per person) and past files of the watched Drive folders, and stored as events with ids of their own (no flow runs on them), then every day of the range is rolled up again, data-center snapshots included. Running it twice changes nothing. Answers when done (a year takes a minute or so); 409 while another backfill runs.",
    auth: { role: 'admin', scope: 'kpis:write' },
    body: z.object({ from: z.string().regex(month, 'YYYY-MM'), to: z.string().regex(month, 'YYYY-MM') }),
    responses: {
      200: {
        description: 'What was read and rolled up',
        schema: z.object({
          from: z.string(),
          to: z.string(),
          processCodes: z.array(z.string()),
          approvals: z.object({ found: z.number(), stored: z.number(), skippedBefore: z.string().nullable() }),
          meetings: z.object({ calendars: z.number(), skipped: z.number(), found: z.number(), stored: z.number() }),
          files: z.object({ folders: z.number(), skipped: z.number(), found: z.number(), stored: z.number() }),
          days: z.number(),
        }),
      },
      400: { description: 'Bad range' },
      409: { description: 'A backfill is running' },
    },
    handler: async ({ body }) => {
      if (body.from > body.to) throw new HttpError(400, 'invalid_request', 'from is after to');
      const span =
        (Number(body.to.slice(0, 4)) - Number(body.from.slice(0, 4))) * 12 + Number(body.to.slice(5, 7)) - Number(body.from.slice(5, 7));
      if (span > 23) throw new HttpError(400, 'invalid_request', 'the range is too long (at most 24 months)');
      if (backfillRunning()) throw new HttpError(409, 'conflict', 'a backfill is running; try again when it is done');
      return { status: 200, body: await runBackfill(rt, load(), body) };
    },
  });
  return router;
}
