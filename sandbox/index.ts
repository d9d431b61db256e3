import type { RunningFake } from './framework/index.ts';
import { startDingtalkFake } from './dingtalk/index.ts';
import { startTrelloFake } from './trello/index.ts';
import { startOAuth2Fake } from './oauth2/index.ts';
import { startGoogleFake } from './google/index.ts';
import { startQuickBooksFake } from './quickbooks/index.ts';
import { startDocusignFake } from './docusign/index.ts';
import { startAliyunOssFake } from './aliyun-oss/index.ts';

/**
 * Every provider fake at once. Each fake gets its own port: the given base port plus its offset,
 * or an ephemeral port when basePort is 0 (what tests use).
 */
export const FAKES = {
  dingtalk: { offset: 0, start: (port: number) => startDingtalkFake({ port }) },
  trello: { offset: 1, start: (port: number) => startTrelloFake({ port }) },
  oauth2: { offset: 2, start: (port: number) => startOAuth2Fake({ port }) },
  google: { offset: 3, start: (port: number) => startGoogleFake({ port }) },
  quickbooks: { offset: 4, start: (port: number) => startQuickBooksFake({ port }) },
  docusign: { offset: 5, start: (port: number) => startDocusignFake({ port }) },
  aliyun_oss: { offset: 6, start: (port: number) => startAliyunOssFake({ port }) },
} as const;

export type FakeName = keyof typeof FAKES;

export interface Sandbox {
  fakes: Record<FakeName, RunningFake<unknown>>;
  urls: Record<FakeName, string>;
  stop(): Promise<void>;
}

export async function startSandbox(opts: { basePort?: number } = {}): Promise<Sandbox> {
  const base = opts.basePort ?? 0;
  const fakes = {} as Record<FakeName, RunningFake<unknown>>;
  try {
    for (const [name, def] of Object.entries(FAKES) as [FakeName, (typeof FAKES)[FakeName]][]) {
      fakes[name] = (await def.start(base === 0 ? 0 : base + def.offset)) as RunningFake<unknown>;
    }
  } catch (err) {
    await Promise.allSettled(Object.values(fakes).map((f) => f.stop()));
    throw err;
  }
  const urls = Object.fromEntries(Object.entries(fakes).map(([n, f]) => [n, f.baseUrl()])) as Record<FakeName, string>;
  return {
    fakes,
    urls,
    async stop() {
      await Promise.allSettled(Object.values(fakes).map((f) => f.stop()));
    },
  };
}
