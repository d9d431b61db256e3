import crypto from 'node:crypto';
import type { ConnectionHandle, TriggeredEvent, WebhookRequest, WebhookTrigger } from '../../core/connector.ts';
import { HttpError } from '../../core/errors.ts';
import { CallbackCryptoError, decryptMessage, encryptedReply, signature, signatureMatches } from './callback-crypto.ts';
import { allowedSendersOf, enrichApprovals, normaliseEvent, normaliseRobotMessage } from './normalise.ts';

/**
 * POST /webhooks/dingtalk/:connectionId — DingTalk's HTTP event subscription (and the HTTP-mode robot).
 *
 * Encrypted events `{"encrypt": …}` with `msg_signature` (or `signature`), `timestamp` (or `timeStamp`)
 * and `nonce`: the signature, the decryption and the owner key (appKey, corpId, suiteKey or the
 * `ownerKey` setting) are checked, or the answer is 401 and nothing is stored. Every valid message,
 * URL checks included, is answered with the encrypted `success` once its events are stored. Approval
 * events get their form values (approval.get) within a budget, so the answer stays inside DingTalk's
 * 1500 ms.
 *
 * Robot messages (HTTP-mode robot): plain JSON with headers `timestamp` and `sign` =
 * base64(HmacSHA256(appSecret, timestamp + "\n" + appSecret)). The sign does not cover the body, so a
 * captured pair could carry any message: each pair is accepted once (a redelivery of the same message
 * is answered 200 and stored once; another body with a used pair is refused), and only within
 * `robotToleranceSeconds` (default 300; DingTalk allows an hour, which is far longer than a callback
 * takes). Stream mode has no such gap and is the recommended way to receive robot messages.
 */
export const URL_CHECK_EVENTS = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);
/** How long an HTTP callback may spend fetching approval details (the rest of 1500 ms stores and answers). */
export const DEFAULT_FETCH_BUDGET_MS = 900;

const header = (req: WebhookRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
const refuse = (code: string, message: string) => new HttpError(401, code, message);

/** How far a robot message's timestamp may be from now (setting robotToleranceSeconds, 30…3600, default 300). */
export function robotToleranceMs(settings: Record<string, unknown>): number {
  const n = Number(settings.robotToleranceSeconds ?? 300);
  return (Number.isFinite(n) ? Math.min(3600, Math.max(30, n)) : 300) * 1000;
}

export function ownerKeysOf(settings: Record<string, unknown>): string[] {
  return [settings.ownerKey, settings.appKey, settings.corpId, settings.suiteKey].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
}

async function receiveEncrypted(req: WebhookRequest, conn: ConnectionHandle, encrypt: string) {
  const secrets = await conn.secrets();
  const token = secrets.callbackToken;
  const aes = secrets.callbackAesKey;
  if (!token || !aes)
    throw refuse(
      'callback_not_configured',
      `connection ${conn.id} has no event subscription token and aes_key (callbackToken, callbackAesKey)`,
    );
  const timestamp = req.query.timestamp ?? req.query.timeStamp ?? '';
  const nonce = req.query.nonce ?? '';
  const given = req.query.msg_signature ?? req.query.signature;
  if (!signatureMatches(signature(token, timestamp, nonce, encrypt), given))
    throw refuse('signature_invalid', 'msg_signature does not match');
  let plain: { message: string; ownerKey: string };
  try {
    plain = decryptMessage(aes, encrypt);
  } catch (err) {
    throw refuse(
      'decrypt_failed',
      `the message does not decrypt (${err instanceof CallbackCryptoError ? err.code : 900005}: ${(err as Error).message})`,
    );
  }
  const owners = ownerKeysOf(conn.settings);
  if (!owners.includes(plain.ownerKey))
    throw refuse('owner_key_mismatch', 'the message is for another app or corp (900010: owner key mismatch)');
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(plain.message);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the decrypted message is not JSON');
  }
  const reply = { status: 200, body: encryptedReply(token, aes, plain.ownerKey, 'success') };
  const eventType = String(fields.EventType ?? fields.eventType ?? '');
  if (URL_CHECK_EVENTS.has(eventType)) return { events: [], reply };

  const { EventType: _t, EventTime, CorpId, eventId, ...rest } = fields as Record<string, unknown>;
  const events: TriggeredEvent[] = [
    normaliseEvent(
      {
        eventType,
        eventId: typeof eventId === 'string' ? eventId : undefined,
        bornTime: EventTime,
        corpId: typeof CorpId === 'string' ? CorpId : undefined,
      },
      rest,
    ),
  ];
  const budget = Number(conn.settings.callbackFetchBudgetMs ?? DEFAULT_FETCH_BUDGET_MS);
  await enrichApprovals(conn, events, Number.isFinite(budget) && budget > 0 ? budget : DEFAULT_FETCH_BUDGET_MS);
  return { events, reply };
}

async function receiveRobotMessage(req: WebhookRequest, conn: ConnectionHandle, body: Record<string, unknown>) {
  const timestamp = header(req, 'timestamp');
  const sign = header(req, 'sign');
  const secret = (await conn.secrets()).appSecret;
  if (!timestamp || !sign || !secret) throw refuse('signature_missing', 'a robot message needs headers timestamp and sign');
  const toleranceMs = robotToleranceMs(conn.settings);
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > toleranceMs)
    throw refuse('timestamp_invalid', `the robot message's timestamp is more than ${toleranceMs / 1000} seconds off`);
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest();
  const got = Buffer.from(sign, 'base64');
  if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected))
    throw refuse('signature_invalid', "the robot message's sign does not match");
  const msgId = String(body.msgId);
  const use = await req.acceptOnce(`robot:${timestamp}:${expected.toString('base64')}`, 2 * toleranceMs + 60_000, msgId);
  if (!use.fresh && use.ref !== msgId) throw refuse('signature_replayed', 'this timestamp and sign were already used for another message');
  return { events: [normaliseRobotMessage(body, allowedSendersOf(conn.settings))], reply: { status: 200, body: {} } };
}

export const dingtalkWebhook: WebhookTrigger = {
  async receive(req, conn) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.rawBody.toString('utf8') || '{}');
    } catch {
      throw refuse('invalid_body', 'the body is not JSON');
    }
    if (body && typeof body.encrypt === 'string') return receiveEncrypted(req, conn, body.encrypt);
    if (body && typeof body.msgId === 'string') return receiveRobotMessage(req, conn, body);
    throw refuse('signature_missing', 'not a DingTalk callback: no "encrypt" field');
  },
};
