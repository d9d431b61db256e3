import { z } from 'zod';
import { flowSchema } from '../core/flows.ts';
import { calendarSyncConfigSchema } from '../core/calendar-sync/service.ts';

const hookId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64)');

/** How a catch hook proves a request came from who it says. */
export const hookVerificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('hmac'),
    /** Header that carries the signature, e.g. X-Signature. */
    header: z.string().min(1),
    secret: z.string().min(8, 'use a secret of at least 8 characters'),
    algorithm: z.enum(['sha256']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    /** The same signed body again within this many seconds is a replay: answered as a duplicate, not stored. */
    replayWindowSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(300),
  }),
  /**
   * HMAC-SHA256 of `<timestamp>.<raw body>` in `header`, the Unix time in seconds in `timestampHeader`:
   * requests older or newer than `toleranceSeconds` are refused, and a signature is accepted once.
   */
  z.object({
    type: z.literal('hmac_timestamped'),
    header: z.string().min(1).default('X-Signature'),
    timestampHeader: z.string().min(1).default('X-Timestamp'),
    secret: z.string().min(8, 'use a secret of at least 8 characters'),
    algorithm: z.enum(['sha256']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    toleranceSeconds: z.number().int().min(30).max(3600).default(300),
  }),
  /** A secret token as the last path segment: POST /hooks/catch/:hookId/:token (for senders that cannot sign). */
  z.object({ type: z.literal('token'), token: z.string().min(16, 'use a token of at least 16 characters') }),
  /** Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers), e.g. from another dingbridge. */
  z.object({
    type: z.literal('standard_webhooks'),
    secret: z.string().startsWith('whsec_', 'a Standard Webhooks secret starts with whsec_'),
  }),
]);

/** What the hook answers the sender once the event is stored (default: 200 with {id, duplicate}). */
export const hookResponseSchema = z.object({
  status: z.number().int().min(200).max(299).default(200),
  /** A small JSON value sent instead of {id, duplicate}. */
  body: z
    .unknown()
    .refine((v) => v === undefined || JSON.stringify(v).length <= 2048, 'at most 2 KB of JSON')
    .optional(),
});

export const catchHookSchema = z.object({
  id: hookId,
  name: z.string().optional(),
  verify: hookVerificationSchema.default({ type: 'none' }),
  /**
   * A field of the body that identifies a delivery (e.g. `order.id`): a repeat with the same value is
   * a duplicate. The `webhook-id` and `Idempotency-Key` headers are always honoured.
   */
  idField: z.string().optional(),
  /** Largest body accepted on this hook, in bytes (default: the hub's body limit). */
  maxBodyBytes: z.number().int().positive().optional(),
  response: hookResponseSchema.optional(),
});

/** A connection declared in the file; secrets come from ${ENV} references. */
export const connectionConfigSchema = z.object({
  id: hookId,
  connector: z.string().min(1),
  label: z.string().optional(),
  settings: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.string()).default({}),
  /** A provider app declared under `apps:` whose client credentials it uses. */
  app: hookId.optional(),
});

/** A provider app declared in the file (client id and secret from ${ENV} references). */
export const appConfigSchema = z
  .object({
    id: hookId,
    connector: z.string().min(1),
    label: z.string().optional(),
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'e.g. production or sandbox')
      .default('production'),
    clientId: z.string().min(1),
    clientSecret: z.string().optional(),
    webhookVerifierToken: z.string().optional(),
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** A built-in recipe turned into a flow: `use` names the recipe, `fields` fill it in. */
export const recipeUseSchema = z
  .object({
    use: z.string().min(1),
    id: hookId,
    fields: z.record(z.string(), z.string()).default({}),
    enabled: z.boolean().default(true),
  })
  .strict();

export const configFileSchema = z
  .object({
    version: z.literal(1).default(1),
    apps: z.array(appConfigSchema).default([]),
    connections: z.array(connectionConfigSchema).default([]),
    hooks: z.array(catchHookSchema).default([]),
    flows: z.array(flowSchema).default([]),
    recipes: z.array(recipeUseSchema).default([]),
    /** Two-way calendar syncs (core/calendar-sync): each person's calendars on two connections kept the same. */
    calendarSync: z.array(calendarSyncConfigSchema).optional(),
  })
  .strict();

export type ConfigFile = z.output<typeof configFileSchema> & {
  /** The file's flows as written, `${ENV}` references not expanded: what the API shows (secrets stay in the environment). */
  flowsAsWritten?: Record<string, z.output<typeof flowSchema>>;
};
export type CatchHookConfig = z.output<typeof catchHookSchema>;
