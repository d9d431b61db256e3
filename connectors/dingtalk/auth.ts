import oauth2Pkg from '@alicloud/dingtalk/dist/oauth2_1_0/client.js';
import type { AppCredentialsAuthKind, WebhookSecretAuthKind } from '../../core/auth-kinds.ts';
import { needsReauth, permanent } from '../../core/errors.ts';
import { isExpiredTokenBody, mapSdkError, type SdkError } from './errors.ts';
import { client, runtimeOptions } from './sdk.ts';

/**
 * A DingTalk app (an internal enterprise app): appKey/appSecret give the app access token (new API
 * `POST /v1.0/oauth2/accessToken` through the SDK's oauth2_1_0 client). The vault keeps the token in the
 * connection's row, refreshed ahead of its 7200 s expiry and single-flight across processes, so every
 * process shares one token.
 */
export const appAuth: AppCredentialsAuthKind = {
  kind: 'app_credentials',
  appFields: { clientId: 'appKey', clientSecret: 'appSecret', webhookVerifierToken: 'callbackToken' },
  fields: [
    { key: 'appKey', label: 'AppKey (Client ID)', required: true },
    { key: 'appSecret', label: 'AppSecret (Client Secret)', secret: true, required: true },
    {
      key: 'robotCode',
      label: 'Robot code (the app robot; usually the AppKey)',
      description: 'Needed by message.sendToUsers / sendToGroup; defaults to the AppKey.',
    },
    { key: 'agentId', label: 'AgentId', description: "The app's agent id (approval.start sends it as microappAgentId)." },
    { key: 'corpId', label: 'CorpId', description: 'Accepted as the owner key of HTTP callbacks.' },
    {
      key: 'callbackToken',
      label: 'Event subscription token',
      secret: true,
      description: 'HTTP event subscription: the token set in the developer console.',
    },
    { key: 'callbackAesKey', label: 'Event subscription aes_key (EncodingAESKey, 43 characters)', secret: true },
    {
      key: 'ownerKey',
      label: 'Callback owner key',
      description: "Defaults to the AppKey (an app's event subscription); a third-party app uses its suiteKey.",
    },
    { key: 'suiteKey', label: 'SuiteKey (third-party apps)' },
    {
      key: 'stream',
      label: 'Receive events by Stream mode (true/false)',
      description: 'No public URL needed: one process of the hub holds a WebSocket to DingTalk. Recommended for robot messages.',
    },
    {
      key: 'allowedSenders',
      label: 'Senders allowed to give privileged chat commands',
      description:
        'DingTalk userIds (staffIds), comma-separated. A robot message from one of them has data.senderAllowed = true; flows whose commands change money or access must require it.',
    },
    {
      key: 'robotToleranceSeconds',
      label: 'HTTP robot callback tolerance (seconds)',
      description: "How old a robot callback's timestamp may be (30–3600, default 300). Each timestamp/sign pair is accepted once.",
    },
    { key: 'baseUrl', label: 'New API base URL', description: 'Default DINGTALK_BASE_URL (https://api.dingtalk.com).' },
    { key: 'oapiBaseUrl', label: 'Old API base URL', description: 'Default DINGTALK_OAPI_BASE_URL (https://oapi.dingtalk.com).' },
  ],
  async fetchToken(conn) {
    const appKey = String(conn.settings.appKey ?? '');
    const appSecret = conn.secrets.appSecret ?? '';
    if (!appKey || !appSecret) throw Object.assign(new Error('appKey and appSecret are required'), { reauth: true });
    const c = client(oauth2Pkg.default, conn.settings);
    try {
      const res = await c.getAccessTokenWithOptions(new oauth2Pkg.GetAccessTokenRequest({ appKey, appSecret }), {}, runtimeOptions(10_000));
      const token = res.body?.accessToken;
      if (!token) throw new Error('DingTalk returned no accessToken');
      return { accessToken: token, expiresIn: Number(res.body?.expireIn ?? 7200) || 7200 };
    } catch (err) {
      const e = err as SdkError;
      // Wrong credentials: no retry helps, the admin must fix them.
      if (e.statusCode !== undefined && e.statusCode < 500 && e.statusCode !== 429) {
        throw Object.assign(
          new Error(
            `DingTalk refused the app credentials: ${e.code ?? e.statusCode} ${String(e.data?.message ?? e.message).replace(/\s+request id: .*$/, '')}`,
          ),
          { reauth: true },
        );
      }
      throw new Error(`DingTalk token endpoint failed: ${e.code ?? ''} ${e.message}`.trim());
    }
  },
  expiry: { body: (_status, body) => isExpiredTokenBody(body) },
  /**
   * Says which credential is wrong, by the code the UI translates (connectors/dingtalk/i18n.ts
   * `errors`): the Client ID's shape, the aes_key's length, then DingTalk's answer to the pair. DingTalk
   * answers one code (invalidClientIdOrSecret) for an unknown Client ID and for a wrong secret; a Client
   * ID of the right shape makes the secret the likely one.
   */
  async test(conn) {
    const appKey = String(conn.settings.appKey ?? '').trim();
    const secrets = await conn.secrets();
    if (!/^ding[0-9a-z]{6,40}$/i.test(appKey))
      throw permanent(`the Client ID (AppKey) "${appKey.slice(0, 40)}" does not look like a DingTalk one (ding…)`, {
        code: 'app_key_format',
      });
    if (secrets.callbackAesKey && secrets.callbackAesKey.length !== 43)
      throw permanent(`the event subscription aes_key has ${secrets.callbackAesKey.length} characters, not 43`, {
        code: 'callback_aes_key_length',
      });
    const c = client(oauth2Pkg.default, conn.settings);
    try {
      const res = await c.getAccessTokenWithOptions(
        new oauth2Pkg.GetAccessTokenRequest({ appKey, appSecret: secrets.appSecret ?? '' }),
        {},
        runtimeOptions(10_000),
      );
      if (!res.body?.accessToken) throw new Error('DingTalk returned no accessToken');
    } catch (err) {
      const e = err as SdkError;
      const code = e.code ?? (e.data?.code as string | undefined);
      if (code === 'invalidClientIdOrSecret' || code === 'MissingappSecret')
        throw needsReauth('DingTalk refused the Client Secret (AppSecret) for this Client ID (AppKey)', {
          code: 'invalidClientIdOrSecret',
        });
      throw mapSdkError('testing the app credentials', err);
    }
    const token = await conn.accessToken();
    return { tokenPresent: Boolean(token), appKey };
  },
};

/**
 * A custom group robot (old API, no SDK): its access token, and the signing secret (`SEC…`) when the
 * robot's security setting is "signature". A robot in keyword mode only accepts messages that contain
 * one of its keywords: list them in `keywords` so the hub refuses others before sending.
 */
export const robotAuth: WebhookSecretAuthKind = {
  kind: 'webhook_secret',
  fields: [
    { key: 'accessToken', label: 'Robot access token (from the webhook URL)', secret: true, required: true },
    { key: 'secret', label: 'Signing secret (SEC…), when the robot signs', secret: true },
    { key: 'keywords', label: 'Keywords (comma-separated), when the robot is in keyword mode' },
    { key: 'rateLimit', label: 'Messages per window (DingTalk: 20)', default: '20' },
    { key: 'rateWindowMs', label: 'Window in ms (DingTalk: 60000)', default: '60000' },
    { key: 'oapiBaseUrl', label: 'Old API base URL', description: 'Default DINGTALK_OAPI_BASE_URL (https://oapi.dingtalk.com).' },
  ],
};
