import { mediaUpload } from './media.ts';
import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { dingtalkCalendarSide } from './calendar-side.ts';
import { urlSetting } from '../../core/settings.ts';

/** DingTalk's new API and old API (oapi) hosts; a connection's baseUrl / oapiBaseUrl settings win. */
const dingtalkEnv = z.object({
  DINGTALK_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  DINGTALK_OAPI_BASE_URL: urlSetting(['http:', 'https:']).optional(),
});
import { approvalHistory } from './approval-history.ts';
import { approvalGet, approvalStart } from './approvals.ts';
import { approvalAttachments, approvalComment } from './approval-files.ts';
import { appAuth, robotAuth } from './auth.ts';
import { createEvent, deleteEvent, listEvents, updateEvent } from './calendar.ts';
import { dingtalkDirectory } from './contacts.ts';
import { registerDirectoryProvider } from '../../core/people/index.ts';
import { datacenterStats } from './datacenter.ts';
import { sendToGroup, sendToUsers } from './messages.ts';
import { APPROVAL_EVENTS, MESSAGE_EVENT, OTHER_EVENT, TASK_EVENTS } from './normalise.ts';
import { robotSend } from './robot-send.ts';
import { dingtalkStream } from './stream.ts';
import { dingtalkWebhook } from './webhook.ts';
import { dingtalkI18n, dingtalkRobotI18n } from './i18n.ts';
import { dingtalkChoices } from './choices.ts';

/**
 * DingTalk, as two connectors of one service:
 * - `dingtalk`: an app (appKey/appSecret → app access token, shared through the vault): app-robot
 *   messages, approvals, calendars; events by HTTP callback (POST /webhooks/dingtalk/:connectionId)
 *   and by Stream mode.
 * - `dingtalk_robot`: a custom group robot (access token + optional signing secret): `dingtalk.robot.send`.
 * Both name their actions `dingtalk.*`.
 */
const sampleApproval = {
  eventType: 'bpms_instance_change',
  processInstanceId: 'a1b2c3d4-0000-0000-0000-000000000001',
  processCode: 'PROC-REIMBURSE',
  title: 'Alice Chan提交的报销',
  type: 'finish',
  result: 'agree',
  originatorUserId: 'user001',
  createTime: '2030-01-10T02:00:00.000Z',
  finishTime: '2030-01-10T03:00:00.000Z',
  form: { Amount: '5000', Supplier: 'ACME Ltd' },
  formFetched: true,
};

export const dingtalk = defineConnector({
  id: 'dingtalk',
  name: 'DingTalk',
  i18n: dingtalkI18n,
  env: dingtalkEnv,
  auth: appAuth,
  // Forms let people choose a group and an approval form by name (GET /api/v1/connections/:id/choices/groups|approvalForms).
  choices: dingtalkChoices,
  triggers: [
    {
      id: 'dingtalk.events',
      title: 'Approvals, robot messages and other DingTalk events (HTTP callback)',
      events: [...APPROVAL_EVENTS, ...TASK_EVENTS, MESSAGE_EVENT, OTHER_EVENT],
      kind: 'webhook',
      sample: sampleApproval,
      webhook: dingtalkWebhook,
    },
    {
      id: 'dingtalk.stream',
      title: 'Approvals, robot messages and other DingTalk events (Stream mode)',
      events: [...APPROVAL_EVENTS, ...TASK_EVENTS, MESSAGE_EVENT, OTHER_EVENT],
      kind: 'stream',
      sample: {
        text: 'trello add Fix the login page',
        words: ['trello', 'add', 'Fix', 'the', 'login', 'page'],
        sender: { staffId: 'user001', nick: 'Alice Chan' },
        conversation: { id: 'cid…', type: 'group', title: 'Sales' },
      },
      stream: dingtalkStream,
    },
  ],
  actions: [
    sendToUsers,
    sendToGroup,
    approvalStart,
    approvalGet,
    approvalHistory,
    approvalAttachments,
    approvalComment,
    createEvent,
    updateEvent,
    deleteEvent,
    listEvents,
    datacenterStats,
    mediaUpload,
  ],
  calendarSide: dingtalkCalendarSide,
});

/** DingTalk's contacts feed the people directory (POST /api/v1/people/sync and /provision). */
registerDirectoryProvider('dingtalk', dingtalkDirectory);

export const dingtalkRobot = defineConnector({
  id: 'dingtalk_robot',
  name: 'DingTalk custom group robot',
  i18n: dingtalkRobotI18n,
  env: dingtalkEnv,
  actionPrefix: 'dingtalk',
  auth: robotAuth,
  triggers: [],
  actions: [robotSend],
});

export default dingtalk;
