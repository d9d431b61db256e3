import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, TEST_ADMIN_TOKEN, type Environment } from '../helpers/hub.ts';
import { services } from '../helpers/services.ts';
import type { Hub } from '../../app/hub.ts';

// Finding 10: the access log kept catch-hook path tokens, OAuth `state`/`code` from the callback's
// query string and the x-csrf-token header. Each request below carries a distinct secret; none may
// appear anywhere in the hub's log.
const available = await services();
const HOOK_TOKEN = 'pathtoken-Zq81xYbV3kLm09aa';

describe('secrets stay out of the hub log (finding 10)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;

  before(async () => {
    environment = await prepareEnvironment({ name: 'log-secrets', store: 'external', queue: 'postgres' }, 'log-secrets');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('log-secrets-config'),
      `version: 1\nhooks:\n  - id: tokenhook\n    verify: { type: token, token: "${HOOK_TOKEN}" }\n`,
    );
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await environment?.cleanup();
  });

  test('path tokens, OAuth state and code, CSRF tokens, query strings and referers are not logged', async () => {
    const secrets: string[] = [HOOK_TOKEN];
    const fresh = (label: string) => {
      const s = `${label}-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
      secrets.push(s);
      return s;
    };
    const marker = fresh('marker');

    const hook = await fetch(`${hub.url}/hooks/catch/tokenhook/${HOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(hook.status, 200);
    const wrong = fresh('wrongtoken');
    assert.equal((await fetch(`${hub.url}/hooks/catch/tokenhook/${wrong}`, { method: 'POST', body: '{}' })).status, 401);
    const cased = await fetch(`${hub.url}/HOOKS/Catch/tokenhook/${HOOK_TOKEN}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":2}',
    });
    assert.ok(cased.status < 500);

    const state = fresh('state');
    const code = fresh('code');
    const callback = await fetch(`${hub.url}/oauth/google/callback?state=${state}&code=${code}`, { redirect: 'manual' });
    assert.ok(callback.status >= 400, 'an unknown state is refused');

    const csrf = fresh('csrf');
    const referer = fresh('referer');
    const query = fresh('query');
    const me = await fetch(`${hub.url}/api/v1/me?api_key=${query}`, {
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        'x-csrf-token': csrf,
        referer: `https://hub.example/oauth/done?code=${referer}`,
        'x-marker': marker,
      },
    });
    assert.equal(me.status, 200);

    const log = await waitUntil(() => {
      const text = fs.readFileSync(environment.logFile, 'utf8');
      return text.includes('/api/v1/me') &&
        text.includes('/oauth/google/callback') &&
        text.split('\n').filter((l) => l.includes('/hooks/catch/tokenhook/')).length >= 2
        ? text
        : undefined;
    }, 'the access log lines of those requests');
    assert.ok(log.includes('x-marker'), 'request headers are logged (by name)');
    for (const secret of [...secrets, TEST_ADMIN_TOKEN])
      assert.ok(!log.includes(secret), `the log does not contain ${secret.split('-')[0]}`);
    assert.match(log, /\/hooks\/catch\/tokenhook\/\[redacted\]/);
    assert.match(log, /\/oauth\/google\/callback\?\[redacted\]/);
  });
});
