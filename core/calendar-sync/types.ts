import type { ConnectionHandle } from '../connector.ts';

/**
 * The two-way calendar sync's vocabulary. core never names a provider: a connector offers a
 * `CalendarSide` (its calendar API seen as lists of changes and writes), and the engine
 * (engine.ts) pairs two sides person by person through the link table.
 */

/** A recurrence in the few words both providers can say (RFC 5545 subset). */
export interface SyncRule {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  count?: number;
  /** YYYY-MM-DD (inclusive, the last day an occurrence may start on). */
  until?: string;
  /** Weekdays as MO, TU, … (weekly rules). */
  byDay?: string[];
  /** Day of the month (monthly rules). */
  byMonthDay?: number;
}

/** An event's content in neutral form: what is compared, hashed and written. */
export interface SyncContent {
  title: string;
  description: string;
  location: string;
  allDay: boolean;
  /** All-day: `YYYY-MM-DD` (end exclusive on both sides); timed: an ISO instant in UTC. */
  start: string;
  end: string;
  /** The zone the event was set in (kept when written; not part of the comparison: the instant is). */
  timeZone?: string;
  /** People ids (the hub's directory), sorted; the owner of the calendar is left out. */
  attendees: string[];
  recurrence: SyncRule | null;
}

/** What the hub stamps on its own writes (Google `extendedProperties.private`, DingTalk `extra`). */
export interface SyncMarker {
  link: string;
  hash: string;
}

/** One event as a side reports it. */
export interface SideEvent {
  id: string;
  deleted: boolean;
  /** The provider's last-modified time (ISO), used by the conflict rule. */
  updated: string;
  content?: SyncContent;
  /** Attendee ids in the side's own terms (emails, unionIds) that are not in People: kept as plain guests. */
  guests: string[];
  /** Raw attendee ids in the side's terms, before mapping through People. */
  attendeeIds: string[];
  marker?: SyncMarker;
  /** A single-occurrence exception of a series: the series id and the occurrence's original start. */
  seriesId?: string;
  originalStart?: string;
  /** False when the calendar's owner is only an attendee (the organizer's own sync carries it). */
  owned: boolean;
}

export interface SidePerson {
  personId: string;
  name: string;
  /** The person's id in this side's terms (email, unionId). */
  calendarUser: string;
}

export interface ChangePage {
  events: SideEvent[];
  cursor: string;
}

export interface WriteOptions {
  marker: SyncMarker;
  /** Stable across retries of the same write (idempotent creates). */
  key: string;
  /** The side's attendee ids for the content's people, and the guests to keep. */
  attendeeIds: string[];
}

/** A provider calendar as the sync engine sees it. */
export interface CalendarSide {
  /** `google`, `dingtalk`: also the People identity service the side's attendee ids live in. */
  readonly service: string;
  /**
   * A push channel per person (a trigger of the side's connector with a `subscription`): the hub keeps
   * one registered for every person of a sync, and a notification (a poll request with these params)
   * runs that person's sync at once. Without it the side is only polled.
   */
  readonly push?: { trigger: string; params(user: string): Record<string, string> };
  /** Whether the side can hold a single-occurrence exception of a series (else: a standalone linked event). */
  readonly exceptions: boolean;
  /** The person's id in this side's terms, from their People identities (undefined: not on this side). */
  userOf(person: { email: string | null; identities: Record<string, Record<string, string>> }): string | undefined;
  /**
   * Changes since `cursor`; `null` lists everything (and answers a fresh cursor). Throws
   * `CursorExpired` (core/connector.ts) when the provider refuses the cursor as stale.
   */
  changes(user: string, cursor: string | null): Promise<ChangePage>;
  create(user: string, content: SyncContent, opts: WriteOptions): Promise<SideEvent>;
  /**
   * The id of the occurrence of series `seriesId` whose original start is `originalStart` (a date for
   * all-day series, else an ISO instant), to update or remove as a single-occurrence exception;
   * undefined when the series has no such occurrence (sides with `exceptions`).
   */
  occurrence?(user: string, seriesId: string, originalStart: string): Promise<string | undefined>;
  /** Writes an event's content (an occurrence's id: that occurrence only). */
  update(user: string, id: string, content: SyncContent, opts: WriteOptions): Promise<SideEvent>;
  /** Deletes (cancels); a missing event is not an error. */
  remove(user: string, id: string): Promise<void>;
}

/** How a connector offers its side: built per connection (registered through the connector definition). */
export type CalendarSideFactory = (conn: ConnectionHandle) => CalendarSide | Promise<CalendarSide>;
