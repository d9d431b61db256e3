import crypto from 'node:crypto';
import { z } from 'zod';
import { defineAction } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { createProviderClient, type ProviderRules } from '../../core/http/provider-client.ts';
import { mapRobotError, ROBOT_THROTTLE_DELAY_MS } from './errors.ts';
import { oapiBaseUrlOf } from './sdk.ts';

/**
 * `dingtalk.robot.send`: a custom group robot's message (old API `POST /robot/send`, which has no SDK).
 * Signed when the connection has a secret. Paced per robot: DingTalk takes 20 messages a minute per
 * robot and then refuses (130101) for about ten minutes, so sends to one robot go one at a time, in
 * order, at most `rateLimit` per `rateWindowMs` (core/pipeline/pacing.ts).
 */
const button = z.object({ title: z.string().min(1), url: z.string().min(1) });
const feedLink = z.object({ title: z.string().min(1), messageUrl: z.string().min(1), picUrl: z.string().optional() });

/** text: the content; markdown / link / actionCard: the body. */
const text = z.string().optional();
const title = z.string().optional();
/** @-mentions (text and markdown): mobiles, user ids, or everyone. */
const at = {
  atMobiles: z.array(z.string()).default([]),
  atUserIds: z.array(z.string()).default([]),
  atAll: z.boolean().default(false),
};

/**
 * One object per message type (a discriminated union on `type`): the schema says which fields belong
 * to which type, and the config UI's form shows a field only for the types whose object has it.
 */
export const robotSendInput = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text').default('text'), text, ...at }),
    z.object({ type: z.literal('markdown'), title, text, ...at }),
    z.object({ type: z.literal('link'), title, text, messageUrl: z.string().optional(), picUrl: z.string().optional() }),
    z.object({
      type: z.literal('actionCard'),
      title,
      text,
      /** One button (singleTitle + singleUrl) or several (buttons). */
      singleTitle: z.string().optional(),
      singleUrl: z.string().optional(),
      buttons: z.array(button).optional(),
      buttonsVertical: z.boolean().default(true),
    }),
    z.object({ type: z.literal('feedCard'), links: z.array(feedLink).optional() }),
  ])
  .superRefine((input, ctx) => {
    const m = input as RobotMessageInput;
    const need = (ok: unknown, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', message });
    };
    switch (m.type) {
      case 'text':
        need(m.text, 'a text message needs text');
        break;
      case 'markdown':
        need(m.title && m.text, 'a markdown message needs title and text');
        break;
      case 'link':
        need(m.title && m.text && m.messageUrl, 'a link message needs title, text and messageUrl');
        break;
      case 'actionCard':
        need(
          m.title && m.text && ((m.singleTitle && m.singleUrl) || m.buttons?.length),
          'an actionCard needs title, text, and singleTitle + singleUrl or buttons',
        );
        break;
      case 'feedCard':
        need(m.links?.length, 'a feedCard needs links');
        break;
    }
  });
/** Any of the types' objects, read field by field (a field another type has is undefined). */
export type RobotMessageInput = {
  type: 'text' | 'markdown' | 'link' | 'actionCard' | 'feedCard';
  text?: string;
  title?: string;
  atMobiles?: string[];
  atUserIds?: string[];
  atAll?: boolean;
  messageUrl?: string;
  picUrl?: string;
  singleTitle?: string;
  singleUrl?: string;
  buttons?: Array<{ title: string; url: string }>;
  buttonsVertical?: boolean;
  links?: Array<{ title: string; messageUrl: string; picUrl?: string }>;
};

/** The custom robot's JSON body for a friendly input. */
export function robotBody(m: RobotMessageInput): Record<string, unknown> {
  const at = { atMobiles: m.atMobiles ?? [], atUserIds: m.atUserIds ?? [], isAtAll: m.atAll ?? false };
  switch (m.type) {
    case 'text':
      return { msgtype: 'text', text: { content: m.text }, at };
    case 'markdown':
      return { msgtype: 'markdown', markdown: { title: m.title, text: m.text }, at };
    case 'link':
      return { msgtype: 'link', link: { title: m.title, text: m.text, messageUrl: m.messageUrl, picUrl: m.picUrl ?? '' } };
    case 'actionCard':
      return {
        msgtype: 'actionCard',
        actionCard: m.buttons?.length
          ? {
              title: m.title,
              text: m.text,
              btnOrientation: m.buttonsVertical ? '0' : '1',
              btns: m.buttons.map((b) => ({ title: b.title, actionURL: b.url })),
            }
          : { title: m.title, text: m.text, singleTitle: m.singleTitle, singleURL: m.singleUrl },
      };
    case 'feedCard':
      return {
        msgtype: 'feedCard',
        feedCard: { links: (m.links ?? []).map((l) => ({ title: l.title, messageURL: l.messageUrl, picURL: l.picUrl ?? '' })) },
      };
  }
}

function searchableText(body: Record<string, unknown>): string {
  const inner = (body[String(body.msgtype)] ?? {}) as Record<string, unknown>;
  const parts: unknown[] = [inner.content, inner.title, inner.text];
  for (const l of (inner.links as Array<Record<string, unknown>> | undefined) ?? []) parts.push(l.title);
  for (const b of (inner.btns as Array<Record<string, unknown>> | undefined) ?? []) parts.push(b.title);
  return parts.filter((p) => typeof p === 'string').join('\n');
}

/** base64(HmacSHA256(key=secret, timestamp + "\n" + secret)), URL-encoded. */
export function robotSignature(secret: string, timestamp: string): string {
  return encodeURIComponent(crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'));
}

/** The custom robot's answers: HTTP 429 waits a window; 200 with an errcode other than 0 is mapped by mapRobotError. */
export const ROBOT_RULES: ProviderRules = {
  throttledStatuses: [429],
  throttleDelayMs: ROBOT_THROTTLE_DELAY_MS,
  codePath: 'errcode',
  okCodes: [0],
  classify: (status, body) => {
    const code = (body as { errcode?: unknown } | undefined)?.errcode;
    return status === 200 && code !== undefined && Number(code) !== 0
      ? mapRobotError(body as { errcode?: number; errmsg?: string })
      : undefined;
  },
};

const num = (v: unknown, fallback: number) => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export const robotSend = defineAction({
  id: 'dingtalk.robot.send',
  title: 'Send a message with a custom group robot',
  description:
    'text (with @mobiles/@userIds/@all), markdown, link, actionCard (one button or several), feedCard; signed when the connection has a secret. Paced per robot (20 a minute), in order.',
  input: robotSendInput,
  output: z.object({ errcode: z.literal(0), errmsg: z.string() }),
  sampleOutput: { errcode: 0 as const, errmsg: 'ok' },
  pace: (_input, connection) =>
    connection
      ? {
          key: `dingtalk_robot:${connection.id}`,
          limit: num(connection.settings.rateLimit, 20),
          intervalMs: num(connection.settings.rateWindowMs, 60_000),
        }
      : undefined,
  async run(ctx, input) {
    const conn = ctx.connection;
    if (!conn)
      throw permanent('dingtalk.robot.send needs a custom robot connection (connector dingtalk_robot; set `connection:` on the step)');
    if (conn.connectorId !== 'dingtalk_robot')
      throw permanent(`dingtalk.robot.send needs a dingtalk_robot connection; ${conn.id} is a ${conn.connectorId} connection`);
    const secrets = await conn.secrets();
    if (!secrets.accessToken) throw permanent(`connection ${conn.id} has no robot access token`);
    const body = robotBody(input);
    const keywords = String(conn.settings.keywords ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (keywords.length && !keywords.some((k) => searchableText(body).includes(k))) {
      throw permanent(`the robot is in keyword mode: the message must contain one of ${keywords.map((k) => `"${k}"`).join(', ')}`);
    }
    const http = createProviderClient({
      name: 'DingTalk robot',
      baseUrl: oapiBaseUrlOf(conn.settings),
      rules: ROBOT_RULES,
      timeoutMs: ctx.timeoutMs,
      trace: ctx.trace,
      auth: {
        kind: 'custom',
        apply: (url) => {
          url.searchParams.set('access_token', secrets.accessToken!);
          if (secrets.secret) {
            const timestamp = String(Date.now());
            url.searchParams.set('timestamp', timestamp);
            url.searchParams.set('sign', decodeURIComponent(robotSignature(secrets.secret, timestamp)));
          }
        },
      },
    });
    const parsed = await http.json<{ errcode?: number; errmsg?: string }>({ method: 'POST', url: '/robot/send', json: body });
    return { errcode: 0, errmsg: parsed.errmsg ?? 'ok' };
  },
});
