import fs from 'node:fs';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { configFileSchema, type ConfigFile } from './schema.ts';
import { instantiateCalendarSyncRecipe, instantiateRecipe, loadRecipes } from './recipes.ts';
import { calendarSyncConfigSchema } from '../core/calendar-sync/service.ts';
import { flowSchema } from '../core/flows.ts';

export interface ConfigProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file} is not valid:\n${problems.map((p) => `  ${file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Everything the config file refers to outside itself, checked after the schema. */
export interface ConfigChecks {
  actionIds: string[];
  /** Whether an action's step must name a connection, and of which connectors (the registry's `connectionNeed`). */
  connectionNeed?: (actionId: string) => { required: boolean; connectors: string[] };
}

/**
 * Reads a YAML config file. `${NAME}` (or `${NAME:-default}`) in any string value is replaced from the
 * environment, so secrets stay out of the file. Every problem is reported with its line and column.
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv, checks?: ConfigChecks): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { line: 0, column: 0, path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
    ]);
  }
  return parseConfig(text, file, env, checks);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv, checks?: ConfigChecks): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: e.message.split('\n')[0]! })),
    );
  }

  const asWritten = doc.clone();
  const problems: ConfigProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}/g, (_m, name: string, fallback?: string) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        problems.push({ ...at(node.range?.[0]), path: '', message: `environment variable ${name} is not set` });
        return '';
      });
    },
  });
  if (problems.length) throw new ConfigError(file, problems);

  const parsed = configFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success)
    throw new ConfigError(
      file,
      parsed.error.issues.map((i) => issueAt(doc, i, at)),
    );

  const config: ConfigFile = parsed.data;
  const semantic: ConfigProblem[] = [];
  config.recipes.forEach((use, index) => {
    const where = { ...nodeAt(doc, ['recipes', index, 'use'], at), path: `recipes.${index}` };
    const recipe = loadRecipes().find((r) => r.id === use.use);
    if (!recipe) {
      semantic.push({
        ...where,
        message: `unknown recipe "${use.use}" (known: ${loadRecipes()
          .map((r) => r.id)
          .join(', ')})`,
      });
      return;
    }
    if (recipe.calendarSync) {
      let raw: Record<string, unknown>;
      try {
        raw = instantiateCalendarSyncRecipe(recipe, use.id, use.fields);
      } catch (err) {
        semantic.push({ ...where, message: `recipe ${use.use}: ${(err as Error).message}` });
        return;
      }
      const sync = calendarSyncConfigSchema.safeParse({ ...raw, enabled: use.enabled });
      if (!sync.success) {
        semantic.push(
          ...sync.error.issues.map((i) => ({
            ...where,
            message: `recipe ${use.use} gives an invalid calendar sync: ${i.path.join('.')} ${i.message}`,
          })),
        );
        return;
      }
      config.calendarSync = [...(config.calendarSync ?? []), sync.data];
      return;
    }
    let candidate: unknown;
    try {
      candidate = instantiateRecipe(recipe, use.id, use.fields);
    } catch (err) {
      semantic.push({ ...where, message: `recipe ${use.use}: ${(err as Error).message}` });
      return;
    }
    const flow = flowSchema.safeParse({ ...(candidate as object), enabled: use.enabled });
    if (!flow.success) {
      semantic.push(
        ...flow.error.issues.map((i) => ({
          ...where,
          message: `recipe ${use.use} gives an invalid flow: ${i.path.join('.')} ${i.message}`,
        })),
      );
      return;
    }
    config.flows.push(flow.data);
  });
  const seen = (list: { id: string }[], kind: string, key: string) => {
    const ids = new Set<string>();
    list.forEach((item, index) => {
      if (ids.has(item.id))
        semantic.push({
          ...nodeAt(doc, [key, index, 'id'], at),
          path: `${key}.${index}.id`,
          message: `${kind} id "${item.id}" is used twice`,
        });
      ids.add(item.id);
    });
  };
  seen(config.hooks, 'hook', 'hooks');
  seen(config.flows, 'flow', 'flows');
  if (checks) {
    config.flows.forEach((flow, fi) =>
      flow.then.forEach((step, si) => {
        if (!checks.actionIds.includes(step.action)) {
          semantic.push({
            ...nodeAt(doc, ['flows', fi, 'then', si, 'action'], at),
            path: `flows.${fi}.then.${si}.action`,
            message: `unknown action "${step.action}" (known: ${checks.actionIds.join(', ')})`,
          });
          return;
        }
        const need = checks.connectionNeed?.(step.action);
        if (!need) return;
        const where = {
          ...nodeAt(doc, ['flows', fi, 'then', si, step.connection ? 'connection' : 'action'], at),
          path: `flows.${fi}.then.${si}.connection`,
        };
        if (need.required && !step.connection)
          semantic.push({
            ...where,
            message: `${step.action} needs a connection (a ${need.connectors.join(' or ')} connection): set connection:`,
          });
        const declared = step.connection ? config.connections.find((c) => c.id === step.connection) : undefined;
        if (declared && need.connectors.length && !need.connectors.includes(declared.connector)) {
          semantic.push({
            ...where,
            message: `${step.action} needs a ${need.connectors.join(' or ')} connection; ${declared.id} is a ${declared.connector} connection`,
          });
        }
      }),
    );
  }
  if (semantic.length) throw new ConfigError(file, semantic);
  config.flowsAsWritten = flowsAsWritten(asWritten.toJS() ?? {}, config);
  return config;
}

/** The flows of the unexpanded document, for display; a flow that does not parse that way is shown without its inputs. */
function flowsAsWritten(
  raw: { flows?: unknown[]; recipes?: { use?: string; id?: string; fields?: Record<string, string>; enabled?: boolean }[] },
  config: ConfigFile,
): Record<string, z.output<typeof flowSchema>> {
  const out: Record<string, z.output<typeof flowSchema>> = {};
  for (const f of raw.flows ?? []) {
    const parsed = flowSchema.safeParse(f);
    if (parsed.success) out[parsed.data.id] = parsed.data;
  }
  for (const use of raw.recipes ?? []) {
    const recipe = loadRecipes().find((r) => r.id === use.use);
    if (!recipe?.flow || !use.id) continue;
    try {
      const parsed = flowSchema.safeParse({
        ...(instantiateRecipe(recipe, use.id, use.fields ?? {}) as object),
        enabled: use.enabled ?? true,
      });
      if (parsed.success) out[parsed.data.id] = parsed.data;
    } catch {
      /* shown without inputs below */
    }
  }
  for (const flow of config.flows) {
    if (!out[flow.id]) out[flow.id] = { ...flow, then: flow.then.map((step) => ({ ...step, input: {} })) };
  }
  return out;
}

function issueAt(doc: Document, issue: z.core.$ZodIssue, at: (o?: number) => { line: number; column: number }): ConfigProblem {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  return { ...nodeAt(doc, path, at), path: path.join('.'), message: issue.message };
}

/** The position of the deepest node along the path that exists in the document. */
function nodeAt(doc: Document, path: (string | number)[], at: (o?: number) => { line: number; column: number }) {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && (isScalar(node) || node.range)) return at(node.range?.[0]);
  }
  return { line: 1, column: 1 };
}
