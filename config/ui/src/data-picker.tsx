import { useEffect, useId, useState } from 'react';
import { flushSync } from 'react-dom';
import { api } from './api.ts';
import { useLang, useT } from './i18n.tsx';
import { errorText } from './ui.tsx';
import { formatTime } from './words.tsx';

/**
 * The data picker beside a template field: the fields of the trigger's event (from recent real events
 * when there are some, else the trigger's declared sample) and of earlier steps' outputs, with their
 * values; a click inserts `{{ data.card.name }}`. The live preview renders the template on the chosen
 * event and names the fields that render empty.
 */
export interface SampleEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}
export const isSample = (e: SampleEvent | undefined) => !e || e.id.startsWith('sample_');

/** Recent events of a type (newest first), or the declared sample when none happened yet. */
export function useSamples(eventType: string | undefined) {
  const [items, setItems] = useState<SampleEvent[]>([]);
  const [chosen, setChosen] = useState<string>();
  useEffect(() => {
    if (!eventType) return;
    let live = true;
    api<{ items: SampleEvent[] }>('GET', `/api/v1/events/samples?type=${encodeURIComponent(eventType)}&limit=5`).then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setChosen(r.items[0]?.id);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [eventType]);
  return { items, chosen: items.find((i) => i.id === chosen) ?? items[0], choose: setChosen };
}

/** Leaf paths of a value (objects and the first items of lists), at most `limit`. */
export function leaves(
  value: unknown,
  prefix: string,
  out: { path: string; value: unknown }[] = [],
  depth = 0,
): { path: string; value: unknown }[] {
  if (out.length > 80) return out;
  if (value && typeof value === 'object' && depth < 5) {
    if (Array.isArray(value)) {
      if (value.length === 0 || value.every((v) => typeof v !== 'object')) out.push({ path: prefix, value });
      else for (const [i, v] of value.slice(0, 2).entries()) leaves(v, `${prefix}[${i}]`, out, depth + 1);
    } else {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${prefix}.${k}` : `${prefix}["${k.replace(/"/g, '\\"')}"]`;
        leaves(v, key, out, depth + 1);
      }
    }
  } else out.push({ path: prefix, value });
  return out;
}
const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

export function EventChooser({ samples }: { samples: ReturnType<typeof useSamples> }) {
  const t = useT();
  const { lang } = useLang();
  const id = useId();
  if (!samples.items.length) return null;
  return (
    <div className="event-chooser">
      <label htmlFor={id} className="small">
        {t('previewOn')}
      </label>
      <select id={id} value={samples.chosen?.id ?? ''} onChange={(e) => samples.choose(e.target.value)}>
        {samples.items.map((e) => (
          <option key={e.id} value={e.id}>
            {isSample(e) ? t('sampleNoReal') : `${formatTime(e.timestamp, lang)} · ${e.id}`}
          </option>
        ))}
      </select>
    </div>
  );
}

export function DataPicker({
  event,
  steps = [],
  onInsert,
  label,
}: {
  event: SampleEvent | undefined;
  steps?: { title: string; root: string; value: unknown }[];
  onInsert: (expr: string) => void;
  label: string;
}) {
  const t = useT();
  const groups = [
    { title: isSample(event) ? `${t('eventFields')} (${t('sampleNoReal')})` : t('eventFields'), items: leaves(event?.data ?? {}, 'data') },
    ...steps.map((s) => ({ title: s.title, items: leaves(s.value ?? {}, s.root) })),
  ];
  return (
    <fieldset className="picker" aria-label={`${t('dataPicker')}: ${label}`}>
      <div className="picker-head small">{t('dataPickerHint')}</div>
      {groups.map((g) => (
        <div key={g.title} className="picker-group">
          <div className="picker-title small">{g.title}</div>
          {g.items.length === 0 && <div className="muted small">—</div>}
          <ul>
            {g.items.map((it) => (
              <li key={it.path}>
                <button type="button" className="pick" data-path={it.path} onClick={() => onInsert(`{{ ${it.path} }}`)}>
                  <span className="sr-only">{t('insert')} </span>
                  <code>{it.path.replace(/^data\./, '')}</code>
                  <span className="pick-value">{show(it.value)}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </fieldset>
  );
}

/** Value at a simple path (`data.card.name`, `data.form["Amount"]`) of the template scope, for "renders empty" marks. */
function valueAt(scope: Record<string, unknown>, path: string): unknown {
  const parts = [...path.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]/g)].map((m) => m[1] ?? m[2] ?? Number(m[3]));
  let v: unknown = scope;
  for (const p of parts) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p as string];
  }
  return v;
}
/** The `{{ path }}` references of a template that are simple paths (no filters). */
export function simpleRefs(template: string): string[] {
  return [...new Set([...template.matchAll(/\{\{\s*((?:data|steps)[\w.[\]"]*)\s*(?:\|[^}]*)?\}\}/g)].map((m) => m[1]!))];
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** Renders the template on the chosen event, live, and marks the fields that render empty. */
export function TemplatePreview({
  template,
  event,
  stepOutputs,
}: {
  template: string;
  event: SampleEvent | undefined;
  stepOutputs?: unknown[];
}) {
  const t = useT();
  const debounced = useDebounced(template, 300);
  const [out, setOut] = useState<{ ok: boolean; output?: unknown; error?: string }>();
  useEffect(() => {
    if (!debounced || !debounced.includes('{') || !event) {
      setOut(undefined);
      return;
    }
    let live = true;
    const body = isSample(event)
      ? { mapping: debounced, eventType: event.type, data: event.data, ...(stepOutputs ? { stepOutputs } : {}) }
      : { mapping: debounced, eventId: event.id, ...(stepOutputs ? { stepOutputs } : {}) };
    api('POST', '/api/v1/flows/preview', body).then(
      (r) => live && setOut(r),
      (e) => live && setOut({ ok: false, error: errorText(e) }),
    );
    return () => {
      live = false;
    };
  }, [debounced, event, stepOutputs]);
  if (!out || !event) return null;
  const scope = { data: event.data, steps: (stepOutputs ?? []).map((o) => ({ output: o })) };
  const empty = simpleRefs(debounced).filter((p) => {
    const v = valueAt(scope, p);
    return v === undefined || v === null || v === '';
  });
  return (
    <output className={`preview${out.ok ? '' : ' preview-error'}`} aria-live="polite">
      <span className="preview-label">{t('preview')}:</span>{' '}
      {out.ok ? (typeof out.output === 'string' ? out.output : JSON.stringify(out.output)) : out.error}
      {empty.length > 0 && (
        <span className="renders-empty" data-empty={empty.join(' ')}>
          {' '}
          ⚠ {t('rendersEmpty')}: {empty.map((p) => p.replace(/^data\./, '')).join(', ')}
        </span>
      )}
    </output>
  );
}

/** Inserts text at the caret of a textarea or input (or at the end), returning the new value. */
export function insertAt(el: HTMLTextAreaElement | HTMLInputElement | null, value: string, text: string): { value: string; caret: number } {
  const start = el?.selectionStart ?? value.length;
  const end = el?.selectionEnd ?? value.length;
  return { value: value.slice(0, start) + text + value.slice(end), caret: start + text.length };
}

/**
 * Inserts a picked expression into a controlled field and puts the caret right after it before
 * returning: the new value is committed synchronously (flushSync), so a key typed straight after the
 * click lands after the expression, not where the caret was before React re-rendered.
 */
export function insertIntoField(
  el: HTMLTextAreaElement | HTMLInputElement | null,
  value: string,
  text: string,
  setValue: (next: string) => void,
): void {
  const next = insertAt(el, value, text);
  flushSync(() => setValue(next.value));
  el?.focus();
  el?.setSelectionRange(next.caret, next.caret);
}
