import { useState, type FormEvent } from 'react';
import { api, ApiError, type Catalog, type Connection, type Flow, type Recipe, type User } from '../api.ts';
import { pick, useLang, useT } from '../i18n.tsx';
import { Empty, errorText, Field, Link, Modal, navigate, Notice, StatusBadge, Switch, Time, useLoad } from '../ui.tsx';

export function FlowsPage({ role }: { role: User['role'] }) {
  const t = useT();
  const flows = useLoad(() => api<{ items: Flow[] }>('GET', '/api/v1/flows'));
  const [error, setError] = useState<string>();
  const [recipeOpen, setRecipeOpen] = useState(false);
  const canEdit = role !== 'viewer';

  const toggle = async (f: Flow, on: boolean) => {
    try {
      const updated = await api<Flow>('POST', `/api/v1/flows/${encodeURIComponent(f.id)}/${on ? 'enable' : 'disable'}`);
      flows.setData({ items: flows.data!.items.map((x) => (x.id === f.id ? updated : x)) });
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section aria-labelledby="flows-h">
      <div className="page-head">
        <h1 id="flows-h">{t('flows')}</h1>
        {canEdit && (
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={() => setRecipeOpen(true)}>
              {t('newFromRecipe')}
            </button>
            <button type="button" className="btn" onClick={() => navigate('/flows/new')}>
              {t('newFlow')}
            </button>
          </div>
        )}
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {flows.error && <Notice kind="error">{flows.error}</Notice>}
      {flows.data && flows.data.items.length === 0 && (
        <Empty>
          <p>{t('noFlows')}</p>
          {canEdit && (
            <button type="button" className="btn btn-primary" onClick={() => setRecipeOpen(true)}>
              {t('newFromRecipe')}
            </button>
          )}
        </Empty>
      )}
      {flows.data && flows.data.items.length > 0 && (
        <ul className="card-list" aria-label={t('flows')}>
          {flows.data.items.map((f) => {
            const readOnly = f.meta?.origin === 'config';
            return (
              <li key={f.id} className="card flow-card" data-flow={f.id}>
                <div className="flow-main">
                  <Switch
                    checked={f.enabled}
                    label={`${f.name ?? f.id}: ${f.enabled ? t('enabled') : t('disabled')}`}
                    disabled={!canEdit || readOnly}
                    onChange={(on) => toggle(f, on)}
                  />
                  <div className="flow-text">
                    <Link to={`/flows/${encodeURIComponent(f.id)}`} className="flow-name">
                      {f.name ?? f.id}
                    </Link>
                    <div className="muted small">
                      <code>{f.when.event}</code>
                      {f.when.source ? <> · {f.when.source}</> : null} → {f.then.map((s) => s.action).join(' → ')}
                    </div>
                  </div>
                </div>
                <div className="flow-side">
                  {readOnly && (
                    <span className="chip" title={t('readOnly')}>
                      {t('fromConfig')} · {t('readOnly')}
                    </span>
                  )}
                  <span className="small muted">{t('lastRun')}:</span>{' '}
                  {f.lastRun ? (
                    <>
                      <StatusBadge status={f.lastRun.status === 'dead' ? 'failed' : f.lastRun.status} />{' '}
                      <span className="small">
                        <Time at={f.lastRun.at} />
                      </span>
                    </>
                  ) : (
                    <span className="small muted">{t('never')}</span>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {recipeOpen && <RecipeDialog onClose={() => setRecipeOpen(false)} />}
    </section>
  );
}

function RecipeDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const { lang } = useLang();
  const recipes = useLoad(() => api<{ items: Recipe[] }>('GET', '/api/v1/recipes'));
  const catalog = useLoad(() => api<Catalog>('GET', '/api/v1/catalog'));
  const connections = useLoad(() => api<{ connections: Connection[] }>('GET', '/api/v1/connections').catch(() => ({ connections: [] })));
  const [chosen, setChosen] = useState<Recipe>();
  const [flowId, setFlowId] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();

  const choose = (r: Recipe) => {
    setChosen(r);
    setFlowId(r.id);
    setFields(
      Object.fromEntries(
        r.fields.map((f) => [f.key, f.default ?? (f.kind === 'catch_hook' ? (catalog.data?.catchHooks[0]?.id ?? '') : '')]),
      ),
    );
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setIssues({});
    try {
      const flow = await api<Flow>('POST', `/api/v1/recipes/${chosen!.id}/instantiate`, { flowId, fields });
      navigate(`/flows/${encodeURIComponent(flow.id)}`);
    } catch (err) {
      const list = err instanceof ApiError ? (err.body?.error?.issues as { path: string; message: string }[] | undefined) : undefined;
      if (list) setIssues(Object.fromEntries(list.map((i) => [i.path.replace(/^fields\./, ''), i.message])));
      setError(errorText(err));
    }
  };

  return (
    <Modal title={t('newFromRecipe')} onClose={onClose}>
      {!chosen && (
        <ul className="recipe-list">
          {recipes.data?.items.map((r) => (
            <li key={r.id}>
              <button type="button" className="recipe" onClick={() => choose(r)} data-recipe={r.id}>
                <strong>{pick(lang, r.title)}</strong>
                <span className="muted small">{pick(lang, r.description)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {chosen && (
        <form onSubmit={submit} className="stack">
          <p className="muted">{pick(lang, chosen.description)}</p>
          {error && <Notice kind="error">{error}</Notice>}
          <Field label={t('flowId')} hint={t('flowIdHint')} error={issues.flowId}>
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
          {chosen.fields.map((f) => (
            <Field
              key={f.key}
              label={
                <>
                  {pick(lang, f.label)} {!f.required && <span className="muted small">({t('optional')})</span>}
                </>
              }
              error={issues[f.key]}
              hint={
                f.kind === 'template'
                  ? t('templateHint')
                  : f.kind === 'catch_hook' && !catalog.data?.catchHooks.length
                    ? t('noHooks')
                    : undefined
              }
            >
              {(id, d) => {
                const value = fields[f.key] ?? '';
                const set = (v: string) => setFields({ ...fields, [f.key]: v });
                if (f.kind === 'catch_hook') {
                  return (
                    <select
                      id={id}
                      name={f.key}
                      value={value}
                      onChange={(e) => set(e.target.value)}
                      required={f.required}
                      aria-describedby={d}
                    >
                      <option value="">{t('none')}</option>
                      {catalog.data?.catchHooks.map((h) => (
                        <option key={h.id} value={h.id}>
                          {h.name ? `${h.name} (${h.id})` : h.id}
                        </option>
                      ))}
                    </select>
                  );
                }
                if (f.kind === 'connection') {
                  return (
                    <select
                      id={id}
                      name={f.key}
                      value={value}
                      onChange={(e) => set(e.target.value)}
                      required={f.required}
                      aria-describedby={d}
                    >
                      <option value="">{t('none')}</option>
                      {connections.data?.connections
                        .filter((c) => !f.connector || c.connectorId === f.connector)
                        .map((c) => (
                          <option key={c.id} value={c.id}>
                            {c.label}
                          </option>
                        ))}
                    </select>
                  );
                }
                if (f.kind === 'template')
                  return (
                    <textarea
                      id={id}
                      name={f.key}
                      rows={3}
                      value={value}
                      onChange={(e) => set(e.target.value)}
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
                    onChange={(e) => set(e.target.value)}
                    required={f.required}
                    aria-describedby={d}
                  />
                );
              }}
            </Field>
          ))}
          <div className="actions">
            <button className="btn btn-primary">{t('create')}</button>
            <button type="button" className="btn btn-ghost" onClick={() => setChosen(undefined)}>
              {t('back')}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
