import type { Request } from 'express';
import { z } from 'zod';

/**
 * Faults to inject into a fake's provider routes. A fault applies to the next `count` matching calls
 * (default 1), or to every matching call until `untilMs` (epoch ms) when `forMs` is given.
 * - status: answer with `status` (429 with retryAfter, 500, 503, ...) and the provider's error body
 * - delay: wait `ms` before handling normally
 * - drop: destroy the connection without answering
 * - expired_token / revoked_token: the fake's auth check treats the caller's token as expired/revoked
 */
export const faultSpecSchema = z.object({
  kind: z.enum(['status', 'delay', 'drop', 'expired_token', 'revoked_token']),
  status: z.number().int().min(100).max(599).optional(),
  retryAfter: z.number().int().min(0).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  ms: z.number().int().min(0).optional(),
  /** Only calls whose path matches this regular expression (and method, when given). */
  path: z.string().optional(),
  method: z.string().optional(),
  count: z.number().int().min(1).optional(),
  forMs: z.number().int().min(1).optional(),
});
export type FaultSpecInput = z.input<typeof faultSpecSchema>;
export type FaultSpec = z.output<typeof faultSpecSchema> & { id: number; remaining: number; untilMs?: number };

export class FaultPlan {
  private faults: FaultSpec[] = [];
  private nextId = 1;

  add(input: unknown): FaultSpec {
    const parsed = faultSpecSchema.parse(input);
    if (parsed.path) new RegExp(parsed.path); // throws on a bad pattern
    const spec: FaultSpec = {
      ...parsed,
      id: this.nextId++,
      remaining: parsed.forMs ? Number.POSITIVE_INFINITY : (parsed.count ?? 1),
      untilMs: parsed.forMs ? Date.now() + parsed.forMs : undefined,
    };
    this.faults.push(spec);
    return spec;
  }

  list(): FaultSpec[] {
    this.prune();
    return [...this.faults];
  }

  clear(): void {
    this.faults = [];
  }

  /** Takes the first transport fault (status/delay/drop) matching this request, consuming one use. */
  take(req: Request): FaultSpec | undefined {
    return this.consume(req, (f) => f.kind === 'status' || f.kind === 'delay' || f.kind === 'drop');
  }

  /** Takes a token fault matching this request, for the fake's own auth check. */
  takeAuthFault(req: Request): 'expired_token' | 'revoked_token' | undefined {
    const f = this.consume(req, (x) => x.kind === 'expired_token' || x.kind === 'revoked_token');
    return f?.kind as 'expired_token' | 'revoked_token' | undefined;
  }

  private consume(req: Request, pick: (f: FaultSpec) => boolean): FaultSpec | undefined {
    this.prune();
    const f = this.faults.find((x) => pick(x) && matches(x, req));
    if (!f) return undefined;
    f.remaining -= 1;
    this.prune();
    return f;
  }

  private prune(): void {
    const now = Date.now();
    this.faults = this.faults.filter((f) => f.remaining > 0 && (f.untilMs === undefined || f.untilMs > now));
  }
}

function matches(f: FaultSpec, req: Request): boolean {
  if (f.method && f.method.toUpperCase() !== req.method) return false;
  if (f.path && !new RegExp(f.path).test(req.path)) return false;
  return true;
}
