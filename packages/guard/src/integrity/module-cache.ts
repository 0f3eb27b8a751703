/**
 * The 'module-cache' detector: CommonJS's module registry and the loader functions around it.
 *
 * Threat: an implant that wants to outlive its invocation can swap what `require()` returns — replace
 * a cached module's `exports` (or one function on it: `require('@aws-sdk/client-s3').S3Client`),
 * replace the cached `Module` object, pre-seed `require.cache['/var/task/x.js']` for a module that
 * has not been loaded yet, load its own file from /tmp, poison `Module._pathCache` so a later
 * `require('x')` resolves to its file, or wrap the loader itself (`Module._load`,
 * `Module.prototype._compile`, `Module._extensions['.js']`, `Module._resolveFilename`).
 *
 * What is benign: the function's own lazy `require()` of files that ship with the deployment (under
 * LAMBDA_TASK_ROOT, a layer directory, or the runtime's directory), and the resolver's memo of them
 * in `Module._pathCache`. Those are adopted into the baseline when first seen, so a later replacement
 * of them is drift like any other.
 *
 * Not covered: ES modules (the ESM loader's module map is internal to Node and not reachable from
 * JavaScript); a module object an implant builds with `new Module(path)` for a file of the deployment
 * that the function has not loaded yet (it passes every check here: same class, real file on disk).
 */
import type { DeploymentFacts, Detector, Drift } from './detector.js';
import type { ChangeJudge, ObjectSnapshot } from './object-surfaces.js';
import * as objectSurfaces from './object-surfaces.js';
import { primordials } from './primordials.js';

const {
  ReflectOwnKeys,
  ObjectGetOwnPropertyNames,
  ObjectGetOwnPropertySymbols,
  ReflectGetOwnPropertyDescriptor,
  ReflectGetPrototypeOf,
  ObjectFreeze,
  ObjectHasOwn,
  Map: SafeMap,
  Set: SafeSet,
  setAdd,
  setHas,
  mapGet,
  mapSet,
  appendItem,
  newList,
  newTable,
  stringStartsWith,
  fsRealpathSync,
  fsStatSync,
  pathIsAbsolute,
  pathResolve,
  pathSep,
  isProxy,
  isModuleNamespaceObject,
} = primordials;
// Bound at load, like the primordials: a later write to object-surfaces.js's exports must not reach here.
const {
  ABSENT_FLAGS,
  ACCESSOR_FLAG,
  adoptKey,
  diffObject,
  formatKey,
  isDataDescriptor,
  isWatchedSurface,
  makeDrift,
  printable,
  refreshDescriptorGuard,
  snapshotObject,
} = objectSurfaces;

interface ModuleConstructor {
  prototype: object;
  _cache: Record<string, unknown>;
  _extensions: Record<string, unknown>;
  _pathCache: Record<string, unknown>;
  globalPaths: string[];
}

// Captured at load, like the primordials: `require('module')` is Node's singleton Module class.
const ModuleClass = require('node:module') as ModuleConstructor;
const ModulePrototype = ModuleClass.prototype;
/** The registry `require.cache` names; `Module._cache` is the same object unless an implant swapped it. */
const RegistryAtLoad = ModuleClass._cache as object;

/** Why a new `require.cache` entry is not accepted (the drift's `detail.reason`). */
export type NewEntryVerdict =
  | 'ok'
  | 'not-absolute'
  | 'not-normalised'
  | 'outside-deployment'
  | 'in-tmp'
  | 'missing-file'
  | 'symlink-escape'
  | 'not-a-file'
  | 'not-a-module';

/** Directories that hold the deployment (and the temp directory, which never does). */
export interface DeploymentRoots {
  readonly roots: readonly string[];
  readonly tmp: readonly string[];
}

function withSep(dir: string): string {
  return dir.length > 0 && dir[dir.length - 1] === pathSep ? dir : dir + pathSep;
}

function realOrSelf(dir: string): string {
  try {
    return fsRealpathSync(dir);
  } catch {
    return dir;
  }
}

/** The roots as given and as real paths (LAMBDA_TASK_ROOT may itself be a symlink). */
export function deploymentRoots(facts: DeploymentFacts): DeploymentRoots {
  const roots = newList<string>();
  const tmp = newList<string>();
  const add = (list: string[], dir: string | undefined): void => {
    if (typeof dir !== 'string' || dir.length === 0 || !pathIsAbsolute(dir)) return;
    const resolved = withSep(pathResolve(dir));
    const real = withSep(realOrSelf(resolved));
    appendItem(list, resolved);
    if (real !== resolved) appendItem(list, real);
  };
  add(roots, facts.taskRoot);
  for (let i = 0; i < facts.optDirs.length; i++) add(roots, facts.optDirs[i]);
  add(roots, facts.runtimeDir);
  add(tmp, facts.tmpDir);
  return ObjectFreeze({ roots, tmp });
}

/** Length of the longest root `file` is under, or -1. */
function longestPrefix(file: string, dirs: readonly string[]): number {
  let best = -1;
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i] as string;
    if (dir.length > best && stringStartsWith(file, dir)) best = dir.length;
  }
  return best;
}

/** Whether `file` is part of the deployment: under a root, and not in a temp dir nested deeper than that root. */
export function isDeploymentPath(file: string, roots: DeploymentRoots): boolean {
  const root = longestPrefix(file, roots.roots);
  if (root < 0) return false;
  return longestPrefix(file, roots.tmp) <= root;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** From the own `mode` field, not `stats.isFile()`: a method looked up now could be an implant's. */
function isRegularFile(stats: object): boolean {
  const mode = dataValue(stats, 'mode');
  return typeof mode === 'number' && (mode & S_IFMT) === S_IFREG;
}

/**
 * The rule for a `require.cache` entry that appeared after the baseline: a real file of the
 * deployment (absolute, normalised, under a root, its real path under a root too), and a genuine
 * Module object for that file.
 */
export function judgeNewEntry(file: string, entry: unknown, roots: DeploymentRoots): NewEntryVerdict {
  if (!pathIsAbsolute(file)) return 'not-absolute';
  if (pathResolve(file) !== file) return 'not-normalised';
  if (!isDeploymentPath(file, roots)) {
    return longestPrefix(file, roots.tmp) >= 0 && longestPrefix(file, roots.roots) >= 0
      ? 'in-tmp'
      : 'outside-deployment';
  }
  let real: string;
  try {
    real = fsRealpathSync(file);
  } catch {
    return 'missing-file';
  }
  if (!isDeploymentPath(real, roots)) return 'symlink-escape';
  try {
    if (!isRegularFile(fsStatSync(real))) return 'not-a-file';
  } catch {
    return 'missing-file';
  }
  if (typeof entry !== 'object' || entry === null || isProxy(entry)) return 'not-a-module';
  if (ReflectGetPrototypeOf(entry) !== ModulePrototype) return 'not-a-module';
  const filename = ReflectGetOwnPropertyDescriptor(entry, 'filename');
  if (filename === undefined || !ObjectHasOwn(filename, 'value') || filename.value !== file)
    return 'not-a-module';
  return 'ok';
}

interface EntryBaseline {
  readonly file: string;
  module: unknown;
  exports: unknown;
  /** The `exports` getter when the module defined `exports` as an accessor itself. */
  exportsGetter: unknown;
  /** Own properties of the exports (`references` mode: primitives on exports are module state). */
  surface: ObjectSnapshot | undefined;
  /** Prototypes of the classes the module exports as data properties (`Client.prototype.send`). */
  prototypes: ObjectSnapshot[];
  /** The check generation that last saw this entry in the registry (slow path only). */
  seen: number;
}

/** Options for tests and composing. */
export interface ModuleCacheOptions {
  /** Also watch each cached module's exports, property by property (default true). */
  readonly watchExports?: boolean;
  /**
   * Also watch the prototypes of the classes modules export as data properties — where an implant
   * wraps `Client.prototype.send` or `Pool.prototype.query` (default true; one level deep; classes
   * exported through getters are not reached: calling a getter can run a lazy require).
   */
  readonly watchExportedPrototypes?: boolean;
}

/** What the module-cache detector watches: for benchmarks and the guard's init event. */
export interface ModuleCacheStats {
  readonly modules: number;
  readonly exportKeys: number;
  readonly prototypeKeys: number;
  readonly loaderKeys: number;
  /** Descriptors read per check. */
  readonly descriptorsPerCheck: number;
}

/** The module-cache detector, which can also say how much it watches. */
export interface ModuleCacheDetector extends Detector {
  stats(): ModuleCacheStats;
  /** How many new deployment modules have been adopted since the baseline (lazy requires). */
  lazyLoads(): number;
}

const DETECTOR = 'module-cache';
const CACHE_PATH = 'require.cache';

function entryPath(file: string): string {
  return `${CACHE_PATH}[${printable(file)}]`;
}

/** What `dataValue` returns for a property that is missing or an accessor. */
const NOT_DATA: unique symbol = Symbol('not a data property');

/** The value of an own data property, or NOT_DATA; never runs a getter, allocates nothing else. */
function dataValue(target: object, key: string): unknown {
  const descriptor = ReflectGetOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !isDataDescriptor(descriptor)) return NOT_DATA;
  return descriptor.value;
}

function watchable(value: unknown): value is object {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    !isProxy(value) &&
    // A module namespace (require(esm) on Node 22+) cannot be changed from outside, and reading a
    // binding still in its temporal dead zone throws.
    !isModuleNamespaceObject(value)
  );
}

/** The own data `prototype` of a class, when it carries methods (more than `constructor`). */
function classPrototype(value: unknown): object | undefined {
  if (typeof value !== 'function') return undefined;
  const proto = dataValue(value, 'prototype');
  if (!watchable(proto) || typeof proto === 'function') return undefined;
  return ReflectOwnKeys(proto).length > 1 ? proto : undefined;
}

/**
 * The detector over `require.cache` and the CommonJS loader.
 *
 * @example
 *   const modules = createModuleCacheDetector({ taskRoot: '/var/task', optDirs: ['/opt'], runtimeDir: '/var/runtime', tmpDir: '/tmp' });
 *   modules.baseline();
 *   modules.check(); // [{ path: 'require.cache[/tmp/x.js]', kind: 'added', detector: 'module-cache', detail: { reason: 'outside-deployment' } }]
 */
export function createModuleCacheDetector(
  facts: DeploymentFacts,
  options: ModuleCacheOptions = {},
): ModuleCacheDetector {
  const watchExports = options.watchExports !== false;
  const watchPrototypes = options.watchExportedPrototypes !== false;
  let prototypesSeen = new SafeSet<object>();
  let roots: DeploymentRoots = deploymentRoots(facts);
  let registry: object = RegistryAtLoad;
  /** The registry's files in its own key order (new keys of a dictionary object come last). */
  let files: string[] = newTable();
  let known: EntryBaseline[] = newTable();
  let byFile = new SafeMap<string, EntryBaseline>();
  let loader: ObjectSnapshot[] = newTable();
  let pathCache: ObjectSnapshot | undefined;
  let generation = 0;
  let baselineTaken = false;
  let lazyLoadCount = 0;

  function snapshotEntry(file: string, module: unknown): EntryBaseline {
    let exportsValue: unknown;
    let exportsGetter: unknown;
    if (typeof module === 'object' && module !== null && !isProxy(module)) {
      exportsValue = dataValue(module, 'exports');
      if (exportsValue === NOT_DATA) {
        // Some modules define `exports` as a getter themselves (undici's lazily built WASM parser,
        // llhttp_simd-wasm.js): that accessor, as loaded, is the baseline; a different one is drift.
        exportsValue = undefined;
        exportsGetter = ReflectGetOwnPropertyDescriptor(module, 'exports')?.get;
      }
    }
    const entry: EntryBaseline = {
      file,
      module,
      exports: exportsValue,
      exportsGetter,
      surface: undefined,
      prototypes: newTable(),
      seen: generation,
    };
    // Objects the surface detectors already watch (a module re-exporting `require('events')`) are
    // left to them: one change, one drift.
    if (!watchExports || !watchable(exportsValue) || isWatchedSurface(exportsValue)) return entry;
    const base = `${entryPath(file)}.exports`;
    try {
      entry.surface = snapshotObject(base, exportsValue, 'references');
    } catch {
      return entry;
    }
    if (!watchPrototypes) return entry;
    // The prototype's path is built only when there is a prototype to watch: most exports have none,
    // and formatting every key's path was a measurable part of the baseline.
    const addPrototype = (value: unknown, key: string | symbol | undefined): void => {
      try {
        const proto = classPrototype(value);
        if (proto === undefined || setHas(prototypesSeen, proto) || isWatchedSurface(proto)) return;
        setAdd(prototypesSeen, proto);
        const id = key === undefined ? `${base}.prototype` : `${formatKey(base, key)}.prototype`;
        appendItem(entry.prototypes, snapshotObject(id, proto, 'references'));
      } catch {
        // An unreadable prototype is not watched; the export itself still is.
      }
    };
    addPrototype(exportsValue, undefined);
    const surface = entry.surface;
    for (let i = 0; i < surface.keys.length; i++) {
      const flags = surface.flags[i] as number;
      // Data properties only: `first` of an accessor is its getter, which is not called.
      if (flags & ACCESSOR_FLAG) continue;
      addPrototype(surface.first[i], surface.keys[i] as string | symbol);
    }
    return entry;
  }

  function adopt(entry: EntryBaseline): void {
    appendItem(files, entry.file);
    appendItem(known, entry);
    mapSet(byFile, entry.file, entry);
  }

  /** `Module._pathCache` gains an entry per new (request, paths) pair; one pointing into the deployment is benign. */
  const judgePathCache: ChangeJudge = (snapshot, key, old, now) => {
    if (old.flags !== ABSENT_FLAGS || typeof key !== 'string' || typeof now.first !== 'string') return false;
    if (!pathIsAbsolute(now.first) || !isDeploymentPath(now.first, roots)) return false;
    adoptKey(snapshot, key, now);
    return true;
  };

  function baseline(): void {
    refreshDescriptorGuard();
    roots = deploymentRoots(facts);
    const current = dataValue(ModuleClass, '_cache');
    registry =
      typeof current === 'object' && current !== null && !isProxy(current) ? current : RegistryAtLoad;
    files = newTable();
    known = newTable();
    byFile = new SafeMap();
    prototypesSeen = new SafeSet();
    const keys = ReflectOwnKeys(registry);
    for (let i = 0; i < keys.length; i++) {
      const file = keys[i];
      if (typeof file !== 'string') continue;
      const module = dataValue(registry, file);
      adopt(snapshotEntry(file, module === NOT_DATA ? undefined : module));
    }
    loader = newTable();
    const watch = (id: string, target: unknown): void => {
      if ((typeof target !== 'object' && typeof target !== 'function') || target === null || isProxy(target))
        return;
      appendItem(loader, snapshotObject(id, target, 'all'));
    };
    // Module's statics: _load, _resolveFilename, _findPath, _cache, _pathCache, _extensions, wrap…
    watch('Module', ModuleClass);
    watch('Module.prototype', ModulePrototype);
    watch('Module._extensions', dataValue(ModuleClass, '_extensions'));
    watch('Module.globalPaths', dataValue(ModuleClass, 'globalPaths'));
    const memo = dataValue(ModuleClass, '_pathCache');
    pathCache =
      typeof memo === 'object' && memo !== null && !isProxy(memo)
        ? snapshotObject('Module._pathCache', memo, 'all')
        : undefined;
    baselineTaken = true;
  }

  /** Compare one known entry with the registry's current slot. */
  function checkKnown(entry: EntryBaseline, out: Drift[]): void {
    const module = dataValue(registry, entry.file);
    if (module === NOT_DATA) {
      appendItem(
        out,
        makeDrift(entryPath(entry.file), 'replaced', DETECTOR, { was: 'data', now: 'accessor' }),
      );
      return;
    }
    if (module !== entry.module) {
      appendItem(out, makeDrift(entryPath(entry.file), 'replaced', DETECTOR, { what: 'module' }));
      return;
    }
    if (typeof module !== 'object' || module === null || isProxy(module)) return;
    const exportsValue = dataValue(module, 'exports');
    if (exportsValue === NOT_DATA) {
      // The module's own accessor, unchanged since it was accepted: not drift.
      if (
        entry.exportsGetter !== undefined &&
        ReflectGetOwnPropertyDescriptor(module, 'exports')?.get === entry.exportsGetter
      ) {
        return;
      }
      appendItem(
        out,
        makeDrift(`${entryPath(entry.file)}.exports`, 'replaced', DETECTOR, { was: 'data', now: 'accessor' }),
      );
      return;
    }
    if (exportsValue !== entry.exports) {
      appendItem(
        out,
        makeDrift(`${entryPath(entry.file)}.exports`, 'replaced', DETECTOR, { what: 'exports' }),
      );
      return;
    }
    if (entry.surface !== undefined) diffObject(entry.surface, DETECTOR, out);
    const prototypes = entry.prototypes;
    for (let i = 0; i < prototypes.length; i++) diffObject(prototypes[i] as ObjectSnapshot, DETECTOR, out);
  }

  function checkEntries(out: Drift[]): void {
    // A symbol-keyed entry is no file at all.
    const symbols = ObjectGetOwnPropertySymbols(registry);
    for (let j = 0; j < symbols.length; j++) checkNew(symbols[j] as symbol, out);
    const current = ObjectGetOwnPropertyNames(registry);
    const count = files.length;
    // Fast path: the registry lists the known files first, in the same order (new ones come last).
    let shared = count;
    if (current.length < shared) shared = current.length;
    let i = 0;
    while (i < shared && current[i] === files[i]) i++;
    if (i === count) {
      for (let j = 0; j < count; j++) checkKnown(known[j] as EntryBaseline, out);
      for (let j = count; j < current.length; j++) checkNew(current[j] as string, out);
      return;
    }
    // Slow path: entries were removed or re-inserted.
    generation++;
    for (let j = 0; j < current.length; j++) {
      const file = current[j] as string;
      const entry = mapGet(byFile, file);
      if (entry === undefined) {
        checkNew(file, out);
        continue;
      }
      entry.seen = generation;
      checkKnown(entry, out);
    }
    for (let j = 0; j < count; j++) {
      const entry = known[j] as EntryBaseline;
      if (entry.seen !== generation) appendItem(out, makeDrift(entryPath(entry.file), 'removed', DETECTOR));
    }
  }

  /** A file the baseline did not have: adopted when it is a lazy require from the deployment. */
  function checkNew(file: string | symbol, out: Drift[]): void {
    if (typeof file !== 'string') {
      appendItem(out, makeDrift(formatKey(CACHE_PATH, file), 'added', DETECTOR, { reason: 'not-absolute' }));
      return;
    }
    const module = dataValue(registry, file);
    const verdict = judgeNewEntry(file, module === NOT_DATA ? undefined : module, roots);
    if (verdict === 'ok') {
      // Adopted: its later replacement is caught like any other entry's.
      const entry = snapshotEntry(file, module);
      entry.seen = generation;
      adopt(entry);
      lazyLoadCount += 1;
    } else {
      appendItem(out, makeDrift(entryPath(file), 'added', DETECTOR, { reason: verdict }));
    }
  }

  function check(): Drift[] {
    const out = newList<Drift>();
    if (!baselineTaken) return out;
    try {
      refreshDescriptorGuard();
      for (let i = 0; i < loader.length; i++) diffObject(loader[i] as ObjectSnapshot, DETECTOR, out);
      if (pathCache !== undefined) diffObject(pathCache, DETECTOR, out, judgePathCache);
      checkEntries(out);
    } catch {
      appendItem(out, makeDrift(CACHE_PATH, 'fault', DETECTOR));
    }
    return out;
  }

  function stats(): ModuleCacheStats {
    let exportKeys = 0;
    let prototypeKeys = 0;
    // Two per module (its registry slot and its `exports`), then each snapshot's checked keys.
    let read = known.length * 2;
    for (let i = 0; i < known.length; i++) {
      const entry = known[i] as EntryBaseline;
      if (entry.surface !== undefined) {
        exportKeys += entry.surface.keys.length;
        read += entry.surface.checked.length;
      }
      for (let j = 0; j < entry.prototypes.length; j++) {
        const proto = entry.prototypes[j] as ObjectSnapshot;
        prototypeKeys += proto.keys.length;
        read += proto.checked.length;
      }
    }
    let loaderKeys = 0;
    for (let i = 0; i <= loader.length; i++) {
      const snapshot = i < loader.length ? loader[i] : pathCache;
      if (snapshot === undefined) continue;
      loaderKeys += snapshot.keys.length;
      read += snapshot.checked.length;
    }
    return { modules: known.length, exportKeys, prototypeKeys, loaderKeys, descriptorsPerCheck: read };
  }

  return ObjectFreeze({ name: DETECTOR, baseline, check, stats, lazyLoads: () => lazyLoadCount });
}
