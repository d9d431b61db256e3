import { createRequire } from 'node:module';
import type { StreamContext, StreamSession, StreamTrigger, TriggeredEvent } from '../../core/connector.ts';
import { allowedSendersOf, enrichApprovals, normaliseEvent, normaliseRobotMessage } from './normalise.ts';
import { baseUrlOf, oapiBaseUrlOf } from './sdk.ts';

/**
 * Stream mode through the official `dingtalk-stream` SDK: one DWClient per app connection (the hub's
 * stream manager makes sure one process in all holds it), subscribed to every event and to robot
 * messages. An event is acknowledged only once it is stored: the SDK acks EVENT frames with whatever
 * the listener returns at once, so the client below acks after `emit` resolves instead (`LATER` when
 * storing failed: DingTalk sends it again). A robot CALLBACK left unacked is redelivered as well.
 * Reconnection is the manager's (with backoff), so the SDK's own 1 s retry loop is off.
 *
 * The ESM build of dingtalk-stream binds its URLs as constants: the CommonJS build is loaded and its
 * constants module is pointed at the connection's hosts just before each connect.
 */
const require = createRequire(import.meta.url);
const constants = require('dingtalk-stream/constants') as { GATEWAY_URL: string; GET_TOKEN_URL: string; TOPIC_ROBOT: string };
const sdk = require('dingtalk-stream') as typeof import('dingtalk-stream');
type Frame = import('dingtalk-stream').DWClientDownStream;

/** Approval details fetched for a Stream event may take this long (no 1500 ms limit here). */
const STREAM_FETCH_BUDGET_MS = 10_000;

class HubStreamClient extends sdk.DWClient {
  onStoredEvent?: (frame: Frame) => Promise<void>;
  /** EVENT frames: ack SUCCESS once stored, LATER when storing failed. */
  override onEvent(frame: Frame): void {
    const messageId = frame.headers.messageId;
    void (async () => {
      let status: 'SUCCESS' | 'LATER' = 'LATER';
      try {
        await this.onStoredEvent?.(frame);
        status = 'SUCCESS';
      } catch {
        /* redelivered */
      }
      try {
        this.send(messageId, { status });
      } catch {
        /* the socket went away: redelivered */
      }
    })();
  }
}

export function streamEventsOf(frame: Frame): TriggeredEvent[] {
  let fields: Record<string, unknown> = {};
  try {
    fields = JSON.parse(frame.data) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  const h = frame.headers;
  return [
    normaliseEvent(
      { eventType: String(h.eventType ?? fields.EventType ?? ''), eventId: h.eventId, bornTime: h.eventBornTime, corpId: h.eventCorpId },
      fields,
    ),
  ];
}

export const dingtalkStream: StreamTrigger = {
  enabled: (settings) => settings.stream === true || String(settings.stream ?? '').toLowerCase() === 'true',

  async open(ctx: StreamContext): Promise<StreamSession> {
    const conn = ctx.connection;
    const appKey = String(conn.settings.appKey ?? '');
    const appSecret = (await conn.secrets()).appSecret ?? '';
    if (!appKey || !appSecret) throw new Error(`connection ${conn.id} has no appKey/appSecret`);
    const client = new HubStreamClient({ clientId: appKey, clientSecret: appSecret, keepAlive: true, ua: 'dingbridge' });
    (client.config as { autoReconnect?: boolean }).autoReconnect = false;

    client.onStoredEvent = async (frame) => {
      const events = streamEventsOf(frame);
      await enrichApprovals(conn, events, STREAM_FETCH_BUDGET_MS);
      const stored = await ctx.emit(events);
      ctx.log.debug(
        {
          eventId: frame.headers.eventId,
          eventType: frame.headers.eventType,
          stored: stored.map((s) => s.id),
          duplicate: stored.every((s) => s.duplicate),
        },
        'stream event stored',
      );
    };
    // Listeners before connect: the subscription list sent to the gateway is built from them.
    client.registerCallbackListener(constants.TOPIC_ROBOT, (frame: Frame) => {
      void (async () => {
        try {
          const m = JSON.parse(frame.data) as Record<string, unknown>;
          await ctx.emit([normaliseRobotMessage(m, allowedSendersOf(conn.settings))]);
          client.socketCallBackResponse(frame.headers.messageId, {});
        } catch (err) {
          ctx.log.warn({ err: (err as Error).message }, 'robot message not stored; left unacknowledged so DingTalk sends it again');
        }
      })();
    });

    constants.GATEWAY_URL = `${baseUrlOf(conn.settings)}/v1.0/gateway/connections/open`;
    constants.GET_TOKEN_URL = `${oapiBaseUrlOf(conn.settings)}/gettoken`;
    try {
      await client.getEndpoint();
    } catch (err) {
      const e = err as Error & { response?: { status?: number; data?: { code?: string; message?: string } } };
      throw new Error(
        `DingTalk Stream gateway refused the connection: ${e.response ? `${e.response.status} ${e.response.data?.code ?? ''} ${e.response.data?.message ?? ''}`.trim() : e.message}`,
      );
    }
    await client._connect();
    const socket = (client as unknown as { socket?: import('ws').WebSocket }).socket;
    const closed = new Promise<void>((resolve) => {
      if (!socket) return resolve();
      socket.once('close', () => {
        client.disconnect();
        resolve();
      });
    });
    return {
      closed,
      async close() {
        client.disconnect();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      },
    };
  },
};
