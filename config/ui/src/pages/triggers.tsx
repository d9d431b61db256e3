import { useEffect, useState } from 'react';
import { api, type TriggerRow } from '../api.ts';
import { useLang, useT } from '../i18n.tsx';
import { say, useCatalog, wordsOf } from '../words.tsx';
import { Empty, errorText, Notice, StatusBadge, Time, useLoad } from '../ui.tsx';

const ago = (ms: number | null | undefined) => {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
};

/** Every trigger's health: subscriptions, pollers, streams, webhooks (and schedules), with poll now / resync / renew. */
export function TriggersPage({ role }: { role: 'owner' | 'admin' | 'viewer' }) {
  const t = useT();
  const { lang } = useLang();
  const catalog = useCatalog();
  const w = wordsOf(catalog, lang);
  const triggerTitle = (r: TriggerRow) => {
    const c = catalog?.connectors.find((x) => x.id === r.connector);
    return say(lang, r.trigger ? c?.i18n?.triggers?.[r.trigger]?.title : undefined, r.title ?? r.trigger ?? r.id);
  };
  const list = useLoad(() => api<{ triggers: TriggerRow[] }>('GET', '/api/v1/triggers'));
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text?: string; key?: string }>();
  const canAct = role !== 'viewer';
  useEffect(() => {
    const h = setInterval(() => {
      void list.reload();
    }, 5000);
    return () => clearInterval(h);
  }, [list.reload]);

  const act = async (row: TriggerRow, action: 'poll' | 'resync' | 'renew') => {
    try {
      await api('POST', `/api/v1/triggers/${encodeURIComponent(row.id)}/${action}`);
      setNotice({ kind: 'success', key: `trigger_${action}_done` });
      await list.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(e) });
    }
  };

  const rows = list.data?.triggers ?? [];
  return (
    <section aria-labelledby="triggers-h">
      <div className="page-head">
        <h1 id="triggers-h">{t('triggers')}</h1>
      </div>
      <p className="muted">{t('triggersIntro')}</p>
      {notice && (
        <Notice kind={notice.kind} role="status">
          {notice.key ? t(notice.key) : notice.text}
        </Notice>
      )}
      {list.error && <Notice kind="error">{list.error}</Notice>}
      {list.data && rows.length === 0 && (
        <Empty>
          <p>{t('noTriggers')}</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="table triggers-table">
            <thead>
              <tr>
                <th>{t('triggerName')}</th>
                <th>{t('kind')}</th>
                <th>{t('connection')}</th>
                <th>{t('status')}</th>
                <th>{t('nextRun')}</th>
                <th>{t('lastEvent')}</th>
                <th>{t('events24h')}</th>
                <th>
                  <span className="sr-only">{t('triggerActions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-trigger={r.id} data-kind={r.kind}>
                  <td>
                    <strong>{triggerTitle(r)}</strong>
                    <div className="muted small">{w.connector(r.connector)}</div>
                  </td>
                  <td>{t(`kind_${r.kind}`)}</td>
                  <td className="small">{r.connection ?? '—'}</td>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.lastError && (
                      <div className="small break bad-text" data-field="lastError">
                        {t('lastError')}: {r.lastError}
                      </div>
                    )}
                  </td>
                  <td className="small nowrap">
                    <div data-field="nextRunAt">
                      <Time at={r.nextRunAt} />
                    </div>
                    {r.expiresAt && (
                      <div className="muted small" data-field="expiresAt">
                        {t('expiresAt')}: <Time at={r.expiresAt} />
                      </div>
                    )}
                  </td>
                  <td className="small nowrap">
                    <Time at={r.lastEventAt} />
                    {r.kind === 'poll' && (
                      <div className="muted small">
                        {t('lastPoll')}: <Time at={r.lastPollAt} /> · {t('cursorAge')}: {ago(r.cursorAgeMs)}
                      </div>
                    )}
                    {r.kind === 'subscription' && (
                      <div className="muted small">
                        {t('lastNotification')}: <Time at={r.lastNotificationAt} />
                      </div>
                    )}
                  </td>
                  <td className="small">{r.eventsLast24h ?? '—'}</td>
                  <td className="trigger-actions">
                    {canAct &&
                      (r.actions ?? []).map((a) => (
                        <button key={a} type="button" className="btn btn-small" onClick={() => act(r, a)}>
                          {t(`trigger_${a}`)}
                        </button>
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
