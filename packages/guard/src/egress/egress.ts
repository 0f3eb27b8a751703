/**
 * The egress control: every outbound connection and DNS query a function makes is checked against
 * `egress.allow` at the lowest JavaScript layer all clients share.
 *
 * Threat. An implant planted in a warm environment watches later requests and has to send what it
 * steals somewhere (an HTTP collector, a raw socket, a UDP packet, a DNS query carrying the data in
 * its name), or reads credentials from the instance/container metadata endpoints through an SSRF.
 * Refusing the destination refuses the exfiltration, whatever library the implant uses.
 *
 * Where the hooks sit (from JavaScript only, no native code):
 * - `net.Socket.prototype.connect` — `net.connect`, `tls.connect`, `http`, `https`, `http2`, the
 *   global `fetch` and undici (Node's bundled copy included: it calls node:net/node:tls), and every
 *   client built on them (the AWS SDK, pg, mysql2, axios…). Hosts are judged by name before any DNS
 *   query; the address a name resolves to is judged in a lookup function the hook hands to Node for
 *   that one connection (the caller's own `lookup` option, or `dns.lookup`, still does the work), so
 *   a name that resolves to a metadata address (DNS rebinding) is caught before `connect(2)`.
 * - `dns.lookup`, `dns.promises.lookup` and every `resolve*` of `dns`, `dns.promises` and both
 *   `Resolver` classes — a DNS query is an exfiltration channel by itself.
 * - `dgram.Socket.prototype.send` and `connect` — UDP.
 *
 * Contract.
 * - Always allowed, never inspected: the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`), the X-Ray
 *   daemon (`AWS_XRAY_DAEMON_ADDRESS`, when set), the guard's own telemetry endpoint and the container
 *   credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, which is only SSRF-checked): the guard
 *   must never cut the runtime, or the SDK's credentials, off. Unix sockets are not egress.
 * - `block`: a destination not allowed fails the way a network failure does — the socket emits
 *   'error' (asynchronously, through Node's own connect path), `fetch` rejects, a callback receives
 *   the error, a promise rejects — with EgressBlockedError (code EPHEMERA_ERR_EGRESS_BLOCKED). Never
 *   a synchronous throw. `alert`: the connection proceeds and is reported. `learn`: the connection
 *   proceeds and every destination is recorded (a `learn` event the first time, and a suggested
 *   policy fragment written to `learnFile` after each response).
 * - SSRF: a connection to a metadata address or the credentials endpoint whose host (or IP) appears
 *   in the current event's input is reported with `detector: 'ssrf'` and refused in `block` mode,
 *   even if the allow-list covers it.
 * - Each connection is also shown to the event firewall through `inspectSink('url', …)`; an Error
 *   from it fails the connection the same way.
 * - Events are deduplicated per invocation (same type, reason, destination and API), at most 256
 *   per invocation, and never carry payload data.
 * - Node connects with a copy of the caller's options whose host and port are the values judged:
 *   an options getter cannot answer "allowed" to the guard and something else to Node. The hot path is a Map lookup (decisions are cached by host and port), a few
 *   property reads and, for names, one small closure; no stack is captured unless a connection is
 *   refused.
 *
 * Not covered: references to `dns.lookup` or `dns.resolve*` taken before `install()` (connections
 * are still covered: the hook does not rely on them), `dns.reverse` and `dns.lookupService`
 * (reverse queries carry an address, not chosen data), sockets adopted from a file descriptor or
 * handle, `process.binding('tcp_wrap')` (the internals control's job), native addons, and child
 * processes (the childProcess control). Through an HTTP proxy, the destination is the proxy.
 *
 * Everything the hooks call is captured when this module loads; the state they read is private.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import Module from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FUNCTION_CODE, packageFromStack, packageMatcher } from '../attribution.js';
import type { GuardControl, GuardServices } from '../control.js';
import { GuardError } from '../errors.js';
import type { Policy } from '../policy.js';
import { inspectSink } from '../sink-inspector.js';
import type { GuardEventType } from '../telemetry.js';
import {
  createMatcher,
  type DestinationMatcher,
  formatIp,
  type IpAddress,
  isMetadataAddress,
  normaliseHost,
  parseAllowList,
  parseIp,
} from './destinations.js';

// ---------------------------------------------------------------------------------------------------
// Captured at load
// ---------------------------------------------------------------------------------------------------

const { apply, defineProperty, getOwnPropertyDescriptor } = Reflect;
const { freeze, keys: objectKeys, getOwnPropertySymbols } = Object;
const isArray = Array.isArray;
const jsonStringify = JSON.stringify;
const jsonParse = JSON.parse;
const SafeMap = Map;
const call = Function.prototype.call;
const bind = Function.prototype.bind;
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const mapGet = uncurry(Map.prototype.get as (this: Map<unknown, unknown>, key: unknown) => unknown);
const mapSet = uncurry(
  Map.prototype.set as (this: Map<unknown, unknown>, key: unknown, value: unknown) => Map<unknown, unknown>,
);
const mapHas = uncurry(Map.prototype.has as (this: Map<unknown, unknown>, key: unknown) => boolean);
const mapClear = uncurry(Map.prototype.clear as (this: Map<unknown, unknown>) => void);
const mapSize = uncurry(
  getOwnPropertyDescriptor(Map.prototype, 'size')?.get as (this: Map<unknown, unknown>) => number,
);
const stringIncludes = uncurry(String.prototype.includes as (this: string, search: string) => boolean);
const stringToLowerCase = uncurry(String.prototype.toLowerCase as (this: string) => string);
const stringSplit = uncurry(String.prototype.split as (this: string, separator: RegExp | string) => string[]);
const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, search: string) => number);
const arraySort = uncurry(Array.prototype.sort as (this: string[]) => string[]);
const promiseThen = uncurry(
  Promise.prototype.then as (this: Promise<unknown>, ok: (v: unknown) => unknown) => Promise<unknown>,
);
const promiseReject = Promise.reject.bind(Promise) as (reason: unknown) => Promise<never>;
const nextTick = process.nextTick;
const URLIntrinsic = URL;
const BufferFrom = Buffer.from;
const bufferToString = uncurry(
  Buffer.prototype.toString as (this: Buffer, encoding?: BufferEncoding) => string,
);
const isIP = net.isIP;
const writeFileSync = fs.writeFileSync;
const readFileSync = fs.readFileSync;
const renameSync = fs.renameSync;
const pathJoin = path.join;
const tmpdir = os.tmpdir;
const syncBuiltinESMExports = Module.syncBuiltinESMExports;
const emit = uncurry(
  (dgram.Socket.prototype as unknown as { emit: (this: unknown, ...a: unknown[]) => boolean }).emit,
);
// Read when this module loads, so `inspectSink` cannot be redirected through the exports object later.
const inspect = inspectSink;
/** The marker net.connect puts on its already-normalised argument arrays. */
const NORMALISED: symbol | undefined = (() => {
  try {
    const probe = (net as unknown as { _normalizeArgs?: (a: unknown[]) => unknown[] })._normalizeArgs;
    return probe === undefined ? undefined : getOwnPropertySymbols(probe([{ port: 1 }]))[0];
  } catch {
    return undefined;
  }
})();

// ---------------------------------------------------------------------------------------------------
// Public surface
// ---------------------------------------------------------------------------------------------------

/** Stable error code of a refused connection (docs/errors.md). */
export const EGRESS_BLOCKED = 'EPHEMERA_ERR_EGRESS_BLOCKED';

/** Why a destination was refused or reported. */
export type EgressReason = 'not-allowed' | 'metadata-address' | 'ssrf' | 'package-not-allowed';

/** How the destination was reached. */
export type EgressTransport = 'tcp' | 'udp' | 'dns';

/** One destination as events and errors name it (never any payload). */
export interface EgressTarget {
  /** The host as the caller wrote it (lower-cased, no brackets, no trailing dot). */
  readonly host: string;
  /** null for a DNS query. */
  readonly port: number | null;
  /** The resolved (or literal) IP address, when known. */
  readonly ip: string | null;
  readonly transport: EgressTransport;
  /** The hooked API: `net`, `tls`, `http`, `https`, `http2`, `dgram.send`, `dns.lookup`, … */
  readonly api: string;
}

/** One decision, as reported to the guard. */
export interface EgressDecision extends EgressTarget {
  /** `block`: refused; `alert`: let through and reported; `learn`: a destination seen for the first time. */
  readonly action: 'block' | 'alert' | 'learn';
  /** null for `learn`. */
  readonly reason: EgressReason | null;
  /** `ssrf` when the destination is a metadata/credentials endpoint named by the event. */
  readonly detector: 'ssrf' | null;
  /** For `learn`: the allow-list entry that would allow this destination. */
  readonly suggestion: string | null;
  /** INIT, during an invocation, or between invocations (a timer or promise left by one). */
  readonly phase: 'init' | 'invocation' | 'between-invocations';
  /**
   * The package whose code made the call (from the stack, taken only when a decision is reported):
   * `pg`, `function code`, or null when the stack no longer holds the caller (see attribution.ts).
   */
  readonly package: string | null;
}

export interface EgressOptions {
  readonly action: 'block' | 'alert' | 'learn';
  /** `egress.allow` entries (validated here: a bad entry throws EPHEMERA_ERR_POLICY). */
  readonly allow: readonly string[];
  /** Where the runtime's addresses are read (default `process.env`, read once). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The guard's telemetry endpoint, always allowed. */
  readonly telemetryEndpoint?: string | null;
  /** Receives every decision; must not throw (a throw is swallowed). */
  readonly onDecision?: (decision: EgressDecision) => void;
  /** Where `learn` writes its suggested fragment; default `<tmpdir>/ephemera-egress-learned.json`. */
  readonly learnFile?: string;
  /** `egress.packages`: packages whose code may connect at all; absent or `['*']`: every package. */
  readonly packages?: readonly string[];
}

/** What `install()` did, for the guard's init event. */
export interface EgressInstallReport {
  readonly action: 'block' | 'alert' | 'learn';
  readonly allow: readonly string[];
  readonly alwaysAllowed: readonly string[];
  readonly hooked: readonly string[];
  readonly unavailable: readonly string[];
}

export interface EgressControl {
  readonly action: 'block' | 'alert' | 'learn';
  /** Installs the hooks (once per process) and makes this control the one they consult. */
  install(): EgressInstallReport;
  /** Stops this control from being consulted (the hooks then pass everything through). */
  deactivate(): void;
  /** Marks an invocation's start (with its event) or end. */
  setInvocation(ctx: { readonly active: boolean; readonly event?: unknown }): void;
  /** Destinations recorded so far in `learn` mode, as allow-list entries (sorted). */
  learned(): readonly string[];
  /** Writes the learned fragment if it changed; returns whether a file was written. Never throws. */
  flushLearned(): boolean;
}

/** The error a refused connection fails with: code EPHEMERA_ERR_EGRESS_BLOCKED, named destination. */
export class EgressBlockedError extends GuardError {
  readonly hostname: string;
  readonly port: number | null;
  readonly address: string | null;
  readonly api: string;
  readonly reason: EgressReason;
  readonly syscall: string;
  constructor(target: EgressTarget, reason: EgressReason) {
    const where = `${hostForUrl(target.host)}${target.port === null ? '' : `:${target.port}`}`;
    const via = target.ip !== null && target.ip !== target.host ? ` (resolved to ${target.ip})` : '';
    const what =
      target.transport === 'dns' ? `a DNS query for ${where}` : `an outbound connection to ${where}`;
    super(
      EGRESS_BLOCKED,
      `Ephemera refused ${what}${via} through ${target.api}: ${REASON_TEXT[reason]} (${EGRESS_BLOCKED})`,
    );
    this.hostname = target.host;
    this.port = target.port;
    this.address = target.ip;
    this.api = target.api;
    this.reason = reason;
    this.syscall =
      target.transport === 'dns' ? 'getaddrinfo' : target.api === 'dgram.send' ? 'send' : 'connect';
  }
}

const REASON_TEXT: Readonly<Record<EgressReason, string>> = freeze({
  'not-allowed': 'the destination is not in egress.allow',
  'metadata-address':
    'it is an instance/container metadata address, reachable only through an IP or CIDR entry of egress.allow',
  ssrf: 'a metadata or credentials endpoint named by the current event (SSRF)',
  'package-not-allowed': 'the package making the call is not in egress.packages',
});

/** Where `learn` writes by default (`/tmp/ephemera-egress-learned.json` on Lambda). */
export function defaultLearnFile(): string {
  return pathJoin(tmpdir(), 'ephemera-egress-learned.json');
}

// ---------------------------------------------------------------------------------------------------
// State and decisions
// ---------------------------------------------------------------------------------------------------

const PHASE_INIT = 0;
const PHASE_INVOCATION = 1;
const PHASE_BETWEEN = 2;

/** Host judgement codes. */
const J_PASS = 0; // always allowed (runtime): nothing else happens
const J_ALLOW = 1; // an IP literal that is allowed
const J_DENY = 2; // refused before any DNS query
const J_NAME_OK = 3; // a name the list allows: its addresses are checked for metadata only
const J_RESOLVE = 4; // a name the list does not allow: its addresses decide (address entries)

interface HostJudgement {
  readonly code: number;
  readonly reason: EgressReason | null;
  /** The literal's canonical text, for IP literals. */
  readonly ip: string | null;
  /** A metadata address, or the credentials endpoint: SSRF-checked. */
  readonly sensitive: boolean;
}

interface State {
  readonly action: 'block' | 'alert' | 'learn';
  readonly matcher: DestinationMatcher;
  /** `t|host|port` / `u|host|port` → what it is (runtime, xray, telemetry, credentials). */
  readonly always: Map<string, string>;
  readonly credentials: string | null;
  readonly onDecision: ((decision: EgressDecision) => void) | undefined;
  /** `egress.packages` as a matcher; undefined when every package may connect (no stack is taken). */
  readonly packageAllowed: ((name: string) => boolean) | undefined;
  readonly learnFile: string;
  readonly cache: Map<string, HostJudgement>;
  readonly learnedSet: Map<string, true>;
  phase: number;
  event: unknown;
  inputs: string[] | undefined;
  reported: Map<string, true>;
  learnDirty: boolean;
}

let current: State | undefined;
/** Set while a hooked connection's own lookup runs, so the dns.lookup hook lets it through. */
let insideConnect = false;
/** Set while a hooked dgram call runs: the dns.lookup it makes is judged with this port and API. */
let udpContext: { readonly port: number; readonly api: string } | undefined;

const CACHE_LIMIT = 4096;
/** Most distinct egress events per invocation (and per stretch between two invocations). */
const MAX_REPORTS_PER_INVOCATION = 256;

function judgeHost(st: State, host: string, port: number | null, transport: EgressTransport): HostJudgement {
  const key = `${transport === 'udp' ? 'u' : 't'}|${host}|${port === null ? '' : port}`;
  const cached = mapGet(st.cache, key) as HostJudgement | undefined;
  if (cached !== undefined) return cached;
  const judgement = computeHost(st, key, host, port);
  if (mapSize(st.cache) >= CACHE_LIMIT) mapClear(st.cache);
  mapSet(st.cache, key, judgement);
  return judgement;
}

function computeHost(st: State, key: string, host: string, port: number | null): HostJudgement {
  const always = mapGet(st.always, key) as string | undefined;
  if (always !== undefined) {
    return freeze({ code: J_PASS, reason: null, ip: null, sensitive: always === 'credentials' });
  }
  const ip = isIP(host) === 0 ? undefined : parseIp(host);
  if (ip !== undefined) {
    const address = judgeAddress(st, ip, port, false);
    return freeze({
      code: address.reason === null ? J_ALLOW : J_DENY,
      reason: address.reason,
      ip: formatIp(ip),
      sensitive: address.sensitive,
    });
  }
  if (st.matcher.matchName(host, port) !== undefined) {
    return freeze({ code: J_NAME_OK, reason: null, ip: null, sensitive: false });
  }
  if (st.matcher.hasAddressEntries)
    return freeze({ code: J_RESOLVE, reason: null, ip: null, sensitive: false });
  return freeze({ code: J_DENY, reason: 'not-allowed', ip: null, sensitive: false });
}

/** An address (literal or resolved): refused reason (or null) and whether it is SSRF-sensitive. */
function judgeAddress(
  st: State,
  ip: IpAddress,
  port: number | null,
  nameAllowed: boolean,
): { reason: EgressReason | null; sensitive: boolean } {
  const metadata = isMetadataAddress(ip);
  const entry = st.matcher.matchAddress(ip, port);
  if (metadata) return { reason: entry === undefined ? 'metadata-address' : null, sensitive: true };
  return { reason: nameAllowed || entry !== undefined ? null : 'not-allowed', sensitive: false };
}

function phaseName(st: State): EgressDecision['phase'] {
  return st.phase === PHASE_INIT
    ? 'init'
    : st.phase === PHASE_INVOCATION
      ? 'invocation'
      : 'between-invocations';
}

function report(
  st: State,
  action: 'block' | 'alert' | 'learn',
  reason: EgressReason | null,
  target: EgressTarget,
  suggestion: string | null,
  pkg?: string | null,
): void {
  const key = `${action}|${reason}|${target.host}|${target.port}|${target.api}`;
  // Bounded: an implant looping over destinations must not flood the log (or the memory) either.
  if (mapHas(st.reported, key) || mapSize(st.reported) >= MAX_REPORTS_PER_INVOCATION) return;
  mapSet(st.reported, key, true);
  const onDecision = st.onDecision;
  if (onDecision === undefined) return;
  try {
    onDecision(
      freeze({
        action,
        reason,
        detector: reason === 'ssrf' ? 'ssrf' : null,
        suggestion,
        phase: phaseName(st),
        host: target.host,
        port: target.port,
        ip: target.ip,
        transport: target.transport,
        api: target.api,
        // Taken here, on the rare reported decision only: never on an allowed connection's path.
        package: pkg === undefined ? packageFromStack() : pkg,
      }),
    );
  } catch {
    // Reporting must never break the caller's connection.
  }
}

/**
 * The final word on one destination once its address is known (or for a literal): SSRF first, then
 * the list. Returns the error to fail with, or undefined to let the connection proceed.
 */
function settle(
  st: State,
  target: EgressTarget,
  reason: EgressReason | null,
  sensitive: boolean,
): Error | undefined {
  if (sensitive && namedByEvent(st, target, reason === null && target.ip === null)) {
    const act = st.action === 'block' ? 'block' : 'alert';
    report(st, act, 'ssrf', target, null);
    if (act === 'block') return new EgressBlockedError(target, 'ssrf');
  }
  if (reason === null || st.action === 'learn') return undefined;
  report(st, st.action, reason, target, null);
  return st.action === 'block' ? new EgressBlockedError(target, reason) : undefined;
}

/**
 * `egress.packages`: refuse (block) or report (alert) a connection made from a package not listed,
 * whatever its destination. The stack is taken only when the list is set; a call whose stack no
 * longer holds its caller (null) and the function's own code are not judged here.
 */
function packageRefusal(st: State, target: EgressTarget): Error | undefined {
  const allowed = st.packageAllowed;
  if (allowed === undefined || st.action === 'learn') return undefined;
  const pkg = packageFromStack();
  if (pkg === null || pkg === FUNCTION_CODE || allowed(pkg)) return undefined;
  report(st, st.action, 'package-not-allowed', target, null, pkg);
  return st.action === 'block' ? new EgressBlockedError(target, 'package-not-allowed') : undefined;
}

/** learn: record the destination as the entry that would allow it. */
function learn(st: State, target: EgressTarget): void {
  const entry =
    target.port === null
      ? hostForEntry(target.host)
      : `${target.host === '' ? '' : hostForEntry(target.host)}:${target.port}`;
  if (mapHas(st.learnedSet, entry)) return;
  mapSet(st.learnedSet, entry, true);
  st.learnDirty = true;
  report(st, 'learn', null, target, entry);
}

function hostForEntry(host: string): string {
  return stringIndexOf(host, ':') >= 0 ? `[${host}]` : host;
}

function hostForUrl(host: string): string {
  return stringIndexOf(host, ':') >= 0 ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------------------
// SSRF: does the current event name this destination?
// ---------------------------------------------------------------------------------------------------

const MAX_INPUT_STRINGS = 2000;
const MAX_INPUT_NODES = 20000;
const MAX_DEPTH = 16;

/**
 * Whether the current event's input names the destination: its host or address, or a URL whose
 * host parses to it. `authority`: the destination is a shared endpoint (the credentials endpoint on
 * loopback), named only by `host:port`, so that an event merely carrying "127.0.0.1" is not SSRF.
 */
function namedByEvent(st: State, target: EgressTarget, authority: boolean): boolean {
  if (st.phase === PHASE_INIT || st.event === undefined) return false;
  let inputs = st.inputs;
  if (inputs === undefined) {
    inputs = eventStrings(st.event);
    st.inputs = inputs;
  }
  const needles: string[] = [];
  if (authority) needles[needles.length] = `${hostForUrl(target.host)}:${target.port}`;
  else {
    if (target.host !== '') needles[needles.length] = target.host;
    if (target.ip !== null && target.ip !== target.host) needles[needles.length] = target.ip;
  }
  for (let i = 0; i < inputs.length; i++) {
    const text = inputs[i] as string;
    for (let j = 0; j < needles.length; j++) {
      if (stringIncludes(text, needles[j] as string)) return true;
    }
    if (!authority && stringIncludes(text, '://') && urlHostsMatch(text, target)) return true;
  }
  return false;
}

/** URLs in the text, parsed as fetch would: `http://2852039166/` names 169.254.169.254. */
function urlHostsMatch(text: string, target: EgressTarget): boolean {
  const tokens = stringSplit(text, /[\s"'<>`=(),;]+/);
  for (let i = 0; i < tokens.length && i < 200; i++) {
    const token = tokens[i] as string;
    if (!stringIncludes(token, '://')) continue;
    let hostname: string;
    try {
      hostname = normaliseHost(new URLIntrinsic(token).hostname);
    } catch {
      continue;
    }
    if (hostname === target.host) return true;
    const ip = isIP(hostname) === 0 ? undefined : parseIp(hostname);
    if (ip !== undefined && target.ip !== null && formatIp(ip) === target.ip) return true;
  }
  return false;
}

/** The event's strings, lower-cased (bounded walk; JSON and base64 bodies opened). */
function eventStrings(event: unknown): string[] {
  const out: string[] = [];
  const stack: { value: unknown; depth: number }[] = [{ value: event, depth: 0 }];
  let nodes = 0;
  try {
    while (stack.length > 0 && out.length < MAX_INPUT_STRINGS && nodes < MAX_INPUT_NODES) {
      const item = stack.pop() as { value: unknown; depth: number };
      nodes++;
      const { value, depth } = item;
      if (typeof value === 'string') {
        out[out.length] = stringToLowerCase(value);
        continue;
      }
      if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) continue;
      if (isArray(value)) {
        for (let i = 0; i < value.length && i < MAX_INPUT_NODES; i++) {
          stack[stack.length] = { value: (value as unknown[])[i], depth: depth + 1 };
        }
        continue;
      }
      const record = value as Record<string, unknown>;
      const base64 = record.isBase64Encoded === true && typeof record.body === 'string';
      const names = objectKeys(record);
      for (let i = 0; i < names.length && i < MAX_INPUT_NODES; i++) {
        const name = names[i] as string;
        let field = record[name];
        if (base64 && name === 'body') {
          field = bufferToString(apply(BufferFrom, Buffer, [field, 'base64']) as Buffer, 'utf8');
        }
        stack[stack.length] = { value: field, depth: depth + 1 };
      }
    }
  } catch {
    // An exotic event (a throwing getter): match what was collected.
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// TCP: net.Socket.prototype.connect
// ---------------------------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: the wrapped built-ins take any arguments
type AnyFunction = (...args: any[]) => any;
type LookupFn = (hostname: string, options: unknown, callback: AnyFunction) => unknown;

interface SocketLike {
  readonly encrypted?: boolean;
  readonly _parent?: { readonly connecting?: boolean } | null;
}

/** Stands in for an IP literal that must fail through Node's lookup path (it is never resolved). */
const PLACEHOLDER_HOST = 'egress-refused.ephemera.invalid';

function tcpApi(socket: SocketLike, options: Record<string, unknown>): string {
  const tls = socket.encrypted === true;
  if (options._agentKey !== undefined) return tls ? 'https' : 'http';
  if (tls) {
    const alpn = options.ALPNProtocols;
    return isArray(alpn) && alpn.length === 1 && alpn[0] === 'h2' ? 'http2' : 'tls';
  }
  return 'net';
}

function toPort(value: unknown): number | undefined {
  if (typeof value === 'number') return value >= 0 && value <= 65535 && value % 1 === 0 ? value : undefined;
  if (typeof value === 'string' && value !== '' && value.length <= 5) {
    const n = Number(value);
    return n >= 0 && n <= 65535 && n % 1 === 0 ? n : undefined;
  }
  return undefined;
}

function wrapConnect(original: AnyFunction): AnyFunction {
  return function connect(this: SocketLike, ...args: unknown[]): unknown {
    const st = current;
    if (st === undefined) return apply(original, this, args);
    // A TLS socket over a socket still connecting: the underlying socket's connect was judged.
    if (this._parent?.connecting) return apply(original, this, args);
    const first = args[0];
    let options: Record<string, unknown>;
    let form: 0 | 1 | 2; // normalised array, options object, (port, host, cb)
    if (
      isArray(first) &&
      (NORMALISED === undefined || (first as unknown as Record<symbol, unknown>)[NORMALISED])
    ) {
      options = first[0] as Record<string, unknown>;
      form = 0;
    } else if (typeof first === 'object' && first !== null) {
      options = first as Record<string, unknown>;
      form = 1;
    } else {
      if (typeof first === 'string' && toPort(first) === undefined) return apply(original, this, args); // a pipe
      options = { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
      form = 2;
    }
    if (typeof options !== 'object' || options === null || options.path != null)
      return apply(original, this, args);
    // Each option is read once: Node connects with the copy below, where host and port are the
    // values judged (a getter answering "allowed" to the guard and "evil" to Node gains nothing).
    const rawPort = options.port;
    const rawHost = options.host;
    const port = toPort(rawPort);
    if (port === undefined || (rawHost != null && typeof rawHost !== 'string'))
      return apply(original, this, args);
    const host = normaliseHost((rawHost as string | undefined) || 'localhost');
    const judgement = judgeHost(st, host, port, 'tcp');
    const derived = form === 2 ? options : copyOptions(options);
    derived.host = rawHost;
    derived.port = rawPort;
    if (judgement.code === J_PASS && !judgement.sensitive) {
      return apply(original, this, replaceOptions(args, form, derived));
    }
    const api = tcpApi(this, options);
    const target: EgressTarget = { host, port, ip: judgement.ip, transport: 'tcp', api };
    const code = judgement.code;
    if (st.action === 'learn' && code !== J_PASS) learn(st, target);
    let refusal: Error | undefined =
      code === J_PASS
        ? undefined
        : inspect('url', `${this.encrypted === true ? 'tls' : 'tcp'}://${hostForUrl(host)}:${port}`, {
            sink: api,
          });
    if (refusal === undefined && code !== J_PASS) refusal = packageRefusal(st, target);
    if (refusal === undefined) {
      if (judgement.ip !== null || code === J_PASS) {
        // An IP literal (no lookup will happen) or the credentials endpoint: decided now.
        refusal = settle(st, target, judgement.reason, judgement.sensitive);
        if (refusal === undefined) return apply(original, this, replaceOptions(args, form, derived));
      } else if (code === J_DENY) {
        // A name the list does not allow: refused before any DNS query leaves the sandbox.
        if (st.action !== 'learn') report(st, st.action, judgement.reason, target, null);
        if (st.action === 'block')
          refusal = new EgressBlockedError(target, judgement.reason ?? 'not-allowed');
      }
    }
    if (refusal !== undefined) {
      // Fail through Node's own path: connect() sets its state, the lookup fails, the socket is
      // destroyed with the error on a later tick and emits 'error' — as for ENOTFOUND.
      const error = refusal;
      if (isIP(host) !== 0) derived.host = PLACEHOLDER_HOST;
      derived.lookup = function lookup(_h: string, _o: unknown, callback: AnyFunction): void {
        apply(nextTick, process, [callback, error]);
      };
    } else {
      // A name: its addresses are judged (and SSRF-checked) before Node connects to them.
      derived.lookup = checkedLookup(st, target, code === J_NAME_OK, derived.lookup as LookupFn | undefined);
    }
    return apply(original, this, replaceOptions(args, form, derived));
  };
}

/**
 * A copy of the caller's options (never mutated: a reused options object would collect lookups).
 * Enumerable keys, inherited included, and own symbols. Not `Object.create(options)`: turning each
 * options object into a prototype costs V8 tens of microseconds per connection (measured here).
 */
function copyOptions(options: Record<string | symbol, unknown>): Record<string, unknown> {
  const out: Record<string | symbol, unknown> = {};
  for (const key in options) out[key] = options[key];
  const symbols = getOwnPropertySymbols(options);
  for (let i = 0; i < symbols.length; i++) out[symbols[i] as symbol] = options[symbols[i] as symbol];
  return out as Record<string, unknown>;
}

function replaceOptions(args: unknown[], form: 0 | 1 | 2, derived: Record<string, unknown>): unknown[] {
  if (form === 0) {
    (args[0] as unknown[])[0] = derived; // net.connect's own normalised array, owned by Node
    return args;
  }
  const out: unknown[] = [derived];
  if (form === 1) {
    for (let i = 1; i < args.length; i++) out[out.length] = args[i];
  } else {
    const last = args[args.length - 1];
    if (typeof last === 'function') out[out.length] = last;
  }
  return out;
}

/**
 * The lookup handed to Node for one connection: the caller's own lookup (or `dns.lookup`) resolves,
 * then every address is judged before Node connects to it.
 */
function checkedLookup(
  st: State,
  target: EgressTarget,
  nameAllowed: boolean,
  callerLookup: LookupFn | undefined,
): LookupFn {
  return function lookup(hostname: string, options: unknown, callback: AnyFunction): unknown {
    const underlying =
      typeof callerLookup === 'function' ? callerLookup : (dns.lookup as unknown as LookupFn);
    insideConnect = true;
    try {
      return apply(underlying, undefined, [
        hostname,
        options,
        function onLookup(error: unknown, address: unknown, family: unknown): void {
          if (error) {
            callback(error, address, family);
            return;
          }
          const refusal = judgeResolved(st, target, nameAllowed, address);
          if (refusal !== undefined) callback(refusal);
          else callback(error, address, family);
        },
      ]);
    } finally {
      insideConnect = false;
    }
  };
}

/** Judges what a lookup returned (one address, or `all: true`'s array); returns a refusal or undefined. */
function judgeResolved(
  st: State,
  target: EgressTarget,
  nameAllowed: boolean,
  address: unknown,
): Error | undefined {
  if (isArray(address)) {
    for (let i = 0; i < address.length; i++) {
      const entry = address[i] as { address?: unknown } | string;
      const text = typeof entry === 'string' ? entry : entry?.address;
      const refusal = judgeOneResolved(st, target, nameAllowed, text);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
  return judgeOneResolved(st, target, nameAllowed, address);
}

function judgeOneResolved(
  st: State,
  target: EgressTarget,
  nameAllowed: boolean,
  text: unknown,
): Error | undefined {
  if (typeof text !== 'string') return undefined; // Node rejects what is not an address itself
  const ip = parseIp(text);
  if (ip === undefined) return undefined;
  const { reason, sensitive } = judgeAddress(st, ip, target.port, nameAllowed);
  const resolved: EgressTarget = {
    host: target.host,
    port: target.port,
    ip: formatIp(ip),
    transport: target.transport,
    api: target.api,
  };
  return settle(st, resolved, reason, sensitive);
}

// ---------------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------------

function lastFunction(args: unknown[]): AnyFunction | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as AnyFunction) : undefined;
}

/** `dns.lookup` (also what dgram sockets and libraries without their own lookup call). */
function wrapLookup(original: AnyFunction): AnyFunction {
  return function lookup(this: unknown, ...args: unknown[]): unknown {
    const st = current;
    const hostname = args[0];
    if (
      st === undefined ||
      insideConnect ||
      typeof hostname !== 'string' ||
      hostname === '' ||
      isIP(hostname) !== 0
    ) {
      return apply(original, this, args);
    }
    const callback = lastFunction(args);
    if (callback === undefined) return apply(original, this, args); // Node throws its own error
    const ctx = udpContext;
    const host = normaliseHost(hostname);
    const port = ctx === undefined ? null : ctx.port;
    const transport: EgressTransport = ctx === undefined ? 'dns' : 'udp';
    const target: EgressTarget = {
      host,
      port,
      ip: null,
      transport,
      api: ctx === undefined ? 'dns.lookup' : ctx.api,
    };
    const judgement = judgeHost(st, host, port, transport);
    if (judgement.code === J_PASS && !judgement.sensitive) return apply(original, this, args);
    if (ctx === undefined && st.action === 'learn' && judgement.code !== J_PASS) learn(st, target);
    if (judgement.code === J_DENY) {
      if (st.action === 'block') {
        report(st, 'block', judgement.reason, target, null);
        apply(nextTick, process, [
          callback,
          new EgressBlockedError(target, judgement.reason ?? 'not-allowed'),
        ]);
        return {};
      }
      if (st.action === 'alert') report(st, 'alert', judgement.reason, target, null);
    }
    const nameAllowed = judgement.code !== J_RESOLVE;
    const replaced: unknown[] = [];
    for (let i = 0; i < args.length - 1; i++) replaced[i] = args[i];
    replaced[args.length - 1] = function onLookup(error: unknown, address: unknown, family: unknown): void {
      if (error) {
        callback(error, address, family);
        return;
      }
      const refusal = judgeResolved(st, target, nameAllowed, address);
      if (refusal !== undefined) callback(refusal);
      else callback(error, address, family);
    };
    return apply(original, this, replaced);
  };
}

/** `dns.promises.lookup`. */
function wrapPromiseLookup(original: AnyFunction): AnyFunction {
  return function lookup(this: unknown, ...args: unknown[]): unknown {
    const st = current;
    const hostname = args[0];
    if (st === undefined || typeof hostname !== 'string' || hostname === '' || isIP(hostname) !== 0) {
      return apply(original, this, args);
    }
    const host = normaliseHost(hostname);
    const target: EgressTarget = { host, port: null, ip: null, transport: 'dns', api: 'dns.promises.lookup' };
    const judgement = judgeHost(st, host, null, 'dns');
    if (judgement.code === J_PASS && !judgement.sensitive) return apply(original, this, args);
    if (st.action === 'learn' && judgement.code !== J_PASS) learn(st, target);
    if (judgement.code === J_DENY) {
      if (st.action === 'block') {
        report(st, 'block', judgement.reason, target, null);
        return promiseReject(new EgressBlockedError(target, judgement.reason ?? 'not-allowed'));
      }
      if (st.action === 'alert') report(st, 'alert', judgement.reason, target, null);
    }
    const nameAllowed = judgement.code !== J_RESOLVE;
    const result = apply(original, this, args) as Promise<unknown>;
    return promiseThen(result, (value: unknown) => {
      const addresses = isArray(value) ? value : [value];
      const refusal = judgeResolved(st, target, nameAllowed, addresses);
      if (refusal !== undefined) throw refusal;
      return value;
    });
  };
}

/**
 * `resolve*`: a raw DNS query. Only a name entry allows it (an address entry cannot judge a query
 * before it is sent); the answer is not a connection and is not judged.
 */
function wrapResolve(original: AnyFunction, api: string, promises: boolean): AnyFunction {
  return function resolve(this: unknown, ...args: unknown[]): unknown {
    const st = current;
    const hostname = args[0];
    if (st === undefined || typeof hostname !== 'string' || hostname === '')
      return apply(original, this, args);
    const callback = promises ? undefined : lastFunction(args);
    if (!promises && callback === undefined) return apply(original, this, args);
    const host = normaliseHost(hostname);
    const target: EgressTarget = { host, port: null, ip: null, transport: 'dns', api };
    const judgement = judgeHost(st, host, null, 'dns');
    if (judgement.code === J_PASS) return apply(original, this, args);
    if (st.action === 'learn') {
      learn(st, target);
      return apply(original, this, args);
    }
    if (judgement.code === J_NAME_OK || judgement.code === J_ALLOW) return apply(original, this, args);
    report(st, st.action, 'not-allowed', target, null);
    if (st.action !== 'block') return apply(original, this, args);
    const error = new EgressBlockedError(target, 'not-allowed');
    if (promises) return promiseReject(error);
    apply(nextTick, process, [callback, error]);
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------------
// UDP: dgram.Socket.prototype.send / connect
// ---------------------------------------------------------------------------------------------------

interface DgramLike {
  readonly type?: string;
}

function udpDefaultAddress(socket: DgramLike): string {
  return socket.type === 'udp6' ? '::1' : '127.0.0.1';
}

/**
 * Runs a dgram call after judging its destination. `fail` raises the refusal the way dgram raises
 * its own asynchronous errors: to the callback if there is one, else as an 'error' event.
 */
function udpCall(
  socket: DgramLike,
  original: AnyFunction,
  args: unknown[],
  portValue: unknown,
  addressValue: unknown,
  callback: AnyFunction | undefined,
  api: string,
): unknown {
  const st = current;
  const port = toPort(portValue);
  const address = addressValue == null ? udpDefaultAddress(socket) : addressValue;
  if (st === undefined || port === undefined || typeof address !== 'string')
    return apply(original, socket, args);
  const host = normaliseHost(address);
  const judgement = judgeHost(st, host, port, 'udp');
  if (judgement.code === J_PASS && !judgement.sensitive) return apply(original, socket, args);
  const target: EgressTarget = { host, port, ip: judgement.ip, transport: 'udp', api };
  if (st.action === 'learn' && judgement.code !== J_PASS) learn(st, target);
  let refusal: Error | undefined =
    judgement.code === J_PASS
      ? undefined
      : inspect('url', `udp://${hostForUrl(host)}:${port}`, { sink: api });
  if (refusal === undefined && judgement.code !== J_PASS) refusal = packageRefusal(st, target);
  if (refusal === undefined) {
    if (judgement.ip !== null || judgement.code === J_PASS) {
      refusal = settle(st, target, judgement.reason, judgement.sensitive);
    } else if (judgement.code === J_DENY) {
      if (st.action === 'block') {
        report(st, 'block', judgement.reason, target, null);
        refusal = new EgressBlockedError(target, judgement.reason ?? 'not-allowed');
      } else if (st.action === 'alert') {
        report(st, 'alert', judgement.reason, target, null);
      }
    }
  }
  if (refusal !== undefined) {
    const error = refusal;
    if (callback !== undefined) apply(nextTick, process, [callback, error]);
    else apply(nextTick, process, [() => emit(socket, 'error', error)]);
    return undefined;
  }
  // A name: the lookup dgram makes now (a bound socket) is judged with this port by the dns hook.
  const previous = udpContext;
  udpContext = judgement.ip === null ? { port, api } : undefined;
  try {
    return apply(original, socket, args);
  } finally {
    udpContext = previous;
  }
}

function wrapDgramSend(original: AnyFunction): AnyFunction {
  return function send(this: DgramLike, ...args: unknown[]): unknown {
    if (current === undefined) return apply(original, this, args);
    // send(msg, offset, length, port, address, cb) or send(msg, port, address, cb); no port: connected.
    const [, offset, length, port, address] = args;
    let p: unknown;
    let a: unknown;
    if (address || (port && typeof port !== 'function')) {
      p = port;
      a = address;
    } else {
      p = offset;
      a = length;
    }
    if (typeof a === 'function') a = undefined;
    if (p === undefined || p === null || typeof p === 'function') return apply(original, this, args);
    return udpCall(this, original, args, p, a, lastFunction(args), 'dgram.send');
  };
}

function wrapDgramConnect(original: AnyFunction): AnyFunction {
  return function connect(this: DgramLike, ...args: unknown[]): unknown {
    if (current === undefined) return apply(original, this, args);
    const [port, address] = args;
    return udpCall(
      this,
      original,
      args,
      port,
      typeof address === 'function' ? undefined : address,
      lastFunction(args),
      'dgram.connect',
    );
  };
}

// ---------------------------------------------------------------------------------------------------
// Installing
// ---------------------------------------------------------------------------------------------------

let installed: { hooked: readonly string[]; unavailable: readonly string[] } | undefined;

const RESOLVE_METHODS = [
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTlsa',
  'resolveTxt',
] as const;

function mimic(wrapper: AnyFunction, original: AnyFunction): void {
  defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  defineProperty(wrapper, 'length', { value: original.length, configurable: true });
}

function replace(target: object, key: string, wrap: (f: AnyFunction) => AnyFunction): boolean {
  const descriptor = getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !('value' in descriptor) || typeof descriptor.value !== 'function')
    return false;
  if (!descriptor.configurable && !descriptor.writable) return false;
  const wrapper = wrap(descriptor.value as AnyFunction);
  mimic(wrapper, descriptor.value as AnyFunction);
  defineProperty(target, key, { ...descriptor, value: wrapper });
  return true;
}

function installHooks(): { hooked: readonly string[]; unavailable: readonly string[] } {
  if (installed !== undefined) return installed;
  const hooked: string[] = [];
  const unavailable: string[] = [];
  const attempt = (
    name: string,
    target: object | undefined,
    key: string,
    wrap: (f: AnyFunction) => AnyFunction,
  ) => {
    try {
      if (target !== undefined && replace(target, key, wrap)) hooked[hooked.length] = name;
      else unavailable[unavailable.length] = `${name}: not a replaceable function here`;
    } catch (error) {
      unavailable[unavailable.length] = `${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  attempt('net.Socket.prototype.connect', net.Socket.prototype, 'connect', wrapConnect);
  attempt('dgram.Socket.prototype.send', dgram.Socket.prototype, 'send', wrapDgramSend);
  attempt('dgram.Socket.prototype.connect', dgram.Socket.prototype, 'connect', wrapDgramConnect);
  attempt('dns.lookup', dns, 'lookup', wrapLookup);
  const promises = dns.promises as unknown as Record<string, unknown>;
  attempt('dns.promises.lookup', promises, 'lookup', wrapPromiseLookup);
  const resolverProto = dns.Resolver.prototype as unknown as Record<string, unknown>;
  const promisesResolver = (promises.Resolver as { prototype: Record<string, unknown> } | undefined)
    ?.prototype;
  for (let i = 0; i < RESOLVE_METHODS.length; i++) {
    const method = RESOLVE_METHODS[i] as string;
    if (typeof (dns as unknown as Record<string, unknown>)[method] !== 'function') continue; // resolveTlsa: Node 22.15+
    attempt(`dns.${method}`, dns, method, (f) => wrapResolve(f, `dns.${method}`, false));
    attempt(`dns.Resolver.${method}`, resolverProto, method, (f) => wrapResolve(f, `dns.${method}`, false));
    attempt(`dns.promises.${method}`, promises, method, (f) =>
      wrapResolve(f, `dns.promises.${method}`, true),
    );
    attempt(`dns.promises.Resolver.${method}`, promisesResolver, method, (f) =>
      wrapResolve(f, `dns.promises.${method}`, true),
    );
  }
  try {
    syncBuiltinESMExports(); // ESM `import { lookup } from 'node:dns'` now sees the hooks
  } catch {
    // Nothing imported them as ESM yet.
  }
  installed = freeze({ hooked: freeze(hooked), unavailable: freeze(unavailable) });
  return installed;
}

// ---------------------------------------------------------------------------------------------------
// The control
// ---------------------------------------------------------------------------------------------------

/** `host:port` → a `t|host|port` key (and the `u|` one when the destination is also UDP). */
function addAlways(
  always: Map<string, string>,
  text: string | undefined,
  what: string,
  udp: boolean,
  tcp = true,
): string[] {
  const out: string[] = [];
  if (text === undefined || text === '') return out;
  const at = text.lastIndexOf(':');
  if (at <= 0) return out;
  const host = normaliseHost(text.slice(0, at));
  const port = toPort(text.slice(at + 1));
  if (port === undefined) return out;
  if (tcp) mapSet(always, `t|${host}|${port}`, what);
  if (udp) mapSet(always, `u|${host}|${port}`, what);
  out[out.length] = `${what} ${hostForEntry(host)}:${port}${udp && !tcp ? '/udp' : ''}`;
  return out;
}

function urlAuthority(text: string | null | undefined): string | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const url = new URLIntrinsic(text);
    const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
    return `${url.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/**
 * Creates the control. The hooks are process-wide and installed once; the control whose
 * `install()` ran last is the one they consult.
 *
 * @example const egress = createEgressControl({ action: 'block', allow: ['*.amazonaws.com'], onDecision: emit }); egress.install();
 */
export function createEgressControl(options: EgressOptions): EgressControl {
  const action = options.action;
  if (action !== 'block' && action !== 'alert' && action !== 'learn') {
    throw new TypeError(`egress action is ${String(action)}; accepted: "block", "alert", "learn"`);
  }
  const entries = parseAllowList(options.allow);
  const env = options.env ?? process.env;
  const always = new SafeMap<string, string>();
  const alwaysAllowed: string[] = [];
  const push = (items: string[]) => {
    for (let i = 0; i < items.length; i++) alwaysAllowed[alwaysAllowed.length] = items[i] as string;
  };
  // The credentials endpoint first, so that when it is the Runtime API (SnapStart) the Runtime API wins.
  push(addAlways(always, urlAuthority(env.AWS_CONTAINER_CREDENTIALS_FULL_URI), 'credentials', false));
  push(addAlways(always, env.AWS_LAMBDA_RUNTIME_API, 'runtime', false));
  push(addAlways(always, urlAuthority(options.telemetryEndpoint), 'telemetry', false));
  // X-Ray: "host:port" (UDP and TCP), or "udp:host:port tcp:host:port".
  const xray = env.AWS_XRAY_DAEMON_ADDRESS?.trim();
  if (xray) {
    const parts = xray.split(/\s+/);
    for (const part of parts) {
      if (part.startsWith('udp:')) push(addAlways(always, part.slice(4), 'xray', true, false));
      else if (part.startsWith('tcp:')) push(addAlways(always, part.slice(4), 'xray', false, true));
      else push(addAlways(always, part, 'xray', true, true));
    }
  }
  const state: State = {
    action,
    matcher: createMatcher(entries),
    always,
    credentials: urlAuthority(env.AWS_CONTAINER_CREDENTIALS_FULL_URI) ?? null,
    onDecision: options.onDecision,
    packageAllowed:
      options.packages === undefined || options.packages.includes('*')
        ? undefined
        : packageMatcher(options.packages),
    learnFile: options.learnFile ?? defaultLearnFile(),
    cache: new SafeMap(),
    learnedSet: new SafeMap(),
    phase: PHASE_INIT,
    event: undefined,
    inputs: undefined,
    reported: new SafeMap(),
    learnDirty: false,
  };
  const learned = (): string[] => arraySort(objectKeysOfMap(state.learnedSet));
  return freeze({
    action,
    install(): EgressInstallReport {
      const hooks = installHooks();
      current = state;
      return freeze({
        action,
        allow: freeze(entries.map((e) => e.text)),
        alwaysAllowed: freeze(alwaysAllowed),
        hooked: hooks.hooked,
        unavailable: hooks.unavailable,
      });
    },
    deactivate(): void {
      if (current === state) current = undefined;
    },
    setInvocation(ctx: { readonly active: boolean; readonly event?: unknown }): void {
      if (ctx.active) {
        state.phase = PHASE_INVOCATION;
        state.event = ctx.event;
        state.inputs = undefined;
      } else {
        if (state.phase === PHASE_INIT) return;
        state.phase = PHASE_BETWEEN; // the last event stays: code left running by it is tainted by it
      }
      state.reported = new SafeMap();
    },
    learned,
    flushLearned(): boolean {
      if (!state.learnDirty) return false;
      state.learnDirty = false;
      try {
        const merged = new SafeMap<string, true>();
        try {
          const previous = jsonParse(readFileSync(state.learnFile, 'utf8') as string) as {
            egress?: { allow?: unknown };
          };
          const list = previous?.egress?.allow;
          if (isArray(list))
            for (const item of list) if (typeof item === 'string') mapSet(merged, item, true);
        } catch {
          // No previous file (or not ours): start from this environment's list.
        }
        const mine = learned();
        for (let i = 0; i < mine.length; i++) mapSet(merged, mine[i], true);
        const text = `${jsonStringify({ egress: { allow: arraySort(objectKeysOfMap(merged)) } }, null, 2)}\n`;
        const temporary = `${state.learnFile}.${process.pid}.tmp`;
        writeFileSync(temporary, text, { mode: 0o600 });
        renameSync(temporary, state.learnFile);
        return true;
      } catch {
        return false; // best effort: learning must never fail the function
      }
    },
  });
}

function objectKeysOfMap(map: Map<string, true>): string[] {
  const out: string[] = [];
  map.forEach((_value, key) => {
    out[out.length] = key;
  });
  return out;
}

/**
 * The control as the guard runs it (controls.ts): reports each decision as a `block`, `alert` or
 * `learn` event of control `egress`, and writes the learned fragment after each response.
 * Throws EPHEMERA_ERR_POLICY for a bad `egress.allow` entry (the guard then refuses to start).
 */
export function createEgressGuardControl(policy: Readonly<Policy>, env: NodeJS.ProcessEnv): GuardControl {
  const action = policy.egress.action;
  if (action === 'off') throw new TypeError('the egress control is not built when egress is off');
  let services: GuardServices | undefined;
  let info: Record<string, unknown> = {};
  const control = createEgressControl({
    action,
    allow: policy.egress.allow,
    packages: policy.egress.packages,
    env,
    telemetryEndpoint: policy.telemetry.endpoint,
    onDecision: (decision) => {
      services?.report({
        type: decision.action as GuardEventType,
        control: 'egress',
        action: decision.action,
        detail: {
          destination: { host: decision.host, port: decision.port, ip: decision.ip },
          transport: decision.transport,
          api: decision.api,
          reason: decision.reason,
          detector: decision.detector,
          ...(decision.suggestion === null ? {} : { suggestion: decision.suggestion }),
          phase: decision.phase,
          package: decision.package,
          sourceIp: services?.current()?.sourceIp ?? null,
        },
      });
    },
  });
  return {
    name: 'egress',
    init(s) {
      services = s;
      const report = control.install();
      info = { ...report, allow: [...report.allow], alwaysAllowed: [...report.alwaysAllowed] };
    },
    describe() {
      return info;
    },
    beforeInvoke(_record, event) {
      control.setInvocation({ active: true, event });
    },
    afterInvoke() {
      control.setInvocation({ active: false });
    },
    afterResponse() {
      if (action === 'learn') control.flushLearned();
      return undefined;
    },
  };
}
