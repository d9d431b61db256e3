import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { DEFAULT_GOOGLE_CLIENT } from '../sandbox/google/index.ts';
import type { Hub } from '../app/hub.ts';
import { StepError } from '../core/errors.ts';

/** Shared by the Google Drive/Gmail/Directory suites: the fake's control API, a refresh token by consent, actions run directly. */

export const WORKSPACE_SCOPES = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/gmail.modify',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
];

export function googleControl(base: string) {
  return async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path.startsWith('/__sandbox') ? '' : '/__sandbox/google'}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

/** What an operator does once to fill GOOGLE_REFRESH_TOKEN: consent with offline access, exchange the code. */
export async function consentRefreshToken(base: string, scopes = WORKSPACE_SCOPES): Promise<string> {
  const redirect = 'http://127.0.0.1:9/oauth/callback';
  const url = new URL(`${base}/o/oauth2/v2/auth`);
  url.search = new URLSearchParams({
    client_id: DEFAULT_GOOGLE_CLIENT.clientId,
    redirect_uri: redirect,
    response_type: 'code',
    scope: scopes.join(' '),
    access_type: 'offline',
    prompt: 'consent',
    state: 's',
  }).toString();
  const page = await fetch(url, { redirect: 'manual' });
  assert.equal(page.status, 302, await page.text());
  const code = new URL(page.headers.get('location')!).searchParams.get('code')!;
  const token = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      client_id: DEFAULT_GOOGLE_CLIENT.clientId,
      client_secret: DEFAULT_GOOGLE_CLIENT.clientSecret,
    }),
  });
  const json = (await token.json()) as { refresh_token?: string };
  assert.ok(json.refresh_token, JSON.stringify(json));
  return json.refresh_token;
}

/** The config lines of a Google connection declared with a refresh token (as examples/google-dingtalk.yaml does). */
export const googleConnectionYaml = (base: string, refreshToken: string, id = 'google') => `
  - id: ${id}
    connector: google
    label: Google
    settings:
      clientId: ${DEFAULT_GOOGLE_CLIENT.clientId}
      baseUrl: ${base}
      oauthBaseUrl: ${base}
    secrets:
      clientSecret: ${DEFAULT_GOOGLE_CLIENT.clientSecret}
      refreshToken: ${refreshToken}
`;

/** Runs an action of the hub directly against a connection: the step runner's context with the hub's file store. */
export async function runAction(
  hub: Hub,
  actionId: string,
  input: unknown,
  idempotencyKey: string = crypto.randomUUID(),
  connectionId = 'google',
) {
  const action = hub.runtime.registry.action(actionId);
  assert.ok(action, `action ${actionId} exists`);
  const files = hub.runtime.files;
  return action.run(
    {
      connection: await hub.runtime.connections.handle(connectionId),
      idempotencyKey,
      attempt: 1,
      log: hub.runtime.log,
      timeoutMs: 10_000,
      trace: () => {},
      files: { put: (c, m) => files.put(c, m), open: (r) => files.open(r) },
    },
    action.input.parse(input),
  ) as Promise<any>;
}

export async function stepError(p: Promise<unknown>): Promise<StepError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StepError, `a StepError, got ${(err as Error)?.stack ?? String(err)}`);
    return err;
  }
  assert.fail('expected the action to fail');
}
