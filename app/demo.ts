import fs from 'node:fs';
import path from 'node:path';
import { startSandbox } from '../sandbox/index.ts';
import { DEFAULT_APP, DEFAULT_TOKEN } from '../sandbox/trello/index.ts';
import { SEED } from '../sandbox/dingtalk/index.ts';
import { DEFAULT_APP as QBO_APP, DEFAULT_SANDBOX_REALM } from '../sandbox/quickbooks/index.ts';
import { createLogger } from '../core/logger.ts';
import { loadSettings } from '../core/settings.ts';
import { startHub } from './hub.ts';
import { combineConfigs, prepareGoogleDemo } from './demo-google.ts';

/**
 * `npm run demo`: the hub and every sandbox fake, offline, with the Trello ↔ DingTalk recipes on
 * (examples/trello-dingtalk.yaml): move a card in the Trello sandbox and watch the DingTalk group.
 */
const root = path.resolve(import.meta.dirname, '..');
const port = Number(process.env.PORT ?? 3000);
const sandbox = await startSandbox({ basePort: Number(process.env.SANDBOX_PORT ?? 4100) });
const { trello, dingtalk } = sandbox.urls;

const seeded = (await (
  await fetch(`${trello}/__sandbox/trello/boards`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Demo board', lists: ['To Do', 'Doing', 'Done'] }),
  })
).json()) as { board: { id: string }; lists: { id: string; name: string }[] };
const card = (await (
  await fetch(`${trello}/__sandbox/trello/cards`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ listName: 'To Do', idBoard: seeded.board.id, name: 'Try dingbridge' }),
  })
).json()) as { card: { id: string } };

const googleDemo = await prepareGoogleDemo(sandbox.urls.google);
const dataDir = process.env.DINGBRIDGE_DATA_DIR ?? path.join(root, 'data', 'demo');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...googleDemo.env,
  PORT: String(port),
  PUBLIC_URL: process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`,
  DINGBRIDGE_DATA_DIR: dataDir,
  DINGBRIDGE_CONFIG: combineConfigs(
    ['examples/trello-dingtalk.yaml', 'examples/google-dingtalk.yaml'].map((f) => path.join(root, f)),
    path.join(dataDir, 'demo-config.yaml'),
  ),
  DINGBRIDGE_EGRESS_ALLOW: process.env.DINGBRIDGE_EGRESS_ALLOW ?? '127.0.0.1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  TRELLO_API_KEY: DEFAULT_APP.key,
  TRELLO_TOKEN: DEFAULT_TOKEN,
  TRELLO_APP_SECRET: DEFAULT_APP.secret,
  TRELLO_BOARD_ID: seeded.board.id,
  TRELLO_BASE_URL: trello,
  TRELLO_AUTHORIZE_BASE_URL: trello,
  DINGTALK_ROBOT_TOKEN: SEED.robotToken,
  DINGTALK_ROBOT_SECRET: SEED.robotSecret,
  DINGTALK_APP_KEY: SEED.appKey,
  DINGTALK_APP_SECRET: SEED.appSecret,
  DINGTALK_CONVERSATION_ID: SEED.groupId,
  DINGTALK_BASE_URL: dingtalk,
  DINGTALK_OAPI_BASE_URL: dingtalk,
  DINGTALK_STREAM: 'true',
};
fs.mkdirSync(env.DINGBRIDGE_DATA_DIR!, { recursive: true });
const settings = loadSettings(env);
const hub = await startHub({ settings, env, logger: createLogger(settings.LOG_LEVEL) });
await triggersLive();
await seedQuickBooks();

const moveCmd = `curl -s -XPOST ${trello}/__sandbox/trello/cards/${card.card.id}/move -H 'content-type: application/json' -d '{"listName":"Doing"}'`;
const chatCmd = `curl -s -XPOST ${dingtalk}/__sandbox/dingtalk/chat -H 'content-type: application/json' -d '{"text":"trello add Fix the login page @Doing","conversationId":"${SEED.groupId}","conversationType":"2"}'`;
process.stdout.write(`
dingbridge demo — everything runs on this machine, no account and no network needed.

  Hub:                 ${hub.url?.replace('127.0.0.1', 'localhost')}  (the admin UI; API at /api/v1)
  DingTalk group page: ${dingtalk}/__sandbox/dingtalk/   (messages appear here)
  Trello board:        ${trello}/__sandbox/trello/state
  Google (Drive):      ${sandbox.urls.google}/__sandbox/google/state   (account demo@example.com)

Move a card on the Trello board (recipe 1 posts it to the DingTalk group):
  ${moveCmd}
Type a chat command in the DingTalk group (recipe 2 makes a card and answers with its link):
  ${chatCmd}
Put a file in the Google Drive folder "Team drop" (examples/google-dingtalk.yaml posts its name and link):
  ${googleDemo.uploadCmd}

Ctrl-C stops the demo.
${JSON.stringify({ hub: hub.url, dingtalkPage: `${dingtalk}/__sandbox/dingtalk/`, sandbox: sandbox.urls, board: seeded.board.id, card: card.card.id })}
`);

/**
 * "Ready" means the recipes can fire: the board's Trello webhook is registered and the DingTalk app's
 * Stream connection is open (seen from the fakes' side). On a busy machine that can take a while after
 * the hub answers, and a card moved before it would never reach the group.
 */
async function triggersLive(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const trelloState = (await (await fetch(`${trello}/__sandbox/trello/state`)).json()) as {
      webhooks: { idModel: string; active?: boolean }[];
    };
    const streams = (await (await fetch(`${dingtalk}/__sandbox/dingtalk/stream/connections`)).json()) as {
      connections: { appKey: string }[];
    };
    const webhookLive = trelloState.webhooks.some((w) => w.idModel === seeded.board.id && w.active !== false);
    const streamLive = streams.connections.some((c) => c.appKey === SEED.appKey);
    if (webhookLive && streamLive) return;
    if (Date.now() > deadline) {
      process.stderr.write(
        `the demo's triggers did not come up within 120 s (Trello webhook: ${webhookLive}, DingTalk stream: ${streamLive}); see the hub's log (LOG_LEVEL=info)\n`,
      );
      await hub.stop();
      await sandbox.stop();
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stop = async () => {
  await hub.stop();
  await sandbox.stop();
  process.exit(0);
};
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

/**
 * A QuickBooks company (the sandbox's, home currency HKD) connected through a registered Intuit app, with
 * the app's webhooks pointed at the hub: flows on `quickbooks.*` events and the QuickBooks actions work.
 */
async function seedQuickBooks(): Promise<void> {
  const qbo = sandbox.urls.quickbooks;
  const ctl = (p: string, method: string, body: unknown) =>
    fetch(`${qbo}/__sandbox/quickbooks${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tokens = (await (await ctl(`/apps/${QBO_APP.id}/connect`, 'POST', { realmId: DEFAULT_SANDBOX_REALM })).json()) as {
    refresh_token: string;
  };
  await ctl(`/apps/${QBO_APP.id}`, 'PATCH', { webhookUrl: `${env.PUBLIC_URL}/webhooks/quickbooks` });
  const store = hub.runtime.connections.store;
  if (await store.get('quickbooks')) return;
  const app =
    (await store.apps.get('intuit-demo')) ??
    (await store.apps.create({
      id: 'intuit-demo',
      connectorId: 'quickbooks',
      label: 'Intuit app (sandbox)',
      environment: 'sandbox',
      clientId: QBO_APP.sandbox.clientId,
      secrets: { clientSecret: QBO_APP.sandbox.clientSecret, webhookVerifierToken: QBO_APP.verifierToken },
    }));
  await store.create({
    id: 'quickbooks',
    connectorId: 'quickbooks',
    label: 'QuickBooks (sandbox company, HKD)',
    appId: app.id,
    settings: {
      realmId: DEFAULT_SANDBOX_REALM,
      environment: 'sandbox',
      homeCurrency: 'HKD',
      baseUrl: qbo,
      oauthBaseUrl: qbo,
      authorizeBaseUrl: qbo,
    },
    secrets: { refreshToken: tokens.refresh_token },
  });
}
