import { useEffect, useRef, useState } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { api } from '../api.ts';
import { translate, useLang, useT } from '../i18n.tsx';
import { Empty, errorText, Field, Notice } from '../ui.tsx';

// Tree-shaken ECharts: line and bar charts, drawn as SVG (crisp on phones and in print).
echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, MarkLineComponent, AriaComponent, SVGRenderer]);

export const KPI_KEYS = [
  'login_rate',
  'process_cycle_hours',
  'meetings_via_dingtalk_share',
  'hours_saved',
  'files_shared',
  'mobile_share',
] as const;
type KpiKey = (typeof KPI_KEYS)[number];
type Status = 'green' | 'amber' | 'red';

interface Definition {
  title: string;
  unit: 'fraction' | 'hours' | 'count';
  direction: 'up' | 'down';
  target: number;
  green: number;
  amber: number;
  owner?: string;
  targetDate?: string;
}
type Month = Record<KpiKey, number | null> & {
  month: string;
  by_process: Record<string, { cycle_hours: number | null; finished: number; started: number; automated: boolean | null }>;
};
interface KpiResponse {
  months: Month[];
  departments: string[];
  definitions: Record<KpiKey, Definition>;
  baselines: Record<
    string,
    {
      automated_at: string;
      source?: 'admin' | 'recipe';
      flow?: string;
      before_hours: number | null;
      after_hours: number | null;
      change_pct: number | null;
    }
  >;
}

/** The last whole month (the dashboard opens on it). */
function lastMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}
function monthsBack(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - n, 1)).toISOString().slice(0, 7);
}

function statusOf(d: Definition, v: number | null): Status | null {
  if (v === null) return null;
  if (d.direction === 'up') return v >= d.green ? 'green' : v >= d.amber ? 'amber' : 'red';
  return v <= d.green ? 'green' : v <= d.amber ? 'amber' : 'red';
}

export function formatKpi(unit: Definition['unit'], v: number | null, lang: string): string {
  if (v === null) return '—';
  if (unit === 'fraction') return `${(v * 100).toLocaleString(lang, { maximumFractionDigits: 1 })} %`;
  if (unit === 'hours') return `${v.toLocaleString(lang, { maximumFractionDigits: 1 })} h`;
  return v.toLocaleString(lang);
}

const STATUS_COLOUR: Record<Status, string> = { green: '#1a7f37', amber: '#9a6700', red: '#c62828' };

/** A small line of the 12 months, decorative (the chart below carries the numbers). */
function Sparkline({ values, colour }: { values: (number | null)[]; colour: string }) {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (pts.length < 2) return <svg className="spark" aria-hidden="true" />;
  const ys = pts.map((p) => p[1]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const w = 120;
  const h = 32;
  const x = (i: number) => (i / Math.max(1, values.length - 1)) * (w - 4) + 2;
  const y = (v: number) => (hi === lo ? h / 2 : h - 3 - ((v - lo) / (hi - lo)) * (h - 6));
  return (
    <svg className="spark" viewBox={`0 0 ${w} ${h}`} width={w} height={h} aria-hidden="true" focusable="false">
      <polyline
        fill="none"
        stroke={colour}
        strokeWidth="2"
        points={pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
      />
    </svg>
  );
}

function KpiCard({ id, def, months }: { id: KpiKey; def: Definition; months: Month[] }) {
  const t = useT();
  const { lang } = useLang();
  const cur = months.at(-1)?.[id] ?? null;
  const prev = months.at(-2)?.[id] ?? null;
  const status = statusOf(def, cur);
  const trend = cur === null || prev === null ? null : cur > prev ? 'up' : cur < prev ? 'down' : 'flat';
  // Better is up for most KPIs, down for cycle time.
  const better = trend === null || trend === 'flat' ? null : (trend === 'up') === (def.direction === 'up');
  return (
    <li className={`card kpi-card kpi-${status ?? 'none'}`} data-kpi={id}>
      <h2 className="kpi-title">{t(`kpi_${id}`)}</h2>
      <p className="kpi-value">
        <span className="kpi-number">{formatKpi(def.unit, cur, lang)}</span>{' '}
        {trend && (
          <span className={`kpi-trend ${better ? 'good' : better === false ? 'bad' : ''}`}>
            <span aria-hidden="true">{trend === 'up' ? '▲' : trend === 'down' ? '▼' : '▶'}</span>
            <span className="sr-only">{t(`kpiTrend_${trend}`)}</span>
          </span>
        )}
      </p>
      <p className="kpi-meta">
        {status ? (
          <span className={`badge kpi-status kpi-status-${status}`}>{t(`kpiStatus_${status}`)}</span>
        ) : (
          <span className="badge badge-muted">{t('kpiNoData')}</span>
        )}{' '}
        <span>
          {t('kpiTarget')}: {def.direction === 'up' ? '≥' : '≤'} {formatKpi(def.unit, def.target, lang)}
        </span>
      </p>
      <p className="kpi-meta muted small">
        {t('kpiLastMonth')}: {formatKpi(def.unit, prev, lang)}
      </p>
      <Sparkline values={months.map((m) => m[id])} colour={status ? STATUS_COLOUR[status] : '#5b6577'} />
      {(def.owner || def.targetDate) && (
        <p className="kpi-okr small">
          {t('kpiOkr')}: {def.owner && <span className="kpi-owner">{def.owner}</span>}
          {def.owner && def.targetDate && ' · '}
          {def.targetDate && (
            <span className="kpi-date">
              {t('kpiBy')} <time dateTime={def.targetDate}>{def.targetDate}</time>
            </span>
          )}
        </p>
      )}
    </li>
  );
}

function KpiChart({ id, def, months }: { id: KpiKey; def: Definition; months: Month[] }) {
  const t = useT();
  const { lang } = useLang();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const tr = (key: string) => translate(lang, key);
    const chart = echarts.init(ref.current, undefined, { renderer: 'svg', locale: lang === 'en' ? 'EN' : 'ZH' });
    const scale = def.unit === 'fraction' ? 100 : 1;
    const values = months.map((m) => (m[id] === null ? null : Math.round((m[id] as number) * scale * 100) / 100));
    chart.setOption({
      aria: {
        enabled: true,
        label: { description: `${tr(`kpi_${id}`)}: ${months.map((m, i) => `${m.month} ${values[i] ?? '—'}`).join(', ')}` },
      },
      animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: months.map((m) => m.month.slice(2)), axisLabel: { color: '#3b4556' } },
      yAxis: {
        type: 'value',
        axisLabel: { color: '#3b4556', formatter: def.unit === 'fraction' ? '{value}%' : '{value}' },
        ...(def.unit === 'fraction' ? { max: 100, min: 0 } : {}),
      },
      series: [
        {
          type: def.unit === 'count' ? 'bar' : 'line',
          name: tr(`kpi_${id}`),
          data: values,
          itemStyle: { color: '#1f6feb' },
          connectNulls: false,
          markLine: {
            symbol: 'none',
            lineStyle: { color: '#1a7f37', type: 'dashed' },
            label: { formatter: tr('kpiTarget'), color: '#1a7f37', position: 'insideEndTop' },
            data: [{ yAxis: def.target * scale }],
          },
        },
      ],
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [id, def, months, lang]);
  return (
    <figure className="card kpi-chart-card">
      <figcaption>
        <h3>{t(`kpi_${id}`)}</h3>
      </figcaption>
      <div ref={ref} className="kpi-chart" data-chart={id} />
    </figure>
  );
}

/** An admin reads the months before the hub was installed from DingTalk (POST /api/v1/kpis/backfill) and rolls them up. */
function BackfillButton({ from, to, onDone }: { from: string; to: string; onDone: () => void }) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string }>();
  const run = async () => {
    setBusy(true);
    setNote(undefined);
    try {
      const r = await api<{ approvals: { found: number }; days: number }>('POST', '/api/v1/kpis/backfill', { from, to });
      setNote({ kind: 'ok', text: t('kpiBackfillDone', { approvals: String(r.approvals.found), days: String(r.days) }) });
      onDone();
    } catch (e) {
      setNote({ kind: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn-small" disabled={busy} aria-busy={busy} onClick={run} title={t('kpiBackfillHint')}>
        {busy ? t('kpiBackfillRunning') : t('kpiBackfill')}
      </button>
      {note && (
        <span role="status" className={note.kind === 'error' ? 'error' : 'muted'} data-kpi-backfill={note.kind}>
          {note.text}
        </span>
      )}
    </>
  );
}

export function KpisPage({ canBackfill = false }: { canBackfill?: boolean } = {}) {
  const t = useT();
  const [reload, setReload] = useState(0);
  const { lang } = useLang();
  const params = new URLSearchParams(window.location.search);
  const [month, setMonth] = useState(params.get('month') ?? lastMonth());
  const [process, setProcess] = useState(params.get('process') ?? '');
  const [department, setDepartment] = useState(params.get('department') ?? '');
  const [data, setData] = useState<KpiResponse>();
  const [processes, setProcesses] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    const q = new URLSearchParams({ from: monthsBack(month, 11), to: month });
    if (process) q.set('process', process);
    if (department) q.set('department', department);
    api<KpiResponse>('GET', `/api/v1/kpis?${q}`)
      .then((r) => {
        if (!live) return;
        setData(r);
        setError(undefined);
        if (!process) setProcesses([...new Set(r.months.flatMap((m) => Object.keys(m.by_process)))].filter(Boolean).sort());
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [month, process, department, reload]);

  const hasData = data?.months.some((m) => KPI_KEYS.some((k) => m[k] !== null && m[k] !== 0));
  return (
    <section aria-labelledby="kpis-h" className="kpis-page">
      <div className="page-head">
        <h1 id="kpis-h">{t('kpis')}</h1>
        <a
          className="btn btn-small"
          href={`/api/v1/kpis?from=${monthsBack(month, 11)}&to=${month}&format=csv${process ? `&process=${encodeURIComponent(process)}` : ''}`}
        >
          {t('kpiCsv')}
        </a>
        {canBackfill && <BackfillButton from={monthsBack(month, 11)} to={month} onDone={() => setReload((n) => n + 1)} />}
      </div>
      <p className="muted">{t('kpisIntro')}</p>
      <form className="inline wrap align-end kpi-filters" onSubmit={(e) => e.preventDefault()} aria-label={t('kpiFilters')}>
        <Field label={t('kpiMonth')}>
          {(id) => (
            <input
              id={id}
              type="month"
              value={month}
              max={lastMonth(new Date(Date.now() + 31 * 86_400_000))}
              onChange={(e) => e.target.value && setMonth(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('kpiDepartment')} hint={t('kpiDepartmentHint')}>
          {(id, describedBy) => (
            <select id={id} aria-describedby={describedBy} value={department} onChange={(e) => setDepartment(e.target.value)}>
              <option value="">{t('kpiAllDepartments')}</option>
              {(data?.departments ?? []).map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('kpiProcess')}>
          {(id) => (
            <select id={id} value={process} onChange={(e) => setProcess(e.target.value)}>
              <option value="">{t('kpiAllProcesses')}</option>
              {processes.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {data && !hasData && <Empty>{t('kpiEmpty')}</Empty>}
      {data && (
        <>
          <ul className="kpi-cards" aria-label={t('kpiCards', { month })}>
            {KPI_KEYS.map((k) => (
              <KpiCard key={k} id={k} def={data.definitions[k]} months={data.months} />
            ))}
          </ul>
          {Object.keys(data.baselines).length > 0 && (
            <div className="table-wrap">
              <table className="table kpi-baselines">
                <caption className="kpi-caption">{t('kpiBaselines')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('kpiProcess')}</th>
                    <th scope="col">{t('kpiAutomatedAt')}</th>
                    <th scope="col">{t('kpiBefore')}</th>
                    <th scope="col">{t('kpiAfter')}</th>
                    <th scope="col">{t('kpiChange')}</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(data.baselines).map(([code, b]) => (
                    <tr key={code}>
                      <th scope="row" className="mono">
                        {code}
                      </th>
                      <td>
                        {b.automated_at}
                        {b.source === 'recipe' && b.flow && <span className="muted small"> ({t('kpiFromRecipe', { flow: b.flow })})</span>}
                      </td>
                      <td>{formatKpi('hours', b.before_hours, lang)}</td>
                      <td>{formatKpi('hours', b.after_hours, lang)}</td>
                      <td>{b.change_pct === null ? '—' : `${b.change_pct > 0 ? '+' : ''}${b.change_pct.toLocaleString(lang)} %`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>{t('kpiCharts')}</h2>
          <div className="kpi-charts">
            {KPI_KEYS.map((k) => (
              <KpiChart key={k} id={k} def={data.definitions[k]} months={data.months} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
