import crypto from 'node:crypto';
import { sql } from 'kysely';
import { eventIdFor } from '../../core/events.ts';
import type { Runtime } from '../../core/runtime.ts';
import type { ActionContext, ConnectionHandle } from '../../core/connector.ts';
import type { KpiDefinitions } from './definitions.ts';
import { rollupDay } from './facts.ts';

/**
 * The history backfill: for a hub installed today in a company with a year behind it. Past approvals
 * (the `backfill.approvals` action, per process code) are stored as the events the roll-up reads —
 * a start and a finish (or termination) per instance, with ids derived from the instance, status
 * `backfilled` so no flow runs on them — then every day of the range is rolled up again (which also
 * reads the data center's past days). Running it twice stores nothing new; a live event for the same
 * instance later is not counted twice (the roll-up counts an instance once). Past meetings (the
 * `backfill.meetings` calendars, per person) are stored the same way, one event per calendar event on
 * the day it was made; a calendar trigger started later announces nothing of what already exists.
 */
export interface BackfillResult {
  from: string;
  to: string;
  processCodes: string[];
  /** Instances found; events stored (a start and a finish each, none again on a second run). */
  approvals: { found: number; stored: number; skippedBefore: string | null };
  /** Calendars listed (a person on one calendar service), those that could not be read; meetings made in the range; events stored. */
  meetings: { calendars: number; skipped: number; found: number; stored: number };
  /** Folders listed, those that could not be read; files made in the range; events stored (none for a file already announced). */
  files: { folders: number; skipped: number; found: number; stored: number };
  days: number;
}

interface PastApproval {
  processInstanceId: string;
  processCode: string;
  originatorUserId: string | null;
  status: string | null;
  result: string | null;
  createTime: string | null;
  finishTime: string | null;
}

const LOOKBACK_DAYS = 31;
let running = false;
export const backfillRunning = () => running;

/** The first instant of `month` (YYYY-MM) in the time zone, and of the month after `to`. */
async function bounds(rt: Runtime, from: string, to: string, tz: string): Promise<{ start: Date; end: Date }> {
  const r = await sql<{ s: Date; e: Date }>`select (${`${from}-01`}::date::timestamp at time zone ${tz}) as s,
      ((${`${to}-01`}::date + interval '1 month')::timestamp at time zone ${tz}) as e`.execute(rt.db);
  return { start: new Date(r.rows[0]!.s), end: new Date(r.rows[0]!.e) };
}

async function connectionFor(rt: Runtime, action: string, id: string | undefined) {
  const connectorId = action.split('.')[0]!;
  const all = await rt.db.selectFrom('connections').select(['id', 'connector_id', 'status']).orderBy('id').execute();
  return id ? all.find((c) => c.id === id) : all.find((c) => c.connector_id === connectorId && c.status === 'active');
}

export async function runBackfill(
  rt: Runtime,
  defs: KpiDefinitions,
  opts: { from: string; to: string; now?: Date },
): Promise<BackfillResult> {
  if (running) throw Object.assign(new Error('a backfill is running'), { code: 'busy' });
  running = true;
  try {
    return await backfill(rt, defs, opts);
  } finally {
    running = false;
  }
}

async function backfill(rt: Runtime, defs: KpiDefinitions, opts: { from: string; to: string; now?: Date }): Promise<BackfillResult> {
  const tz = rt.settings.DINGBRIDGE_TIMEZONE;
  const now = opts.now ?? new Date();
  const { start, end } = await bounds(rt, opts.from, opts.to, tz);
  const until = new Date(Math.min(end.getTime(), now.getTime()));
  const out: BackfillResult = {
    from: opts.from,
    to: opts.to,
    processCodes: [],
    approvals: { found: 0, stored: 0, skippedBefore: null },
    meetings: { calendars: 0, skipped: 0, found: 0, stored: 0 },
    files: { folders: 0, skipped: 0, found: 0, stored: 0 },
    days: 0,
  };
  const cfg = defs.backfill?.approvals;
  const action = cfg && rt.registry.action(cfg.action);
  const row = cfg && action && rt.connections ? await connectionFor(rt, cfg.action, cfg.connection) : undefined;
  if (cfg && action && row && rt.connections) {
    const seen = await sql<{ code: string }>`select distinct data->>'processCode' as code from events
      where type in (${sql.join([cfg.started, cfg.finished, cfg.terminated])}) and data->>'processCode' is not null`.execute(rt.db);
    const codes = [...new Set([...cfg.processCodes, ...Object.keys(defs.baselines), ...seen.rows.map((r) => r.code)])].sort();
    out.processCodes = codes;
    const connection = await rt.connections.handle(row.id);
    for (const code of codes) {
      const res = (await action.run(
        backfillContext(rt, connection, code, { processCode: code }),
        action.input.parse({
          processCode: code,
          from: new Date(start.getTime() - LOOKBACK_DAYS * 86_400_000).toISOString(),
          to: until.toISOString(),
        }),
      )) as { approvals: PastApproval[]; skippedBefore: string | null };
      if (res.skippedBefore && (!out.approvals.skippedBefore || res.skippedBefore > out.approvals.skippedBefore))
        out.approvals.skippedBefore = res.skippedBefore;
      out.approvals.found += res.approvals.length;
      out.approvals.stored += await storeApprovals(rt, row.id, cfg, res.approvals);
    }
  }

  for (const m of defs.backfill?.meetings ?? []) {
    const r = await backfillMeetings(rt, m, start, until);
    out.meetings.calendars += r.calendars;
    out.meetings.skipped += r.skipped;
    out.meetings.found += r.found;
    out.meetings.stored += r.stored;
  }

  if (defs.backfill?.files) out.files = await backfillFiles(rt, defs.backfill.files, start, until);

  // Every day of the range (in the hub's time zone) up to today, four at a time.
  const days = (
    await sql<{ d: string }>`select to_char(d, 'YYYY-MM-DD') as d from generate_series(${`${opts.from}-01`}::date,
      least((${`${opts.to}-01`}::date + interval '1 month' - interval '1 day')::date, (${now.toISOString()}::timestamptz at time zone ${tz})::date), interval '1 day') d`.execute(
      rt.db,
    )
  ).rows.map((r) => r.d);
  for (let i = 0; i < days.length; i += 4) await Promise.all(days.slice(i, i + 4).map((d) => rollupDay(rt, defs, d)));
  out.days = days.length;
  return out;
}

type Cfg = NonNullable<KpiDefinitions['backfill']>['approvals'];

async function storeApprovals(rt: Runtime, connectionId: string, cfg: Cfg, list: PastApproval[]): Promise<number> {
  const rows = list.flatMap((a) => {
    if (!a.createTime) return [];
    const data = (kind: string) => ({
      eventType: 'bpms_instance_change',
      processInstanceId: a.processInstanceId,
      processCode: a.processCode,
      originatorUserId: a.originatorUserId,
      type: kind,
      result: a.result,
      createTime: a.createTime,
      finishTime: kind === 'start' ? null : a.finishTime,
      form: {},
      formFetched: false,
      backfilled: true,
    });
    const ev = (type: string, kind: string, at: string) => {
      return {
        id: eventIdFor(`backfill:${connectionId}`, `${type}:${a.processInstanceId}`),
        type,
        source: connectionId,
        connection_id: connectionId,
        subject: a.processInstanceId,
        occurred_at: at,
        status: 'backfilled',
        data: JSON.stringify(data(kind)),
      };
    };
    const done = a.finishTime && (a.status === 'COMPLETED' || a.status === 'TERMINATED');
    return [
      ev(cfg.started, 'start', a.createTime),
      ...(done
        ? [ev(a.status === 'TERMINATED' ? cfg.terminated : cfg.finished, a.status === 'TERMINATED' ? 'terminate' : 'finish', a.finishTime!)]
        : []),
    ];
  });
  return insertEvents(rt, rows);
}

type MeetingsCfg = NonNullable<KpiDefinitions['backfill']>['meetings'][number];
/** Meetings start at most this long after they were made (a meeting made in the range may start after it). */
const AHEAD_DAYS = 92;

/**
 * Past meetings of one calendar service: each person's events listed month by month (by start), those
 * made in the range stored as `cfg.event` on the day they were made, once per event id (an event on
 * several people's calendars is one meeting).
 */
async function backfillMeetings(rt: Runtime, cfg: MeetingsCfg, start: Date, until: Date): Promise<BackfillResult['meetings']> {
  const action = rt.registry.action(cfg.action);
  const row = action && rt.connections ? await connectionFor(rt, cfg.action, cfg.connection) : undefined;
  if (!action || !row || !rt.connections) return { calendars: 0, skipped: 0, found: 0, stored: 0 };
  const people = cfg.people
    ? (
        await rt.db
          .selectFrom('person_identities')
          .select('value')
          .where('service', '=', cfg.people.service)
          .where('kind', '=', cfg.people.kind)
          .execute()
      ).map((r) => r.value)
    : [];
  const users = [...new Set([...cfg.users, ...people])].sort();
  const connection = await rt.connections.handle(row.id);
  const found = new Map<string, { id: string; created: string; event: Record<string, unknown> }>();
  const last = until.getTime() + AHEAD_DAYS * 86_400_000;
  const listCalendar = async (user: string) => {
    for (let from = start.getTime(); from < last; from += 31 * 86_400_000) {
      const to = Math.min(from + 31 * 86_400_000, last);
      let nextToken: string | undefined;
      do {
        const res = (await action.run(
          backfillContext(rt, connection, cfg.action, { action: cfg.action }),
          action.input.parse({
            [cfg.userField]: user,
            timeMin: new Date(from).toISOString(),
            timeMax: new Date(to).toISOString(),
            maxResults: cfg.maxResults,
            ...(nextToken ? { nextToken } : {}),
          }),
        )) as { events?: Record<string, unknown>[]; nextToken?: string | null };
        for (const e of res.events ?? []) {
          const created = e[cfg.createdField];
          const at = typeof created === 'string' ? Date.parse(created) : Number.NaN;
          if (typeof e.id !== 'string' || Number.isNaN(at) || at < start.getTime() || at >= until.getTime()) continue;
          found.set(e.id, { id: e.id, created: new Date(at).toISOString(), event: e });
        }
        nextToken = res.nextToken ?? undefined;
      } while (nextToken);
    }
  };
  let skipped = 0;
  for (const user of users) {
    try {
      await listCalendar(user);
    } catch (err) {
      // A calendar the connection cannot read (a person not shared with it) is skipped, not the backfill.
      skipped++;
      rt.log.warn({ kpi: 'backfill', action: cfg.action, err: (err as Error).message }, 'a calendar could not be read');
    }
  }
  const rows = [...found.values()].map((m) => ({
    id: eventIdFor(`backfill:${row.id}`, `${cfg.event}:${m.id}`),
    type: cfg.event,
    source: row.id,
    connection_id: row.id,
    subject: typeof m.event.summary === 'string' ? m.event.summary : m.id,
    occurred_at: m.created,
    status: 'backfilled',
    data: JSON.stringify({ eventId: m.id, created: m.created, summary: m.event.summary ?? null, backfilled: true }),
  }));
  return { calendars: users.length, skipped, found: rows.length, stored: await insertEvents(rt, rows) };
}

type FilesCfg = NonNullable<NonNullable<KpiDefinitions['backfill']>['files']>;

/**
 * Past files: those made in the range in each watched folder (the folders of enabled flows triggered by
 * `cfg.event`, and `cfg.folders`), stored as `cfg.event` on the day each was made. A file already announced
 * by the live trigger (an event of the type with its fileId) is not stored again; one that was there before
 * a trigger started is not announced by it (its first poll only records what exists).
 */
async function backfillFiles(rt: Runtime, cfg: FilesCfg, start: Date, until: Date): Promise<BackfillResult['files']> {
  const action = rt.registry.action(cfg.action);
  const row = action && rt.connections ? await connectionFor(rt, cfg.action, cfg.connection) : undefined;
  if (!action || !row || !rt.connections) return { folders: 0, skipped: 0, found: 0, stored: 0 };
  const watched = rt.flows
    .list()
    .filter((f) => f.enabled && f.when.event === cfg.event && typeof f.when.params?.folder === 'string' && f.when.params.folder)
    .map((f) => String(f.when.params!.folder));
  const folders = [...new Set([...cfg.folders, ...watched])].sort();
  const connection = await rt.connections.handle(row.id);
  const announced = new Set(
    (
      await sql<{ id: string }>`select distinct data->>'fileId' as id from events
        where type = ${cfg.event} and status <> 'backfilled' and data->>'fileId' is not null`.execute(rt.db)
    ).rows.map((r) => r.id),
  );
  const rows: Record<string, unknown>[] = [];
  let found = 0;
  let skipped = 0;
  for (const folder of folders) {
    const res = (await action
      .run(
        backfillContext(rt, connection, cfg.action, { action: cfg.action }),
        action.input.parse({ folderId: folder, createdAfter: start.toISOString(), createdBefore: until.toISOString() }),
      )
      .catch((err: Error) => {
        // A folder the connection cannot read is skipped, not the backfill.
        skipped++;
        rt.log.warn({ kpi: 'backfill', action: cfg.action, err: err.message }, 'a folder could not be read');
        return { files: [] };
      })) as { files: Array<{ id: string; name: string; mimeType: string | null; createdTime: string | null }> };
    for (const f of res.files) {
      if (!f.createdTime) continue;
      found++;
      if (announced.has(f.id)) continue;
      rows.push({
        id: eventIdFor(`backfill:${row.id}`, `${cfg.event}:${folder}:${f.id}`),
        type: cfg.event,
        source: row.id,
        connection_id: row.id,
        subject: f.name || f.id,
        occurred_at: f.createdTime,
        status: 'backfilled',
        data: JSON.stringify({
          change: 'added',
          folder,
          subfolders: false,
          fileId: f.id,
          name: f.name,
          mimeType: f.mimeType,
          createdTime: f.createdTime,
          backfilled: true,
        }),
      });
    }
  }
  return { folders: folders.length, skipped, found, stored: await insertEvents(rt, rows) };
}

async function insertEvents(rt: Runtime, rows: Record<string, unknown>[]): Promise<number> {
  let stored = 0;
  for (let i = 0; i < rows.length; i += 400) {
    const r = await rt.db
      .insertInto('events')
      .values(rows.slice(i, i + 400) as any)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    stored += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  return stored;
}

/** The context a backfill gives the provider action it reads history with (a read: a fresh key each call). */
function backfillContext(rt: Runtime, connection: ConnectionHandle, keyPart: string, logFields: Record<string, string>): ActionContext {
  return {
    idempotencyKey: `kpi-backfill:${keyPart}:${crypto.randomUUID()}`,
    attempt: 1,
    log: rt.log.child({ kpi: 'backfill', ...logFields }),
    timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS,
    trace: () => {},
    connection,
  };
}
