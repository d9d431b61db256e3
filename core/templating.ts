import { Liquid } from 'liquidjs';

/**
 * One safe template language for mappings and conditions: LiquidJS, with no file system (no
 * include/render of files), own properties only, and limits against runaway templates.
 */
const refuseFs = {
  exists: async () => false, existsSync: () => false,
  readFile: async () => { throw new Error('templates cannot read files'); },
  readFileSync: () => { throw new Error('templates cannot read files'); },
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
  renderLimit: 2_000,
  memoryLimit: 10_000_000,
});

const SINGLE_EXPRESSION = /^\{\{-?\s*([^{}]+?)\s*-?\}\}$/;

export class TemplateError extends Error {
  constructor(message: string, readonly template: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Throws TemplateError when the template does not parse. */
export function checkTemplate(template: string): void {
  try { liquid.parse(template); } catch (err) { throw new TemplateError((err as Error).message.split('\n')[0]!, template); }
}

export function checkCondition(condition: string): void {
  if (/\{%|%\}|\{\{|\}\}/.test(condition)) throw new TemplateError('a condition is a bare expression, without {% %} or {{ }}', condition);
  checkTemplate(conditionTemplate(condition));
}

/** Every string in `mapping` whose text has a template in it, checked; reports the first bad one with its path. */
export function checkMapping(mapping: unknown, at: string[] = []): { path: string[]; message: string } | undefined {
  if (typeof mapping === 'string') {
    try { checkTemplate(mapping); return undefined; } catch (err) { return { path: at, message: (err as Error).message }; }
  }
  if (Array.isArray(mapping)) {
    for (const [i, v] of mapping.entries()) { const bad = checkMapping(v, [...at, String(i)]); if (bad) return bad; }
  } else if (mapping && typeof mapping === 'object') {
    for (const [k, v] of Object.entries(mapping)) { const bad = checkMapping(v, [...at, k]); if (bad) return bad; }
  }
  return undefined;
}

/**
 * Renders every string in a mapping. A string that is exactly one `{{ expression }}` keeps the
 * expression's type (a number stays a number, an object stays an object); other strings render to text.
 */
export async function renderMapping(mapping: unknown, scope: Record<string, unknown>): Promise<unknown> {
  if (typeof mapping === 'string') {
    const single = SINGLE_EXPRESSION.exec(mapping);
    if (single) return liquid.evalValue(single[1]!, scope);
    return liquid.parseAndRender(mapping, scope);
  }
  if (Array.isArray(mapping)) return Promise.all(mapping.map((v) => renderMapping(v, scope)));
  if (mapping && typeof mapping === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(mapping)) out[k] = await renderMapping(v, scope);
    return out;
  }
  return mapping;
}

/** A condition is a Liquid expression, as inside `{% if … %}`: `data.amount > 100 and data.currency == "HKD"`. */
export async function evaluateCondition(condition: string, scope: Record<string, unknown>): Promise<boolean> {
  return (await liquid.parseAndRender(conditionTemplate(condition), scope)) === 'true';
}

function conditionTemplate(condition: string): string {
  return `{% if ${condition} %}true{% else %}false{% endif %}`;
}
