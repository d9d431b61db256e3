import crypto from 'node:crypto';
import type { TrelloState, TrelloAction, TrelloWebhook, TrelloDelivery } from './state.ts';
import { now } from './state.ts';

/** X-Trello-Webhook: base64(HMAC-SHA1(app secret, body + callbackURL)), body as UTF-8. */
export function trelloSignature(secret: string, body: string, callbackURL: string): string {
  return crypto
    .createHmac('sha1', secret)
    .update(Buffer.from(body + callbackURL, 'utf8'))
    .digest('base64');
}

/** HEAD check Trello makes before creating a webhook: resolves to the status code, or an error text. */
export async function headCheck(url: string, timeoutMs: number): Promise<{ ok: boolean; status?: number; error?: string }> {
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return { ok: res.status === 200, status: res.status };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

// Unref'd: a pending retry never keeps a stopped fake's process alive.
const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });

/**
 * Posts `{action, model}` to every active webhook watching one of the action's models. Deliveries for
 * one board are chained so they arrive in order; a failing delivery is retried (settings.retryDelaysMs)
 * before the next one for that board goes out.
 */
export function fanOut(
  getState: () => TrelloState,
  st: TrelloState,
  action: TrelloAction,
  actionBody: unknown,
  modelFor: (idModel: string) => unknown,
): void {
  const boardId = String((action.data.board as { id?: string } | undefined)?.id ?? action.models[0] ?? 'none');
  for (const w of [...st.webhooks.values()]) {
    if (!w.active || !action.models.includes(w.idModel)) continue;
    const tok = st.tokens.get(w.token);
    if (!tok || tok.revoked) continue;
    const app = st.apps.get(w.key);
    if (!app) continue;
    const body = JSON.stringify({ action: actionBody, model: modelFor(w.idModel) });
    const delivery: TrelloDelivery = {
      id: st.nextDeliveryId++,
      webhookId: w.id,
      callbackURL: w.callbackURL,
      actionId: action.id,
      actionType: action.type,
      idModel: w.idModel,
      boardId,
      body,
      signature: trelloSignature(app.secret, body, w.callbackURL),
      attempts: [],
      status: 'pending',
    };
    st.deliveries.push(delivery);
    if (st.deliveries.length > 5000) st.deliveries.shift();
    st.pending += 1;
    const prev = st.chains.get(boardId) ?? Promise.resolve();
    const next = prev
      .then(() => deliver(getState, st, w, delivery))
      .catch(() => undefined)
      .finally(() => {
        st.pending -= 1;
      });
    st.chains.set(boardId, next);
  }
}

async function deliver(getState: () => TrelloState, st: TrelloState, w: TrelloWebhook, d: TrelloDelivery): Promise<void> {
  const delays = st.settings.retryDelaysMs;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (st.stopped || getState() !== st) return;
    if (!st.webhooks.has(w.id)) {
      d.status = 'webhook_deleted';
      return;
    }
    const started = Date.now();
    const rec: { at: string; status?: number; error?: string; durationMs: number } = { at: now(), durationMs: 0 };
    d.attempts.push(rec);
    try {
      const res = await fetch(d.callbackURL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-trello-webhook': d.signature, 'user-agent': 'Trello' },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(st.settings.deliveryTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      rec.status = res.status;
    } catch (err) {
      rec.error = (err as Error).message;
    }
    rec.durationMs = Date.now() - started;
    if (rec.status !== undefined && rec.status >= 200 && rec.status < 300) {
      d.status = 'delivered';
      w.consecutiveFailures = 0;
      w.firstConsecutiveFailDate = null;
      return;
    }
    if (rec.status === 410) {
      // Trello deletes a webhook at once when its callback answers 410 Gone.
      st.webhooks.delete(w.id);
      d.status = 'webhook_deleted';
      return;
    }
    w.consecutiveFailures += 1;
    w.firstConsecutiveFailDate ??= rec.at;
    if (w.consecutiveFailures >= st.settings.disableAfterFailures) w.active = false;
    if (attempt < delays.length) await sleep(delays[attempt] ?? 0);
  }
  d.status = 'failed';
}

/** Resolves when no delivery is pending (or after timeoutMs). */
export async function drain(st: TrelloState, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (st.pending > 0 && Date.now() < until) {
    await Promise.race([Promise.all([...st.chains.values()]), sleep(25)]);
  }
  return st.pending === 0;
}
