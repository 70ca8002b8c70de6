import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type LookupFunction } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request } from 'undici';
import {
  type AddressPolicy,
  type ForbiddenRange,
  checkEndpointHost,
  classifyAddress,
  createGuardedAgent,
  forbiddenReason,
  guardedLookup,
  isBlockedAddressError,
  isForbiddenAddress,
  isLocalhostName,
  parseLiteralHost,
} from './address-guard.js';

const STRICT: AddressPolicy = { allowPrivate: false };
const OPEN: AddressPolicy = { allowPrivate: true };

// [address, the range it belongs to, or null when it is public unicast]
const VECTORS: Array<[string, ForbiddenRange | null]> = [
  // IPv4 "this network", loopback and RFC 1918, with their edges
  ['0.0.0.0', 'this-network'],
  ['0.255.255.255', 'this-network'],
  ['1.0.0.0', null],
  ['126.255.255.255', null],
  ['127.0.0.0', 'loopback'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.255', 'loopback'],
  ['128.0.0.0', null],
  ['9.255.255.255', null],
  ['10.0.0.0', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', null],
  ['172.15.255.255', null],
  ['172.16.0.0', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', null],
  ['192.167.255.255', null],
  ['192.168.0.0', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', null],
  // link-local and cloud metadata
  ['169.253.255.255', null],
  ['169.254.0.0', 'link-local'],
  ['169.254.169.254', 'cloud-metadata'],
  ['169.254.255.255', 'link-local'],
  ['169.255.0.0', null],
  // carrier-grade NAT
  ['100.63.255.255', null],
  ['100.64.0.0', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.128.0.0', null],
  // IETF protocol assignments, documentation, benchmarking
  ['192.0.0.0', 'ietf-protocol'],
  ['192.0.0.255', 'ietf-protocol'],
  ['192.0.1.0', null],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.255', 'documentation'],
  ['203.0.114.0', null],
  ['198.17.255.255', null],
  ['198.18.0.0', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.20.0.0', null],
  // multicast, reserved, broadcast
  ['223.255.255.255', null],
  ['224.0.0.0', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // public IPv4
  ['8.8.8.8', null],
  ['1.1.1.1', null],
  ['93.184.216.34', null],
  // IPv6 special-purpose ranges
  ['::', 'unspecified'],
  ['0:0:0:0:0:0:0:0', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fe80::1', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fd00:ec2::254', 'unique-local'],
  ['fbff:ffff::1', null],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['FF05::1:3', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['2001:db9::1', null],
  ['100::1', 'discard'],
  ['100::ffff:ffff:ffff:ffff', 'discard'],
  ['100:0:0:1::', null],
  ['2001::1', 'teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['64:ff9b:1::1', 'nat64-local'],
  // IPv6 forms that embed an IPv4 address are judged by that address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:a9fe:a9fe', 'cloud-metadata'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:0.0.0.0', 'this-network'],
  ['::ffff:8.8.8.8', null],
  ['::ffff:808:808', null],
  ['::127.0.0.1', 'loopback'],
  ['::7f00:1', 'loopback'],
  ['::0.0.0.2', 'this-network'],
  ['::8.8.8.8', null],
  ['::ffff:0:7f00:1', 'loopback'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::c0a8:101', 'private'],
  ['64:ff9b::808:808', null],
  ['2002:7f00:1::', 'loopback'],
  ['2002:a9fe:a9fe:1::1', 'cloud-metadata'],
  ['2002:808:808::1', null],
  // public IPv6
  ['2606:4700::1111', null],
  ['2001:4860:4860::8888', null],
  ['2a00:1450:4001:82b::200e', null],
];

describe('classifyAddress', () => {
  for (const [address, range] of VECTORS) {
    test(`${address} → ${range ?? 'allowed'}`, () => {
      const verdict = classifyAddress(address);
      if (range === null) {
        assert.equal(verdict.forbidden, false);
        assert.equal(isForbiddenAddress(address, STRICT), false);
      } else {
        assert.ok(verdict.forbidden);
        assert.equal(verdict.range, range);
        assert.equal(isForbiddenAddress(address, STRICT), true);
      }
      assert.equal(isForbiddenAddress(address, OPEN), false);
    });
  }

  test('names the embedded IPv4 address', () => {
    assert.deepEqual(classifyAddress('::ffff:7f00:1'), { forbidden: true, address: '::ffff:7f00:1', range: 'loopback', embedded: '127.0.0.1' });
  });

  test('anything that is not an IP address is forbidden', () => {
    for (const bad of ['localhost', '', '127.1', '2130706433', '256.0.0.1', '[::1]', '::1::']) {
      assert.equal(isForbiddenAddress(bad, STRICT), true, bad);
    }
  });
});

describe('policy', () => {
  test('reasons are in plain words', () => {
    assert.equal(forbiddenReason('127.0.0.1', STRICT), '127.0.0.1 is a loopback address; deliveries may not reach private or internal networks');
    assert.equal(forbiddenReason('169.254.169.254', STRICT), '169.254.169.254 is the cloud metadata address; deliveries may not reach private or internal networks');
    assert.equal(forbiddenReason('::ffff:a00:1', STRICT), '::ffff:a00:1 embeds 10.0.0.1, a private-network address; deliveries may not reach private or internal networks');
    assert.equal(forbiddenReason('8.8.8.8', STRICT), undefined);
    assert.equal(forbiddenReason('127.0.0.1', OPEN), undefined);
  });

  test('an allow-list opens only the ranges it names, in any spelling', () => {
    const policy: AddressPolicy = { allowPrivate: false, allowList: ['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8', '169.254.1.1'] };
    assert.equal(isForbiddenAddress('127.0.0.1', policy), false);
    assert.equal(isForbiddenAddress('127.9.9.9', policy), false);
    assert.equal(isForbiddenAddress('::ffff:127.0.0.1', policy), false);
    assert.equal(isForbiddenAddress('10.1.255.255', policy), false);
    assert.equal(isForbiddenAddress('10.2.0.0', policy), true);
    assert.equal(isForbiddenAddress('fd12::1', policy), false);
    assert.equal(isForbiddenAddress('fc00::1', policy), true);
    assert.equal(isForbiddenAddress('169.254.1.1', policy), false);
    assert.equal(isForbiddenAddress('169.254.1.2', policy), true);
    assert.equal(isForbiddenAddress('::1', policy), true);
    assert.equal(isForbiddenAddress('192.168.1.1', policy), true);
  });

  test('a malformed allow-list entry is an error, not a silent no-op', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0.0/', '10.0.0/8', '']) {
      assert.throws(() => isForbiddenAddress('10.0.0.1', { allowPrivate: false, allowList: [bad] }), TypeError, bad);
    }
  });
});

describe('parseLiteralHost on URL-normalised hostnames', () => {
  // [what the user typed as host, the address URL normalises it to]
  const literals: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'], // decimal
    ['017700000001', '127.0.0.1'], // octal
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'], // hex
    ['0x7f.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'], // short forms
    ['127.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'], // trailing dot
    ['0', '0.0.0.0'],
    ['１２７.０.０.１', '127.0.0.1'], // full-width digits
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['[::1]', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[0:0:0:0:0:ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[::FFFF:A9FE:A9FE]', '::ffff:a9fe:a9fe'],
    ['[::127.0.0.1]', '::7f00:1'],
    ['[64:ff9b::10.0.0.1]', '64:ff9b::a00:1'],
  ];
  for (const [typed, address] of literals) {
    test(`${typed} → ${address}`, () => {
      const url = new URL(`http://${typed}:8080/hook`);
      assert.equal(parseLiteralHost(url.hostname), address);
      const check = checkEndpointHost(url, STRICT);
      assert.equal(check.ok, false);
    });
  }

  test('names are not literals', () => {
    for (const host of ['example.com', 'localhost', '127.0.0.1.nip.io', '0x7f.example', 'xn--nxasmq6b']) {
      assert.equal(parseLiteralHost(new URL(`http://${host}/`).hostname), undefined, host);
    }
  });
});

describe('checkEndpointHost', () => {
  test('explains a forbidden literal', () => {
    assert.deepEqual(checkEndpointHost(new URL('http://2130706433/'), STRICT), {
      ok: false,
      reason: '127.0.0.1 is a loopback address; deliveries may not reach private or internal networks',
    });
    assert.deepEqual(checkEndpointHost(new URL('https://[::ffff:127.0.0.1]/'), STRICT), {
      ok: false,
      reason: '::ffff:7f00:1 embeds 127.0.0.1, a loopback address; deliveries may not reach private or internal networks',
    });
  });

  test('rejects localhost names in every spelling', () => {
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'a.b.localhost.', 'localhost.localdomain', 'ip6-localhost']) {
      const url = new URL(`http://${host}:3000/`);
      assert.equal(isLocalhostName(url.hostname), true, host);
      const check = checkEndpointHost(url, STRICT);
      assert.ok(!check.ok, host);
      assert.match(check.reason, /is a loopback name; deliveries may not reach private or internal networks$/);
    }
    for (const host of ['localhost.example.com', 'mylocalhost', 'localhostx']) assert.equal(isLocalhostName(host), false, host);
  });

  test('passes public literals and names, and anything when private addresses are allowed', () => {
    for (const href of ['https://8.8.8.8/', 'https://[2606:4700::1111]/', 'https://example.com/hook', 'https://127.0.0.1.nip.io/']) {
      assert.deepEqual(checkEndpointHost(new URL(href), STRICT), { ok: true }, href);
    }
    for (const href of ['http://127.0.0.1/', 'http://localhost/', 'http://[::1]/', 'http://169.254.169.254/']) {
      assert.deepEqual(checkEndpointHost(new URL(href), OPEN), { ok: true }, href);
    }
  });

  test('a loopback name passes only when the allow-list covers both loopback families', () => {
    const v4Only: AddressPolicy = { allowPrivate: false, allowList: ['127.0.0.0/8'] };
    const both: AddressPolicy = { allowPrivate: false, allowList: ['127.0.0.0/8', '::1/128'] };
    assert.deepEqual(checkEndpointHost(new URL('http://127.0.0.1/'), v4Only), { ok: true });
    assert.equal(checkEndpointHost(new URL('http://localhost/'), v4Only).ok, false);
    assert.deepEqual(checkEndpointHost(new URL('http://localhost/'), both), { ok: true });
  });
});

/** A stand-in for dns.lookup that answers from a queue, one answer per call, and records the calls. */
function scriptedResolver(...answers: LookupAddress[][]): LookupFunction & { calls: number } {
  const resolve = ((_hostname, options, callback) => {
    resolve.calls++;
    const answer = answers.shift() ?? [];
    setImmediate(() => {
      if (answer.length === 0) callback(Object.assign(new Error('no answer'), { code: 'ENOTFOUND' }), '');
      else if (options.all) callback(null, answer);
      else callback(null, answer[0]!.address, answer[0]!.family);
    });
  }) as LookupFunction & { calls: number };
  resolve.calls = 0;
  return resolve;
}

function lookupAsync(lookup: LookupFunction, hostname: string, all: boolean): Promise<{ address: string | LookupAddress[]; family?: number | undefined }> {
  return new Promise((resolve, reject) => {
    lookup(hostname, { all }, (err, address, family) => (err ? reject(err) : resolve({ address, family })));
  });
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

describe('guardedLookup', () => {
  test('answers in the shape net.connect asked for', async () => {
    const lookup = guardedLookup(STRICT, scriptedResolver([v4('93.184.216.34'), v6('2606:2800:220:1::')], [v4('93.184.216.34')]));
    assert.deepEqual(await lookupAsync(lookup, 'example.com', true), { address: [v4('93.184.216.34'), v6('2606:2800:220:1::')], family: undefined });
    assert.deepEqual(await lookupAsync(lookup, 'example.com', false), { address: '93.184.216.34', family: 4 });
  });

  test('fails if any resolved address is forbidden, even when all=false would only return the first', async () => {
    for (const all of [true, false]) {
      const lookup = guardedLookup(STRICT, scriptedResolver([v4('93.184.216.34'), v4('10.0.0.5')]));
      await assert.rejects(lookupAsync(lookup, 'mixed.example', all), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_BLOCKED_ADDRESS');
        assert.equal(err.message, 'mixed.example resolved to 10.0.0.5, a private-network address; deliveries may not reach private or internal networks');
        return isBlockedAddressError(err);
      });
    }
  });

  test('checks every lookup, so a rebinding name is caught on its second answer', async () => {
    const resolver = scriptedResolver([v4('93.184.216.34')], [v4('127.0.0.1')]);
    const lookup = guardedLookup(STRICT, resolver);
    assert.deepEqual(await lookupAsync(lookup, 'rebind.example', false), { address: '93.184.216.34', family: 4 });
    await assert.rejects(lookupAsync(lookup, 'rebind.example', false), /rebind\.example resolved to 127\.0\.0\.1, a loopback address/);
    assert.equal(resolver.calls, 2);
  });

  test('passes resolver errors through untouched', async () => {
    const lookup = guardedLookup(STRICT, scriptedResolver([]));
    await assert.rejects(lookupAsync(lookup, 'nowhere.example', true), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOTFOUND');
      return !isBlockedAddressError(err);
    });
  });

  test('resolves real names with dns.lookup by default', async () => {
    await assert.rejects(lookupAsync(guardedLookup(STRICT), 'localhost', true), isBlockedAddressError);
    const { address } = await lookupAsync(guardedLookup(OPEN), 'localhost', true);
    assert.ok(Array.isArray(address) && address.length > 0);
  });
});

test('isBlockedAddressError walks causes and aggregate errors', () => {
  const blocked = Object.assign(new Error('blocked'), { code: 'ERR_BLOCKED_ADDRESS' });
  assert.equal(isBlockedAddressError(blocked), true);
  assert.equal(isBlockedAddressError(new Error('fetch failed', { cause: new Error('wrapped', { cause: blocked }) })), true);
  assert.equal(isBlockedAddressError(new AggregateError([new Error('other'), blocked])), true);
  assert.equal(isBlockedAddressError(new Error('other', { cause: new Error('still other') })), false);
  assert.equal(isBlockedAddressError(undefined), false);
  assert.equal(isBlockedAddressError('ERR_BLOCKED_ADDRESS'), false);
  const loop: Error & { cause?: unknown } = new Error('loop');
  loop.cause = loop;
  assert.equal(isBlockedAddressError(loop), false);
});

/** An HTTP server that counts the TCP connections it accepts. */
async function countingServer(host: string): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('delivered'));
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function ipv6LoopbackAvailable(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false)).listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

describe('createGuardedAgent against a real server', async () => {
  let v4Server: Awaited<ReturnType<typeof countingServer>>;
  let v6Server: Awaited<ReturnType<typeof countingServer>> | undefined;
  const hasIPv6 = await ipv6LoopbackAvailable();

  before(async () => {
    v4Server = await countingServer('127.0.0.1');
    if (hasIPv6) v6Server = await countingServer('::1');
  });
  after(async () => {
    await v4Server.close();
    await v6Server?.close();
  });

  const loopbackUrls = () => [
    `http://127.0.0.1:${v4Server.port}/`,
    `http://2130706433:${v4Server.port}/`,
    `http://0x7f.1:${v4Server.port}/`,
    `http://localhost:${v4Server.port}/`,
    ...(v6Server ? [`http://[::1]:${v6Server.port}/`] : []),
  ];
  const totalConnections = () => v4Server.connections() + (v6Server?.connections() ?? 0);

  test('refuses loopback targets before any connection is made', async (t) => {
    if (!hasIPv6) t.diagnostic('IPv6 loopback unavailable; [::1] not exercised');
    for (const autoSelectFamily of [true, false]) {
      const agent = createGuardedAgent(STRICT, { autoSelectFamily });
      try {
        for (const url of [...loopbackUrls(), `http://[::ffff:127.0.0.1]:${v4Server.port}/`]) {
          await assert.rejects(request(url, { dispatcher: agent }), (err: Error & { code?: string }) => {
            assert.equal(err.code, 'ERR_BLOCKED_ADDRESS', `${url}: ${err.message}`);
            assert.match(err.message, /(is|resolved to 127\.0\.0\.1,) a loopback address|embeds 127\.0\.0\.1, a loopback address/);
            return isBlockedAddressError(err);
          }, url);
        }
      } finally {
        await agent.close();
      }
    }
    assert.equal(totalConnections(), 0, 'the server must receive nothing');
  });

  test('refuses https to loopback too, before the TCP connection', async () => {
    const agent = createGuardedAgent(STRICT);
    try {
      for (const url of [`https://127.0.0.1:${v4Server.port}/`, `https://localhost:${v4Server.port}/`]) {
        await assert.rejects(request(url, { dispatcher: agent }), isBlockedAddressError, url);
      }
    } finally {
      await agent.close();
    }
    assert.equal(totalConnections(), 0);
  });

  test('delivers when private addresses are allowed', async () => {
    const agent = createGuardedAgent(OPEN);
    try {
      for (const url of loopbackUrls()) {
        const { statusCode, body } = await request(url, { dispatcher: agent });
        assert.equal(statusCode, 200, url);
        assert.equal(await body.text(), 'delivered');
      }
    } finally {
      await agent.close();
    }
    assert.ok(totalConnections() > 0);
  });

  test('an allow-list of 127.0.0.0/8 permits 127.0.0.1 and nothing else', async () => {
    const agent = createGuardedAgent({ allowPrivate: false, allowList: ['127.0.0.0/8'] });
    try {
      const { statusCode, body } = await request(`http://127.0.0.1:${v4Server.port}/`, { dispatcher: agent });
      assert.equal(statusCode, 200);
      await body.dump();
      if (v6Server) await assert.rejects(request(`http://[::1]:${v6Server.port}/`, { dispatcher: agent }), isBlockedAddressError);
    } finally {
      await agent.close();
    }
  });

  test('re-checks the resolved address on every new connection (DNS rebinding)', async () => {
    // 127.0.0.1 stands in for a public address here; the second answer rebinds to a forbidden one.
    const resolver = scriptedResolver([v4('127.0.0.1')], [v4('127.0.0.2')]);
    const agent = createGuardedAgent({ allowPrivate: false, allowList: ['127.0.0.1/32'] }, {}, resolver);
    const before = v4Server.connections();
    try {
      const url = `http://rebind.example:${v4Server.port}/`;
      const first = await request(url, { dispatcher: agent, reset: true });
      assert.equal(await first.body.text(), 'delivered');
      await assert.rejects(request(url, { dispatcher: agent }), (err: Error) => {
        assert.match(err.message, /^rebind\.example resolved to 127\.0\.0\.2, a loopback address/);
        return isBlockedAddressError(err);
      });
    } finally {
      await agent.close();
    }
    assert.equal(resolver.calls, 2);
    assert.equal(v4Server.connections() - before, 1);
  });

  test('rejects options that would bypass the guard', () => {
    assert.throws(() => createGuardedAgent(STRICT, { socketPath: '/tmp/x.sock' }), TypeError);
    assert.throws(() => createGuardedAgent(STRICT, { connect: (_opts, cb) => cb(new Error('x'), null) }), TypeError);
  });
});
