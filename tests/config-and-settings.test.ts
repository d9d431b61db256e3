import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../config/load.ts';
import { loadSettings, SettingsError } from '../core/settings.ts';
import { ROOT, tempDir } from './helpers/hub.ts';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [path.join(ROOT, 'bin/dingbridge.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } })
    .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

const checks = { actionIds: ['http.post'] };

describe('config file', () => {
  test('${ENV} references are filled from the environment', () => {
    const config = parseConfig(
      'hooks:\n  - id: a\n    verify: { type: hmac, header: X-Sig, secret: "${S}" }\n',
      'c.yaml',
      { S: 'supersecret' },
      checks,
    );
    assert.deepEqual(config.hooks[0]!.verify, {
      type: 'hmac',
      header: 'X-Sig',
      secret: 'supersecret',
      algorithm: 'sha256',
      encoding: 'hex',
      replayWindowSeconds: 300, // the same signed body is accepted once per window (issue 11, finding 11)
    });
  });

  test('every problem is reported with its line and column', () => {
    const yaml = [
      'hooks:',
      '  - id: "bad id!"',
      'flows:',
      '  - id: f1',
      '    when: { event: catch_hook.received, condition: "(data.amount > 1" }',
      '    then:',
      '      - action: nope.do',
      '        input: { url: "${MISSING_URL}" }',
    ].join('\n');
    assert.throws(
      () => parseConfig(yaml, 'c.yaml', {}, checks),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /c\.yaml:8:\d+ environment variable MISSING_URL is not set/);
        return true;
      },
    );
    assert.throws(
      () => parseConfig(yaml, 'c.yaml', { MISSING_URL: 'http://x' }, checks),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.problems.map((p) => `${p.line}:${p.path}`);
        assert.ok(lines.includes('2:hooks.0.id'), lines.join(' | '));
        assert.ok(
          err.problems.some((p) => p.line === 5 && /condition does not parse/.test(p.message)),
          lines.join(' | '),
        );
        return true;
      },
    );
    assert.throws(
      () =>
        parseConfig(
          yaml.replace('"bad id!"', 'ok').replace('(data.amount > 1', 'data.amount > 1'),
          'c.yaml',
          { MISSING_URL: 'http://x' },
          checks,
        ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems[0]!.line, 7);
        assert.match(err.problems[0]!.message, /unknown action "nope.do"/);
        return true;
      },
    );
  });

  test('YAML syntax errors and duplicate ids carry lines', () => {
    assert.throws(
      () => parseConfig('flows:\n  - id: [unclosed\n', 'c.yaml', {}),
      (err: unknown) => err instanceof ConfigError && err.problems[0]!.line >= 2,
    );
    const dup = 'hooks:\n  - id: a\n  - id: a\n';
    assert.throws(
      () => parseConfig(dup, 'c.yaml', {}),
      (err: unknown) => err instanceof ConfigError && err.problems[0]!.line === 3 && /used twice/.test(err.problems[0]!.message),
    );
  });

  test('`dingbridge validate` passes the example and fails a broken file with line numbers', async () => {
    const example = path.join(ROOT, 'examples/catch-hook-to-http.yaml');
    const ok = await cli(['validate', example], {
      EXAMPLE_HOOK_SECRET: 'abcdefghij',
      SINK_URL: 'http://127.0.0.1:1/x',
      SINK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /is valid: 1 hook\(s\), 1 flow\(s\)/);

    const missing = await cli(['validate', example]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /catch-hook-to-http\.yaml:\d+:\d+ environment variable EXAMPLE_HOOK_SECRET is not set/);

    const dir = tempDir('validate');
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, 'flows:\n  - id: x\n    when: { event: a.b }\n    then: []\n');
    const bad = await cli(['validate', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /broken\.yaml:4:\d+ flows\.0\.then: a flow needs at least one step/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('settings', () => {
  test('defaults apply and every bad value is named', () => {
    const s = loadSettings({});
    assert.equal(s.PORT, 3000);
    assert.equal(s.LOG_LEVEL, 'info');
    assert.throws(
      () => loadSettings({ PORT: 'eighty', REDIS_URL: 'http://nope', LOG_LEVEL: 'loud' }),
      (err: unknown) => {
        assert.ok(err instanceof SettingsError);
        assert.equal(err.problems.length, 3);
        assert.match(err.message, /PORT "eighty"/);
        assert.match(err.message, /REDIS_URL \(value hidden\): must be a URL starting with redis: or rediss:/);
        assert.match(err.message, /LOG_LEVEL "loud"/);
        return true;
      },
    );
  });

  test('the CLI refuses to start with a bad environment and says why', async () => {
    const res = await cli(['serve'], { PORT: '99999', DATABASE_URL: 'mysql://user:hunter2@db/x' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /PORT "99999"/);
    assert.match(res.stderr, /DATABASE_URL \(value hidden\)/);
    assert.doesNotMatch(res.stderr, /hunter2/, 'a URL with a password is never echoed');
  });

  test("a connector's own variables are checked at start too", async () => {
    const dir = tempDir('connector-env');
    const res = await cli(['serve'], { DINGTALK_BASE_URL: 'api.dingtalk.com', DINGBRIDGE_DATA_DIR: path.join(dir, 'data') });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /DINGTALK_BASE_URL "api\.dingtalk\.com": must be a URL starting with http: or https:/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
