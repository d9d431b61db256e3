import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDb, migrateToLatest, type Db } from '../core/db/database.ts';
import { paceGate } from '../core/pipeline/pacing.ts';
import type { Runtime } from '../core/runtime.ts';
import type { StepRunRow } from '../core/db/schema.ts';
import { createTestDatabase, services } from './helpers/services.ts';

/**
 * Per-key concurrency as well as rate (issue 12, item 7): QuickBooks allows 10 concurrent requests per
 * company. A paced action declares `{ key, concurrency, limit, intervalMs }`; the gate lets at most
 * `concurrency` steps of a key run at once, oldest first, and a waiting step spends no attempt.
 */
const available = await services();

describe('pacing: per-key concurrency', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let db: Db;
  let drop: () => Promise<void>;
  before(async () => {
    const t = await createTestDatabase('pace');
    drop = t.drop;
    db = createDb(t.url, { max: 4 }).db;
    await migrateToLatest(db);
  });
  after(async () => {
    await db?.destroy();
    await drop?.();
  });

  /** n steps of one action, each claimed (running) as the step runner claims them, oldest event first. */
  async function claimed(prefix: string, n: number): Promise<StepRunRow[]> {
    const rows: StepRunRow[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${prefix}-${String(i).padStart(2, '0')}`;
      await db
        .insertInto('events')
        .values({
          id,
          type: 't',
          source: 's',
          occurred_at: new Date(),
          received_at: new Date(Date.now() - (n - i) * 1000),
          data: '{}',
        } as never)
        .execute();
      rows.push(
        await db
          .insertInto('step_runs')
          .values({
            id,
            event_id: id,
            flow_id: 'f',
            step_index: 0,
            action: `qbo.${prefix}`,
            max_attempts: 5,
            status: 'running',
            attempts: 1,
            lease_until: new Date(Date.now() + 60_000),
          } as never)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    }
    return rows;
  }
  const rt = () => ({ db }) as Runtime;
  /** As the step runner does: claim (running), ask the gate, and put a step that must wait back as retrying. */
  async function gate(s: StepRunRow, pace: Parameters<typeof paceGate>[2]) {
    await db
      .updateTable('step_runs')
      .set({ status: 'running', lease_until: new Date(Date.now() + 60_000) })
      .where('id', '=', s.id)
      .execute();
    const d = await paceGate(rt(), s, pace);
    if (!d.run) await db.updateTable('step_runs').set({ status: 'retrying', lease_until: null }).where('id', '=', s.id).execute();
    return d;
  }

  test('at most `concurrency` steps of a key run at once; the next runs when one finishes', async () => {
    const steps = await claimed('conc', 13);
    const pace = { key: 'qbo:realm-1', concurrency: 10 };
    const first = [];
    for (const s of steps) first.push(await gate(s, pace));
    assert.deepEqual(
      first.map((d) => d.run),
      [...Array(10).fill(true), false, false, false],
    );
    assert.match((first[10] as { reason: string }).reason, /10 earlier step/);

    await db
      .updateTable('step_runs')
      .set({ status: 'succeeded', lease_until: null })
      .where('id', 'in', [steps[0]!.id, steps[1]!.id])
      .execute();
    assert.equal((await gate(steps[10]!, pace)).run, true);
    assert.equal((await gate(steps[11]!, pace)).run, true, 'two finished: two more may run');
    assert.equal((await gate(steps[12]!, pace)).run, false, '10 are running again');
  });

  test('the rate window applies as well as the concurrency', async () => {
    const steps = await claimed('rate', 4);
    const pace = { key: 'qbo:realm-2', concurrency: 10, limit: 2, intervalMs: 60_000 };
    const decisions = [];
    for (const s of steps) decisions.push(await gate(s, pace));
    assert.deepEqual(
      decisions.map((d) => d.run),
      [true, true, false, false],
    );
    assert.match((decisions[2] as { reason: string }).reason, /2 sends within 60000 ms/);
  });

  test('without a concurrency, one at a time (as before)', async () => {
    const steps = await claimed('one', 2);
    const pace = { key: 'robot:1', limit: 20, intervalMs: 60_000 };
    assert.equal((await gate(steps[0]!, pace)).run, true);
    assert.equal((await gate(steps[1]!, pace)).run, false);
  });
});
