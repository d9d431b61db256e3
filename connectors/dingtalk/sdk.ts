import * as $OpenApi from '@alicloud/openapi-client';
import * as $Util from '@alicloud/tea-util';
import type { ConnectionHandle } from '../../core/connector.ts';
import { mapSdkError, type SdkError } from './errors.ts';

/**
 * The official SDK (@alicloud/dingtalk, one client per API module) pointed at the configured hosts.
 * DINGTALK_BASE_URL / DINGTALK_OAPI_BASE_URL are the defaults; a connection's `baseUrl` / `oapiBaseUrl`
 * settings win (read at call time, so a test or a region can change them).
 */
export const DEFAULT_BASE_URL = 'https://api.dingtalk.com';
export const DEFAULT_OAPI_BASE_URL = 'https://oapi.dingtalk.com';

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function baseUrlOf(settings: Record<string, unknown>): string {
  return (str(settings.baseUrl) ?? str(process.env.DINGTALK_BASE_URL) ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
}
export function oapiBaseUrlOf(settings: Record<string, unknown>): string {
  return (str(settings.oapiBaseUrl) ?? str(process.env.DINGTALK_OAPI_BASE_URL) ?? DEFAULT_OAPI_BASE_URL).replace(/\/+$/, '');
}

export function sdkConfig(settings: Record<string, unknown>): $OpenApi.Config {
  const u = new URL(baseUrlOf(settings));
  return new $OpenApi.Config({ protocol: u.protocol.replace(':', ''), regionId: 'central', endpoint: u.host });
}

/** No retries inside the SDK: the pipeline retries with its own backoff. */
export function runtimeOptions(timeoutMs = 10_000): $Util.RuntimeOptions {
  return new $Util.RuntimeOptions({ readTimeout: timeoutMs, connectTimeout: Math.min(timeoutMs, 5000), autoretry: false, maxAttempts: 0 });
}

type ClientClass<C> = new (config: $OpenApi.Config) => C;
const clients = new WeakMap<object, Map<string, unknown>>();

/** One SDK client per module and host (they are stateless apart from the config; every module's class is named `Client`). */
export function client<C>(Cls: ClientClass<C>, settings: Record<string, unknown>): C {
  let perHost = clients.get(Cls);
  if (!perHost) {
    perHost = new Map();
    clients.set(Cls, perHost);
  }
  const key = baseUrlOf(settings);
  let c = perHost.get(key) as C | undefined;
  if (!c) {
    c = new Cls(sdkConfig(settings));
    perHost.set(key, c);
  }
  return c;
}

/**
 * Calls a new-API method with the connection's app token. An expired-token answer is refreshed once
 * (conn.withToken, single-flight across processes); other failures become StepErrors.
 */
export async function callApi<T>(conn: ConnectionHandle, what: string, fn: (token: string) => Promise<T>): Promise<T> {
  type R = { status: number; body: unknown; value?: T; error?: SdkError };
  const res = await conn.withToken<R>(async (token) => {
    try {
      return { status: 200, body: null, value: await fn(token) };
    } catch (err) {
      const e = err as SdkError;
      if (e.statusCode === undefined) throw mapSdkError(what, e);
      return { status: e.statusCode, body: { ...(e.data ?? {}), code: e.code ?? e.data?.code }, error: e };
    }
  });
  if (res.error) throw mapSdkError(what, res.error);
  return res.value as T;
}
