import crypto from 'node:crypto';
import type { QboState, QboApp, PendingEvent, Delivery, DeliveryAttempt } from './state.ts';
import { qboTime } from './state.ts';

/** intuit-signature: base64(HMAC-SHA256(verifier token, raw body)). */
export function intuitSignature(verifierToken: string, body: string | Buffer): string {
  return crypto.createHmac('sha256', verifierToken).update(body).digest('base64');
}

const PAST: Record<PendingEvent['operation'], string> = {
  Create: 'created',
  Update: 'updated',
  Delete: 'deleted',
  Void: 'voided',
  Merge: 'merged',
};
const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });

/** Queues a change for every app connected to the company; a timer per app sends the batch. */
export function enqueue(st: QboState, apps: QboApp[], ev: PendingEvent): void {
  for (const app of apps) {
    if (!app.webhookUrl) continue;
    if (app.webhookEntities.length && !app.webhookEntities.some((n) => n.toLowerCase() === ev.type.toLowerCase())) continue;
    if (Date.now() < app.dropUntil) continue;
    const q = st.pending.get(app.id) ?? [];
    q.push(ev);
    st.pending.set(app.id, q);
    if (!st.timers.has(app.id)) {
      const t = setTimeout(() => {
        st.timers.delete(app.id);
        flushApp(st, app);
      }, app.batchIntervalMs);
      t.unref();
      st.timers.set(app.id, t);
    }
  }
}

/** Bodies for one batch: legacy is one POST grouped by realm; CloudEvents are arrays of up to 100. */
export function payloads(app: QboApp, events: PendingEvent[]): string[] {
  if (app.webhookFormat === 'legacy') {
    const byRealm = new Map<string, PendingEvent[]>();
    for (const e of events) byRealm.set(e.realmId, [...(byRealm.get(e.realmId) ?? []), e]);
    return [
      JSON.stringify({
        eventNotifications: [...byRealm].map(([realmId, evs]) => ({
          realmId,
          dataChangeEvent: {
            entities: evs.map((e) => ({
              name: e.type,
              id: e.id,
              operation: e.operation,
              lastUpdated: qboTime(e.at),
              ...(e.deletedId ? { deletedId: e.deletedId } : {}),
            })),
          },
        })),
      }),
    ];
  }
  const source = 'intuit.' + crypto.createHash('sha256').update(app.id).digest('base64');
  const out: string[] = [];
  for (let i = 0; i < events.length; i += 100) {
    out.push(
      JSON.stringify(
        events.slice(i, i + 100).map((e) => ({
          specversion: '1.0',
          id: crypto.randomUUID(),
          source,
          type: `qbo.${e.type.toLowerCase()}.${PAST[e.operation]}.v1`,
          datacontenttype: 'application/json',
          time: new Date(e.at).toISOString(),
          intuitentityid: e.id,
          intuitaccountid: e.realmId,
          data: {},
        })),
      ),
    );
  }
  return out;
}

export function flushApp(st: QboState, app: QboApp): void {
  const t = st.timers.get(app.id);
  if (t) {
    clearTimeout(t);
    st.timers.delete(app.id);
  }
  const events = st.pending.get(app.id) ?? [];
  st.pending.delete(app.id);
  if (!events.length || !app.webhookUrl) return;
  for (const body of payloads(app, events)) {
    const d: Delivery = {
      id: st.nextDeliveryId++,
      appId: app.id,
      url: app.webhookUrl,
      format: app.webhookFormat,
      body,
      signature: intuitSignature(app.verifierToken, body),
      events: app.webhookFormat === 'legacy' ? events.length : (JSON.parse(body) as unknown[]).length,
      attempts: [],
      status: 'pending',
    };
    st.deliveries.push(d);
    if (st.deliveries.length > 2000) st.deliveries.shift();
    st.activeDeliveries += 1;
    void deliver(st, d).finally(() => {
      st.activeDeliveries -= 1;
    });
  }
}

export function flushAll(st: QboState): void {
  for (const app of st.apps.values()) flushApp(st, app);
}

/** Posts until a 200 arrives within the timeout, retrying after settings.retryDelaysMs. */
async function deliver(st: QboState, d: Delivery): Promise<void> {
  const delays = st.settings.retryDelaysMs;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (st.stopped) return;
    const started = Date.now();
    const rec: DeliveryAttempt = { at: new Date().toISOString(), durationMs: 0 };
    d.attempts.push(rec);
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'intuit-signature': d.signature, 'user-agent': 'Intuit-Webhooks' },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(st.settings.deliveryTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      rec.status = res.status;
    } catch (err) {
      rec.error = (err as Error).name === 'TimeoutError' ? `no answer within ${st.settings.deliveryTimeoutMs} ms` : (err as Error).message;
    }
    rec.durationMs = Date.now() - started;
    if (rec.status === 200) {
      d.status = 'delivered';
      return;
    }
    if (attempt < delays.length) await sleep(delays[attempt] ?? 0);
  }
  d.status = 'failed';
}
