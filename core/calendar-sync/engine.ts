import crypto from 'node:crypto';
import { CursorExpired } from '../connector.ts';
import type { Logger } from '../logger.ts';
import type { Person } from '../people/store.ts';
import type { CalendarSyncStore, Counter, LinkRow } from './store.ts';
import type { CalendarSide, SideEvent, SyncContent } from './types.ts';

/**
 * The two-way sync of one person's calendars on two sides (side `a` wins ties).
 *
 * One run: read the changes of both sides since their cursors; group them by link; for each link
 * decide by content hash whether a side really changed (a change whose content hash equals the one
 * the hub last saw or wrote on that side is an echo, dropped); one side changed → written to the
 * other; both → a conflict, resolved by the providers' update times (last writer wins, ties to side
 * a), the losing content recorded; new events are paired with a same title + start + end event on
 * the other side (first sync and concurrent creates) or created there, stamped with the hub's marker;
 * a new single-occurrence exception (changed or removed occurrence) goes to the same occurrence (same
 * original start) of the linked series on the other side, or, where there is none, becomes a
 * standalone linked event there.
 * A write is skipped when the target already holds that content, so a crash anywhere converges on
 * the next run (cursors are saved only after a run without errors).
 */

export const DELETED = 'deleted';
/** A run's `skipped` when another process holds the person. */
export const BUSY = 'another process is syncing this person';

/** A stable hash of what the sync compares (the zone is left out: the instant is compared). */
export function contentHash(c: SyncContent): string {
  const canon = {
    title: c.title,
    description: c.description,
    location: c.location,
    allDay: c.allDay,
    start: c.start,
    end: c.end,
    attendees: [...c.attendees].sort(),
    recurrence: c.recurrence
      ? {
          freq: c.recurrence.freq,
          interval: c.recurrence.interval,
          count: c.recurrence.count ?? null,
          until: c.recurrence.until ?? null,
          byDay: c.recurrence.byDay ? [...c.recurrence.byDay].sort() : null,
          byMonthDay: c.recurrence.byMonthDay ?? null,
        }
      : null,
  };
  return crypto.createHash('sha256').update(JSON.stringify(canon)).digest('hex').slice(0, 24);
}

const hashOf = (ev: SideEvent) => (ev.deleted || !ev.content ? DELETED : contentHash(ev.content));
const pairKey = (c: SyncContent) => `${c.allDay ? 'd' : 't'}|${c.start}|${c.end}|${c.title.trim().toLowerCase()}`;

export interface SyncWindow {
  daysBack: number;
  daysAhead: number;
}

export interface RunReport {
  personId: string;
  ok: boolean;
  skipped?: string;
  counts: Partial<Record<Counter, number>>;
  resetA: boolean;
  resetB: boolean;
  error?: string;
}

type SideKey = 'a' | 'b';
const other = (s: SideKey): SideKey => (s === 'a' ? 'b' : 'a');

export class CalendarSyncEngine {
  constructor(
    private readonly store: CalendarSyncStore,
    private readonly opts: {
      syncId: string;
      a: CalendarSide;
      b: CalendarSide;
      window: SyncWindow;
      log?: Logger;
      /** Everyone in the directory, for attendee mapping. */
      directory: () => Promise<Person[]>;
      /** The connection ids of the sides, recorded on a link when the sync copies a meeting (what the KPIs count). */
      connections?: { a: string; b: string };
    },
  ) {}

  private side(s: SideKey): CalendarSide {
    return s === 'a' ? this.opts.a : this.opts.b;
  }

  async syncPerson(person: Person): Promise<RunReport> {
    const { syncId } = this.opts;
    const counts: Partial<Record<Counter, number>> = {};
    const count = (k: Counter, n = 1) => {
      counts[k] = (counts[k] ?? 0) + n;
    };
    const report: RunReport = { personId: person.id, ok: false, counts, resetA: false, resetB: false };
    const users = { a: this.opts.a.userOf(person), b: this.opts.b.userOf(person) };
    if (!users.a || !users.b) {
      await this.store.ensureState(syncId, person.id);
      const missing = !users.a ? this.opts.a.service : this.opts.b.service;
      await this.store.saveState(syncId, person.id, { last_error: `${person.name} has no ${missing} identity in People` }, { errors: 1 });
      return { ...report, skipped: `no ${missing} identity` };
    }
    const state = await this.store.lease(syncId, person.id, 10 * 60_000);
    if (!state) return { ...report, skipped: BUSY };
    try {
      const full = !state.initialised || state.resync_requested;
      const directory = await this.opts.directory();
      const byId = new Map(directory.map((p) => [p.id, p]));
      const idMaps = {
        a: new Map<string, string>(),
        b: new Map<string, string>(),
      };
      for (const p of directory) {
        const ua = this.opts.a.userOf(p);
        const ub = this.opts.b.userOf(p);
        if (ua) idMaps.a.set(ua.toLowerCase(), p.id);
        if (ub) idMaps.b.set(ub.toLowerCase(), p.id);
      }

      const read = async (s: SideKey, cursor: string | null) => {
        try {
          return { page: await this.side(s).changes(users[s]!, full ? null : cursor), reset: full };
        } catch (err) {
          if (!(err instanceof CursorExpired)) throw err;
          this.opts.log?.info({ syncId, person: person.id, side: s }, 'calendar sync: cursor refused, listing everything');
          return { page: await this.side(s).changes(users[s]!, null), reset: true };
        }
      };
      const ra = await read('a', state.cursor_a);
      const rb = await read('b', state.cursor_b);
      report.resetA = ra.reset;
      report.resetB = rb.reset;

      // People on each side → person ids; the owner is left out; others stay the side's own guests.
      const normalise = (s: SideKey, evs: SideEvent[]) => {
        const latest = new Map<string, SideEvent>();
        for (const ev of evs) {
          if (!ev.owned) continue;
          if (ev.content) {
            const ids = new Set<string>();
            const guests: string[] = [];
            for (const raw of ev.attendeeIds) {
              const pid = idMaps[s].get(raw.toLowerCase());
              if (pid === person.id) continue;
              if (pid) ids.add(pid);
              else guests.push(raw);
            }
            ev.content.attendees = [...ids].sort();
            ev.guests = guests;
          }
          latest.set(ev.id, ev);
        }
        return [...latest.values()];
      };
      const evs = { a: normalise('a', ra.page.events), b: normalise('b', rb.page.events) };

      const links = await this.store.links(syncId, person.id);
      const linkById = new Map(links.map((l) => [l.id, l]));
      const byA = new Map(links.filter((l) => l.a_id).map((l) => [l.a_id!, l]));
      const byB = new Map(links.filter((l) => l.b_id).map((l) => [l.b_id!, l]));
      const groups = new Map<string, { link: LinkRow; a?: SideEvent; b?: SideEvent }>();
      const unlinked: { a: SideEvent[]; b: SideEvent[] } = { a: [], b: [] };
      for (const s of ['a', 'b'] as const) {
        const index = s === 'a' ? byA : byB;
        for (const ev of evs[s]) {
          let link = index.get(ev.id);
          if (!link && ev.marker) {
            // The hub made this event but crashed before saving its id: adopt it.
            const marked = linkById.get(ev.marker.link);
            if (marked && !marked[`${s}_id`]) {
              marked[`${s}_id`] = ev.id;
              index.set(ev.id, marked);
              link = marked;
            }
          }
          if (!link) {
            unlinked[s].push(ev);
            continue;
          }
          const g = groups.get(link.id) ?? { link };
          g[s] = ev;
          groups.set(link.id, g);
        }
        // Listing everything: a linked event that is no longer there was deleted meanwhile.
        if (s === 'a' ? ra.reset : rb.reset) {
          const seen = new Set(evs[s].map((e) => e.id));
          for (const l of links) {
            const id = l[`${s}_id`];
            if (!id || l.deleted || l[`${s}_hash`] === DELETED || seen.has(id)) continue;
            const g = groups.get(l.id) ?? { link: l };
            g[s] = { id, deleted: true, updated: new Date().toISOString(), guests: [], attendeeIds: [], owned: true };
            groups.set(l.id, g);
          }
        }
      }

      const ctx = { person, users, byId, count };
      let errors = 0;
      let lastError: string | null = null;
      const guard = async (what: string, fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          errors += 1;
          lastError = `${what}: ${(err as Error).message}`;
          this.opts.log?.warn({ syncId, person: person.id, err: (err as Error).message }, `calendar sync: ${what} failed`);
        }
      };

      for (const g of groups.values()) await guard(`link ${g.link.id}`, () => this.decide(ctx, g));
      // Links whose other half was never written (a crash between the two): finish them.
      for (const l of links) {
        if (l.deleted || groups.has(l.id)) continue;
        if (!l.a_id || !l.b_id) await guard(`link ${l.id}`, () => this.finishPending(ctx, l));
      }

      // New events: pair same meetings (first sync, or made on both sides at once), create the rest.
      const inWindow = (ev: SideEvent) => {
        if (!full || state.initialised) return true;
        const c = ev.content!;
        const from = Date.now() - this.opts.window.daysBack * 86_400_000;
        const to = Date.now() + this.opts.window.daysAhead * 86_400_000;
        const start = Date.parse(c.allDay ? `${c.start}T00:00:00Z` : c.start);
        const end = Date.parse(c.allDay ? `${c.end}T00:00:00Z` : c.end);
        return start < to && (c.recurrence ? true : end > from);
      };
      const fresh = {
        a: unlinked.a.filter((e) => !e.seriesId && !e.deleted && e.content && inWindow(e)),
        b: unlinked.b.filter((e) => !e.seriesId && !e.deleted && e.content && inWindow(e)),
      };
      const waiting = new Map<string, SideEvent[]>();
      for (const ev of fresh.b) {
        const k = pairKey(ev.content!);
        waiting.set(k, [...(waiting.get(k) ?? []), ev]);
      }
      const pairedB = new Set<string>();
      for (const ev of fresh.a) {
        await guard(`new event ${ev.id}`, async () => {
          const match = waiting.get(pairKey(ev.content!))?.find((b) => !pairedB.has(b.id));
          if (match) {
            pairedB.add(match.id);
            await this.pair(ctx, ev, match);
          } else {
            await this.createFrom(ctx, 'a', ev);
          }
        });
      }
      for (const ev of fresh.b) if (!pairedB.has(ev.id)) await guard(`new event ${ev.id}`, () => this.createFrom(ctx, 'b', ev));

      // Single-occurrence exceptions (changed or cancelled occurrences) not linked yet, after their series
      // (linked above if new): written to the same occurrence of the other side's series; one changed on
      // both sides is paired (the later edit wins); without a counterpart series, a standalone linked event.
      const exceptions = {
        a: unlinked.a.filter((e) => e.seriesId && e.originalStart && (e.deleted || e.content)),
        b: unlinked.b.filter((e) => e.seriesId && e.originalStart && (e.deleted || e.content)),
      };
      if (exceptions.a.length || exceptions.b.length) {
        const now = await this.store.links(syncId, person.id);
        const series = {
          a: new Map(now.filter((l) => l.a_id && !l.deleted && l.kind !== 'exception').map((l) => [l.a_id!, l])),
          b: new Map(now.filter((l) => l.b_id && !l.deleted && l.kind !== 'exception').map((l) => [l.b_id!, l])),
        };
        const onB = new Map<string, SideEvent>();
        for (const ev of exceptions.b) {
          const sl = series.b.get(ev.seriesId!);
          if (sl) onB.set(`${sl.id}|${ev.originalStart}`, ev);
        }
        const pairedExB = new Set<string>();
        for (const ev of exceptions.a) {
          await guard(`occurrence ${ev.id}`, async () => {
            const sl = series.a.get(ev.seriesId!);
            const match = sl ? onB.get(`${sl.id}|${ev.originalStart}`) : undefined;
            if (match) {
              pairedExB.add(match.id);
              if (!(ev.deleted && match.deleted)) await this.pair(ctx, ev, match);
            } else await this.exceptionFrom(ctx, 'a', ev, sl, inWindow);
          });
        }
        for (const ev of exceptions.b)
          if (!pairedExB.has(ev.id))
            await guard(`occurrence ${ev.id}`, () => this.exceptionFrom(ctx, 'b', ev, series.b.get(ev.seriesId!), inWindow));
      }

      const now = new Date();
      if (errors) count('errors', errors);
      await this.store.saveState(
        syncId,
        person.id,
        errors
          ? { last_error: lastError, last_a_at: now, last_b_at: now }
          : {
              cursor_a: ra.page.cursor,
              cursor_b: rb.page.cursor,
              initialised: true,
              resync_requested: false,
              last_a_at: now,
              last_b_at: now,
              last_error: null,
            },
        counts,
      );
      return { ...report, ok: errors === 0, ...(lastError ? { error: lastError } : {}) };
    } catch (err) {
      const message = (err as Error).message;
      await this.store.saveState(syncId, person.id, { last_error: message }, { errors: 1 });
      return { ...report, error: message };
    } finally {
      await this.store.release(syncId, person.id);
    }
  }

  private async decide(ctx: Ctx, g: { link: LinkRow; a?: SideEvent; b?: SideEvent }): Promise<void> {
    const { link } = g;
    const h = { a: g.a ? hashOf(g.a) : undefined, b: g.b ? hashOf(g.b) : undefined };
    for (const s of ['a', 'b'] as const) {
      const ev = g[s];
      if (ev && !ev.deleted) link[`${s}_guests`] = ev.guests;
    }
    const changed = {
      a: h.a !== undefined && h.a !== link.a_hash,
      b: h.b !== undefined && h.b !== link.b_hash,
    };
    for (const s of ['a', 'b'] as const) if (g[s] && !changed[s]) ctx.count('echoes');
    if (!changed.a && !changed.b) {
      if (!link.a_id || !link.b_id) await this.finishPending(ctx, link, g);
      else await this.store.updateLink(link);
      return;
    }
    let from: SideKey;
    if (changed.a && changed.b) {
      if (h.a === h.b) {
        link.a_hash = h.a!;
        link.b_hash = h.b!;
        link.deleted = h.a === DELETED;
        await this.store.updateLink(link);
        return;
      }
      const ta = Date.parse(g.a!.updated) || 0;
      const tb = Date.parse(g.b!.updated) || 0;
      from = ta >= tb ? 'a' : 'b';
      const loser = other(from);
      ctx.count('conflicts');
      await this.store.recordConflict({
        sync_id: this.opts.syncId,
        person_id: ctx.person.id,
        link_id: link.id,
        winner: this.side(from).service,
        winner_updated: g[from]!.updated,
        loser_updated: g[loser]!.updated,
        winner_content: g[from]!.deleted ? { deleted: true } : g[from]!.content,
        loser_content: g[loser]!.deleted ? { deleted: true } : g[loser]!.content,
      });
    } else {
      from = changed.a ? 'a' : 'b';
    }
    await this.apply(ctx, link, from, g[from]!);
  }

  /** Writes side `from`'s event (content or deletion) to the other side of the link. */
  private async apply(ctx: Ctx, link: LinkRow, from: SideKey, ev: SideEvent): Promise<void> {
    const to = other(from);
    const h = hashOf(ev);
    if (h === link[`${to}_hash`]) {
      // The other side already holds it.
    } else if (h === DELETED) {
      const id = link[`${to}_id`];
      if (id) {
        await this.side(to).remove(ctx.users[to]!, id);
        ctx.count(`deleted_${to}`);
      }
    } else {
      const id = link[`${to}_id`];
      if (!id || link[`${to}_hash`] === DELETED) {
        await this.recreate(ctx, link, to, ev);
      } else {
        try {
          await this.side(to).update(ctx.users[to]!, id, this.contentFor(link, to, ev), this.writeOpts(ctx, link, to, ev, h));
          ctx.count(`updated_${to}`);
        } catch (err) {
          if (!isGone(err)) throw err;
          await this.recreate(ctx, link, to, ev);
        }
      }
    }
    link[`${from}_hash`] = h;
    link[`${to}_hash`] = h;
    link.deleted = h === DELETED;
    await this.store.updateLink(link);
  }

  private contentFor(link: LinkRow, _to: SideKey, ev: SideEvent): SyncContent {
    const c = ev.content!;
    // An occurrence (written to the other side's occurrence, or kept there as a standalone event) has no rule.
    return link.kind === 'exception' || ev.seriesId ? { ...c, recurrence: null } : c;
  }

  private writeOpts(ctx: Ctx, link: LinkRow, to: SideKey, ev: SideEvent, h: string) {
    const ids: string[] = [];
    for (const pid of ev.content!.attendees) {
      const p = ctx.byId.get(pid);
      const u = p && this.side(to).userOf(p);
      if (u) ids.push(u);
    }
    const guests = (link[`${to}_guests`] ?? []) as string[];
    return {
      marker: { link: link.id, hash: h },
      key: `${link.id}:${to}:${link.generation}`,
      attendeeIds: [...ids, ...guests.filter((g) => !ids.includes(g))],
    };
  }

  private async recreate(ctx: Ctx, link: LinkRow, to: SideKey, ev: SideEvent): Promise<void> {
    if (link[`${to}_id`]) link.generation += 1;
    const h = hashOf(ev);
    const made = await this.side(to).create(ctx.users[to]!, this.contentFor(link, to, ev), this.writeOpts(ctx, link, to, ev, h));
    link[`${to}_id`] = made.id;
    ctx.count(`created_${to}`);
  }

  /**
   * A new single-occurrence exception on side `from` of the series linked by `series`: the same
   * occurrence on the other side is changed or removed. The link (both ids, no hashes yet) is saved
   * before the write, so a crash in between rewrites it on the next run rather than losing it.
   */
  private async exceptionFrom(
    ctx: Ctx,
    from: SideKey,
    ev: SideEvent,
    series: LinkRow | undefined,
    inWindow: (ev: SideEvent) => boolean,
  ): Promise<void> {
    const to = other(from);
    const toSide = this.side(to);
    const seriesTo = series?.[`${to}_id`];
    const target =
      seriesTo && series[`${to}_hash`] !== DELETED && toSide.exceptions && toSide.occurrence
        ? await toSide.occurrence(ctx.users[to]!, seriesTo, ev.originalStart!)
        : undefined;
    if (!target) {
      // No such occurrence over there (no linked series, or its rule cannot place it): a standalone event.
      if (ev.deleted || !ev.content || !inWindow(ev)) return;
      await this.createFrom(ctx, from, ev, true);
      return;
    }
    const link = await this.store.insertLink({
      id: crypto.randomUUID(),
      sync_id: this.opts.syncId,
      person_id: ctx.person.id,
      a_id: from === 'a' ? ev.id : target,
      b_id: from === 'b' ? ev.id : target,
      a_hash: null,
      b_hash: null,
      a_guests: from === 'a' ? ev.guests : [],
      b_guests: from === 'b' ? ev.guests : [],
      a_series_id: series!.a_id,
      a_original_start: ev.originalStart ?? null,
      kind: 'exception',
    });
    await this.apply(ctx, link, from, ev);
  }

  private async createFrom(ctx: Ctx, from: SideKey, ev: SideEvent, noOccurrence = false): Promise<void> {
    const to = other(from);
    const h = hashOf(ev);
    const standalone = Boolean(ev.seriesId) && (noOccurrence || !this.side(to).exceptions);
    const link = await this.store.insertLink({
      id: crypto.randomUUID(),
      sync_id: this.opts.syncId,
      person_id: ctx.person.id,
      a_id: from === 'a' ? ev.id : null,
      b_id: from === 'b' ? ev.id : null,
      a_hash: from === 'a' ? h : null,
      b_hash: from === 'b' ? h : null,
      a_guests: from === 'a' ? ev.guests : [],
      b_guests: from === 'b' ? ev.guests : [],
      a_series_id: from === 'a' ? (ev.seriesId ?? null) : null,
      a_original_start: from === 'a' ? (ev.originalStart ?? null) : null,
      kind: ev.seriesId ? 'exception' : ev.content?.recurrence ? 'series' : 'event',
      copied_from: this.opts.connections?.[from] ?? null,
      copied_to: this.opts.connections?.[to] ?? null,
    });
    if (standalone) ctx.count('standalone_exceptions');
    await this.recreate(ctx, link, to, ev);
    link[`${to}_hash`] = h;
    await this.store.updateLink(link);
  }

  private async pair(ctx: Ctx, a: SideEvent, b: SideEvent): Promise<void> {
    const link = await this.store.insertLink({
      id: crypto.randomUUID(),
      sync_id: this.opts.syncId,
      person_id: ctx.person.id,
      a_id: a.id,
      b_id: b.id,
      a_hash: hashOf(a),
      b_hash: hashOf(b),
      a_guests: a.guests,
      b_guests: b.guests,
      a_series_id: a.seriesId ?? null,
      a_original_start: a.originalStart ?? null,
      kind: a.seriesId ? 'exception' : a.content?.recurrence ? 'series' : 'event',
    });
    ctx.count('paired');
    // Same meeting, other details differ (description, attendees): the later edit wins, ties to side a.
    if (link.a_hash !== link.b_hash) {
      const from: SideKey = (Date.parse(a.updated) || 0) >= (Date.parse(b.updated) || 0) ? 'a' : 'b';
      link[`${other(from)}_hash`] = null;
      await this.apply(ctx, link, from, from === 'a' ? a : b);
    }
  }

  /** A link with one half missing (crash between the write and saving its id): write it now. */
  private async finishPending(ctx: Ctx, link: LinkRow, g?: { a?: SideEvent; b?: SideEvent }): Promise<void> {
    const from: SideKey = link.a_id ? 'a' : 'b';
    const ev = g?.[from];
    if (!ev) {
      // Not in this page: mark for a full listing next run.
      await this.store.saveState(this.opts.syncId, ctx.person.id, { resync_requested: true }, {});
      return;
    }
    if (ev.deleted) {
      link.deleted = true;
      link[`${from}_hash`] = DELETED;
      await this.store.updateLink(link);
      return;
    }
    await this.recreate(ctx, link, other(from), ev);
    link[`${other(from)}_hash`] = hashOf(ev);
    await this.store.updateLink(link);
  }
}

interface Ctx {
  person: Person;
  users: { a: string | undefined; b: string | undefined };
  byId: Map<string, Person>;
  count: (k: Counter, n?: number) => void;
}

/** Sides throw an error with `gone: true` (or status 404/410) for an event that no longer exists. */
function isGone(err: unknown): boolean {
  const e = err as { gone?: boolean; status?: number; details?: { status?: number } };
  return e?.gone === true || e?.status === 404 || e?.status === 410 || e?.details?.status === 404 || e?.details?.status === 410;
}
