import imPkg from '@alicloud/dingtalk/dist/im_1_0/client.js';
import robotPkg from '@alicloud/dingtalk/dist/robot_1_0/client.js';
import workflowPkg from '@alicloud/dingtalk/dist/workflow_1_0/client.js';
import type { Choice, ConnectionHandle } from '../../core/connector.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * Live choices for forms, so an admin picks DingTalk things by the names people know:
 * - `groups`: the groups the app robot is in (robot_1_0 QueryBotInstanceInGroupInfo,
 *   `POST /v1.0/robot/groups/query {robotCode, pageNumber, pageSize}` → `{openConversationIds, hasMore}`),
 *   each named through im_1_0 QueryOpenGroupBaseInfo (`POST /v1.0/im/groups/baseInfos/query
 *   {openConversationId}` → `{result: {title, memberCount}}`); the id stored is the openConversationId
 *   that `dingtalk.message.sendToGroup` sends to.
 * - `approvalForms`: the company's approval forms (workflow_1_0 ListUserVisibleBpmsProcesses,
 *   `GET /v1.0/workflow/processes/userVisibilities/templates?maxResults&nextToken` → `{result:
 *   {processList: [{processCode, name, dirName}], nextToken}}`; without a userId, every form of the
 *   company — per the SDK's models, not confirmed against the live service); the id stored is the processCode.
 */
const MAX_GROUPS = 100;
const MAX_FORMS = 300;

const robotCodeOf = (conn: ConnectionHandle) => String(conn.settings.robotCode || conn.settings.appKey || '');

async function groups(conn: ConnectionHandle): Promise<Choice[]> {
  const robot = client(robotPkg.default, conn.settings);
  const ids: string[] = [];
  for (let page = 1; ids.length < MAX_GROUPS && page <= 10; page++) {
    const res = await callApi(conn, 'robot/groups/query', (token) =>
      robot.queryBotInstanceInGroupInfoWithOptions(
        new robotPkg.QueryBotInstanceInGroupInfoRequest({ robotCode: robotCodeOf(conn), pageNumber: page, pageSize: 20 }),
        new robotPkg.QueryBotInstanceInGroupInfoHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(),
      ),
    );
    ids.push(...(res.body?.openConversationIds ?? []));
    if (!res.body?.hasMore) break;
  }
  const im = client(imPkg.default, conn.settings);
  const named = await Promise.all(
    ids.slice(0, MAX_GROUPS).map(async (openConversationId) => {
      const res = await callApi(conn, 'im/groups/baseInfos/query', (token) =>
        im.queryOpenGroupBaseInfoWithOptions(
          new imPkg.QueryOpenGroupBaseInfoRequest({ openConversationId }),
          new imPkg.QueryOpenGroupBaseInfoHeaders({ xAcsDingtalkAccessToken: token }),
          runtimeOptions(),
        ),
      ).catch(() => undefined);
      const r = res?.body?.result;
      return {
        id: openConversationId,
        label: r?.title || openConversationId,
        ...(r?.memberCount !== undefined ? { detail: String(r.memberCount) } : {}),
      };
    }),
  );
  return named.sort((a, b) => a.label.localeCompare(b.label));
}

async function approvalForms(conn: ConnectionHandle): Promise<Choice[]> {
  const wf = client(workflowPkg.default, conn.settings);
  const out: Choice[] = [];
  let nextToken = 0;
  for (let i = 0; i < 10 && out.length < MAX_FORMS; i++) {
    const res = await callApi(conn, 'workflow/processes/userVisibilities/templates', (token) =>
      wf.listUserVisibleBpmsProcessesWithOptions(
        new workflowPkg.ListUserVisibleBpmsProcessesRequest({ maxResults: 100, nextToken }),
        new workflowPkg.ListUserVisibleBpmsProcessesHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(),
      ),
    );
    for (const p of res.body?.result?.processList ?? [])
      if (p.processCode) out.push({ id: p.processCode, label: p.name || p.processCode, ...(p.dirName ? { detail: p.dirName } : {}) });
    const next = res.body?.result?.nextToken;
    if (next === undefined || next === null || next === nextToken) break;
    nextToken = next;
  }
  return out;
}

export const dingtalkChoices = { groups, approvalForms };
