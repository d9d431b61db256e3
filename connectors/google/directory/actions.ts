import { z } from 'zod';
import { defineAction } from '../../../core/connector.ts';
import { directoryFor, requireConnection } from '../client.ts';
import { mapGoogleError } from '../errors.ts';

/** Admin SDK Directory: the organisation's users and groups (the connected account must be a Workspace admin). */

const userOut = z.object({
  id: z.string(),
  primaryEmail: z.string(),
  name: z.string(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  isAdmin: z.boolean(),
  suspended: z.boolean(),
  orgUnitPath: z.string().nullable(),
});

export const listUsers = defineAction({
  id: 'google.directory.list_users',
  title: 'List Google Workspace users',
  input: z.object({
    domain: z.string().min(1).optional().describe("default: every domain of the account's organisation (customer my_customer)"),
    query: z.string().max(1000).optional().describe("Directory search, e.g. email:ali* or orgUnitPath='/Sales'"),
    limit: z.number().int().min(1).max(10_000).default(500).describe('at most this many users (pages are followed)'),
  }),
  output: z.object({ users: z.array(userOut), count: z.number(), truncated: z.boolean() }),
  sampleOutput: {
    users: [
      {
        id: '100000000000000000001',
        primaryEmail: 'alice@example.com',
        name: 'Alice Chan',
        givenName: 'Alice',
        familyName: 'Chan',
        isAdmin: false,
        suspended: false,
        orgUnitPath: '/',
      },
    ],
    count: 1,
    truncated: false,
  },
  async run(ctx, input) {
    const dir = await directoryFor(requireConnection(ctx.connection, 'google.directory.list_users'));
    const users: z.output<typeof userOut>[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const res = await dir.users.list(
          {
            ...(input.domain ? { domain: input.domain } : { customer: 'my_customer' }),
            query: input.query,
            maxResults: Math.min(500, input.limit - users.length),
            orderBy: 'email',
            pageToken,
          },
          { retry: false, timeout: ctx.timeoutMs },
        );
        for (const u of res.data.users ?? [])
          users.push({
            id: u.id ?? '',
            primaryEmail: u.primaryEmail ?? '',
            name: u.name?.fullName ?? [u.name?.givenName, u.name?.familyName].filter(Boolean).join(' '),
            givenName: u.name?.givenName ?? null,
            familyName: u.name?.familyName ?? null,
            isAdmin: Boolean(u.isAdmin),
            suspended: Boolean(u.suspended),
            orgUnitPath: u.orgUnitPath ?? null,
          });
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken && users.length < input.limit);
    } catch (err) {
      throw mapGoogleError('Directory users.list', err);
    }
    return { users, count: users.length, truncated: Boolean(pageToken) };
  },
});

const groupOut = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  directMembersCount: z.number(),
  members: z.array(z.object({ email: z.string(), role: z.string(), type: z.string() })).optional(),
});

export const listGroups = defineAction({
  id: 'google.directory.list_groups',
  title: 'List Google Workspace groups',
  input: z.object({
    domain: z.string().min(1).optional(),
    userKey: z.string().min(1).optional().describe('only the groups this user (email or id) belongs to'),
    withMembers: z.boolean().default(false).describe("also list each group's members"),
    limit: z.number().int().min(1).max(10_000).default(200),
  }),
  output: z.object({ groups: z.array(groupOut), count: z.number(), truncated: z.boolean() }),
  sampleOutput: {
    groups: [{ id: '03ep43zb1abcdef', email: 'sales@example.com', name: 'Sales', description: null, directMembersCount: 2 }],
    count: 1,
    truncated: false,
  },
  async run(ctx, input) {
    const dir = await directoryFor(requireConnection(ctx.connection, 'google.directory.list_groups'));
    const groups: z.output<typeof groupOut>[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const res = await dir.groups.list(
          {
            ...(input.userKey ? { userKey: input.userKey } : input.domain ? { domain: input.domain } : { customer: 'my_customer' }),
            maxResults: Math.min(200, input.limit - groups.length),
            pageToken,
          },
          { retry: false, timeout: ctx.timeoutMs },
        );
        for (const g of res.data.groups ?? [])
          groups.push({
            id: g.id ?? '',
            email: g.email ?? '',
            name: g.name ?? '',
            description: g.description || null,
            directMembersCount: Number(g.directMembersCount ?? 0),
          });
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken && groups.length < input.limit);
      if (input.withMembers) {
        for (const g of groups) {
          g.members = [];
          let mt: string | undefined;
          do {
            const res = await dir.members.list({ groupKey: g.id || g.email, maxResults: 200, pageToken: mt }, { retry: false });
            for (const m of res.data.members ?? [])
              g.members.push({ email: m.email ?? '', role: m.role ?? 'MEMBER', type: m.type ?? 'USER' });
            mt = res.data.nextPageToken ?? undefined;
          } while (mt);
        }
      }
    } catch (err) {
      throw mapGoogleError('Directory groups.list', err);
    }
    return { groups, count: groups.length, truncated: Boolean(pageToken) };
  },
});
