import { z } from 'zod';
import workflowPkg from '@alicloud/dingtalk/dist/workflow_1_0/client.js';
import { defineAction } from '../../core/connector.ts';
import { fetchApproval } from './approvals.ts';
import { appConnection } from './messages.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * Past approvals of one process code (for a history backfill): the instance ids started in the window
 * (ListProcessInstanceIds, workflow_1_0: at most 20 a page, windows of at most 120 days, a start at
 * most 365 days ago — older windows are skipped and reported), then each instance's times and result.
 */
const DAY = 86_400_000;
const PAGE = 20;
const WINDOW = 120 * DAY;
const OLDEST = 365 * DAY;

export const approvalHistory = defineAction({
  id: 'dingtalk.approval.history',
  title: 'List past approvals of a process (start and finish times, result)',
  description:
    "Lists one approval process's instances started between `from` and `to` (DingTalk keeps this list for 365 days: earlier windows are skipped and named in `skippedBefore`) and reads each instance's create and finish time, result and originator.",
  input: z.object({
    processCode: z.string().min(1),
    from: z.string().datetime({ offset: true }),
    to: z.string().datetime({ offset: true }),
    /** Instances read at once (DingTalk limits an app's calls per second). */
    concurrency: z.number().int().min(1).max(10).default(4),
  }),
  output: z.object({
    approvals: z.array(
      z.object({
        processInstanceId: z.string(),
        processCode: z.string(),
        originatorUserId: z.string().nullable(),
        status: z.string().nullable(),
        result: z.string().nullable(),
        createTime: z.string().nullable(),
        finishTime: z.string().nullable(),
      }),
    ),
    skippedBefore: z.string().nullable(),
  }),
  sampleOutput: {
    approvals: [
      {
        processInstanceId: 'a1b2c3d4-…',
        processCode: 'PROC-PURCHASE',
        originatorUserId: 'user01',
        status: 'COMPLETED',
        result: 'agree',
        createTime: '2026-03-02T01:15:00.000Z',
        finishTime: '2026-03-02T09:40:00.000Z',
      },
    ],
    skippedBefore: null,
  },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.approval.history');
    const c = client(workflowPkg.default, conn.settings);
    const end = Date.parse(input.to);
    const from = Date.parse(input.from);
    let skippedBefore: string | null = null;
    const ids: string[] = [];
    for (let start = from; start <= end; start += WINDOW + 1) {
      const windowEnd = Math.min(start + WINDOW, end);
      let token = 0;
      for (;;) {
        const page = (s: number) =>
          callApi(conn, 'workflow/processes/instanceIds/query', (t) =>
            c.listProcessInstanceIdsWithOptions(
              new workflowPkg.ListProcessInstanceIdsRequest({
                processCode: input.processCode,
                startTime: s,
                endTime: windowEnd,
                maxResults: PAGE,
                nextToken: token,
              }),
              new workflowPkg.ListProcessInstanceIdsHeaders({ xAcsDingtalkAccessToken: t }),
              runtimeOptions(ctx.timeoutMs),
            ),
          );
        let res: Awaited<ReturnType<typeof page>>;
        try {
          res = await page(start);
        } catch (err) {
          // DingTalk keeps the list for 365 days: a window starting before is asked again from then.
          const oldest = Date.now() - OLDEST + 3_600_000;
          if (token !== 0 || start >= oldest || !/startTime/i.test(String((err as Error).message))) throw err;
          skippedBefore = new Date(oldest).toISOString();
          if (oldest > windowEnd) {
            start = oldest - WINDOW - 1; // the next window starts at `oldest`
            break;
          }
          start = oldest;
          res = await page(start);
        }
        ids.push(...(res.body?.result?.list ?? []));
        const next = res.body?.result?.nextToken;
        if (!next) break;
        token = Number(next);
      }
    }
    ctx.trace({
      request: { processCode: input.processCode, from: new Date(from).toISOString(), to: input.to },
      response: { ids: ids.length },
    });
    const unique = [...new Set(ids)];
    const approvals = new Array(unique.length);
    let i = 0;
    const worker = async () => {
      while (i < unique.length) {
        const k = i++;
        const a = await fetchApproval(conn, unique[k]!, ctx.timeoutMs);
        approvals[k] = {
          processInstanceId: a.processInstanceId,
          processCode: input.processCode,
          originatorUserId: a.originatorUserId,
          status: a.status,
          result: a.result,
          createTime: a.createTime,
          finishTime: a.finishTime,
        };
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.concurrency, unique.length) }, worker));
    return { approvals, skippedBefore };
  },
});
