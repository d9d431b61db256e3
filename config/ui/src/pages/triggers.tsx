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
      <CalendarSyncSection canAct={canAct} />
    </section>
  );
}

interface CalendarSyncPerson {
  personId: string;
  name: string;
  email: string | null;
  lastSyncA: string | null;
  lastSyncB: string | null;
  paired: number;
  created: { a: number; b: number };
  updated: { a: number; b: number };
  deleted: { a: number; b: number };
  echoes: number;
  conflicts: number;
  standaloneExceptions: number;
  errors: number;
  lastError: string | null;
  recentConflicts: Array<{ at: string; winner: string; loserContent: { title?: string; deleted?: boolean } | null }>;
}
interface CalendarSyncRow {
  id: string;
  sides: string[];
  enabled: boolean;
  push?: boolean;
  intervalSeconds: number;
  people: CalendarSyncPerson[];
}

/** Two-way calendar syncs: per person the last sync each way, events paired, conflicts (with the losing edit), errors; "resync this person". */
function CalendarSyncSection({ canAct }: { canAct: boolean }) {
  const t = useT();
  const list = useLoad(() => api<{ syncs: CalendarSyncRow[] }>('GET', '/api/v1/calendar-sync'));
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text?: string; key?: string }>();
  const syncs = list.data?.syncs ?? [];
  if (!syncs.length) return null;
  const resync = async (s: CalendarSyncRow, p: CalendarSyncPerson) => {
    try {
      const answer = await api<{ queued?: boolean }>(
        'POST',
        `/api/v1/calendar-sync/${encodeURIComponent(s.id)}/people/${encodeURIComponent(p.personId)}/resync`,
      );
      setNotice({ kind: 'success', key: answer?.queued ? 'calsync_resync_queued' : 'calsync_resync_done' });
      await list.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(e) });
    }
  };
  return (
    <section aria-labelledby="calsync-h" className="calendar-sync">
      <h2 id="calsync-h">{t('calsync_title')}</h2>
      <p className="muted">{t('calsync_intro')}</p>
      {notice && (
        <Notice kind={notice.kind} role="status">
          {notice.key ? t(notice.key) : notice.text}
        </Notice>
      )}
      {syncs.map((s) => (
        <div key={s.id} className="table-wrap" data-calendar-sync={s.id}>
          <h3>
            {s.id} <span className="muted small mono">{s.sides.join(' ↔ ')}</span>{' '}
            <span className="muted small" data-field="push">
              {s.push && s.enabled ? t('calsync_push') : t('calsync_polled')}
            </span>
          </h3>
          <table className="table">
            <thead>
              <tr>
                <th>{t('calsync_person')}</th>
                <th>{t('calsync_last_a')}</th>
                <th>{t('calsync_last_b')}</th>
                <th>{t('calsync_paired')}</th>
                <th>{t('calsync_conflicts')}</th>
                <th>{t('calsync_errors')}</th>
                <th>
                  <span className="sr-only">{t('triggerActions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {s.people.map((p) => (
                <tr key={p.personId} data-person={p.email ?? p.personId}>
                  <td>
                    <strong>{p.name}</strong>
                    <div className="muted small">{p.email}</div>
                    {p.standaloneExceptions > 0 && (
                      <div className="small" data-field="standaloneExceptions">
                        {t('calsync_standalone')}: {p.standaloneExceptions}
                      </div>
                    )}
                  </td>
                  <td className="small nowrap">
                    <Time at={p.lastSyncA} />
                  </td>
                  <td className="small nowrap">
                    <Time at={p.lastSyncB} />
                  </td>
                  <td data-field="paired">{p.paired}</td>
                  <td data-field="conflicts">
                    {p.conflicts}
                    {p.recentConflicts.slice(0, 3).map((c) => (
                      <div key={c.at + (c.loserContent?.title ?? '')} className="muted small">
                        {t('calsync_kept')} {c.winner}; {t('calsync_lost')}:{' '}
                        {c.loserContent?.deleted ? t('calsync_deletion') : (c.loserContent?.title ?? '—')}
                      </div>
                    ))}
                  </td>
                  <td data-field="errors">
                    {p.errors}
                    {p.lastError && <div className="small break bad-text">{p.lastError}</div>}
                  </td>
                  <td>
                    {canAct && (
                      <button type="button" className="btn btn-small" onClick={() => resync(s, p)}>
                        {t('calsync_resync')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
