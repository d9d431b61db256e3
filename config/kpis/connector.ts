import { Readable } from 'node:stream';
import { z } from 'zod';
import { defineAction, defineConnector, fileRef } from '../../core/connector.ts';
import type { ConnectorTranslations } from '../../core/connector-i18n.ts';
import { permanent } from '../../core/errors.ts';
import type { Runtime } from '../../core/runtime.ts';
import { KPI_IDS, loadKpiDefinitions } from './definitions.ts';
import { htmlToPdf, reportHtml, reportMarkdown } from './monthly.ts';
import { kpiReport } from './report.ts';

/**
 * The hub's own KPI actions (not a provider): `kpis.monthly_report` builds the month's report, a
 * markdown message and the dashboard as a PDF file, for the steps after it to send (e.g. to a DingTalk
 * group: examples/kpi-monthly-report.yaml, fired by a schedule on the 1st at 09:00).
 */
let bound: Runtime | undefined;
/** The hub binds its runtime at start: the action reads kpi_daily through it. */
export function bindKpiRuntime(rt: Runtime): void {
  bound = rt;
}
export function unbindKpiRuntime(rt: Runtime): void {
  if (bound === rt) bound = undefined;
}

const monthRe = /^\d{4}-(0[1-9]|1[0-2])$/;
/** The month before the one `at` falls in, in the time zone (the report on the 1st is about the month that ended). */
export function monthBefore(at: Date, tz: string): string {
  const ym = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).format(at).slice(0, 7);
  const [y, m] = ym.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
}
const back = (month: string, n: number) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - n, 1)).toISOString().slice(0, 7);
};

const values = z.object(
  Object.fromEntries(KPI_IDS.map((id) => [id, z.number().nullable()])) as Record<(typeof KPI_IDS)[number], z.ZodNullable<z.ZodNumber>>,
);

export const monthlyReport = defineAction({
  id: 'kpis.monthly_report',
  title: 'Build the monthly KPI report (markdown message and dashboard PDF)',
  description:
    'The KPIs of a month (default: the month before `slot`, the schedule time, or before now) against their targets and the month before, as a markdown message, and the dashboard of the 12 months up to it as a PDF file for a later step.',
  input: z.object({
    month: z.string().regex(monthRe, 'YYYY-MM').optional(),
    slot: z.string().datetime({ offset: true }).optional(),
    dashboardUrl: z.string().url().optional(),
    language: z.enum(['en', 'zh-CN', 'zh-HK']).default('en'),
    pdf: z.boolean().default(true),
  }),
  output: z.object({
    month: z.string(),
    title: z.string(),
    markdown: z.string(),
    fileName: z.string(),
    file: fileRef.nullable(),
    values: values,
    previous: values,
  }),
  sampleOutput: {
    month: '2026-11',
    title: 'Adoption KPIs · 2026-11',
    markdown: '#### Adoption KPIs · 2026-11\n\n- 🟢 **Login rate**: 92.5 % …',
    fileName: 'kpis-2026-11.pdf',
  },
  needsConnection: false,
  async run(ctx, input) {
    const rt = bound;
    if (!rt) throw permanent('the KPI report runs in the hub only');
    const tz = rt.settings.DINGBRIDGE_TIMEZONE;
    const month = input.month ?? monthBefore(input.slot ? new Date(input.slot) : new Date(), tz);
    const defs = loadKpiDefinitions();
    const report = await kpiReport(rt, defs, { from: back(month, 11), to: month, granularity: 'month' });
    const cur = report.periods.at(-1)!;
    const prev = report.periods.at(-2);
    const dashboardUrl =
      input.dashboardUrl ?? (rt.settings.PUBLIC_URL ? `${rt.settings.PUBLIC_URL.replace(/\/+$/, '')}/kpis?month=${month}` : undefined);
    const md = reportMarkdown(defs, month, cur, prev, { lang: input.language, dashboardUrl });
    const fileName = `kpis-${month}.pdf`;
    let file = null;
    if (input.pdf) {
      if (!ctx.files) throw permanent('files are not available here');
      const pdf = await htmlToPdf(await reportHtml(defs, report.periods, report.baselines, { lang: input.language, dashboardUrl }));
      file = await ctx.files.put(Readable.from([pdf]), { name: fileName, contentType: 'application/pdf' });
    }
    const pick = (p: typeof cur | undefined) =>
      Object.fromEntries(KPI_IDS.map((id) => [id, (p?.[id] ?? null) as number | null])) as z.infer<typeof values>;
    const out = { month, title: md.title, markdown: md.text, fileName, file, values: pick(cur), previous: pick(prev) };
    ctx.trace({ response: { month, title: md.title, file } });
    return out;
  },
});

const i18n: ConnectorTranslations = {
  name: { en: 'Adoption KPIs', 'zh-CN': '推广指标', 'zh-HK': '推行指標' },
  actions: {
    'kpis.monthly_report': {
      title: {
        en: 'Build the monthly KPI report (markdown message and dashboard PDF)',
        'zh-CN': '生成月度指标报告（Markdown 消息和仪表板 PDF）',
        'zh-HK': '製作每月指標報告（Markdown 訊息及儀表板 PDF）',
      },
      description: {
        en: 'The month’s KPIs against targets and last month, and the 12-month dashboard as a PDF file for the next steps.',
        'zh-CN': '本月各项指标与目标及上月的对比，以及 12 个月仪表板的 PDF 文件，供后续步骤发送。',
        'zh-HK': '本月各項指標與目標及上月的比較，以及 12 個月儀表板的 PDF 檔案，供之後的步驟發送。',
      },
      fields: {
        month: { label: { en: 'Month (YYYY-MM)', 'zh-CN': '月份（YYYY-MM）', 'zh-HK': '月份（YYYY-MM）' } },
        slot: { label: { en: 'Schedule time', 'zh-CN': '排程时间', 'zh-HK': '排程時間' } },
        dashboardUrl: { label: { en: 'Dashboard link', 'zh-CN': '仪表板链接', 'zh-HK': '儀表板連結' } },
        language: { label: { en: 'Language', 'zh-CN': '语言', 'zh-HK': '語言' } },
        pdf: { label: { en: 'Attach a PDF', 'zh-CN': '附上 PDF', 'zh-HK': '附上 PDF' } },
      },
    },
  },
};

export const kpisConnector = defineConnector({
  id: 'kpis',
  name: 'Adoption KPIs',
  auth: { kind: 'none' },
  triggers: [],
  actions: [monthlyReport],
  i18n,
});
