import type { z } from 'zod';
import type { Logger } from './logger.ts';

/** The kind of credentials a connector needs; the vault and the UI act on this as data. */
export type AuthKind = 'none' | 'oauth2' | 'app_credentials' | 'api_token' | 'webhook_secret';

export interface ConnectorAuth {
  kind: AuthKind;
}

/** What a step's action is given besides its input. */
export interface ActionContext {
  /** Stable across every attempt of this step: event id + flow id + step index. Send it as the idempotency key. */
  idempotencyKey: string;
  attempt: number;
  log: Logger;
  /** Milliseconds an outbound call may take. */
  timeoutMs: number;
  /** Records what was sent and received (redacted) on the attempt. */
  trace: (entry: { request?: unknown; response?: unknown }) => void;
}

export interface ActionDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown> {
  /** Globally unique: `<connector>.<verb>`, e.g. `http.post`. */
  id: string;
  title: string;
  description?: string;
  input: Schema;
  /** Input keys whose values are secrets: never stored with the attempt, never logged. */
  secretInputs?: string[];
  run: (ctx: ActionContext, input: z.output<Schema>) => Promise<Output>;
  sampleOutput?: Output;
}

export interface TriggerDefinition {
  id: string;
  title: string;
  /** Event types it emits. */
  events: string[];
  kind: 'webhook' | 'polling' | 'stream';
  sample?: Record<string, unknown>;
}

export interface ConnectorDefinition {
  id: string;
  name: string;
  auth: ConnectorAuth;
  triggers: TriggerDefinition[];
  actions: ActionDefinition[];
}

/** The one helper a connector is built with; checks that its actions are named after it. */
export function defineConnector(def: ConnectorDefinition): ConnectorDefinition {
  for (const action of def.actions) {
    if (!action.id.startsWith(`${def.id}.`)) throw new Error(`action ${action.id} of connector ${def.id} must be named ${def.id}.<verb>`);
  }
  return def;
}

export function defineAction<Schema extends z.ZodType, Output>(def: ActionDefinition<Schema, Output>): ActionDefinition {
  return def as unknown as ActionDefinition;
}
