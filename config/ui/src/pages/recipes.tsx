import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, type Connection, type Flow, type Recipe } from '../api.ts';
import { pick, useLang, useT } from '../i18n.tsx';
import { ChoiceSelect } from '../choice-select.tsx';
import { DataPicker, EventChooser, insertIntoField, TemplatePreview, useSamples } from '../data-picker.tsx';
import { Empty, errorText, Field, Link, navigate, Notice, useLoad } from '../ui.tsx';
import { formatMoney, useCatalog, useWords } from '../words.tsx';

/**
 * Recipes first: a gallery of what the hub can do (each with a picture of what happens), filters by
 * service, and a form that asks only the recipe's fields — connections and provider things (a Trello
 * board) chosen by name from live lists, templates filled with the data picker.
 */
const SERVICE_MARK: Record<string, string> = { dingtalk: '钉', trello: 'T', http: '⇢', catch_hook: '⇠', schedule: '⏱', oauth2: '🔑' };

function ServiceMark({ id }: { id: string }) {
  return (
    <span className={`svc svc-${id}`} aria-hidden="true">
      {SERVICE_MARK[id] ?? id.slice(0, 1).toUpperCase()}
    </span>
  );
}

/** "Trello card moved → DingTalk group": the recipe's trigger and actions, in the chosen language. */
export function RecipePicture({ recipe }: { recipe: Recipe }) {
  const w = useWords();
  const t = useT();
  if (recipe.makes === 'calendarSync') {
    // A two-way sync: its services, both ways.
    const [a, b] = recipe.services ?? [];
    return (
      <div className="recipe-pic">
        <span className="pic-step">{a && <ServiceMark id={a} />}</span>
        <span className="pic-step">
          <span className="pic-arrow" aria-hidden="true">
            ⇄
          </span>
          {b && <ServiceMark id={b} />}
          <span>{t('twoWay')}</span>
        </span>
      </div>
    );
  }
  const from = recipe.event ? w.serviceOf(recipe.event) : undefined;
  return (
    <div className="recipe-pic">
      <span className="pic-step">
        {from && <ServiceMark id={from} />}
        <span>{recipe.event ? w.event(recipe.event) : ''}</span>
      </span>
      {(recipe.actions ?? []).map((a, i) => (
        <span key={`${a}-${i}`} className="pic-step">
          <span className="pic-arrow" aria-hidden="true">
            →
          </span>
          <ServiceMark id={(w.serviceOf(a) ?? '').replace(/_robot$/, '')} />
          <span>{w.action(a)}</span>
        </span>
      ))}
    </div>
  );
}

export function RecipesPage() {
  const t = useT();
  const { lang } = useLang();
  const w = useWords();
  const recipes = useLoad(() => api<{ items: Recipe[] }>('GET', '/api/v1/recipes'));
  const [service, setService] = useState<string>('');
  const chosenId = new URLSearchParams(window.location.search).get('recipe');
  const chosen = recipes.data?.items.find((r) => r.id === chosenId);
  const services = [...new Set((recipes.data?.items ?? []).flatMap((r) => r.services ?? []))].sort();
  const shown = (recipes.data?.items ?? []).filter((r) => !service || r.services?.includes(service));

  if (chosen) return <RecipeForm recipe={chosen} />;
  return (
    <section aria-labelledby="recipes-h">
      <div className="page-head">
        <h1 id="recipes-h">{t('recipes')}</h1>
        <Link to="/flows/new" className="btn">
          {t('newFlow')}
        </Link>
      </div>
      <p className="muted">{t('recipesIntro')}</p>
      {recipes.error && <Notice kind="error">{recipes.error}</Notice>}
      <fieldset className="filters" aria-label={t('filterByService')}>
        <button type="button" className="chip-btn" aria-pressed={service === ''} onClick={() => setService('')}>
          {t('allServices')}
        </button>
        {services.map((s) => (
          <button key={s} type="button" className="chip-btn" aria-pressed={service === s} data-service={s} onClick={() => setService(s)}>
            <ServiceMark id={s} /> {w.connector(s)}
          </button>
        ))}
      </fieldset>
      {recipes.data && shown.length === 0 && (
        <Empty>
          <p>{t('noRecipes')}</p>
        </Empty>
      )}
      <ul className="gallery" aria-label={t('recipes')}>
        {shown.map((r) => (
          <li key={r.id}>
            <a
              href={`/recipes?recipe=${encodeURIComponent(r.id)}`}
              className="recipe-card"
              data-recipe={r.id}
              onClick={(e) => {
                e.preventDefault();
                navigate(`/recipes?recipe=${encodeURIComponent(r.id)}`);
              }}
            >
              <RecipePicture recipe={r} />
              <strong className="recipe-title">{pick(lang, r.title)}</strong>
              <span className="muted small">{pick(lang, r.description)}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RecipeForm({ recipe }: { recipe: Recipe }) {
  const t = useT();
  const { lang } = useLang();
  const w = useWords();
  const catalog = useCatalog();
  const connections = useLoad(() => api<{ connections: Connection[] }>('GET', '/api/v1/connections').catch(() => ({ connections: [] })));
  const [flowId, setFlowId] = useState(recipe.id);
  // Defaults in the admin's language (a template's words); a field the admin has not touched follows a change of language.
  const [fields, setFields] = useState<Record<string, string>>(() =>
    Object.fromEntries(recipe.fields.map((f) => [f.key, pick(lang, f.default)])),
  );
  const touched = useRef(new Set<string>());
  // The names of chosen live choices (a board's name), so the flow's name says them rather than ids.
  const labels = useRef<Record<string, string>>({});
  useEffect(() => {
    setFields((old) => ({
      ...old,
      ...Object.fromEntries(
        recipe.fields.filter((f) => !touched.current.has(f.key) && f.default).map((f) => [f.key, pick(lang, f.default)]),
      ),
    }));
  }, [lang, recipe.fields]);
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const samples = useSamples(recipe.event?.includes('[[') ? undefined : recipe.event);
  const refs = useRef<Record<string, HTMLTextAreaElement | null>>({});
  useEffect(() => {
    // The first catch hook is the likely one.
    const hookField = recipe.fields.find((f) => f.kind === 'catch_hook');
    if (hookField && !fields[hookField.key] && catalog?.catchHooks[0])
      setFields((v) => ({ ...v, [hookField.key]: catalog.catchHooks[0]!.id }));
  }, [catalog, recipe.fields, fields]);

  const set = (k: string, v: string) => {
    touched.current.add(k);
    setFields((old) => ({ ...old, [k]: v }));
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setIssues({});
    setError(undefined);
    try {
      const made = await api<Flow & { calendarSync?: { id: string } }>('POST', `/api/v1/recipes/${recipe.id}/instantiate`, {
        flowId,
        fields,
        lang,
        labels: labels.current,
      });
      // A calendar sync's state per person is on the Triggers page.
      navigate(made.calendarSync ? '/triggers' : `/flows/${encodeURIComponent(made.id)}`);
    } catch (err) {
      const list = err instanceof ApiError ? (err.body?.error?.issues as { path: string; message: string }[] | undefined) : undefined;
      if (list) setIssues(Object.fromEntries(list.map((i) => [i.path.replace(/^fields\./, ''), i.message])));
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="recipe-h">
      <div className="page-head">
        <h1 id="recipe-h">
          <Link to="/recipes" className="crumb">
            {t('recipes')}
          </Link>{' '}
          / {pick(lang, recipe.title)}
        </h1>
      </div>
      <div className="card stack">
        <RecipePicture recipe={recipe} />
        <p className="muted">{pick(lang, recipe.description)}</p>
      </div>
      <form onSubmit={submit} className="stack recipe-form card" noValidate>
        {error && <Notice kind="error">{error}</Notice>}
        <Field
          label={recipe.makes === 'calendarSync' ? t('calendarSyncId') : t('flowId')}
          hint={recipe.makes === 'calendarSync' ? t('calendarSyncIdHint') : t('flowIdHint')}
          error={issues.flowId}
        >
          {(id, d) => (
            <input
              id={id}
              name="flowId"
              required
              pattern="[A-Za-z0-9][A-Za-z0-9_\-]{0,63}"
              value={flowId}
              onChange={(e) => setFlowId(e.target.value)}
              aria-describedby={d}
            />
          )}
        </Field>
        {recipe.fields.map((f) => {
          const value = fields[f.key] ?? '';
          const money = f.key === 'threshold' && /^\d+(\.\d+)?$/.test(value) ? formatMoney(Number(value), 'HKD', lang) : undefined;
          const hint =
            f.kind === 'template'
              ? undefined
              : f.kind === 'catch_hook' && !catalog?.catchHooks.length
                ? t('noHooks')
                : f.kind === 'connection' && !connections.data?.connections.some((c) => c.connectorId === f.connector)
                  ? `${t('noConnectionYet')} (${w.connector(f.connector ?? '')})`
                  : money;
          return (
            <div key={f.key} className={f.kind === 'template' ? 'template-row' : undefined}>
              <Field
                label={
                  <>
                    {pick(lang, f.label)} {!f.required && <span className="muted small">({t('optional')})</span>}
                  </>
                }
                error={issues[f.key]}
                hint={hint}
              >
                {(id, d) => {
                  if (f.kind === 'catch_hook')
                    return (
                      <select
                        id={id}
                        name={f.key}
                        value={value}
                        onChange={(e) => set(f.key, e.target.value)}
                        required={f.required}
                        aria-describedby={d}
                      >
                        <option value="">{t('none')}</option>
                        {catalog?.catchHooks.map((h) => (
                          <option key={h.id} value={h.id}>
                            {h.name ? `${h.name} (${h.id})` : h.id}
                          </option>
                        ))}
                      </select>
                    );
                  if (f.kind === 'connection')
                    return (
                      <select
                        id={id}
                        name={f.key}
                        value={value}
                        onChange={(e) => set(f.key, e.target.value)}
                        required={f.required}
                        aria-describedby={d}
                      >
                        <option value="">{t('choose')}</option>
                        {connections.data?.connections
                          .filter((c) => !f.connector || c.connectorId === f.connector)
                          .map((c) => (
                            <option key={c.id} value={c.id}>
                              {c.label}
                            </option>
                          ))}
                      </select>
                    );
                  if (f.kind === 'choice')
                    return (
                      <ChoiceSelect
                        id={id}
                        connection={fields[f.from ?? ''] ?? ''}
                        list={f.choices ?? ''}
                        value={value}
                        onChange={(v, label) => {
                          labels.current[f.key] = label ?? '';
                          set(f.key, v);
                        }}
                        required={f.required}
                        describedBy={d}
                      />
                    );
                  if (f.kind === 'template')
                    return (
                      <textarea
                        id={id}
                        name={f.key}
                        rows={3}
                        value={value}
                        ref={(el) => {
                          refs.current[f.key] = el;
                        }}
                        onChange={(e) => set(f.key, e.target.value)}
                        required={f.required}
                        aria-describedby={d}
                      />
                    );
                  return (
                    <input
                      id={id}
                      name={f.key}
                      type={f.kind === 'url' ? 'url' : 'text'}
                      placeholder={f.placeholder}
                      value={value}
                      onChange={(e) => set(f.key, e.target.value)}
                      required={f.required}
                      aria-describedby={d}
                    />
                  );
                }}
              </Field>
              {f.kind === 'template' && (
                <>
                  <TemplatePreview template={value} event={samples.chosen} />
                  <DataPicker
                    event={samples.chosen}
                    label={pick(lang, f.label)}
                    onInsert={(expr) => {
                      insertIntoField(refs.current[f.key] ?? null, fields[f.key] ?? '', expr, (next) => set(f.key, next));
                    }}
                  />
                </>
              )}
            </div>
          );
        })}
        <EventChooser samples={samples} />
        <div className="actions">
          <button className="btn btn-primary">{t('create')}</button>
          <Link to="/recipes" className="btn btn-ghost">
            {t('back')}
          </Link>
        </div>
      </form>
    </section>
  );
}
