import crypto from 'node:crypto';
import type { TriggerDefinition, WebhookRequest } from '../../../core/connector.ts';
import { HttpError } from '../../../core/errors.ts';
import { driveFor } from '../client.ts';
import { googleReason, mapGoogleError } from '../errors.ts';
import { DRIVE_EVENTS } from './trigger.ts';

/**
 * Drive push (`changes.watch`) in front of the folder poller: a body-less notification from Google
 * ("something changed in this drive") makes the hub poll the folder's changes feed at once, so files
 * are announced in seconds rather than at the next poll. The poller stays the source of events and of
 * the cursor; a lost notification costs only latency.
 *
 * Google sends notifications only to https addresses: with a PUBLIC_URL that is not https (or
 * GOOGLE_DRIVE_PUSH=off) no channel is made and the folder is only polled; the subscription row says so.
 * GOOGLE_DRIVE_PUSH=always registers channels at any address (tests, and the sandbox fake).
 */
const PUSH_TRIGGER_ID = 'google.drive.changes_push';
/** Channels are asked to live a day and renewed halfway (Drive's default is one hour, its maximum a week). */
const CHANNEL_TTL_MS = 24 * 3_600_000;
const POLL_ONLY = 'poll-only:';

const header = (req: WebhookRequest, name: string) => {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

function pushWanted(callbackUrl: string): { ok: boolean; why?: string } {
  const mode = (process.env.GOOGLE_DRIVE_PUSH ?? 'auto').toLowerCase();
  if (mode === 'off') return { ok: false, why: 'GOOGLE_DRIVE_PUSH=off: the folder is polled' };
  if (mode === 'always' || callbackUrl.startsWith('https://')) return { ok: true };
  return { ok: false, why: 'PUBLIC_URL is not https (Google pushes only to https): the folder is polled' };
}

export const drivePushTrigger: TriggerDefinition = {
  id: PUSH_TRIGGER_ID,
  title: 'Google Drive: push notifications for a watched folder (changes.watch)',
  events: [DRIVE_EVENTS.added, DRIVE_EVENTS.changed, DRIVE_EVENTS.removed],
  kind: 'webhook',
  webhook: {
    async receive(req, _conn, ctx) {
      const sub = ctx?.subscription;
      const token = header(req, 'x-goog-channel-token') ?? '';
      if (!sub?.secret || token.length !== sub.secret.length || !crypto.timingSafeEqual(Buffer.from(token), Buffer.from(sub.secret)))
        throw new HttpError(401, 'invalid_token', 'the channel token does not match');
      // 'sync' only says the channel works; 'change' says the drive changed: poll the folder now.
      return { events: [], reply: { status: 200 }, pollNow: header(req, 'x-goog-resource-state') !== 'sync' };
    },
    accepts: (req) => /\/drive\/v3\/changes/.test(header(req, 'x-goog-resource-uri') ?? ''),
  },
  subscription: {
    params: ['folder'],
    optionalParams: ['subfolders'],
    optional: true,
    // Only Drive's channels (the Calendar's carry a calendar resource URI).
    match: (req) => (/\/drive\/v3\/changes/.test(header(req, 'x-goog-resource-uri') ?? '') ? header(req, 'x-goog-channel-id') : undefined),
    async subscribe(conn, params, callbackUrl) {
      const wanted = pushWanted(callbackUrl);
      if (!wanted.ok) return { externalId: `${POLL_ONLY}${params.folder}`, state: { push: false, reason: wanted.why } };
      const drv = await driveFor(conn);
      try {
        const folder = await drv.files.get(
          { fileId: params.folder ?? '', fields: 'id,driveId', supportsAllDrives: true },
          { retry: false },
        );
        const driveId = folder.data.driveId ?? undefined;
        const start = await drv.changes.getStartPageToken({ supportsAllDrives: true, driveId }, { retry: false });
        const id = crypto.randomUUID();
        const token = crypto.randomBytes(24).toString('base64url');
        const res = await drv.changes.watch(
          {
            pageToken: String(start.data.startPageToken),
            supportsAllDrives: true,
            includeItemsFromAllDrives: true,
            ...(driveId ? { driveId } : {}),
            requestBody: { id, type: 'web_hook', address: callbackUrl, token, expiration: String(Date.now() + CHANNEL_TTL_MS) },
          },
          { retry: false },
        );
        return {
          externalId: id,
          expiresAt: res.data.expiration ? new Date(Number(res.data.expiration)) : undefined,
          state: { push: true, resourceId: res.data.resourceId, driveId: driveId ?? null },
          secret: token,
        };
      } catch (err) {
        throw mapGoogleError('Drive changes.watch', err);
      }
    },
    async unsubscribe(conn, externalId, record) {
      if (externalId.startsWith(POLL_ONLY)) return;
      const drv = await driveFor(conn);
      try {
        await drv.channels.stop({ requestBody: { id: externalId, resourceId: String(record?.state.resourceId ?? '') } }, { retry: false });
      } catch (err) {
        if (googleReason(err).status !== 404) throw mapGoogleError('Drive channels.stop', err);
      }
    },
    // Google has no API to list channels: an expiring one is renewed; a lost one only costs latency (the poller runs anyway).
    async check() {
      return 'ok';
    },
  },
};
