/**
 * SSRF address guard. Endpoint URLs come from API users, so without a guard a delivery could be
 * pointed at the service's own network: loopback admin ports, databases on RFC 1918 addresses,
 * the cloud metadata service at 169.254.169.254. The guard works at two moments:
 *
 * - registration (`checkEndpointHost`): reject hosts that are IP literals in a forbidden range, in
 *   any notation the URL parser accepts, and `localhost` names, with a reason in plain words;
 * - connection (`createGuardedAgent`): check every address a hostname resolves to, on every new
 *   connection, because DNS answers can change after registration (DNS rebinding). The check sits
 *   in the socket's own lookup, so the address judged is the address connected to.
 *
 * Addresses that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by
 * the embedded address, because that is where the packets end up.
 */
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

export interface AddressPolicy {
  /** Permit every address. Meant for development and self-hosted setups on a private network. */
  allowPrivate: boolean;
  /** CIDRs (or single addresses) permitted even though they fall in a forbidden range. */
  allowList?: string[];
}

export type ForbiddenRange =
  | 'this-network'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cloud-metadata'
  | 'shared'
  | 'ietf-protocol'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'unspecified'
  | 'unique-local'
  | 'site-local'
  | 'discard'
  | 'teredo'
  | 'nat64-local'
  | 'invalid';

export type AddressClass =
  | { forbidden: false; address: string }
  | { forbidden: true; address: string; range: ForbiddenRange; /** the IPv4 address judged, when `address` embeds one */ embedded?: string };

const DESCRIPTIONS: Record<ForbiddenRange, string> = {
  'this-network': 'a "this network" address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  'link-local': 'a link-local address',
  'cloud-metadata': 'the cloud metadata address',
  shared: 'a carrier-grade NAT address',
  'ietf-protocol': 'an IETF protocol assignment address',
  documentation: 'a documentation address',
  benchmarking: 'a benchmarking address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
  broadcast: 'the broadcast address',
  unspecified: 'the unspecified address',
  'unique-local': 'a unique-local address',
  'site-local': 'a site-local address',
  discard: 'a discard-only address',
  teredo: 'a Teredo tunnel address',
  'nat64-local': 'a local-use NAT64 address',
  invalid: 'not an IP address',
};

const POLICY_NOTE = 'deliveries may not reach private or internal networks';

// First match wins, so narrower ranges come before the ranges that contain them.
const IPV4_RANGES: Array<[cidr: string, range: ForbiddenRange]> = [
  ['0.0.0.0/8', 'this-network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.169.254/32', 'cloud-metadata'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'ietf-protocol'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];

const IPV6_RANGES: Array<[cidr: string, range: ForbiddenRange]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'nat64-local'],
  ['100::/64', 'discard'],
  // Teredo tunnels to an arbitrary IPv4 address that cannot be read back reliably, so it is refused whole.
  ['2001::/32', 'teredo'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

// IPv6 prefixes whose addresses carry an IPv4 address, and the byte offset where it sits.
const IPV4_EMBEDDINGS: Array<[cidr: string, offset: number]> = [
  ['::ffff:0:0/96', 12], // IPv4-mapped
  ['::ffff:0:0:0/96', 12], // IPv4-translated (SIIT)
  ['::/96', 12], // IPv4-compatible (deprecated, still routed by some stacks)
  ['64:ff9b::/96', 12], // NAT64 well-known prefix
  ['2002::/16', 2], // 6to4
];

interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** 4 bytes for IPv4, 16 for IPv6 (zone id ignored), undefined for anything else. */
function toBytes(ip: string): Uint8Array | undefined {
  const bare = ip.split('%', 1)[0] ?? '';
  const version = isIP(bare);
  if (version === 4) return Uint8Array.from(bare.split('.'), Number);
  if (version !== 6) return undefined;

  // Rewrite a trailing dotted quad (::ffff:1.2.3.4) as two hex groups, then expand "::".
  let text = bare;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = new Uint8Array(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

function parseCidr(cidr: string): Cidr {
  const match = /^([^/]+?)(?:\/(\d{1,3}))?$/.exec(cidr.trim());
  const bytes = match?.[1] === undefined ? undefined : toBytes(match[1]);
  const maxPrefix = (bytes?.length ?? 0) * 8;
  const prefix = match?.[2] === undefined ? maxPrefix : Number(match[2]);
  if (!bytes || prefix > maxPrefix) throw new TypeError(`"${cidr}" is not a valid CIDR range`);
  return { bytes, prefix };
}

function contains(range: Cidr, bytes: Uint8Array): boolean {
  if (range.bytes.length !== bytes.length) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (range.bytes[i] !== bytes[i]) return false;
  const bits = range.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((range.bytes[whole] ?? 0) & mask) === ((bytes[whole] ?? 0) & mask);
}

const compileRanges = <T>(table: Array<[string, T]>): Array<[Cidr, T]> => table.map(([cidr, value]) => [parseCidr(cidr), value]);
const V4_RANGES = compileRanges(IPV4_RANGES);
const V6_RANGES = compileRanges(IPV6_RANGES);
const V4_EMBEDDINGS = compileRanges(IPV4_EMBEDDINGS);

function embeddedIPv4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  for (const [range, offset] of V4_EMBEDDINGS) if (contains(range, bytes)) return bytes.slice(offset, offset + 4);
  return undefined;
}

/** Which forbidden range, if any, an address belongs to. Policy-free: the facts about the address. */
export function classifyAddress(ip: string): AddressClass {
  const bytes = toBytes(ip);
  if (!bytes) return { forbidden: true, address: ip, range: 'invalid' };
  for (const [range, name] of bytes.length === 4 ? V4_RANGES : V6_RANGES) {
    if (contains(range, bytes)) return { forbidden: true, address: ip, range: name };
  }
  const v4 = embeddedIPv4(bytes);
  if (v4) {
    const embedded = v4.join('.');
    const inner = classifyAddress(embedded);
    if (inner.forbidden) return { forbidden: true, address: ip, range: inner.range, embedded };
  }
  return { forbidden: false, address: ip };
}

type ForbiddenClass = Extract<AddressClass, { forbidden: true }>;

/** Compile a policy once: returns the forbidden classification of an address, or undefined when permitted. */
function compilePolicy(policy: AddressPolicy): (ip: string) => ForbiddenClass | undefined {
  if (policy.allowPrivate) return () => undefined;
  const allowed = (policy.allowList ?? []).map(parseCidr);
  return (ip) => {
    const verdict = classifyAddress(ip);
    if (!verdict.forbidden) return undefined;
    // An allow-listed IPv4 range also covers its IPv4-mapped (and other embedded) spellings.
    const candidates = [toBytes(ip), verdict.embedded ? toBytes(verdict.embedded) : undefined];
    const listed = candidates.some((bytes) => bytes && allowed.some((range) => contains(range, bytes)));
    return listed ? undefined : verdict;
  };
}

function explain(verdict: ForbiddenClass, hostname?: string): string {
  const { address, embedded } = verdict;
  const description = DESCRIPTIONS[verdict.range];
  let sentence: string;
  if (hostname === undefined) {
    sentence = embedded ? `${address} embeds ${embedded}, ${description}` : `${address} is ${description}`;
  } else {
    sentence = embedded
      ? `${hostname} resolved to ${address}, which embeds ${embedded}, ${description}`
      : `${hostname} resolved to ${address}, ${description}`;
  }
  return `${sentence}; ${POLICY_NOTE}`;
}

export function isForbiddenAddress(ip: string, policy: AddressPolicy): boolean {
  return compilePolicy(policy)(ip) !== undefined;
}

/** Why the policy forbids an address, in plain words (e.g. "127.0.0.1 is a loopback address; …"), or undefined if permitted. */
export function forbiddenReason(ip: string, policy: AddressPolicy): string | undefined {
  const verdict = compilePolicy(policy)(ip);
  return verdict && explain(verdict);
}

/**
 * The IP address a URL hostname denotes, or undefined for a name. Expects `URL#hostname`, which has
 * already turned every IPv4 spelling (2130706433, 0x7f.1, 017700000001, 127.1) into dotted decimal
 * and every IPv6 literal into its bracketed, compressed, lower-case form.
 */
export function parseLiteralHost(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare.toLowerCase() : undefined;
}

// RFC 6761 reserves "localhost" and everything under it; the others are common /etc/hosts aliases.
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/** Whether a hostname is a loopback name, with or without the trailing root dot. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost');
}

export type HostCheck = { ok: true } | { ok: false; reason: string };

/**
 * Registration-time check of an endpoint URL's host. Literal addresses and loopback names are
 * judged now; other names pass, because what they resolve to is checked on every connection.
 */
export function checkEndpointHost(url: URL, policy: AddressPolicy): HostCheck {
  const blocked = compilePolicy(policy);
  const literal = parseLiteralHost(url.hostname);
  if (literal) {
    const verdict = blocked(literal);
    return verdict ? { ok: false, reason: explain(verdict) } : { ok: true };
  }
  if (isLocalhostName(url.hostname)) {
    // A loopback name may resolve to either family; it is only safe if the policy permits both.
    const verdict = blocked('127.0.0.1') ?? blocked('::1');
    if (verdict) return { ok: false, reason: `${url.hostname} is a loopback name; ${POLICY_NOTE}` };
  }
  return { ok: true };
}

/** The error a guarded connection fails with. `code` is `ERR_BLOCKED_ADDRESS`. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_BLOCKED_ADDRESS';
  readonly address: string;
  readonly range: ForbiddenRange;
  readonly hostname: string | undefined;

  constructor(verdict: ForbiddenClass, hostname?: string) {
    super(explain(verdict, hostname));
    this.name = 'BlockedAddressError';
    this.address = verdict.address;
    this.range = verdict.range;
    this.hostname = hostname;
  }
}

/** Whether an error (or anything in its `cause` chain or AggregateError list) is a blocked-address error. */
export function isBlockedAddressError(err: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if ((current as { code?: unknown }).code === 'ERR_BLOCKED_ADDRESS') return true;
    pending.push((current as { cause?: unknown }).cause);
    if (current instanceof AggregateError) pending.push(...current.errors);
  }
  return false;
}

/**
 * A `dns.lookup`-compatible function for `net.connect`/`tls.connect`: resolves every address and
 * fails with a BlockedAddressError if any of them is forbidden. Refusing the whole answer rather
 * than filtering it keeps a hostname from mixing public and internal records to get through.
 * `resolve` is injectable so tests can stand in for DNS.
 */
export function guardedLookup(policy: AddressPolicy, resolve: LookupFunction = dns.lookup as LookupFunction): LookupFunction {
  const blocked = compilePolicy(policy);
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, result, family) => {
      if (err) return callback(err, '');
      const addresses: dns.LookupAddress[] = typeof result === 'string' ? [{ address: result, family: family ?? isIP(result) }] : result;
      for (const { address } of addresses) {
        const verdict = blocked(address);
        if (verdict) return callback(new BlockedAddressError(verdict, hostname), '');
      }
      const [first] = addresses;
      if (!first) {
        return callback(Object.assign(new Error(`${hostname} did not resolve to any address`), { code: 'ENOTFOUND' }), '');
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * An undici Agent whose every new connection is guarded. Names are checked by the socket's lookup;
 * IP-literal hosts are checked before connecting, because net.connect skips the lookup for them.
 * Use it as the `dispatcher` of every delivery request. `agentOptions.connect` must be an object
 * (its `lookup` is replaced); `socketPath` is refused because it would bypass the address check.
 */
export function createGuardedAgent(policy: AddressPolicy, agentOptions: Agent.Options = {}, resolve?: LookupFunction): Agent {
  const { connect, socketPath, ...options } = agentOptions;
  if (typeof connect === 'function') throw new TypeError('createGuardedAgent needs connect options as an object, not a connector function');
  if (socketPath != null) throw new TypeError('createGuardedAgent cannot guard a socketPath connection');

  const blocked = compilePolicy(policy);
  // undici applies these Agent options only when it builds the connector itself, which it no
  // longer does once `connect` is a function, so they are handed to buildConnector here.
  const connector = buildConnector({
    allowH2: options.allowH2,
    maxCachedSessions: options.maxCachedSessions,
    timeout: options.connectTimeout,
    ...(typeof options.autoSelectFamily === 'boolean'
      ? { autoSelectFamily: options.autoSelectFamily, autoSelectFamilyAttemptTimeout: options.autoSelectFamilyAttemptTimeout }
      : {}),
    ...connect,
    lookup: guardedLookup(policy, resolve),
  });

  const guardedConnector: buildConnector.connector = (opts, callback) => {
    const literal = parseLiteralHost(opts.hostname);
    const verdict = literal === undefined ? undefined : blocked(literal);
    if (verdict) {
      // Fail asynchronously, as a refused socket would.
      queueMicrotask(() => callback(new BlockedAddressError(verdict), null));
      return;
    }
    connector(opts, callback);
  };

  return new Agent({ ...options, connect: guardedConnector });
}
