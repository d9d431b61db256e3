import type { Express, Request } from 'express';
import { GoogleError, badRequest, notFound } from './errors.ts';
import { qint, qs, route, type Caller, type Fake } from './runtime.ts';
import type { DirectoryUser, Group, Json } from './state.ts';

const P = '/admin/directory/v1';
const etag = (s: string) => `"${Buffer.from(s).toString('base64url').slice(0, 27)}"`;

function userJson(u: DirectoryUser, customerId: string): Json {
  return {
    kind: 'admin#directory#user',
    id: u.id,
    etag: etag(u.id),
    primaryEmail: u.primaryEmail,
    name: { givenName: u.givenName, familyName: u.familyName, fullName: `${u.givenName} ${u.familyName}`.trim() },
    isAdmin: u.isAdmin,
    isDelegatedAdmin: false,
    lastLoginTime: '1970-01-01T00:00:00.000Z',
    creationTime: u.creationTime,
    agreedToTerms: true,
    suspended: u.suspended,
    archived: false,
    changePasswordAtNextLogin: false,
    ipWhitelisted: false,
    emails: [{ address: u.primaryEmail, primary: true }],
    customerId,
    orgUnitPath: u.orgUnitPath,
    isMailboxSetup: true,
    isEnrolledIn2Sv: false,
    isEnforcedIn2Sv: false,
    includeInGlobalAddressList: true,
    ...(u.phones ? { phones: u.phones } : {}),
    ...(u.organizations ? { organizations: u.organizations } : {}),
    ...(u.relations ? { relations: u.relations } : {}),
  };
}
const groupJson = (gr: Group): Json => ({
  kind: 'admin#directory#group',
  id: gr.id,
  etag: etag(gr.id),
  email: gr.email,
  name: gr.name,
  description: gr.description,
  directMembersCount: String(gr.members.length),
  adminCreated: true,
});

function page<T>(req: Request, items: T[], def: number, max: number): { slice: T[]; next?: string } {
  const size = qint(req, 'maxResults', def, max);
  const t = qs(req, 'pageToken');
  const off = t ? Number(Buffer.from(t, 'base64url').toString()) : 0;
  if (!Number.isInteger(off) || off < 0) throw badRequest('Invalid Input: pageToken', 'invalid');
  return {
    slice: items.slice(off, off + size),
    next: off + size < items.length ? Buffer.from(String(off + size)).toString('base64url') : undefined,
  };
}

export function setupDirectory(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const admin = (caller: Caller) => {
    if (!g().users.get(caller.email)?.isAdmin) throw new GoogleError(403, 'forbidden', 'Not Authorized to access this resource/api');
  };
  const scope = (req: Request) => {
    const customer = qs(req, 'customer'),
      domain = qs(req, 'domain');
    if (!customer && !domain) throw new GoogleError(400, 'badRequest', 'Bad Request');
    if (customer && customer !== 'my_customer' && customer !== g().customerId)
      throw new GoogleError(403, 'forbidden', 'Not Authorized to access this resource/api');
    if (domain && domain !== g().domain) throw new GoogleError(403, 'forbidden', 'Not Authorized to access this resource/api');
  };

  app.get(
    `${P}/users`,
    route(fake, (req, res, caller) => {
      // viewType=domain_public lets any user of the domain list the directory (public fields only, domain param).
      const publicView = qs(req, 'viewType') === 'domain_public';
      if (publicView) {
        if (!caller.email.endsWith(`@${g().domain}`)) throw new GoogleError(403, 'forbidden', 'Not Authorized to access this resource/api');
        if (!qs(req, 'domain') && !qs(req, 'customer')) throw new GoogleError(400, 'badRequest', 'Bad Request');
      } else {
        admin(caller);
        scope(req);
      }
      let users = [...g().users.values()];
      const query = qs(req, 'query')?.toLowerCase();
      if (query) {
        const m = /^(email|givenname|familyname|name|issuspended|isadmin)\s*[:=]\s*'?([^']*)'?\*?$/.exec(query);
        users = users.filter((u) => {
          if (!m) return `${u.primaryEmail} ${u.givenName} ${u.familyName}`.toLowerCase().includes(query.replace(/\*$/, ''));
          const v = m[2]!;
          switch (m[1]) {
            case 'email':
              return u.primaryEmail.startsWith(v);
            case 'givenname':
              return u.givenName.toLowerCase().startsWith(v);
            case 'familyname':
              return u.familyName.toLowerCase().startsWith(v);
            case 'issuspended':
              return String(u.suspended) === v;
            case 'isadmin':
              return String(u.isAdmin) === v;
            default:
              return `${u.givenName} ${u.familyName}`.toLowerCase().includes(v);
          }
        });
      }
      const orderBy = qs(req, 'orderBy');
      if (orderBy) {
        const k = orderBy === 'givenName' ? 'givenName' : orderBy === 'familyName' ? 'familyName' : 'primaryEmail';
        users.sort((a, b) => a[k].localeCompare(b[k]));
        if (qs(req, 'sortOrder') === 'DESCENDING') users.reverse();
      }
      const { slice, next } = page(req, users, 100, 500);
      const shape = (u: DirectoryUser) => {
        const full = userJson(u, g().customerId);
        return publicView
          ? { kind: full.kind, id: full.id, etag: full.etag, primaryEmail: full.primaryEmail, name: full.name, emails: full.emails }
          : full;
      };
      res.json({
        kind: 'admin#directory#users',
        etag: etag(String(users.length)),
        users: slice.map(shape),
        ...(next ? { nextPageToken: next } : {}),
      });
    }),
  );
  app.get(
    `${P}/users/:userKey`,
    route(fake, (req, res, caller) => {
      const key = String(req.params.userKey).toLowerCase();
      if (key !== caller.email) admin(caller);
      const u = g().users.get(key) ?? [...g().users.values()].find((x) => x.id === key);
      if (!u) throw notFound('Resource Not Found: userKey');
      res.json(userJson(u, g().customerId));
    }),
  );

  app.get(
    `${P}/groups`,
    route(fake, (req, res, caller) => {
      const userKey = qs(req, 'userKey')?.toLowerCase();
      if (userKey && userKey === caller.email) {
        /* a user may list their own groups */
      } else {
        admin(caller);
        if (!userKey) scope(req);
      }
      let groups = [...g().groups.values()];
      if (userKey) groups = groups.filter((gr) => gr.members.some((m) => m.email === userKey));
      const { slice, next } = page(req, groups, 200, 200);
      res.json({
        kind: 'admin#directory#groups',
        etag: etag(String(groups.length)),
        ...(slice.length ? { groups: slice.map(groupJson) } : {}),
        ...(next ? { nextPageToken: next } : {}),
      });
    }),
  );
  app.get(
    `${P}/groups/:groupKey/members`,
    route(fake, (req, res, caller) => {
      admin(caller);
      const key = String(req.params.groupKey).toLowerCase();
      const gr = [...g().groups.values()].find((x) => x.id === key || x.email === key);
      if (!gr) throw notFound('Resource Not Found: groupKey');
      const roles = qs(req, 'roles')?.toUpperCase().split(',');
      const members = gr.members.filter((m) => !roles || roles.includes(m.role));
      const { slice, next } = page(req, members, 200, 200);
      res.json({
        kind: 'admin#directory#members',
        etag: etag(gr.id),
        ...(slice.length
          ? {
              members: slice.map((m) => ({
                kind: 'admin#directory#member',
                etag: etag(m.email),
                id: g().users.get(m.email)?.id ?? m.email,
                email: m.email,
                role: m.role,
                type: m.type,
                status: 'ACTIVE',
              })),
            }
          : {}),
        ...(next ? { nextPageToken: next } : {}),
      });
    }),
  );
}
