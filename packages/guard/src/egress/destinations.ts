/**
 * Egress destinations: the grammar of `egress.allow` entries, the addresses that are sensitive
 * whatever the list says (instance and container metadata), and the matcher the egress hooks ask.
 *
 * Grammar (one entry; ports are optional and 1–65535):
 * - `api.example.com`, `api.example.com:443` — exactly that name (case-insensitive, a trailing dot
 *   ignored);
 * - `*.example.com`, `*.example.com:443` — any name ending in `.example.com`, at any depth; not
 *   `example.com` itself;
 * - `*`, `*:443` — any name and any address, except the metadata addresses below;
 * - `10.0.0.5`, `10.0.0.0/8`, `10.0.0.0/8:5432` — an IPv4 address or CIDR block;
 * - `fd00::1`, `fd00::/8`, `[fd00::1]:443`, `[fd00::/8]:443` — IPv6 (brackets when a port follows).
 *
 * Semantics. A name entry matches the host as the caller wrote it, before any DNS lookup; an
 * address entry matches an IP literal, or the address a name resolved to. An entry without a port
 * matches every port; a question with no port (a DNS query) matches entries whatever their port.
 * IPv4-mapped IPv6 addresses (`::ffff:169.254.169.254`) are matched as the IPv4 address they carry.
 *
 * Metadata addresses (`METADATA_ADDRESSES`) are reachable only through an IP or CIDR entry that
 * covers them: neither `*` nor a name entry lets a connection reach them, so a hostname that
 * resolves there (DNS rebinding, `169.254.169.254.nip.io`) is caught at the lookup.
 *
 * Everything here is pure and runs on strings and numbers only; the hooks cache its answers.
 */
import { GuardError } from '../errors.js';

const { freeze } = Object;
const mathMin = Math.min;
const apply = Reflect.apply;
const call = Function.prototype.call;
const bind = Function.prototype.bind;
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const stringSlice = uncurry(String.prototype.slice as (this: string, start?: number, end?: number) => string);
const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, search: string) => number);
const stringLastIndexOf = uncurry(String.prototype.lastIndexOf as (this: string, search: string) => number);
const stringToLowerCase = uncurry(String.prototype.toLowerCase as (this: string) => string);
const stringEndsWith = uncurry(String.prototype.endsWith as (this: string, search: string) => boolean);
const stringSplit = uncurry(String.prototype.split as (this: string, separator: string) => string[]);
const charCodeAt = uncurry(String.prototype.charCodeAt as (this: string, index: number) => number);
const regexpTest = uncurry(RegExp.prototype.test as (this: RegExp, text: string) => boolean);

/** A parsed IP address: family and big-endian 16-bit groups (2 for IPv4, 8 for IPv6). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly groups: readonly number[];
}

/** One parsed `egress.allow` entry. */
export type Destination =
  | { readonly kind: 'host'; readonly text: string; readonly name: string; readonly port: number | null }
  | { readonly kind: 'suffix'; readonly text: string; readonly suffix: string; readonly port: number | null }
  | { readonly kind: 'any'; readonly text: string; readonly port: number | null }
  | {
      readonly kind: 'cidr';
      readonly text: string;
      readonly address: IpAddress;
      readonly prefix: number;
      readonly port: number | null;
    };

/** What the entry grammar accepts, as errors and docs print it. */
export const DESTINATION_GRAMMAR =
  'a host ("api.example.com"), a "*.suffix" wildcard ("*.amazonaws.com"), "*", an IP or CIDR ' +
  '("10.0.0.0/8", "fd00::/8"), each optionally with ":port" ("*.amazonaws.com:443", "[fd00::1]:443")';

/**
 * Instance and container metadata / credential addresses: IMDS (169.254.169.254, fd00:ec2::254),
 * the ECS/Fargate/Lambda-container credential endpoint (169.254.170.2), the EKS Pod Identity agent
 * (169.254.170.23, fd00:ec2::23).
 */
export const METADATA_ADDRESSES: readonly string[] = freeze([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  'fd00:ec2::254',
  'fd00:ec2::23',
]);

const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const DIGITS = /^[0-9]+$/;

/** Parses one entry; throws a TypeError whose message says what is wrong with it. */
export function parseDestination(text: string): Destination {
  if (typeof text !== 'string' || text === '') throw new TypeError('it is empty');
  if (regexpTest(/\s/, text)) throw new TypeError('it contains whitespace');
  if (stringIndexOf(text, '://') >= 0 || stringIndexOf(text, '/') === 0) {
    throw new TypeError('it looks like a URL; write only the host (and port), e.g. "api.example.com:443"');
  }
  let body = text;
  let port: number | null = null;
  if (charCodeAt(text, 0) === 0x5b /* [ */) {
    const close = stringIndexOf(text, ']');
    if (close < 0) throw new TypeError('"[" without "]"');
    body = stringSlice(text, 1, close);
    const rest = stringSlice(text, close + 1);
    if (rest !== '') {
      if (charCodeAt(rest, 0) !== 0x3a) throw new TypeError(`unexpected ${JSON.stringify(rest)} after "]"`);
      port = parsePort(stringSlice(rest, 1));
    }
    return ipEntry(text, body, port, 6);
  }
  const colons = countColons(text);
  if (colons === 1) {
    const at = stringLastIndexOf(text, ':');
    body = stringSlice(text, 0, at);
    port = parsePort(stringSlice(text, at + 1));
  } else if (colons > 1) {
    return ipEntry(text, text, null, 6); // a bare IPv6 address or block: no port without brackets
  }
  if (body === '*') return freeze({ kind: 'any', text, port });
  if (stringIndexOf(body, '/') >= 0 || regexpTest(/^[0-9.]+$/, body)) return ipEntry(text, body, port, 4);
  const lower = trimDot(stringToLowerCase(body));
  if (stringSlice(lower, 0, 2) === '*.') {
    const suffix = stringSlice(lower, 1);
    checkName(stringSlice(suffix, 1));
    return freeze({ kind: 'suffix', text, suffix, port });
  }
  if (stringIndexOf(lower, '*') >= 0) {
    throw new TypeError('"*" is accepted only alone or as a leading "*." label');
  }
  checkName(lower);
  return freeze({ kind: 'host', text, name: lower, port });
}

/** Parses every entry of `egress.allow`; throws EPHEMERA_ERR_POLICY naming the first bad one. */
export function parseAllowList(entries: readonly string[], key = 'egress.allow'): readonly Destination[] {
  const out: Destination[] = [];
  for (let i = 0; i < entries.length; i++) {
    const text = entries[i] as string;
    try {
      out[out.length] = parseDestination(text);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new GuardError(
        'EPHEMERA_ERR_POLICY',
        `${key}[${i}] is ${JSON.stringify(text)}: ${why}; accepted: ${DESTINATION_GRAMMAR}`,
      );
    }
  }
  return freeze(out);
}

function ipEntry(text: string, body: string, port: number | null, expected: 4 | 6): Destination {
  const slash = stringIndexOf(body, '/');
  const ipText = slash < 0 ? body : stringSlice(body, 0, slash);
  const address = parseIp(ipText);
  if (address === undefined || address.family !== expected) {
    throw new TypeError(`${JSON.stringify(ipText)} is not an IPv${expected} address`);
  }
  const max = expected === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const bits = stringSlice(body, slash + 1);
    if (!regexpTest(DIGITS, bits) || Number(bits) > max) {
      throw new TypeError(`the prefix length ${JSON.stringify(bits)} is not an integer from 0 to ${max}`);
    }
    prefix = Number(bits);
  }
  return freeze({ kind: 'cidr', text, address, prefix, port });
}

function parsePort(text: string): number {
  if (!regexpTest(DIGITS, text) || text.length > 5 || Number(text) < 1 || Number(text) > 65535) {
    throw new TypeError(`the port ${JSON.stringify(text)} is not an integer from 1 to 65535`);
  }
  return Number(text);
}

function checkName(name: string): void {
  if (name === '' || name.length > 253) throw new TypeError('the host name is empty or too long');
  const labels = stringSplit(name, '.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as string;
    if (label.length > 63 || !regexpTest(HOST_LABEL, label)) {
      throw new TypeError(`${JSON.stringify(label)} is not a valid host name label`);
    }
  }
}

function countColons(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (charCodeAt(text, i) === 0x3a) n++;
  return n;
}

function trimDot(name: string): string {
  return name.length > 1 && stringEndsWith(name, '.') ? stringSlice(name, 0, -1) : name;
}

/** Normalises a host as callers write it: lower case, no trailing dot, no IPv6 brackets. */
export function normaliseHost(host: string): string {
  let h = host;
  if (h.length > 1 && charCodeAt(h, 0) === 0x5b && charCodeAt(h, h.length - 1) === 0x5d) {
    h = stringSlice(h, 1, -1);
  }
  return trimDot(stringToLowerCase(h));
}

// ---------------------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------------------

/**
 * Parses a dotted-quad IPv4 or an IPv6 address (with `::`, an embedded IPv4 tail, a `%zone`);
 * `undefined` for anything else. IPv4-mapped IPv6 is returned as IPv4.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (stringIndexOf(text, ':') < 0) return parseIpv4(text);
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  const g = v6.groups;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return freeze({ family: 4, groups: freeze([g[6] as number, g[7] as number]) });
  }
  return v6;
}

function parseIpv4(text: string): IpAddress | undefined {
  const parts = stringSplit(text, '.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!regexpTest(DIGITS, part) || part.length > 3 || (part.length > 1 && charCodeAt(part, 0) === 0x30)) {
      return undefined;
    }
    const n = Number(part);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return freeze({
    family: 4,
    groups: freeze([
      (bytes[0] as number) * 256 + (bytes[1] as number),
      (bytes[2] as number) * 256 + (bytes[3] as number),
    ]),
  });
}

function parseIpv6(input: string): IpAddress | undefined {
  const zone = stringIndexOf(input, '%');
  const text = zone < 0 ? input : stringSlice(input, 0, zone);
  const double = stringIndexOf(text, '::');
  if (double >= 0 && stringIndexOf(stringSlice(text, double + 1), '::') >= 0) return undefined;
  const head = double < 0 ? text : stringSlice(text, 0, double);
  const tail = double < 0 ? '' : stringSlice(text, double + 2);
  const headGroups = hextets(head);
  const tailGroups = hextets(tail);
  if (headGroups === undefined || tailGroups === undefined) return undefined;
  const total = headGroups.length + tailGroups.length;
  if (double < 0 ? total !== 8 : total > 7) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < headGroups.length; i++) groups[groups.length] = headGroups[i] as number;
  for (let i = 0; i < 8 - total; i++) groups[groups.length] = 0;
  for (let i = 0; i < tailGroups.length; i++) groups[groups.length] = tailGroups[i] as number;
  return freeze({ family: 6, groups: freeze(groups) });
}

/** `a:b:c` → groups; a last part in dotted-quad form counts as two groups. */
function hextets(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = stringSplit(text, ':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i === parts.length - 1 && stringIndexOf(part, '.') >= 0) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      out[out.length] = v4.groups[0] as number;
      out[out.length] = v4.groups[1] as number;
      continue;
    }
    if (!regexpTest(/^[0-9a-fA-F]{1,4}$/, part)) return undefined;
    out[out.length] = Number.parseInt(part, 16);
  }
  return out;
}

/** Whether `ip` lies in `block/prefix` (same family). */
export function inCidr(ip: IpAddress, block: IpAddress, prefix: number): boolean {
  if (ip.family !== block.family) return false;
  let bits = prefix;
  for (let i = 0; i < ip.groups.length && bits > 0; i++) {
    const take = mathMin(bits, 16);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((ip.groups[i] as number) & mask) !== ((block.groups[i] as number) & mask)) return false;
    bits -= take;
  }
  return true;
}

/** Canonical text of an address (IPv4 dotted quad, IPv6 lower-case groups without compression). */
export function formatIp(ip: IpAddress): string {
  const g = ip.groups;
  if (ip.family === 4) {
    const a = g[0] as number;
    const b = g[1] as number;
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  let out = '';
  for (let i = 0; i < g.length; i++) out += `${i === 0 ? '' : ':'}${(g[i] as number).toString(16)}`;
  return out;
}

const METADATA: readonly IpAddress[] = freeze(METADATA_ADDRESSES.map((a) => parseIp(a) as IpAddress));

/** Whether `ip` is one of the metadata / credential addresses. */
export function isMetadataAddress(ip: IpAddress): boolean {
  for (let i = 0; i < METADATA.length; i++) {
    const m = METADATA[i] as IpAddress;
    if (inCidr(ip, m, m.family === 4 ? 32 : 128)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------

function portMatches(entry: number | null, port: number | null): boolean {
  return entry === null || port === null || entry === port;
}

/** An allow-list ready to be asked. */
export interface DestinationMatcher {
  readonly entries: readonly Destination[];
  /** Whether any address (IP/CIDR) entry exists: then names not listed must be resolved to be judged. */
  readonly hasAddressEntries: boolean;
  /** A host name (normalised) against the name entries (`host`, `suffix`, `any`). */
  matchName(name: string, port: number | null): Destination | undefined;
  /** An address against the address entries; `*` counts unless the address is a metadata address. */
  matchAddress(ip: IpAddress, port: number | null): Destination | undefined;
}

/** Builds the matcher for parsed entries. */
export function createMatcher(entries: readonly Destination[]): DestinationMatcher {
  let hasAddressEntries = false;
  for (let i = 0; i < entries.length; i++) {
    if ((entries[i] as Destination).kind === 'cidr') hasAddressEntries = true;
  }
  return freeze({
    entries,
    hasAddressEntries,
    matchName(name: string, port: number | null): Destination | undefined {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as Destination;
        if (!portMatches(e.port, port)) continue;
        if (
          e.kind === 'host'
            ? e.name === name
            : e.kind === 'suffix'
              ? stringEndsWith(name, e.suffix)
              : e.kind === 'any'
        ) {
          return e;
        }
      }
      return undefined;
    },
    matchAddress(ip: IpAddress, port: number | null): Destination | undefined {
      const metadata = isMetadataAddress(ip);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as Destination;
        if (!portMatches(e.port, port)) continue;
        if (e.kind === 'cidr' ? inCidr(ip, e.address, e.prefix) : e.kind === 'any' && !metadata) return e;
      }
      return undefined;
    },
  });
}
