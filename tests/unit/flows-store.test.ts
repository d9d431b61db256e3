import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createDb } from '../../core/db/database.ts';
import { FlowStore } from '../../core/flows-store.ts';

// No server listens on port 1: the database refuses every connection, as a PostgreSQL at max_connections does.
test("a flow refresh that the database refuses is the caller's error, never an unhandled rejection that ends the process", async () => {
  const { db, pool } = createDb('postgres://127.0.0.1:1/none', { max: 1 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const store = new FlowStore(db, [], pino({ level: 'silent' }));
    await assert.rejects(store.refresh(false), /ECONNREFUSED|connect/);
    await assert.rejects(
      store.refresh(),
      /ECONNREFUSED|connect/,
      'the next refresh runs (not stuck behind the failed one) and reports its own error',
    );
    await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      unhandled.map((e) => (e as Error).message),
      [],
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await pool.end().catch(() => {});
  }
});
