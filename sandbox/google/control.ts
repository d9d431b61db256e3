import type { Express, Request, Response } from 'express';
import { GoogleError, googleErrorBody } from './errors.ts';
import { createCalendar, ensurePrimary, expireChannels, insertEvent, invalidateSyncTokens } from './calendar.ts';
import { createFile, createSharedDrive, fileJson, rootOf } from './drive.ts';
import { deliver, mailboxOf } from './gmail.ts';
import type { Fake } from './runtime.ts';
import { addUser, now, type GoogleSettings } from './state.ts';

export const CONTROL = '/__sandbox/google';
const TESTING_APP_REFRESH_TTL_SEC = 7 * 86_400;

/** Switches the "Testing" publishing status: refresh tokens issued from now on live 7 days. */
export function setTestingApp(fake: Fake, on: boolean): void {
  fake.state.google.settings.testingApp = on;
  fake.state.settings.refreshTokenTtlSec = on ? TESTING_APP_REFRESH_TTL_SEC : null;
}

/** Moves the fake's clock forward: Google-side times advance, and OAuth tokens age by the same amount. */
export function advanceClock(fake: Fake, ms: number): void {
  const s = fake.state;
  s.google.clockOffsetMs += ms;
  for (const a of s.accessTokens.values()) a.expiresAt -= ms;
  for (const r of s.refreshTokens.values()) if (r.expiresAt !== null) r.expiresAt -= ms;
  for (const c of s.codes.values()) c.expiresAt -= ms;
}

export function setupControl(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const b = (req: Request): Record<string, unknown> => (req.body && typeof req.body === 'object' ? req.body as Record<string, unknown> : {});
  const bad = (res: Response, message: string, status = 400) => res.status(status).json({ error: { code: 'bad_request', message } });
  const wrap = (fn: (req: Request, res: Response) => unknown) => (req: Request, res: Response) => {
    try { fn(req, res); } catch (err) {
      if (err instanceof GoogleError) bad(res, err.message, err.code);
      else bad(res, (err as Error).message);
    }
  };
  const str = (v: unknown, name: string): string => { if (typeof v !== 'string' || !v) throw new Error(`${name} (string) is required`); return v; };

  app.get(`${CONTROL}/state`, (_req, res) => {
    const x = g();
    res.json({
      settings: x.settings, domain: x.domain, customerId: x.customerId, clock: new Date(now(x)).toISOString(),
      users: x.users.size, groups: x.groups.size, calendars: x.calendars.size, events: x.events.size, channels: x.channels.size,
      deliveries: x.deliveries.length, files: x.files.size, drives: x.drives.size, changes: x.changes.length, mailboxes: x.mailboxes.size,
    });
  });
  app.put(`${CONTROL}/settings`, wrap((req, res) => {
    const p = b(req);
    const st = g().settings;
    if (p.testingApp !== undefined) setTestingApp(fake, p.testingApp === true);
    if (p.userQuota !== undefined) st.userQuota = p.userQuota === null ? null : Math.max(0, Number(p.userQuota));
    if (p.quotaWindowMs !== undefined) st.quotaWindowMs = Math.max(1, Number(p.quotaWindowMs));
    if (p.rateLimitStatus === 403 || p.rateLimitStatus === 429) st.rateLimitStatus = p.rateLimitStatus;
    if (p.requireHttpsAddress !== undefined) st.requireHttpsAddress = p.requireHttpsAddress === true;
    if (p.deliveriesAfterStop !== undefined) st.deliveriesAfterStop = Math.max(0, Number(p.deliveriesAfterStop));
    if (p.deliveryRetries !== undefined) st.deliveryRetries = Math.max(0, Number(p.deliveryRetries));
    if (p.deliveryRetryBaseMs !== undefined) st.deliveryRetryBaseMs = Math.max(0, Number(p.deliveryRetryBaseMs));
    g().quota.clear();
    res.json(st satisfies GoogleSettings);
  }));
  app.post(`${CONTROL}/clock`, wrap((req, res) => {
    const p = b(req);
    const ms = Number(p.advanceMs ?? Number(p.advanceSec ?? 0) * 1000);
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceMs or advanceSec (a positive number) is required');
    advanceClock(fake, ms);
    res.json({ now: new Date(now(g())).toISOString(), offsetMs: g().clockOffsetMs });
  }));

  // directory
  app.get(`${CONTROL}/users`, (_req, res) => { res.json({ users: [...g().users.values()] }); });
  app.post(`${CONTROL}/users`, wrap((req, res) => {
    const p = b(req);
    const u = addUser(g(), {
      primaryEmail: str(p.primaryEmail ?? p.email, 'primaryEmail'), givenName: p.givenName as string | undefined, familyName: p.familyName as string | undefined,
      isAdmin: p.isAdmin === true, suspended: p.suspended === true, id: p.id as string | undefined,
    });
    res.status(201).json(u);
  }));
  app.post(`${CONTROL}/groups`, wrap((req, res) => {
    const p = b(req);
    const email = str(p.email, 'email').toLowerCase();
    const members = Array.isArray(p.members) ? p.members.map((m) => (typeof m === 'string' ? { email: m.toLowerCase(), role: 'MEMBER' as const, type: 'USER' as const } : { email: String((m as Record<string, unknown>).email).toLowerCase(), role: ((m as Record<string, unknown>).role ?? 'MEMBER') as 'MEMBER', type: ((m as Record<string, unknown>).type ?? 'USER') as 'USER' })) : [];
    const gr = { id: String(p.id ?? `grp-${email.split('@')[0]}`), email, name: String(p.name ?? email), description: String(p.description ?? ''), members };
    g().groups.set(gr.id, gr);
    res.status(201).json(gr);
  }));

  // calendar
  app.post(`${CONTROL}/calendars`, wrap((req, res) => {
    const p = b(req);
    const owner = str(p.owner, 'owner').toLowerCase();
    if (p.primary === true || p.id === owner) {
      const c = ensurePrimary(g(), owner);
      if (typeof p.timeZone === 'string') c.timeZone = p.timeZone;
      if (typeof p.summary === 'string') c.summary = p.summary;
      return res.status(201).json(c);
    }
    const c = createCalendar(g(), owner, {
      id: p.id as string | undefined, summary: str(p.summary, 'summary'), description: p.description as string | undefined,
      timeZone: p.timeZone as string | undefined, sharedWith: Array.isArray(p.sharedWith) ? p.sharedWith.map((x) => String(x).toLowerCase()) : [],
    });
    res.status(201).json(c);
  }));
  app.post(`${CONTROL}/events`, wrap((req, res) => {
    const p = b(req);
    const calendarId = str(p.calendarId, 'calendarId');
    const c = g().calendars.get(calendarId) ?? (calendarId.includes('@') && !calendarId.endsWith('calendar.google.com') ? ensurePrimary(g(), calendarId.toLowerCase()) : undefined);
    if (!c) throw new Error(`no calendar ${calendarId}`);
    res.status(201).json(insertEvent(fake, c, c.owner, (p.event ?? {}) as Record<string, unknown>));
  }));
  app.get(`${CONTROL}/events`, (req, res) => {
    const cal = req.query.calendarId;
    res.json({ events: [...g().events.values()].filter((e) => !cal || e.calendarId === cal).map((e) => ({ calendarId: e.calendarId, seq: e.seq, ...e.data })) });
  });
  app.post(`${CONTROL}/sync-tokens/invalidate`, wrap((req, res) => {
    const p = b(req);
    res.json({ invalidated: invalidateSyncTokens(g(), p.calendarId as string | undefined) });
  }));
  app.get(`${CONTROL}/channels`, (_req, res) => {
    res.json({ channels: [...g().channels.values()].map(({ queue: _q, ...c }) => ({ ...c, expiration: new Date(c.expiration).toISOString(), expired: c.expiration <= now(g()) })) });
  });
  app.post(`${CONTROL}/channels/expire`, wrap((req, res) => {
    const p = b(req);
    res.json({ expired: expireChannels(g(), p.id as string | undefined) });
  }));
  app.get(`${CONTROL}/deliveries`, (req, res) => {
    const ch = req.query.channelId;
    res.json({ deliveries: g().deliveries.filter((d) => !ch || d.channelId === ch) });
  });
  app.delete(`${CONTROL}/deliveries`, (_req, res) => { g().deliveries = []; res.json({ ok: true }); });

  // drive
  app.post(`${CONTROL}/files`, wrap((req, res) => {
    const p = b(req);
    const owner = str(p.owner, 'owner').toLowerCase();
    const content = typeof p.contentBase64 === 'string' ? Buffer.from(p.contentBase64, 'base64') : typeof p.content === 'string' ? Buffer.from(p.content) : undefined;
    const meta: Record<string, unknown> = { name: p.name, mimeType: p.mimeType, parents: p.parents, description: p.description, createdTime: p.createdTime, modifiedTime: p.modifiedTime };
    const f = createFile(fake, owner, meta, content, true);
    res.status(201).json(fileJson(fake, f, owner));
  }));
  app.get(`${CONTROL}/files`, (_req, res) => {
    res.json({ files: [...g().files.values()].map(({ content, ...f }) => ({ ...f, size: content?.length ?? 0 })) });
  });
  app.post(`${CONTROL}/drives`, wrap((req, res) => {
    const p = b(req);
    const members = Array.isArray(p.members) ? p.members.map((m) => String(m).toLowerCase()) : [];
    res.status(201).json(createSharedDrive(g(), str(p.name, 'name'), members, p.id as string | undefined));
  }));
  app.get(`${CONTROL}/root`, wrap((req, res) => { res.json({ id: rootOf(g(), str(req.query.owner, 'owner').toLowerCase()).id }); }));
  app.post(`${CONTROL}/uploads/drop`, wrap((req, res) => {
    const p = b(req);
    const drop = { afterBytes: Math.max(0, Number(p.afterBytes ?? 0)), remaining: Math.max(1, Number(p.count ?? 1)) };
    g().partialDrops.push(drop);
    res.status(201).json(drop);
  }));
  app.get(`${CONTROL}/uploads`, (_req, res) => {
    res.json({ uploads: [...g().uploads.values()].map((u) => ({ id: u.id, owner: u.owner, fileId: u.fileId, total: u.total, receivedBytes: u.receivedBytes, done: !!u.done })) });
  });

  // gmail
  app.post(`${CONTROL}/mail`, wrap((req, res) => {
    const p = b(req);
    const to = str(p.to, 'to').toLowerCase();
    const raw = typeof p.raw === 'string' ? Buffer.from(p.raw, 'base64url') : Buffer.from([
      `From: ${String(p.from ?? 'someone@customer.example')}`, `To: ${to}`, `Subject: ${String(p.subject ?? '(no subject)')}`,
      `Date: ${new Date(now(g())).toUTCString()}`, `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@sandbox>`,
      'Content-Type: text/plain; charset="UTF-8"', '', String(p.text ?? ''),
    ].join('\r\n'));
    const m = deliver(fake, mailboxOf(g(), to), raw, Array.isArray(p.labelIds) ? p.labelIds.map(String) : ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL']);
    res.status(201).json({ id: m.id, threadId: m.threadId, historyId: String(m.historyId) });
  }));
  app.post(`${CONTROL}/mail/expire-history`, wrap((req, res) => {
    const m = mailboxOf(g(), str(b(req).email, 'email'));
    m.oldestHistoryId = m.historyId + 1;
    res.json({ oldestHistoryId: m.oldestHistoryId });
  }));
  app.post(`${CONTROL}/pubsub/subscriptions`, wrap((req, res) => {
    const p = b(req);
    const topic = str(p.topic, 'topic');
    const name = String(p.name ?? `projects/sandbox/subscriptions/${topic.split('/').pop()}-push`);
    g().pushSubscriptions.set(name, { topic, pushEndpoint: str(p.pushEndpoint, 'pushEndpoint'), name });
    res.status(201).json({ name, topic, pushEndpoint: p.pushEndpoint });
  }));

  // rate limits with Google's body, through the framework's fault plan
  app.post(`${CONTROL}/rate-limit`, wrap((req, res) => {
    const p = b(req);
    const status = p.status === 429 ? 429 : 403;
    const reason = p.reason === 'userRateLimitExceeded' ? 'userRateLimitExceeded' : 'rateLimitExceeded';
    const spec = fake.faults.add({
      kind: 'status', status, path: p.path, method: p.method, count: p.count, forMs: p.forMs, retryAfter: p.retryAfter,
      body: googleErrorBody(status, reason, reason === 'userRateLimitExceeded' ? 'User Rate Limit Exceeded' : 'Rate Limit Exceeded'),
    });
    res.status(201).json({ fault: spec });
  }));
}
