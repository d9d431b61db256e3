import fs from 'node:fs';
import { KPI_IDS, statusOf, type KpiDefinitions, type KpiId, type Status } from './definitions.ts';
import type { PeriodKpis } from './report.ts';

/**
 * The monthly report: a DingTalk markdown message (each KPI of the month against its target and the
 * month before, a link to the dashboard) and a PDF of the dashboard (cards, 12-month charts drawn by
 * ECharts on the server as SVG, the before/after table), printed by headless Chromium.
 *
 * Why Chromium and not a PDF library: the PDF is the dashboard's HTML and ECharts' SVG as they are, with
 * the system's CJK fonts (fonts-noto-cjk) doing Chinese text, which a PDF library would need an embedded
 * CJK font and an SVG-to-PDF converter for. The production image installs Debian's chromium for it
 * (Dockerfile); DINGBRIDGE_CHROMIUM_PATH points elsewhere.
 */
export type ReportLang = 'en' | 'zh-CN' | 'zh-HK';

const WORDS: Record<string, [string, string, string]> = {
  title: ['Adoption KPIs', '钉钉推广指标', '釘釘推行指標'],
  login_rate: ['Login rate', '登录率', '登入率'],
  process_cycle_hours: ['Process cycle time', '审批流程时长', '審批流程時間'],
  meetings_via_dingtalk_share: ['Meetings via DingTalk', '通过钉钉安排的会议', '經釘釘安排的會議'],
  hours_saved: ['Hours saved on scheduling', '节省的会议协调时间', '節省的會議協調時間'],
  files_shared: ['Files shared', '云端共享文件数', '雲端共享檔案數'],
  mobile_share: ['Mobile share', '移动端登录占比', '手機登入佔比'],
  target: ['target', '目标', '目標'],
  lastMonth: ['last month', '上月', '上月'],
  green: ['on track', '达标', '達標'],
  amber: ['watch', '需关注', '需留意'],
  red: ['in trouble', '未达标', '未達標'],
  none: ['no data', '无数据', '沒有數據'],
  open: ['Open the dashboard', '打开仪表板', '打開儀表板'],
  charts: ['Last 12 months', '最近 12 个月', '最近 12 個月'],
  baselines: ['Cycle time before and after automation', '自动化前后的流程时长', '自動化前後的流程時間'],
  process: ['Approval process', '审批流程', '審批流程'],
  automatedAt: ['Automated on', '自动化日期', '自動化日期'],
  before: ['Before', '之前', '之前'],
  after: ['After', '之后', '之後'],
  change: ['Change', '变化', '變化'],
  owner: ['OKR owner', 'OKR 负责人', 'OKR 負責人'],
  by: ['by', '截止', '限期'],
};
const LANG_IDX: Record<ReportLang, number> = { en: 0, 'zh-CN': 1, 'zh-HK': 2 };
export const reportWord = (lang: ReportLang, key: string) => WORDS[key]?.[LANG_IDX[lang]] ?? key;

/** The value as the report shows it: shares in % with one decimal, hours with two, counts whole. */
export function formatValue(unit: 'fraction' | 'hours' | 'count', v: number | null): string {
  if (v === null) return '—';
  if (unit === 'fraction') return `${(v * 100).toFixed(1)} %`;
  if (unit === 'hours') return `${v.toFixed(2)} h`;
  return String(Math.round(v));
}

const DOT: Record<Status | 'none', string> = { green: '🟢', amber: '🟠', red: '🔴', none: '⚪' };

export function reportMarkdown(
  defs: KpiDefinitions,
  month: string,
  cur: PeriodKpis | undefined,
  prev: PeriodKpis | undefined,
  opts: { lang?: ReportLang; dashboardUrl?: string } = {},
): { title: string; text: string } {
  const lang = opts.lang ?? 'en';
  const w = (k: string) => reportWord(lang, k);
  const title = `${w('title')} · ${month}`;
  const lines = [`#### ${title}`, ''];
  for (const id of KPI_IDS) {
    const k = defs.kpis[id];
    const v = (cur?.[id] ?? null) as number | null;
    const p = (prev?.[id] ?? null) as number | null;
    const st = statusOf(k, v);
    const arrow = v === null || p === null ? '' : v > p ? ' ▲' : v < p ? ' ▼' : ' ＝';
    lines.push(
      `- ${DOT[st ?? 'none']} **${w(id)}**: ${formatValue(k.unit, v)}${arrow} (${w(st ?? 'none')}; ${w('target')} ${k.direction === 'up' ? '≥' : '≤'} ${formatValue(k.unit, k.target)}; ${w('lastMonth')} ${formatValue(k.unit, p)})`,
    );
  }
  if (opts.dashboardUrl) lines.push('', `[${w('open')}](${opts.dashboardUrl})`);
  return { title, text: lines.join('\n') };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One KPI's 12 months as an SVG chart (ECharts' server-side rendering: no DOM, no browser). */
async function chartSvg(defs: KpiDefinitions, id: KpiId, months: PeriodKpis[], lang: ReportLang): Promise<string> {
  const echarts = await import('echarts');
  const k = defs.kpis[id];
  const scale = k.unit === 'fraction' ? 100 : 1;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 340, height: 190 });
  chart.setOption({
    animation: false,
    grid: { left: 44, right: 12, top: 12, bottom: 26 },
    xAxis: { type: 'category', data: months.map((m) => m.month!.slice(2)), axisLabel: { color: '#3b4556', fontSize: 10 } },
    yAxis: {
      type: 'value',
      axisLabel: { color: '#3b4556', fontSize: 10, formatter: k.unit === 'fraction' ? '{value}%' : '{value}' },
      ...(k.unit === 'fraction' ? { min: 0, max: 100 } : {}),
    },
    series: [
      {
        type: k.unit === 'count' ? 'bar' : 'line',
        data: months.map((m) => (m[id] === null ? null : Math.round((m[id] as number) * scale * 100) / 100)),
        itemStyle: { color: '#1f6feb' },
        markLine: {
          symbol: 'none',
          lineStyle: { color: '#1a7f37', type: 'dashed' },
          label: { formatter: reportWord(lang, 'target'), color: '#1a7f37', fontSize: 10, position: 'insideEndTop' },
          data: [{ yAxis: k.target * scale }],
        },
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

const COLOUR: Record<Status | 'none', string> = { green: '#1a7f37', amber: '#9a6700', red: '#c62828', none: '#5b6577' };

/** The dashboard as a printable HTML page. `months` ends with the report's month. */
export async function reportHtml(
  defs: KpiDefinitions,
  months: PeriodKpis[],
  baselines: Record<string, { automated_at: string; before_hours: number | null; after_hours: number | null; change_pct: number | null }>,
  opts: { lang?: ReportLang; dashboardUrl?: string } = {},
): Promise<string> {
  const lang = opts.lang ?? 'en';
  const w = (k: string) => esc(reportWord(lang, k));
  const cur = months.at(-1);
  const prev = months.at(-2);
  const cards = KPI_IDS.map((id) => {
    const k = defs.kpis[id];
    const v = (cur?.[id] ?? null) as number | null;
    const st = statusOf(k, v) ?? 'none';
    return `<div class="card" style="border-top-color:${COLOUR[st]}"><h2>${w(id)}</h2>
      <p class="v">${esc(formatValue(k.unit, v))}</p>
      <p><span class="badge" style="color:${COLOUR[st]}">${w(st)}</span> ${w('target')} ${k.direction === 'up' ? '≥' : '≤'} ${esc(formatValue(k.unit, k.target))}</p>
      <p class="muted">${w('lastMonth')}: ${esc(formatValue(k.unit, (prev?.[id] ?? null) as number | null))}</p>
      ${k.owner || k.targetDate ? `<p class="muted">${w('owner')}: ${esc(k.owner ?? '')}${k.targetDate ? ` · ${w('by')} ${esc(k.targetDate)}` : ''}</p>` : ''}</div>`;
  }).join('');
  const charts = (
    await Promise.all(
      KPI_IDS.map(async (id) => `<figure><figcaption>${w(id)}</figcaption>${await chartSvg(defs, id, months, lang)}</figure>`),
    )
  ).join('');
  const rows = Object.entries(baselines)
    .map(
      ([code, b]) =>
        `<tr><th>${esc(code)}</th><td>${esc(b.automated_at)}</td><td>${esc(formatValue('hours', b.before_hours))}</td><td>${esc(formatValue('hours', b.after_hours))}</td><td>${b.change_pct === null ? '—' : `${b.change_pct > 0 ? '+' : ''}${b.change_pct} %`}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${w('title')} ${esc(cur?.month ?? '')}</title><style>
  @page { size: A4; margin: 12mm; }
  body { font-family: "Noto Sans CJK SC", "Noto Sans CJK TC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif; color: #1c2330; font-size: 11px; margin: 0; }
  h1 { font-size: 18px; margin: 0 0 8px; } h2 { font-size: 11px; margin: 0; color: #5b6577; }
  .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .card { border: 1px solid #dfe4ec; border-top: 4px solid #dfe4ec; border-radius: 8px; padding: 8px 10px; }
  .card p { margin: 2px 0; } .v { font-size: 20px; font-weight: 700; } .muted { color: #5b6577; } .badge { font-weight: 700; }
  .charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 6px; margin-top: 10px; }
  figure { margin: 0; border: 1px solid #dfe4ec; border-radius: 8px; padding: 6px; break-inside: avoid; } figcaption { font-weight: 600; }
  table { border-collapse: collapse; margin-top: 10px; width: 100%; } th, td { text-align: left; border-bottom: 1px solid #dfe4ec; padding: 4px 6px; }
</style></head><body>
<h1>${w('title')} · ${esc(cur?.month ?? '')}</h1>
${opts.dashboardUrl ? `<p class="muted">${esc(opts.dashboardUrl)}</p>` : ''}
<div class="cards">${cards}</div>
${rows ? `<table><caption style="text-align:left;font-weight:600">${w('baselines')}</caption><tr><th>${w('process')}</th><th>${w('automatedAt')}</th><th>${w('before')}</th><th>${w('after')}</th><th>${w('change')}</th></tr>${rows}</table>` : ''}
<h2 style="margin-top:10px">${w('charts')}</h2>
<div class="charts">${charts}</div>
</body></html>`;
}

/** Where Chromium is: DINGBRIDGE_CHROMIUM_PATH, else Debian's /usr/bin/chromium (what the Docker image installs). */
export function chromiumPath(): string {
  return process.env.DINGBRIDGE_CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Prints the HTML to an A4 PDF with headless Chromium (no network: the page is self-contained). */
export async function htmlToPdf(html: string): Promise<Buffer> {
  const exe = chromiumPath();
  if (!fs.existsSync(exe))
    throw new Error(`Chromium is not at ${exe}: install it (apt-get install chromium) or set DINGBRIDGE_CHROMIUM_PATH`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    // Nothing leaves the machine: the report is one self-contained page.
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    return Buffer.from(
      await page.pdf({ format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '12mm', right: '12mm' } }),
    );
  } finally {
    await browser.close();
  }
}
