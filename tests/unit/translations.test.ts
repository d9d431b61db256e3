import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { connectors } from '../../connectors/index.ts';
import { UI_LANGS, type ConnectorTranslations, type Text } from '../../core/connector-i18n.ts';
import { loadRecipes } from '../../config/recipes.ts';

/**
 * Every word the config UI shows exists in en, zh-CN and zh-HK: the UI dictionary (config/ui/src/i18n.tsx,
 * and every literal key the UI's source asks it for), every registered connector's translations
 * (whatever connectors are registered: name, actions and their input fields, triggers and their
 * parameters, event types, connection fields, guide steps, choices) and every recipe.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
// The UI's dictionary, loaded by path: the server's tsconfig has no JSX, the UI's own checks its types.
const UI_I18N = path.join(ROOT, 'config/ui/src/i18n.tsx');
const { D } = (await import(UI_I18N)) as { D: Record<string, unknown[]> };

/** Paths of Text values (objects with a language key) that lack a language or are blank. */
function incompleteTexts(value: unknown, at: string, out: string[] = []): string[] {
  if (!value || typeof value !== 'object') return out;
  const obj = value as Record<string, unknown>;
  const isText = UI_LANGS.some((l) => l in obj) && Object.values(obj).every((v) => typeof v === 'string');
  if (isText) {
    for (const l of UI_LANGS) if (typeof obj[l] !== 'string' || !(obj[l] as string).trim()) out.push(`${at}.${l}`);
    return out;
  }
  for (const [k, v] of Object.entries(obj)) incompleteTexts(v, `${at}.${k}`, out);
  return out;
}

/** Top-level input keys of an action's schema (a union's branches together). */
function inputKeys(schema: z.ZodType): string[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
    oneOf?: { properties?: Record<string, unknown> }[];
    anyOf?: { properties?: Record<string, unknown> }[];
  };
  const branches = [js, ...(js.oneOf ?? []), ...(js.anyOf ?? [])];
  return [...new Set(branches.flatMap((b) => Object.keys(b.properties ?? {})))];
}

/** What is missing from one connector's translations, as readable paths. */
export function missingConnectorKeys(c: (typeof connectors)[number]): string[] {
  const i18n: ConnectorTranslations | undefined = c.i18n;
  if (!i18n) return [`${c.id}: no i18n (connectors/${c.id}/i18n.ts passed to defineConnector)`];
  const missing = incompleteTexts(i18n, c.id);
  const need = (ok: unknown, what: string) => {
    if (!ok) missing.push(`${c.id}: ${what}`);
  };
  need(i18n.name, 'name');
  for (const a of c.actions) {
    const entry = i18n.actions?.[a.id];
    need(entry, `actions["${a.id}"]`);
    for (const key of inputKeys(a.input)) need(entry?.fields?.[key]?.label, `actions["${a.id}"].fields.${key}.label`);
  }
  for (const t of c.triggers) {
    const entry = i18n.triggers?.[t.id];
    need(entry, `triggers["${t.id}"]`);
    for (const p of [...(t.subscription?.params ?? []), ...(t.poll?.params ?? [])])
      need(entry?.params?.[p]?.label, `triggers["${t.id}"].params.${p}.label`);
    for (const e of t.events) need(i18n.events?.[e], `events["${e}"]`);
  }
  if ('fields' in c.auth) for (const f of c.auth.fields) need(i18n.connectionFields?.[f.key]?.label, `connectionFields.${f.key}.label`);
  for (const name of Object.keys(c.choices ?? {})) need(i18n.choices?.[name], `choices.${name}`);
  return missing;
}

describe('translations', () => {
  test('the UI dictionary has every key in all three languages', () => {
    const bad = Object.entries(D)
      .filter(([, v]) => !Array.isArray(v) || v.length !== 3 || v.some((s) => typeof s !== 'string' || !s.trim()))
      .map(([k]) => k);
    assert.deepEqual(bad, [], `dictionary entries without all of [en, zh-CN, zh-HK]: ${bad.join(', ')}`);
  });

  test('every literal key the UI asks for is in the dictionary', () => {
    const dir = path.join(ROOT, 'config/ui/src');
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    const missing = new Set<string>();
    for (const f of files) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) if (!(m[1]! in D)) missing.add(`${f}: ${m[1]}`);
    }
    assert.deepEqual([...missing], []);
  });

  test('every registered connector translates every action, field, trigger, event and connection field', () => {
    assert.ok(connectors.length >= 7);
    const missing = connectors.flatMap((c) => missingConnectorKeys(c));
    assert.deepEqual(missing, []);
  });

  test('a connector that leaves out a word is caught (the check can fail)', () => {
    const trello = connectors.find((c) => c.id === 'trello')!;
    const { 'trello.card.archive': _gone, ...actions } = trello.i18n!.actions!;
    const broken = {
      ...trello,
      i18n: {
        ...trello.i18n!,
        actions,
        events: { ...trello.i18n!.events, 'trello.card.moved': { en: 'Card moved', 'zh-CN': '卡片移动', 'zh-HK': '' } as Text },
      },
    };
    const missing = missingConnectorKeys(broken);
    assert.ok(missing.includes('trello: actions["trello.card.archive"]'), missing.join('\n'));
    assert.ok(missing.includes('trello.events.trello.card.moved.zh-HK'), missing.join('\n'));
  });

  test('every recipe says its title, description and field labels in all three languages', () => {
    const missing: string[] = [];
    for (const r of loadRecipes()) {
      const texts = {
        title: r.title,
        description: r.description,
        ...Object.fromEntries(r.fields.map((f) => [`fields.${f.key}`, f.label])),
      };
      for (const [k, v] of Object.entries(texts)) {
        if (v === undefined) continue;
        if (typeof v === 'string') missing.push(`${r.id}.${k}: one string, not en / zh-CN / zh-HK`);
        else for (const l of UI_LANGS) if (!v[l]?.trim()) missing.push(`${r.id}.${k}.${l}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('every error code the server answers with has words in all three languages (err_<code>)', () => {
    // The codes: HttpError(status, 'code' | cond ? 'a' : 'b', …) and literal `error: { code: '…' }` answers, in the server's source.
    const codes = new Set<string>(['test_failed', 'needs_reauth', 'error', 'network']);
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!['node_modules', 'ui', 'dist'].includes(e.name)) walk(p);
        } else if (e.name.endsWith('.ts')) {
          const src = fs.readFileSync(p, 'utf8');
          for (const m of src.matchAll(/HttpError\(\s*\d+,\s*([^,]+),/g))
            for (const c of m[1]!.matchAll(/(?:^|[?:]\s*)'([a-z][a-z0-9_]*)'/g)) codes.add(c[1]!);
          for (const m of src.matchAll(/error: \{\s*code:\s*'([a-z][a-z0-9_]*)'/g)) codes.add(m[1]!);
        }
      }
    };
    for (const d of ['app', 'config', 'core', 'webhooks']) walk(path.join(ROOT, d));
    assert.ok(codes.size > 80, `found only ${codes.size} codes: the scan is broken`);
    const missing = [...codes].filter((c) => !D[`err_${c}`]).sort();
    assert.deepEqual(missing, [], `error codes without words (config/ui/src/error-words.ts): ${missing.join(', ')}`);
  });

  // Words left once a template's tags, placeholders and brand names are taken out (`{{ data.title }}` alone is not words).
  const words = (t: string) =>
    /[A-Za-z]{3,}/.test(
      t
        .replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\[\[[^\]]*\]\]|\]\([^)]*\)/g, ' ')
        .replace(/\b(DingTalk|Trello|Google|Drive|Gmail|QuickBooks|DocuSign|OSS|HKD|PDF|pdf)\b/g, ' '),
    );

  test("a recipe's flow name and the texts its steps send (titles, messages, buttons) are given in all three languages", () => {
    const missing: string[] = [];
    const TEXT_KEYS = new Set(['title', 'text', 'singleTitle', 'description', 'content']);
    for (const r of loadRecipes()) {
      if (!r.flow) continue; // a calendar-sync recipe sends no texts
      if (typeof r.flow.name === 'string' && words(r.flow.name)) missing.push(`${r.id}.flow.name: English only`);
      const steps = ((r.flow as { then?: { input?: Record<string, unknown> }[] }).then ?? []) as { input?: Record<string, unknown> }[];
      steps.forEach((st, i) => {
        for (const [k, v] of Object.entries(st.input ?? {}))
          if (TEXT_KEYS.has(k) && typeof v === 'string' && words(v)) missing.push(`${r.id}.then[${i}].input.${k}: English only`);
      });
    }
    assert.deepEqual(missing, []);
  });

  test("a recipe's template defaults with words a person reads are given in all three languages", () => {
    const missing: string[] = [];
    for (const r of loadRecipes())
      for (const f of r.fields) {
        if (f.kind !== 'template' || f.default === undefined) continue;
        if (typeof f.default === 'string') {
          if (words(f.default)) missing.push(`${r.id}.fields.${f.key}.default: English only`);
        } else for (const l of UI_LANGS) if (!f.default[l]?.trim()) missing.push(`${r.id}.fields.${f.key}.default.${l}`);
      }
    assert.deepEqual(missing, []);
  });
});
