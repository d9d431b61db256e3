import type { admin_directory_v1 } from '@googleapis/admin';
import type { DirectoryEntry, DirectoryProvider } from '../../core/people/directory.ts';
import { mapGoogleError } from './errors.ts';
import { directoryAs } from './service-account.ts';

/**
 * Google's Directory (Admin SDK `users.list`, acting as the connection's `adminEmail`) as a source of
 * the people directory: each user's primary email and id (identities under `google`), name, mobile
 * (the `mobile` phone), department and title (first organization; else the org unit path), and the
 * manager (the `manager` relation, an email) — matched to People by email, then mobile, by
 * core/people's plan like the CSV import.
 */
export function googleUserToEntry(u: admin_directory_v1.Schema$User): DirectoryEntry {
  const org =
    (u.organizations as Array<{ department?: string; title?: string; primary?: boolean }> | undefined)?.find((o) => o.primary) ??
    (u.organizations as Array<{ department?: string; title?: string }> | undefined)?.[0];
  const phones = (u.phones as Array<{ type?: string; value?: string }> | undefined) ?? [];
  const mobile = phones.find((p) => p.type === 'mobile')?.value ?? null;
  const manager = (u.relations as Array<{ type?: string; value?: string }> | undefined)?.find((r) => r.type === 'manager')?.value;
  const orgUnit = u.orgUnitPath && u.orgUnitPath !== '/' ? u.orgUnitPath.replace(/^\/+/, '') : null;
  const email = u.primaryEmail ?? null;
  return {
    identities: { google: { ...(email ? { email: email.toLowerCase() } : {}), ...(u.id ? { id: u.id } : {}) } },
    name: u.name?.fullName ?? ([u.name?.givenName, u.name?.familyName].filter(Boolean).join(' ') || email || ''),
    email,
    mobile,
    department: org?.department || orgUnit,
    title: org?.title ?? null,
    managerIdentity: manager ? { service: 'google', kind: 'email', value: manager.toLowerCase() } : null,
  };
}

export const googleDirectory: DirectoryProvider = {
  service: 'google',
  async read(conn) {
    const dir = await directoryAs(conn);
    const out: DirectoryEntry[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const res = await dir.users.list({
          customer: 'my_customer',
          maxResults: 500,
          projection: 'full',
          ...(pageToken ? { pageToken } : {}),
        });
        for (const u of res.data.users ?? []) if (!u.suspended && !u.archived) out.push(googleUserToEntry(u));
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (err) {
      throw mapGoogleError('Directory users.list', err);
    }
    return out;
  },
};
