import { useEffect, useState } from 'react';
import { api, type AuditItem } from '../api.ts';
import { useT } from '../i18n.tsx';
import { Empty, errorText, Notice, Time, useLoad } from '../ui.tsx';

export function AuditPage() {
  const t = useT();
  const [action, setAction] = useState('');
  const [items, setItems] = useState<AuditItem[]>();
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string>();
  const security = useLoad(() => api<{ auditRetentionDays: number }>('GET', '/api/v1/security'));
  const q = (before?: number) => {
    const p = new URLSearchParams({ limit: '100' });
    if (action) p.set('action', action);
    if (before) p.set('before', String(before));
    return p.toString();
  };
  useEffect(() => {
    const h = setTimeout(() => {
      api<{ items: AuditItem[]; next: number | null }>('GET', `/api/v1/audit?${q()}`).then(
        (r) => {
          setItems(r.items);
          setNext(r.next);
          setError(undefined);
        },
        (e) => setError(errorText(e)),
      );
    }, 250);
    return () => clearTimeout(h);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [action]);
  const more = async () => {
    const r = await api<{ items: AuditItem[]; next: number | null }>('GET', `/api/v1/audit?${q(next!)}`);
    setItems([...(items ?? []), ...r.items]);
    setNext(r.next);
  };
  return (
    <section aria-labelledby="audit-h">
      <div className="page-head">
        <h1 id="audit-h">{t('audit')}</h1>
        <a className="btn" href={`/api/v1/audit.csv${action ? `?action=${encodeURIComponent(action)}` : ''}`} download>
          {t('exportCsv')}
        </a>
      </div>
      <p className="muted">{t('auditIntro', { days: security.data?.auditRetentionDays ?? 180 })}</p>
      <div className="filters card">
        <label>
          <span>{t('actionFilter')}</span>
          <input name="action" value={action} onChange={(e) => setAction(e.target.value)} placeholder="flow.*" />
        </label>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {items && items.length === 0 && (
        <Empty>
          <p>—</p>
        </Empty>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="table audit-table">
            <thead>
              <tr>
                <th>{t('when_')}</th>
                <th>{t('who')}</th>
                <th>{t('what')}</th>
                <th>{t('target')}</th>
                <th>{t('fromWhere')}</th>
                <th>{t('outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.id} data-action={i.action}>
                  <td className="small nowrap">
                    <Time at={i.at} />
                  </td>
                  <td className="small">
                    {i.actor.label ?? i.actor.kind}
                    <div className="muted small">{i.actor.kind}</div>
                  </td>
                  <td>
                    <code>{i.action}</code>
                  </td>
                  <td className="small break">{i.target ?? '—'}</td>
                  <td className="small mono">{i.ip ?? '—'}</td>
                  <td>
                    <span className={`badge badge-${i.outcome === 'ok' ? 'ok' : 'bad'}`}>{i.outcome}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button type="button" className="btn" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}
