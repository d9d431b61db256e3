import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addressKind, checkUrl, EgressError, egressRequest, parseEgressAllow, setEgressPolicy } from '../../core/net/egress.ts';
import { startSink, type Sink } from '../helpers/sink.ts';

// Finding 13: IPv6 wrappings of IPv4, deprecated and special-purpose IPv6 ranges, and odd IPv4 spellings
// were treated as public. Only globally routable unicast is called unless DINGBRIDGE_EGRESS_ALLOW says so.
const none = parseEgressAllow('');

describe('SSRF guard variants (finding 13)', () => {
  let sink: Sink;
  before(async () => {
    sink = await startSink();
  });
  after(async () => {
    setEgressPolicy('');
    await sink.close();
  });

  test('IPv4 carried in IPv6 (compatible, mapped, translated, NAT64 local-use, 6to4) is judged by the IPv4 inside', () => {
    assert.equal(addressKind('::127.0.0.1'), 'loopback', 'IPv4-compatible, dotted');
    assert.equal(addressKind('::7f00:1'), 'loopback', 'IPv4-compatible, hex');
    assert.equal(addressKind('::ffff:0:7f00:1'), 'loopback', 'IPv4-translated');
    assert.equal(addressKind('64:ff9b:1::7f00:1'), 'loopback', 'local-use NAT64');
    assert.equal(addressKind('64:ff9b:1::808:808'), 'reserved', 'local-use NAT64 never leaves the site, even for a public IPv4');
    assert.equal(addressKind('::808:808'), 'reserved', 'IPv4-compatible addresses are deprecated and never routed');
    assert.equal(addressKind('2002:c0a8:101::1'), 'private', '6to4 of 192.168.1.1');
    assert.equal(addressKind('2002:7f00:1::'), 'loopback', '6to4 of 127.0.0.1');
    assert.equal(addressKind('2002:808:808::1'), undefined, '6to4 of a public address stays public');
    assert.equal(addressKind('64:ff9b::808:808'), undefined, 'well-known NAT64 of a public address stays public');
  });

  test('Teredo, site-local, multicast, documentation and other non-global IPv6 ranges are refused', () => {
    for (const ip of [
      '2001::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2001:2::1',
      '2001:10::1',
      'fec0::1',
      'feff::1',
      'ff02::1',
      'ff0e::1',
      '2001:db8::1',
      '3fff::1',
      '5f00::1',
      '100::1',
      '::2',
      '8000::1',
      '4000::1',
    ]) {
      assert.notEqual(addressKind(ip), undefined, ip);
    }
    assert.equal(addressKind('2606:4700:4700::1111'), undefined);
    assert.equal(addressKind('2404:6800:4003:c00::64'), undefined);
  });

  test('IPv4 multicast, broadcast and reserved ranges are refused; odd text is refused rather than passed', () => {
    for (const ip of ['224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '192.88.99.1', '198.18.0.1', '0.1.2.3'])
      assert.notEqual(addressKind(ip), undefined, ip);
    assert.equal(addressKind('not-an-ip'), 'reserved');
  });

  test('every spelling of loopback in a URL is refused before connecting', () => {
    const urls = [
      'http://[::127.0.0.1]/',
      'http://[::7f00:1]/',
      'http://[::ffff:0:7f00:1]/',
      'http://[64:ff9b:1::7f00:1]/',
      'http://[2001::1]/',
      'http://[fec0::1]/',
      'http://[2002:7f00:1::1]/',
      'http://[ff02::1]/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://0x7f.0x0.0x0.0x1/',
      'http://017700000001/',
      'http://127.000.000.001/',
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
    ];
    for (const url of urls) assert.throws(() => checkUrl(url, none), EgressError, url);
    assert.doesNotThrow(() => checkUrl('http://[2606:4700:4700::1111]/', none));
  });

  test('the allow-list still opens an address on purpose, in any spelling', () => {
    const p = parseEgressAllow('127.0.0.1');
    assert.doesNotThrow(() => checkUrl('http://2130706433/', p));
    assert.doesNotThrow(() => checkUrl('http://[::ffff:7f00:1]/', p));
  });

  test('a request to a decimal or hex spelling of the loopback sink never reaches it', async () => {
    setEgressPolicy('');
    const port = new URL(sink.url).port;
    const before = sink.requests.length;
    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '[::ffff:0:7f00:1]', '[::127.0.0.1]']) {
      await assert.rejects(
        egressRequest(`http://${host}:${port}/sink`, { method: 'POST', body: '{}', timeoutMs: 5000 }),
        EgressError,
        host,
      );
    }
    assert.equal(sink.requests.length, before);
  });
});
