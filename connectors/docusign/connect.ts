import type { TriggerDefinition } from '../../core/connector.ts';
import { HttpError } from '../../core/errors.ts';
import { docusign, esign } from './client.ts';
import { DOCUSIGN_EVENTS, hmacKeysOf, normaliseConnect, normaliseStatusChange, verifyConnect, type EnvelopeJson } from './normalise.ts';

const sample = {
  accountId: '1d2b3c4d-0000-4000-8000-000000000001',
  envelopeId: '4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
  status: 'completed',
  event: 'envelope-completed',
  envelope: {
    id: '4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    subject: 'Services Agreement',
    status: 'completed',
    completedAt: '2026-12-01T09:30:00Z',
  },
  customFields: { dingtalkApproval: 'a1b2c3-proc-inst', dingtalkRequester: 'user001' },
  recipients: [{ id: '1', name: 'Wong Ka Yan', email: 'kayan@example.com', roleName: 'Signer', status: 'completed', declinedReason: null }],
  reason: null,
};

function parse(raw: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the Connect message is not JSON (use the JSON SIM format)');
  }
}

/**
 * DocuSign Connect (JSON SIM) on the app-level route POST /webhooks/docusign: routed by the message's
 * accountId, verified with any of that account's HMAC keys (two while rotating), stored before the 200.
 */
export const connectTrigger: TriggerDefinition = {
  id: 'docusign.connect',
  title: 'DocuSign envelope and recipient events (Connect)',
  events: [...DOCUSIGN_EVENTS],
  kind: 'webhook',
  sample,
  webhook: {
    async receive() {
      throw new HttpError(404, 'use_app_route', 'DocuSign Connect posts to the app-level URL POST /webhooks/docusign');
    },
    app: {
      route(req, connections) {
        const accountId = String((parse(req.rawBody).data as { accountId?: string } | undefined)?.accountId ?? '');
        if (!accountId) throw new HttpError(400, 'no_account', 'the Connect message names no data.accountId');
        return connections.filter((c) => String(c.settings.accountId ?? '') === accountId).map((c) => c.id);
      },
      secret: (conn) => conn.secrets.hmacKeys,
      verify: (req, secret) => verifyConnect(req.headers, req.rawBody, hmacKeysOf(secret)),
      async events(req) {
        return normaliseConnect(parse(req.rawBody) as never);
      },
      reply: { status: 200, body: { ok: true } },
    },
  },
};

/** DocuSign asks integrations to poll listStatusChanges at most once every 15 minutes. */
export const POLL_EVERY_MS = 15 * 60_000;

/**
 * listStatusChanges from the last cursor: for accounts without a public URL, or to catch Connect
 * messages that never arrived. Same provider ids as Connect, so an envelope seen both ways is one event.
 */
export const statusPoll: TriggerDefinition = {
  id: 'docusign.status_poll',
  title: 'DocuSign envelope status changes (polled)',
  events: [...DOCUSIGN_EVENTS],
  kind: 'polling',
  sample,
  poll: {
    params: [],
    intervalMs: POLL_EVERY_MS,
    skipHistory: true,
    async poll(ctx, _params, cursor) {
      const from = cursor ?? new Date(Date.now() - 60_000).toISOString();
      const startedAt = new Date(Date.now() - 5_000).toISOString();
      let accountId = '';
      const { data } = await esign<{ envelopes?: EnvelopeJson[]; nextUri?: string }>(
        ctx.connection,
        15_000,
        'list status changes',
        (c, acc, cb) => {
          accountId = acc;
          return new (docusign().EnvelopesApi)(c).listStatusChanges(
            acc,
            { fromDate: from, include: 'recipients,custom_fields', count: '100' },
            cb,
          );
        },
      );
      const envelopes = data.envelopes ?? [];
      const events = envelopes.flatMap((e) => normaliseStatusChange(accountId, e));
      const last = envelopes
        .map((e) => e.statusChangedDateTime)
        .filter(Boolean)
        .sort()
        .at(-1);
      const more = Boolean(data.nextUri) && envelopes.length > 0;
      return { events, cursor: more && last ? last : startedAt > from ? startedAt : from, more };
    },
    async resync(ctx, params) {
      const res = await this.poll({ ...ctx, reason: 'resync' }, params, new Date(Date.now() - 24 * 3_600_000).toISOString());
      if ('resync' in res) return { items: [], cursor: null };
      return { items: res.events.map((e) => ({ id: e.providerId, version: e.providerId, event: e })), cursor: res.cursor };
    },
    deletedEvent(item) {
      // Envelopes are never deleted: an item missing from a later listing only fell out of its window.
      return { providerId: `${item.id}:unlisted`, type: 'docusign.poll.unlisted', data: { providerId: item.id } };
    },
  },
};
