import crypto from 'node:crypto';
import { registerApprovalFileRoutes } from './approval-files.ts';
import type { Express, Response } from 'express';
import { z } from 'zod';
import type { RunningFakeInternals } from '../framework/index.ts';
import { randomHex } from './crypto.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { App, DingtalkState, MessageRecord } from './state.ts';
import { actOnApproval, createApproval, instanceView, type ApprovalAction } from './approvals.ts';
import { eventView } from './calendar.ts';
import { renderPage } from './page.ts';

type Fake = RunningFakeInternals<DingtalkState>;

export const CONTROL_PREFIX = '/__sandbox/dingtalk';

const subscriptionSchema = z.object({
  callbackUrl: z.string().url(),
  token: z.string().min(1),
  aesKey: z.string().length(43),
  ownerKey: z.string().min(1).optional(),
});

const appSchema = z.object({
  appKey: z.string().min(1).optional(),
  appSecret: z.string().min(1).optional(),
  robotCode: z.string().min(1).optional(),
  corpId: z.string().min(1).optional(),
  agentId: z.number().int().optional(),
  name: z.string().min(1).optional(),
  unifiedAppId: z.string().min(1).optional(),
  eventSubscription: subscriptionSchema.nullable().optional(),
  robotMessageUrl: z.string().url().nullable().optional(),
  stream: z.boolean().optional(),
  subscribedEvents: z.array(z.string()).nullable().optional(),
});

const robotSchema = z.object({
  accessToken: z.string().min(1).optional(),
  secret: z.string().min(1).optional(),
  keywords: z.array(z.string().min(1)).optional(),
  name: z.string().min(1).optional(),
  openConversationId: z.string().min(1).optional(),
  conversationTitle: z.string().min(1).optional(),
});

const chatSchema = z.object({
  appKey: z.string().optional(),
  robotCode: z.string().optional(),
  conversationId: z.string().min(1).optional(),
  conversationType: z.enum(['1', '2']).optional(),
  conversationTitle: z.string().optional(),
  text: z.string().min(1),
  senderStaffId: z.string().min(1).optional(),
  senderNick: z.string().optional(),
  isInAtList: z.boolean().optional(),
  isAdmin: z.boolean().optional(),
});

function bad(res: Response, message: string, status = 400): void {
  res.status(status).json({ error: { code: 'bad_request', message } });
}

function parse<T>(schema: z.ZodType<T>, body: unknown, res: Response): T | undefined {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    bad(res, r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
    return undefined;
  }
  return r.data;
}

function publicApp(a: App): Record<string, unknown> {
  return {
    ...a,
    eventSubscription: a.eventSubscription ? { ...a.eventSubscription, ownerKey: a.eventSubscription.ownerKey ?? a.appKey } : null,
  };
}

export function filterMessages(
  st: DingtalkState,
  f: { robotCode?: string; robotToken?: string; openConversationId?: string; userId?: string; channel?: string; sinceSeq?: number },
): MessageRecord[] {
  return st.messages.filter(
    (m) =>
      (!f.robotCode || m.robotCode === f.robotCode) &&
      (!f.robotToken || m.robotToken === f.robotToken) &&
      (!f.openConversationId || m.openConversationId === f.openConversationId) &&
      (!f.userId || m.userId === f.userId) &&
      (!f.channel || m.channel === f.channel) &&
      (f.sinceSeq === undefined || m.seq > f.sinceSeq),
  );
}

export function registerControlRoutes(app: Express, fake: Fake, rt: DingtalkRuntime): void {
  const P = CONTROL_PREFIX;
  const st = () => fake.state;
  const findApp = (appKey: string | undefined, robotCode?: string): App | undefined => {
    if (appKey) return st().apps.get(appKey);
    if (robotCode) return [...st().apps.values()].find((a) => a.robotCode === robotCode);
    return st().apps.values().next().value;
  };

  app.get([P, `${P}/`], (_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:");
    res.send(renderPage(st()));
  });

  app.get(`${P}/state`, (_req, res) => {
    res.json({
      apps: [...st().apps.values()].map(publicApp),
      users: [...st().users.values()],
      conversations: [...st().conversations.values()],
      robots: [...st().robots.values()].map((r) => ({ ...r, webhookUrl: `${fake.baseUrl()}/robot/send?access_token=${r.accessToken}` })),
      counts: {
        messages: st().messages.length,
        approvals: st().approvals.size,
        calendarEvents: st().calendarEvents.size,
        deliveries: st().deliveries.size,
      },
      streamConnections: rt.listConnections(),
    });
  });

  // ---------------------------------------------------------------- apps
  app.post(`${P}/apps`, (req, res) => {
    const b = parse(appSchema, req.body, res);
    if (!b) return;
    const appKey = b.appKey ?? `ding${randomHex(8)}`;
    const a: App = {
      appKey,
      appSecret: b.appSecret ?? randomHex(32),
      robotCode: b.robotCode ?? appKey,
      corpId: b.corpId ?? 'dingsandboxcorp',
      agentId: b.agentId ?? 100000 + st().apps.size + 1,
      name: b.name ?? appKey,
      unifiedAppId: b.unifiedAppId ?? crypto.randomUUID(),
      eventSubscription: b.eventSubscription ?? undefined,
      robotMessageUrl: b.robotMessageUrl ?? undefined,
      stream: b.stream ?? true,
      subscribedEvents: b.subscribedEvents ?? undefined,
    };
    st().apps.set(appKey, a);
    res.status(201).json({ app: publicApp(a) });
  });

  app.get(`${P}/apps`, (_req, res) => {
    res.json({ apps: [...st().apps.values()].map(publicApp) });
  });

  app.get(`${P}/apps/:appKey`, (req, res) => {
    const a = st().apps.get(req.params.appKey);
    if (!a) return bad(res, 'no such app', 404);
    res.json({ app: publicApp(a) });
  });

  app.patch(`${P}/apps/:appKey`, (req, res) => {
    const a = st().apps.get(req.params.appKey);
    if (!a) return bad(res, 'no such app', 404);
    const b = parse(appSchema.omit({ appKey: true }), req.body, res);
    if (!b) return;
    for (const [k, v] of Object.entries(b)) (a as unknown as Record<string, unknown>)[k] = v === null ? undefined : v;
    res.json({ app: publicApp(a) });
  });

  app.post(`${P}/apps/:appKey/check-url`, async (req, res) => {
    const a = st().apps.get(req.params.appKey);
    if (!a) return bad(res, 'no such app', 404);
    if (!a.eventSubscription) return bad(res, 'app has no eventSubscription');
    const d = await rt.checkUrl(a);
    res.json({ acknowledged: d.acknowledged, attempts: d.attempts, lastError: d.lastError ?? null, delivery: d });
  });

  app.post(`${P}/tokens/expire`, (req, res) => {
    const appKey = (req.body as Record<string, unknown> | undefined)?.appKey;
    let n = 0;
    for (const t of st().tokens.values())
      if (!appKey || t.appKey === appKey) {
        t.expiresAt = 0;
        n += 1;
      }
    res.json({ expired: n });
  });

  // ---------------------------------------------------------------- users
  app.get(`${P}/users`, (_req, res) => {
    res.json({ users: [...st().users.values()] });
  });
  app.post(`${P}/users`, (req, res) => {
    const b = parse(
      z.object({
        userId: z.string().min(1),
        unionId: z.string().min(1).optional(),
        name: z.string().min(1).optional(),
        deptId: z.number().int().optional(),
        deptName: z.string().optional(),
      }),
      req.body,
      res,
    );
    if (!b) return;
    const u = {
      userId: b.userId,
      unionId: b.unionId ?? `union${b.userId}`,
      name: b.name ?? b.userId,
      deptId: b.deptId ?? 1,
      deptName: b.deptName ?? 'Head office',
    };
    st().users.set(u.userId, u);
    res.status(201).json({ user: u });
  });
  app.get(`${P}/users/:userId/messages`, (req, res) => {
    res.json({ messages: filterMessages(st(), { userId: req.params.userId, channel: 'app_robot_oto' }) });
  });

  // ---------------------------------------------------------------- conversations, robots, messages
  app.get(`${P}/conversations`, (_req, res) => {
    res.json({
      conversations: [...st().conversations.values()].map((c) => ({
        ...c,
        messageCount: filterMessages(st(), { openConversationId: c.openConversationId }).length,
      })),
    });
  });
  app.post(`${P}/conversations`, (req, res) => {
    const b = parse(
      z.object({
        openConversationId: z.string().min(1).optional(),
        title: z.string().min(1).optional(),
        /** App robots in the group (robotCodes): robot/groups/query lists the group for them. */
        robotCodes: z.array(z.string().min(1)).optional(),
      }),
      req.body,
      res,
    );
    if (!b) return;
    const id = b.openConversationId ?? `cid${randomHex(12)}`;
    rt.ensureConversation(id, b.title);
    for (const code of b.robotCodes ?? []) rt.ensureConversation(id, undefined, code);
    res.status(201).json({ conversation: st().conversations.get(id) });
  });
  app.get(`${P}/processes`, (_req, res) => {
    res.json({ processes: [...st().processes.values()] });
  });
  app.post(`${P}/processes`, (req, res) => {
    const b = parse(
      z.object({ processCode: z.string().min(1), name: z.string().min(1), dirName: z.string().optional(), corpId: z.string().optional() }),
      req.body,
      res,
    );
    if (!b) return;
    st().processes.set(b.processCode, { ...b, corpId: b.corpId ?? [...st().apps.values()][0]?.corpId ?? 'dingsandboxcorp' });
    res.status(201).json({ process: st().processes.get(b.processCode) });
  });
  app.get(`${P}/conversations/:id/messages`, (req, res) => {
    res.json({ messages: filterMessages(st(), { openConversationId: req.params.id }) });
  });

  app.get(`${P}/robots`, (_req, res) => {
    res.json({
      robots: [...st().robots.values()].map((r) => ({ ...r, webhookUrl: `${fake.baseUrl()}/robot/send?access_token=${r.accessToken}` })),
    });
  });
  app.post(`${P}/robots`, (req, res) => {
    const b = parse(robotSchema, req.body, res);
    if (!b) return;
    const accessToken = b.accessToken ?? randomHex(32);
    if (st().robots.has(accessToken)) return bad(res, 'a robot with this accessToken exists', 409);
    const conv = b.openConversationId ?? `cid${randomHex(12)}`;
    rt.ensureConversation(conv, b.conversationTitle);
    const r = {
      accessToken,
      secret: b.secret,
      keywords: b.keywords,
      name: b.name ?? 'Custom robot',
      openConversationId: conv,
      createdAt: new Date().toISOString(),
      sentAt: [] as number[],
    };
    st().robots.set(accessToken, r);
    res.status(201).json({ robot: r, webhookUrl: `${fake.baseUrl()}/robot/send?access_token=${accessToken}` });
  });
  app.get(`${P}/robots/:accessToken/messages`, (req, res) => {
    if (!st().robots.has(req.params.accessToken)) return bad(res, 'no such robot', 404);
    res.json({ messages: filterMessages(st(), { robotToken: req.params.accessToken }) });
  });

  app.get(`${P}/messages`, (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    res.json({
      messages: filterMessages(st(), {
        robotCode: q.robotCode,
        robotToken: q.robotToken ?? q.accessToken,
        openConversationId: q.openConversationId ?? q.conversationId,
        userId: q.userId,
        channel: q.channel,
        sinceSeq: q.sinceSeq !== undefined ? Number(q.sinceSeq) : undefined,
      }),
    });
  });

  // ---------------------------------------------------------------- approvals
  registerApprovalFileRoutes(app, rt, P);
  app.get(`${P}/approvals`, (_req, res) => {
    res.json({
      approvals: [...st().approvals.values()].map((i) => ({
        processInstanceId: i.processInstanceId,
        corpId: i.corpId,
        processCode: i.processCode,
        ...instanceView(rt, i),
      })),
    });
  });
  app.post(`${P}/approvals`, (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.originatorUserId !== 'string' || typeof b.processCode !== 'string')
      return bad(res, 'originatorUserId and processCode are required');
    const a = findApp(typeof b.appKey === 'string' ? b.appKey : undefined);
    const corpId = typeof b.corpId === 'string' ? b.corpId : a?.corpId;
    if (!corpId) return bad(res, 'no corpId (register an app first)');
    const r = createApproval(rt, corpId, { ...b, formComponentValues: Array.isArray(b.formComponentValues) ? b.formComponentValues : [] });
    if ('error' in r) return bad(res, r.error);
    res.status(201).json({ instanceId: r.instance.processInstanceId, instance: instanceView(rt, r.instance) });
  });
  app.get(`${P}/approvals/:id`, (req, res) => {
    const inst = st().approvals.get(req.params.id);
    if (!inst) return bad(res, 'no such instance', 404);
    res.json({
      instance: instanceView(rt, inst),
      deliveries: [...st().deliveries.values()].filter((d) => d.payload.processInstanceId === inst.processInstanceId),
    });
  });
  for (const action of ['agree', 'refuse', 'terminate'] as ApprovalAction[]) {
    app.post(`${P}/approvals/:id/${action}`, (req, res) => {
      const inst = st().approvals.get(req.params.id);
      if (!inst) return bad(res, 'no such instance', 404);
      const b = (req.body ?? {}) as Record<string, unknown>;
      const r = actOnApproval(
        rt,
        inst,
        action,
        typeof b.userId === 'string' ? b.userId : undefined,
        typeof b.remark === 'string' ? b.remark : undefined,
      );
      if (r.error) return bad(res, r.error, 409);
      res.json({ instance: instanceView(rt, inst) });
    });
  }

  // ---------------------------------------------------------------- chat (a user types to the robot)
  app.post(`${P}/chat`, (req, res) => {
    const b = parse(chatSchema, req.body, res);
    if (!b) return;
    const a = findApp(b.appKey, b.robotCode);
    if (!a) return bad(res, 'no such app/robot', 404);
    const staffId = b.senderStaffId ?? 'user001';
    const user = st().users.get(staffId);
    const type = b.conversationType ?? (b.conversationId ? '2' : '1');
    const conversationId =
      b.conversationId ?? `cid1to1${crypto.createHash('sha1').update(`${staffId}|${a.robotCode}`).digest('hex').slice(0, 16)}`;
    if (type === '2') rt.ensureConversation(conversationId, b.conversationTitle);
    const conv = st().conversations.get(conversationId);
    const now = Date.now();
    const session = randomHex(16);
    const expires = now + 90 * 60_000;
    st().sessions.set(session, { openConversationId: conversationId, robotCode: a.robotCode, expiresAt: expires });
    const msgId = `msg${randomHex(12)}`;
    const chatbotUserId = `$:LWCP_v1:$${crypto.createHash('md5').update(a.robotCode).digest('base64').slice(0, 22)}`;
    const message: Record<string, unknown> = {
      conversationId,
      ...(type === '2'
        ? {
            atUsers: [{ dingtalkId: chatbotUserId }],
            isInAtList: b.isInAtList ?? true,
            conversationTitle: b.conversationTitle ?? conv?.title ?? conversationId,
          }
        : {}),
      chatbotCorpId: a.corpId,
      chatbotUserId,
      msgId,
      senderNick: b.senderNick ?? user?.name ?? staffId,
      isAdmin: b.isAdmin ?? false,
      senderStaffId: staffId,
      sessionWebhookExpiredTime: expires,
      createAt: now,
      senderCorpId: a.corpId,
      conversationType: type,
      senderId: `$:LWCP_v1:$${crypto.createHash('md5').update(staffId).digest('base64').slice(0, 22)}`,
      sessionWebhook: `${fake.baseUrl()}/robot/sendBySession?session=${session}`,
      text: { content: b.text },
      robotCode: a.robotCode,
      msgtype: 'text',
    };
    rt.recordMessage({
      channel: 'user_chat',
      openConversationId: conversationId,
      ...(type === '1' ? { userId: staffId } : {}),
      robotCode: a.robotCode,
      sender: String(message.senderNick),
      msgtype: 'text',
      body: { content: b.text },
      raw: message,
    });
    const r = rt.emitRobotMessage(a, message);
    res.status(201).json({ msgId, eventId: r.eventId, message, deliveries: r.deliveries.map((d) => d.id) });
  });

  // ---------------------------------------------------------------- arbitrary events, deliveries, stream
  app.post(`${P}/events`, (req, res) => {
    const b = parse(
      z.object({
        eventType: z.string().min(1),
        appKey: z.string().optional(),
        corpId: z.string().optional(),
        data: z.record(z.string(), z.unknown()).optional(),
      }),
      req.body,
      res,
    );
    if (!b) return;
    const a = b.appKey ? st().apps.get(b.appKey) : undefined;
    if (b.appKey && !a) return bad(res, 'no such app', 404);
    const corpId = b.corpId ?? a?.corpId ?? findApp(undefined)?.corpId;
    if (!corpId) return bad(res, 'no corpId');
    const r = rt.emitEvent(corpId, b.eventType, { corpId, ...(b.data ?? {}) }, a ? { appKeys: [a.appKey] } : {});
    res.status(201).json({ eventId: r.eventId, deliveries: r.deliveries.map((d) => d.id) });
  });

  app.get(`${P}/deliveries`, (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    res.json({
      deliveries: [...st().deliveries.values()].filter(
        (d) =>
          (!q.eventId || d.eventId === q.eventId) &&
          (!q.appKey || d.appKey === q.appKey) &&
          (!q.mode || d.mode === q.mode) &&
          (!q.status || d.status === q.status) &&
          (!q.eventType || d.eventType === q.eventType) &&
          (!q.kind || d.kind === q.kind),
      ),
    });
  });
  app.get(`${P}/deliveries/:id`, (req, res) => {
    const d = st().deliveries.get(req.params.id);
    if (!d) return bad(res, 'no such delivery', 404);
    res.json({ delivery: d });
  });

  app.get(`${P}/stream/connections`, (_req, res) => {
    res.json({ connections: rt.listConnections() });
  });
  app.post(`${P}/stream/drop`, (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    res.json({ dropped: rt.dropConnections(typeof b.appKey === 'string' ? b.appKey : undefined, b.graceful === true) });
  });
  app.post(`${P}/stream/ping`, (_req, res) => {
    res.json({ sent: rt.pingAll() });
  });

  // ---------------------------------------------------------------- calendars (inspection)
  /** A sync-token reset: every calendar syncToken issued so far is answered 400 invalidParameter.syncToken. */
  app.post(`${P}/calendar/sync-tokens/invalidate`, (_req, res) => {
    st().calendarTokenEpoch += 1;
    res.json({ epoch: st().calendarTokenEpoch });
  });
  /**
   * Past events as they were (no pushes: it is the past): `{unionId, events: [{summary, start, end, createTime}]}`,
   * organised by `unionId` and created at `createTime` (for a history backfill).
   */
  app.post(`${P}/calendars/:unionId/events`, (req, res) => {
    const u = req.params.unionId;
    const list = Array.isArray(req.body?.events) ? (req.body.events as Record<string, unknown>[]) : [];
    const ids: string[] = [];
    for (const e of list) {
      const created = typeof e.createTime === 'string' ? e.createTime : '';
      if (typeof e.summary !== 'string' || !e.start || !e.end || Number.isNaN(Date.parse(created)))
        return void res.status(400).json({ error: 'each event needs summary, start, end and createTime' });
      const ev = {
        id: randomHex(12),
        organizer: u,
        summary: e.summary,
        start: e.start as Record<string, unknown>,
        end: e.end as Record<string, unknown>,
        isAllDay: false,
        attendees: [],
        createTime: new Date(created).toISOString(),
        updateTime: new Date(created).toISOString(),
        status: 'confirmed' as const,
        seq: ++st().calendarSeq,
      };
      st().calendarEvents.set(ev.id, ev);
      ids.push(ev.id);
    }
    res.status(201).json({ ids });
  });
  app.get(`${P}/calendars/:unionId/events`, (req, res) => {
    const u = req.params.unionId;
    res.json({
      events: [...st().calendarEvents.values()]
        .filter((e) => e.organizer === u || e.attendees.some((x) => x.id === u))
        .map((e) => eventView(fake, e, u)),
    });
  });
}
