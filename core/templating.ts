import { checkRanges, conditionTemplate, limitOf, liquid, parse, runJob, type Job, type RenderLimits } from './templating/engine.ts';
import { TemplatePool } from './templating/pool.ts';

/**
 * One safe template language for mappings and conditions: LiquidJS, with no file system (no
 * include/render of files), own properties only, and bounded work.
 *
 * Bounds: every request or step gets one budget (`templateBudget()`: 2 s of wall clock for all its
 * strings together, at most 200,000 rendered template parts — loop iterations included — and 10 M memory
 * units per render); literal ranges over 10,000 numbers are refused when a flow is saved. A render
 * starts on the main thread with tight limits (40 ms, 20,000 parts, 200,000 memory units), which every
 * ordinary mapping stays far inside; one that needs more is run again in a worker thread that is
 * terminated when the budget runs out, so a template never holds the event loop for long.
 */
export { liquid };

export const STEP_BUDGET_MS = 2_000;
const FULL: Omit<RenderLimits, 'ms'> = { nodes: 200_000, memory: 10_000_000 };
const FAST: RenderLimits = { ms: 40, nodes: 20_000, memory: 200_000 };

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly template: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/**
 * The render time all the templates of one request or step share: the main thread's attempts and the
 * worker's render add up (waiting for a free worker does not count; it is bounded on its own).
 */
export interface TemplateBudget {
  readonly ms: number;
  spent: number;
}
export function templateBudget(ms = STEP_BUDGET_MS): TemplateBudget {
  return { ms, spent: 0 };
}

let pool: TemplatePool | undefined;
// Two: one heavy render (at most one budget long) cannot hold up another request's.
const workers = () => (pool ??= new TemplatePool(2));
/** Boots the template workers ahead of need (the hub calls it at start; a worker takes a moment to load). */
export function startTemplateWorkers(): void {
  workers().warm();
}
/** Ends the template workers (they never keep the process alive; this is for a clean stop). */
export async function closeTemplateWorkers(): Promise<void> {
  await pool?.close();
  pool = undefined;
}

/** Counters for tests and the benchmark: how many renders needed a worker. */
export const templateStats = { fast: 0, worker: 0 };

async function run(job: Job, scope: Record<string, unknown>, budget: TemplateBudget, what: string): Promise<unknown> {
  const left = () => budget.ms - budget.spent;
  const outOfTime = () => new TemplateError(`the templates ran out of their ${budget.ms} ms budget`, what);
  if (left() <= 0) throw outOfTime();
  const began = performance.now();
  try {
    const value = await runJob(job, scope, { ...FAST, ms: Math.min(FAST.ms, left()) });
    templateStats.fast++;
    return value;
  } catch (err) {
    if (!limitOf(err)) throw new TemplateError((err as Error).message.split('\n')[0]!, what);
  } finally {
    budget.spent += performance.now() - began;
  }
  if (left() <= 0) throw outOfTime();
  templateStats.worker++;
  let started: number | undefined;
  try {
    return await workers().run(job, scope, { ...FULL, ms: left() }, () => {
      started = performance.now();
    });
  } catch (err) {
    const limit = limitOf(err);
    throw limit?.kind === 'time' ? outOfTime() : new TemplateError((err as Error).message.split('\n')[0]!, what);
  } finally {
    if (started !== undefined) budget.spent += performance.now() - started;
  }
}

/** Throws TemplateError when the template does not parse, or loops over a literal range that is too big. */
export function checkTemplate(template: string): void {
  const tooBig = checkRanges(template);
  if (tooBig) throw new TemplateError(tooBig, template);
  try {
    parse(template);
  } catch (err) {
    throw new TemplateError((err as Error).message.split('\n')[0]!, template);
  }
}

export function checkCondition(condition: string): void {
  if (/\{%|%\}|\{\{|\}\}/.test(condition)) throw new TemplateError('a condition is a bare expression, without {% %} or {{ }}', condition);
  checkTemplate(conditionTemplate(condition));
}

/** Every string in `mapping` whose text has a template in it, checked; reports the first bad one with its path. */
export function checkMapping(mapping: unknown, at: string[] = []): { path: string[]; message: string } | undefined {
  if (typeof mapping === 'string') {
    try {
      checkTemplate(mapping);
      return undefined;
    } catch (err) {
      return { path: at, message: (err as Error).message };
    }
  }
  if (Array.isArray(mapping)) {
    for (const [i, v] of mapping.entries()) {
      const bad = checkMapping(v, [...at, String(i)]);
      if (bad) return bad;
    }
  } else if (mapping && typeof mapping === 'object') {
    for (const [k, v] of Object.entries(mapping)) {
      const bad = checkMapping(v, [...at, k]);
      if (bad) return bad;
    }
  }
  return undefined;
}

/**
 * Renders every string in a mapping. A string that is exactly one `{{ expression }}` keeps the
 * expression's type (a number stays a number, an object stays an object); other strings render to text.
 * All strings share `budget` (pass the request's or step's own to share it with other renders).
 */
export async function renderMapping(
  mapping: unknown,
  scope: Record<string, unknown>,
  budget: TemplateBudget = templateBudget(),
): Promise<unknown> {
  return run({ kind: 'mapping', mapping }, scope, budget, typeof mapping === 'string' ? mapping : JSON.stringify(mapping).slice(0, 200));
}

/** A condition is a Liquid expression, as inside `{% if … %}`: `data.amount > 100 and data.currency == "HKD"`. */
export async function evaluateCondition(
  condition: string,
  scope: Record<string, unknown>,
  budget: TemplateBudget = templateBudget(),
): Promise<boolean> {
  return (await run({ kind: 'condition', condition }, scope, budget, condition)) === true;
}
