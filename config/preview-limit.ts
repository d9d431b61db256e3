import type { Request } from 'express';
import { HttpError } from '../core/errors.ts';

/**
 * Template previews are open to viewers and may run the heaviest template the limits allow, so each
 * principal (per process) gets a bucket of BURST previews refilled at REFILL_PER_S, and at most
 * CONCURRENT at once (the flow editor previews each step and the condition as you type). Over that:
 * 429 with `retryAfterSeconds`.
 */
const BURST = 60;
const REFILL_PER_S = 1;
const CONCURRENT = 4;
const buckets = new Map<string, { tokens: number; at: number; running: number }>();

export function beginPreview(req: Request): () => void {
  const who = req.principal ? `${req.principal.kind}:${req.principal.id}` : `ip:${req.ip}`;
  const now = Date.now();
  const b = buckets.get(who) ?? { tokens: BURST, at: now, running: 0 };
  b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * REFILL_PER_S);
  b.at = now;
  buckets.set(who, b);
  if (b.running >= CONCURRENT)
    throw new HttpError(429, 'preview_busy', `${CONCURRENT} previews of yours are still running; wait for one to finish`, {
      retryAfterSeconds: 1,
    });
  if (b.tokens < 1) {
    const retryAfter = Math.ceil((1 - b.tokens) / REFILL_PER_S);
    throw new HttpError(429, 'too_many_previews', `too many previews; try again in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
  }
  b.tokens -= 1;
  b.running += 1;
  if (buckets.size > 10_000) for (const [k, v] of buckets) if (v.running === 0 && v.tokens >= BURST - 1) buckets.delete(k);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    b.running -= 1;
  };
}
