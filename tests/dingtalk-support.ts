import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Hub } from '../app/hub.ts';
import { StepError } from '../core/errors.ts';
import type { RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';

/** Shared by the DingTalk suites: the test's own DingTalk callback crypto (not the hub's, not the fake's). */
export const dt = {
  sign(token: string, ts: string, nonce: string, encrypt: string): string {
    return crypto.createHash('sha1').update([token, ts, nonce, encrypt].sort().join('')).digest('hex');
  },
  key(aesKey: string): Buffer {
    return Buffer.from(`${aesKey}=`, 'base64');
  },
  /** Encrypts with a chosen block size for the padding (32 as DingTalk; 16 gives a pad of 1..16). */
  encrypt(aesKey: string, text: string, owner: string, block = 32, forcePad?: number): string {
    const key = dt.key(aesKey);
    const msg = Buffer.from(text, 'utf8');
    const head = crypto.randomBytes(20);
    head.writeUInt32BE(msg.length, 16);
    let plain = Buffer.concat([head, msg, Buffer.from(owner, 'utf8')]);
    const pad = forcePad ?? block - (plain.length % block);
    plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
    assert.equal(plain.length % 16, 0, 'test padding must give whole AES blocks');
    const c = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([c.update(plain), c.final()]).toString('base64');
  },
  decrypt(aesKey: string, encrypt: string): { text: string; owner: string } {
    const key = dt.key(aesKey);
    const d = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const buf = Buffer.concat([d.update(encrypt, 'base64'), d.final()]);
    const pad = buf.at(-1)!;
    assert.ok(pad >= 1 && pad <= 32, 'pad in 1..32');
    const n = buf.readUInt32BE(16);
    return { text: buf.subarray(20, 20 + n).toString('utf8'), owner: buf.subarray(20 + n, buf.length - pad).toString('utf8') };
  },
};

export const randomAesKey = () => crypto.randomBytes(32).toString('base64').replace(/[+/]/g, 'A').slice(0, 43);

/** POSTs an encrypted callback to the hub the way DingTalk does; returns the answer and how long it took. */
export async function postCallback(
  url: string,
  o: {
    token: string;
    aesKey: string;
    owner: string;
    payload: unknown;
    encrypt?: string;
    forgeSignature?: boolean;
    block?: number;
    forcePad?: number;
  },
) {
  const encrypt = o.encrypt ?? dt.encrypt(o.aesKey, JSON.stringify(o.payload), o.owner, o.block, o.forcePad);
  const timestamp = String(Date.now());
  const nonce = crypto.randomBytes(4).toString('hex');
  let sig = dt.sign(o.token, timestamp, nonce, encrypt);
  if (o.forgeSignature) sig = dt.sign(`${o.token}x`, timestamp, nonce, encrypt);
  const started = Date.now();
  const res = await fetch(`${url}?msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encrypt }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, ms: Date.now() - started, encrypt };
}

/** Checks an answer is DingTalk's encrypted `success` with the test's own crypto. */
export function assertSuccessReply(json: any, token: string, aesKey: string, owner: string): void {
  assert.equal(typeof json?.encrypt, 'string', `an encrypted reply: ${JSON.stringify(json)}`);
  assert.equal(dt.sign(token, json.timeStamp, json.nonce, json.encrypt), json.msg_signature, "the reply's signature verifies");
  const { text, owner: got } = dt.decrypt(aesKey, json.encrypt);
  assert.equal(text, 'success');
  assert.equal(got, owner);
}

/** Runs an action of the hub directly against a connection (the step runner's context, minus the pipeline). */
export async function runAction(
  hub: Hub,
  actionId: string,
  connectionId: string,
  input: unknown,
  idempotencyKey: string = crypto.randomUUID(),
): Promise<any> {
  const action = hub.runtime.registry.action(actionId);
  assert.ok(action, `action ${actionId} exists`);
  const parsed = action.input.parse(input);
  return action.run(
    {
      connection: await hub.runtime.connections.handle(connectionId),
      idempotencyKey,
      attempt: 1,
      log: hub.runtime.log,
      timeoutMs: 5000,
      trace: () => {},
    },
    parsed,
  );
}

export async function stepError(p: Promise<unknown>): Promise<StepError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StepError, `a StepError, got ${(err as Error)?.stack ?? err}`);
    return err;
  }
  assert.fail('expected the action to fail');
}

export async function addFault(fake: RunningDingtalkFake, spec: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  assert.equal(r.status, 201, await r.text());
}

export async function calls(
  fake: RunningDingtalkFake,
  path: string,
): Promise<Array<{ method: string; path: string; headers: Record<string, string> }>> {
  const r = await fetch(`${fake.baseUrl()}/__sandbox/calls?path=${encodeURIComponent(path)}`);
  return ((await r.json()) as { calls: Array<{ method: string; path: string; headers: Record<string, string> }> }).calls;
}
