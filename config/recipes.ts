import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';

/**
 * Recipes: built-in flow templates, as data (config/recipes/*.yaml). A recipe names a few fields;
 * `[[field]]` in its flow is replaced by the value. The config file (`recipes:`) and the UI both
 * instantiate them. A recipe may make a two-way calendar sync (`calendarSync:`, the config file's
 * `calendarSync:` entry as a template) instead of a flow.
 */

const localized = z.union([z.string(), z.record(z.string(), z.string())]);
export const recipeSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: localized,
  description: localized.optional(),
  requires: z.array(z.string()).default([]),
  fields: z
    .array(
      z.object({
        key: z.string().regex(/^[a-zA-Z0-9_]+$/),
        kind: z.enum(['text', 'url', 'template', 'catch_hook', 'connection', 'event_type', 'choice']).default('text'),
        connector: z.string().optional(),
        /** kind choice: the connector's live-choice list (e.g. `boards`), read through the connection field named by `from`. */
        choices: z.string().optional(),
        from: z.string().optional(),
        required: z.boolean().default(false),
        label: localized,
        placeholder: z.string().optional(),
        /** A text, or one per language (en / zh-CN / zh-HK) for words a person reads (a message's title and text). */
        default: localized.optional(),
      }),
    )
    .default([]),
  flow: z.record(z.string(), z.unknown()).optional(),
  /** Instead of a flow: a `calendarSync:` entry; list fields (people, departments) take comma- or line-separated values. */
  calendarSync: z.record(z.string(), z.unknown()).optional(),
});
export type Recipe = z.output<typeof recipeSchema>;
export const recipeMakes = (r: Recipe): 'flow' | 'calendarSync' => (r.calendarSync ? 'calendarSync' : 'flow');
type RecipeField = Recipe['fields'][number];

/** A field's default in a language (the admin's): that language's, else English, else the one given. */
export function defaultOf(f: RecipeField, lang = 'en'): string | undefined {
  const d = f.default;
  if (d === undefined || typeof d === 'string') return d;
  return d[lang] ?? d.en ?? Object.values(d)[0];
}

const RECIPES_DIR = path.join(import.meta.dirname, 'recipes');
let recipeCache: Recipe[] | undefined;
export function loadRecipes(): Recipe[] {
  if (!recipeCache) {
    recipeCache = fs
      .readdirSync(RECIPES_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => {
        const r = recipeSchema.parse(parseYaml(fs.readFileSync(path.join(RECIPES_DIR, f), 'utf8')));
        if (Boolean(r.flow) === Boolean(r.calendarSync)) throw new Error(`recipe ${r.id}: give either flow or calendarSync`);
        return r;
      });
  }
  return recipeCache;
}

/** The recipes this hub can run: those whose actions are all registered. */
export function availableRecipes(hasAction: (id: string) => boolean): Recipe[] {
  return loadRecipes().filter((r) => r.requires.every((a) => hasAction(a)));
}

/** What the gallery shows of a recipe besides its texts: the event it starts from, the actions it runs, the services involved. */
export function recipeSummary(
  recipe: Recipe,
  connectorOfAction: (id: string) => string | undefined,
  connectorOfEvent: (type: string) => string | undefined,
) {
  if (recipe.calendarSync) {
    // Its services are those of the connections it asks for.
    const services = [...new Set(recipe.fields.filter((f) => f.kind === 'connection' && f.connector).map((f) => f.connector!))];
    return { event: '', actions: [] as string[], services: services.map((c) => c.replace(/_sa$/, '')), makes: 'calendarSync' as const };
  }
  const defaults = Object.fromEntries(recipe.fields.map((f) => [f.key, defaultOf(f) ?? '']));
  const flow = fill(recipe.flow, defaults) as { when?: { event?: string }; then?: { action?: string }[] };
  const event = flow.when?.event ?? '';
  const actions = (flow.then ?? []).map((s) => String(s.action ?? ''));
  const services = [
    ...new Set(
      [connectorOfEvent(event), ...actions.map(connectorOfAction)]
        .filter((x): x is string => Boolean(x))
        .map((c) => c.replace(/_robot$/, '')),
    ),
  ];
  return { event, actions, services, makes: 'flow' as const };
}

/** `{en, zh-CN, zh-HK}` (exactly those keys): a text of the flow given per language. */
export function isLocalizedText(v: unknown): v is Record<'en' | 'zh-CN' | 'zh-HK', string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v).sort();
  return keys.join(',') === 'en,zh-CN,zh-HK' && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * Replaces `[[field]]` in every string; a string that is exactly one placeholder takes the value as is;
 * empty values drop their key; a text given per language (`{en, zh-CN, zh-HK}`) becomes `lang`'s.
 */
function fill(value: unknown, fields: Record<string, string>, lang = 'en'): unknown {
  if (isLocalizedText(value)) return fill(value[lang as 'en'] ?? value.en, fields, lang);
  if (typeof value === 'string') {
    const whole = /^\[\[\s*([a-zA-Z0-9_]+)\s*\]\]$/.exec(value);
    if (whole) return fields[whole[1]!] ?? '';
    return value.replace(/\[\[\s*([a-zA-Z0-9_]+)\s*\]\]/g, (_m, k: string) => fields[k] ?? '');
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, fields, lang));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const filled = fill(v, fields, lang);
      if (filled === '' && ['condition', 'source', 'connection'].includes(k)) continue;
      out[k] = filled;
    }
    return out;
  }
  return value;
}

/**
 * The flow of a recipe with these fields; a field left out takes its default in `lang` (the admin's
 * language). The flow's `name` may be given per language (`{en, zh-CN, zh-HK}`); `labels` are the names
 * people know for chosen values (a board's name for its id), used in the name only.
 */
export function instantiateRecipe(
  recipe: Recipe,
  flowId: string,
  fields: Record<string, string>,
  lang = 'en',
  labels: Record<string, string> = {},
): unknown {
  const values = recipeValues(recipe, fields, lang);
  if (!recipe.flow) throw new HttpError(400, 'not_a_flow', `recipe ${recipe.id} makes a calendar sync, not a flow`);
  const name = fill(recipe.flow.name, { ...values, ...Object.fromEntries(Object.entries(labels).filter(([, v]) => v.trim())) }, lang);
  return { ...(fill(recipe.flow, values, lang) as Record<string, unknown>), ...(name ? { name } : {}), id: flowId };
}

/** A calendar-sync recipe filled in: a `calendarSync:` entry (to parse with its schema). */
export function instantiateCalendarSyncRecipe(recipe: Recipe, id: string, fields: Record<string, string>): Record<string, unknown> {
  const values = recipeValues(recipe, fields);
  if (!recipe.calendarSync) throw new HttpError(400, 'not_a_calendar_sync', `recipe ${recipe.id} makes a flow`);
  const filled = fill(recipe.calendarSync, values) as Record<string, unknown>;
  for (const k of ['people', 'departments']) {
    if (typeof filled[k] === 'string')
      filled[k] = (filled[k] as string)
        .split(/[,\n;]/)
        .map((x) => x.trim())
        .filter(Boolean);
  }
  return { ...filled, id };
}

/** The fields' values (a field left out: its default in `lang`); a required one empty → 400. */
function recipeValues(recipe: Recipe, fields: Record<string, string>, lang = 'en'): Record<string, string> {
  const missing = recipe.fields.filter((f) => f.required && !(fields[f.key] ?? defaultOf(f, lang) ?? '').trim());
  if (missing.length)
    throw new HttpError(400, 'missing_fields', `fill in: ${missing.map((f) => f.key).join(', ')}`, {
      issues: missing.map((f) => ({ path: `fields.${f.key}`, message: 'required' })),
    });
  return Object.fromEntries(recipe.fields.map((f) => [f.key, (fields[f.key] ?? defaultOf(f, lang) ?? '').trim()]));
}
