/**
 * Which package a piece of running code belongs to: the nearest `node_modules/<name>` (or
 * `node_modules/@scope/name`) directory of a file. Used by the init-time patch inventory (the file
 * being compiled when a watched surface changed) and by sink events (the first frame of the call
 * stack that is not Node's or the guard's, taken only when a sink decides — never on a hot path).
 *
 * The stack is read as structured call sites through a `prepareStackTrace` the guard installs for
 * the duration of one capture: a package may install its own `Error.prepareStackTrace` to rewrite
 * stack text (source-map-support does, an implant could to blame someone else); the guard's capture
 * does not go through it. What this does not see: a package's code running from a callback whose
 * stack no longer holds its frames (a timer set by it does hold them; a promise continuation or a
 * pooled connection made later by a client library may not) — then the answer is `null`, unknown.
 */
import { sep } from 'node:path';

/** The name sink events and the inventory use for code outside any `node_modules` directory. */
export const FUNCTION_CODE = 'function code';
/** The guard's own package, recognised by its installed location (this file's package root). */
export const GUARD_PACKAGE = '@ephemera/guard';

const NODE_MODULES = `${sep}node_modules${sep}`;
// The directory of the guard's compiled files (dist/), wherever it is installed (node_modules, a
// layer, the repo): the package root itself would also hold the guard's test fixtures.
const GUARD_DIST = `${__dirname}${sep}`;

interface CallSiteLike {
  getFileName(): string | null | undefined;
}
type ErrorStatics = {
  captureStackTrace(target: object, ctor?: unknown): void;
  prepareStackTrace?: unknown;
  stackTraceLimit: number;
};
// Captured at load (before the function's code in register mode): an implant may replace them later.
const ErrorIntrinsic = Error as unknown as ErrorStatics;
const captureStackTrace = ErrorIntrinsic.captureStackTrace;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const deleteProperty = Reflect.deleteProperty;
const lastIndexOf = Function.prototype.call.bind(String.prototype.lastIndexOf) as (
  s: string,
  search: string,
) => number;
const indexOf = Function.prototype.call.bind(String.prototype.indexOf) as (
  s: string,
  search: string,
  from?: number,
) => number;
const slice = Function.prototype.call.bind(String.prototype.slice) as (
  s: string,
  start: number,
  end?: number,
) => string;
const startsWith = Function.prototype.call.bind(String.prototype.startsWith) as (
  s: string,
  search: string,
) => boolean;

/** Frames a capture reads; deep enough for a client library's call chain. */
const STACK_FRAMES = 40;

/**
 * The package a file belongs to: `pg`, `@aws-sdk/client-dynamodb`, `@ephemera/guard`, or
 * `function code` for a file outside any `node_modules`.
 *
 * @example packageOfFile('/var/task/node_modules/@smithy/core/dist/index.js') // '@smithy/core'
 */
export function packageOfFile(file: string): string {
  if (startsWith(file, 'file://')) file = slice(file, 7);
  if (startsWith(file, GUARD_DIST)) return GUARD_PACKAGE;
  const at = lastIndexOf(file, NODE_MODULES);
  if (at === -1) return FUNCTION_CODE;
  const start = at + NODE_MODULES.length;
  let end = indexOf(file, sep, start);
  if (end === -1) return slice(file, start);
  if (file[start] === '@') {
    const second = indexOf(file, sep, end + 1);
    end = second === -1 ? file.length : second;
  }
  return slice(file, start, end);
}

/** Whether a frame's file is Node's own (built-in modules, the runtime's internals). */
function isNodeInternal(file: string): boolean {
  return startsWith(file, 'node:') || indexOf(file, sep) === -1;
}

/** The files on the current call stack, innermost first (guard-controlled capture). */
export function stackFiles(limit: number = STACK_FRAMES): string[] {
  const holder: { stack?: unknown } = {};
  const previousPrepare = getOwnPropertyDescriptor(ErrorIntrinsic, 'prepareStackTrace');
  const previousLimit = ErrorIntrinsic.stackTraceLimit;
  try {
    defineProperty(ErrorIntrinsic, 'prepareStackTrace', {
      value: (_e: unknown, sites: CallSiteLike[]) => sites,
      configurable: true,
      writable: true,
    });
    ErrorIntrinsic.stackTraceLimit = limit;
    captureStackTrace(holder, stackFiles);
    const sites = holder.stack as CallSiteLike[] | undefined;
    const files: string[] = [];
    if (sites === undefined || typeof sites !== 'object') return files;
    for (let i = 0; i < sites.length; i++) {
      const file = (sites[i] as CallSiteLike).getFileName();
      if (typeof file === 'string' && file !== '') files.push(file);
    }
    return files;
  } finally {
    ErrorIntrinsic.stackTraceLimit = previousLimit;
    if (previousPrepare === undefined) deleteProperty(ErrorIntrinsic, 'prepareStackTrace');
    else defineProperty(ErrorIntrinsic, 'prepareStackTrace', previousPrepare);
  }
}

/**
 * The package responsible for the call in progress: the innermost frame that is neither Node's nor
 * the guard's. `function code` when that frame is outside `node_modules`; `null` when no such frame
 * is on the stack (a callback from Node's internals: unknown, never guessed).
 *
 * @example packageFromStack() // 'evil-telemetry' inside a request that package started
 */
export function packageFromStack(): string | null {
  const files = stackFiles();
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as string;
    if (isNodeInternal(file)) continue;
    const name = packageOfFile(file);
    if (name === GUARD_PACKAGE) continue;
    return name;
  }
  return null;
}

/**
 * A matcher for package names and globs (`pg`, `@opentelemetry/*`, `*`): `*` matches any run of
 * characters within the name (`@scope/*` every package of the scope). Validated by the policy.
 *
 * @example packageMatcher(['@opentelemetry/*'])('@opentelemetry/api') // true
 */
export function packageMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    if (pattern.includes('*')) {
      const source = pattern.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*');
      globs.push(new RegExp(`^${source}$`));
    } else exact.add(pattern);
  }
  return (name) => {
    if (exact.has(name)) return true;
    for (const glob of globs) if (glob.test(name)) return true;
    return false;
  };
}
