/**
 * The init-time patch inventory: what changed, while the function initialised, in what the integrity
 * control watches — and which package changed it.
 *
 * Why: the integrity baseline is taken at the end of INIT and trusts what it finds. A poisoned
 * dependency that patches `https.request` or `JSON.stringify` when it is required would be part of
 * that baseline, "normal". When the guard loads first (`register`, exec wrapper), this module starts
 * recording before any of the function's code runs, and the `initPatches` control (controls.ts)
 * reads the inventory when the guard is created.
 *
 * What is watched: every object surface of `surfaces.ts` (intrinsics, globals, built-in modules and
 * their shared prototypes, `process`), plus `Module`, `Module.prototype` and `Module._extensions`
 * (the loader internals require hooks replace). Built-in modules not loaded yet when recording
 * starts are recorded when first required (Node creates them fresh then: that is their pristine
 * state), so recording does not load modules the function never uses.
 *
 * Attribution — measured choice (see docs/benchmarks.md, "Init-time patch inventory"):
 * - Accessor traps on the watched properties would name the writer from the stack at the write,
 *   but turn ~2,600 data properties into accessors during INIT (every read of `JSON.stringify`
 *   becomes a call, and libraries that inspect descriptors — shimmer, require-in-the-middle — see
 *   accessors), so no.
 * - A stack at change time needs such traps too.
 * - Chosen: a diff at package boundaries. `Module.prototype._compile` is wrapped during INIT; when
 *   a module of another package than the one compiling it starts or finishes compiling, the watched
 *   surfaces are compared with the last recorded state, and what changed is attributed to the
 *   package whose code ran since the last comparison (the enclosing package before a boundary, the
 *   inner package at its end). Exact for patches made while a module body runs (require time),
 *   which is what a poisoned dependency does; a patch made later from a callback (a timer, a
 *   promise) during INIT is found by the final comparison and attributed to `unknown`.
 *   The per-boundary comparison is an identity check of recorded values (no allocation when
 *   nothing changed), so its cost is proportional to boundaries × watched properties.
 * Not covered: `process.stdout`/`process.stderr` (created on first use, ~10 ms) and the prototypes of Node's lazily loaded web globals (`Headers`, `Request`, `Response`,
 * `FormData`, web streams…: resolving them loads undici, tens of milliseconds, into every cold start
 * — the integrity baseline watches them from the end of INIT); ES modules of packages (they do not go through `_compile`; their patches are found
 * by the final comparison, attributed to `unknown`), and process listeners (the integrity control's
 * process-hooks detector baselines those at the end of INIT).
 */
import Module from 'node:module';
import { FUNCTION_CODE, GUARD_PACKAGE, packageOfFile } from '../attribution.js';
import { LAZY_GLOBALS, SURFACES, type SurfaceMode } from './surfaces.js';

/** One change found during INIT. */
export interface InitPatch {
  /** The package whose code made it (`node_modules/<name>`), `function code`, `runtime` or `unknown`. */
  readonly package: string;
  /** What changed, as the integrity control's drift paths name it: `https.request`, `JSON.stringify`. */
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'replaced' | 'reconfigured';
  /**
   * Set when the function's own code called the package that made the change (`AWSXRay.
   * captureHTTPsGlobal(https)`, a package's `init()`): `function code`. See `authorOf`.
   */
  readonly calledFrom?: string;
}

/** A change as found, with the new value (a function whose author `authorOf` may name). */
type Found = InitPatch & { readonly value?: unknown };

/** What recording found, read once when the guard is created. */
export interface InitInventory {
  /** Whether recording ran (register/exec-wrapper modes with `integrity.initPatches` not `off`). */
  readonly recorded: boolean;
  readonly patches: readonly InitPatch[];
  /** Modules compiled while recording. */
  readonly modules: number;
  /** Comparisons made (package boundaries, plus the final one). */
  readonly comparisons: number;
  /** Milliseconds spent comparing (the inventory's cost on cold start, less the _compile wrapper). */
  readonly costMs: number;
  /** Milliseconds spent resolving and recording the surfaces when recording started. */
  readonly startMs: number;
}

/**
 * The properties checked at every package boundary (exact attribution): the ones implants and
 * poisoned packages hook to see or steal data — serialisation, outbound requests, sockets, child
 * processes, crypto, code loading, logging. Everything else watched is checked at the function's own
 * dependency boundaries and at the end (attributed to the direct dependency whose load made it).
 */
export const HOT_PATHS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  JSON: ['parse', 'stringify'],
  'Function.prototype': ['call', 'apply', 'bind', 'toString'],
  'Promise.prototype': ['then'],
  globalThis: ['fetch', 'eval', 'Function', 'setTimeout', 'setInterval', 'queueMicrotask'],
  console: ['log', 'info', 'warn', 'error', 'debug'],
  process: ['emit', 'on', 'binding', 'dlopen', 'kill', 'exit'],
  http: ['request', 'get', 'createServer'],
  https: ['request', 'get'],
  'http.ClientRequest.prototype': ['write', 'end', 'setHeader'],
  'http.OutgoingMessage.prototype': ['write', 'end', 'setHeader'],
  'http.Agent.prototype': ['createConnection', 'addRequest'],
  net: ['connect', 'createConnection'],
  'net.Socket.prototype': ['connect', 'write'],
  tls: ['connect'],
  'tls.TLSSocket.prototype': ['write'],
  dns: ['lookup', 'resolve'],
  child_process: ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'],
  crypto: ['createHash', 'createHmac', 'createSign', 'createCipheriv', 'createDecipheriv', 'randomBytes'],
  fs: ['readFile', 'readFileSync', 'writeFile', 'writeFileSync', 'createReadStream', 'createWriteStream'],
  Module: ['_load', '_resolveFilename'],
  'Module.prototype': ['require', '_compile'],
  'Module._extensions': ['.js', '.json', '.node'],
});

/**
 * Watched properties Node itself replaces lazily, outside any require (not patches): `process.chdir`
 * is wrapped when Node's worker support first loads (touching the `navigator` global does it).
 */
const NODE_OWN_CHANGES: ReadonlySet<string> = new Set(['process.chdir']);

/** Created on first use (a tty/pipe stream, ~10 ms): not resolved at INIT by the inventory. */
const LAZY_STREAMS: readonly string[] = [
  'process.stdout',
  'process.stderr',
  'Object.getPrototypeOf(process.stdout)',
];

/** Changes made before the function's first module compiled: the runtime client's own setup. */
export const RUNTIME = 'runtime';
/** Changes found only by the final comparison (an ES module, a callback): not attributable. */
export const UNKNOWN = 'unknown';
/** Most patches kept (an implant must not grow the init event without bound). */
const MAX_PATCHES = 200;

const ownKeys = Reflect.ownKeys;
const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const objectIs = Object.is;
const apply = Reflect.apply;
const functionToString = Function.prototype.toString;
const hrtime = process.hrtime.bigint;
const isBuiltin = (Module as unknown as { isBuiltin: (name: string) => boolean }).isBuiltin;

/** One hot property: its surface, key and the value last seen. */
interface Hot {
  readonly w: Watched;
  readonly key: string;
  readonly path: string;
  value: unknown;
}

interface Watched {
  readonly id: string;
  readonly target: object;
  readonly mode: SurfaceMode;
  keys: (string | symbol)[];
  /** Per key: the value (data property) or getter. */
  values: unknown[];
  setters: unknown[];
  flags: number[];
  /** Fast path: the data properties holding a function or object, and their values. */
  refKeys: (string | symbol)[];
  refValues: unknown[];
  /** Fast path: the accessor properties (checked through their descriptor). */
  accessorKeys: (string | symbol)[];
}

const isReference = (v: unknown) => typeof v === 'function' || (typeof v === 'object' && v !== null);

const WRITABLE = 1;
const ENUMERABLE = 2;
const CONFIGURABLE = 4;
const ACCESSOR = 8;
/** A key never read (a lazy global: on Node 24 reading its descriptor loads its module). */
const SKIPPED = 16;

/**
 * Globals whose descriptor must not be read during INIT: Node 24 materialises them on any read,
 * loading their implementation (FormData: undici, ~80 modules and ~85 ms; web streams; perf_hooks).
 */
const UNREAD_GLOBALS: ReadonlySet<string> = new Set([
  ...LAZY_GLOBALS,
  'TextEncoderStream',
  'TextDecoderStream',
  'CompressionStream',
  'DecompressionStream',
]);

function skipped(w: { readonly id: string }, key: string | symbol): boolean {
  return w.id === 'globalThis' && typeof key === 'string' && UNREAD_GLOBALS.has(key);
}

/**
 * Functions replaced on a watched surface during INIT (a wrapper keeps the original, often on a new
 * key: `https.__request = https.request`). Filled only when a replacement is found; a WeakSet of
 * every recorded function would cost ~10 M instructions per cold start (measured).
 */
const replacedOriginals = new WeakSet<object>();

function record(w: Watched): void {
  const keys = ownKeys(w.target);
  const values: unknown[] = [];
  const setters: unknown[] = [];
  const flags: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (skipped(w, keys[i] as string | symbol)) {
      values.push(undefined);
      setters.push(undefined);
      flags.push(SKIPPED);
      continue;
    }
    const d = getOwnPropertyDescriptor(w.target, keys[i] as string | symbol) as PropertyDescriptor;
    const accessor = d.get !== undefined || d.set !== undefined || !('value' in d);
    values.push(accessor ? d.get : d.value);
    setters.push(d.set);
    flags.push(
      (d.writable ? WRITABLE : 0) |
        (d.enumerable ? ENUMERABLE : 0) |
        (d.configurable ? CONFIGURABLE : 0) |
        (accessor ? ACCESSOR : 0),
    );
  }
  w.keys = keys;
  w.values = values;
  w.setters = setters;
  w.flags = flags;
  const refKeys: (string | symbol)[] = [];
  const refValues: unknown[] = [];
  const accessorKeys: (string | symbol)[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (((flags[i] as number) & SKIPPED) !== 0) continue;
    if (((flags[i] as number) & ACCESSOR) !== 0) accessorKeys.push(keys[i] as string | symbol);
    else if (isReference(values[i])) {
      refKeys.push(keys[i] as string | symbol);
      refValues.push(values[i]);
    }
  }
  w.refKeys = refKeys;
  w.refValues = refValues;
  w.accessorKeys = accessorKeys;
}

/**
 * The per-boundary check: has a function/object-valued data property been replaced, an accessor
 * changed, or (with `keys`) a key been added or removed? Plain reads, no descriptor allocation —
 * ~2,500 properties in tens of microseconds. A data property turned into an accessor that returns
 * the old value escapes it; the final comparison (`changedThorough`) reads descriptors and finds it.
 */
function changedFast(w: Watched, keys: boolean): boolean {
  const target = w.target as Record<string | symbol, unknown>;
  const refKeys = w.refKeys;
  const refValues = w.refValues;
  for (let i = 0; i < refKeys.length; i++) {
    if (target[refKeys[i] as string | symbol] !== refValues[i]) return true;
  }
  const accessorKeys = w.accessorKeys;
  if (accessorKeys.length > 0) {
    for (let i = 0; i < w.keys.length; i++) {
      if (((w.flags[i] as number) & ACCESSOR) === 0) continue;
      const d = getOwnPropertyDescriptor(target, w.keys[i] as string | symbol);
      if (d === undefined || d.get !== w.values[i] || d.set !== w.setters[i]) return true;
    }
  }
  return keys && ownKeys(target).length !== w.keys.length;
}

/** Whether anything of `w` changed since it was recorded (no allocation on the unchanged path but ownKeys). */
function changedThorough(w: Watched): boolean {
  const keys = ownKeys(w.target);
  if (keys.length !== w.keys.length) return true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string | symbol;
    if (key !== w.keys[i]) return true;
    const f = w.flags[i] as number;
    if ((f & SKIPPED) !== 0) continue;
    const d = getOwnPropertyDescriptor(w.target, key);
    if (d === undefined) return true;
    if ((f & ACCESSOR) !== 0) {
      if (d.get !== w.values[i] || d.set !== w.setters[i]) return true;
    } else if (!objectIs(d.value, w.values[i]) || d.writable !== ((f & WRITABLE) !== 0)) return true;
    if (d.configurable !== ((f & CONFIGURABLE) !== 0)) return true;
  }
  return false;
}

function formatKey(id: string, key: string | symbol): string {
  if (typeof key === 'symbol') return `${id}[${String(key)}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${id}.${key}` : `${id}[${JSON.stringify(key)}]`;
}

/** The changes of `w` since it was recorded, as patches (by mode), then `w` re-recorded. */
function describeChanges(w: Watched, pkg: string, into: Found[]): void {
  const before = new Map<string | symbol, number>();
  for (let i = 0; i < w.keys.length; i++) before.set(w.keys[i] as string | symbol, i);
  const keys = ownKeys(w.target);
  const live = w.mode !== 'all';
  for (const key of keys) {
    if (skipped(w, key)) {
      before.delete(key);
      continue;
    }
    const d = getOwnPropertyDescriptor(w.target, key) as PropertyDescriptor;
    const accessor = d.get !== undefined || d.set !== undefined || !('value' in d);
    const i = before.get(key);
    if (i === undefined) {
      // New keys on live objects (globalThis, process) are state, not patches of existing behaviour.
      if (!live)
        into.push({ package: pkg, path: formatKey(w.id, key), kind: 'added', value: d.get ?? d.value });
      continue;
    }
    before.delete(key);
    const wasAccessor = ((w.flags[i] as number) & ACCESSOR) !== 0;
    const oldValue = w.values[i];
    const newValue = accessor ? d.get : d.value;
    if (wasAccessor !== accessor) {
      // Node's lazy globals turn from accessor to data on first use (whoever uses them first).
      if (wasAccessor && w.id === 'globalThis' && typeof key === 'string' && LAZY_GLOBALS.includes(key))
        continue;
      // Node's lazy exports (buffer.Blob, …) do the same on a built-in module: benign when the value
      // now there is what the recorded (Node's own) getter returns.
      if (wasAccessor && !accessor && typeof oldValue === 'function') {
        try {
          if (objectIs(apply(oldValue as AnyFunction, w.target, []), d.value)) continue;
        } catch {
          // A getter that throws now: report the transition.
        }
      }
      into.push({ package: pkg, path: formatKey(w.id, key), kind: 'reconfigured' });
    } else if (!objectIs(oldValue, newValue) || (accessor && d.set !== w.setters[i])) {
      if (typeof oldValue === 'function') replacedOriginals.add(oldValue);
      const involvesFunction = accessor || typeof oldValue === 'function' || typeof newValue === 'function';
      const references = isReference(oldValue) || isReference(newValue);
      if (w.mode === 'functions' ? involvesFunction : w.mode === 'references' ? references : true)
        into.push({ package: pkg, path: formatKey(w.id, key), kind: 'replaced', value: newValue });
    } else if (
      d.configurable !== (((w.flags[i] as number) & CONFIGURABLE) !== 0) ||
      (!accessor && d.writable !== (((w.flags[i] as number) & WRITABLE) !== 0))
    ) {
      // Freezing is not a patch (hardening does it); making a frozen property writable is.
      if (d.configurable || d.writable)
        into.push({ package: pkg, path: formatKey(w.id, key), kind: 'reconfigured' });
    }
  }
  for (const [key, i] of before) {
    if (!live || typeof w.values[i] === 'function')
      into.push({ package: pkg, path: formatKey(w.id, key), kind: 'removed' });
  }
  record(w);
}

// ---------------------------------------------------------------------------------------------------
// Recording state (one per process: register starts it once)
// ---------------------------------------------------------------------------------------------------

interface Recording {
  readonly watched: Watched[];
  /** Built-in module name → surfaces recorded when it is first required. */
  readonly pending: Map<string, { id: string; mode: SurfaceMode; resolve: () => unknown }[]>;
  readonly patches: InitPatch[];
  readonly seen: Set<string>;
  readonly hot: Hot[];
  /** Hot paths attributed at a boundary: the coarser comparisons do not attribute them again. */
  readonly hotPaths: Set<string>;
  /** The packages whose module bodies are running, innermost last. */
  readonly stack: string[];
  readonly originalCompile: AnyFunction;
  readonly originalLoad: AnyFunction;
  readonly compile: AnyFunction;
  readonly load: AnyFunction;
  /** Built-in module names required since recording started. */
  readonly builtinsSeen: Set<string>;
  /** The CommonJS sources compiled while recording, by package (`authorOf` searches them). */
  readonly sources: { readonly pkg: string; readonly content: string }[];
  modules: number;
  comparisons: number;
  costNs: bigint;
  /** Time to resolve and record the surfaces when recording started. */
  startNs: bigint;
  /** Set once the function's first module compiled: changes before it are the runtime's. */
  started: boolean;
  resolving: boolean;
  /** Between beginGuardInstall and endGuardInstall: changes are the guard's. */
  installingGuard: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: wraps the loader's functions whatever their signature
type AnyFunction = (this: any, ...args: any[]) => any;

let recording: Recording | undefined;
let finished: InitInventory | undefined;

type ModuleInternals = {
  prototype: { _compile: AnyFunction };
  _load: AnyFunction;
  _extensions: object;
};
const ModuleClass = Module as unknown as ModuleInternals;

function builtinName(id: string): string | undefined {
  const first = id.split('.')[0] as string;
  return (Module.builtinModules as readonly string[]).includes(first) && first !== 'process'
    ? first
    : undefined;
}

function loadedAlready(name: string): boolean {
  const list = (process as unknown as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return list === undefined || list.includes(`NativeModule ${name}`);
}

/** Resolve a surface and add it, unrecorded (`recordAll` records: resolving may materialise lazy globals). */
function watch(rec: Recording, id: string, mode: SurfaceMode, resolve: () => unknown): Watched | undefined {
  let target: unknown;
  try {
    target = resolve();
  } catch {
    return undefined; // absent on this Node version
  }
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) return undefined;
  const w: Watched = {
    id,
    target,
    mode,
    keys: [],
    values: [],
    setters: [],
    flags: [],
    refKeys: [],
    refValues: [],
    accessorKeys: [],
  };
  rec.watched.push(w);
  return w;
}

function watchAndRecord(
  rec: Recording,
  surfaces: readonly { id: string; mode: SurfaceMode; resolve: () => unknown }[],
): void {
  const added: Watched[] = [];
  for (const s of surfaces) {
    const w = watch(rec, s.id, s.mode, s.resolve);
    if (w !== undefined) added.push(w);
  }
  for (const w of added) {
    record(w);
    const hot = HOT_PATHS[w.id];
    if (hot === undefined) continue;
    for (const key of hot) {
      const d = getOwnPropertyDescriptor(w.target, key);
      // Hot means a data property holding a function (what a wrapper replaces).
      if (d !== undefined && typeof d.value === 'function')
        rec.hot.push({ w, key, path: formatKey(w.id, key), value: d.value });
    }
  }
}

/** The per-boundary check: the hot properties only (~90 plain reads). */
function compareHot(rec: Recording, pkg: string): void {
  const start = hrtime();
  rec.comparisons += 1;
  const hot = rec.hot;
  for (let i = 0; i < hot.length; i++) {
    const h = hot[i] as Hot;
    const value = (h.w.target as Record<string, unknown>)[h.key];
    if (value === h.value) continue;
    if (typeof h.value === 'function') replacedOriginals.add(h.value);
    h.value = value;
    rec.hotPaths.add(h.path);
    push(rec, { package: pkg, path: h.path, kind: 'replaced', value });
  }
  rec.costNs += hrtime() - start;
}

/** Take the hot properties' current values as seen (after Node's own code ran). */
function resyncHot(rec: Recording): void {
  for (const h of rec.hot) h.value = (h.w.target as Record<string, unknown>)[h.key];
}

function push(rec: Recording, found: Found): void {
  // The guard's own hooks are not listed (its controls describe them in the init event).
  if (NODE_OWN_CHANGES.has(found.path) || found.package === GUARD_PACKAGE) return;
  let patch: InitPatch = { package: found.package, path: found.path, kind: found.kind };
  if (found.package === FUNCTION_CODE && typeof found.value === 'function') {
    const author = authorOf(rec, found.value);
    if (author !== FUNCTION_CODE) patch = { ...patch, package: author, calledFrom: FUNCTION_CODE };
  }
  const key = `${patch.package}\u0000${patch.path}`;
  if (rec.seen.has(key) || rec.patches.length >= MAX_PATCHES) return;
  rec.seen.add(key);
  rec.patches.push(patch);
}

/**
 * Who wrote a function the function's own code installed at INIT — usually by calling a package
 * (`AWSXRay.captureHTTPsGlobal(https)`), and a poisoned package could wait for such a call (an
 * `init()`) to patch. The function's source text is looked up in the CommonJS sources compiled
 * while recording (kept by reference: V8 keeps them anyway): the package whose source contains it
 * is the author. Found in the function's own sources, or a function already recorded on a watched
 * surface (an original set aside, `https.__request`): `function code`. Found nowhere
 * (made with `eval`/`new Function`, bound, native): `unknown`, which no policy trusts by default —
 * so a package cannot launder a patch through the function's call. Runs only for such patches (a
 * few at most), never per module.
 */
function authorOf(rec: Recording, fn: unknown): string {
  // A function already on a watched surface (an original kept aside by a wrapper): nothing new.
  if (replacedOriginals.has(fn as object)) return FUNCTION_CODE;
  for (const w of rec.watched) if (w.values.includes(fn)) return FUNCTION_CODE;
  let text: string;
  try {
    text = apply(functionToString, fn, []) as string;
  } catch {
    return UNKNOWN;
  }
  if (text.includes('[native code]')) return UNKNOWN;
  let author: string | undefined;
  for (const source of rec.sources) {
    if (source.content.indexOf(text) < 0) continue;
    if (source.pkg === FUNCTION_CODE) return FUNCTION_CODE;
    author ??= source.pkg;
  }
  return author ?? UNKNOWN;
}

/** Compare every watched surface with its recorded state; attribute what changed to `pkg`. */
/**
 * Compare every watched surface with its recorded state; attribute what changed to `pkg`, except
 * hot properties already attributed at a boundary. `keys`: the fast check plus added/removed keys;
 * `thorough`: descriptors (the final comparison).
 */
function compare(rec: Recording, pkg: string, how: 'keys' | 'thorough'): void {
  compareHot(rec, pkg);
  const start = hrtime();
  const watched = rec.watched;
  for (let i = 0; i < watched.length; i++) {
    const w = watched[i] as Watched;
    if (how === 'thorough' ? changedThorough(w) : changedFast(w, false)) {
      const found: Found[] = [];
      describeChanges(w, pkg, found);
      for (const patch of found) if (!rec.hotPaths.has(patch.path)) push(rec, patch);
    }
  }
  rec.costNs += hrtime() - start;
}

/** A boundary entered from outside every package: a dependency of the function itself. */
function topLevel(enclosing: string | undefined): boolean {
  return enclosing === undefined || enclosing === FUNCTION_CODE || enclosing === GUARD_PACKAGE;
}

function current(rec: Recording): string {
  if (rec.installingGuard) return GUARD_PACKAGE;
  const top = rec.stack[rec.stack.length - 1];
  if (top !== undefined) return top;
  return rec.started ? UNKNOWN : RUNTIME;
}

/**
 * Start recording (register calls this before the function's code loads; once per process).
 *
 * @example startInitInventory(); // in register.ts, when the guard loads first
 */
export function startInitInventory(): void {
  if (recording !== undefined || finished !== undefined) return;
  const originalCompile = ModuleClass.prototype._compile;
  const originalLoad = ModuleClass._load;
  const rec: Recording = {
    watched: [],
    pending: new Map(),
    patches: [],
    seen: new Set(),
    hot: [],
    hotPaths: new Set(),
    stack: [],
    originalCompile,
    originalLoad,
    compile: function _compile(this: unknown, ...args: unknown[]) {
      const filename = args[1];
      const r = recording;
      if (r === undefined || typeof filename !== 'string') return apply(originalCompile, this, args);
      r.modules += 1;
      const pkg = packageOfFile(filename);
      if (pkg !== GUARD_PACKAGE && typeof args[0] === 'string') r.sources.push({ pkg, content: args[0] });
      const enclosing = r.stack[r.stack.length - 1];
      const boundary = pkg !== enclosing;
      // The guard's own modules are not the function's: they neither start the function's phase nor
      // take the blame for anything.
      // Added keys are looked for at the function's own boundaries (its direct dependencies); replaced
      // values at every boundary (see docs/benchmarks.md for why not keys everywhere).
      const full = topLevel(enclosing);
      if (boundary) {
        if (full) compare(r, current(r), 'keys');
        else compareHot(r, current(r));
      }
      if (pkg !== GUARD_PACKAGE) r.started = true;
      r.stack.push(pkg);
      try {
        return apply(originalCompile, this, args);
      } finally {
        r.stack.pop();
        if (boundary) {
          if (full) compare(r, pkg, 'keys');
          else compareHot(r, pkg);
        }
      }
    },
    load: function _load(this: unknown, ...args: unknown[]) {
      const request = args[0];
      let r = recording;
      let fresh = false;
      if (r !== undefined && !r.resolving && typeof request === 'string' && isBuiltin(request)) {
        const name = request.startsWith('node:') ? request.slice(5) : request;
        if (!r.builtinsSeen.has(name)) {
          r.builtinsSeen.add(name);
          // A built-in's first load runs Node's own module code, which may change a watched surface
          // (loading worker_threads wraps process.chdir): what changed before is attributed, what
          // the load changed is adopted.
          if (!loadedAlready(name)) {
            fresh = true;
            compareHot(r, current(r));
          }
        }
      }
      const result = apply(originalLoad, this, args);
      r = recording;
      if (fresh && r !== undefined) resyncHot(r);
      if (r !== undefined && !r.resolving && typeof request === 'string' && r.pending.size > 0) {
        const name = request.startsWith('node:') ? request.slice(5) : request;
        const surfaces = r.pending.get(name);
        if (surfaces !== undefined) {
          // First require of a built-in: Node just created it; its state now is its pristine state.
          r.pending.delete(name);
          r.resolving = true;
          try {
            watchAndRecord(r, surfaces);
          } finally {
            r.resolving = false;
          }
        }
      }
      return result;
    },
    builtinsSeen: new Set(),
    sources: [],
    modules: 0,
    comparisons: 0,
    costNs: 0n,
    startNs: 0n,
    started: false,
    resolving: true,
    installingGuard: false,
  };
  const start = hrtime();
  const now: { id: string; mode: SurfaceMode; resolve: () => unknown }[] = [];
  for (const s of SURFACES) {
    // Not resolved: the web globals Node loads on first use (fetch's Headers/Request/Response, web
    // streams…). Resolving them would load undici into every cold start; see "not covered" above.
    if (LAZY_GLOBALS.includes(s.id.split('.')[0] as string) || LAZY_STREAMS.includes(s.id)) continue;
    const name = builtinName(s.id);
    if (name !== undefined && !loadedAlready(name)) {
      const list = rec.pending.get(name) ?? [];
      list.push({ id: s.id, mode: s.mode, resolve: s.resolve });
      rec.pending.set(name, list);
    } else now.push(s);
  }
  ModuleClass.prototype._compile = rec.compile;
  ModuleClass._load = rec.load;
  // After the wrappers: they are the recorded state, so they are not reported as patches.
  now.push(
    { id: 'Module', mode: 'functions', resolve: () => Module },
    { id: 'Module.prototype', mode: 'all', resolve: () => ModuleClass.prototype },
    { id: 'Module._extensions', mode: 'all', resolve: () => ModuleClass._extensions },
  );
  watchAndRecord(rec, now);
  rec.startNs = hrtime() - start;
  rec.resolving = false;
  recording = rec;
}

/**
 * The guard is about to install its controls' hooks (register/exec wrapper: before the function's
 * handler module loads). What changed until now is attributed; what changes until
 * `endGuardInstall()` is the guard's own and not listed (each control describes its hooks in the
 * init event). Nothing happens when not recording.
 *
 * @example beginGuardInstall(); installHooks(); endGuardInstall();
 */
export function beginGuardInstall(): void {
  const rec = recording;
  if (rec === undefined || rec.installingGuard) return;
  compare(rec, current(rec), 'thorough');
  rec.installingGuard = true;
}

/** The guard's controls are installed: their changes are adopted as the recorded state. */
export function endGuardInstall(): void {
  const rec = recording;
  if (rec === undefined || !rec.installingGuard) return;
  compare(rec, GUARD_PACKAGE, 'thorough');
  rec.installingGuard = false;
}

/**
 * Stop recording and return the inventory (the first call decides; later calls return the same).
 * The loader wrappers are removed unless a package wrapped them in turn (then they stay, inert).
 * Without a recording (the guard was not loaded first), `recorded` is false.
 *
 * @example const inventory = finishInitInventory(); inventory.patches // [{ package: 'evil-telemetry', path: 'https.request', kind: 'replaced' }]
 */
export function finishInitInventory(): InitInventory {
  if (finished !== undefined) return finished;
  const rec = recording;
  if (rec === undefined) {
    finished = Object.freeze({
      recorded: false,
      patches: [],
      modules: 0,
      comparisons: 0,
      costMs: 0,
      startMs: 0,
    });
    return finished;
  }
  // Whatever changed since the last boundary ran outside any tracked module body.
  compare(rec, current(rec), 'thorough');
  recording = undefined;
  if (ModuleClass.prototype._compile === rec.compile) ModuleClass.prototype._compile = rec.originalCompile;
  if (ModuleClass._load === rec.load) ModuleClass._load = rec.originalLoad;
  finished = Object.freeze({
    recorded: true,
    patches: Object.freeze(rec.patches.map((p) => Object.freeze(p))),
    modules: rec.modules,
    comparisons: rec.comparisons,
    costMs: Number(rec.costNs) / 1e6,
    startMs: Number(rec.startNs) / 1e6,
  });
  return finished;
}

/** A patch as the init event lists it: `node_modules/foo patched https.request`. */
export function describePatch(patch: InitPatch): string {
  const who =
    patch.package === FUNCTION_CODE || patch.package === RUNTIME || patch.package === UNKNOWN
      ? patch.package
      : `node_modules/${patch.package}`;
  const verb = patch.kind === 'replaced' ? 'patched' : patch.kind;
  const via = patch.calledFrom === undefined ? '' : ` (called from ${patch.calledFrom})`;
  return `${who} ${verb} ${patch.path}${via}`;
}
