import crypto from 'node:crypto';
import type { ConnectDelivery, DsState, Envelope, ConnectConfig } from './state.ts';
import { nowIso } from './state.ts';

/** X-DocuSign-Signature-N: base64(HMAC-SHA256(key, raw body)). */
export function connectSignature(key: string, body: string | Buffer): string {
  return crypto.createHmac('sha256', key).update(body).digest('base64');
}

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });

export interface Publish {
  event: string;
  envelope: Envelope;
  recipientId?: string;
  summary: (includeData: string[]) => Record<string, unknown>;
}

/**
 * Sends one JSON SIM message per listener (account-level configurations subscribed to the event, and the
 * envelope's own eventNotification). Messages for one envelope go out in order; an unacknowledged one
 * (no 2xx) is retried after settings.connectRetryDelaysMs with retryCount raised, when the listener asks
 * for acknowledgement.
 */
export function publish(getState: () => DsState, st: DsState, p: Publish): void {
  const acct = st.accounts.get(p.envelope.accountId);
  if (!acct) return;
  const listeners: { configurationId: string; url: string; ack: boolean; hmac: boolean; includeData: string[] }[] = [];
  for (const c of acct.connect.values()) {
    if (c.disabled || !c.events.includes(p.event)) continue;
    if (!c.allUsers && !c.userIds.includes(p.envelope.senderUserId)) continue;
    listeners.push({
      configurationId: c.connectId,
      url: c.urlToPublishTo,
      ack: c.requiresAcknowledgement,
      hmac: c.includeHMAC,
      includeData: c.includeData,
    });
  }
  const en = p.envelope.eventNotification;
  if (en?.events.includes(p.event)) {
    // Envelope-level notifications carry no configuration of the account; DocuSign sends a per-envelope id.
    listeners.push({ configurationId: '0', url: en.url, ack: en.requireAcknowledgment, hmac: en.includeHMAC, includeData: en.includeData });
  }
  for (const l of listeners) {
    const data: Record<string, unknown> = {
      accountId: p.envelope.accountId,
      userId: p.envelope.senderUserId,
      envelopeId: p.envelope.envelopeId,
    };
    if (p.recipientId) data.recipientId = p.recipientId;
    if (l.includeData.length > 0) data.envelopeSummary = p.summary(l.includeData);
    const payload: Record<string, unknown> = {
      event: p.event,
      apiVersion: 'v2.1',
      uri: `/restapi/v2.1/accounts/${p.envelope.accountId}/envelopes/${p.envelope.envelopeId}`,
      retryCount: 0,
      configurationId: Number(l.configurationId),
      generatedDateTime: nowIso(),
      data,
    };
    const d: ConnectDelivery = {
      id: st.nextDeliveryId++,
      accountId: p.envelope.accountId,
      envelopeId: p.envelope.envelopeId,
      event: p.event,
      url: l.url,
      configurationId: l.configurationId,
      body: '',
      signatures: [],
      attempts: [],
      status: 'pending',
      requiresAcknowledgement: l.ack,
      payload,
      includeHMAC: l.hmac,
    };
    st.deliveries.push(d);
    if (st.deliveries.length > 5000) st.deliveries.shift();
    enqueue(getState, st, d);
  }
}

const chains = new WeakMap<DsState, Map<string, Promise<void>>>();

export function enqueue(getState: () => DsState, st: DsState, d: ConnectDelivery): void {
  let byEnvelope = chains.get(st);
  if (!byEnvelope) {
    byEnvelope = new Map();
    chains.set(st, byEnvelope);
  }
  st.pending += 1;
  const prev = byEnvelope.get(d.envelopeId) ?? Promise.resolve();
  const next = prev
    .then(() => deliver(getState, st, d))
    .catch(() => undefined)
    .finally(() => {
      st.pending -= 1;
    });
  byEnvelope.set(d.envelopeId, next);
}

function sign(st: DsState, d: ConnectDelivery): void {
  d.body = JSON.stringify(d.payload);
  const keys = d.includeHMAC ? (st.accounts.get(d.accountId)?.hmacKeys ?? []).filter((k) => k.active) : [];
  d.signatures = keys.map((k) => connectSignature(k.key, d.body));
}

async function deliver(getState: () => DsState, st: DsState, d: ConnectDelivery): Promise<void> {
  const delays = st.settings.connectRetryDelaysMs;
  const start = d.attempts.length;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (st.stopped || getState() !== st) return;
    d.payload.retryCount = start + attempt;
    sign(st, d);
    const rec: { at: string; status?: number; error?: string } = { at: nowIso() };
    d.attempts.push(rec);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'DocuSign Connect' };
    d.signatures.forEach((s, i) => {
      headers[`x-docusign-signature-${i + 1}`] = s;
    });
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers,
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(st.settings.connectTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      rec.status = res.status;
    } catch (err) {
      rec.error = (err as Error).message;
    }
    if (rec.status !== undefined && rec.status >= 200 && rec.status < 300) {
      d.status = 'delivered';
      return;
    }
    if (!d.requiresAcknowledgement) {
      d.status = 'not_acknowledged';
      return;
    }
    if (attempt < delays.length) await sleep(delays[attempt] ?? 0);
  }
  d.status = 'failed';
}

export async function drain(st: DsState, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (st.pending > 0 && Date.now() < until) await sleep(25);
  return st.pending === 0;
}

export const SIM_EVENTS = [
  'envelope-created',
  'envelope-sent',
  'envelope-delivered',
  'envelope-completed',
  'envelope-declined',
  'envelope-voided',
  'envelope-resent',
  'recipient-sent',
  'recipient-delivered',
  'recipient-completed',
  'recipient-declined',
  'recipient-resent',
];

export function configJson(c: ConnectConfig): Record<string, unknown> {
  return {
    connectId: c.connectId,
    name: c.name,
    urlToPublishTo: c.urlToPublishTo,
    configurationType: c.configurationType,
    allUsers: String(c.allUsers),
    userIds: c.userIds,
    events: c.events,
    requiresAcknowledgement: String(c.requiresAcknowledgement),
    includeHMAC: String(c.includeHMAC),
    disabled: String(c.disabled),
    deliveryMode: c.deliveryMode,
    eventData: { version: 'restv2.1', format: 'json', includeData: c.includeData },
  };
}
