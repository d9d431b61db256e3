/**
 * Group commit in the application: calls made while earlier ones are in flight (up to `maxInFlight`)
 * are gathered and run as one batch when a slot frees. Idle, a call runs alone on the next turn of the
 * event loop, so it adds no wait; under load, one round trip serves many callers. Every caller of a
 * batch gets its outcome (its own result, or the batch's error).
 */
export function grouped<T, R>(
  runBatch: (items: T[]) => Promise<R[]>,
  opts: { maxInFlight?: number; maxBatch?: number; sizeOf?: (item: T) => number; maxSize?: number } = {},
) {
  const maxInFlight = opts.maxInFlight ?? 2;
  const maxBatch = opts.maxBatch ?? 200;
  const maxSize = opts.maxSize ?? Number.POSITIVE_INFINITY;
  // A batch takes items until `maxBatch` of them or `maxSize` of their sizes (always at least one).
  const batchLength = () => {
    if (!opts.sizeOf) return Math.min(maxBatch, waiting.length);
    let n = 0;
    let size = 0;
    while (n < waiting.length && n < maxBatch) {
      size += opts.sizeOf(waiting[n]!.item);
      if (n > 0 && size > maxSize) break;
      n += 1;
    }
    return n;
  };
  let waiting: { item: T; resolve(r: R): void; reject(e: unknown): void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length) {
      const batch = waiting.slice(0, batchLength());
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

/**
 * `grouped` for database statements: when the database refuses a batch for what is in it (one row it
 * cannot take), each item is run again alone, so only that item's caller gets the error; a store that is
 * away fails the batch at once.
 */
export function groupedStatement<T, R>(
  runBatch: (items: T[]) => Promise<R[]>,
  opts: { maxInFlight?: number; maxBatch?: number; sizeOf?: (item: T) => number; maxSize?: number } = {},
): (item: T) => Promise<R> {
  type Outcome = { value: R } | { err: unknown };
  const batch = grouped(async (items: T[]): Promise<Outcome[]> => {
    try {
      return (await runBatch(items)).map((value) => ({ value }));
    } catch (err) {
      if (items.length === 1 || !isDataError(err)) return items.map(() => ({ err }));
      return Promise.all(
        items.map((item) =>
          runBatch([item]).then(
            ([value]) => ({ value: value as R }),
            (e: unknown) => ({ err: e }),
          ),
        ),
      );
    }
  }, opts);
  return async (item) => {
    const outcome = await batch(item);
    if ('err' in outcome) throw outcome.err;
    return outcome.value;
  };
}

/** SQLSTATE classes of a refused statement (data, integrity, deadlock, limits), not of a store that is away. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|40|42|54)[0-9A-Z]{3}$/.test(code);
}

/** Batch limits of a statement fed rows as JSON: up to 100 rows or 4 MiB of JSON, 3 statements in flight. */
export const JSON_ROW_BATCH = {
  maxInFlight: 3,
  maxBatch: 100,
  sizeOf: (row: { json: string }) => row.json.length,
  maxSize: 4 * 1024 * 1024,
};
