import express, { type Router } from 'express';
import { z } from 'zod';
import { type CalendarSyncConfig, peopleOf, runSync } from '../core/calendar-sync/service.ts';
import { BUSY } from '../core/calendar-sync/engine.ts';
import { CalendarSyncStore } from '../core/calendar-sync/store.ts';
import { calendarSyncsOf } from '../core/calendar-sync/syncs.ts';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { auditRequest } from './audit.ts';
import { route } from './openapi.ts';

/** How long "resync this person" waits for a run that holds the person. */
const RESYNC_WAIT_MS = 60_000;

const personState = z.object({
  personId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  lastSyncA: z.string().nullable().describe('Last read of the first side (e.g. Google)'),
  lastSyncB: z.string().nullable().describe('Last read of the second side (e.g. DingTalk)'),
  paired: z.number(),
  created: z.object({ a: z.number(), b: z.number() }),
  updated: z.object({ a: z.number(), b: z.number() }),
  deleted: z.object({ a: z.number(), b: z.number() }),
  echoes: z.number().describe("The hub's own writes read back and dropped"),
  conflicts: z.number(),
  standaloneExceptions: z
    .number()
    .describe('Single-occurrence exceptions kept as standalone linked events on a side that cannot hold them'),
  errors: z.number(),
  lastError: z.string().nullable(),
  resyncRequested: z.boolean(),
  recentConflicts: z.array(z.record(z.string(), z.unknown())),
});

/**
 * /api/v1/calendar-sync — the two-way calendar syncs (the config file's and the recipe gallery's): state per person (what the
 * Triggers page shows), "sync now" and "resync this person" (the next run lists both calendars in
 * full and compares them with the link table).
 */
export function calendarSyncRouter(rt: Runtime, configs: CalendarSyncConfig[]): Router {
  const router = express.Router();
  const store = new CalendarSyncStore(rt.db);
  const syncs = calendarSyncsOf(rt, configs);
  const configOf = async (id: string) => {
    const cfg = await syncs.get(id);
    if (!cfg) throw new HttpError(404, 'not_found', `no calendar sync "${id}"`);
    return cfg;
  };

  route(router, rt, {
    method: 'get',
    path: '/api/v1/calendar-sync',
    operationId: 'listCalendarSyncs',
    tags: ['Triggers'],
    summary: 'Two-way calendar syncs and their state per person',
    auth: { role: 'viewer', scope: 'triggers:read' },
    responses: {
      200: {
        description: 'Each sync with its sides and people',
        schema: z.object({
          syncs: z.array(
            z.object({
              id: z.string(),
              sides: z.array(z.string()),
              enabled: z.boolean(),
              push: z.boolean(),
              fromFile: z.boolean(),
              intervalSeconds: z.number(),
              people: z.array(personState),
            }),
          ),
        }),
      },
    },
    handler: async () => {
      const out = [];
      for (const cfg of await syncs.list()) {
        const states = new Map((await store.states(cfg.id)).map((s) => [s.person_id, s]));
        const people = [];
        for (const p of await peopleOf(rt, cfg)) {
          const s = states.get(p.id);
          people.push({
            personId: p.id,
            name: p.name,
            email: p.email,
            lastSyncA: s?.last_a_at?.toISOString() ?? null,
            lastSyncB: s?.last_b_at?.toISOString() ?? null,
            paired: s?.paired ?? 0,
            created: { a: s?.created_a ?? 0, b: s?.created_b ?? 0 },
            updated: { a: s?.updated_a ?? 0, b: s?.updated_b ?? 0 },
            deleted: { a: s?.deleted_a ?? 0, b: s?.deleted_b ?? 0 },
            echoes: s?.echoes ?? 0,
            conflicts: s?.conflicts ?? 0,
            standaloneExceptions: s?.standalone_exceptions ?? 0,
            errors: s?.errors ?? 0,
            lastError: s?.last_error ?? null,
            resyncRequested: s?.resync_requested ?? false,
            recentConflicts: (await store.conflicts(cfg.id, p.id, 10)).map((c) => ({
              at: c.at.toISOString(),
              linkId: c.link_id,
              winner: c.winner,
              winnerUpdated: c.winner_updated,
              loserUpdated: c.loser_updated,
              winnerContent: c.winner_content,
              loserContent: c.loser_content,
            })),
          });
        }
        out.push({
          id: cfg.id,
          sides: [...cfg.sides],
          enabled: cfg.enabled,
          push: cfg.push,
          intervalSeconds: cfg.intervalSeconds,
          fromFile: syncs.file.some((c) => c.id === cfg.id),
          people,
        });
      }
      return { status: 200, body: { syncs: out } };
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/calendar-sync/:syncId/run',
    operationId: 'runCalendarSync',
    tags: ['Triggers'],
    summary: 'Sync every person of this sync now',
    auth: { role: 'admin', scope: 'triggers:write' },
    params: z.object({ syncId: z.string().min(1).max(64) }),
    responses: {
      200: {
        description: 'One report per person',
        schema: z.object({ syncId: z.string(), reports: z.array(z.record(z.string(), z.unknown())) }),
      },
    },
    handler: async ({ params }) => {
      const run = await runSync(rt, await configOf(params.syncId));
      return { status: 200, body: run as unknown as { syncId: string; reports: Record<string, unknown>[] } };
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/calendar-sync/:syncId/people/:personId/resync',
    operationId: 'resyncCalendarPerson',
    tags: ['Triggers'],
    summary: 'Resync one person: list both calendars in full and compare them with the links',
    auth: { role: 'admin', scope: 'triggers:write' },
    params: z.object({ syncId: z.string().min(1).max(64), personId: z.string().min(1).max(64) }),
    responses: {
      200: { description: 'The run report', schema: z.record(z.string(), z.unknown()) },
      202: {
        description: 'Another run held the person for a minute: the resync is flagged for the next run',
        schema: z.record(z.string(), z.unknown()),
      },
      404: { description: 'No such sync or person in it' },
    },
    handler: async ({ params, req }) => {
      const cfg = await configOf(params.syncId);
      if (!(await peopleOf(rt, cfg)).some((p) => p.id === params.personId))
        throw new HttpError(404, 'not_found', 'this person is not covered by the sync');
      await store.ensureState(cfg.id, params.personId);
      await store.requestResync(cfg.id, params.personId);
      await auditRequest(rt, req, 'calendar_sync.resync', params.personId, { sync: cfg.id });
      // Another run (the interval, a push) may hold this person for a moment: wait for it, then resync.
      // If it still holds them after a minute, the request stays flagged and the next run does it.
      const deadline = Date.now() + RESYNC_WAIT_MS;
      for (;;) {
        const report = (await runSync(rt, cfg, params.personId)).reports[0];
        if (report?.skipped !== BUSY)
          return { status: 200, body: (report ?? { personId: params.personId, ok: false }) as unknown as Record<string, unknown> };
        if (Date.now() > deadline) return { status: 202, body: { personId: params.personId, queued: true, reason: BUSY } };
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  });

  return router;
}
