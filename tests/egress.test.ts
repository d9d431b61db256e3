import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addressKind, checkUrl, EgressError, egressRequest, parseEgressAllow, setEgressPolicy } from '../core/net/egress.ts';
import { httpPost } from '../connectors/http/post.ts';
import { createLogger } from '../core/logger.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { loadSettings } from '../core/settings.ts';

const none = parseEgressAllow('');

describe('SSRF guard (core/net/egress.ts)', () => {
  let sink: Sink;
  before(async () => {
    sink = await startSink();
  });
  after(async () => {
    setEgressPolicy('');
    await sink.close();
  });

  test('loopback, private, link-local and metadata addresses are classified; public ones are not', () => {
    assert.equal(addressKind('127.0.0.1'), 'loopback');
    assert.equal(addressKind('::1'), 'loopback');
    assert.equal(addressKind('10.0.0.1'), 'private');
    assert.equal(addressKind('172.20.1.1'), 'private');
    assert.equal(addressKind('192.168.1.10'), 'private');
    assert.equal(addressKind('169.254.169.254'), 'metadata');
    assert.equal(addressKind('100.100.100.200'), 'metadata');
    assert.equal(addressKind('169.254.10.1'), 'link-local');
    assert.equal(addressKind('fe80::1'), 'link-local');
    assert.equal(addressKind('fd12:3456::1'), 'private');
    assert.equal(addressKind('::ffff:127.0.0.1'), 'loopback', 'IPv4-mapped IPv6');
    assert.equal(addressKind('::ffff:7f00:1'), 'loopback', 'IPv4-mapped IPv6, hex form');
    assert.equal(addressKind('64:ff9b::a00:1'), 'private', 'NAT64 of 10.0.0.1');
    assert.equal(addressKind('0.0.0.0'), 'unspecified');
    assert.equal(addressKind('8.8.8.8'), undefined);
    assert.equal(addressKind('2606:4700::1111'), undefined);
  });

  test('http://169.254.169.254/, http://10.0.0.1/, http://[::1]/ and odd spellings of 127.0.0.1 are refused when not allowed', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://[::1]/',
      'http://127.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      assert.throws(() => checkUrl(url, none), EgressError, url);
    }
    assert.throws(() => checkUrl('ftp://example.org/', none), /only http and https/);
    assert.throws(() => checkUrl('http://user:pw@example.org/', none), /credentials/);
    assert.doesNotThrow(() => checkUrl('https://example.org/', none));
  });

  test('DINGBRIDGE_EGRESS_ALLOW allows hosts, addresses and CIDRs, and nothing else', () => {
    const p = parseEgressAllow('127.0.0.1, 10.1.0.0/16, internal.example, *.corp.example, ::1');
    assert.doesNotThrow(() => checkUrl('http://127.0.0.1:9/', p));
    assert.doesNotThrow(() => checkUrl('http://10.1.2.3/', p));
    assert.doesNotThrow(() => checkUrl('http://[::1]/', p));
    assert.throws(() => checkUrl('http://10.2.0.1/', p), EgressError);
    assert.throws(() => checkUrl('http://169.254.169.254/', p), /metadata/);
    assert.throws(() => parseEgressAllow('not a host!'), /DINGBRIDGE_EGRESS_ALLOW/);
    assert.throws(() => parseEgressAllow('10.0.0.0/40'), /prefix/);
    assert.throws(
      () => loadSettings({ DINGBRIDGE_EGRESS_ALLOW: 'not a host!' }),
      /DINGBRIDGE_EGRESS_ALLOW/,
      'a bad value stops the hub at start',
    );
    assert.throws(() => loadSettings({ DINGBRIDGE_HOOK_RETRY_SCHEDULE: '0,5 parsecs' }), /DINGBRIDGE_HOOK_RETRY_SCHEDULE/);
  });

  test('a DNS name resolving to 127.0.0.1 is refused on the connection itself (no rebinding gap)', async () => {
    const port = new URL(sink.url).port;
    setEgressPolicy('');
    const before = sink.requests.length;
    // `localhost` is a name, so no check before connecting can see its address; the guarded lookup inside the socket refuses it.
    assert.doesNotThrow(() => checkUrl(`http://localhost:${port}/sink`, none));
    await assert.rejects(
      egressRequest(`http://localhost:${port}/sink`, { method: 'POST', body: '{}', timeoutMs: 2000 }),
      (err: Error) => err instanceof EgressError && /refused/.test(err.message),
    );
    await assert.rejects(egressRequest(`http://127.0.0.1:${port}/sink`, { method: 'POST', body: '{}', timeoutMs: 2000 }), EgressError);
    assert.equal(sink.requests.length, before, 'nothing reached the loopback sink');
    setEgressPolicy('127.0.0.1,::1');
    const res = await egressRequest(`http://127.0.0.1:${port}/sink`, { method: 'POST', body: '{"a":1}', timeoutMs: 2000 });
    assert.equal(res.status, 200);
    assert.equal(sink.requests.length, before + 1);
  });

  test('redirects are not followed', async () => {
    setEgressPolicy('127.0.0.1');
    sink.reply({ status: 302, headers: { location: 'http://169.254.169.254/' } });
    const before = sink.requests.length;
    const res = await egressRequest(sink.url, { method: 'POST', body: '{}', timeoutMs: 2000 });
    assert.equal(res.status, 302);
    assert.equal(sink.requests.length, before + 1);
  });

  test('http.post refuses a private target as a permanent error, and delivers to an allowed one', async () => {
    const ctx = { idempotencyKey: 'k1', attempt: 1, log: createLogger('silent'), timeoutMs: 2000, trace: () => {} };
    setEgressPolicy('');
    await assert.rejects(
      httpPost.run(ctx, { url: sink.url, body: { a: 1 }, headers: {} }),
      (err: Error & { errorClass?: string }) => err.errorClass === 'permanent' && /refused/.test(err.message),
    );
    await assert.rejects(httpPost.run(ctx, { url: 'http://169.254.169.254/latest/meta-data/', body: {}, headers: {} }), /metadata/);
    setEgressPolicy('127.0.0.1');
    const out = (await httpPost.run(ctx, { url: sink.url, body: { a: 1 }, headers: {} })) as { status: number };
    assert.equal(out.status, 200);
  });
});
