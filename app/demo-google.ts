import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_GOOGLE_CLIENT } from '../sandbox/google/index.ts';

/**
 * The demo's Google account (`npm run demo`): the signed-in user of the Google fake consents once with
 * offline access (as an operator does to fill GOOGLE_REFRESH_TOKEN), a "Team drop" folder is made in its
 * Drive, and examples/google-dingtalk.yaml runs beside the other examples: a file put in the folder is
 * posted to the DingTalk group.
 */
export async function prepareGoogleDemo(google: string): Promise<{ env: Record<string, string>; folderId: string; uploadCmd: string }> {
  const redirect = 'http://127.0.0.1:9/oauth/callback';
  const consent = new URL(`${google}/o/oauth2/v2/auth`);
  consent.search = new URLSearchParams({
    client_id: DEFAULT_GOOGLE_CLIENT.clientId,
    redirect_uri: redirect,
    response_type: 'code',
    scope: 'openid email https://www.googleapis.com/auth/drive https://www.googleapis.com/auth/gmail.modify',
    access_type: 'offline',
    prompt: 'consent',
  }).toString();
  const code = new URL((await fetch(consent, { redirect: 'manual' })).headers.get('location') ?? '').searchParams.get('code') ?? '';
  const token = (await (
    await fetch(`${google}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirect,
        client_id: DEFAULT_GOOGLE_CLIENT.clientId,
        client_secret: DEFAULT_GOOGLE_CLIENT.clientSecret,
      }),
    })
  ).json()) as { refresh_token?: string };
  if (!token.refresh_token) throw new Error('the Google fake gave the demo no refresh token');
  const folder = (await (
    await fetch(`${google}/__sandbox/google/files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ owner: 'demo@example.com', name: 'Team drop', mimeType: 'application/vnd.google-apps.folder' }),
    })
  ).json()) as { id: string };
  return {
    env: {
      GOOGLE_CLIENT_ID: DEFAULT_GOOGLE_CLIENT.clientId,
      GOOGLE_CLIENT_SECRET: DEFAULT_GOOGLE_CLIENT.clientSecret,
      GOOGLE_REFRESH_TOKEN: token.refresh_token,
      GOOGLE_DRIVE_FOLDER_ID: folder.id,
      GOOGLE_BASE_URL: google,
      GOOGLE_OAUTH_BASE_URL: google,
      // The demo polls Drive every 5 s instead of every minute.
      DINGBRIDGE_POLL_INTERVAL_MS: process.env.DINGBRIDGE_POLL_INTERVAL_MS ?? '5000',
    },
    folderId: folder.id,
    uploadCmd: `curl -s -XPOST ${google}/__sandbox/google/files -H 'content-type: application/json' -d '{"owner":"demo@example.com","name":"Q4 report.pdf","parents":["${folder.id}"],"content":"%PDF demo"}'`,
  };
}

/** Several example configs as one (connections by id, first wins; recipes and flows one after another), written to `out`. */
export function combineConfigs(files: string[], out: string): string {
  const merged: { version: number; connections: { id: string }[]; recipes: unknown[]; flows: unknown[]; hooks: unknown[] } = {
    version: 1,
    connections: [],
    recipes: [],
    flows: [],
    hooks: [],
  };
  for (const file of files) {
    const doc = parse(fs.readFileSync(file, 'utf8')) as Partial<typeof merged>;
    for (const c of doc.connections ?? []) if (!merged.connections.some((m) => m.id === c.id)) merged.connections.push(c);
    merged.recipes.push(...(doc.recipes ?? []));
    merged.flows.push(...(doc.flows ?? []));
    merged.hooks.push(...(doc.hooks ?? []));
  }
  const clean = Object.fromEntries(Object.entries(merged).filter(([, v]) => !Array.isArray(v) || v.length));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `# Written by npm run demo from: ${files.map((f) => path.basename(f)).join(', ')}\n${stringify(clean)}`);
  return out;
}
