import crypto from 'node:crypto';
import type { TriggeredEvent } from '../../core/connector.ts';

/** The hub events DocuSign's envelope and recipient changes become. */
export const DOCUSIGN_EVENTS = [
  'docusign.envelope.sent',
  'docusign.envelope.delivered',
  'docusign.envelope.completed',
  'docusign.envelope.declined',
  'docusign.envelope.voided',
  'docusign.recipient.completed',
] as const;

const ENVELOPE_STATUSES = new Set(['sent', 'delivered', 'completed', 'declined', 'voided']);

/** Connect's X-DocuSign-Signature-N: base64 HMAC-SHA256 of the raw body under one of the account's keys. */
export function connectSignature(key: string, rawBody: Buffer): string {
  return crypto.createHmac('sha256', key).update(rawBody).digest('base64');
}

/** True when any X-DocuSign-Signature-N header matches the raw body under any of the keys (constant-time compare). */
export function verifyConnect(headers: Record<string, string | string[] | undefined>, rawBody: Buffer, keys: string[]): boolean {
  const given = Object.entries(headers)
    .filter(([k]) => /^x-docusign-signature-\d+$/i.test(k))
    .flatMap(([, v]) => (Array.isArray(v) ? v : v ? [v] : []))
    .map((v) => Buffer.from(String(v), 'utf8'));
  if (!given.length || !keys.length) return false;
  let ok = false;
  for (const key of keys) {
    const expected = Buffer.from(connectSignature(key, rawBody), 'utf8');
    for (const g of given) if (g.length === expected.length && crypto.timingSafeEqual(g, expected)) ok = true;
  }
  return ok;
}

/** The keys of a connection's `hmacKeys` secret (comma-separated while rotating). */
export const hmacKeysOf = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

interface Recipient {
  recipientId?: string;
  name?: string;
  email?: string;
  status?: string;
  roleName?: string;
  declinedReason?: string;
  signedDateTime?: string;
}
export interface EnvelopeJson {
  envelopeId?: string;
  status?: string;
  emailSubject?: string;
  sentDateTime?: string;
  deliveredDateTime?: string;
  completedDateTime?: string;
  declinedDateTime?: string;
  voidedDateTime?: string;
  voidedReason?: string;
  statusChangedDateTime?: string;
  customFields?: { textCustomFields?: Array<{ name?: string; value?: string }> };
  recipients?: { signers?: Recipient[]; carbonCopies?: Recipient[] };
}

const flatFields = (e: EnvelopeJson) =>
  Object.fromEntries((e.customFields?.textCustomFields ?? []).filter((f) => f.name).map((f) => [String(f.name), String(f.value ?? '')]));
const recipientsOf = (e: EnvelopeJson) =>
  [...(e.recipients?.signers ?? []), ...(e.recipients?.carbonCopies ?? [])].map((r) => ({
    id: r.recipientId ?? null,
    name: r.name ?? null,
    email: r.email ?? null,
    roleName: r.roleName ?? null,
    status: r.status ?? null,
    declinedReason: r.declinedReason ?? null,
  }));

/** The reason of a declined (the signer's) or voided (the sender's) envelope. */
const reasonOf = (e: EnvelopeJson) =>
  e.status === 'voided'
    ? (e.voidedReason ?? null)
    : e.status === 'declined'
      ? ((e.recipients?.signers ?? []).find((r) => r.status === 'declined')?.declinedReason ?? null)
      : null;

function envelopeData(accountId: string, e: EnvelopeJson, envelopeId: string) {
  return {
    accountId,
    envelopeId,
    status: e.status ?? null,
    envelope: {
      id: envelopeId,
      subject: e.emailSubject ?? null,
      status: e.status ?? null,
      sentAt: e.sentDateTime ?? null,
      completedAt: e.completedDateTime ?? null,
      declinedAt: e.declinedDateTime ?? null,
      voidedAt: e.voidedDateTime ?? null,
    },
    customFields: flatFields(e),
    recipients: recipientsOf(e),
    reason: reasonOf(e),
  };
}

/** One Connect JSON SIM message as hub events (a retried delivery has the same provider id: one event). */
export function normaliseConnect(msg: {
  event?: string;
  generatedDateTime?: string;
  data?: { accountId?: string; envelopeId?: string; recipientId?: string; envelopeSummary?: EnvelopeJson };
}): TriggeredEvent[] {
  const event = String(msg.event ?? '');
  const envelopeId = msg.data?.envelopeId;
  if (!envelopeId) return [];
  const summary: EnvelopeJson = msg.data?.envelopeSummary ?? {};
  const accountId = String(msg.data?.accountId ?? '');
  const base = envelopeData(accountId, summary, envelopeId);
  const m = /^envelope-(\w+)$/.exec(event);
  if (m && ENVELOPE_STATUSES.has(m[1]!)) {
    const status = m[1]!;
    return [
      {
        providerId: `${envelopeId}:envelope-${status}`,
        type: `docusign.envelope.${status}`,
        occurredAt: msg.generatedDateTime,
        subject: summary.emailSubject ?? null,
        data: { ...base, status, event, envelope: { ...base.envelope, status } },
        raw: msg,
        refs: [{ kind: 'docusign.envelope', id: envelopeId }],
      },
    ];
  }
  if (event === 'recipient-completed' && msg.data?.recipientId) {
    const rid = String(msg.data.recipientId);
    const r = base.recipients.find((x) => x.id === rid) ?? { id: rid };
    return [
      {
        providerId: `${envelopeId}:recipient-completed:${rid}`,
        type: 'docusign.recipient.completed',
        occurredAt: msg.generatedDateTime,
        subject: summary.emailSubject ?? null,
        data: { ...base, event, recipient: r },
        raw: msg,
        refs: [{ kind: 'docusign.envelope', id: envelopeId }],
      },
    ];
  }
  return [];
}

/** An envelope from listStatusChanges as the same events Connect would have given (same provider ids). */
export function normaliseStatusChange(accountId: string, e: EnvelopeJson): TriggeredEvent[] {
  if (!e.envelopeId) return [];
  const envelopeId = e.envelopeId;
  const base = envelopeData(accountId, e, envelopeId);
  const out: TriggeredEvent[] = [];
  for (const r of [...(e.recipients?.signers ?? [])]) {
    if (r.status === 'completed' && r.recipientId)
      out.push({
        providerId: `${envelopeId}:recipient-completed:${r.recipientId}`,
        type: 'docusign.recipient.completed',
        occurredAt: r.signedDateTime,
        subject: e.emailSubject ?? null,
        data: { ...base, event: 'recipient-completed', recipient: base.recipients.find((x) => x.id === r.recipientId) },
        raw: e,
        refs: [{ kind: 'docusign.envelope', id: envelopeId }],
      });
  }
  if (e.status && ENVELOPE_STATUSES.has(e.status))
    out.push({
      providerId: `${envelopeId}:envelope-${e.status}`,
      type: `docusign.envelope.${e.status}`,
      occurredAt: e.statusChangedDateTime,
      subject: e.emailSubject ?? null,
      data: { ...base, event: `envelope-${e.status}` },
      raw: e,
      refs: [{ kind: 'docusign.envelope', id: envelopeId }],
    });
  return out;
}
