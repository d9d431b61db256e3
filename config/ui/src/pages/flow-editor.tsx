import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import {
  api,
  ApiError,
  type Catalog,
  type CatalogAction,
  type Connection,
  type Flow,
  type FlowStep,
  type RunDetail,
  type User,
} from '../api.ts';
import { useLang, useT } from '../i18n.tsx';
import { DataPicker, EventChooser, insertIntoField, isSample, TemplatePreview, useSamples } from '../data-picker.tsx';
import { say, useWords } from '../words.tsx';
import { ChoiceSelect } from '../choice-select.tsx';
import { errorText, Field, Link, navigate, Notice, Switch, useLoad } from '../ui.tsx';

const blank = (): Flow => ({
  id: '',
  name: '',
  enabled: true,
  when: { event: 'catch_hook.received' },
  then: [{ action: 'http.post', input: {} }],
});
const asText = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

function ConditionPreview({ condition, eventType, source }: { condition: string; eventType: string; source?: string }) {
  const t = useT();
  const debounced = useDebounced(condition, 350);
  const [out, setOut] = useState<{ ok: boolean; condition?: boolean; error?: string }>();
  useEffect(() => {
    if (!debounced.trim()) {
      setOut(undefined);
      return;
    }
    let live = true;
    api('POST', '/api/v1/flows/preview', { condition: debounced, eventType: eventType.includes('*') ? undefined : eventType, source }).then(
      (r) => {
        if (live) setOut(r);
      },
      (e) => {
        if (live) setOut({ ok: false, error: errorText(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [debounced, eventType, source]);
  if (!out) return null;
  return (
    <output className={`preview${out.ok ? '' : ' preview-error'}`} aria-live="polite">
      {out.ok ? t(out.condition ? 'conditionTrue' : 'conditionFalse') : out.error}
    </output>
  );
}

interface InputKey {
  key: string;
  required: boolean;
  description?: string;
  type?: string;
  options?: string[];
  /** A list of plain strings (mobile numbers, user ids): a chip input. */
  chips?: boolean;
  default?: unknown;
  /** In a discriminated union (e.g. a message's `type`): the discriminator's values whose object has this field; absent when every one has it. */
  onlyFor?: { field: string; values: string[] };
}
type PropSchema = { description?: string; type?: string; enum?: unknown[]; const?: unknown; items?: { type?: string }; default?: unknown };
type ObjectSchema = { properties?: Record<string, PropSchema>; required?: string[] };

/**
 * The form's fields from the action's input schema. A discriminated union (`oneOf` of objects that
 * each fix one field to a constant, e.g. DingTalk's message `type`) becomes one list: the
 * discriminator as a select of its values, and each other field shown only for the values whose
 * object has it — the schema, not the translations, says which field belongs to which type.
 */
export function inputKeys(action?: CatalogAction): InputKey[] {
  const schema = (action?.inputSchema ?? {}) as ObjectSchema & { oneOf?: ObjectSchema[]; anyOf?: ObjectSchema[] };
  const branches = schema.oneOf ?? schema.anyOf;
  if (!branches?.length) {
    const required = new Set<string>(schema.required ?? []);
    return Object.entries(schema.properties ?? {}).map(([key, p]) => keyOf(key, p, required.has(key)));
  }
  // The discriminator: a field every branch has as a constant.
  const field = Object.keys(branches[0]?.properties ?? {}).find((k) => branches.every((b) => b.properties?.[k]?.const !== undefined));
  const values = field ? branches.map((b) => String(b.properties![field]!.const)) : [];
  const keys = new Map<string, InputKey>();
  // In the form's order: a field first seen in a later branch goes right after the field before it there (a markdown message's title after the type).
  const order: string[] = [];
  branches.forEach((b, i) => {
    let before: string | undefined;
    for (const [key, p] of Object.entries(b.properties ?? {})) {
      const seen = keys.get(key);
      if (seen) {
        if (seen.onlyFor) seen.onlyFor.values.push(values[i]!);
        before = key;
        continue;
      }
      order.splice(before === undefined ? 0 : order.indexOf(before) + 1, 0, key);
      before = key;
      if (key === field) {
        const dflt = branches.map((x) => x.properties?.[key]?.default).find((d) => d !== undefined);
        keys.set(key, { key, required: dflt === undefined, type: 'string', options: values, default: dflt, description: p.description });
        continue;
      }
      keys.set(key, {
        ...keyOf(key, p, Boolean(b.required?.includes(key))),
        ...(field ? { onlyFor: { field, values: [values[i]!] } } : {}),
      });
    }
  });
  for (const k of keys.values()) if (k.onlyFor && k.onlyFor.values.length === values.length) delete k.onlyFor;
  return order.map((k) => keys.get(k)!);
}
function keyOf(key: string, p: PropSchema, required: boolean): InputKey {
  return {
    key,
    required,
    description: p.description,
    type: p.type,
    options: Array.isArray(p.enum) && p.enum.every((v) => typeof v === 'string') ? (p.enum as string[]) : undefined,
    chips: p.type === 'array' && p.items?.type === 'string',
    default: p.default,
  };
}

/** A list of short strings as chips: type, Enter (or comma) adds; × removes. */
function ChipInput({
  id,
  value,
  onChange,
  describedBy,
  placeholder,
}: {
  id: string;
  value: string[];
  onChange: (v: string[]) => void;
  describedBy?: string;
  placeholder?: string;
}) {
  const t = useT();
  const [draft, setDraft] = useState('');
  const add = () => {
    const v = draft.trim();
    if (v) onChange([...value, v]);
    setDraft('');
  };
  return (
    <div className="chips">
      {value.map((v, i) => (
        <span key={`${v}-${i}`} className="chip">
          {v}{' '}
          <button
            type="button"
            className="chip-x"
            aria-label={`${t('removeItem')} ${v}`}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </span>
      ))}
      <input
        id={id}
        value={draft}
        placeholder={placeholder}
        aria-describedby={describedBy}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={add}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ',') {
            e.preventDefault();
            add();
          } else if (e.key === 'Backspace' && !draft && value.length) onChange(value.slice(0, -1));
        }}
      />
    </div>
  );
}
const TYPED = ['object', 'array', 'boolean', 'number', 'integer'];

/** An output's shape from its JSON schema when the action declares no sample: each field with an empty value of its type. */
function skeleton(schema: unknown, depth = 0): unknown {
  const s = (schema ?? {}) as {
    type?: string;
    properties?: Record<string, unknown>;
    items?: unknown;
    oneOf?: unknown[];
    anyOf?: unknown[];
  };
  if (depth > 4) return null;
  if (s.properties) return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, skeleton(v, depth + 1)]));
  const branch = s.oneOf?.[0] ?? s.anyOf?.[0];
  if (branch) return skeleton(branch, depth + 1);
  if (s.type === 'array') return s.items ? [skeleton(s.items, depth + 1)] : [];
  return s.type === 'number' || s.type === 'integer' ? 0 : s.type === 'boolean' ? false : '';
}

export function FlowEditorPage({ id, role }: { id: string; role: User['role'] }) {
  const t = useT();
  const { lang } = useLang();
  const w = useWords();
  const [pickerFor, setPickerFor] = useState<string>();
  const fieldRefs = useRef<Record<string, HTMLTextAreaElement | null>>({});
  const isNew = id === 'new';
  const catalog = useLoad(() => api<Catalog>('GET', '/api/v1/catalog'));
  const connections = useLoad(() => api<{ connections: Connection[] }>('GET', '/api/v1/connections').catch(() => ({ connections: [] })));
  const loaded = useLoad(() => (isNew ? Promise.resolve(blank()) : api<Flow>('GET', `/api/v1/flows/${encodeURIComponent(id)}`)), [id]);
  const [draft, setDraft] = useState<Flow>();
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<{ kind: 'success' | 'error' | 'info'; text: React.ReactNode }>();
  const [busy, setBusy] = useState(false);
  const initialDraft = useRef<Flow | undefined>(undefined);
  const samples = useSamples(draft?.when.event);
  // Earlier steps' real outputs on the chosen event, when this flow ran on it (else their declared sample).
  const [realOutputs, setRealOutputs] = useState<Record<number, unknown>>({});
  const chosenEvent = samples.chosen;
  const flowId = draft?.id;
  useEffect(() => {
    setRealOutputs({});
    if (!chosenEvent || isSample(chosenEvent) || !flowId) return;
    let live = true;
    api<RunDetail>('GET', `/api/v1/runs/${encodeURIComponent(chosenEvent.id)}`).then(
      (r) => {
        if (live)
          setRealOutputs(
            Object.fromEntries(
              r.steps.filter((st) => st.flowId === flowId && st.status === 'succeeded').map((st) => [st.stepIndex, st.output]),
            ),
          );
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [chosenEvent, flowId]);
  useEffect(() => {
    if (loaded.data) {
      const d = structuredClone(loaded.data);
      initialDraft.current = d;
      setDraft(d);
    }
  }, [loaded.data]);

  const readOnly = role === 'viewer' || draft?.meta?.origin === 'config';
  const actions = useMemo(
    () => catalog.data?.connectors.flatMap((c) => c.actions.map((a) => ({ ...a, connector: c }))) ?? [],
    [catalog.data],
  );

  // Inline validation as the admin types.
  const debouncedDraft = useDebounced(draft, 600);
  useEffect(() => {
    if (!debouncedDraft || readOnly || debouncedDraft === initialDraft.current) return;
    let live = true;
    api<{ valid: boolean; issues: { path: string; message: string }[] }>(
      'POST',
      '/api/v1/flows/validate',
      toBody(debouncedDraft, true),
    ).then(
      (r) => {
        if (live)
          setIssues(
            Object.fromEntries(r.issues.filter((i) => !(isNew && i.path === 'id' && !debouncedDraft.id)).map((i) => [i.path, i.message])),
          );
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [debouncedDraft, isNew, readOnly]);

  if (loaded.error) return <Notice kind="error">{loaded.error}</Notice>;
  if (!draft || !catalog.data) return <p className="muted">{t('loading')}</p>;

  const set = (patch: Partial<Flow>) => setDraft({ ...draft, ...patch });
  const setWhen = (patch: Partial<Flow['when']>) => setDraft({ ...draft, when: { ...draft.when, ...patch } });
  const setStep = (i: number, patch: Partial<FlowStep>) =>
    setDraft({ ...draft, then: draft.then.map((s, j) => (j === i ? { ...s, ...patch } : s)) });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setNotice(undefined);
    try {
      const body = toBody(draft, isNew);
      const saved = isNew
        ? await api<Flow>('POST', '/api/v1/flows', body)
        : await api<Flow>('PUT', `/api/v1/flows/${encodeURIComponent(id)}`, body);
      setIssues({});
      setNotice({ kind: 'success', text: t('saved') });
      if (isNew) navigate(`/flows/${encodeURIComponent(saved.id)}`);
      else setDraft(saved);
    } catch (err) {
      const list = err instanceof ApiError ? (err.body?.error?.issues as { path: string; message: string }[] | undefined) : undefined;
      if (list) {
        setIssues(Object.fromEntries(list.map((i) => [i.path, i.message])));
        setNotice({ kind: 'error', text: t('fixErrors') });
      } else setNotice({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  const runTest = async () => {
    try {
      const r = await api<{ eventId: string }>('POST', `/api/v1/flows/${encodeURIComponent(id)}/test`, {});
      setNotice({
        kind: 'info',
        text: (
          <>
            {t('testStarted')} <Link to={`/runs?event=${encodeURIComponent(r.eventId)}`}>{r.eventId}</Link>
          </>
        ),
      });
    } catch (err) {
      setNotice({ kind: 'error', text: errorText(err) });
    }
  };
  const remove = async () => {
    if (!window.confirm(t('confirmDelete'))) return;
    try {
      await api('DELETE', `/api/v1/flows/${encodeURIComponent(id)}`);
      navigate('/flows');
    } catch (err) {
      setNotice({ kind: 'error', text: errorText(err) });
    }
  };

  // The trigger's parameters (e.g. a Trello board): those the event's trigger declares, with the connector's words.
  const sourceConnection = connections.data?.connections.find((c) => c.id === draft.when.source);
  const triggerParams = catalog.data.connectors
    .flatMap((c) =>
      c.triggers
        .filter((tr) => tr.events.includes(draft.when.event) && (!sourceConnection || sourceConnection.connectorId === c.id))
        .flatMap((tr) =>
          [
            ...new Set([
              ...(tr.params ?? []),
              ...Object.keys(c.i18n?.triggers?.[tr.id]?.params ?? {}),
              ...Object.keys(draft.when.params ?? {}),
            ]),
          ].map((key) => ({ key, words: c.i18n?.triggers?.[tr.id]?.params?.[key], source: sourceConnection?.id })),
        ),
    )
    .filter((p, i, all) => all.findIndex((q) => q.key === p.key) === i);
  const hooks = catalog.data.catchHooks;
  const sourceOptions = [...hooks.map((h) => h.id), ...(connections.data?.connections.map((c) => c.id) ?? [])];

  return (
    <section aria-labelledby="editor-h">
      <div className="page-head">
        <h1 id="editor-h">
          <Link to="/flows" className="crumb">
            {t('flows')}
          </Link>{' '}
          / {isNew ? t('newFlow') : draft.name || draft.id}
        </h1>
        {draft.meta?.origin === 'config' && (
          <span className="chip">
            {t('fromConfig')} · {t('readOnly')}
          </span>
        )}
      </div>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <form onSubmit={save} className="editor" noValidate>
        <fieldset disabled={readOnly} className="card stack">
          <div className="grid-2">
            {isNew ? (
              <Field label={t('flowId')} hint={t('flowIdHint')} error={issues.id}>
                {(fid, d) => (
                  <input
                    id={fid}
                    name="id"
                    value={draft.id}
                    onChange={(e) => set({ id: e.target.value })}
                    aria-describedby={d}
                    aria-invalid={Boolean(issues.id)}
                  />
                )}
              </Field>
            ) : (
              <Field label={t('flowId')}>{(fid) => <input id={fid} value={draft.id} readOnly />}</Field>
            )}
            <Field label={t('name')} error={issues.name}>
              {(fid) => <input id={fid} name="name" value={draft.name ?? ''} onChange={(e) => set({ name: e.target.value })} />}
            </Field>
          </div>
          <div className="inline">
            <Switch checked={draft.enabled} label={draft.enabled ? t('enabled') : t('disabled')} onChange={(v) => set({ enabled: v })} />
            <span>{draft.enabled ? t('enabled') : t('disabled')}</span>
          </div>
        </fieldset>

        <fieldset disabled={readOnly} className="card stack">
          <legend>{t('trigger')}</legend>
          <div className="grid-2">
            <Field label={t('eventType')} error={issues['when.event']}>
              {(fid, d) => (
                <select
                  id={fid}
                  name="event"
                  value={draft.when.event}
                  onChange={(e) => setWhen({ event: e.target.value })}
                  aria-describedby={d}
                >
                  {[...new Set([draft.when.event, ...catalog.data!.eventTypes])].map((ev) => (
                    <option key={ev} value={ev}>
                      {w.event(ev)} ({ev})
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('source')} error={issues['when.source']}>
              {(fid) => (
                <>
                  <input
                    id={fid}
                    name="source"
                    list={`${fid}-list`}
                    value={draft.when.source ?? ''}
                    placeholder={t('anySource')}
                    onChange={(e) => setWhen({ source: e.target.value || undefined })}
                  />
                  <datalist id={`${fid}-list`}>
                    {sourceOptions.map((s) => (
                      <option key={s} value={s} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>
          </div>
          {triggerParams.map(({ key, words, source }) => {
            const value = draft.when.params?.[key] ?? '';
            const example = typeof words?.example === 'string' ? words.example : say(lang, words?.example);
            const setParam = (v: string) => {
              const params = { ...(draft.when.params ?? {}) };
              if (v) params[key] = v;
              else delete params[key];
              setWhen({ params: Object.keys(params).length ? params : undefined });
            };
            return (
              <Field
                key={key}
                label={say(lang, words?.label, key)}
                hint={[say(lang, words?.help), example ? `${t('example')} ${example}` : ''].filter(Boolean).join(' · ') || undefined}
                error={issues[`when.params.${key}`]}
              >
                {(fid, d) =>
                  words?.choices && source && !value.includes('{{') ? (
                    // A provider thing (a Trello board) chosen by name from the source connection's live list.
                    <ChoiceSelect
                      id={fid}
                      connection={source}
                      list={words.choices}
                      value={value}
                      onChange={setParam}
                      required={false}
                      describedBy={d}
                    />
                  ) : (
                    <input
                      id={fid}
                      name={`param-${key}`}
                      value={value}
                      placeholder={example}
                      onChange={(e) => setParam(e.target.value)}
                      aria-describedby={d}
                    />
                  )
                }
              </Field>
            );
          })}
          <Field label={t('condition')} hint={t('conditionHint')} error={issues['when.condition']}>
            {(fid, d) => (
              <input
                id={fid}
                name="condition"
                className="mono"
                value={draft.when.condition ?? ''}
                onChange={(e) => setWhen({ condition: e.target.value || undefined })}
                aria-describedby={d}
                aria-invalid={Boolean(issues['when.condition'])}
              />
            )}
          </Field>
          <EventChooser samples={samples} />
          {draft.when.condition && (
            <ConditionPreview condition={draft.when.condition} eventType={draft.when.event} source={draft.when.source} />
          )}
        </fieldset>

        {draft.then.map((step, i) => {
          const action = actions.find((a) => a.id === step.action);
          const needsConnection = action && action.connector.auth.kind !== 'none';
          const keys = inputKeys(action);
          const extra: InputKey[] = Object.keys(step.input)
            .filter((k) => !keys.some((x) => x.key === k))
            .map((key) => ({ key, required: false }));
          return (
            <fieldset key={i} disabled={readOnly} className="card stack step" data-step={i}>
              <legend>
                {t('steps')} · {t('step')} {i + 1}
              </legend>
              <div className="grid-2">
                <Field label={t('action')} error={issues[`then.${i}.action`]}>
                  {(fid, d) => (
                    <select
                      id={fid}
                      name={`step-${i}-action`}
                      value={step.action}
                      onChange={(e) => setStep(i, { action: e.target.value, input: {} })}
                      aria-describedby={d}
                    >
                      {!action && <option value={step.action}>{step.action}</option>}
                      {catalog
                        .data!.connectors.filter((c) => c.actions.length)
                        .map((c) => (
                          <optgroup key={c.id} label={w.connector(c)}>
                            {c.actions.map((a) => (
                              <option key={a.id} value={a.id}>
                                {w.action(a.id)}
                              </option>
                            ))}
                          </optgroup>
                        ))}
                    </select>
                  )}
                </Field>
                {needsConnection && (
                  <Field label={t('connection')} error={issues[`then.${i}.connection`]}>
                    {(fid) => (
                      <select
                        id={fid}
                        name={`step-${i}-connection`}
                        value={step.connection ?? ''}
                        onChange={(e) => setStep(i, { connection: e.target.value || undefined })}
                      >
                        <option value="">{t('none')}</option>
                        {connections.data?.connections
                          .filter((c) => c.connectorId === action!.connector.id)
                          .map((c) => (
                            <option key={c.id} value={c.id}>
                              {c.label}
                            </option>
                          ))}
                      </select>
                    )}
                  </Field>
                )}
              </div>
              {action &&
                say(lang, action.connector.i18n?.actions?.[action.id]?.description, lang === 'en' ? (action.description ?? '') : '') && (
                  <p className="muted small">
                    {say(lang, action.connector.i18n?.actions?.[action.id]?.description, action.description ?? '')}
                  </p>
                )}
              {[...keys, ...extra].map((k) => {
                const secret = action?.secretInputs.includes(k.key);
                const value = asText(step.input[k.key]);
                const words = w.field(step.action, k.key);
                // Fields of one message type only show for that type (e.g. DingTalk's singleUrl for an ActionCard): the schema's union says which.
                if (k.onlyFor) {
                  const other = keys.find((x) => x.key === k.onlyFor!.field);
                  const current = String(step.input[k.onlyFor.field] ?? other?.default ?? '');
                  if (!k.onlyFor.values.includes(current) && step.input[k.key] === undefined) return null;
                }
                const example = typeof words?.example === 'string' ? words.example : say(lang, words?.example);
                const setValue = (v: unknown) => {
                  const input = { ...step.input };
                  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) delete input[k.key];
                  else input[k.key] = v;
                  setStep(i, { input });
                };
                const pickerKey = `${i}.${k.key}`;
                const chosen = Boolean(words?.choices && step.connection && !value.includes('{{'));
                const isTemplate =
                  !secret && !chosen && !k.options && !k.chips && k.type !== 'boolean' && !(k.type && TYPED.includes(k.type));
                const earlier = draft.then.slice(0, i).map((s2, j) => {
                  const declared = actions.find((a) => a.id === s2.action);
                  const real = j in realOutputs;
                  return {
                    title: `${t('step')} ${j + 1}: ${w.action(s2.action)}${real ? '' : ` (${t('declaredSample')})`}`,
                    root: `steps[${j}].output`,
                    value: real ? realOutputs[j] : (declared?.sampleOutput ?? skeleton(declared?.outputSchema) ?? {}),
                  };
                });
                const err = Object.entries(issues).find(
                  ([p]) => p === `then.${i}.input.${k.key}` || p.startsWith(`then.${i}.input.${k.key}.`),
                )?.[1];
                return (
                  <Field
                    key={k.key}
                    label={
                      <>
                        {say(lang, words?.label, k.key)} {k.required ? <span className="muted small">({t('required')})</span> : null}
                      </>
                    }
                    hint={
                      [
                        say(lang, words?.help, k.description ?? ''),
                        k.chips ? t('chipsHint') : !words?.help && (k.type === 'object' || k.type === 'array') ? t('jsonHint') : '',
                        example && !k.options ? `${t('example')} ${example}` : '',
                      ]
                        .filter(Boolean)
                        .join(' · ') || undefined
                    }
                    error={err}
                  >
                    {(fid, d) => (
                      <>
                        {k.options ? (
                          <select
                            id={fid}
                            name={`step-${i}-${k.key}`}
                            value={value || (k.default !== undefined ? String(k.default) : '')}
                            onChange={(e) => {
                              const input = { ...step.input };
                              if (e.target.value === '') delete input[k.key];
                              else input[k.key] = e.target.value;
                              setStep(i, { input });
                            }}
                            aria-describedby={d}
                          >
                            <option value="">{t('none')}</option>
                            {k.options.map((o) => (
                              <option key={o} value={o}>
                                {say(lang, words?.options?.[o], o)}
                              </option>
                            ))}
                          </select>
                        ) : k.type === 'boolean' ? (
                          <Switch
                            checked={Boolean(step.input[k.key] ?? k.default)}
                            label={say(lang, words?.label, k.key)}
                            onChange={(v) => setValue(v)}
                          />
                        ) : k.chips ? (
                          <ChipInput
                            id={fid}
                            value={Array.isArray(step.input[k.key]) ? (step.input[k.key] as unknown[]).map(String) : []}
                            onChange={(v) => setValue(v)}
                            describedBy={d}
                            placeholder={example}
                          />
                        ) : words?.choices && step.connection && !value.includes('{{') ? (
                          // A provider thing (a DingTalk group, an approval form) chosen by name from the connection's live list.
                          <ChoiceSelect
                            id={fid}
                            connection={step.connection}
                            list={words.choices}
                            value={value}
                            onChange={(v) => setValue(v)}
                            required={k.required}
                            describedBy={d}
                          />
                        ) : secret ? (
                          <input
                            id={fid}
                            name={`step-${i}-${k.key}`}
                            type="password"
                            autoComplete="new-password"
                            value={value}
                            onChange={(e) => setStep(i, { input: { ...step.input, [k.key]: e.target.value } })}
                            aria-describedby={d}
                          />
                        ) : (
                          <textarea
                            id={fid}
                            name={`step-${i}-${k.key}`}
                            className="mono"
                            rows={k.key === 'body' || k.key === 'text' || value.length > 60 ? 3 : 1}
                            placeholder={example}
                            ref={(el) => {
                              fieldRefs.current[pickerKey] = el;
                            }}
                            value={value}
                            onChange={(e) => {
                              const v = e.target.value;
                              const input = { ...step.input };
                              let parsed: unknown = v;
                              if (k.type && TYPED.includes(k.type) && v.trim() && !v.includes('{{')) {
                                try {
                                  parsed = JSON.parse(v);
                                } catch {
                                  /* kept as text: validation says why */
                                }
                              }
                              if (v === '') delete input[k.key];
                              else input[k.key] = parsed;
                              setStep(i, { input });
                            }}
                            aria-describedby={d}
                            aria-invalid={Boolean(err)}
                          />
                        )}
                        {isTemplate && (
                          <TemplatePreview
                            template={value}
                            event={samples.chosen}
                            stepOutputs={earlier.length ? earlier.map((e) => e.value) : undefined}
                          />
                        )}
                        {isTemplate && !readOnly && (
                          <button
                            type="button"
                            className="btn btn-small btn-ghost"
                            aria-expanded={pickerFor === pickerKey}
                            onClick={() => setPickerFor(pickerFor === pickerKey ? undefined : pickerKey)}
                          >
                            {t('dataPicker')}
                          </button>
                        )}
                        {isTemplate && pickerFor === pickerKey && (
                          <DataPicker
                            event={samples.chosen}
                            steps={earlier}
                            label={say(lang, words?.label, k.key)}
                            onInsert={(expr) => {
                              insertIntoField(fieldRefs.current[pickerKey] ?? null, value, expr, setValue);
                            }}
                          />
                        )}
                      </>
                    )}
                  </Field>
                );
              })}
              {draft.then.length > 1 && (
                <div>
                  <button
                    type="button"
                    className="btn btn-ghost btn-small"
                    onClick={() => set({ then: draft.then.filter((_, j) => j !== i) })}
                  >
                    {t('removeStep')}
                  </button>
                </div>
              )}
            </fieldset>
          );
        })}

        {!readOnly && (
          <div className="actions sticky-actions">
            <button className="btn btn-primary" disabled={busy}>
              {t('save')}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => set({ then: [...draft.then, { action: draft.then.at(-1)?.action ?? 'http.post', input: {} }] })}
            >
              {t('addStep')}
            </button>
            {!isNew && (
              <button type="button" className="btn" onClick={runTest}>
                {t('runTest')}
              </button>
            )}
            {!isNew && (
              <button type="button" className="btn btn-danger" onClick={remove}>
                {t('delete')}
              </button>
            )}
          </div>
        )}
      </form>
    </section>
  );
}

function toBody(f: Flow, isNew: boolean) {
  const { meta: _m, lastRun: _l, ...rest } = f;
  const body: Record<string, unknown> = {
    ...rest,
    name: rest.name || undefined,
    when: { ...rest.when, source: rest.when.source || undefined, condition: rest.when.condition || undefined },
  };
  if (!isNew) delete body.id;
  return body;
}
