// Where the operator's own outbound requests (git sources, registry lookups) may go. A tenant names the URL, the
// operator makes the request from inside the cluster: without a guard a DevSession could point it at the node's
// kubelet on loopback or at the cloud's metadata service (instance credentials). Refused by default:
//
//   loopback 127.0.0.0/8, ::1 · unspecified 0.0.0.0/8, :: · link-local 169.254.0.0/16, fe80::/10
//   cloud metadata 100.100.100.200 (Alibaba), fd00:ec2::254 (AWS IPv6), 168.63.129.16 (Azure wire server),
//   and the metadata host names (metadata.google.internal, …) — IPv4-mapped/NAT64 IPv6 forms included.
//
// The decision is made on the address a connection really goes to (the `lookup` hook of node's http client
// answers the name resolution the socket uses), so DNS cannot name a public address for the check and a private
// one for the connection. `allow` entries (chart `network.allowInternalHosts`) re-admit a host, host:port or CIDR.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
}

export interface AddressPolicy {
  /** host, host:port, IP or CIDR entries allowed although internal. */
  allow: readonly string[];
}

export const DEFAULT_ADDRESS_POLICY: AddressPolicy = { allow: [] };

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'localhost']);

const blocked = new BlockList();
blocked.addSubnet('127.0.0.0', 8, 'ipv4');
blocked.addSubnet('0.0.0.0', 8, 'ipv4');
blocked.addSubnet('169.254.0.0', 16, 'ipv4');
blocked.addAddress('100.100.100.200', 'ipv4');
blocked.addAddress('168.63.129.16', 'ipv4');
blocked.addAddress('::1', 'ipv6');
blocked.addAddress('::', 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');
blocked.addAddress('fd00:ec2::254', 'ipv6');

/** The IPv4 address an IPv6 address embeds (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), if any. */
function embeddedV4(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const a = parseInt(hex[1]!, 16);
    const b = parseInt(hex[2]!, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return undefined;
}

/** Why `ip` is internal (loopback, link-local, metadata, unspecified), or undefined for an ordinary address. */
export function internalAddress(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return undefined;
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4) return internalAddress(v4);
  }
  if (!blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
  if (ip.startsWith('127.') || ip === '::1') return 'a loopback address';
  if (ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip)) return ip === '169.254.169.254' ? 'the cloud metadata service' : 'a link-local address';
  if (ip.startsWith('0.') || ip === '::') return 'an unspecified address';
  return 'a cloud metadata address';
}

interface AllowEntry {
  host?: string;
  port?: number;
  cidr?: BlockList;
  problem?: string;
}

/** One `allow` entry: `host`, `host:port`, `[v6]:port`, an IP, or a CIDR. */
export function parseAllowEntry(raw: string): AllowEntry {
  const e = raw.trim().toLowerCase();
  const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/.exec(e);
  if (cidr) {
    const family = isIP(cidr[1]!);
    const bits = Number(cidr[2]);
    if (family === 0 || bits > (family === 4 ? 32 : 128)) return { problem: `"${raw}" is not a valid CIDR` };
    const list = new BlockList();
    list.addSubnet(cidr[1]!, bits, family === 4 ? 'ipv4' : 'ipv6');
    return { cidr: list };
  }
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+|[0-9a-f:]+))(?::(\d{1,5}))?$/.exec(e);
  if (!m) return { problem: `"${raw}" is not a host, host:port or CIDR` };
  // A bare IPv6 address has colons; only the bracketed form carries a port.
  if (m[2] && isIP(m[2]) === 6) return { host: m[2] };
  const port = m[3] ? Number(m[3]) : undefined;
  if (port !== undefined && port > 65535) return { problem: `"${raw}": port out of range` };
  return { host: m[1] ?? m[2]!, ...(port !== undefined ? { port } : {}) };
}

function allowed(policy: AddressPolicy, host: string, port: number, ip?: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of policy.allow) {
    const e = parseAllowEntry(raw);
    if (e.problem) continue;
    if (e.host !== undefined && (e.host === h || (ip !== undefined && e.host === ip)) && (e.port === undefined || e.port === port)) return true;
    if (e.cidr && ip !== undefined && isIP(ip) !== 0 && e.cidr.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6')) return true;
  }
  return false;
}

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);

/**
 * Checks what can be checked before resolving: the scheme, metadata host names and literal IP addresses.
 * Throws BlockedAddressError naming the host and why. (URL parsing normalizes `0x7f.1`, `2130706433`, … to
 * dotted IPv4, so those forms are caught here too.)
 */
export function checkUrl(raw: string, policy: AddressPolicy): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BlockedAddressError(`"${redactUrl(raw)}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BlockedAddressError(`${u.protocol} URLs are not supported (http or https only)`);
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = defaultPort(u);
  if (allowed(policy, host, port, isIP(host) ? host : undefined)) return u;
  if (METADATA_HOSTS.has(host) || host.endsWith('.localhost')) throw new BlockedAddressError(`${host} is refused: an internal host (allow it with the operator's --allow-internal-hosts)`);
  const why = internalAddress(host);
  if (why) throw new BlockedAddressError(`${host} is refused: ${why} (allow it with the operator's --allow-internal-hosts)`);
  return u;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => void;

/**
 * A `lookup` for node's http/https: resolves as usual, then refuses internal addresses (unless allowed), so the
 * address checked is the address connected to. `port` is the request's port (for host:port allow entries).
 */
export function guardedLookup(policy: AddressPolicy, port: number, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true } as never, ((err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) return callback(err, options.all ? [] : '', undefined);
      const ok = addresses.filter((a) => !internalAddress(a.address) || allowed(policy, hostname, port, a.address));
      if (ok.length === 0) {
        const first = addresses[0]?.address ?? '?';
        const e = new BlockedAddressError(`${hostname} resolves to ${first}, ${internalAddress(first) ?? 'an internal address'}; refused (allow it with the operator's --allow-internal-hosts)`) as NodeJS.ErrnoException;
        e.code = 'EDSABLOCKED';
        return callback(e, options.all ? [] : '', undefined);
      }
      if (options.all) return callback(null, ok);
      callback(null, ok[0]!.address, ok[0]!.family);
    }) as never);
  };
}

/** `https://user:token@host/x` → `https://host/x`: URLs in messages never carry credentials. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (!u.username && !u.password) return raw;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//');
  }
}
