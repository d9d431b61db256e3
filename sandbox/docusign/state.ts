import crypto from 'node:crypto';
import { textPdf } from './pdf.ts';

export type Environment = 'demo' | 'production';
export type EnvelopeStatus = 'created' | 'sent' | 'delivered' | 'completed' | 'declined' | 'voided';
export type RecipientStatus = 'created' | 'sent' | 'delivered' | 'completed' | 'declined';

export interface DsUser {
  userId: string;
  name: string;
  email: string;
  accountIds: string[];
  defaultAccountId: string;
}

export interface HmacKey {
  keyId: string;
  key: string;
  active: boolean;
  createdDateTime: string;
}

export interface RateWindow {
  limit: number;
  remaining: number;
  resetAt: number;
  burstLimit: number;
  burstRemaining: number;
  burstResetAt: number;
  /** Set by the control API: the next reset happens then instead of at the top of the hour. */
  overrideResetAt?: number;
}

export interface ConnectConfig {
  connectId: string;
  name: string;
  urlToPublishTo: string;
  configurationType: string;
  allUsers: boolean;
  userIds: string[];
  events: string[];
  requiresAcknowledgement: boolean;
  includeHMAC: boolean;
  disabled: boolean;
  includeData: string[];
  deliveryMode: string;
}

export interface DsAccount {
  accountId: string;
  accountName: string;
  site: string;
  rate: RateWindow;
  hmacKeys: HmacKey[];
  connect: Map<string, ConnectConfig>;
  templates: Map<string, Template>;
  combinedPdfAllowed: boolean;
}

export interface Tabs {
  [tabType: string]: Record<string, unknown>[];
}

export interface Recipient {
  recipientId: string;
  recipientIdGuid: string;
  type: 'signer' | 'carbonCopy';
  name: string;
  email: string;
  routingOrder: number;
  roleName?: string;
  status: RecipientStatus;
  tabs?: Tabs;
  sentDateTime?: string;
  deliveredDateTime?: string;
  signedDateTime?: string;
  declinedDateTime?: string;
  declinedReason?: string;
}

export interface DsDocument {
  documentId: string;
  name: string;
  fileExtension: string;
  bytes: Buffer;
  order: number;
}

export interface EventNotification {
  url: string;
  requireAcknowledgment: boolean;
  includeHMAC: boolean;
  events: string[];
  includeData: string[];
}

export interface Envelope {
  envelopeId: string;
  accountId: string;
  senderUserId: string;
  status: EnvelopeStatus;
  emailSubject: string;
  emailBlurb?: string;
  templateId?: string;
  documents: DsDocument[];
  recipients: Recipient[];
  textCustomFields: { fieldId: string; name: string; value: string; show: string; required: string }[];
  eventNotification?: EventNotification;
  createdDateTime: string;
  sentDateTime?: string;
  deliveredDateTime?: string;
  completedDateTime?: string;
  declinedDateTime?: string;
  voidedDateTime?: string;
  voidedReason?: string;
  statusChangedDateTime: string;
  lastModifiedDateTime: string;
  resendCount: number;
  /** GETs on this envelope (and its parts) per clock hour, for the polling limit. */
  polls: { hour: number; count: number };
}

export interface Template {
  templateId: string;
  name: string;
  description: string;
  emailSubject: string;
  created: string;
  lastModified: string;
  documents: DsDocument[];
  roles: { roleName: string; recipientId: string; routingOrder: number; type: 'signer' | 'carbonCopy'; tabs?: Tabs }[];
}

export interface ConnectAttempt {
  at: string;
  status?: number;
  error?: string;
}
export interface ConnectDelivery {
  id: number;
  accountId: string;
  envelopeId: string;
  event: string;
  url: string;
  configurationId: string;
  /** Body of the latest attempt and its signatures. */
  body: string;
  signatures: string[];
  attempts: ConnectAttempt[];
  status: 'pending' | 'delivered' | 'failed' | 'not_acknowledged';
  requiresAcknowledgement: boolean;
  payload: Record<string, unknown>;
  includeHMAC: boolean;
}

export interface DsSettings {
  /** Access token lifetime of the JWT grant (the code grant's is the OAuth settings' accessTokenTtlSec, 8 h). */
  jwtAccessTokenTtlSec: number;
  hourlyLimit: number;
  burstLimit: number;
  burstWindowSec: number;
  /** GET (or PUT) requests per envelope per clock hour before HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED. */
  envelopePollingLimitPerHour: number;
  connectRetryDelaysMs: number[];
  connectTimeoutMs: number;
  /** Share (0–1) of envelope creates answered 503; of those, `createFailureAfterCommitShare` are answered after the envelope exists. */
  createFailureRate: number;
  createFailureAfterCommitShare: number;
}

export interface DsState {
  environment: Environment;
  users: Map<string, DsUser>;
  accounts: Map<string, DsAccount>;
  envelopes: Map<string, Envelope>;
  /** `${integrationKey} ${userId}` that granted `signature impersonation`. */
  consents: Set<string>;
  /** Registered RSA public keys (PEM) per integration key. */
  rsaKeys: Map<string, { keyId: string; publicKeyPem: string }[]>;
  deliveries: ConnectDelivery[];
  nextDeliveryId: number;
  nextConnectId: number;
  settings: DsSettings;
  pending: number;
  stopped: boolean;
}

export const nowIso = () => new Date().toISOString().replace('Z', '0000Z');
export const guid = () => crypto.randomUUID();

export const DEMO_INTEGRATION_KEY = '2d7a1c2e-5f1b-4c3e-9b8a-0d1b0a1d9e00';
export const DEMO_SECRET_KEY = 'b3f1c9a4-sandbox-secret-key-0000';

/** Fixed GUIDs so a demo and tests can name them; the production host has its own. */
const SEEDS: Record<Environment, { userId: string; accounts: { accountId: string; accountName: string }[] }> = {
  demo: {
    userId: '7c1a3e52-0d4b-4a9e-8f11-5a1ce0de0001',
    accounts: [
      { accountId: '1f0e2d3c-aaaa-4b5c-9d8e-00000000a001', accountName: 'Dingbridge Demo' },
      { accountId: '1f0e2d3c-bbbb-4b5c-9d8e-00000000a002', accountName: 'Dingbridge Legal' },
    ],
  },
  production: {
    userId: '7c1a3e52-0d4b-4a9e-8f11-5a1ce0de0f01',
    accounts: [
      { accountId: '9a8b7c6d-cccc-4e5f-8a9b-00000000b001', accountName: 'Dingbridge Inc.' },
      { accountId: '9a8b7c6d-dddd-4e5f-8a9b-00000000b002', accountName: 'Dingbridge Inc. (EU)' },
    ],
  },
};
export const seedIds = (env: Environment) => ({ userId: SEEDS[env].userId, accountIds: SEEDS[env].accounts.map((a) => a.accountId) });

export const DEFAULT_SETTINGS = (env: Environment): DsSettings => ({
  jwtAccessTokenTtlSec: 3600,
  hourlyLimit: 3000,
  burstLimit: env === 'demo' ? 200 : 500,
  burstWindowSec: 30,
  envelopePollingLimitPerHour: 500,
  connectRetryDelaysMs: [1000, 2000, 5000, 10_000, 30_000, 60_000, 60_000, 60_000, 60_000, 60_000],
  connectTimeoutMs: 10_000,
  createFailureRate: 0,
  createFailureAfterCommitShare: 0.5,
});

export const topOfNextHour = (t = Date.now()) => Math.floor(t / 3_600_000) * 3_600_000 + 3_600_000;

export function freshRate(s: DsSettings): RateWindow {
  const t = Date.now();
  return {
    limit: s.hourlyLimit,
    remaining: s.hourlyLimit,
    resetAt: topOfNextHour(t),
    burstLimit: s.burstLimit,
    burstRemaining: s.burstLimit,
    burstResetAt: t + s.burstWindowSec * 1000,
  };
}

export function ndaTemplate(): Template {
  const t = nowIso();
  return {
    templateId: 'a5b0c1d2-e3f4-4a5b-8c7d-0000000070e1',
    name: 'Mutual NDA',
    description: 'Two-party mutual non-disclosure agreement',
    emailSubject: 'Please sign: Mutual NDA',
    created: t,
    lastModified: t,
    documents: [
      {
        documentId: '1',
        name: 'Mutual NDA',
        fileExtension: 'pdf',
        order: 1,
        bytes: textPdf(
          [
            [
              'Mutual Non-Disclosure Agreement',
              '',
              "The parties agree to keep each other's information confidential.",
              '',
              'Signature: /sn1/',
              'Date: /ds1/',
            ],
          ],
          'Mutual NDA',
        ),
      },
    ],
    roles: [
      {
        roleName: 'Signer',
        recipientId: '1',
        routingOrder: 1,
        type: 'signer',
        tabs: { signHereTabs: [{ anchorString: '/sn1/', anchorUnits: 'pixels', anchorXOffset: '20', anchorYOffset: '10' }] },
      },
      {
        roleName: 'Counter-signer',
        recipientId: '2',
        routingOrder: 2,
        type: 'signer',
        tabs: { signHereTabs: [{ anchorString: '/sn1/', anchorUnits: 'pixels', anchorXOffset: '220', anchorYOffset: '10' }] },
      },
      { roleName: 'Legal', recipientId: '3', routingOrder: 3, type: 'carbonCopy' },
    ],
  };
}

export function initialDsState(env: Environment): DsState {
  const settings = DEFAULT_SETTINGS(env);
  const seed = SEEDS[env];
  const accounts = new Map<string, DsAccount>();
  for (const a of seed.accounts) {
    const template = ndaTemplate();
    accounts.set(a.accountId, {
      ...a,
      site: '',
      rate: freshRate(settings),
      hmacKeys: [],
      connect: new Map(),
      templates: new Map([[template.templateId, template]]),
      combinedPdfAllowed: true,
    });
  }
  const user: DsUser = {
    userId: seed.userId,
    name: 'Dana Sender',
    email: 'dana.sender@example.com',
    accountIds: seed.accounts.map((a) => a.accountId),
    defaultAccountId: seed.accounts[0]!.accountId,
  };
  return {
    environment: env,
    users: new Map([[user.userId, user]]),
    accounts,
    envelopes: new Map(),
    consents: new Set(),
    rsaKeys: new Map(),
    deliveries: [],
    nextDeliveryId: 1,
    nextConnectId: 10_001,
    settings,
    pending: 0,
    stopped: false,
  };
}
