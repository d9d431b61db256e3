import { z } from 'zod';
import { flowSchema } from '../core/flows.ts';

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
  }),
]);

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
});

export const configFileSchema = z.object({
  version: z.literal(1).default(1),
  hooks: z.array(catchHookSchema).default([]),
  flows: z.array(flowSchema).default([]),
}).strict();

export type ConfigFile = z.output<typeof configFileSchema>;
export type CatchHookConfig = z.output<typeof catchHookSchema>;
