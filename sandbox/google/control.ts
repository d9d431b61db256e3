import type { Express, Request, Response } from 'express';
import { z, ZodError } from 'zod';
import { GoogleError, googleErrorBody } from './errors.ts';
import { createCalendar, ensurePrimary, expireChannels, insertEvent, invalidateSyncTokens } from './calendar.ts';
import { createFile, createSharedDrive, fileJson, rootOf } from './drive.ts';
import { deliver, mailboxOf } from './gmail.ts';
import type { Fake } from './runtime.ts';
import { addUser, now, type GoogleSettings } from './state.ts';
import { validTimeZone } from '../framework/time.ts';

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

const email = z
  .string()
  .email()
  .transform((x) => x.toLowerCase());
const schemas = {
  settings: z
    .object({
      testingApp: z.boolean().optional(),
      userQuota: z.number().int().min(0).nullable().optional(),
      quotaWindowMs: z.number().int().min(1).optional(),
      rateLimitStatus: z.union([z.literal(403), z.literal(429)]).optional(),
      requireHttpsAddress: z.boolean().optional(),
      deliveriesAfterStop: z.number().int().min(0).optional(),
      deliveryRetries: z.number().int().min(0).max(10).optional(),
      deliveryRetryBaseMs: z.number().int().min(0).optional(),
    })
    .strict(),
  clock: z
    .object({ advanceMs: z.number().min(0).optional(), advanceSec: z.number().min(0).optional() })
    .strict()
    .refine((x) => x.advanceMs !== undefined || x.advanceSec !== undefined, 'advanceMs or advanceSec is required'),
  user: z
    .object({
      primaryEmail: email,
      givenName: z.string().optional(),
      familyName: z.string().optional(),
      isAdmin: z.boolean().optional(),
      suspended: z.boolean().optional(),
      id: z.string().min(1).optional(),
      orgUnitPath: z.string().startsWith('/').optional(),
      phones: z.array(z.object({ value: z.string(), type: z.string(), primary: z.boolean().optional() })).optional(),
      organizations: z
        .array(z.object({ title: z.string().optional(), department: z.string().optional(), primary: z.boolean().optional() }))
        .optional(),
      relations: z.array(z.object({ value: z.string(), type: z.string() })).optional(),
    })
    .strict(),
  group: z
    .object({
      email,
      name: z.string().optional(),
      description: z.string().optional(),
      id: z.string().min(1).optional(),
      members: z
        .array(
          z.union([
            email,
            z.object({
              email,
              role: z.enum(['OWNER', 'MANAGER', 'MEMBER']).default('MEMBER'),
              type: z.enum(['USER', 'GROUP']).default('USER'),
            }),
          ]),
        )
        .default([]),
    })
    .strict(),
  calendar: z
    .object({
      owner: email,
      summary: z.string().min(1).optional(),
      description: z.string().optional(),
      timeZone: z.string().optional(),
      id: z.string().min(1).optional(),
      primary: z.boolean().optional(),
      sharedWith: z.array(email).optional(),
    })
    .strict()
    .refine((x) => x.primary || x.id === x.owner || x.summary, 'summary is required for a secondary calendar'),
  event: z
    .object({
      calendarId: z.string().min(1),
      event: z.record(z.string(), z.unknown()),
      /** When it was made (a past event for a history backfill); now if absent. */
      created: z.string().datetime({ offset: true }).optional(),
    })
    .strict(),
  file: z
    .object({
      owner: email,
      name: z.string().min(1),
      mimeType: z.string().optional(),
      parents: z.array(z.string()).optional(),
      description: z.string().optional(),
      content: z.string().optional(),
      contentBase64: z.string().optional(),
      createdTime: z.string().datetime().optional(),
      modifiedTime: z.string().datetime().optional(),
    })
    .strict(),
  drive: z.object({ name: z.string().min(1), members: z.array(email).default([]), id: z.string().min(1).optional() }).strict(),
  drop: z.object({ afterBytes: z.number().int().min(0).default(0), count: z.number().int().min(1).default(1) }).strict(),
  mail: z
    .object({
      to: email,
      from: z.string().optional(),
      subject: z.string().optional(),
      text: z.string().optional(),
      raw: z.string().optional(),
      labelIds: z.array(z.string()).optional(),
    })
    .strict(),
  mailbox: z.object({ email }).strict(),
  subscription: z
    .object({
      topic: z.string().regex(/^projects\/[^/]+\/topics\/[^/]+$/),
      pushEndpoint: z.string().url(),
      name: z.string().min(1).optional(),
    })
    .strict(),
  rateLimit: z
    .object({
      status: z.union([z.literal(403), z.literal(429)]).default(403),
      reason: z.enum(['rateLimitExceeded', 'userRateLimitExceeded']).default('rateLimitExceeded'),
      path: z.string().optional(),
      method: z.string().optional(),
      count: z.number().int().min(1).optional(),
      forMs: z.number().int().min(1).optional(),
      retryAfter: z.number().int().min(0).optional(),
    })
    .strict(),
  channelFilter: z.object({ id: z.string().min(1).optional() }).strict(),
  calendarFilter: z.object({ calendarId: z.string().min(1).optional() }).strict(),
};

export function setupControl(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const bad = (res: Response, message: string, status = 400) => res.status(status).json({ error: { code: 'bad_request', message } });
  /** A control route: the JSON body parsed by its schema; schema and domain errors → 400 {error:{code,message}}. */
  const post =
    <S extends z.ZodTypeAny>(schema: S, fn: (p: z.output<S>, req: Request, res: Response) => unknown) =>
    (req: Request, res: Response) => {
      try {
        fn(schema.parse(req.body ?? {}), req, res);
      } catch (err) {
        if (err instanceof ZodError) bad(res, err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        else if (err instanceof GoogleError) bad(res, err.message, err.code);
        else bad(res, (err as Error).message);
      }
    };

  app.get(`${CONTROL}/state`, (_req, res) => {
    const x = g();
    res.json({
      settings: x.settings,
      domain: x.domain,
      customerId: x.customerId,
      clock: new Date(now(x)).toISOString(),
      users: x.users.size,
      groups: x.groups.size,
      calendars: x.calendars.size,
      events: x.events.size,
      channels: x.channels.size,
      deliveries: x.deliveries.length,
      files: x.files.size,
      drives: x.drives.size,
      changes: x.changes.length,
      mailboxes: x.mailboxes.size,
    });
  });
  app.put(
    `${CONTROL}/settings`,
    post(schemas.settings, (p, _req, res) => {
      const st = g().settings;
      if (p.testingApp !== undefined) setTestingApp(fake, p.testingApp);
      const { testingApp: _t, ...rest } = p;
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) (st as unknown as Record<string, unknown>)[k] = v;
      g().quota.clear();
      res.json(st satisfies GoogleSettings);
    }),
  );
  app.post(
    `${CONTROL}/clock`,
    post(schemas.clock, (p, _req, res) => {
      advanceClock(fake, p.advanceMs ?? (p.advanceSec ?? 0) * 1000);
      res.json({ now: new Date(now(g())).toISOString(), offsetMs: g().clockOffsetMs });
    }),
  );

  // directory
  app.get(`${CONTROL}/users`, (_req, res) => {
    res.json({ users: [...g().users.values()] });
  });
  app.post(
    `${CONTROL}/users`,
    post(schemas.user, (p, _req, res) => {
      res.status(201).json(addUser(g(), p));
    }),
  );
  app.post(
    `${CONTROL}/groups`,
    post(schemas.group, (p, _req, res) => {
      const members = p.members.map((m) => (typeof m === 'string' ? { email: m, role: 'MEMBER' as const, type: 'USER' as const } : m));
      const gr = {
        id: p.id ?? `grp-${p.email.split('@')[0]}`,
        email: p.email,
        name: p.name ?? p.email,
        description: p.description ?? '',
        members,
      };
      g().groups.set(gr.id, gr);
      res.status(201).json(gr);
    }),
  );

  // calendar
  app.post(
    `${CONTROL}/calendars`,
    post(schemas.calendar, (p, _req, res) => {
      if (p.timeZone !== undefined && !validTimeZone(p.timeZone)) throw new Error(`unknown time zone ${p.timeZone}`);
      if (p.primary || p.id === p.owner) {
        const c = ensurePrimary(g(), p.owner);
        if (p.timeZone) c.timeZone = p.timeZone;
        if (p.summary) c.summary = p.summary;
        return res.status(201).json(c);
      }
      const c = createCalendar(g(), p.owner, {
        id: p.id,
        summary: p.summary!,
        description: p.description,
        timeZone: p.timeZone,
        sharedWith: p.sharedWith ?? [],
      });
      res.status(201).json(c);
    }),
  );
  app.post(
    `${CONTROL}/events`,
    post(schemas.event, (p, _req, res) => {
      const c =
        g().calendars.get(p.calendarId) ??
        (p.calendarId.includes('@') && !p.calendarId.endsWith('calendar.google.com')
          ? ensurePrimary(g(), p.calendarId.toLowerCase())
          : undefined);
      if (!c) throw new Error(`no calendar ${p.calendarId}`);
      res.status(201).json(insertEvent(fake, c, c.owner, p.event, p.created));
    }),
  );
  app.get(`${CONTROL}/events`, (req, res) => {
    const cal = req.query.calendarId;
    res.json({
      events: [...g().events.values()]
        .filter((e) => !cal || e.calendarId === cal)
        .map((e) => ({ calendarId: e.calendarId, seq: e.seq, ...e.data })),
    });
  });
  app.post(
    `${CONTROL}/sync-tokens/invalidate`,
    post(schemas.calendarFilter, (p, _req, res) => {
      res.json({ invalidated: invalidateSyncTokens(g(), p.calendarId) });
    }),
  );
  app.get(`${CONTROL}/channels`, (_req, res) => {
    res.json({
      channels: [...g().channels.values()].map(({ queue: _q, ...c }) => ({
        ...c,
        expiration: new Date(c.expiration).toISOString(),
        expired: c.expiration <= now(g()),
      })),
    });
  });
  app.post(
    `${CONTROL}/channels/expire`,
    post(schemas.channelFilter, (p, _req, res) => {
      res.json({ expired: expireChannels(g(), p.id) });
    }),
  );
  app.get(`${CONTROL}/deliveries`, (req, res) => {
    const ch = req.query.channelId;
    res.json({ deliveries: g().deliveries.filter((d) => !ch || d.channelId === ch) });
  });
  app.delete(`${CONTROL}/deliveries`, (_req, res) => {
    g().deliveries = [];
    res.json({ ok: true });
  });

  // drive
  app.post(
    `${CONTROL}/files`,
    post(schemas.file, (p, _req, res) => {
      const content =
        p.contentBase64 !== undefined
          ? Buffer.from(p.contentBase64, 'base64')
          : p.content !== undefined
            ? Buffer.from(p.content)
            : undefined;
      const f = createFile(
        fake,
        p.owner,
        {
          name: p.name,
          mimeType: p.mimeType,
          parents: p.parents,
          description: p.description,
          createdTime: p.createdTime,
          modifiedTime: p.modifiedTime,
        },
        content,
        true,
      );
      res.status(201).json(fileJson(fake, f, p.owner));
    }),
  );
  app.get(`${CONTROL}/files`, (_req, res) => {
    res.json({ files: [...g().files.values()].map(({ content, ...f }) => ({ ...f, size: content?.length ?? 0 })) });
  });
  app.post(
    `${CONTROL}/drives`,
    post(schemas.drive, (p, _req, res) => {
      res.status(201).json(createSharedDrive(g(), p.name, p.members, p.id));
    }),
  );
  app.get(`${CONTROL}/root`, (req, res) => {
    const owner = email.safeParse(req.query.owner);
    if (!owner.success) return bad(res, 'owner (an email) is required');
    res.json({ id: rootOf(g(), owner.data).id });
  });
  app.post(
    `${CONTROL}/uploads/drop`,
    post(schemas.drop, (p, _req, res) => {
      const drop = { afterBytes: p.afterBytes, remaining: p.count };
      g().partialDrops.push(drop);
      res.status(201).json(drop);
    }),
  );
  app.get(`${CONTROL}/uploads`, (_req, res) => {
    res.json({
      uploads: [...g().uploads.values()].map((u) => ({
        id: u.id,
        owner: u.owner,
        fileId: u.fileId,
        total: u.total,
        receivedBytes: u.receivedBytes,
        done: !!u.done,
      })),
    });
  });

  // gmail
  app.post(
    `${CONTROL}/mail`,
    post(schemas.mail, (p, _req, res) => {
      const raw =
        p.raw !== undefined
          ? Buffer.from(p.raw, 'base64url')
          : Buffer.from(
              [
                `From: ${p.from ?? 'someone@customer.example'}`,
                `To: ${p.to}`,
                `Subject: ${p.subject ?? '(no subject)'}`,
                `Date: ${new Date(now(g())).toUTCString()}`,
                `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@sandbox>`,
                'Content-Type: text/plain; charset="UTF-8"',
                '',
                p.text ?? '',
              ].join('\r\n'),
            );
      const m = deliver(fake, mailboxOf(g(), p.to), raw, p.labelIds ?? ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL']);
      res.status(201).json({ id: m.id, threadId: m.threadId, historyId: String(m.historyId) });
    }),
  );
  app.post(
    `${CONTROL}/mail/expire-history`,
    post(schemas.mailbox, (p, _req, res) => {
      const m = mailboxOf(g(), p.email);
      m.oldestHistoryId = m.historyId + 1;
      res.json({ oldestHistoryId: m.oldestHistoryId });
    }),
  );
  app.post(
    `${CONTROL}/pubsub/subscriptions`,
    post(schemas.subscription, (p, _req, res) => {
      const name = p.name ?? `projects/sandbox/subscriptions/${p.topic.split('/').pop()}-push`;
      g().pushSubscriptions.set(name, { topic: p.topic, pushEndpoint: p.pushEndpoint, name });
      res.status(201).json({ name, topic: p.topic, pushEndpoint: p.pushEndpoint });
    }),
  );

  // rate limits with Google's body, through the framework's fault plan
  app.post(
    `${CONTROL}/rate-limit`,
    post(schemas.rateLimit, (p, _req, res) => {
      const spec = fake.faults.add({
        kind: 'status',
        status: p.status,
        path: p.path,
        method: p.method,
        count: p.count,
        forMs: p.forMs,
        retryAfter: p.retryAfter,
        body: googleErrorBody(
          p.status,
          p.reason,
          p.reason === 'userRateLimitExceeded' ? 'User Rate Limit Exceeded' : 'Rate Limit Exceeded',
        ),
      });
      res.status(201).json({ fault: spec });
    }),
  );
}
