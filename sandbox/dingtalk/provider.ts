import type { Express, Request, Response, NextFunction } from 'express';
import { registerApprovalFileApi } from './approval-files.ts';
import { registerWorkflowHistory } from './workflow-history.ts';
export { apiError } from './errors.ts';
import type { RunningFakeInternals } from '../framework/index.ts';
import { randomHex, robotSign } from './crypto.ts';
import { apiError } from './errors.ts';
import { normaliseCustomMessage, type DingtalkRuntime } from './runtime.ts';
import type { App, DingtalkState } from './state.ts';
import { createApproval, instanceView } from './approvals.ts';
import { registerCalendarRoutes } from './calendar.ts';
import { registerContactsRoutes } from './contacts.ts';
import { registerDatacenterRoutes } from './datacenter.ts';
import { mediaOf, registerMediaRoutes } from './media.ts';

type Fake = RunningFakeInternals<DingtalkState>;

export function appOf(res: Response): App {
  return res.locals.app as App;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Known app-robot msgKeys and the msgParam fields each must carry. */
const MSG_KEYS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleImageMsg: ['photoURL'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2'],
  sampleActionCard3: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2', 'actionTitle3', 'actionURL3'],
  sampleActionCard4: [
    'title',
    'text',
    'actionTitle1',
    'actionURL1',
    'actionTitle2',
    'actionURL2',
    'actionTitle3',
    'actionURL3',
    'actionTitle4',
    'actionURL4',
  ],
  sampleActionCard5: [
    'title',
    'text',
    'actionTitle1',
    'actionURL1',
    'actionTitle2',
    'actionURL2',
    'actionTitle3',
    'actionURL3',
    'actionTitle4',
    'actionURL4',
    'actionTitle5',
    'actionURL5',
  ],
  sampleActionCard6: ['title', 'text', 'buttonTitle1', 'buttonUrl1', 'buttonTitle2', 'buttonUrl2'],
  sampleFile: ['mediaId', 'fileName', 'fileType'],
};

/** Converts an app-robot message to the normalised shape the page and the message log use. */
export function normaliseAppMessage(msgKey: string, p: Record<string, unknown>): { msgtype: string; body: Record<string, unknown> } {
  switch (msgKey) {
    case 'sampleText':
      return { msgtype: 'text', body: { content: p.content } };
    case 'sampleMarkdown':
      return { msgtype: 'markdown', body: { title: p.title, text: p.text } };
    case 'sampleLink':
      return { msgtype: 'link', body: { title: p.title, text: p.text, picUrl: p.picUrl, messageUrl: p.messageUrl } };
    case 'sampleImageMsg':
      return { msgtype: 'image', body: { photoURL: p.photoURL } };
    case 'sampleFile':
      return { msgtype: 'file', body: { mediaId: p.mediaId, fileName: p.fileName, fileType: p.fileType } };
    case 'sampleActionCard':
      return { msgtype: 'actionCard', body: { title: p.title, text: p.text, singleTitle: p.singleTitle, singleURL: p.singleURL } };
    case 'sampleActionCard6':
      return {
        msgtype: 'actionCard',
        body: { title: p.title, text: p.text, btns: [1, 2].map((i) => ({ title: p[`buttonTitle${i}`], actionURL: p[`buttonUrl${i}`] })) },
      };
    default:
      if (msgKey.startsWith('sampleActionCard')) {
        const btns = [1, 2, 3, 4, 5]
          .filter((i) => p[`actionTitle${i}`] !== undefined)
          .map((i) => ({ title: p[`actionTitle${i}`], actionURL: p[`actionURL${i}`] }));
        return { msgtype: 'actionCard', body: { title: p.title, text: p.text, btns } };
      }
      return { msgtype: 'other', body: { ...p } };
  }
}

function parseMsgParam(res: Response, msgKey: unknown, msgParam: unknown): Record<string, unknown> | undefined {
  if (typeof msgKey !== 'string' || !msgKey) {
    apiError(res, 400, 'MissingmsgKey', 'msgKey is mandatory for this action.');
    return undefined;
  }
  if (typeof msgParam !== 'string' || !msgParam) {
    apiError(res, 400, 'MissingmsgParam', 'msgParam is mandatory for this action.');
    return undefined;
  }
  const fields = MSG_KEYS[msgKey];
  if (!fields) {
    apiError(res, 400, 'invalidParameter.msgKey.invalid', `msgKey ${msgKey} 不合法`);
    return undefined;
  }
  let p: unknown;
  try {
    p = JSON.parse(msgParam);
  } catch {
    apiError(res, 400, 'invalidParameter.msgParam.invalid', 'msgParam 不是合法的 JSON');
    return undefined;
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) {
    apiError(res, 400, 'invalidParameter.msgParam.invalid', 'msgParam 必须是 JSON 对象');
    return undefined;
  }
  const missing = fields.filter((f) => (p as Record<string, unknown>)[f] === undefined);
  if (missing.length > 0) {
    apiError(res, 400, 'invalidParameter.msgParam.invalid', `msgParam 缺少字段: ${missing.join(', ')}`);
    return undefined;
  }
  return p as Record<string, unknown>;
}

export function registerProviderRoutes(app: Express, fake: Fake, rt: DingtalkRuntime): void {
  const st = () => fake.state;

  // ------------------------------------------------------------ new API: token
  app.post('/v1.0/oauth2/accessToken', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.appKey)) return apiError(res, 400, 'MissingappKey', 'appKey is mandatory for this action.');
    if (!str(b.appSecret)) return apiError(res, 400, 'MissingappSecret', 'appSecret is mandatory for this action.');
    const a = st().apps.get(String(b.appKey));
    if (!a || a.appSecret !== b.appSecret) return apiError(res, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    const t = rt.issueToken(a);
    res.json({ accessToken: t.token, expireIn: t.expiresIn });
  });

  // ------------------------------------------------------------ new API: Stream gateway
  app.post('/v1.0/gateway/connections/open', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const a = st().apps.get(String(b.clientId ?? ''));
    if (!a || a.appSecret !== b.clientSecret) return apiError(res, 401, 'authFailed', '鉴权失败');
    const subsRaw = Array.isArray(b.subscriptions) ? b.subscriptions : [];
    const subscriptions = subsRaw
      .filter((s): s is Record<string, unknown> => !!s && typeof s === 'object')
      .map((s) => ({ type: String(s.type ?? ''), topic: String(s.topic ?? '') }))
      .filter((s) => (s.type === 'EVENT' || s.type === 'CALLBACK' || s.type === 'SYSTEM') && s.topic);
    if (subscriptions.length === 0) return apiError(res, 400, 'invalidParameter.subscriptions', 'subscriptions 不能为空');
    // Lazy attach of the WebSocket endpoint, so it also works when started through the generic startFake().
    const server = (req.socket as unknown as { server?: import('node:http').Server }).server;
    if (server) rt.attach(server);
    const ticket = rt.openTicket(a, subscriptions, String(b.ua ?? ''));
    const host = req.headers.host ?? new URL(fake.baseUrl()).host;
    const scheme = fake.baseUrl().startsWith('https') ? 'wss' : 'ws';
    res.json({ endpoint: `${scheme}://${host}/connect`, ticket });
  });

  // ------------------------------------------------------------ new API: auth for everything else under /v1.0
  // (Not mounted at '/v1.0': a mounted middleware sees a shortened req.path, and fault paths match the full one.)
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/v1.0/')) return next();
    const token = req.headers['x-acs-dingtalk-access-token'];
    if (typeof token !== 'string' || !token) {
      return apiError(res, 400, 'AuthenticationFailed.MissingParameter', '缺少参数：x-acs-dingtalk-access-token');
    }
    const fault = fake.faults.takeAuthFault(req);
    const a = rt.appForToken(token);
    if (fault || !a) return apiError(res, rt.opts.authErrorStatus, 'InvalidAuthentication', '不合法的access_token');
    res.locals.app = a;
    next();
  });

  // ------------------------------------------------------------ new API: robot
  app.post('/v1.0/robot/oToMessages/batchSend', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.robotCode)) return apiError(res, 400, 'MissingrobotCode', 'robotCode is mandatory for this action.');
    if (!Array.isArray(b.userIds) || b.userIds.length === 0)
      return apiError(res, 400, 'MissinguserIds', 'userIds is mandatory for this action.');
    if (b.userIds.length > 20) return apiError(res, 400, 'invalidParameter.userIds.tooMany', 'userIds 最多20个');
    const a = appOf(res);
    if (b.robotCode !== a.robotCode) return apiError(res, 400, 'resource.not.found', `robot ${String(b.robotCode)} 不存在或不属于当前应用`);
    const p = parseMsgParam(res, b.msgKey, b.msgParam);
    if (!p) return;
    const processQueryKey = randomHex(16);
    const invalid: string[] = [];
    const { msgtype, body } = normaliseAppMessage(String(b.msgKey), p);
    for (const u of b.userIds) {
      if (typeof u !== 'string' || !u.trim()) {
        invalid.push(String(u));
        continue;
      }
      rt.recordMessage({
        channel: 'app_robot_oto',
        userId: u,
        robotCode: a.robotCode,
        sender: a.name,
        msgtype,
        body,
        raw: { msgKey: b.msgKey, msgParam: b.msgParam },
        processQueryKey,
      });
    }
    res.json({ processQueryKey, invalidStaffIdList: invalid, flowControlledStaffIdList: [] });
  });

  app.post('/v1.0/robot/groupMessages/send', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.robotCode)) return apiError(res, 400, 'MissingrobotCode', 'robotCode is mandatory for this action.');
    if (!str(b.openConversationId))
      return apiError(res, 400, 'MissingopenConversationId', 'openConversationId is mandatory for this action.');
    const a = appOf(res);
    if (b.robotCode !== a.robotCode) return apiError(res, 400, 'resource.not.found', `robot ${String(b.robotCode)} 不存在或不属于当前应用`);
    const p = parseMsgParam(res, b.msgKey, b.msgParam);
    if (!p) return;
    if (b.msgKey === 'sampleFile' && !mediaOf(fake.state).has(String(p.mediaId)))
      return apiError(res, 400, 'invalidParameter.mediaId', `mediaId ${String(p.mediaId)} 不存在`);
    const conv = String(b.openConversationId);
    rt.ensureConversation(conv, undefined, a.robotCode);
    const processQueryKey = randomHex(16);
    const { msgtype, body } = normaliseAppMessage(String(b.msgKey), p);
    rt.recordMessage({
      channel: 'app_robot_group',
      openConversationId: conv,
      robotCode: a.robotCode,
      sender: a.name,
      msgtype,
      body,
      raw: { msgKey: b.msgKey, msgParam: b.msgParam },
      processQueryKey,
    });
    res.json({ processQueryKey });
  });

  // robot_1_0 QueryBotInstanceInGroupInfo: the groups an app robot is in (ids only), a page at a time.
  app.post('/v1.0/robot/groups/query', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.robotCode)) return apiError(res, 400, 'MissingrobotCode', 'robotCode is mandatory for this action.');
    if (b.robotCode !== appOf(res).robotCode)
      return apiError(res, 400, 'resource.not.found', `robot ${String(b.robotCode)} 不存在或不属于当前应用`);
    const size = Math.min(Math.max(Number(b.pageSize) || 10, 1), 100);
    const page = Math.max(Number(b.pageNumber) || 1, 1);
    const ids = [...st().conversations.values()]
      .filter((c) => c.robotCodes?.includes(String(b.robotCode)))
      .map((c) => c.openConversationId);
    res.json({ openConversationIds: ids.slice((page - 1) * size, page * size), hasMore: ids.length > page * size });
  });

  // im_1_0 QueryOpenGroupBaseInfo: a group's name and size.
  app.post('/v1.0/im/groups/baseInfos/query', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.openConversationId))
      return apiError(res, 400, 'MissingopenConversationId', 'openConversationId is mandatory for this action.');
    const c = st().conversations.get(String(b.openConversationId));
    if (!c) return apiError(res, 400, 'invalidParameter.openConversationId', '群不存在');
    res.json({
      success: true,
      result: { openConversationId: c.openConversationId, title: c.title, memberCount: st().users.size, icon: '' },
    });
  });

  // workflow_1_0 ListUserVisibleBpmsProcesses: the company's approval forms (every one when no userId).
  app.get('/v1.0/workflow/processes/userVisibilities/templates', (req, res) => {
    const max = Math.min(Math.max(Number(req.query.maxResults) || 100, 1), 100);
    const from = Math.max(Number(req.query.nextToken) || 0, 0);
    const all = [...st().processes.values()].filter((p) => p.corpId === appOf(res).corpId);
    const processList = all.slice(from, from + max).map((p) => ({
      processCode: p.processCode,
      name: p.name,
      dirName: p.dirName,
      iconUrl: '',
      url: `${fake.baseUrl()}/approval/${p.processCode}`,
    }));
    res.json({ result: { processList, ...(all.length > from + max ? { nextToken: from + max } : {}) } });
  });

  // ------------------------------------------------------------ new API: workflow
  app.post('/v1.0/workflow/processInstances', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!str(b.originatorUserId)) return apiError(res, 400, 'MissingoriginatorUserId', 'originatorUserId is mandatory for this action.');
    if (!str(b.processCode)) return apiError(res, 400, 'MissingprocessCode', 'processCode is mandatory for this action.');
    if (!Array.isArray(b.formComponentValues))
      return apiError(res, 400, 'MissingformComponentValues', 'formComponentValues is mandatory for this action.');
    const result = createApproval(rt, appOf(res).corpId, b);
    if ('error' in result) return apiError(res, 400, 'invalidParameter', result.error);
    res.json({ instanceId: result.instance.processInstanceId });
  });

  app.get('/v1.0/workflow/processInstances', (req, res) => {
    const id = str(req.query.processInstanceId);
    if (!id) return apiError(res, 400, 'MissingprocessInstanceId', 'processInstanceId is mandatory for this action.');
    const inst = st().approvals.get(id);
    if (!inst || inst.corpId !== appOf(res).corpId) return apiError(res, 400, 'invalidParameter.processInstanceId', '审批实例不存在');
    res.json({ success: true, result: instanceView(rt, inst) });
  });

  registerApprovalFileApi(app, rt, (res) => appOf(res).corpId);
  registerWorkflowHistory(app, rt, (res) => appOf(res).corpId);
  registerCalendarRoutes(app, fake, rt);
  registerContactsRoutes(app, fake, rt);
  registerDatacenterRoutes(app, fake);
  registerMediaRoutes(app, fake, rt);

  // ------------------------------------------------------------ old API
  app.get('/gettoken', (req, res) => {
    const appkey = str(req.query.appkey);
    const appsecret = str(req.query.appsecret);
    if (!appkey || !appsecret) return void res.json({ errcode: 40035, errmsg: '缺少参数 corpid or appkey' });
    const a = st().apps.get(appkey);
    if (!a || a.appSecret !== appsecret) return void res.json({ errcode: 40096, errmsg: '不合法的appKey或appSecret' });
    const t = rt.issueToken(a);
    res.json({ errcode: 0, access_token: t.token, errmsg: 'ok', expires_in: t.expiresIn });
  });

  app.post('/robot/send', (req, res) => {
    const token = str(req.query.access_token);
    if (!token) return void res.json({ errcode: 300001, errmsg: 'token is empty' });
    const robot = st().robots.get(token);
    if (!robot) return void res.json({ errcode: 300005, errmsg: 'token is not exist' });
    if (robot.secret) {
      const ts = str(req.query.timestamp);
      const sign = str(req.query.sign);
      if (!ts || !sign)
        return void res.json({
          errcode: 310000,
          errmsg: 'sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]',
        });
      const tsNum = Number(ts);
      if (!/^\d+$/.test(ts) || Math.abs(Date.now() - tsNum) > 3600_000) {
        return void res.json({
          errcode: 310000,
          errmsg: 'invalid timestamp, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]',
        });
      }
      if (robotSign(robot.secret, ts) !== sign) {
        return void res.json({
          errcode: 310000,
          errmsg: 'sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]',
        });
      }
    }
    const body = req.body as Record<string, unknown> | undefined;
    const invalid = validateCustomMessage(body);
    if (invalid) return void res.json(invalid);
    if (robot.keywords && robot.keywords.length > 0) {
      const text = messageText(body!);
      if (!robot.keywords.some((k) => text.includes(k))) {
        return void res.json({
          errcode: 310000,
          errmsg: 'keywords not in content, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]',
        });
      }
    }
    const now = Date.now();
    robot.sentAt = robot.sentAt.filter((t) => t > now - rt.opts.robotWindowMs);
    if ((robot.throttledUntil && robot.throttledUntil > now) || robot.sentAt.length >= rt.opts.robotMax) {
      if (rt.opts.robotPenaltyMs > 0 && !(robot.throttledUntil && robot.throttledUntil > now))
        robot.throttledUntil = now + rt.opts.robotPenaltyMs;
      return void res.json({ errcode: rt.opts.throttleErrcode, errmsg: rt.opts.throttleErrmsg });
    }
    robot.sentAt.push(now);
    const { msgtype, body: norm } = normaliseCustomMessage(body!);
    rt.recordMessage({
      channel: 'custom_robot',
      openConversationId: robot.openConversationId,
      robotToken: robot.accessToken,
      sender: robot.name,
      msgtype,
      body: { ...norm, ...(body!.at ? { at: body!.at } : {}) },
      raw: body,
    });
    res.json({ errcode: 0, errmsg: 'ok' });
  });

  // Reply through a robot message's sessionWebhook (no token needed, valid until sessionWebhookExpiredTime).
  app.post('/robot/sendBySession', (req, res) => {
    const session = st().sessions.get(String(req.query.session ?? ''));
    if (!session || session.expiresAt < Date.now()) return void res.json({ errcode: 300005, errmsg: 'session is not exist or expired' });
    const body = req.body as Record<string, unknown> | undefined;
    const invalid = validateCustomMessage(body);
    if (invalid) return void res.json(invalid);
    const { msgtype, body: norm } = normaliseCustomMessage(body!);
    const app = [...st().apps.values()].find((a) => a.robotCode === session.robotCode);
    rt.recordMessage({
      channel: 'robot_reply',
      openConversationId: session.openConversationId,
      robotCode: session.robotCode,
      sender: app?.name ?? session.robotCode,
      msgtype,
      body: norm,
      raw: body,
    });
    res.json({ errcode: 0, errmsg: 'ok' });
  });
}

function isStr(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Validates a custom-robot body; returns the error body or undefined. */
export function validateCustomMessage(body: Record<string, unknown> | undefined): { errcode: number; errmsg: string } | undefined {
  const missing = (what: string) => ({ errcode: 40035, errmsg: `缺少参数 ${what}` });
  if (!body || typeof body !== 'object') return { errcode: 43004, errmsg: '无效的HTTP HEADER Content-Type' };
  const t = body.msgtype;
  if (!isStr(t)) return missing('msgtype');
  const inner = body[t] as Record<string, unknown> | undefined;
  if (!inner || typeof inner !== 'object') return missing(t);
  switch (t) {
    case 'text':
      return isStr(inner.content) ? undefined : missing('text.content');
    case 'markdown':
      return isStr(inner.title) && isStr(inner.text) ? undefined : missing('markdown.title/text');
    case 'link':
      return isStr(inner.title) && isStr(inner.text) && isStr(inner.messageUrl) ? undefined : missing('link.title/text/messageUrl');
    case 'actionCard': {
      if (!isStr(inner.title) || !isStr(inner.text)) return missing('actionCard.title/text');
      if (isStr(inner.singleTitle) && isStr(inner.singleURL)) return undefined;
      const btns = inner.btns;
      if (
        Array.isArray(btns) &&
        btns.length > 0 &&
        btns.every((b) => b && isStr((b as Record<string, unknown>).title) && isStr((b as Record<string, unknown>).actionURL))
      )
        return undefined;
      return missing('actionCard.singleTitle/singleURL or btns');
    }
    case 'feedCard': {
      const links = inner.links;
      if (
        Array.isArray(links) &&
        links.length > 0 &&
        links.every((l) => l && isStr((l as Record<string, unknown>).title) && isStr((l as Record<string, unknown>).messageURL))
      )
        return undefined;
      return missing('feedCard.links');
    }
    default:
      return { errcode: 40035, errmsg: `不支持的消息类型 msgtype=${t}` };
  }
}

/** The text DingTalk checks keywords against. */
function messageText(body: Record<string, unknown>): string {
  const inner = (body[String(body.msgtype)] ?? {}) as Record<string, unknown>;
  const parts: unknown[] = [inner.content, inner.title, inner.text];
  if (Array.isArray(inner.links)) for (const l of inner.links) parts.push((l as Record<string, unknown>)?.title);
  if (Array.isArray(inner.btns)) for (const b of inner.btns) parts.push((b as Record<string, unknown>)?.title);
  return parts.filter((p) => typeof p === 'string').join('\n');
}
