import crypto from 'node:crypto';
import type { ConnectionHandle, TriggerDefinition, WebhookRequest } from '../../core/connector.ts';
import { HttpError, StepError } from '../../core/errors.ts';
import { trelloFor } from './client.ts';
import { normaliseAction, TRELLO_EVENTS } from './normalise.ts';

/** X-Trello-Webhook: base64 HMAC-SHA1 of the raw body followed by the callback URL exactly as registered. */
export function trelloSignature(appSecret: string, rawBody: Buffer, callbackUrl: string): string {
  return crypto.createHmac('sha1', appSecret).update(rawBody).update(callbackUrl, 'utf8').digest('base64');
}

function verify(req: WebhookRequest, appSecret: string | undefined): void {
  if (!appSecret) throw new HttpError(401, 'not_configured', 'this Trello connection has no app secret to verify webhooks with');
  const given = req.headers['x-trello-webhook'];
  const presented = Buffer.from(String(Array.isArray(given) ? given[0] : (given ?? '')), 'utf8');
  const expected = Buffer.from(trelloSignature(appSecret, req.rawBody, req.url), 'utf8');
  if (presented.length === 0) throw new HttpError(401, 'signature_missing', 'X-Trello-Webhook is required');
  if (presented.length !== expected.length || !crypto.timingSafeEqual(presented, expected)) {
    throw new HttpError(401, 'signature_invalid', 'X-Trello-Webhook does not match the body and the registered callback URL');
  }
}

export const cardActivity: TriggerDefinition = {
  id: 'trello.board_activity',
  title: 'Activity on a Trello board (cards created, moved, commented, archived, due dates; lists created)',
  events: [...TRELLO_EVENTS],
  kind: 'webhook',
  sample: {
    action: { id: '6750f0c2a1b2c3d4e5f60718', type: 'updateCard' },
    board: { id: '6750f0a0a1b2c3d4e5f60001', name: 'Product' },
    list: { id: '6750f0a0a1b2c3d4e5f60003', name: 'Doing' },
    listBefore: { id: '6750f0a0a1b2c3d4e5f60002', name: 'To Do' },
    listAfter: { id: '6750f0a0a1b2c3d4e5f60003', name: 'Doing' },
    card: { id: '6750f0b1a1b2c3d4e5f60101', name: 'Fix the login page', shortLink: 'aB3dE5fG', url: 'https://trello.com/c/aB3dE5fG' },
    member: { id: '6750f0a0a1b2c3d4e5f6aaaa', fullName: 'Wong Ka Yan', username: 'kayan' },
    url: 'https://trello.com/c/aB3dE5fG',
  },
  webhook: {
    async receive(req, conn) {
      verify(req, (await conn.secrets()).appSecret);
      let body: unknown;
      try {
        body = JSON.parse(req.rawBody.toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid_json', 'the Trello delivery is not JSON');
      }
      const event = normaliseAction(body as never);
      return { events: event ? [event] : [], reply: { status: 200, body: { ok: true } } };
    },
    // Trello checks a callback URL with HEAD before it registers a webhook.
    async check() {
      return { status: 200 };
    },
  },
  subscription: {
    params: ['board'],
    async subscribe(conn, params, callbackUrl) {
      const trello = await trelloFor(conn);
      const hook = (await trello.webhooks.createWebhook({
        callbackURL: callbackUrl,
        idModel: params.board!,
        description: `dingbridge ${conn.id}`,
      } as never)) as { id: string };
      return { externalId: hook.id };
    },
    async unsubscribe(conn, externalId) {
      const trello = await trelloFor(conn);
      try {
        await trello.webhooks.deleteWebhook({ id: externalId } as never);
      } catch (err) {
        if (!(err instanceof StepError && err.details.status === 404)) throw err;
      }
    },
    async check(conn: ConnectionHandle, externalId: string) {
      const trello = await trelloFor(conn);
      try {
        const hook = (await trello.webhooks.getWebhook({ id: externalId } as never)) as { active?: boolean };
        return hook.active === false ? 'gone' : 'ok';
      } catch (err) {
        if (err instanceof StepError && (err.details.status === 404 || err.details.status === 400 || err.details.status === 410))
          return 'gone';
        throw err;
      }
    },
  },
};
