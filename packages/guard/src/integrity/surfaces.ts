/**
 * Which objects the object-surface detectors watch, and which changes to them are benign — policy as
 * data, enforced by `object-surfaces.ts`.
 *
 * An implant that wants to see later requests has to hook something the function's code reaches
 * through a shared object: a JavaScript intrinsic (`JSON.parse`, `Promise.prototype.then`,
 * `%ArrayIteratorPrototype%.next`), a global (`fetch`, `console.log`), a built-in module's exports
 * or a prototype its instances share (`https.request`, `http.ClientRequest.prototype.write`,
 * `net.Socket.prototype.write`, `crypto.Verify.prototype.verify`), or `process`. Every surface below
 * is resolved once, at the baseline (the end of INIT, which the threat model trusts), and the object
 * found then is what is watched afterwards: if an implant swaps the object itself
 * (`http.ClientRequest = Evil`), the parent surface reports that property.
 *
 * Not here: `process.env` (`env-vars.ts`); `module`, `Module.prototype`, `Module._extensions`,
 * `require.cache` (`module-cache.ts`).
 */

/** The detector a surface belongs to (each group is one Detector, named after it). */
export type SurfaceGroup = 'intrinsics' | 'globals' | 'builtins';

/**
 * What counts as a change of an own property.
 * - `all`: any added/removed key, any value/getter/setter identity, any attribute.
 * - `references`: as `all`, except that a data property whose old and new values are both primitives
 *   is state, not a hook (a counter on `globalThis`).
 * - `functions`: only changes where a function or an accessor is involved on either side — for live
 *   instances (`process`, an Agent, a stream) whose data properties change all the time.
 */
export type SurfaceMode = 'all' | 'references' | 'functions';

export interface Surface {
  /** The path prefix in drift paths: `Object.prototype`, `https`, `http.ClientRequest.prototype`. */
  readonly id: string;
  readonly group: SurfaceGroup;
  readonly mode: SurfaceMode;
  /** Called once, at the baseline. A throw or a non-object means "absent on this Node version". */
  readonly resolve: () => unknown;
}

type Bag = Record<string | symbol, unknown>;

/** Read a property path at the baseline (trusted time); undefined when any link is missing. */
function at(root: unknown, ...keys: string[]): unknown {
  let value = root;
  for (let i = 0; i < keys.length; i++) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
    value = (value as Bag)[keys[i] as string];
  }
  return value;
}

function protoOf(value: unknown): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  return Reflect.getPrototypeOf(value);
}

/** A built-in module, loaded at the baseline: Node's built-ins are singletons, so this is the object the function uses. */
function builtin(name: string): unknown {
  return require(`node:${name}`) as unknown;
}

function surface(
  id: string,
  group: SurfaceGroup,
  resolve: () => unknown,
  mode: SurfaceMode = 'all',
): Surface {
  return Object.freeze({ id, group, mode, resolve });
}

const intrinsic = (id: string, resolve: () => unknown) => surface(id, 'intrinsics', resolve);
const global = (id: string, resolve: () => unknown, mode: SurfaceMode = 'all') =>
  surface(id, 'globals', resolve, mode);
const mod = (id: string, resolve: () => unknown, mode: SurfaceMode = 'all') =>
  surface(id, 'builtins', resolve, mode);

/** A global constructor and its prototype. */
function withPrototype(
  make: typeof intrinsic,
  name: string,
  resolve: () => unknown = () => at(globalThis, name),
): Surface[] {
  return [make(name, resolve), make(`${name}.prototype`, () => at(resolve(), 'prototype'))];
}

// Intrinsics that have no global name.
const asyncFunction = () =>
  at(
    protoOf(async () => {}),
    'constructor',
  );
const generatorFunction = () =>
  at(
    protoOf(function* () {}),
    'constructor',
  );
const asyncGeneratorFunction = () =>
  at(
    protoOf(async function* () {}),
    'constructor',
  );
const typedArray = () => protoOf(Uint8Array);

const ERROR_CONSTRUCTORS = [
  'Error',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'AggregateError',
] as const;

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** The JavaScript intrinsics (ECMAScript, not Node). */
const INTRINSICS: Surface[] = [
  ...withPrototype(intrinsic, 'Object'),
  ...withPrototype(intrinsic, 'Function'),
  ...withPrototype(intrinsic, 'AsyncFunction', asyncFunction),
  ...withPrototype(intrinsic, 'GeneratorFunction', generatorFunction),
  // %GeneratorPrototype%: next/return/throw of every generator.
  intrinsic('Generator.prototype', () => at(generatorFunction(), 'prototype', 'prototype')),
  ...withPrototype(intrinsic, 'AsyncGeneratorFunction', asyncGeneratorFunction),
  intrinsic('AsyncGenerator.prototype', () => at(asyncGeneratorFunction(), 'prototype', 'prototype')),
  // The iterator prototypes: `for…of`, spread and destructuring call their `next` behind the code's back.
  intrinsic('Iterator.prototype', () => protoOf(protoOf([][Symbol.iterator]()))),
  intrinsic('AsyncIterator.prototype', () =>
    protoOf(protoOf(at(asyncGeneratorFunction(), 'prototype', 'prototype'))),
  ),
  intrinsic('ArrayIterator.prototype', () => protoOf([][Symbol.iterator]())),
  intrinsic('MapIterator.prototype', () => protoOf(new Map()[Symbol.iterator]())),
  intrinsic('SetIterator.prototype', () => protoOf(new Set()[Symbol.iterator]())),
  intrinsic('StringIterator.prototype', () => protoOf(''[Symbol.iterator]())),
  intrinsic('RegExpStringIterator.prototype', () => protoOf(/x/[Symbol.matchAll]('x'))),
  ...withPrototype(intrinsic, 'Array'),
  ...withPrototype(intrinsic, 'String'),
  ...withPrototype(intrinsic, 'Number'),
  ...withPrototype(intrinsic, 'Boolean'),
  // Symbol's own properties are the well-known symbols (species, iterator, asyncIterator, hasInstance,
  // toPrimitive, toStringTag…) and for/keyFor.
  ...withPrototype(intrinsic, 'Symbol'),
  ...withPrototype(intrinsic, 'BigInt'),
  ...withPrototype(intrinsic, 'Promise'),
  intrinsic('JSON', () => at(globalThis, 'JSON')),
  intrinsic('Reflect', () => at(globalThis, 'Reflect')),
  intrinsic('Math', () => at(globalThis, 'Math')),
  intrinsic('Proxy', () => at(globalThis, 'Proxy')),
  intrinsic('Atomics', () => at(globalThis, 'Atomics')),
  intrinsic('Intl', () => at(globalThis, 'Intl')),
  intrinsic('WebAssembly', () => at(globalThis, 'WebAssembly')),
  // Error carries prepareStackTrace / captureStackTrace / stackTraceLimit: a stack hook sees every error.
  ...ERROR_CONSTRUCTORS.flatMap((name) => withPrototype(intrinsic, name)),
  ...withPrototype(intrinsic, 'RegExp'),
  ...withPrototype(intrinsic, 'Date'),
  ...withPrototype(intrinsic, 'Map'),
  ...withPrototype(intrinsic, 'Set'),
  intrinsic('WeakMap.prototype', () => at(globalThis, 'WeakMap', 'prototype')),
  intrinsic('WeakSet.prototype', () => at(globalThis, 'WeakSet', 'prototype')),
  intrinsic('WeakRef.prototype', () => at(globalThis, 'WeakRef', 'prototype')),
  intrinsic('FinalizationRegistry.prototype', () => at(globalThis, 'FinalizationRegistry', 'prototype')),
  ...withPrototype(intrinsic, 'ArrayBuffer'),
  intrinsic('SharedArrayBuffer.prototype', () => at(globalThis, 'SharedArrayBuffer', 'prototype')),
  ...withPrototype(intrinsic, 'TypedArray', typedArray),
  ...withPrototype(intrinsic, 'Uint8Array'),
  ...TYPED_ARRAYS.map((name) => intrinsic(`${name}.prototype`, () => at(globalThis, name, 'prototype'))),
  ...withPrototype(intrinsic, 'DataView'),
  // ES2025 Iterator helpers (Node 22+): absent on Node 20, which is fine.
  intrinsic('Iterator', () => at(globalThis, 'Iterator')),
];

/** `globalThis`, its prototype chain, and the web-platform globals Node provides. */
const GLOBALS: Surface[] = [
  global('globalThis', () => globalThis, 'references'),
  // Node's global object inherits from an object of its own, then Object.prototype: a Proxy inserted
  // there sees every lookup of a missing global.
  global('Object.getPrototypeOf(globalThis)', () => protoOf(globalThis)),
  ...withPrototype(global, 'Buffer'),
  ...withPrototype(global, 'URL'),
  ...withPrototype(global, 'URLSearchParams'),
  global('TextEncoder.prototype', () => at(globalThis, 'TextEncoder', 'prototype')),
  global('TextDecoder.prototype', () => at(globalThis, 'TextDecoder', 'prototype')),
  global('AbortController.prototype', () => at(globalThis, 'AbortController', 'prototype')),
  ...withPrototype(global, 'AbortSignal'),
  global('EventTarget.prototype', () => at(globalThis, 'EventTarget', 'prototype')),
  global('Event.prototype', () => at(globalThis, 'Event', 'prototype')),
  global('Headers.prototype', () => at(globalThis, 'Headers', 'prototype')),
  ...withPrototype(global, 'Request'),
  ...withPrototype(global, 'Response'),
  global('FormData.prototype', () => at(globalThis, 'FormData', 'prototype')),
  global('Blob.prototype', () => at(globalThis, 'Blob', 'prototype')),
  global('WebSocket.prototype', () => at(globalThis, 'WebSocket', 'prototype')),
  // WebCrypto: `jose` and friends verify tokens with SubtleCrypto; a patched `verify` is an auth bypass.
  global('crypto', () => at(globalThis, 'crypto'), 'functions'),
  global('SubtleCrypto.prototype', () => protoOf(at(globalThis, 'crypto', 'subtle'))),
  global('Crypto.prototype', () => protoOf(at(globalThis, 'crypto'))),
  // AWS's runtime client replaces console's methods at its own startup, before the baseline.
  global('console', () => at(globalThis, 'console')),
];

/** Built-in modules' exports and the prototypes their instances share. */
const BUILTINS: Surface[] = [
  mod('http', () => builtin('http')),
  mod('http.Agent.prototype', () => at(builtin('http'), 'Agent', 'prototype')),
  mod('http.ClientRequest.prototype', () => at(builtin('http'), 'ClientRequest', 'prototype')),
  mod('http.OutgoingMessage.prototype', () => at(builtin('http'), 'OutgoingMessage', 'prototype')),
  mod('http.IncomingMessage.prototype', () => at(builtin('http'), 'IncomingMessage', 'prototype')),
  mod('http.ServerResponse.prototype', () => at(builtin('http'), 'ServerResponse', 'prototype')),
  mod('http.Server.prototype', () => at(builtin('http'), 'Server', 'prototype')),
  // Agents are live instances (socket pools): only functions planted on them are hooks.
  mod('http.globalAgent', () => at(builtin('http'), 'globalAgent'), 'functions'),
  // Agent options reach every connection: `options.lookup` is a DNS hook, `options.createConnection` a socket hook.
  mod('http.globalAgent.options', () => at(builtin('http'), 'globalAgent', 'options'), 'functions'),
  mod('https', () => builtin('https')),
  mod('https.Agent.prototype', () => at(builtin('https'), 'Agent', 'prototype')),
  mod('https.Server.prototype', () => at(builtin('https'), 'Server', 'prototype')),
  mod('https.globalAgent', () => at(builtin('https'), 'globalAgent'), 'functions'),
  mod('https.globalAgent.options', () => at(builtin('https'), 'globalAgent', 'options'), 'functions'),
  mod('http2', () => builtin('http2')),
  mod('net', () => builtin('net')),
  mod('net.Socket.prototype', () => at(builtin('net'), 'Socket', 'prototype')),
  mod('net.Server.prototype', () => at(builtin('net'), 'Server', 'prototype')),
  mod('tls', () => builtin('tls')),
  mod('tls.TLSSocket.prototype', () => at(builtin('tls'), 'TLSSocket', 'prototype')),
  mod('dns', () => builtin('dns')),
  mod('dns.Resolver.prototype', () => at(builtin('dns'), 'Resolver', 'prototype')),
  mod('dns/promises', () => builtin('dns/promises')),
  mod('dgram', () => builtin('dgram')),
  mod('dgram.Socket.prototype', () => at(builtin('dgram'), 'Socket', 'prototype')),
  mod('crypto', () => builtin('crypto')),
  // Prototypes of crypto objects: a wrapped `update`/`digest` sees secrets, a wrapped `verify` lies.
  mod('crypto.Hash.prototype', () =>
    protoOf((builtin('crypto') as typeof import('node:crypto')).createHash('sha256')),
  ),
  mod('crypto.Hmac.prototype', () =>
    protoOf((builtin('crypto') as typeof import('node:crypto')).createHmac('sha256', 'k')),
  ),
  mod('crypto.Sign.prototype', () =>
    protoOf((builtin('crypto') as typeof import('node:crypto')).createSign('sha256')),
  ),
  mod('crypto.Verify.prototype', () =>
    protoOf((builtin('crypto') as typeof import('node:crypto')).createVerify('sha256')),
  ),
  mod('crypto.KeyObject.prototype', () => at(builtin('crypto'), 'KeyObject', 'prototype')),
  mod('fs', () => builtin('fs')),
  mod('fs/promises', () => builtin('fs/promises')),
  mod('child_process', () => builtin('child_process')),
  mod('child_process.ChildProcess.prototype', () =>
    at(builtin('child_process'), 'ChildProcess', 'prototype'),
  ),
  // require('events') is EventEmitter itself (statics: defaultMaxListeners, once, on…).
  mod('events', () => builtin('events')),
  mod('EventEmitter.prototype', () => at(builtin('events'), 'prototype')),
  // require('stream') is the legacy Stream constructor carrying Readable, Writable… as statics.
  mod('stream', () => builtin('stream')),
  mod('stream.Readable.prototype', () => at(builtin('stream'), 'Readable', 'prototype')),
  mod('stream.Writable.prototype', () => at(builtin('stream'), 'Writable', 'prototype')),
  mod('stream.Duplex.prototype', () => at(builtin('stream'), 'Duplex', 'prototype')),
  mod('stream.Transform.prototype', () => at(builtin('stream'), 'Transform', 'prototype')),
  mod('stream/promises', () => builtin('stream/promises')),
  mod('vm', () => builtin('vm')),
  mod('vm.Script.prototype', () => at(builtin('vm'), 'Script', 'prototype')),
  mod('worker_threads', () => builtin('worker_threads')),
  mod('util', () => builtin('util')),
  mod('util.types', () => at(builtin('util'), 'types')),
  mod('os', () => builtin('os')),
  mod('path', () => builtin('path')),
  mod('url', () => builtin('url')),
  mod('querystring', () => builtin('querystring')),
  mod('buffer', () => builtin('buffer')),
  mod('string_decoder', () => builtin('string_decoder')),
  mod('timers', () => builtin('timers')),
  mod('timers/promises', () => builtin('timers/promises')),
  mod('zlib', () => builtin('zlib')),
  mod('inspector', () => builtin('inspector')),
  mod('inspector.Session.prototype', () => at(builtin('inspector'), 'Session', 'prototype')),
  mod('diagnostics_channel', () => builtin('diagnostics_channel')),
  mod('diagnostics_channel.Channel.prototype', () =>
    at(builtin('diagnostics_channel'), 'Channel', 'prototype'),
  ),
  mod('async_hooks', () => builtin('async_hooks')),
  mod('async_hooks.AsyncLocalStorage.prototype', () =>
    at(builtin('async_hooks'), 'AsyncLocalStorage', 'prototype'),
  ),
  mod('async_hooks.AsyncResource.prototype', () => at(builtin('async_hooks'), 'AsyncResource', 'prototype')),
  mod('perf_hooks', () => builtin('perf_hooks')),
  mod('v8', () => builtin('v8')),
  mod('v8.promiseHooks', () => at(builtin('v8'), 'promiseHooks')),
  // process is live state (exitCode, _events, title…): only functions on it are hooks —
  // emit, on, nextTick, binding, dlopen, _linkedBinding, exit, reallyExit, kill…
  mod('process', () => process, 'functions'),
  mod('process.stdout', () => process.stdout, 'functions'),
  mod('process.stderr', () => process.stderr, 'functions'),
  // The class of the stdio streams differs by what fd 1 is (pipe: net.Socket; file: SyncWriteStream).
  mod('Object.getPrototypeOf(process.stdout)', () => protoOf(process.stdout)),
];

/** Every watched surface, in baseline order (duplicates by identity keep their first id). */
export const SURFACES: readonly Surface[] = Object.freeze([...INTRINSICS, ...GLOBALS, ...BUILTINS]);

/**
 * Globals Node defines as self-replacing lazy accessors: the first read loads the implementation and
 * redefines the property as a data property holding it. That accessor → data transition after the
 * baseline is benign when the value found is what the baseline getter (Node's own, captured at the
 * baseline) returns — an implant that assigns through Node's setter, or redefines the property after
 * the first read, leaves a different value there. (When nobody had read the global yet, calling the
 * getter also loads the implementation and puts it back in place of the implant's value; the drift
 * is still reported, once.)
 * Observed: Node 20.20 (all of the first group; the baseline's own resolution materialises most of
 * them, `atob`/`btoa` were the ones typical work still turned over). Node 24.22 defines them as data
 * properties (V8 lazy data properties, invisible to descriptors): no transition. The Node 22 names
 * come from Node's bootstrap source, not from a run (no Node 22 binary was at hand).
 */
export const LAZY_GLOBALS: readonly string[] = Object.freeze([
  // internal/bootstrap/web/exposed-wildcard + exposed-window-or-worker
  'DOMException',
  'AbortController',
  'AbortSignal',
  'TextEncoder',
  'TextDecoder',
  'TransformStream',
  'TransformStreamDefaultController',
  'WritableStream',
  'WritableStreamDefaultController',
  'WritableStreamDefaultWriter',
  'ReadableStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest',
  'ReadableByteStreamController',
  'ReadableStreamDefaultController',
  'ByteLengthQueuingStrategy',
  'CountQueuingStrategy',
  'TextEncoderStream',
  'TextDecoderStream',
  'CompressionStream',
  'DecompressionStream',
  'atob',
  'btoa',
  'BroadcastChannel',
  'MessageChannel',
  'MessagePort',
  'MessageEvent',
  'Blob',
  'File',
  'Performance',
  'PerformanceEntry',
  'PerformanceMark',
  'PerformanceMeasure',
  'PerformanceObserver',
  'PerformanceObserverEntryList',
  'PerformanceResourceTiming',
  'FormData',
  'Headers',
  'Request',
  'Response',
  'Crypto',
  'CryptoKey',
  'SubtleCrypto',
  // lib/internal/bootstrap/web/* of Node 22/23: lazily exposed as well.
  'structuredClone',
  'WebSocket',
  'CustomEvent',
  'EventSource',
  'CloseEvent',
  'Navigator',
  'navigator',
]);

/**
 * Values Node keeps behind an accessor pair whose setter stores them out of sight: assigning through
 * the setter changes no descriptor. The baseline getter (Node's own) is called at each check and its
 * result compared by identity with the baseline's.
 */
export const ACCESSOR_VALUES: readonly {
  readonly surface: string;
  readonly key: string;
  readonly why: string;
}[] = Object.freeze([
  {
    surface: 'http',
    key: 'globalAgent',
    why: '`http.globalAgent = agent` goes through a setter into lib/_http_agent: an agent that proxies or logs every request',
  },
]);

/**
 * Keys created lazily by Node or V8 on a watched surface the first time some feature is used, to be
 * adopted into the baseline when they appear. Empty, measured: the benign workloads of the test
 * (fetch and https with keep-alive, an AWS SDK v3 call, crypto, zlib, streams, timers, console, util,
 * errors, URL, events, AsyncLocalStorage…) change nothing else on these surfaces on Node 20.20 and
 * 24.22 once the baseline has resolved them. An entry is `{ surface, key, why }`.
 */
export const LAZY_KEYS: readonly { readonly surface: string; readonly key: string; readonly why: string }[] =
  Object.freeze([]);

/**
 * undici's global dispatcher (fetch's connection pool), stored on `globalThis` under these registered
 * symbols (Node 20: `.1`; Node 24: `.2` and `.1` for compatibility). Node creates it when undici
 * loads — and the baseline loads undici (see object-surfaces.ts) — so on Node 20 and 24 it is simply
 * a watched key of the baseline: replacing it is drift, and its prototypes (`Agent.prototype`,
 * `DispatcherBase.prototype`, `Dispatcher.prototype`) are watched surfaces.
 * Defence in depth, for a runtime that creates it later: its FIRST appearance after the baseline is
 * benign iff the property is what undici's `setGlobalDispatcher` defines — a data property, writable,
 * not enumerable, not configurable — and the value is an ordinary object (not a Proxy) whose
 * prototype chain is exactly `Agent.prototype → DispatcherBase.prototype → Dispatcher.prototype →
 * EventEmitter.prototype (the baseline's) → Object.prototype`, by constructor name at each step. It
 * is then adopted with its prototypes. Limit of that rule: it trusts on first use — a genuine Agent
 * built by an implant with hostile options in the same invocation, or a look-alike class chain,
 * passes it.
 */
export const UNDICI_DISPATCHER = Object.freeze({
  keys: Object.freeze(['undici.globalDispatcher.1', 'undici.globalDispatcher.2']),
  chain: Object.freeze(['Agent', 'DispatcherBase', 'Dispatcher']),
  surfaceIds: Object.freeze([
    'undici.Agent.prototype',
    'undici.DispatcherBase.prototype',
    'undici.Dispatcher.prototype',
  ]),
});
