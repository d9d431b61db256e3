import type { ConnectionHandle } from '../connector.ts';
import type { Identities } from './store.ts';

/** One person as a service's directory lists them; `identities` holds that service's ids only. */
export interface DirectoryEntry {
  identities: Identities;
  name: string;
  email?: string | null;
  mobile?: string | null;
  /** Department path, e.g. `Sales/Hong Kong`. */
  department?: string | null;
  title?: string | null;
  managerIdentity?: { service: string; kind: string; value: string } | null;
}

/** A person of the directory as provisioning sees them, with their identity in the target service. */
export interface ProvisionPerson {
  id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  department: string | null;
  title: string | null;
  active: boolean;
  identity: Record<string, string>;
  /** The person's manager in the directory (a People id), so provisioning can set it in the service. */
  managerId?: string | null;
}

export interface ProvisionChange {
  action: 'create' | 'update' | 'deactivate' | 'link';
  personId: string;
  name: string;
  fields?: Record<string, { from: unknown; to: unknown }>;
}
export interface ProvisionResult {
  departmentsCreated: string[];
  changes: ProvisionChange[];
  /** Identities to store on the people (new accounts, and accounts found by mobile/email). */
  links: Array<{ personId: string; identity: Record<string, string> }>;
  errors: Array<{ personId: string; name: string; message: string }>;
}

/**
 * What a connector offers the people directory: read its directory (departments and users) and,
 * optionally, provision people into it. Registered by the connector under its connector id; core
 * knows only the `service` string its identities are stored under.
 */
export interface DirectoryProvider {
  service: string;
  read(conn: ConnectionHandle): Promise<DirectoryEntry[]>;
  provision?(conn: ConnectionHandle, people: ProvisionPerson[], opts: { dryRun: boolean }): Promise<ProvisionResult>;
}

const providers = new Map<string, DirectoryProvider>();
export function registerDirectoryProvider(connectorId: string, provider: DirectoryProvider): void {
  providers.set(connectorId, provider);
}
export function directoryProvider(connectorId: string): DirectoryProvider | undefined {
  return providers.get(connectorId);
}
