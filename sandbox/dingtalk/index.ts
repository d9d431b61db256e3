import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';
import { requestId } from './crypto.ts';
import { DingtalkRuntime, resolveOptions, type DingtalkFakeOptions } from './runtime.ts';
import { emptyState, seededState, SEED, type DingtalkState } from './state.ts';
import { registerProviderRoutes } from './provider.ts';
import { registerControlRoutes, CONTROL_PREFIX } from './control.ts';

export type { DingtalkFakeOptions } from './runtime.ts';
export type {
  DingtalkState,
  App,
  Delivery,
  MessageRecord,
  ApprovalInstance,
  CalendarEvent,
  CustomRobot,
  EventSubscription,
} from './state.ts';
export { SEED } from './state.ts';
export { CONTROL_PREFIX } from './control.ts';
export { callbackSignature, encryptCallback, decryptCallback, robotSign } from './crypto.ts';

const runtimes = new WeakMap<object, DingtalkRuntime>();

/** The runtime (Stream server, push engine) of a running DingTalk fake. */
export function dingtalkRuntime(fake: RunningFakeInternals<DingtalkState>): DingtalkRuntime | undefined {
  return runtimes.get(fake);
}

/** Builds a DingTalk fake definition with the given options (timeouts, limits, seeding). */
export function createDingtalkFake(options: DingtalkFakeOptions = {}): FakeDefinition<DingtalkState> {
  const opts = resolveOptions(options);
  return {
    name: 'dingtalk',
    initialState: () => (opts.seed ? seededState() : emptyState()),
    setup(app, fake) {
      const rt = new DingtalkRuntime(fake, opts);
      runtimes.set(fake, rt);
      // POST /__sandbox/reset swaps the state object; timers of old deliveries notice and do nothing.
      registerControlRoutes(app, fake, rt);
      registerProviderRoutes(app, fake, rt);
    },
    faultBody: (status) => {
      // New-API shape ({requestid, code, message}); errcode/errmsg too so old-API callers (/gettoken, /robot/send) read it.
      const code =
        status === 429
          ? 'Throttling.Api'
          : status === 401 || status === 403
            ? 'Forbidden.AccessDenied'
            : status >= 500
              ? 'unknownError'
              : 'InvalidParameter';
      const message = status === 429 ? '调用频率超过限制 (injected)' : status >= 500 ? '未知错误 (injected)' : `injected ${status}`;
      return { requestid: requestId(), code, message, errcode: status === 429 ? 90018 : -1, errmsg: message };
    },
    teardown: async (fake) => {
      await runtimes.get(fake)?.stop();
    },
  };
}

/** The default DingTalk fake (seeded; Stream ack timeout 2 s; HTTP push retries after 0.5/1.5/4 s). */
export const dingtalkFake: FakeDefinition<DingtalkState> = createDingtalkFake();

export interface RunningDingtalkFake extends RunningFake<DingtalkState> {
  runtime: DingtalkRuntime;
  /** Control API base, e.g. http://127.0.0.1:PORT/__sandbox/dingtalk */
  controlUrl: string;
  /** POST JSON to a control route (path relative to /__sandbox/dingtalk) and return the parsed answer. */
  control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Starts the DingTalk fake with its WebSocket (Stream) endpoint attached. */
export async function startDingtalkFake(opts: DingtalkFakeOptions & { port?: number; host?: string } = {}): Promise<RunningDingtalkFake> {
  const { port, host, ...rest } = opts;
  const running = await startFake(createDingtalkFake(rest), { port, host });
  const runtime = runtimes.get(running)!;
  runtime.attach(running.server);
  const controlUrl = `${running.baseUrl()}${CONTROL_PREFIX}`;
  return Object.assign(running, {
    runtime,
    controlUrl,
    async control<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${controlUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as T;
      if (!res.ok)
        throw Object.assign(new Error(`control ${method} ${path} → ${res.status}: ${JSON.stringify(json)}`), {
          status: res.status,
          body: json,
        });
      return json;
    },
  });
}

export { SEED as DINGTALK_SEED };
