/**
 * SQL sinks: `pg` (`Client.prototype.query`, which `Pool#query` goes through) and `mysql2`
 * (`Connection.prototype.query` and `.execute`, which pools and the promise wrapper go through).
 * Each statement's text is given to `inspectSink('sql', …)` before the driver sees it; a refusal is
 * raised the way the driver fails: through the callback when one is given, as a rejected promise
 * otherwise (`pg` returns one; mysql2's callback API returns its Query object, so the error reaches
 * the callback, or an 'error' listener, asynchronously).
 *
 * When the drivers are hooked: at init for a driver already loaded (the handler imported it), and
 * when the function loads it later — a `Module._load` wrapper that looks at what a `require('pg')` /
 * `require('mysql2')` returned, and a re-scan of `require.cache` at the end of INIT (ESM imports of
 * these CommonJS packages land there without passing `Module._load`). Loading stays lazy: nothing is
 * required here, only what the function loaded itself is patched. Not hooked: a driver first
 * `import()`ed by ESM code after INIT (it is patched at the next end-of-INIT scan only), pg-native.
 */
import Module from 'node:module';
import { inspectSink, type SinkKind } from '../sink-inspector.js';

const { apply, defineProperty, getOwnPropertyDescriptor, getPrototypeOf } = Reflect;
const { keys: objectKeys } = Object;
const PromiseIntrinsic = Promise;
const promiseReject = Promise.reject.bind(Promise);
const queueMicrotaskIntrinsic = queueMicrotask;
const HOOKED = Symbol.for('ephemera.firewall.sql-hooked');

interface ModuleStatics {
  _load: (this: unknown, request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports?: unknown } | undefined>;
}
const ModuleClass = Module as unknown as ModuleStatics;

export interface SqlHookReport {
  readonly hooked: string[];
}

const report: SqlHookReport = { hooked: [] };
let loadWrapped = false;
let cacheSize = -1;

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** The statement text of a `query(text | {text|sql}, …)` call. */
function statementOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg !== null && typeof arg === 'object') {
    const text = (arg as { text?: unknown; sql?: unknown }).text ?? (arg as { sql?: unknown }).sql;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

/** The object on `start`'s prototype chain that owns `method` (mysql2 defines it on a base class). */
function ownerOf(start: object, method: string): object | undefined {
  let o: object | null = start;
  for (let i = 0; o !== null && i < 8; i++) {
    if (getOwnPropertyDescriptor(o, method) !== undefined) return o;
    o = getPrototypeOf(o) as object | null;
  }
  return undefined;
}

function wrapQuery(start: object, method: string, sink: string, style: 'pg' | 'mysql2'): boolean {
  const proto = ownerOf(start, method);
  if (proto === undefined || proto === Object.prototype) return false;
  const desc = getOwnPropertyDescriptor(proto, method);
  const original = desc?.value as Fn | undefined;
  if (typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[HOOKED] === true)
    return false;
  const kind: SinkKind = 'sql';
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const text = statementOf(args[0]);
    const refusal = text === undefined ? undefined : inspectSink(kind, text, { sink });
    if (refusal === undefined) return apply(original, this, args);
    let callback: unknown;
    for (let i = args.length - 1; i >= 1; i--) {
      if (typeof args[i] === 'function') {
        callback = args[i];
        break;
      }
    }
    if (callback === undefined && args[0] !== null && typeof args[0] === 'object') {
      // pg's query config `{ text, callback }`; mysql2's prepared Query command `{ sql, onResult }`.
      const holder = args[0] as { callback?: unknown; onResult?: unknown };
      const cb = holder.callback ?? holder.onResult;
      if (typeof cb === 'function') {
        const command = args[0];
        queueMicrotaskIntrinsic(() => apply(cb as Fn, command, [refusal]));
        return command;
      }
    }
    if (typeof callback === 'function') {
      const cb = callback as Fn;
      queueMicrotaskIntrinsic(() => apply(cb, undefined, [refusal]));
      return undefined;
    }
    if (style === 'pg') return promiseReject(refusal);
    // mysql2 callback API without a callback: the Query emitter's 'error' would be the channel, but
    // nobody listens; throwing synchronously is the only way the caller learns of it.
    throw refusal;
  };
  defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  defineProperty(wrapper, HOOKED, { value: true });
  defineProperty(proto, method, { ...desc, value: wrapper });
  return true;
}

/** Patch a loaded driver's exports (idempotent). */
function patchExports(name: string, exports: unknown): void {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return;
  const e = exports as Record<string, unknown>;
  try {
    if (name === 'pg') {
      const client = e.Client as { prototype?: object } | undefined;
      if (client?.prototype && wrapQuery(client.prototype, 'query', 'pg.Client.query', 'pg'))
        report.hooked.push('pg.Client.query');
    } else {
      // mysql2 and mysql2/promise: the callback Connection class carries query/execute.
      const conn = (e.Connection ?? e.PoolConnection) as { prototype?: object } | undefined;
      const proto = conn?.prototype;
      if (proto) {
        for (const method of ['query', 'execute']) {
          if (wrapQuery(proto, method, `mysql2.Connection.${method}`, 'mysql2'))
            report.hooked.push(`mysql2.Connection.${method}`);
        }
      }
    }
  } catch {
    // a frozen or exotic export: left unhooked (describe() shows what is hooked)
  }
}

/** Which driver a resolved module file is the entry point of, if any. */
function driverOfFile(file: string): 'pg' | 'mysql2' | undefined {
  const pg = file.lastIndexOf('/node_modules/pg/lib/index.js');
  if (pg >= 0 && pg + '/node_modules/pg/lib/index.js'.length === file.length) return 'pg';
  if (file.endsWith('/node_modules/mysql2/index.js') || file.endsWith('/node_modules/mysql2/promise.js'))
    return 'mysql2';
  // mysql2's Connection class lives here; patching it covers both entry points.
  if (
    file.endsWith('/node_modules/mysql2/lib/connection.js') ||
    file.endsWith('/node_modules/mysql2/lib/base/connection.js')
  )
    return 'mysql2';
  return undefined;
}

/** Look through `require.cache` for drivers loaded since the last scan. */
export function scanLoadedDrivers(): void {
  const cache = ModuleClass._cache;
  const files = objectKeys(cache);
  if (files.length === cacheSize) return;
  cacheSize = files.length;
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as string;
    const driver = driverOfFile(file);
    if (driver === undefined) continue;
    const exports = cache[file]?.exports;
    if (driver === 'mysql2' && typeof exports === 'function') {
      // lib/connection.js exports the class itself
      patchExports('mysql2', { Connection: exports });
    } else {
      patchExports(driver, exports);
    }
  }
}

/** Install the hooks: patch loaded drivers now and every later `require` of one. */
export function installSqlHooks(): SqlHookReport {
  scanLoadedDrivers();
  if (!loadWrapped) {
    loadWrapped = true;
    const originalLoad = ModuleClass._load;
    const wrappedLoad = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
      const exports = apply(originalLoad, this, [request, parent, isMain]);
      if (request === 'pg' || request === 'mysql2' || request === 'mysql2/promise') {
        patchExports(request === 'pg' ? 'pg' : 'mysql2', exports);
        // mysql2/promise wraps the callback Connection: make sure that class is patched too.
        if (request !== 'pg') scanLoadedDrivers();
      }
      return exports;
    };
    ModuleClass._load = wrappedLoad;
  }
  return report;
}

/** For describe(): what is hooked so far. */
export function sqlHookReport(): SqlHookReport {
  return report;
}

void PromiseIntrinsic;
