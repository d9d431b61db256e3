import { useCallback, useEffect, useState } from 'react';
import { api, type Catalog, type Flow, type RunDetail, type RunItem, type User } from '../api.ts';
import { useLang, useT } from '../i18n.tsx';
import { useWords, wordsOf } from '../words.tsx';
import { Empty, errorText, Json, Notice, StatusBadge, Time, Tree, useLoad } from '../ui.tsx';
import { AttemptsTimeline } from '../attempts-timeline.tsx';

const formatSize = (n: number) =>
  n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} B`;

interface Filters {
  flow: string;
  connector: string;
  status: string;
  since: string;
}

function query(f: Filters, cursor?: string) {
  const q = new URLSearchParams();
  if (f.flow) q.set('flow', f.flow);
  if (f.connector) q.set('connector', f.connector);
  if (f.status) q.set('status', f.status);
  if (f.since) q.set('since', new Date(f.since).toISOString());
  if (cursor) q.set('cursor', cursor);
  q.set('limit', '30');
  return q.toString();
}

export function RunsPage({ role }: { role: User['role'] }) {
  const t = useT();
  const { lang } = useLang();
  const params = new URLSearchParams(window.location.search);
  const [filters, setFilters] = useState<Filters>({
    flow: params.get('flow') ?? '',
    connector: '',
    status: params.get('status') ?? '',
    since: '',
  });
  const [items, setItems] = useState<RunItem[]>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [selected, setSelected] = useState<string | null>(params.get('event'));
  const [live, setLive] = useState(false);
  const [tick, setTick] = useState(0);
  const flows = useLoad(() => api<{ items: Flow[] }>('GET', '/api/v1/flows'));
  const catalog = useLoad(() => api<Catalog>('GET', '/api/v1/catalog'));
  const canReplay = role !== 'viewer';

  const load = useCallback(async () => {
    try {
      const r = await api<{ items: RunItem[]; next: string | null }>('GET', `/api/v1/runs?${query(filters)}`);
      setItems(r.items);
      setNext(r.next);
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    }
  }, [filters]);
  useEffect(() => {
    void load();
  }, [load, tick]);

  // Live updates: the server says when something changed; polling is the fallback.
  useEffect(() => {
    let es: EventSource | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    try {
      es = new EventSource('/api/v1/runs/stream');
      es.addEventListener('change', () => setTick((n) => n + 1));
      es.onopen = () => setLive(true);
      es.onerror = () => setLive(false);
    } catch {
      /* no SSE */
    }
    poll = setInterval(() => setTick((n) => n + 1), 15_000);
    return () => {
      es?.close();
      clearInterval(poll);
    };
  }, []);

  const more = async () => {
    if (!next) return;
    const r = await api<{ items: RunItem[]; next: string | null }>('GET', `/api/v1/runs?${query(filters, next)}`);
    setItems([...(items ?? []), ...r.items]);
    setNext(r.next);
  };
  const bulk = async () => {
    try {
      const body: Record<string, unknown> = {};
      if (filters.flow) body.flow = filters.flow;
      if (filters.connector) body.connector = filters.connector;
      if (filters.since) body.since = new Date(filters.since).toISOString();
      const r = await api<{ events: string[]; steps: number }>('POST', '/api/v1/runs/replay', body);
      setNotice(`${t('replayed')} ${r.events.length} × ${t('event')}, ${r.steps} × ${t('step')}`);
      setTick((n) => n + 1);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section aria-labelledby="runs-h">
      <div className="page-head">
        <h1 id="runs-h">
          {t('runs')}{' '}
          <span className={`live-dot${live ? ' on' : ''}`} title={t('live')} role="img" aria-label={live ? t('live') : t('notLive')} />
        </h1>
        {canReplay && (
          <button type="button" className="btn" onClick={bulk}>
            {t('bulkReplay')}
          </button>
        )}
      </div>
      <form className="filters card" onSubmit={(e) => e.preventDefault()} aria-label={t('filters')}>
        <label>
          <span>{t('flows')}</span>
          <select name="flow" value={filters.flow} onChange={(e) => setFilters({ ...filters, flow: e.target.value })}>
            <option value="">{t('allFlows')}</option>
            {flows.data?.items.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name ?? f.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('connectors')}</span>
          <select name="connector" value={filters.connector} onChange={(e) => setFilters({ ...filters, connector: e.target.value })}>
            <option value="">{t('allConnectors')}</option>
            {catalog.data?.connectors.map((c) => (
              <option key={c.id} value={c.id}>
                {wordsOf(catalog.data, lang).connector(c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('status')}</span>
          <select name="status" value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.target.value })}>
            <option value="">{t('allStatuses')}</option>
            {['failed', 'running', 'succeeded', 'no_flows'].map((s) => (
              <option key={s} value={s}>
                {t(`st_${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('since')}</span>
          <input
            type="datetime-local"
            name="since"
            value={filters.since}
            onChange={(e) => setFilters({ ...filters, since: e.target.value })}
          />
        </label>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {items && items.length === 0 && (
        <Empty>
          <p>{t('noRuns')}</p>
        </Empty>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="table runs-table">
            <thead>
              <tr>
                <th>{t('status')}</th>
                <th>{t('event')}</th>
                <th>{t('flows')}</th>
                <th>{t('received')}</th>
                <th>
                  <span className="sr-only">{t('edit')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} className={selected === r.id ? 'selected' : ''} data-event={r.id} data-status={r.status}>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.test && <span className="chip">{t('test')}</span>}
                  </td>
                  <td>
                    <div className="mono small">{r.type}</div>
                    <div className="muted small">
                      {r.source}
                      {r.subject ? ` · ${r.subject}` : ''}
                    </div>
                  </td>
                  <td className="small">
                    {[...new Set(r.steps.map((s) => s.flowId))].join(', ') || <span className="muted">—</span>}
                    {r.steps
                      .filter((s) => s.lastError && s.replayable)
                      .slice(0, 1)
                      .map((s) => (
                        <div key={s.id} className="error-text small">
                          {s.lastError}
                        </div>
                      ))}
                  </td>
                  <td className="small">
                    <Time at={r.receivedAt} />
                  </td>
                  <td>
                    <button type="button" className="btn btn-small" onClick={() => setSelected(r.id)} aria-label={`${t('edit')} ${r.id}`}>
                      ›
                    </button>
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
      {selected && (
        <RunDetailPanel
          id={selected}
          tick={tick}
          canReplay={canReplay}
          onClose={() => setSelected(null)}
          onReplayed={() => setTick((n) => n + 1)}
        />
      )}
    </section>
  );
}

function RunDetailPanel({
  id,
  tick,
  canReplay,
  onClose,
  onReplayed,
}: {
  id: string;
  tick: number;
  canReplay: boolean;
  onClose: () => void;
  onReplayed: () => void;
}) {
  const t = useT();
  const [run, setRun] = useState<RunDetail>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const w = useWords();
  /** The error in words with what to do: the connector's translation of a code the message names, else by its class. */
  const explainStep = (action: string, message: string, errorClass: string | null) => {
    const connector = w.serviceOf(action);
    const code = message
      .match(/\b(\d{6}|[A-Za-z]+(?:\.[A-Za-z]+)+|invalidClientIdOrSecret|Forbidden)\b/g)
      ?.find((c) => w.error(connector, c));
    return (code && w.error(connector, code)) || t(`what_${errorClass ?? 'permanent'}`);
  };
  useEffect(() => {
    let live = true;
    api<RunDetail>('GET', `/api/v1/runs/${encodeURIComponent(id)}`).then(
      (r) => {
        if (live) setRun(r);
      },
      (e) => {
        if (live) setError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [id, tick]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const replay = async (path: string) => {
    try {
      await api('POST', path);
      setNotice(t('replayed'));
      onReplayed();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-label={`${t('event')} ${id}`}>
      <div className="drawer-head">
        <h2>
          {t('event')} <span className="mono small">{id}</span>
        </h2>
        <button type="button" className="icon-btn" aria-label={t('close')} onClick={onClose}>
          ×
        </button>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {run && (
        <div className="stack">
          <div className="inline wrap">
            <StatusBadge status={run.status} /> <span className="mono small">{run.type}</span> · {run.source} · <Time at={run.receivedAt} />
          </div>
          {canReplay && run.status === 'failed' && (
            <div>
              <button type="button" className="btn btn-primary" onClick={() => replay(`/api/v1/runs/${encodeURIComponent(run.id)}/replay`)}>
                {t('replay')}
              </button>
            </div>
          )}
          <details>
            <summary>{t('data')}</summary>
            <Json value={run.data} />
          </details>
          {run.files && run.files.length > 0 && (
            <div className="card run-files">
              <h3 className="small">{t('runFiles')}</h3>
              <ul>
                {run.files.map((f) => (
                  <li key={f.id}>
                    {canReplay ? (
                      <a href={`/api/v1/files/${encodeURIComponent(f.id)}`} download={f.name}>
                        {f.name}
                      </a>
                    ) : (
                      <span>{f.name}</span>
                    )}{' '}
                    <span className="muted small">
                      {f.contentType} · {formatSize(f.size)} · {t('keptUntil')} <Time at={f.expiresAt} />
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {run.steps.map((s) => (
            <div key={s.id} className="card step-run step-card" data-step-status={s.status}>
              <div className="inline wrap">
                <strong>{s.flowId}</strong> · {t('step')} {s.stepIndex + 1} · <span title={s.action}>{w.action(s.action)}</span>{' '}
                <StatusBadge status={s.status} />
                <span className="muted small">
                  {t('attempts')}: {s.attempts}/{s.maxAttempts}
                  {s.durationMs !== null ? ` · ${t('duration')}: ${s.durationMs} ms` : ''}
                </span>
              </div>
              {s.lastError && (
                <div className="error-text">
                  {t('error')}: {s.lastError}
                </div>
              )}
              {s.lastError &&
                (s.status === 'failed' || s.status === 'dead' || s.status === 'retrying' || s.status === 'waiting_reauth') && (
                  <div className="notice notice-warn small what-to-do">
                    <strong>{t('whatToDo')}:</strong> {explainStep(s.action, s.lastError, s.errorClass)}
                  </div>
                )}
              <div className="grid-2">
                <div>
                  <h3 className="small">{t('stepInput')}</h3>
                  <Tree value={s.attemptDetails.at(-1)?.request} />
                </div>
                <div>
                  <h3 className="small">{t('stepOutput')}</h3>
                  <Tree value={s.output} />
                </div>
              </div>
              <h3 className="small">{t('attemptsTimeline')}</h3>
              {canReplay && s.replayable && (
                <div>
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => replay(`/api/v1/runs/steps/${encodeURIComponent(s.id)}/replay`)}
                  >
                    {t('replayStep')}
                  </button>
                </div>
              )}
              <AttemptsTimeline step={s} />
            </div>
          ))}
        </div>
      )}
    </aside>
  );
}
