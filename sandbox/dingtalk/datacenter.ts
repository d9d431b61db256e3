import type { Express, Request, Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { CONTROL_PREFIX } from './control.ts';
import type { DingtalkState } from './state.ts';
import { apiError } from './errors.ts';

type Fake = RunningFakeInternals<DingtalkState>;

/**
 * The data center's statistics (datacenter_1.0 in the official SDK), one record per day (`statDate`
 * yyyyMMdd, as the real API takes it). Each answer is `{ metaList, dataList }`: metaList describes the
 * KPI columns (kpiId, kpiName, unit, period, kpiCaliber), dataList holds one object per row keyed by kpiId.
 * The kpiIds below are this fake's choice (DingTalk's public reference does not list them); the
 * connector reads columns by these ids.
 *
 * - GET /v1.0/datacenter/activeUserData  (QueryActiveUserStatisticalData): staff and activated accounts
 * - GET /v1.0/datacenter/onlineUserData  (QueryOnlineUserStatisticalData): users active in the day and in
 *   the last 30 days, logins by mobile and by desktop
 * - GET /v1.0/datacenter/approvalData    (QueryApprovalStatisticalData): approvals started and finished
 *
 * Control: POST /__sandbox/dingtalk/datacenter `{ days: [{ date: "2026-03-01", staff, activated, dau,
 * active30d, mobileLogins, desktopLogins, approvalsStarted, approvalsFinished }] }` loads days;
 * GET the same path lists them. A day never loaded answers an empty dataList, as DingTalk does before
 * its nightly computation.
 */
export interface DatacenterDay {
  date: string;
  staff: number;
  activated: number;
  dau: number;
  active30d: number;
  mobileLogins: number;
  desktopLogins: number;
  approvalsStarted: number;
  approvalsFinished: number;
}

/** Kept beside the state object, so POST /__sandbox/reset (a new state) starts empty. */
const days = new WeakMap<DingtalkState, Map<string, DatacenterDay>>();
function daysOf(state: DingtalkState): Map<string, DatacenterDay> {
  let m = days.get(state);
  if (!m) {
    m = new Map();
    days.set(state, m);
  }
  return m;
}

const meta = (kpiId: string, kpiName: string, unit: string) => ({
  kpiId,
  kpiName,
  unit,
  period: 'day',
  kpiCaliber: `${kpiName}（按自然日统计）`,
});

const REPORTS: Record<string, { metaList: ReturnType<typeof meta>[]; row: (d: DatacenterDay) => Record<string, string> }> = {
  activeUserData: {
    metaList: [meta('stat_date', '统计日期', ''), meta('org_usr_cnt', '企业总人数', '人'), meta('actv_usr_cnt', '已激活人数', '人')],
    row: (d) => ({ stat_date: d.date.replaceAll('-', ''), org_usr_cnt: String(d.staff), actv_usr_cnt: String(d.activated) }),
  },
  onlineUserData: {
    metaList: [
      meta('stat_date', '统计日期', ''),
      meta('org_usr_cnt', '企业总人数', '人'),
      meta('dau_1d', '当日活跃人数', '人'),
      meta('dau_30d', '近30天活跃人数', '人'),
      meta('mobile_login_cnt', '移动端登录次数', '次'),
      meta('pc_login_cnt', '桌面端登录次数', '次'),
    ],
    row: (d) => ({
      stat_date: d.date.replaceAll('-', ''),
      org_usr_cnt: String(d.staff),
      dau_1d: String(d.dau),
      dau_30d: String(d.active30d),
      mobile_login_cnt: String(d.mobileLogins),
      pc_login_cnt: String(d.desktopLogins),
    }),
  },
  approvalData: {
    metaList: [meta('stat_date', '统计日期', ''), meta('start_cnt', '发起审批数', '个'), meta('finish_cnt', '完成审批数', '个')],
    row: (d) => ({ stat_date: d.date.replaceAll('-', ''), start_cnt: String(d.approvalsStarted), finish_cnt: String(d.approvalsFinished) }),
  },
};

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

export function registerDatacenterRoutes(app: Express, fake: Fake): void {
  for (const [path, report] of Object.entries(REPORTS)) {
    app.get(`/v1.0/datacenter/${path}`, (req: Request, res: Response) => {
      const statDate = typeof req.query.statDate === 'string' ? req.query.statDate : '';
      if (!statDate) return apiError(res, 400, 'MissingstatDate', 'statDate is mandatory for this action.');
      if (!/^\d{8}$/.test(statDate)) return apiError(res, 400, 'invalidParameter.statDate', 'statDate 格式应为 yyyyMMdd');
      const d = daysOf(fake.state).get(`${statDate.slice(0, 4)}-${statDate.slice(4, 6)}-${statDate.slice(6, 8)}`);
      res.json({ metaList: report.metaList, dataList: d ? [report.row(d)] : [] });
    });
  }

  app.post(`${CONTROL_PREFIX}/datacenter`, (req: Request, res: Response) => {
    const list = Array.isArray(req.body?.days) ? (req.body.days as Record<string, unknown>[]) : null;
    if (!list) return void res.status(400).json({ error: 'days must be an array' });
    const m = daysOf(fake.state);
    for (const d of list) {
      if (typeof d.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d.date))
        return void res.status(400).json({ error: `bad date ${String(d.date)}` });
      m.set(d.date, {
        date: d.date,
        staff: num(d.staff),
        activated: num(d.activated),
        dau: num(d.dau),
        active30d: num(d.active30d),
        mobileLogins: num(d.mobileLogins),
        desktopLogins: num(d.desktopLogins),
        approvalsStarted: num(d.approvalsStarted),
        approvalsFinished: num(d.approvalsFinished),
      });
    }
    res.json({ loaded: list.length, total: m.size });
  });
  app.get(`${CONTROL_PREFIX}/datacenter`, (_req: Request, res: Response) => {
    res.json({ days: [...daysOf(fake.state).values()].sort((a, b) => a.date.localeCompare(b.date)) });
  });
}
