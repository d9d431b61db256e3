/**
 * Group commit in the application: calls made while earlier ones are in flight (up to `maxInFlight`)
 * are gathered and run as one batch when a slot frees. Idle, a call runs alone on the next turn of the
 * event loop, so it adds no wait; under load, one round trip serves many callers. Every caller of a
 * batch gets its outcome (its own result, or the batch's error).
 */
export function grouped<T, R>(runBatch: (items: T[]) => Promise<R[]>, opts: { maxInFlight?: number; maxBatch?: number } = {}) {
  const maxInFlight = opts.maxInFlight ?? 2;
  const maxBatch = opts.maxBatch ?? 200;
  let waiting: { item: T; resolve(r: R): void; reject(e: unknown): void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      inFlight += 1;
      runBatch(batch.map((w) => w.item))
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
          (err) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          inFlight -= 1;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (scheduled || !waiting.length || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  };
  return (item: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
