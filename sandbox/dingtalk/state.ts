/** In-memory state of the DingTalk fake (replaced wholesale on POST /__sandbox/reset). */

export interface EventSubscription {
  callbackUrl: string;
  token: string;
  /** EncodingAESKey, exactly 43 characters. */
  aesKey: string;
  /** Owner key appended to every plaintext; defaults to the appKey. */
  ownerKey?: string;
}

export interface App {
  appKey: string;
  appSecret: string;
  robotCode: string;
  corpId: string;
  agentId: number;
  name: string;
  unifiedAppId: string;
  /** HTTP event subscription (events POSTed encrypted to callbackUrl). */
  eventSubscription?: EventSubscription;
  /** HTTP-mode robot: messages typed to the robot are POSTed here (signed with headers timestamp/sign). */
  robotMessageUrl?: string;
  /** Stream mode: events and robot messages are queued for the app's Stream connections. Default true. */
  stream: boolean;
  /** Event types pushed to this app; undefined = all. */
  subscribedEvents?: string[];
}

export interface User {
  userId: string;
  unionId: string;
  name: string;
  deptId: number;
  deptName: string;
  /** Contacts fields (topapi/v2/user/*): national number and country code as DingTalk keeps them. */
  mobile?: string;
  stateCode?: string;
  email?: string;
  title?: string;
  deptIdList?: number[];
  managerUserId?: string;
  createdAt?: string;
}

/** A department of the contacts (dept 1 is the organisation itself). */
export interface Department {
  deptId: number;
  name: string;
  parentId: number | null;
  createdAt: string;
}

export interface Conversation {
  openConversationId: string;
  title: string;
  createdAt: string;
  /** App robots (robotCodes) added to the group: what robot/groups/query lists. */
  robotCodes?: string[];
}

/** An approval form (process template) of a company: what workflow/processes/userVisibilities/templates lists. */
export interface ProcessTemplate {
  processCode: string;
  corpId: string;
  name: string;
  dirName?: string;
}

export interface CustomRobot {
  accessToken: string;
  secret?: string;
  keywords?: string[];
  name: string;
  openConversationId: string;
  createdAt: string;
  /** Epoch ms of accepted sends (rolling window). */
  sentAt: number[];
  throttledUntil?: number;
}

export type MessageChannel = 'custom_robot' | 'app_robot_group' | 'app_robot_oto' | 'user_chat' | 'robot_reply';

export interface MessageRecord {
  seq: number;
  id: string;
  at: string;
  channel: MessageChannel;
  openConversationId?: string;
  userId?: string;
  robotCode?: string;
  robotToken?: string;
  sender?: string;
  /** Normalised type: text | markdown | link | actionCard | feedCard | image | other. */
  msgtype: string;
  /** Normalised body for the type (e.g. {content} for text, {title,text} for markdown). */
  body: Record<string, unknown>;
  /** The message exactly as received (custom robot JSON, or {msgKey, msgParam} for app robots). */
  raw: unknown;
  processQueryKey?: string;
}

export interface ApprovalTask {
  taskId: number;
  userId: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELED' | 'NEW';
  result: 'NONE' | 'AGREE' | 'REFUSE';
  activityId: string;
  step: number;
  createTime: number;
  finishTime?: number;
}

export interface OperationRecord {
  userId: string;
  date: number;
  type: string;
  result: string;
  remark?: string;
  showName: string;
  activityId?: string;
}

export interface ApprovalInstance {
  processInstanceId: string;
  corpId: string;
  processCode: string;
  title: string;
  businessId: string;
  originatorUserId: string;
  originatorDeptId: string;
  originatorDeptName: string;
  status: 'RUNNING' | 'COMPLETED' | 'TERMINATED';
  result: '' | 'agree' | 'refuse';
  createTime: number;
  finishTime?: number;
  formComponentValues: Array<Record<string, unknown>>;
  steps: Array<{ actionType: string; userIds: string[] }>;
  currentStep: number;
  ccList: string[];
  tasks: ApprovalTask[];
  operationRecords: OperationRecord[];
  url: string;
}

export interface CalendarEvent {
  id: string;
  organizer: string;
  summary: string;
  description?: string;
  start: Record<string, unknown>;
  end: Record<string, unknown>;
  isAllDay: boolean;
  attendees: Array<{ id: string; isOptional?: boolean }>;
  location?: Record<string, unknown>;
  reminders?: Array<Record<string, unknown>>;
  recurrence?: unknown;
  onlineMeetingInfo?: unknown;
  extra?: unknown;
  categories?: unknown;
  createTime: string;
  updateTime: string;
  status: 'confirmed' | 'cancelled';
  /** A changed or cancelled occurrence of a series (id `${seriesMasterId}_${stamp}`): the series and its original start. */
  seriesMasterId?: string;
  originStart?: { dateTime: string };
  /** Global change sequence of the last change (for syncToken). */
  seq: number;
}

export interface DeliveryAttempt {
  at: string;
  ok: boolean;
  error?: string;
  httpStatus?: number;
  durationMs?: number;
  connectionId?: string;
  ackStatus?: string;
}

export interface Delivery {
  id: string;
  eventId: string;
  appKey: string;
  /** http = encrypted event subscription; stream = Stream EVENT/CALLBACK; robot_http = HTTP-mode robot message. */
  mode: 'http' | 'stream' | 'robot_http';
  kind: 'event' | 'robot_message' | 'check_url';
  eventType?: string;
  /** Stream frame type and topic. */
  frameType?: 'EVENT' | 'CALLBACK';
  topic?: string;
  messageId?: string;
  url?: string;
  payload: Record<string, unknown>;
  /** Stream headers specific to the event (eventType, eventId, ...). */
  headers?: Record<string, string>;
  createdAt: string;
  attempts: number;
  status: 'pending' | 'in_flight' | 'acknowledged' | 'failed';
  acknowledged: boolean;
  lastError?: string;
  ackStatus?: string;
  response?: unknown;
  connectionId?: string;
  nextAttemptAt?: string;
  history: DeliveryAttempt[];
}

export interface TokenRecord {
  token: string;
  appKey: string;
  expiresAt: number;
}

export interface DingtalkState {
  apps: Map<string, App>;
  users: Map<string, User>;
  tokens: Map<string, TokenRecord>;
  conversations: Map<string, Conversation>;
  robots: Map<string, CustomRobot>;
  messages: MessageRecord[];
  messageSeq: number;
  approvals: Map<string, ApprovalInstance>;
  approvalSeq: number;
  taskSeq: number;
  calendarEvents: Map<string, CalendarEvent>;
  calendarSeq: number;
  /** Bumped by the control API: every syncToken issued before is refused (a sync-token reset). */
  calendarTokenEpoch: number;
  /** `${unionId}|${x-client-token}` → event id */
  clientTokens: Map<string, string>;
  deliveries: Map<string, Delivery>;
  /** Reply sessions for sessionWebhook URLs: session → conversation. */
  sessions: Map<string, { openConversationId: string; robotCode: string; expiresAt: number }>;
  departments: Map<number, Department>;
  deptSeq: number;
  processes: Map<string, ProcessTemplate>;
}

export const SEED = {
  appKey: 'dingsandboxappkey',
  appSecret: 'sandbox-app-secret',
  robotCode: 'dingsandboxappkey',
  corpId: 'dingsandboxcorp',
  agentId: 100001,
  groupId: 'cidSandboxGroup0001',
  groupTitle: 'Sandbox group',
  robotToken: 'sandbox-robot-token',
  robotSecret: 'SECsandboxsecret',
} as const;

export function emptyState(): DingtalkState {
  return {
    apps: new Map(),
    users: new Map(),
    tokens: new Map(),
    conversations: new Map(),
    robots: new Map(),
    messages: [],
    messageSeq: 0,
    approvals: new Map(),
    approvalSeq: 0,
    taskSeq: 60000000000,
    calendarEvents: new Map(),
    calendarSeq: 0,
    calendarTokenEpoch: 0,
    clientTokens: new Map(),
    deliveries: new Map(),
    sessions: new Map(),
    departments: new Map([[1, { deptId: 1, name: 'Head office', parentId: null, createdAt: new Date().toISOString() }]]),
    deptSeq: 100000,
    processes: new Map(),
  };
}

export function seededState(): DingtalkState {
  const s = emptyState();
  s.apps.set(SEED.appKey, {
    appKey: SEED.appKey,
    appSecret: SEED.appSecret,
    robotCode: SEED.robotCode,
    corpId: SEED.corpId,
    agentId: SEED.agentId,
    name: 'Sandbox app',
    unifiedAppId: 'sandbox-unified-app',
    stream: true,
  });
  const users: Array<[string, string, string]> = [
    ['user001', 'union001', 'Alice Chan'],
    ['user002', 'union002', 'Bob Lee'],
    ['manager01', 'unionmgr01', 'Carol Wong'],
    ['cfo01', 'unioncfo01', 'Dan Ho'],
  ];
  for (const [userId, unionId, name] of users) s.users.set(userId, { userId, unionId, name, deptId: 1, deptName: 'Head office' });
  const now = new Date().toISOString();
  s.conversations.set(SEED.groupId, {
    openConversationId: SEED.groupId,
    title: SEED.groupTitle,
    createdAt: now,
    robotCodes: [SEED.robotCode],
  });
  // The company's approval forms (processCode → name), as the OA approval admin lists them.
  for (const [processCode, name, dirName] of [
    ['PROC-REIMBURSE', '报销', '财务'],
    ['PROC-PURCHASE', '采购申请', '财务'],
    ['PROC-LEAVE', '请假', '人事'],
    ['PROC-CONTRACT', '合同审批', '法务'],
  ] as const)
    s.processes.set(processCode, { processCode, corpId: SEED.corpId, name, dirName });
  s.robots.set(SEED.robotToken, {
    accessToken: SEED.robotToken,
    secret: SEED.robotSecret,
    name: 'Sandbox robot',
    openConversationId: SEED.groupId,
    createdAt: now,
    sentAt: [],
  });
  return s;
}
