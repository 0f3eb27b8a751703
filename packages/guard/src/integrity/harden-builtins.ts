/**
 * `integrity.harden: "builtins"` — prevention for what can be frozen without breaking real code.
 * Runs once, at the end of INIT (the threat model trusts INIT), before the integrity baseline.
 *
 * Three steps, each data + one small loop:
 * 1. The JavaScript intrinsics (`Object`, `Array.prototype`, `JSON`, `Promise`, `Reflect`, the hidden
 *    iterator and generator prototypes, …) and everything reachable from them through own properties,
 *    accessors and [[Prototype]] are frozen.
 *    - The override mistake: on a frozen prototype a data property is non-writable, and JavaScript
 *      then also refuses an assignment of the same name on every object that inherits it
 *      (`err.message = …`, `obj.toString = …`, `SubClass.prototype.constructor = …`, and a query
 *      string `?toString=1` parsed by qs into a plain object). Before freezing, the properties in
 *      OVERRIDABLE become accessors: the getter returns the original value; the setter defines an own
 *      data property on the receiver, unless the receiver is the prototype itself (that assignment
 *      throws a TypeError, as on any frozen object).
 *    - KEPT_WRITABLE: `Error.stackTraceLimit` and `Error.prepareStackTrace` stay writable: Node
 *      internals, depd (express), source-map-support and APM agents assign them at run time.
 * 2. The exports of the built-in modules an implant wraps to see traffic or run commands (BUILTIN_MODULES)
 *    are frozen (shallow: the exports object and, for `module`, `Module.prototype`). Accessors stay
 *    accessors (`fs.promises`, `http.globalAgent` keep working); class prototypes such as
 *    `EventEmitter.prototype` or `net.Socket.prototype` are NOT frozen: Node itself assigns
 *    `_events`, `domain`, … on instances, which the override mistake would break.
 * 3. The global bindings that exist at the end of INIT become non-writable and non-configurable,
 *    and the objects in the global object's prototype chain (below Object.prototype) are frozen.
 *    Node's lazily defined globals (`crypto`, `navigator`, web streams…: accessors that replace
 *    themselves on first read) are left as accessors — locking them would make their first read
 *    throw — and the global object stays extensible: a new global is integrity drift, not an error.
 *
 * Not frozen: `process`, `console`, `globalThis` itself, class prototypes of Node core, user modules.
 * SES's `lockdown()` (`harden: "ses"`) covers the intrinsics more thoroughly (it also removes
 * non-standard properties and tames `Date`, `Math.random`, `Error`…); this setting needs no package.
 */
import { createRequire } from 'node:module';

const ReflectOwnKeys = Reflect.ownKeys;
const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const ReflectDefineProperty = Reflect.defineProperty;
const ReflectGetPrototypeOf = Reflect.getPrototypeOf;
const ReflectApply = Reflect.apply;
const ObjectFreeze = Object.freeze;
const ObjectIsFrozen = Object.isFrozen;
const ObjectPreventExtensions = Object.preventExtensions;
const ObjectHasOwn = Object.hasOwn;
const TypeErrorCtor = TypeError;
const SetCtor = Set;
const SetHas = Set.prototype.has;
const SetAdd = Set.prototype.add;
const StringCtor = String;
const requireBuiltin = createRequire(__filename);

/** The ECMAScript globals (not Node's): the roots of the intrinsic graph. */
export const INTRINSIC_GLOBALS: readonly string[] = [
  'Object',
  'Function',
  'Array',
  'Number',
  'parseFloat',
  'parseInt',
  'Boolean',
  'String',
  'Symbol',
  'Date',
  'Promise',
  'RegExp',
  'Error',
  'AggregateError',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'JSON',
  'Math',
  'Intl',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'Uint8ClampedArray',
  'BigUint64Array',
  'BigInt64Array',
  'DataView',
  'Map',
  'BigInt',
  'Set',
  'WeakMap',
  'WeakSet',
  'Proxy',
  'Reflect',
  'FinalizationRegistry',
  'WeakRef',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'eval',
  'isFinite',
  'isNaN',
  'Atomics',
  'WebAssembly',
  'Iterator',
];

/**
 * Prototype data properties turned into override-friendly accessors before freezing, and why.
 * `Object.prototype`: all of its data properties but `constructor` — plain objects are built by
 * assignment from untrusted keys (lodash.set, `headers[name] = v`), so any of them can be a key.
 * Error prototypes: `name`, `message`, `toString` — error subclasses and libraries
 * (`err.name = 'AbortError'`, axios, pg, undici, the AWS SDK) assign them on instances.
 * `Function.prototype`, `Array.prototype`, `RegExp.prototype`, `Date.prototype`: `toString`.
 * `constructor` is NOT made an accessor anywhere: Node 20's `util.inspect` names an object by the
 * data descriptor of `constructor` on its prototype chain (an accessor turns `[1]` into
 * `Object(1) [1]` in every log line). The cost: `Sub.prototype = Object.create(Error.prototype);
 * Sub.prototype.constructor = Sub` throws in strict code (use a class or `Object.defineProperty`).
 * `Promise.prototype.then` is not included (a thenable defines its own).
 * `%IteratorPrototype%[Symbol.iterator]`: old regenerator-runtime assigns it on generator objects.
 * The getter is never called by the integrity detectors (they compare descriptors).
 */
const OBJECT_PROTOTYPE_ALL = '*';
type OverrideEntry = readonly [label: string, target: () => object | undefined, keys: readonly PropertyKey[]];

function errorPrototype(name: string): () => object | undefined {
  return () => (globalThis as unknown as Record<string, { prototype: object } | undefined>)[name]?.prototype;
}

const IteratorPrototype = ReflectGetPrototypeOf(
  ReflectGetPrototypeOf([][Symbol.iterator]()) as object,
) as object;

export const OVERRIDABLE: readonly OverrideEntry[] = [
  ['Object.prototype', () => Object.prototype, [OBJECT_PROTOTYPE_ALL]],
  ['Function.prototype', () => Function.prototype, ['toString']],
  ['Array.prototype', () => Array.prototype, ['toString']],
  ['RegExp.prototype', () => RegExp.prototype, ['toString']],
  ['Date.prototype', () => Date.prototype, ['toString']],
  ['%IteratorPrototype%', () => IteratorPrototype, [Symbol.iterator]],
  ...[
    'Error',
    'AggregateError',
    'EvalError',
    'RangeError',
    'ReferenceError',
    'SyntaxError',
    'TypeError',
    'URIError',
  ].map(
    (name): OverrideEntry => [`${name}.prototype`, errorPrototype(name), ['name', 'message', 'toString']],
  ),
];

/** Own properties of intrinsics that stay writable (and are not frozen through). */
export const KEPT_WRITABLE: readonly (readonly [string, () => object, string])[] = [
  ['Error', () => Error, 'stackTraceLimit'],
  ['Error', () => Error, 'prepareStackTrace'],
];

/**
 * Built-in modules whose exports are frozen (see step 2). The first list is loaded if INIT did not
 * load it (what implants wrap to see traffic, run commands or load code); the second is frozen only
 * if INIT loaded it — loading http2, inspector, cluster… costs ~25 ms of INIT for functions that never
 * use them, and the integrity detectors watch vm and worker_threads when they are loaded later.
 */
export const BUILTIN_MODULES: readonly string[] = [
  'http',
  'https',
  'net',
  'tls',
  'dns',
  'fs',
  'child_process',
  'crypto',
  'module',
];
export const BUILTIN_MODULES_IF_LOADED: readonly string[] = [
  'http2',
  'dns/promises',
  'dgram',
  'fs/promises',
  'vm',
  'worker_threads',
  'inspector',
  'cluster',
];

/** Whether INIT loaded built-in `name` (Node lists `NativeModule <id>` in process.moduleLoadList). */
function builtinLoaded(name: string): boolean {
  const list = (process as unknown as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return list === undefined || list.includes(`NativeModule ${name}`);
}

/** What `hardenBuiltins` did (for the init event and the tests). */
export interface BuiltinsHardenReport {
  readonly intrinsicsFrozen: number;
  readonly overrides: readonly string[];
  readonly modules: readonly string[];
  readonly globalsLocked: number;
  readonly globalsLeftLazy: readonly string[];
}

/** The hidden intrinsics: reachable only through syntax, not through a global name. */
function hiddenIntrinsics(): object[] {
  const roots: object[] = [];
  const add = (value: unknown) => {
    if ((typeof value === 'object' && value !== null) || typeof value === 'function')
      roots[roots.length] = value;
  };
  add(IteratorPrototype);
  add(ReflectGetPrototypeOf([][Symbol.iterator]()));
  add(ReflectGetPrototypeOf(''[Symbol.iterator]()));
  add(ReflectGetPrototypeOf(new Map()[Symbol.iterator]()));
  add(ReflectGetPrototypeOf(new Set()[Symbol.iterator]()));
  add(ReflectGetPrototypeOf(/a/[Symbol.matchAll]('a')));
  add(ReflectGetPrototypeOf(Uint8Array)); // %TypedArray%
  add(ReflectGetPrototypeOf(function* () {})); // %GeneratorFunction.prototype%
  add(ReflectGetPrototypeOf(async () => {})); // %AsyncFunction.prototype%
  add(ReflectGetPrototypeOf(async function* () {})); // %AsyncGeneratorFunction.prototype%
  add(ReflectGetPrototypeOf(ReflectGetPrototypeOf((async function* () {})()) as object)); // %AsyncGeneratorPrototype%
  add(
    ReflectGetPrototypeOf(
      ReflectGetPrototypeOf(ReflectGetPrototypeOf((async function* () {})()) as object) as object,
    ),
  ); // %AsyncIteratorPrototype%
  add(ReflectGetOwnPropertyDescriptor(Function.prototype, 'caller')?.get); // %ThrowTypeError%
  return roots;
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** Replace `target[key]` (a data property) with an override-friendly accessor. */
function makeOverridable(target: object, key: PropertyKey): boolean {
  const descriptor = ReflectGetOwnPropertyDescriptor(target, key);
  if (!descriptor || !ObjectHasOwn(descriptor, 'value') || !descriptor.configurable) return false;
  const value = descriptor.value as unknown;
  const enumerable = descriptor.enumerable === true;
  const name = typeof key === 'symbol' ? `[${StringCtor(key.description)}]` : key;
  const accessor = {
    get() {
      return value;
    },
    set(this: unknown, next: unknown) {
      if (this === target) {
        throw new TypeErrorCtor(`Cannot assign to read only property '${name}' of a hardened prototype`);
      }
      if (!isObjectLike(this)) return;
      // A new own property on the receiver: what the assignment would have done without the freeze.
      ReflectDefineProperty(this, key, { value: next, writable: true, enumerable, configurable: true });
    },
  };
  return ReflectDefineProperty(target, key, {
    get: accessor.get,
    set: accessor.set,
    enumerable,
    configurable: false,
  });
}

/** Freeze `object` but leave its KEPT_WRITABLE data properties writable. */
function freezeExcept(object: object): void {
  ObjectPreventExtensions(object);
  for (const key of ReflectOwnKeys(object)) {
    const descriptor = ReflectGetOwnPropertyDescriptor(object, key);
    if (!descriptor) continue;
    let keep = false;
    for (const [, target, name] of KEPT_WRITABLE) if (target() === object && name === key) keep = true;
    if (ObjectHasOwn(descriptor, 'value') && !keep)
      ReflectDefineProperty(object, key, { configurable: false, writable: false });
    else ReflectDefineProperty(object, key, { configurable: false });
  }
}

/** Step 1: the intrinsics, with the override fix. Returns how many objects were frozen. */
function freezeIntrinsics(overrides: string[]): number {
  const kept = new SetCtor<object>();
  const keptOwners = new SetCtor<object>();
  for (const [, target, key] of KEPT_WRITABLE) {
    const owner = target();
    ReflectApply(SetAdd, keptOwners, [owner]);
    const descriptor = ReflectGetOwnPropertyDescriptor(owner, key);
    // Own and writable, so that the frozen-ness of the owner does not block the assignment.
    if (!descriptor)
      ReflectDefineProperty(owner, key, {
        value: undefined,
        writable: true,
        enumerable: false,
        configurable: false,
      });
    else if (ObjectHasOwn(descriptor, 'value'))
      ReflectDefineProperty(owner, key, { configurable: false, writable: true });
    const value = ReflectGetOwnPropertyDescriptor(owner, key)?.value as unknown;
    if (isObjectLike(value)) ReflectApply(SetAdd, kept, [value]);
  }
  for (const [label, target, keys] of OVERRIDABLE) {
    const owner = target();
    if (!owner || ObjectIsFrozen(owner)) continue;
    const list = keys[0] === OBJECT_PROTOTYPE_ALL ? ReflectOwnKeys(owner) : keys;
    for (const key of list) {
      if (key === 'constructor') continue;
      if (makeOverridable(owner, key))
        overrides.push(`${label}.${typeof key === 'symbol' ? `[${StringCtor(key.description)}]` : key}`);
    }
  }
  // Never reached through a property an INIT-time library hung on an intrinsic: these are Node's.
  ReflectApply(SetAdd, kept, [globalThis]);
  ReflectApply(SetAdd, kept, [process]);
  ReflectApply(SetAdd, kept, [console]);
  const seen = new SetCtor<object>();
  const queue: object[] = [];
  const visit = (value: unknown) => {
    if (!isObjectLike(value) || ReflectApply(SetHas, seen, [value]) || ReflectApply(SetHas, kept, [value]))
      return;
    ReflectApply(SetAdd, seen, [value]);
    queue[queue.length] = value;
  };
  const globals = globalThis as unknown as Record<string, unknown>;
  for (const name of INTRINSIC_GLOBALS) {
    const descriptor = ReflectGetOwnPropertyDescriptor(globals, name);
    if (descriptor && ObjectHasOwn(descriptor, 'value')) visit(descriptor.value);
  }
  for (const root of hiddenIntrinsics()) visit(root);
  let frozen = 0;
  for (let i = 0; i < queue.length; i++) {
    const object = queue[i] as object;
    visit(ReflectGetPrototypeOf(object));
    for (const key of ReflectOwnKeys(object)) {
      const descriptor = ReflectGetOwnPropertyDescriptor(object, key);
      if (!descriptor) continue;
      if (ObjectHasOwn(descriptor, 'value')) visit(descriptor.value);
      else {
        visit(descriptor.get);
        visit(descriptor.set);
      }
    }
    if (ObjectIsFrozen(object)) continue;
    if (ReflectApply(SetHas, keptOwners, [object])) freezeExcept(object);
    else ObjectFreeze(object);
    frozen += 1;
  }
  return frozen;
}

/** Step 2: the exports of the built-in modules. */
function freezeBuiltinModules(): string[] {
  const done: string[] = [];
  const names: string[] = [...BUILTIN_MODULES];
  for (const name of BUILTIN_MODULES_IF_LOADED) if (builtinLoaded(name)) names.push(name);
  for (const name of names) {
    let exported: unknown;
    try {
      exported = requireBuiltin(`node:${name}`);
    } catch {
      continue; // not in this Node version
    }
    if (!isObjectLike(exported)) continue;
    ObjectFreeze(exported);
    if (name === 'module') ObjectFreeze((exported as { prototype: object }).prototype);
    done.push(name);
  }
  return done;
}

/** Step 3: the global bindings. */
function lockGlobals(lazy: string[]): number {
  let locked = 0;
  const globals = globalThis as object;
  for (const key of ReflectOwnKeys(globals)) {
    const descriptor = ReflectGetOwnPropertyDescriptor(globals, key);
    if (!descriptor?.configurable) continue;
    if (ObjectHasOwn(descriptor, 'value')) {
      if (ReflectDefineProperty(globals, key, { writable: false, configurable: false })) locked += 1;
    } else {
      lazy.push(StringCtor(key));
    }
  }
  // The objects between the global object and Object.prototype (Node's global prototype): frozen,
  // so a Proxy cannot be spliced into the chain every free-variable lookup walks.
  for (let proto = ReflectGetPrototypeOf(globals); proto !== null && proto !== Object.prototype; ) {
    ObjectFreeze(proto);
    proto = ReflectGetPrototypeOf(proto);
  }
  return locked;
}

/**
 * Freeze the intrinsics (with the override fix), the built-in modules' exports and the global
 * bindings. Throws if any step fails (the caller turns that into EPHEMERA_ERR_HARDEN).
 * @example hardenBuiltins(); Object.isFrozen(JSON) === true
 */
export function hardenBuiltins(options: { intrinsics?: boolean } = {}): BuiltinsHardenReport {
  const overrides: string[] = [];
  const lazy: string[] = [];
  const intrinsicsFrozen = options.intrinsics === false ? 0 : freezeIntrinsics(overrides);
  const modules = freezeBuiltinModules();
  const globalsLocked = lockGlobals(lazy);
  return { intrinsicsFrozen, overrides, modules, globalsLocked, globalsLeftLazy: lazy };
}
