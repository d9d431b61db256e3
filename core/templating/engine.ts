import { Context, Liquid, type Template } from 'liquidjs';

/**
 * The LiquidJS engine and its limits, shared by the main thread and the template workers. Nothing here
 * knows about threads: a render is given limits and either finishes within them or throws.
 */
const refuseFs = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => {
    throw new Error('templates cannot read files');
  },
  readFileSync: () => {
    throw new Error('templates cannot read files');
  },
  resolve: (_root: string, file: string) => file,
  contains: () => false,
  sep: '/',
};

export const liquid = new Liquid({
  fs: refuseFs as never,
  root: [],
  relativeReference: false,
  ownPropertyOnly: true,
  strictFilters: true,
  strictVariables: false,
  parseLimit: 100_000,
  // The real limits are the per-request budget's (below); these only back them up.
  renderLimit: 2_000,
  memoryLimit: 10_000_000,
});

/** The largest literal range a template may loop over, `(1..10000)`; bigger ones are refused when saved. */
export const MAX_RANGE = 10_000;

/** What one render may spend: milliseconds of wall clock, template nodes rendered (bounds loops), memory units (LiquidJS's count). */
export interface RenderLimits {
  ms: number;
  nodes: number;
  memory: number;
}

/** Thrown when a render runs out of its limits; `kind` says which one. */
export class LimitExceeded extends Error {
  constructor(
    readonly kind: 'time' | 'nodes' | 'memory',
    limit: number,
  ) {
    super(
      kind === 'time'
        ? `the templates ran out of their ${limit} ms budget`
        : kind === 'nodes'
          ? `the templates rendered more than ${limit} parts (a loop too long)`
          : `the templates allocated more than ${limit} units of memory`,
    );
    this.name = 'LimitExceeded';
  }
}

/**
 * LiquidJS limiters that share one account across every template of a request or step. LiquidJS calls
 * `renderLimit.check(now)` before each node it renders (so once per loop iteration) and
 * `memoryLimit.use(n)` when a filter, range or loop allocates.
 */
export function limiters(limits: RenderLimits) {
  const deadline = performance.now() + limits.ms;
  let nodes = 0;
  let memory = 0;
  return {
    renderLimit: {
      check(now: number) {
        if (++nodes > limits.nodes) throw new LimitExceeded('nodes', limits.nodes);
        if (now > deadline) throw new LimitExceeded('time', limits.ms);
      },
      use() {
        /* not a memory account */
      },
    },
    memoryLimit: {
      use(count: number) {
        if (+count > 0) {
          memory += +count;
          if (memory > limits.memory) throw new LimitExceeded('memory', limits.memory);
        }
      },
      check(count: number) {
        if (+count > limits.memory) throw new LimitExceeded('memory', limits.memory);
      },
    },
  };
}

/** The LimitExceeded inside an error LiquidJS wrapped (RenderError keeps the original), if any. */
export function limitOf(err: unknown): LimitExceeded | undefined {
  for (let e = err as { originalError?: unknown } | undefined, i = 0; e && i < 5; e = e.originalError as typeof e, i++) {
    if (e instanceof LimitExceeded) return e;
  }
  return undefined;
}

const parsed = new Map<string, Template[]>();
/** Parsed templates are kept (up to 1000 of at most 10,000 characters): a flow's mapping is parsed once, not on every event. */
export function parse(template: string): Template[] {
  const hit = parsed.get(template);
  if (hit) return hit;
  const tpl = liquid.parse(template);
  if (template.length > 10_000) return tpl;
  if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value!);
  parsed.set(template, tpl);
  return tpl;
}

/** Literal ranges over MAX_RANGE, found before anything runs (a range from a variable is bounded while rendering). */
export function checkRanges(template: string): string | undefined {
  for (const m of template.matchAll(/\(\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*\)/g)) {
    const size = Number(m[2]) - Number(m[1]) + 1;
    if (size > MAX_RANGE) return `the range ${m[0]} has ${size} numbers; at most ${MAX_RANGE} are allowed`;
  }
  return undefined;
}

const SINGLE_EXPRESSION = /^\{\{-?\s*([^{}]+?)\s*-?\}\}$/;

export type Job = { kind: 'mapping'; mapping: unknown } | { kind: 'condition'; condition: string };

export function conditionTemplate(condition: string): string {
  return `{% if ${condition} %}true{% else %}false{% endif %}`;
}

/** Renders a job within limits (one account for all its strings). Runs in either thread. */
export async function runJob(job: Job, scope: Record<string, unknown>, limits: RenderLimits): Promise<unknown> {
  const shared = limiters(limits);
  const context = () =>
    new Context(scope, liquid.options, {}, { liquid, ...(shared as unknown as Pick<Context, 'renderLimit' | 'memoryLimit'>) });
  const renderString = async (text: string): Promise<unknown> => {
    const tooBig = checkRanges(text);
    if (tooBig) throw new Error(tooBig);
    const single = SINGLE_EXPRESSION.exec(text);
    if (single) {
      shared.renderLimit.check(performance.now());
      return liquid.evalValue(single[1]!, context());
    }
    return liquid.render(parse(text), context());
  };
  const walk = async (value: unknown): Promise<unknown> => {
    if (typeof value === 'string') return renderString(value);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const v of value) out.push(await walk(v));
      return out;
    }
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await walk(v);
      return out;
    }
    return value;
  };
  if (job.kind === 'condition') return (await renderString(conditionTemplate(job.condition))) === 'true';
  return walk(job.mapping);
}

// Warm the engine at load: the first renders compile LiquidJS's code paths and take tens of
// milliseconds, which would push ordinary templates out of the main thread's tight limits.
for (let i = 0; i < 5; i++) {
  const shared = limiters({ ms: 60_000, nodes: 1e6, memory: 1e7 }) as unknown as Pick<Context, 'renderLimit' | 'memoryLimit'>;
  const ctx = new Context({ data: { id: i, name: 'x', items: [1, 2], n: 3 } }, liquid.options, {}, { liquid, ...shared });
  liquid.renderSync(
    parse(
      '{% assign n = 2 %}{{ data.name }} {% for i in data.items %}{{ i | plus: n }}{% if i > 1 %},{% endif %}{% endfor %}{{ "a,b" | split: "," | join: "-" | upcase }}',
    ),
    ctx,
  );
  liquid.evalValueSync('data.n', ctx);
  liquid.renderSync(parse(conditionTemplate('data.n > 1 and data.name == "x"')), ctx);
}
