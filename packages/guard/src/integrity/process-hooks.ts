/**
 * The 'process-hooks' detector: process-wide hooks an implant installs to see, or outlive, later
 * invocations without changing any object the surface detectors watch.
 *
 * Two kinds of evidence:
 * - State that can be read back at each check: `process` event listeners (per event name, the
 *   listener array by identity), `process.hasUncaughtExceptionCaptureCallback()`, `inspector.url()`,
 *   and for a data list of well-known diagnostics channels (`WATCHED_CHANNELS`) their subscriber
 *   arrays and bound stores.
 * - Hooks that cannot be enumerated after the fact — `AsyncHook#enable`, `v8.promiseHooks.*`,
 *   inspector sessions, diagnostics-channel subscriptions on any channel — are seen by SENTINELS:
 *   wrappers installed at the baseline around the functions that install them. A wrapper calls
 *   through to the original with the same `this` and arguments and returns its result (a throw
 *   propagates untouched); it only records calls made after the baseline. Calls made during INIT
 *   (APM agents) are before the baseline and never recorded.
 *
 * Benign change: a hook installed after the baseline is not drift when the deployment installed it
 * (lazy instrumentation: `dd-trace` subscribing when a module is first required). "The deployment"
 * is judged from the stack of the installing call (`createOriginJudge`): every JavaScript frame is in
 * the deployment (task root, layers, runtime, this guard) or Node's own code, and a callback handed
 * over has its source text in one of those files. Inspector sessions and `inspector.open` have no
 * benign use in a production function and are always drift; so are new `process` listeners and the
 * capture callback, which leave no stack to judge.
 *
 * Ordering (the composer's job): baseline this detector before the object-surface detectors: the
 * sentinels replace `v8.promiseHooks.*`, `inspector.open`, `inspector.Session.prototype.connect`,
 * `diagnostics_channel.Channel.prototype.subscribe`… and those detectors must baseline the replaced
 * values. (The 'resources' detector subscribes to its channels when its module loads, so the two can
 * baseline in either order.)
 *
 * Not seen: hooks installed through Node internals an implant reaches without the public functions
 * (`process.binding('async_wrap')`, a native addon), a subscriber pushed into a channel's internal
 * array on a channel outside `WATCHED_CHANNELS`, a listener swapped inside an existing listener's
 * closure, and anything an attacker with native code does.
 */
import asyncHooks from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { DeploymentFacts, Detector, Drift } from './detector.js';
import * as moduleCache from './module-cache.js';
import * as objectSurfaces from './object-surfaces.js';
import { primordials } from './primordials.js';

// Copied into module-local constants at load (see primordials.ts).
const {
  ReflectApply,
  ReflectGetOwnPropertyDescriptor,
  ReflectGetPrototypeOf,
  ReflectOwnKeys,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectHasOwn,
  Map: SafeMap,
  mapGet,
  mapSet,
  mapHas,
  mapSize,
  mapForEach,
  ArrayIsArray,
  appendItem,
  newList,
  uncurryThis,
  stringStartsWith,
  stringEndsWith,
  stringIncludes,
  stringSlice,
  functionToString,
  fsStatSync,
  pathSep,
  isProxy,
} = primordials;
const { deploymentRoots, isDeploymentPath } = moduleCache;
const { makeDrift, printable, formatSymbol } = objectSurfaces;

// Captured here because primordials.ts does not carry them (yet).
const ReflectDeleteProperty = Reflect.deleteProperty;
const ErrorConstructor = Error;
const ErrorCaptureStackTrace = Error.captureStackTrace;
const SafeWeakMap = WeakMap;
const weakMapGet = uncurryThis(WeakMap.prototype.get) as <K extends object, V>(
  map: WeakMap<K, V>,
  key: K,
) => V | undefined;
const weakMapSet = uncurryThis(WeakMap.prototype.set) as <K extends object, V>(
  map: WeakMap<K, V>,
  key: K,
  value: V,
) => WeakMap<K, V>;
const weakMapHas = uncurryThis(WeakMap.prototype.has) as <K extends object, V>(
  map: WeakMap<K, V>,
  key: K,
) => boolean;
const fsReadFileSync = fs.readFileSync as (file: string, encoding: 'utf8') => string;
const urlToPath = fileURLToPath;
const pathDirname = path.dirname;
const pathBasename = path.basename;
const eventNames = uncurryThis(EventEmitter.prototype.eventNames) as (emitter: object) => (string | symbol)[];
const rawListeners = uncurryThis(EventEmitter.prototype.rawListeners) as (
  emitter: object,
  name: string | symbol,
) => unknown[];
const processObject = process;
const hasCaptureCallback = uncurryThis(process.hasUncaughtExceptionCaptureCallback) as (
  self: object,
) => boolean;
const dcChannel = diagnosticsChannel.channel as (name: string | symbol) => object;
const dcHasSubscribers = diagnosticsChannel.hasSubscribers as (name: string | symbol) => boolean;
const createAsyncHook = asyncHooks.createHook;
const AsyncLocalStorageClass = asyncHooks.AsyncLocalStorage;
const promiseHooksObject = v8.promiseHooks as unknown as object;
const syncBuiltinESMExports = nodeModule.syncBuiltinESMExports;

type AnyFunction = (...args: never[]) => unknown;

const DETECTOR = 'process-hooks';

// ---------------------------------------------------------------------------------------------
// Small reflection helpers (no getter of a watched object is ever run; descriptors only)

/** An own data property's value, or undefined (accessors are not called). */
export function ownData(target: object, key: PropertyKey): unknown {
  const descriptor = ReflectGetOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  return descriptor.value;
}

/** A null-prototype copy of an own descriptor (a getter planted on Object.prototype.get cannot leak in). */
function ownDescriptor(target: object, key: PropertyKey): PropertyDescriptor | undefined {
  const descriptor = ReflectGetOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) return undefined;
  const copy = ObjectCreate(null) as PropertyDescriptor;
  if (ObjectHasOwn(descriptor, 'value')) copy.value = descriptor.value;
  if (ObjectHasOwn(descriptor, 'writable')) copy.writable = descriptor.writable;
  if (ObjectHasOwn(descriptor, 'get')) copy.get = descriptor.get;
  if (ObjectHasOwn(descriptor, 'set')) copy.set = descriptor.set;
  copy.enumerable = descriptor.enumerable === true;
  copy.configurable = descriptor.configurable === true;
  return copy;
}

function dataDescriptor(value: unknown, like: PropertyDescriptor | undefined): PropertyDescriptor {
  const descriptor = ObjectCreate(null) as PropertyDescriptor;
  descriptor.value = value;
  descriptor.writable = like === undefined ? true : like.writable === true;
  descriptor.enumerable = like === undefined ? false : like.enumerable === true;
  descriptor.configurable = like === undefined ? true : like.configurable === true;
  return descriptor;
}

/**
 * Make `wrapper` look like `original` to code that inspects it: same `name`, `length`, and every
 * other own property (`util.promisify.custom` on setTimeout) except `prototype`.
 */
export function mirrorFunction(original: object, wrapper: object): void {
  const keys = ReflectOwnKeys(original);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string | symbol;
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = ownDescriptor(original, key);
    if (descriptor === undefined) continue;
    try {
      ObjectDefineProperty(wrapper, key, descriptor);
    } catch {
      // A non-configurable own key of the wrapper (none today): keep the wrapper's.
    }
  }
}

/**
 * Replace the data property `target[key]` holding a function by `wrap(original)`, keeping the
 * property's attributes and mirroring the original's name, length and other own properties onto the
 * wrapper. Returns false (and changes nothing) when the property is absent, an accessor, not a
 * function, or cannot be redefined.
 */
export function replaceFunction(
  target: object,
  key: PropertyKey,
  wrap: (original: AnyFunction) => AnyFunction,
): boolean {
  const descriptor = ownDescriptor(target, key);
  if (
    descriptor === undefined ||
    !ObjectHasOwn(descriptor, 'value') ||
    typeof descriptor.value !== 'function'
  ) {
    return false;
  }
  if (descriptor.configurable !== true && descriptor.writable !== true) return false;
  const original = descriptor.value as AnyFunction;
  const wrapper = wrap(original);
  mirrorFunction(original, wrapper);
  try {
    ObjectDefineProperty(target, key, dataDescriptor(wrapper, descriptor));
    return true;
  } catch {
    return false;
  }
}

/** Make the ESM namespaces of built-ins (`import { open } from 'node:inspector'`) see the wrappers. */
export function syncBuiltinExports(): void {
  try {
    syncBuiltinESMExports();
  } catch {
    // Nothing to do: CommonJS callers already see the wrappers.
  }
}

// ---------------------------------------------------------------------------------------------
// Call origin: who made a call a sentinel saw

/** Where a call came from, read from the stack when a sentinel saw it. */
export interface CallOrigin {
  /**
   * One entry per JavaScript frame below the sentinel, innermost first: an absolute file, `node:…`
   * for Node's own code, or '' for code that has no file (eval, `new Function`). V8 builtins
   * (`Array.prototype.map`, `new Promise`) are left out.
   */
  readonly files: ArrayLike<string>;
  /** The innermost frame outside Node's own code as `file:line:column` (or `eval at …`), for a drift's detail. */
  readonly site: string;
  /** false when the guard could not read the stack itself (stack API tampered with) or it was cut. */
  readonly complete: boolean;
}

/** Frames read per origin; a deeper stack is `complete: false` (an implant's frame could be below the cut). */
const MAX_ORIGIN_FRAMES = 64;
const MAX_SITE = 200;
const EVAL_FILE = '';

interface CallSiteMethods {
  getFileName: (site: unknown) => unknown;
  isEval: (site: unknown) => unknown;
  getEvalOrigin: (site: unknown) => unknown;
  getLineNumber: (site: unknown) => unknown;
  getColumnNumber: (site: unknown) => unknown;
}

let collectedSites: unknown;
/** Our `Error.prepareStackTrace` while an origin is read: hands the structured frames over. */
function collectSites(_error: unknown, sites: unknown): string {
  collectedSites = sites;
  return '';
}

/** Structured call sites of the current stack (below `below`), or undefined when they cannot be read. */
function readSites(below: AnyFunction): unknown[] | undefined {
  const savedPrepare = ownDescriptor(ErrorConstructor, 'prepareStackTrace');
  const savedLimit = ownDescriptor(ErrorConstructor, 'stackTraceLimit');
  collectedSites = undefined;
  let ok = true;
  try {
    ObjectDefineProperty(ErrorConstructor, 'prepareStackTrace', dataDescriptor(collectSites, savedPrepare));
    ObjectDefineProperty(ErrorConstructor, 'stackTraceLimit', dataDescriptor(MAX_ORIGIN_FRAMES, savedLimit));
    const holder = ObjectCreate(null) as { stack?: unknown };
    ErrorCaptureStackTrace(holder, below);
    // V8 formats on first access, through the prepareStackTrace installed *now*.
    void holder.stack;
  } catch {
    ok = false;
  }
  try {
    if (savedPrepare === undefined) ReflectDeleteProperty(ErrorConstructor, 'prepareStackTrace');
    else ObjectDefineProperty(ErrorConstructor, 'prepareStackTrace', savedPrepare);
    if (savedLimit === undefined) ReflectDeleteProperty(ErrorConstructor, 'stackTraceLimit');
    else ObjectDefineProperty(ErrorConstructor, 'stackTraceLimit', savedLimit);
  } catch {
    ok = false;
  }
  const sites = collectedSites;
  collectedSites = undefined;
  // Node consults `globalThis.Error.prepareStackTrace`: if an implant swapped the global Error, ours
  // was never called and the frames are unknown (the origin is then "not the deployment").
  return ok && ArrayIsArray(sites) ? sites : undefined;
}

/** CallSite methods, captured from a real CallSite at load (an implant may replace them later). */
const callSite: CallSiteMethods | undefined = (() => {
  const sites = readSites(readSites as AnyFunction);
  const first = sites?.[0];
  if (typeof first !== 'object' || first === null) return undefined;
  const proto = ReflectGetPrototypeOf(first);
  if (proto === null) return undefined;
  const method = (name: string) => {
    const fn = ownData(proto, name);
    if (typeof fn !== 'function') throw new TypeError(`CallSite.${name} missing`);
    return uncurryThis(fn as AnyFunction) as (site: unknown) => unknown;
  };
  try {
    return ObjectFreeze({
      getFileName: method('getFileName'),
      isEval: method('isEval'),
      getEvalOrigin: method('getEvalOrigin'),
      getLineNumber: method('getLineNumber'),
      getColumnNumber: method('getColumnNumber'),
    });
  } catch {
    return undefined;
  }
})();

const INCOMPLETE: CallOrigin = ObjectFreeze({
  files: ObjectFreeze(newList<string>()),
  site: 'unknown',
  complete: false,
});

function clipSite(text: string): string {
  const clean = printable(text);
  return clean.length > MAX_SITE ? `${stringSlice(clean, 0, MAX_SITE)}…` : clean;
}

/**
 * Read the origin of the current call. `below` is the sentinel function itself: its frame and the
 * frames above it are left out. Costs one structured stack capture (a few µs): sentinels call it
 * only for the rare calls they record.
 */
export function captureOrigin(below: AnyFunction): CallOrigin {
  if (callSite === undefined) return INCOMPLETE;
  const sites = readSites(below);
  if (sites === undefined) return INCOMPLETE;
  // A null-prototype list: nothing an implant plants on Array.prototype is consulted, and no
  // per-element defineProperty on this hot-ish path.
  const files = ObjectCreate(null) as { length: number; [index: number]: string };
  let count = 0;
  let siteFrame: unknown;
  let innermostFrame: unknown;
  try {
    for (let i = 0; i < sites.length; i++) {
      const frame = sites[i];
      let file: string;
      const name = callSite.getFileName(frame);
      if (typeof name === 'string' && name.length > 0 && callSite.isEval(frame) !== true) {
        file = stringStartsWith(name, 'file://') ? urlToPath(name) : name;
      } else if (callSite.isEval(frame) === true) {
        file = EVAL_FILE;
      } else {
        // No file and not eval: a V8 builtin (Array.prototype.map, new Promise). Not code anyone wrote.
        continue;
      }
      files[count++] = file;
      // The site names the first frame outside Node's own code (Channel.publish is not news).
      if (siteFrame === undefined && !stringStartsWith(file, 'node:')) siteFrame = frame;
      if (innermostFrame === undefined) innermostFrame = frame;
    }
    files.length = count;
    const chosen = siteFrame ?? innermostFrame;
    return {
      files,
      site: chosen === undefined ? 'unknown' : siteLabel(chosen),
      complete: sites.length < MAX_ORIGIN_FRAMES,
    };
  } catch {
    return INCOMPLETE;
  }
}

function siteLabel(frame: unknown): string {
  if (callSite === undefined) return 'unknown';
  if (callSite.isEval(frame) === true) {
    const origin = callSite.getEvalOrigin(frame);
    return clipSite(typeof origin === 'string' ? origin : 'eval');
  }
  const name = callSite.getFileName(frame);
  const file = typeof name === 'string' && stringStartsWith(name, 'file://') ? urlToPath(name) : String(name);
  return clipSite(
    `${file}:${String(callSite.getLineNumber(frame))}:${String(callSite.getColumnNumber(frame))}`,
  );
}

/** Judges whether a call was made by the deployment (see `isDeployment`). */
export interface OriginJudge {
  /**
   * True when the call is Node's own (its innermost frame is one of `NODE_OWN_CALLERS`), or the
   * deployment's: the origin is complete, it has at least one frame in a
   * deployment file, every other frame is a deployment file or Node's own (`node:…`) code — no eval,
   * no `new Function`, no file outside the deployment or in the temp dir — and each callback handed
   * over that has source text (not native, not bound, not a Proxy) has that text, verbatim, in one of
   * the deployment files on the stack. The last rule is what a frame's file name cannot fake:
   * `vm.runInThisContext(code, { filename: '/var/task/index.js' })` names any file it likes, but the
   * implant's function text is not in that file.
   */
  isDeployment(origin: CallOrigin, callbacks?: readonly unknown[]): boolean;
}

/** Biggest deployment file searched for a callback's source (a bundled function is one big file). */
const MAX_SOURCE_FILE_BYTES = 32 * 1024 * 1024;
const MAX_SOURCE_CACHE = 256;
/** Distinct stack files searched for one callback. */
const MAX_SOURCE_FILES = 8;

function withSep(dir: string): string {
  return stringEndsWith(dir, pathSep) ? dir : dir + pathSep;
}

/**
 * The guard's own code directory (`…/guard/dist/` or `…/guard/src/`), so the guard's frames and
 * callbacks (its HTTP sink's deadline timer) count as the deployment's even where the guard is not
 * under the task root (the lab, tests). Undefined when this file is bundled into something else.
 */
const GUARD_CODE_DIR: string | undefined =
  typeof __dirname === 'string' && pathBasename(__dirname) === 'integrity'
    ? withSep(pathDirname(__dirname))
    : undefined;

const NATIVE_TAIL = '[native code] }';

/**
 * Node's own modules that call the watched functions themselves, with callbacks of their own, often
 * from an I/O callback where no frame of the function's code is on the stack. A call whose innermost
 * frame is one of these is Node's. Modules that call arbitrary callbacks (`node:events`,
 * `node:internal/process/task_queues`, `node:internal/timers`) are deliberately not here: a bound
 * `setInterval` registered as a listener or queued as a microtask would pass through them.
 */
export const NODE_OWN_CALLERS: readonly { readonly file: string; readonly why: string }[] = ObjectFreeze([
  {
    file: 'node:internal/deps/undici/undici',
    why: "fetch's undici arms its fast-timer tick and its socket/parser timeouts through the global setTimeout",
  },
  {
    file: 'node:internal/async_hooks',
    why: 'enabling any AsyncHook (AsyncLocalStorage on Node 20/22) re-creates the promise hook through v8.promiseHooks.createHook',
  },
  {
    file: 'node:_http_server',
    why: 'an http.Server arms its connection-checking interval (headersTimeout/requestTimeout) when it listens; the server itself is judged',
  },
  {
    file: 'node:child_process',
    why: "exec/execFile arm their `timeout` option's kill timer; the child itself is judged",
  },
]);

function isNodeOwnCaller(file: string | undefined): boolean {
  if (file === undefined) return false;
  for (let i = 0; i < NODE_OWN_CALLERS.length; i++)
    if ((NODE_OWN_CALLERS[i] as { file: string }).file === file) return true;
  return false;
}

/** A judge for `facts`' deployment. */
export function createOriginJudge(facts: DeploymentFacts): OriginJudge {
  const base = deploymentRoots(facts);
  const roots = newList<string>();
  for (let i = 0; i < base.roots.length; i++) appendItem(roots, base.roots[i] as string);
  if (GUARD_CODE_DIR !== undefined) appendItem(roots, GUARD_CODE_DIR);
  const judgeRoots = ObjectFreeze({ roots: ObjectFreeze(roots), tmp: base.tmp });
  let sourceCache = new SafeMap<string, boolean>();

  const sourceIn = (file: string, source: string): boolean => {
    const key = `${file}\u0000${source}`;
    const cached = mapGet(sourceCache, key);
    if (cached !== undefined) return cached;
    let found = false;
    try {
      const stat = fsStatSync(file);
      if (stat.isFile() && stat.size <= MAX_SOURCE_FILE_BYTES)
        found = stringIncludes(fsReadFileSync(file, 'utf8'), source);
    } catch {
      found = false;
    }
    if (mapSize(sourceCache) >= MAX_SOURCE_CACHE) sourceCache = new SafeMap<string, boolean>();
    mapSet(sourceCache, key, found);
    return found;
  };

  const callbackVerified = (callback: unknown, files: ArrayLike<string>): boolean => {
    if (typeof callback !== 'function') return true;
    if (isProxy(callback)) return false;
    let source: string;
    try {
      source = functionToString(callback as AnyFunction);
    } catch {
      return false;
    }
    // Bound functions, promise resolvers, builtins: no text to check. Accepting them leaves one gap:
    // a deployment function that forwards an arbitrary callback to the hook (see SECURITY notes).
    if (stringEndsWith(source, NATIVE_TAIL)) return true;
    let searched = 0;
    for (let i = 0; i < files.length && searched < MAX_SOURCE_FILES; i++) {
      const file = files[i] as string;
      if (file === EVAL_FILE || stringStartsWith(file, 'node:')) continue;
      let seen = false;
      for (let j = 0; j < i; j++) if (files[j] === file) seen = true;
      if (seen) continue;
      searched++;
      if (sourceIn(file, source)) return true;
    }
    return false;
  };

  return ObjectFreeze({
    isDeployment(origin: CallOrigin, callbacks?: readonly unknown[]): boolean {
      if (!origin.complete) return false;
      if (isNodeOwnCaller(origin.files[0])) return true;
      let deploymentFrames = 0;
      for (let i = 0; i < origin.files.length; i++) {
        const file = origin.files[i] as string;
        if (file === EVAL_FILE) return false;
        if (stringStartsWith(file, 'node:')) continue;
        if (!isDeploymentPath(file, judgeRoots)) return false;
        deploymentFrames++;
      }
      if (deploymentFrames === 0) return false;
      if (callbacks !== undefined) {
        for (let i = 0; i < callbacks.length; i++)
          if (!callbackVerified(callbacks[i], origin.files)) return false;
      }
      return true;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Sentinels (installed once per process, at the first baseline)

/** What a sentinel recorded: one hook installed after the baseline. */
interface HookRecord {
  readonly path: string;
  readonly origin: CallOrigin;
  /** Functions handed to the hook (checked against the deployment's source). */
  readonly callbacks: readonly unknown[];
  /** The hook's owner: a channel, an AsyncHook, an inspector Session. */
  readonly target: object | undefined;
  /** The subscriber function, or the store of a bindStore. */
  readonly handle: unknown;
  readonly liveness: number;
  /** Cleared by the matching uninstall (disable, the promise hook's stop function, disconnect). */
  live: boolean;
  /** 0 not judged yet, 1 the deployment's, 2 not. */
  verdict: number;
  /** Inspector records are drift whoever installed them. */
  readonly alwaysDrift: boolean;
}

/** Live while `live` is true. */
const LIVE_FLAG = 0;
/** Live while the subscriber is still in the channel's `_subscribers`. */
const LIVE_SUBSCRIBER = 1;
/** Live while the store is still in the channel's `_stores`. */
const LIVE_STORE = 2;

/** Hooks recorded after the baseline and kept while live; more than this is itself reported. */
const MAX_RECORDS = 1024;

const sentinel = {
  installed: false,
  armed: false,
  records: newList<HookRecord>(),
  dropped: 0,
  /** Which sentinels could be installed (for the detector's stats and tests). */
  installedNames: newList<string>(),
  /** Where the last `inspector.open()` after the baseline came from. */
  openSite: undefined as string | undefined,
};

function record(
  path: string,
  origin: CallOrigin,
  callbacks: readonly unknown[],
  target: object | undefined,
  handle: unknown,
  liveness: number,
  alwaysDrift = false,
): HookRecord | undefined {
  if (sentinel.records.length >= MAX_RECORDS) compactRecords();
  if (sentinel.records.length >= MAX_RECORDS) {
    sentinel.dropped++;
    return undefined;
  }
  const entry: HookRecord = {
    path,
    origin,
    callbacks,
    target,
    handle,
    liveness,
    live: true,
    verdict: 0,
    alwaysDrift,
  };
  appendItem(sentinel.records, entry);
  return entry;
}

/**
 * A channel's bound stores: a Map, null for an idle channel (`_stores: undefined`), undefined when
 * the layout is unknown. A Map is recognised by its size getter's brand check, not `instanceof`
 * (which consults a `Symbol.hasInstance` an implant could plant on Map).
 */
function storesOf(channel: object): Map<unknown, unknown> | null | undefined {
  const descriptor = ReflectGetOwnPropertyDescriptor(channel, '_stores');
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  const value: unknown = descriptor.value;
  if (value === undefined) return null;
  try {
    mapSize(value as Map<unknown, unknown>);
    return value as Map<unknown, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * A channel's subscriber array; an idle channel holds `_subscribers: undefined` (Node 20–24), which is
 * an empty list. Undefined when the channel has no such property (another Node's layout).
 */
function subscribersOf(channel: object): readonly unknown[] | undefined {
  const descriptor = ReflectGetOwnPropertyDescriptor(channel, '_subscribers');
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  const value: unknown = descriptor.value;
  if (value === undefined) return newList<unknown>();
  return ArrayIsArray(value) ? value : undefined;
}

function listIncludes(list: unknown, item: unknown): boolean {
  if (!ArrayIsArray(list)) return false;
  for (let i = 0; i < list.length; i++) if (list[i] === item) return true;
  return false;
}

function isLive(entry: HookRecord): boolean {
  if (!entry.live) return false;
  if (entry.target === undefined) return true;
  if (entry.liveness === LIVE_SUBSCRIBER) {
    const subscribers = subscribersOf(entry.target);
    // No readable subscriber list (a future Node): keep the record, it cannot be shown gone.
    return subscribers === undefined ? true : listIncludes(subscribers, entry.handle);
  }
  if (entry.liveness === LIVE_STORE) {
    const stores = storesOf(entry.target);
    return stores === undefined ? true : stores !== null && mapHas(stores, entry.handle);
  }
  return true;
}

/** Drop records of hooks that were uninstalled since. */
function compactRecords(): void {
  const kept = newList<HookRecord>();
  for (let i = 0; i < sentinel.records.length; i++) {
    const entry = sentinel.records[i] as HookRecord;
    if (isLive(entry)) appendItem(kept, entry);
  }
  sentinel.records = kept;
}

function channelLabel(channel: object): string {
  const name = ownData(channel, 'name');
  if (typeof name === 'symbol') return formatSymbol(name);
  return `'${printable(String(name))}'`;
}

function installAsyncHookSentinel(): void {
  const probe = createAsyncHook({});
  const proto = ReflectGetPrototypeOf(probe);
  if (proto === null) return;
  const hooks = new SafeWeakMap<object, HookRecord>();
  const benign = new SafeWeakMap<object, boolean>();
  let learning = false;
  const enabled = replaceFunction(proto, 'enable', (original) => {
    const wrapper = {
      enable(this: object, ...args: unknown[]): unknown {
        const result = ReflectApply(original, this, args);
        if (learning) weakMapSet(benign, this, true);
        else if (sentinel.armed && !weakMapHas(benign, this)) {
          const existing = weakMapGet(hooks, this);
          if (existing === undefined || !existing.live) {
            const entry = record(
              'async_hooks.createHook().enable',
              captureOrigin(wrapper),
              [],
              this,
              undefined,
              LIVE_FLAG,
            );
            if (entry !== undefined) weakMapSet(hooks, this, entry);
          }
        }
        return result;
      },
    }.enable;
    return wrapper as AnyFunction;
  });
  replaceFunction(proto, 'disable', (original) => {
    return {
      disable(this: object, ...args: unknown[]): unknown {
        const result = ReflectApply(original, this, args);
        const entry = weakMapGet(hooks, this);
        if (entry !== undefined) entry.live = false;
        return result;
      },
    }.disable as AnyFunction;
  });
  if (!enabled) return;
  appendItem(sentinel.installedNames, 'async_hooks');
  // AsyncLocalStorage (Node 20/22) runs on one internal AsyncHook that it enables on first use and
  // disables when the last store is disabled: that is not an implant. Learn its identity now by
  // using a throwaway store once (a no-op on Node 24, where stores do not use async hooks).
  learning = true;
  try {
    const store = new AsyncLocalStorageClass<number>();
    store.run(1, () => undefined);
    store.disable();
  } catch {
    // Without the lesson a later first use of AsyncLocalStorage is reported: loud, not silent.
  } finally {
    learning = false;
  }
}

const PROMISE_HOOKS = ['onInit', 'onSettled', 'onBefore', 'onAfter'] as const;
const PROMISE_HOOK_FIELDS = ['init', 'before', 'after', 'settled'] as const;

/** The stop function a promise hook returns, wrapped so that calling it retires the record. */
function wrapStop(stop: unknown, entry: HookRecord | undefined): unknown {
  if (typeof stop !== 'function' || entry === undefined) return stop;
  const wrapper = {
    stop(this: unknown, ...args: unknown[]): unknown {
      entry.live = false;
      return ReflectApply(stop as AnyFunction, this, args);
    },
  }.stop;
  mirrorFunction(stop, wrapper);
  return wrapper;
}

function installPromiseHooksSentinel(): void {
  if (typeof promiseHooksObject !== 'object' || promiseHooksObject === null) return;
  let any = false;
  for (let i = 0; i < PROMISE_HOOKS.length; i++) {
    const name = PROMISE_HOOKS[i] as string;
    any =
      replaceFunction(promiseHooksObject, name, (original) => {
        const wrapper = {
          [name](this: unknown, ...args: unknown[]): unknown {
            const stop = ReflectApply(original, this, args);
            if (!sentinel.armed) return stop;
            const entry = record(
              `v8.promiseHooks.${name}`,
              captureOrigin(wrapper),
              [args[0]],
              undefined,
              undefined,
              LIVE_FLAG,
            );
            return wrapStop(stop, entry);
          },
        }[name] as AnyFunction;
        return wrapper;
      }) || any;
  }
  any =
    replaceFunction(promiseHooksObject, 'createHook', (original) => {
      const wrapper = {
        createHook(this: unknown, ...args: unknown[]): unknown {
          const stop = ReflectApply(original, this, args);
          if (!sentinel.armed) return stop;
          const callbacks = newList<unknown>();
          const hooks = args[0];
          if (typeof hooks === 'object' && hooks !== null) {
            for (let i = 0; i < PROMISE_HOOK_FIELDS.length; i++) {
              appendItem(callbacks, ownData(hooks, PROMISE_HOOK_FIELDS[i] as string));
            }
          }
          const entry = record(
            'v8.promiseHooks.createHook',
            captureOrigin(wrapper),
            callbacks,
            undefined,
            undefined,
            LIVE_FLAG,
          );
          return wrapStop(stop, entry);
        },
      }.createHook;
      return wrapper as AnyFunction;
    }) || any;
  if (any) appendItem(sentinel.installedNames, 'v8.promiseHooks');
}

/** `inspector.url` captured at the first baseline, or undefined when Node has no inspector. */
let inspectorUrl: (() => unknown) | undefined;

function installInspectorSentinel(): void {
  let inspector: Record<string, unknown>;
  try {
    // Loaded here, not at the top: a Node built without the inspector throws on require.
    inspector = require('node:inspector') as Record<string, unknown>;
  } catch {
    return;
  }
  const url = ownData(inspector, 'url');
  if (typeof url === 'function') {
    const bound = url as AnyFunction;
    inspectorUrl = () => ReflectApply(bound, inspector, []);
  }
  const sessions = new SafeWeakMap<object, HookRecord>();
  const Session = ownData(inspector, 'Session');
  const proto = typeof Session === 'function' ? ownData(Session, 'prototype') : undefined;
  if (typeof proto === 'object' && proto !== null) {
    const connects = ['connect', 'connectToMainThread'] as const;
    for (let i = 0; i < connects.length; i++) {
      const name = connects[i] as string;
      replaceFunction(proto, name, (original) => {
        const wrapper = {
          [name](this: object, ...args: unknown[]): unknown {
            const result = ReflectApply(original, this, args);
            if (sentinel.armed) {
              const entry = record(
                `inspector.Session.prototype.${name}`,
                captureOrigin(wrapper),
                [],
                this,
                undefined,
                LIVE_FLAG,
                true,
              );
              if (entry !== undefined) weakMapSet(sessions, this, entry);
            }
            return result;
          },
        }[name] as AnyFunction;
        return wrapper;
      });
    }
    replaceFunction(proto, 'disconnect', (original) => {
      return {
        disconnect(this: object, ...args: unknown[]): unknown {
          const result = ReflectApply(original, this, args);
          const entry = weakMapGet(sessions, this);
          if (entry !== undefined) entry.live = false;
          return result;
        },
      }.disconnect as AnyFunction;
    });
  }
  // inspector.open is judged by its effect (`inspector.url()` set), which also catches SIGUSR1 and
  // process._debugProcess; the sentinel only tells the two apart in the drift's detail.
  replaceFunction(inspector, 'open', (original) => {
    const wrapper = {
      open(this: unknown, ...args: unknown[]): unknown {
        const result = ReflectApply(original, this, args);
        if (sentinel.armed) sentinel.openSite = captureOrigin(wrapper).site;
        return result;
      },
    }.open;
    return wrapper as AnyFunction;
  });
  appendItem(sentinel.installedNames, 'inspector');
}

function installChannelSentinel(): void {
  // Node keeps a channel without subscribers on one prototype and switches it to another
  // (ActiveChannel) on the first subscribe; both carry subscribe/bindStore. Find both with a probe.
  const probe = dcChannel('ephemera:integrity-probe') as {
    subscribe(fn: () => void): void;
    unsubscribe(fn: () => void): unknown;
  };
  const idle = ReflectGetPrototypeOf(probe);
  const noop = (): void => undefined;
  probe.subscribe(noop);
  const active = ReflectGetPrototypeOf(probe);
  probe.unsubscribe(noop);
  const protos = newList<object>();
  if (idle !== null) appendItem(protos, idle);
  if (active !== null && active !== idle) appendItem(protos, active);
  // Channel.prototype.subscribe marks the channel active and calls this.subscribe again: only the
  // outermost wrapper records.
  let depth = 0;
  let any = false;
  for (let i = 0; i < protos.length; i++) {
    const proto = protos[i] as object;
    any =
      replaceFunction(proto, 'subscribe', (original) => {
        const wrapper = {
          subscribe(this: object, ...args: unknown[]): unknown {
            depth++;
            try {
              const result = ReflectApply(original, this, args);
              if (sentinel.armed && depth === 1) {
                record(
                  `diagnostics_channel.channel(${channelLabel(this)}).subscribe`,
                  captureOrigin(wrapper),
                  [args[0]],
                  this,
                  args[0],
                  LIVE_SUBSCRIBER,
                );
              }
              return result;
            } finally {
              depth--;
            }
          },
        }.subscribe;
        return wrapper as AnyFunction;
      }) || any;
    replaceFunction(proto, 'bindStore', (original) => {
      const wrapper = {
        bindStore(this: object, ...args: unknown[]): unknown {
          depth++;
          try {
            const result = ReflectApply(original, this, args);
            if (sentinel.armed && depth === 1) {
              record(
                `diagnostics_channel.channel(${channelLabel(this)}).bindStore`,
                captureOrigin(wrapper),
                [args[1]],
                this,
                args[0],
                LIVE_STORE,
              );
            }
            return result;
          } finally {
            depth--;
          }
        },
      }.bindStore;
      return wrapper as AnyFunction;
    });
  }
  if (any) appendItem(sentinel.installedNames, 'diagnostics_channel');
}

function installSentinels(): void {
  if (sentinel.installed) return;
  sentinel.installed = true;
  const steps = [
    installAsyncHookSentinel,
    installPromiseHooksSentinel,
    installInspectorSentinel,
    installChannelSentinel,
  ];
  for (let i = 0; i < steps.length; i++) {
    try {
      (steps[i] as () => void)();
    } catch {
      // One missing API (a Node version without it) must not cost the others.
    }
  }
  syncBuiltinExports();
}

// ---------------------------------------------------------------------------------------------
// Policy data

/**
 * Diagnostics channels whose subscribers see request data or process activity: a subscriber that
 * appears on one after the baseline without a sentinel record (pushed straight into the channel's
 * internal array) is drift. Subscriptions through `subscribe`/`bindStore` on ANY channel are seen by
 * the sentinels; this list is the belt to their braces. Names that a Node version lacks are harmless.
 */
export const WATCHED_CHANNELS: readonly string[] = ObjectFreeze([
  // node:http — every outgoing and incoming request, with its headers.
  'http.client.request.created',
  'http.client.request.start',
  'http.client.request.error',
  'http.client.response.finish',
  'http.server.request.start',
  'http.server.response.created',
  'http.server.response.finish',
  // node:http2 (Node 24).
  'http2.client.stream.created',
  'http2.client.stream.start',
  'http2.server.stream.created',
  'http2.server.stream.start',
  // node:net — every socket.
  'net.client.socket',
  'net.server.socket',
  // undici (fetch): requests, their headers and bodies, connections.
  'undici:request:create',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:bodySent',
  'undici:request:bodyChunkSent',
  'undici:request:bodyChunkReceived',
  'undici:request:error',
  'undici:client:sendHeaders',
  'undici:client:beforeConnect',
  'undici:client:connected',
  'undici:client:connectError',
  'undici:websocket:open',
  'undici:websocket:socket',
  // Process activity; `resources` subscribes to the first four itself when it loads (its
  // subscriptions are part of the baseline, and their removal is reported here).
  'child_process',
  'worker_threads',
  'udp.socket',
  'tracing:net.server.listen:asyncStart',
  'tracing:child_process.spawn:start',
  'process.execve',
  // Node 24: everything the function logs.
  'console.log',
  'console.info',
  'console.debug',
  'console.warn',
  'console.error',
  // Node 24: module loading (an implant sees every later require/import).
  'tracing:module.require:start',
  'tracing:module.import:start',
]);

// ---------------------------------------------------------------------------------------------
// The detector

interface ChannelBaseline {
  readonly name: string;
  readonly channel: object;
  readonly hadSubscribers: boolean;
  readonly subscribers: readonly unknown[] | undefined;
  readonly stores: number;
}

interface ListenerBaseline {
  readonly listeners: readonly unknown[];
}

export interface ProcessHooksOptions {
  /** Channels whose subscriber lists are compared with the baseline (default `WATCHED_CHANNELS`). */
  readonly channels?: readonly string[];
}

export interface ProcessHooksDetector extends Detector {
  /** Which sentinels are installed (`async_hooks`, `v8.promiseHooks`, `inspector`, `diagnostics_channel`). */
  sentinels(): readonly string[];
}

function eventLabel(name: string | symbol): string {
  return typeof name === 'symbol' ? formatSymbol(name) : `'${printable(name)}'`;
}

function copyList(list: unknown): unknown[] {
  const out = newList<unknown>();
  if (!ArrayIsArray(list)) return out;
  for (let i = 0; i < list.length; i++) appendItem(out, list[i]);
  return out;
}

/**
 * Listeners Node itself adds for a while and removes again: their removal is not drift (adding one
 * of these names is, like any addition).
 */
export const TRANSIENT_NODE_LISTENERS: readonly {
  readonly event: string;
  readonly name: string;
  readonly why: string;
}[] = ObjectFreeze([
  {
    event: 'exit',
    name: 'handleProcessExit',
    why: 'Node registers it while an ES module entry point evaluates (to report an unfinished top-level await) and removes it once the entry point settled',
  },
]);

function isTransientNodeListener(event: string | symbol, listener: unknown): boolean {
  if (typeof listener !== 'function') return false;
  const name = ownData(listener, 'name');
  for (let i = 0; i < TRANSIENT_NODE_LISTENERS.length; i++) {
    const entry = TRANSIENT_NODE_LISTENERS[i] as { event: string; name: string };
    if (entry.event === event && entry.name === name) return true;
  }
  return false;
}

/** A `once` listener as stored by EventEmitter: a wrapper carrying the original as `.listener`. */
function isOnceWrapper(listener: unknown): boolean {
  return typeof listener === 'function' && typeof ownData(listener, 'listener') === 'function';
}

function indexOfIdentity(list: readonly unknown[], item: unknown): number {
  for (let i = 0; i < list.length; i++) if (list[i] === item) return i;
  return -1;
}

/**
 * Create the 'process-hooks' detector. Its first baseline installs the sentinels (once per process).
 */
export function createProcessHooksDetector(
  facts: DeploymentFacts,
  options: ProcessHooksOptions = {},
): ProcessHooksDetector {
  const judge = createOriginJudge(facts);
  const channelNames = options.channels ?? WATCHED_CHANNELS;
  let listenerBaseline = new SafeMap<string | symbol, ListenerBaseline>();
  let eventsObject: unknown;
  let captureBaseline = false;
  let inspectorBaseline: unknown;
  let channels = newList<ChannelBaseline>();

  const snapshotChannel = (name: string): ChannelBaseline => {
    const channel = dcChannel(name);
    const stores = storesOf(channel);
    const subscribers = subscribersOf(channel);
    return ObjectFreeze({
      name,
      channel,
      hadSubscribers: dcHasSubscribers(name),
      subscribers: subscribers === undefined ? undefined : ObjectFreeze(copyList(subscribers)),
      stores: stores === undefined || stores === null ? 0 : mapSize(stores),
    });
  };

  /** Whether a live sentinel record accounts for a subscriber (or, with `liveness` -1, for any change). */
  const recordExplains = (channel: object, handle: unknown, liveness: number): boolean => {
    for (let i = 0; i < sentinel.records.length; i++) {
      const entry = sentinel.records[i] as HookRecord;
      if (entry.target !== channel) continue;
      if (liveness === -1) return true;
      if (entry.liveness === liveness && (handle === undefined || entry.handle === handle)) return true;
    }
    return false;
  };

  const checkListeners = (out: Drift[]): void => {
    const names = eventNames(processObject);
    const seen = new SafeMap<string | symbol, boolean>();
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string | symbol;
      mapSet(seen, name, true);
      const now = rawListeners(processObject, name);
      const before = mapGet(listenerBaseline, name)?.listeners ?? newList<unknown>();
      diffListeners(name, before, now, out);
    }
    // Events whose every listener is gone no longer appear in eventNames().
    mapForEach(listenerBaseline, (value, name) => {
      if (!mapHas(seen, name)) diffListeners(name, value.listeners, newList<unknown>(), out);
    });
  };

  const diffListeners = (
    name: string | symbol,
    before: readonly unknown[],
    now: readonly unknown[],
    out: Drift[],
  ): void => {
    if (before.length === now.length) {
      let same = true;
      for (let i = 0; i < now.length && same; i++) same = before[i] === now[i];
      if (same) return;
    }
    const base = `process.listeners(${eventLabel(name)})`;
    const removedAt = newList<number>();
    let changed = false;
    for (let i = 0; i < before.length; i++) {
      if (indexOfIdentity(now, before[i]) >= 0) continue;
      changed = true;
      // A `once` listener that is gone may simply have fired (a 'warning' once-listener, say).
      if (isOnceWrapper(before[i]) || isTransientNodeListener(name, before[i])) continue;
      appendItem(removedAt, i);
    }
    for (let i = 0; i < now.length; i++) {
      if (indexOfIdentity(before, now[i]) >= 0) continue;
      changed = true;
      const detail = { event: eventLabel(name), index: i, count: now.length, once: isOnceWrapper(now[i]) };
      const replacedIndex = indexOfIdentity(removedAt, i);
      if (replacedIndex >= 0) {
        removedAt[replacedIndex] = -1;
        appendItem(out, makeDrift(`${base}[${i}]`, 'replaced', DETECTOR, detail));
      } else {
        appendItem(out, makeDrift(`${base}[${i}]`, 'added', DETECTOR, detail));
      }
    }
    for (let i = 0; i < removedAt.length; i++) {
      const index = removedAt[i] as number;
      if (index < 0) continue;
      appendItem(
        out,
        makeDrift(`${base}[${index}]`, 'removed', DETECTOR, {
          event: eventLabel(name),
          index,
          count: now.length,
        }),
      );
    }
    if (!changed) {
      appendItem(
        out,
        makeDrift(base, 'reconfigured', DETECTOR, { event: eventLabel(name), reordered: true }),
      );
    }
  };

  const checkChannels = (out: Drift[]): void => {
    for (let i = 0; i < channels.length; i++) {
      const base = channels[i] as ChannelBaseline;
      const label = `diagnostics_channel.channel('${printable(base.name)}')`;
      const subscribers = subscribersOf(base.channel);
      if (base.subscribers !== undefined && subscribers !== undefined) {
        for (let j = 0; j < subscribers.length; j++) {
          const fn = subscribers[j];
          if (indexOfIdentity(base.subscribers, fn) >= 0) continue;
          if (recordExplains(base.channel, fn, LIVE_SUBSCRIBER)) continue;
          appendItem(out, makeDrift(`${label}._subscribers[${j}]`, 'added', DETECTOR, { untracked: true }));
        }
        for (let j = 0; j < base.subscribers.length; j++) {
          if (indexOfIdentity(subscribers, base.subscribers[j]) >= 0) continue;
          appendItem(out, makeDrift(`${label}.subscribe`, 'removed', DETECTOR, { index: j }));
        }
      } else if (
        !base.hadSubscribers &&
        dcHasSubscribers(base.name) &&
        !recordExplains(base.channel, undefined, -1)
      ) {
        appendItem(out, makeDrift(`${label}.hasSubscribers`, 'hook', DETECTOR, { untracked: true }));
      }
      const stores = storesOf(base.channel);
      const storeCount = stores === undefined || stores === null ? 0 : mapSize(stores);
      if (storeCount > base.stores && !recordExplains(base.channel, undefined, LIVE_STORE)) {
        appendItem(
          out,
          makeDrift(`${label}._stores`, 'added', DETECTOR, { untracked: true, stores: storeCount }),
        );
      }
    }
  };

  const checkRecords = (out: Drift[]): void => {
    compactRecords();
    for (let i = 0; i < sentinel.records.length; i++) {
      const entry = sentinel.records[i] as HookRecord;
      if (entry.verdict === 0) {
        entry.verdict = !entry.alwaysDrift && judge.isDeployment(entry.origin, entry.callbacks) ? 1 : 2;
      }
      if (entry.verdict === 1) continue;
      appendItem(out, makeDrift(entry.path, 'hook', DETECTOR, { site: entry.origin.site }));
    }
    if (sentinel.dropped > 0) {
      appendItem(
        out,
        makeDrift(DETECTOR, 'fault', DETECTOR, { reason: 'too-many-hooks', dropped: sentinel.dropped }),
      );
    }
  };

  return ObjectFreeze({
    name: DETECTOR,
    baseline(): void {
      installSentinels();
      sentinel.armed = true;
      // The sentinels are process-wide: what they recorded before this baseline is part of it.
      sentinel.records = newList<HookRecord>();
      sentinel.dropped = 0;
      sentinel.openSite = undefined;
      listenerBaseline = new SafeMap<string | symbol, ListenerBaseline>();
      const names = eventNames(processObject);
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string | symbol;
        mapSet(
          listenerBaseline,
          name,
          ObjectFreeze({ listeners: ObjectFreeze(copyList(rawListeners(processObject, name))) }),
        );
      }
      eventsObject = ownData(processObject, '_events');
      captureBaseline = hasCaptureCallback(processObject);
      inspectorBaseline = inspectorUrl === undefined ? undefined : inspectorUrl();
      channels = newList<ChannelBaseline>();
      for (let i = 0; i < channelNames.length; i++) {
        try {
          appendItem(channels, snapshotChannel(channelNames[i] as string));
        } catch {
          // A name this Node rejects: nothing to watch.
        }
      }
    },
    check(): Drift[] {
      const out = newList<Drift>();
      const steps: readonly [string, (drifts: Drift[]) => void][] = [
        ['listeners', checkListeners],
        [
          '_events',
          (drifts) => {
            if (ownData(processObject, '_events') !== eventsObject) {
              appendItem(drifts, makeDrift('process._events', 'replaced', DETECTOR));
            }
          },
        ],
        [
          'capture-callback',
          (drifts) => {
            if (!captureBaseline && hasCaptureCallback(processObject)) {
              appendItem(drifts, makeDrift('process.setUncaughtExceptionCaptureCallback', 'hook', DETECTOR));
            }
          },
        ],
        [
          'inspector',
          (drifts) => {
            if (inspectorUrl === undefined || inspectorBaseline !== undefined) return;
            if (inspectorUrl() === undefined) return;
            const site = sentinel.openSite;
            appendItem(
              drifts,
              makeDrift('inspector.open', 'hook', DETECTOR, {
                via:
                  site === undefined
                    ? 'not inspector.open (signal or process._debugProcess)'
                    : 'inspector.open',
                site: site ?? null,
              }),
            );
          },
        ],
        ['channels', checkChannels],
        ['sentinels', checkRecords],
      ];
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i] as [string, (drifts: Drift[]) => void];
        try {
          step[1](out);
        } catch {
          appendItem(out, makeDrift(DETECTOR, 'fault', DETECTOR, { stage: step[0] }));
        }
      }
      return out;
    },
    sentinels(): readonly string[] {
      return copyList(sentinel.installedNames) as string[];
    },
  });
}
