import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

/** The KPI definitions file (config/kpis.yaml, or DINGBRIDGE_KPI_FILE): see the comments in it. */
export const DEFAULT_KPI_FILE = path.join(import.meta.dirname, '..', 'kpis.yaml');

export const KPI_IDS = [
  'login_rate',
  'process_cycle_hours',
  'meetings_via_dingtalk_share',
  'hours_saved',
  'files_shared',
  'mobile_share',
] as const;
export type KpiId = (typeof KPI_IDS)[number];

const day = z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.date().transform((d) => d.toISOString().slice(0, 10))]);
const kpi = z.object({
  title: z.string(),
  formula: z.string().optional(),
  unit: z.enum(['fraction', 'hours', 'count']),
  direction: z.enum(['up', 'down']),
  target: z.number(),
  green: z.number(),
  amber: z.number(),
  minutesPerMeeting: z.number().min(0).optional(),
  /** login_rate: whose staff count divides the active accounts (default the data center's, the People directory's when it has none). */
  denominator: z.enum(['datacenter', 'people']).optional(),
  owner: z.string().optional(),
  targetDate: day.optional(),
});
const patterns = z.array(z.string().min(1)).default([]);

export const kpiFileSchema = z.object({
  kpis: z.object(Object.fromEntries(KPI_IDS.map((id) => [id, kpi])) as Record<KpiId, typeof kpi>),
  facts: z.object({
    approvals: z.object({
      started: patterns,
      finished: patterns,
      /** Who started an approval (a field of the event's data) and how the People directory knows them: for the department filter. */
      originator: z.object({ field: z.string().min(1), service: z.string().min(1), kind: z.string().min(1) }).optional(),
    }),
    counts: z
      .array(z.object({ metric: z.string().regex(/^[a-z_]+$/), dimension: z.string().default(''), events: patterns, steps: patterns }))
      .default([]),
    /**
     * Meetings the calendar sync (`calendarSync:`) copied into a calendar of these connectors, counted on
     * the day of the copy (meetings only paired at the first sync, already on both sides, are not).
     */
    synced: z
      .array(
        z.object({ metric: z.string().regex(/^[a-z_]+$/), dimension: z.string().default(''), into: z.array(z.string().min(1)).min(1) }),
      )
      .default([]),
  }),
  snapshot: z.object({ action: z.string().min(1), connection: z.string().optional() }).optional(),
  /**
   * The history backfill (POST /api/v1/kpis/backfill): the action that lists past approvals of a process
   * code, the process codes to ask for (besides those in baselines and already seen), and the event types
   * the approvals are stored as.
   */
  backfill: z
    .object({
      approvals: z.object({
        action: z.string().min(1),
        connection: z.string().optional(),
        processCodes: z
          .array(z.string().min(1))
          .nullable()
          .default([])
          .transform((c) => c ?? []),
        started: z.string().min(1),
        finished: z.string().min(1),
        terminated: z.string().min(1),
      }),
      /**
       * Past meetings: per calendar, the action that lists a person's events in a time range (paged by
       * `nextToken` when its output has one), the input field naming the person, whose calendars (the
       * People directory's identities of `people`, and `users`), the field of an event holding when it
       * was made, and the event type it is stored as (counted on the day it was made).
       */
      meetings: z
        .array(
          z.object({
            action: z.string().min(1),
            connection: z.string().optional(),
            userField: z.string().min(1),
            people: z.object({ service: z.string().min(1), kind: z.string().min(1) }).optional(),
            users: z
              .array(z.string().min(1))
              .nullable()
              .default([])
              .transform((u) => u ?? []),
            createdField: z.string().min(1),
            maxResults: z.number().int().min(1).default(100),
            event: z.string().min(1),
          }),
        )
        .default([]),
      /**
       * Past files: the action that lists the files made in a folder in a time range, the folders (besides
       * those the hub's Drive triggers watch), and the event type a file is stored as (on the day it was made).
       */
      files: z
        .object({
          action: z.string().min(1),
          connection: z.string().optional(),
          folders: z
            .array(z.string().min(1))
            .nullable()
            .default([])
            .transform((f) => f ?? []),
          event: z.string().min(1),
        })
        .optional(),
    })
    .optional(),
  baselines: z
    .record(z.string(), day)
    .nullable()
    .default({})
    .transform((b) => b ?? {}),
});
export type KpiDefinitions = z.output<typeof kpiFileSchema>;

/** Reads and validates the file; a bad file is an error naming it (the admin edits it by hand). */
export function loadKpiDefinitions(file = process.env.DINGBRIDGE_KPI_FILE || DEFAULT_KPI_FILE): KpiDefinitions {
  const parsed = kpiFileSchema.safeParse(YAML.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export type Status = 'green' | 'amber' | 'red';
export function statusOf(k: KpiDefinitions['kpis'][KpiId], value: number | null): Status | null {
  if (value === null) return null;
  if (k.direction === 'up') return value >= k.green ? 'green' : value >= k.amber ? 'amber' : 'red';
  return value <= k.green ? 'green' : value <= k.amber ? 'amber' : 'red';
}
