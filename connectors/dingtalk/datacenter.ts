import { z } from 'zod';
import datacenterPkg from '@alicloud/dingtalk/dist/datacenter_1_0/client.js';
import { defineAction } from '../../core/connector.ts';
import { appConnection } from './messages.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * The data center's daily statistics (datacenter_1_0 in the SDK): active users with their mobile and
 * desktop logins, and approval counts, for one day. DingTalk computes a day overnight, so a day with no
 * rows yet gives `available: false` (the adoption KPIs' collector tries again later).
 *
 * Each report answers `{ metaList, dataList }`; a column is read by its kpiId.
 */
export interface DatacenterStats {
  date: string;
  available: boolean;
  staff: number | null;
  activated: number | null;
  activeUsers: number | null;
  activeUsers30d: number | null;
  mobileLogins: number | null;
  desktopLogins: number | null;
  approvalsStarted: number | null;
  approvalsFinished: number | null;
}

type Row = Record<string, unknown>;
const firstRow = (body: unknown): Row | undefined => {
  const list = (body as { dataList?: unknown[] } | undefined)?.dataList;
  return Array.isArray(list) && list[0] && typeof list[0] === 'object' ? (list[0] as Row) : undefined;
};
const n = (row: Row | undefined, id: string): number | null => {
  const v = row?.[id];
  if (v === undefined || v === null || v === '') return null;
  const x = Number(v);
  return Number.isFinite(x) ? x : null;
};

export const datacenterStats = defineAction({
  id: 'dingtalk.datacenter.stats',
  title: 'Daily data-center statistics (active users, mobile/desktop logins, approvals)',
  description:
    "One day of DingTalk's data-center statistics (QueryActiveUserStatisticalData, QueryOnlineUserStatisticalData, QueryApprovalStatisticalData). `date` is YYYY-MM-DD; `available` is false until DingTalk has computed the day.",
  input: z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD') }),
  sampleOutput: {
    date: '2030-01-10',
    available: true,
    staff: 40,
    activated: 38,
    activeUsers: 31,
    activeUsers30d: 37,
    mobileLogins: 120,
    desktopLogins: 60,
    approvalsStarted: 5,
    approvalsFinished: 4,
  },
  async run(ctx, input): Promise<DatacenterStats> {
    const conn = appConnection(ctx.connection, 'dingtalk.datacenter.stats');
    const c = client(datacenterPkg.default, conn.settings);
    const statDate = input.date.replaceAll('-', '');
    const opts = runtimeOptions(ctx.timeoutMs);
    const [active, online, approval] = await Promise.all([
      callApi(conn, 'datacenter/activeUserData', (t) =>
        c.queryActiveUserStatisticalDataWithOptions(
          new datacenterPkg.QueryActiveUserStatisticalDataRequest({ statDate }),
          new datacenterPkg.QueryActiveUserStatisticalDataHeaders({ xAcsDingtalkAccessToken: t }),
          opts,
        ),
      ),
      callApi(conn, 'datacenter/onlineUserData', (t) =>
        c.queryOnlineUserStatisticalDataWithOptions(
          new datacenterPkg.QueryOnlineUserStatisticalDataRequest({ statDate }),
          new datacenterPkg.QueryOnlineUserStatisticalDataHeaders({ xAcsDingtalkAccessToken: t }),
          opts,
        ),
      ),
      callApi(conn, 'datacenter/approvalData', (t) =>
        c.queryApprovalStatisticalDataWithOptions(
          new datacenterPkg.QueryApprovalStatisticalDataRequest({ statDate }),
          new datacenterPkg.QueryApprovalStatisticalDataHeaders({ xAcsDingtalkAccessToken: t }),
          opts,
        ),
      ),
    ]);
    const a = firstRow(active.body);
    const o = firstRow(online.body);
    const p = firstRow(approval.body);
    const out: DatacenterStats = {
      date: input.date,
      available: !!(a || o || p),
      staff: n(a, 'org_usr_cnt') ?? n(o, 'org_usr_cnt'),
      activated: n(a, 'actv_usr_cnt'),
      activeUsers: n(o, 'dau_1d'),
      activeUsers30d: n(o, 'dau_30d'),
      mobileLogins: n(o, 'mobile_login_cnt'),
      desktopLogins: n(o, 'pc_login_cnt'),
      approvalsStarted: n(p, 'start_cnt'),
      approvalsFinished: n(p, 'finish_cnt'),
    };
    ctx.trace({ request: { statDate }, response: out });
    return out;
  },
});
