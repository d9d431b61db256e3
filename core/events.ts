import crypto from 'node:crypto';

/** Every inbound thing, from any connector or hook, becomes one HubEvent. */
export interface HubEvent {
  /** Stable, derived from the provider's own id: the same delivery always has the same id. */
  id: string;
  /** e.g. `catch_hook.received`, `trello.card.created`, `dingtalk.approval.finished` */
  type: string;
  /** What sent it: a catch hook id, a connection id, `hub`. Flows can match on it. */
  source: string;
  connectionId: string | null;
  occurredAt: string;
  subject: string | null;
  data: Record<string, unknown>;
  raw?: unknown;
  /** The things the event is about, for the link table (`linked[...]` in templates). */
  refs?: { kind: string; id: string }[];
}

/** Derives a HubEvent id from the sender and the sender's own id for the thing, so a repeat maps to the same row. */
export function eventIdFor(source: string, providerId: string): string {
  const digest = crypto.createHash('sha256').update(`${source}\u0000${providerId}`).digest('base64url');
  return `evt_${digest.slice(0, 26)}`;
}

export function newEventId(): string {
  return `evt_${crypto.randomBytes(20).toString('base64url').slice(0, 26)}`;
}
