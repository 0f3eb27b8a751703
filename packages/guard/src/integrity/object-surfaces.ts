/**
 * The object-graph detectors: one per surface group ('intrinsics', 'globals', 'builtins'), each
 * watching the surfaces `surfaces.ts` lists. For every surface the baseline records its
 * [[Prototype]], its extensibility, and for every own key (strings and symbols) the descriptor
 * signature: value identity (Object.is), getter/setter identity, writable/enumerable/configurable.
 * `check()` reports added, removed, replaced and reconfigured keys, prototype swaps (a Proxy
 * inserted into a chain included) and extensibility changes.
 *
 * Invariants:
 * - No getter of a watched object is ever invoked: descriptors only. The one exception is a getter
 *   captured at the baseline from Node itself, for the two rules that need a value behind an accessor
 *   (`LAZY_GLOBALS`, `ACCESSOR_VALUES`), and only for the keys those lists name.
 * - No trap of a Proxy is ever triggered: a Proxy is recognised with `util.types.isProxy` and never
 *   enumerated.
 * - `check()` never throws: a fault while checking one surface becomes a drift of kind 'fault' for
 *   that surface, and the others are still checked.
 * - Only primordials captured at load are used (see `primordials.ts`); no iteration protocol.
 *
 * Cost per check: one `Reflect.ownKeys` per surface, compared with the baseline's key list, and one
 * `Reflect.getOwnPropertyDescriptor` per key that can change in a way the surface's mode cares about
 * (`worthChecking`); nothing else is allocated when nothing changed. A lookup table is only built
 * when a surface's keys moved. Measured numbers: the report of this change and measure-cost.cjs.
 *
 * Baseline side effect: resolving the surfaces loads every built-in module `surfaces.ts` names and
 * fetch's implementation (undici) — on Node 24 even reading the descriptors of `globalThis` does,
 * because V8 materialises lazy data properties on `getOwnPropertyDescriptor`. Loading undici makes
 * Node create fetch's global dispatcher, so it is in the baseline rather than a first appearance.
 */
import type { Detector, Drift } from './detector.js';
import { primordials } from './primordials.js';
import type { Surface, SurfaceGroup, SurfaceMode } from './surfaces.js';
import * as surfacePolicy from './surfaces.js';

// Copied into module-local constants at load: a later write to primordials.ts's CommonJS `exports`
// must not reach this module.
const {
  ReflectOwnKeys,
  ReflectGetOwnPropertyDescriptor,
  ReflectGetPrototypeOf,
  ReflectIsExtensible,
  ReflectApply,
  ObjectFreeze,
  ObjectHasOwn,
  ObjectPrototype,
  Map: SafeMap,
  Set: SafeSet,
  mapGet,
  mapSet,
  setAdd,
  setHas,
  appendItem,
  newList,
  newTable,
  tableAppend,
  nullRecord,
  SymbolKeyFor,
  symbolDescription,
  stringCharCodeAt,
  stringSlice,
  isProxy,
  NumberIsNaN,
  ObjectGetOwnPropertyNames,
  ObjectGetOwnPropertySymbols,
  WeakSet: SafeWeakSet,
  weakSetAdd,
  weakSetHas,
} = primordials;
const { ACCESSOR_VALUES, LAZY_GLOBALS, LAZY_KEYS, SURFACES, UNDICI_DISPATCHER } = surfacePolicy;

const WRITABLE = 1;
const ENUMERABLE = 2;
const CONFIGURABLE = 4;
const ACCESSOR = 8;
/** Flags of a key that is not there (removed, or not yet added). */
const ABSENT = -1;
export const ABSENT_FLAGS = ABSENT;
export const ACCESSOR_FLAG = ACCESSOR;

/**
 * Every object a surface detector watches (filled by their baselines), so that the module-cache
 * detector leaves them alone when a module re-exports one: one change, one drift. Compose the
 * detectors so that the surface detectors take their baselines first.
 */
const watchedBySurfaces = new SafeWeakSet<object>();

/** Whether a surface detector watches `target`. */
export function isWatchedSurface(target: object): boolean {
  return weakSetHas(watchedBySurfaces, target);
}

const MODE_ALL = 0;
const MODE_REFERENCES = 1;
const MODE_FUNCTIONS = 2;

function modeNumber(mode: SurfaceMode): number {
  return mode === 'all' ? MODE_ALL : mode === 'references' ? MODE_REFERENCES : MODE_FUNCTIONS;
}

/** The baseline of one object: parallel arrays, in `Reflect.ownKeys` order. */
export interface ObjectSnapshot {
  readonly id: string;
  readonly target: object;
  readonly mode: number;
  proto: object | null;
  extensible: boolean;
  keys: (string | symbol)[];
  /** WRITABLE | ENUMERABLE | CONFIGURABLE | ACCESSOR bits. */
  flags: number[];
  /** The value (data property) or the getter (accessor). */
  first: unknown[];
  /** The setter (accessor) or undefined. */
  second: unknown[];
  /** key → index, built the first time the key order differs from the baseline's. */
  index: Map<string | symbol, number> | undefined;
  /** A key was adopted: put the baseline back in the object's key order after this diff. */
  reorder: boolean;
  /** Indices of the keys whose descriptor is read at each check (see `worthChecking`). */
  checked: number[];
  /** How many of `keys` are strings (they come first, symbols after, as in `Reflect.ownKeys`). */
  nameCount: number;
  /**
   * Frozen when recorded (not extensible, every property non-configurable, every data property
   * non-writable): the language's invariants guarantee it can never change again — no key added,
   * removed or redefined, no new prototype, even for exotic objects — so checks skip it.
   * (`integrity.harden` freezes the intrinsics and built-in modules before the baseline.)
   */
  immutable: boolean;
}

/** One descriptor, read without touching `Object.prototype` (a planted `.get` getter would fire). */
export interface Signature {
  flags: number;
  first: unknown;
  second: unknown;
}

const scratch: Signature = { flags: ABSENT, first: undefined, second: undefined };

/**
 * Whether `Object.prototype` carries a descriptor field name (`get`, `set`, `value`, `writable`).
 * When it does not — always, unless an implant planted one, which is itself reported — the cheap
 * `'value' in descriptor` tells a data descriptor from an accessor (`Object.hasOwn` costs ~4× more
 * per key); when it does, every descriptor is read with `hasOwn`. `in` never runs a getter.
 */
let descriptorFieldsPoisoned = true;

/** Re-evaluate `descriptorFieldsPoisoned`; detectors call it at the start of baseline() and check(). */
export function refreshDescriptorGuard(): void {
  descriptorFieldsPoisoned =
    'value' in ObjectPrototype ||
    'get' in ObjectPrototype ||
    'set' in ObjectPrototype ||
    'writable' in ObjectPrototype;
}

/** Whether a descriptor from `Reflect.getOwnPropertyDescriptor` is a data descriptor (see above). */
export function isDataDescriptor(descriptor: PropertyDescriptor): boolean {
  return descriptorFieldsPoisoned ? ObjectHasOwn(descriptor, 'value') : 'value' in descriptor;
}

/** Read `key`'s descriptor into `into`; flags ABSENT if there is no such own property. */
function readSignature(target: object, key: string | symbol, into: Signature): void {
  const descriptor = ReflectGetOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) {
    into.flags = ABSENT;
    into.first = undefined;
    into.second = undefined;
    return;
  }
  const flags = (descriptor.enumerable ? ENUMERABLE : 0) | (descriptor.configurable ? CONFIGURABLE : 0);
  if (descriptorFieldsPoisoned ? ObjectHasOwn(descriptor, 'value') : 'value' in descriptor) {
    into.flags = flags | (descriptor.writable ? WRITABLE : 0);
    into.first = descriptor.value;
    into.second = undefined;
  } else {
    into.flags = flags | ACCESSOR;
    into.first = descriptor.get;
    into.second = descriptor.set;
  }
}

/** Object.is, inlined for the hot loop. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return a !== 0 || 1 / (a as number) === 1 / (b as number);
  return typeof a === 'number' && typeof b === 'number' && NumberIsNaN(a) && NumberIsNaN(b);
}

function isReference(value: unknown): boolean {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

/** Whether a difference between two signatures matters for a surface's mode. */
function matters(
  mode: number,
  oldFlags: number,
  oldFirst: unknown,
  newFlags: number,
  newFirst: unknown,
): boolean {
  if (mode === MODE_ALL) return true;
  if ((oldFlags !== ABSENT && oldFlags & ACCESSOR) || (newFlags !== ABSENT && newFlags & ACCESSOR))
    return true;
  if (mode === MODE_REFERENCES) return isReference(oldFirst) || isReference(newFirst);
  return typeof oldFirst === 'function' || typeof newFirst === 'function';
}

/**
 * Whether a key's descriptor must be re-read at each check. Not when it cannot change or when no
 * change to it would matter for the surface's mode:
 * - a non-configurable accessor, or a non-configurable non-writable data property, of an ordinary
 *   object is immutable forever (Math.PI, globalThis.undefined, the `get` re-exports bundlers and
 *   tsc emit on `exports`, a sloppy function's `arguments`/`caller` — whose V8 getters walk the stack
 *   and cost microseconds each);
 * - `functions` mode: a data property that does not hold a function (state of a live instance);
 * - `references` mode: a data property that holds a primitive (a counter, a flag).
 * Added and removed keys are still seen: the key list is compared on every check.
 */
function worthChecking(mode: number, flags: number, first: unknown): boolean {
  if (!(flags & CONFIGURABLE)) {
    // Non-configurable: an accessor keeps its getter and setter forever, a read-only value its value.
    if (flags & ACCESSOR || !(flags & WRITABLE)) return false;
  }
  if (flags & ACCESSOR) return true;
  if (mode === MODE_FUNCTIONS) return typeof first === 'function';
  if (mode === MODE_REFERENCES) return isReference(first);
  return true;
}

function computeChecked(snapshot: ObjectSnapshot): void {
  const checked = newTable<number>();
  let nameCount = 0;
  let immutable = !snapshot.extensible;
  for (let i = 0; i < snapshot.keys.length; i++) {
    if (typeof snapshot.keys[i] === 'string') nameCount++;
    const flags = snapshot.flags[i] as number;
    if (flags & CONFIGURABLE || (!(flags & ACCESSOR) && flags & WRITABLE)) immutable = false;
    if (worthChecking(snapshot.mode, snapshot.flags[i] as number, snapshot.first[i])) tableAppend(checked, i);
  }
  snapshot.checked = checked;
  snapshot.nameCount = nameCount;
  snapshot.immutable = immutable;
}

/** Take the baseline of one object. Never enumerates a Proxy (its traps would run). */
export function snapshotObject(id: string, target: object, mode: SurfaceMode = 'all'): ObjectSnapshot {
  const snapshot: ObjectSnapshot = {
    id,
    target,
    mode: modeNumber(mode),
    proto: ReflectGetPrototypeOf(target),
    extensible: ReflectIsExtensible(target),
    keys: newTable(),
    flags: newTable(),
    first: newTable(),
    second: newTable(),
    index: undefined,
    reorder: false,
    checked: newTable(),
    nameCount: 0,
    immutable: false,
  };
  // The array ownKeys returns is fresh and its elements are its own: it becomes the baseline's key list.
  const keys = ReflectOwnKeys(target);
  const signature: Signature = { flags: ABSENT, first: undefined, second: undefined };
  let complete = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string | symbol;
    readSignature(target, key, signature);
    if (signature.flags === ABSENT) {
      // Gone between ownKeys and its descriptor (an exotic object): keep a list of the others.
      if (complete) {
        complete = false;
        for (let j = 0; j < i; j++) tableAppend(snapshot.keys, keys[j] as string | symbol);
      }
      continue;
    }
    if (!complete) tableAppend(snapshot.keys, key);
    tableAppend(snapshot.flags, signature.flags);
    tableAppend(snapshot.first, signature.first);
    tableAppend(snapshot.second, signature.second);
  }
  if (complete) {
    snapshot.keys = keys;
  }
  computeChecked(snapshot);
  return snapshot;
}

/** Set (or add) one key's baseline signature: the change was judged benign and is adopted. */
export function adoptKey(snapshot: ObjectSnapshot, key: string | symbol, signature: Signature): void {
  const index = findKey(snapshot, key);
  if (index >= 0) {
    snapshot.flags[index] = signature.flags;
    snapshot.first[index] = signature.first;
    snapshot.second[index] = signature.second;
    snapshot.reorder = true;
    return;
  }
  appendItem(snapshot.keys, key);
  appendItem(snapshot.flags, signature.flags);
  appendItem(snapshot.first, signature.first);
  appendItem(snapshot.second, signature.second);
  snapshot.index = undefined;
  snapshot.reorder = true;
}

function findKey(snapshot: ObjectSnapshot, key: string | symbol): number {
  let index = snapshot.index;
  if (index === undefined) {
    index = new SafeMap<string | symbol, number>();
    for (let i = 0; i < snapshot.keys.length; i++) mapSet(index, snapshot.keys[i] as string | symbol, i);
    snapshot.index = index;
  }
  const found = mapGet(index, key);
  return found === undefined ? -1 : found;
}

/** After an adoption, put the baseline back in the object's key order so the fast path applies again. */
function reorder(snapshot: ObjectSnapshot): void {
  snapshot.reorder = false;
  computeChecked(snapshot);
  let current: (string | symbol)[];
  try {
    current = ReflectOwnKeys(snapshot.target);
  } catch {
    return;
  }
  if (current.length !== snapshot.keys.length) return;
  const keys = newTable<string | symbol>();
  const flags = newTable<number>();
  const first = newTable<unknown>();
  const second = newTable<unknown>();
  for (let i = 0; i < current.length; i++) {
    const key = current[i] as string | symbol;
    const at = findKey(snapshot, key);
    if (at < 0) return;
    appendItem(keys, key);
    appendItem(flags, snapshot.flags[at] as number);
    appendItem(first, snapshot.first[at]);
    appendItem(second, snapshot.second[at]);
  }
  snapshot.keys = keys;
  snapshot.flags = flags;
  snapshot.first = first;
  snapshot.second = second;
  snapshot.index = undefined;
  computeChecked(snapshot);
}

// ---------------------------------------------------------------------------------------------
// Paths

const WELL_KNOWN = new SafeMap<symbol, string>();
{
  const names = ReflectOwnKeys(Symbol);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (typeof name !== 'string') continue;
    const descriptor = ReflectGetOwnPropertyDescriptor(Symbol, name);
    if (descriptor && typeof descriptor.value === 'symbol')
      mapSet(WELL_KNOWN, descriptor.value, `Symbol.${name}`);
  }
}

function isIdentifier(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = stringCharCodeAt(text, i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

const MAX_PATH_PART = 300;

const HEX = '0123456789abcdef';

/**
 * A key as it prints in a drift path: control characters escaped as `\uXXXX` (Module._pathCache keys
 * hold NULs; an implant could choose newlines to forge log lines), and clipped to a bounded length.
 */
export function printable(text: string): string {
  let clean = true;
  for (let i = 0; i < text.length && clean; i++) {
    const c = stringCharCodeAt(text, i);
    if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) clean = false;
  }
  let out = text;
  if (!clean) {
    out = '';
    for (let i = 0; i < text.length; i++) {
      const c = stringCharCodeAt(text, i);
      if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) {
        out += `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
      } else {
        out += stringSlice(text, i, i + 1);
      }
    }
  }
  return out.length > MAX_PATH_PART ? `${stringSlice(out, 0, MAX_PATH_PART)}…` : out;
}

const clip = printable;

/** How a symbol prints in a path: `Symbol.iterator`, `Symbol.for(name)`, `Symbol(name)`. */
export function formatSymbol(sym: symbol): string {
  const known = mapGet(WELL_KNOWN, sym);
  if (known !== undefined) return known;
  const registered = SymbolKeyFor(sym);
  if (registered !== undefined) return `Symbol.for(${clip(registered)})`;
  const description = symbolDescription(sym);
  return `Symbol(${description === undefined ? '' : clip(description)})`;
}

/** `base.key`, `base[Symbol.iterator]`, `base[.js]`: the path of one own property. */
export function formatKey(base: string, key: string | symbol): string {
  if (typeof key === 'symbol') return `${base}[${formatSymbol(key)}]`;
  return isIdentifier(key) ? `${base}.${key}` : `${base}[${clip(key)}]`;
}

// ---------------------------------------------------------------------------------------------
// Diffing

type Kind = Drift['kind'];

function typeName(flags: number, first: unknown): string {
  if (flags === ABSENT) return 'absent';
  if (flags & ACCESSOR) return 'accessor';
  return first === null ? 'null' : typeof first;
}

/** A drift record with a null prototype (an implant's `Object.prototype.toJSON` cannot rewrite it). */
export function makeDrift(
  path: string,
  kind: Kind,
  detector: string,
  detail?: Record<string, string | number | boolean | null>,
): Drift {
  if (detail === undefined) return nullRecord({ path, kind, detector }) as Drift;
  return nullRecord({ path, kind, detector, detail: nullRecord(detail) }) as Drift;
}

/**
 * Hooks for rules that judge a change benign. Return true to adopt it (no drift). Called only when
 * a key differs from the baseline.
 */
export type ChangeJudge = (
  snapshot: ObjectSnapshot,
  key: string | symbol,
  before: Signature,
  after: Signature,
) => boolean;

const before: Signature = { flags: ABSENT, first: undefined, second: undefined };

function report(
  snapshot: ObjectSnapshot,
  key: string | symbol,
  old: Signature,
  now: Signature,
  detector: string,
  out: Drift[],
): void {
  let kind: Kind;
  let detail: Record<string, string | number | boolean | null> | undefined;
  if (old.flags === ABSENT) {
    kind = 'added';
    detail = { type: typeName(now.flags, now.first) };
  } else if (now.flags === ABSENT) {
    kind = 'removed';
    detail = { type: typeName(old.flags, old.first) };
  } else if ((old.flags & ACCESSOR) !== (now.flags & ACCESSOR)) {
    kind = 'replaced';
    detail = { was: typeName(old.flags, old.first), now: typeName(now.flags, now.first) };
  } else if (!same(old.first, now.first) || !same(old.second, now.second)) {
    kind = 'replaced';
    detail = { type: typeName(now.flags, now.first) };
  } else {
    kind = 'reconfigured';
    detail = {
      writable: (now.flags & WRITABLE) !== 0,
      enumerable: (now.flags & ENUMERABLE) !== 0,
      configurable: (now.flags & CONFIGURABLE) !== 0,
    };
  }
  appendItem(out, makeDrift(formatKey(snapshot.id, key), kind, detector, detail));
}

function differs(old: Signature, now: Signature): boolean {
  return old.flags !== now.flags || !same(old.first, now.first) || !same(old.second, now.second);
}

function judgeAndReport(
  snapshot: ObjectSnapshot,
  key: string | symbol,
  old: Signature,
  now: Signature,
  detector: string,
  judge: ChangeJudge | undefined,
  out: Drift[],
): void {
  if (!matters(snapshot.mode, old.flags, old.first, now.flags, now.first)) return;
  if (judge?.(snapshot, key, old, now)) return;
  report(snapshot, key, old, now, detector, out);
}

/**
 * Compare one object with its baseline and append what changed to `out`. Never throws: a fault is
 * reported as a drift of kind 'fault' with the snapshot's id as path.
 */
export function diffObject(
  snapshot: ObjectSnapshot,
  detector: string,
  out: Drift[],
  judge?: ChangeJudge,
): void {
  try {
    diffUnsafe(snapshot, detector, out, judge);
    if (snapshot.reorder) reorder(snapshot);
  } catch {
    appendItem(out, makeDrift(snapshot.id, 'fault', detector));
  }
}

function diffUnsafe(
  snapshot: ObjectSnapshot,
  detector: string,
  out: Drift[],
  judge: ChangeJudge | undefined,
): void {
  if (snapshot.immutable) return;
  const target = snapshot.target;
  const proto = ReflectGetPrototypeOf(target);
  if (proto !== snapshot.proto) {
    appendItem(
      out,
      makeDrift(`[[Prototype]] of ${snapshot.id}`, 'prototype', detector, {
        proxy: proto !== null && isProxy(proto),
        type: proto === null ? 'null' : typeof proto,
      }),
    );
  }
  const extensible = ReflectIsExtensible(target);
  if (extensible !== snapshot.extensible) {
    appendItem(out, makeDrift(`[[Extensible]] of ${snapshot.id}`, 'extensibility', detector, { extensible }));
  }
  // Names then symbols is Reflect.ownKeys's order; the two calls cost about half of ownKeys (V8 has
  // fast paths for them that ownKeys, being Proxy-capable, does not take).
  const names = ObjectGetOwnPropertyNames(target);
  const symbols = ObjectGetOwnPropertySymbols(target);
  const keys = snapshot.keys;
  const count = keys.length;
  const nameCount = snapshot.nameCount;
  // Fast path: same keys in the same order (the common case: nothing was added or deleted).
  if (names.length === nameCount && symbols.length === count - nameCount) {
    let i = 0;
    while (i < nameCount && names[i] === keys[i]) i++;
    if (i === nameCount) {
      while (i < count && symbols[i - nameCount] === keys[i]) i++;
    }
    if (i === count) {
      const checked = snapshot.checked;
      for (let j = 0; j < checked.length; j++) {
        const at = checked[j] as number;
        const key = keys[at] as string | symbol;
        readSignature(target, key, scratch);
        const flags = snapshot.flags[at] as number;
        if (
          scratch.flags === flags &&
          same(scratch.first, snapshot.first[at]) &&
          same(scratch.second, snapshot.second[at])
        ) {
          continue;
        }
        before.flags = flags;
        before.first = snapshot.first[at];
        before.second = snapshot.second[at];
        judgeAndReport(snapshot, key, before, scratch, detector, judge, out);
      }
      return;
    }
  }
  // Keys were added, removed or moved.
  const current = newTable<string | symbol>();
  for (let i = 0; i < names.length; i++) appendItem(current, names[i] as string);
  for (let i = 0; i < symbols.length; i++) appendItem(current, symbols[i] as symbol);
  slowDiff(snapshot, current, detector, out, judge);
}

function slowDiff(
  snapshot: ObjectSnapshot,
  current: (string | symbol)[],
  detector: string,
  out: Drift[],
  judge: ChangeJudge | undefined,
): void {
  const target = snapshot.target;
  const count = snapshot.keys.length;
  const seen = new SafeSet<number>();
  const now: Signature = { flags: ABSENT, first: undefined, second: undefined };
  const old: Signature = { flags: ABSENT, first: undefined, second: undefined };
  // Keys as they are now: changed or added.
  for (let i = 0; i < current.length; i++) {
    const key = current[i] as string | symbol;
    readSignature(target, key, now);
    if (now.flags === ABSENT) continue;
    const at = findKey(snapshot, key);
    if (at < 0) {
      old.flags = ABSENT;
      old.first = undefined;
      old.second = undefined;
    } else {
      setAdd(seen, at);
      old.flags = snapshot.flags[at] as number;
      old.first = snapshot.first[at];
      old.second = snapshot.second[at];
      // Same rule as the fast path, so a verdict does not depend on whether other keys moved.
      if (!worthChecking(snapshot.mode, old.flags, old.first) || !differs(old, now)) continue;
    }
    judgeAndReport(snapshot, key, old, now, detector, judge, out);
  }
  // Keys of the baseline that are gone (keys adopted above were appended after `count`).
  const keys = snapshot.keys;
  now.flags = ABSENT;
  now.first = undefined;
  now.second = undefined;
  for (let i = 0; i < count; i++) {
    if (setHas(seen, i)) continue;
    old.flags = snapshot.flags[i] as number;
    old.first = snapshot.first[i];
    old.second = snapshot.second[i];
    judgeAndReport(snapshot, keys[i] as string | symbol, old, now, detector, judge, out);
  }
}

// ---------------------------------------------------------------------------------------------
// The surface detectors

const LAZY_GLOBAL_NAMES = new SafeSet<string | symbol>();
for (let i = 0; i < LAZY_GLOBALS.length; i++) setAdd(LAZY_GLOBAL_NAMES, LAZY_GLOBALS[i] as string);

const DISPATCHER_SYMBOLS = new SafeSet<string | symbol>();
for (let i = 0; i < UNDICI_DISPATCHER.keys.length; i++) {
  setAdd(DISPATCHER_SYMBOLS, Symbol.for(UNDICI_DISPATCHER.keys[i] as string));
}

/** Options for tests and for composing; the defaults are the policy in `surfaces.ts`. */
export interface ObjectSurfacesOptions {
  /** The surfaces to consider (only those of the detector's group are used). */
  readonly surfaces?: readonly Surface[];
  /**
   * How many deployment modules have been lazily loaded since the baseline (the module-cache
   * detector's count, checked first). A global *added* (never a replaced or removed one) in a check
   * during which the deployment loaded new modules is that module's initialisation — zod v4 adds
   * `__zod_globalConfig` when first required — and is adopted. A new global intercepts nothing by
   * itself; every replacement of an existing binding is still drift.
   */
  readonly lazyLoads?: () => number;
}

interface WatchedAccessor {
  readonly snapshot: ObjectSnapshot;
  readonly key: string;
  readonly getter: (...args: never[]) => unknown;
  readonly value: unknown;
}

/** The own `name` of a function, read from its descriptor (a getter would not be called). */
function functionName(fn: unknown): string | undefined {
  if (typeof fn !== 'function') return undefined;
  const descriptor = ReflectGetOwnPropertyDescriptor(fn, 'name');
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  return typeof descriptor.value === 'string' ? descriptor.value : undefined;
}

/** The `constructor` of a prototype, from its own data descriptor. */
function constructorOf(proto: object): unknown {
  const descriptor = ReflectGetOwnPropertyDescriptor(proto, 'constructor');
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  return descriptor.value;
}

/**
 * The undici rule (see `UNDICI_DISPATCHER`): the prototypes of a genuine first dispatcher, or
 * undefined when the value does not have that shape.
 */
function dispatcherPrototypes(
  signature: Signature,
  eventEmitterPrototype: object | undefined,
): object[] | undefined {
  // writable, not enumerable, not configurable, data
  if (signature.flags !== WRITABLE) return undefined;
  const value = signature.first;
  if (typeof value !== 'object' || value === null || isProxy(value) || eventEmitterPrototype === undefined) {
    return undefined;
  }
  const chain = UNDICI_DISPATCHER.chain;
  const prototypes = newList<object>();
  let proto = ReflectGetPrototypeOf(value);
  for (let i = 0; i < chain.length; i++) {
    if (proto === null || isProxy(proto)) return undefined;
    if (functionName(constructorOf(proto)) !== chain[i]) return undefined;
    appendItem(prototypes, proto);
    proto = ReflectGetPrototypeOf(proto);
  }
  if (proto !== eventEmitterPrototype) return undefined;
  if (ReflectGetPrototypeOf(proto) !== ObjectPrototype) return undefined;
  return prototypes;
}

function resolveSurface(entry: Surface): object | undefined {
  try {
    const value = entry.resolve();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
    // A Proxy cannot be enumerated without running its traps; the property holding it is watched.
    if (isProxy(value)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/**
 * The detector for one surface group. `baseline()` resolves the group's surfaces (loading the
 * built-in modules it names) and records them; `check()` reports drift since then.
 *
 * @example
 *   const intrinsics = createObjectSurfacesDetector('intrinsics');
 *   intrinsics.baseline(); // end of INIT
 *   const drifts = intrinsics.check(); // after each invocation: [] when nothing changed
 */
export function createObjectSurfacesDetector(
  group: SurfaceGroup,
  options: ObjectSurfacesOptions = {},
): ObjectSurfacesDetector {
  const list = options.surfaces ?? SURFACES;
  const name: string = group;
  let snapshots: ObjectSnapshot[] = newTable();
  let accessors: WatchedAccessor[] = newTable();
  let eventEmitterPrototype: object | undefined;
  let baselineTaken = false;

  /** Accessor → data transition whose value is exactly what the captured getter returns. */
  const adoptLazyAccessor: ChangeJudge = (snapshot, key, old, now) => {
    if (
      old.flags === ABSENT ||
      !(old.flags & ACCESSOR) ||
      now.flags === ABSENT ||
      now.flags & ACCESSOR ||
      typeof old.first !== 'function'
    ) {
      return false;
    }
    let loaded: unknown;
    try {
      loaded = ReflectApply(old.first as (...args: never[]) => unknown, snapshot.target, []);
    } catch {
      return false;
    }
    if (!same(now.first, loaded)) return false;
    adoptKey(snapshot, key, { flags: now.flags, first: now.first, second: now.second });
    return true;
  };
  let lazyLoadsSeen = 0;
  let lazyWindow = false;
  const judge: ChangeJudge = (snapshot, key, old, now) => {
    if (
      lazyWindow &&
      snapshot.id === 'globalThis' &&
      typeof key === 'string' &&
      old.flags === ABSENT &&
      now.flags !== ABSENT
    ) {
      adoptKey(snapshot, key, { flags: now.flags, first: now.first, second: now.second });
      return true;
    }
    // Node's lazy exports of built-in modules (Node 20: util.TextEncoder, buffer.Blob, …): an accessor
    // at the baseline that an ESM import or a read turned into the data property its getter installed.
    if (group === 'builtins' && snapshot.id !== 'globalThis' && adoptLazyAccessor(snapshot, key, old, now))
      return true;
    if (snapshot.id === 'globalThis') {
      // Node's lazy global: accessor at the baseline, now the data property its getter installed.
      if (
        typeof key === 'string' &&
        setHas(LAZY_GLOBAL_NAMES, key) &&
        old.flags !== ABSENT &&
        old.flags & ACCESSOR &&
        now.flags !== ABSENT &&
        !(now.flags & ACCESSOR) &&
        typeof old.first === 'function'
      ) {
        // Node's getter returns the implementation it loaded (loading it first if nobody read the
        // global yet — in which case it also overwrites whatever was assigned through its setter).
        // Benign only if the value found BEFORE the call is that implementation.
        const found = now.first;
        let loaded: unknown;
        try {
          loaded = ReflectApply(old.first as (...args: never[]) => unknown, snapshot.target, []);
        } catch {
          return false;
        }
        if (!same(found, loaded)) return false;
        readSignature(snapshot.target, key, now);
        if (now.flags === ABSENT || now.flags & ACCESSOR || !same(now.first, loaded)) return false;
        adoptKey(snapshot, key, { flags: now.flags, first: now.first, second: now.second });
        return true;
      }
      // undici's first global dispatcher.
      if (typeof key === 'symbol' && old.flags === ABSENT && setHas(DISPATCHER_SYMBOLS, key)) {
        const prototypes = dispatcherPrototypes(now, eventEmitterPrototype);
        if (prototypes === undefined) return false;
        adoptKey(snapshot, key, { flags: now.flags, first: now.first, second: now.second });
        watchDispatcherPrototypes(prototypes);
        return true;
      }
    }
    for (let i = 0; i < LAZY_KEYS.length; i++) {
      const rule = LAZY_KEYS[i] as (typeof LAZY_KEYS)[number];
      if (rule.surface === snapshot.id && rule.key === key && old.flags === ABSENT) {
        adoptKey(snapshot, key, { flags: now.flags, first: now.first, second: now.second });
        return true;
      }
    }
    return false;
  };

  function watchDispatcherPrototypes(prototypes: object[]): void {
    for (let i = 0; i < prototypes.length; i++) {
      const proto = prototypes[i] as object;
      let known = false;
      for (let j = 0; j < snapshots.length; j++)
        if ((snapshots[j] as ObjectSnapshot).target === proto) known = true;
      if (known) continue;
      try {
        appendItem(snapshots, snapshotObject(UNDICI_DISPATCHER.surfaceIds[i] as string, proto, 'all'));
      } catch {
        // A prototype that cannot be read is not adopted; the dispatcher key itself still is.
      }
    }
  }

  function baseline(): void {
    refreshDescriptorGuard();
    snapshots = newTable();
    accessors = newTable();
    const seen = new SafeSet<object>();
    const resolved = newTable<{ entry: Surface; target: object }>();
    // Resolve everything first: resolving materialises some of Node's lazy globals, which must be in
    // their final shape before any snapshot is taken.
    for (let i = 0; i < list.length; i++) {
      const entry = list[i] as Surface;
      if (entry.group !== group) continue;
      const target = resolveSurface(entry);
      if (target === undefined || setHas(seen, target)) continue;
      setAdd(seen, target);
      appendItem(resolved, { entry, target });
    }
    try {
      const events = require('node:events') as { prototype: object };
      eventEmitterPrototype = events.prototype;
    } catch {
      eventEmitterPrototype = undefined;
    }
    for (let i = 0; i < resolved.length; i++) {
      const { entry, target } = resolved[i] as { entry: Surface; target: object };
      try {
        appendItem(snapshots, snapshotObject(entry.id, target, entry.mode));
        weakSetAdd(watchedBySurfaces, target);
      } catch {
        // Unreadable at the baseline: nothing to compare with later.
      }
    }
    for (let i = 0; i < ACCESSOR_VALUES.length; i++) {
      const rule = ACCESSOR_VALUES[i] as (typeof ACCESSOR_VALUES)[number];
      for (let j = 0; j < snapshots.length; j++) {
        const snapshot = snapshots[j] as ObjectSnapshot;
        if (snapshot.id !== rule.surface) continue;
        const at = findKey(snapshot, rule.key);
        if (
          at < 0 ||
          !((snapshot.flags[at] as number) & ACCESSOR) ||
          typeof snapshot.first[at] !== 'function'
        )
          continue;
        const getter = snapshot.first[at] as (...args: never[]) => unknown;
        try {
          const value = ReflectApply(getter, snapshot.target, []);
          appendItem(accessors, { snapshot, key: rule.key, getter, value });
        } catch {
          // A getter that throws at the baseline is not watched by value.
        }
      }
    }
    // A dispatcher that already exists at the baseline is a watched key; its prototypes are watched too.
    try {
      for (let j = 0; j < snapshots.length; j++) {
        const snapshot = snapshots[j] as ObjectSnapshot;
        if (snapshot.id !== 'globalThis') continue;
        for (let k = 0; k < snapshot.keys.length; k++) {
          if (!setHas(DISPATCHER_SYMBOLS, snapshot.keys[k] as string | symbol)) continue;
          const prototypes = dispatcherPrototypes(
            { flags: snapshot.flags[k] as number, first: snapshot.first[k], second: snapshot.second[k] },
            eventEmitterPrototype,
          );
          if (prototypes !== undefined) watchDispatcherPrototypes(prototypes);
        }
      }
    } catch {
      // The dispatcher key itself is still watched.
    }
    baselineTaken = true;
  }

  function check(): Drift[] {
    const out = newList<Drift>();
    if (!baselineTaken) return out;
    const loads = options.lazyLoads ? options.lazyLoads() : 0;
    lazyWindow = loads > lazyLoadsSeen;
    lazyLoadsSeen = loads;
    try {
      checkInto(out);
    } catch {
      // diffObject contains its own faults; this is the net under everything else.
      appendItem(out, makeDrift(name, 'fault', name));
    }
    return out;
  }

  function checkInto(out: Drift[]): void {
    refreshDescriptorGuard();
    for (let i = 0; i < snapshots.length; i++) diffObject(snapshots[i] as ObjectSnapshot, name, out, judge);
    for (let i = 0; i < accessors.length; i++) {
      const watched = accessors[i] as WatchedAccessor;
      try {
        readSignature(watched.snapshot.target, watched.key, scratch);
        // A changed descriptor was reported above; the value is only meaningful behind the same getter.
        if (scratch.flags === ABSENT || !(scratch.flags & ACCESSOR) || scratch.first !== watched.getter)
          continue;
        const value = ReflectApply(watched.getter, watched.snapshot.target, []);
        if (!same(value, watched.value)) {
          appendItem(
            out,
            makeDrift(formatKey(watched.snapshot.id, watched.key), 'replaced', name, {
              via: 'setter',
              type: value === null ? 'null' : typeof value,
            }),
          );
        }
      } catch {
        appendItem(out, makeDrift(formatKey(watched.snapshot.id, watched.key), 'fault', name));
      }
    }
  }

  function stats(): SurfaceStats {
    let keys = 0;
    let read = 0;
    for (let i = 0; i < snapshots.length; i++) {
      keys += (snapshots[i] as ObjectSnapshot).keys.length;
      read += (snapshots[i] as ObjectSnapshot).checked.length;
    }
    return { surfaces: snapshots.length, keys, descriptorsPerCheck: read };
  }

  return ObjectFreeze({ name, baseline, check, stats });
}

/** What a surface detector watches: for benchmarks and the guard's init event. */
export interface SurfaceStats {
  readonly surfaces: number;
  /** Own keys in the baseline. */
  readonly keys: number;
  /** Descriptors read per check: the keys that can change in a way the surface's mode cares about. */
  readonly descriptorsPerCheck: number;
}

/** A Detector that can also say how much it watches. */
export interface ObjectSurfacesDetector extends Detector {
  stats(): SurfaceStats;
}

/** The three object-surface detectors, in the order a composer should run them. */
export function createObjectSurfaceDetectors(options: ObjectSurfacesOptions = {}): ObjectSurfacesDetector[] {
  return [
    createObjectSurfacesDetector('intrinsics', options),
    createObjectSurfacesDetector('globals', options),
    createObjectSurfacesDetector('builtins', options),
  ];
}
