import { useState } from 'react';
import { api, type Flow, type User } from '../api.ts';
import { useWords } from '../words.tsx';
import { useT } from '../i18n.tsx';
import { Empty, errorText, Link, navigate, Notice, StatusBadge, Switch, Time, useLoad } from '../ui.tsx';

export function FlowsPage({ role }: { role: User['role'] }) {
  const t = useT();
  const w = useWords();
  const flows = useLoad(() => api<{ items: Flow[] }>('GET', '/api/v1/flows'));
  const [error, setError] = useState<string>();
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
            <button type="button" className="btn btn-primary" onClick={() => navigate('/recipes')}>
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
            <button type="button" className="btn btn-primary" onClick={() => navigate('/recipes')}>
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
                      <span data-event={f.when.event}>{w.event(f.when.event)}</span>
                      {f.when.source ? <> · {f.when.source}</> : null} → {f.then.map((s) => w.action(s.action)).join(' → ')}
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
    </section>
  );
}
