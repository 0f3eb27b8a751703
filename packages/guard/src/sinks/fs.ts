/**
 * The fs control: the file-system reads and writes an implant needs, refused (or reported) by
 * allow-list.
 *
 * Threat. Code injected into a warm function reads the credentials in `/proc/self/environ`, reads
 * the function's own code to find more to attack, writes a payload to disk to survive a crash
 * (a reset does not clear /tmp, but nothing else is writable on Lambda either), or rewrites the
 * process under every JavaScript hook through `/proc/self/mem`.
 *
 * Contract.
 * - Writes (write, append, create, truncate, mkdir, rename, copy destination, rm/unlink, chmod/chown,
 *   utimes, symlink/link creation, `open` with a write flag) are judged from the moment the hooks
 *   are installed (the guard's creation, during INIT) — Lambda's file system is read-only outside
 *   /tmp anyway, so a function that writes elsewhere already fails there. Allowed: under `fs.write`
 *   (default /tmp), never /proc/<pid>/{environ,mem}.
 * - Reads (readFile, `open` for reading, copy/link source) and directory listings (readdir, opendir)
 *   are judged after INIT only: INIT may read the deployment. Allowed: under `fs.read` (default /);
 *   never /proc/{self,thread-self,<pid>}[/task/<tid>]/{environ,mem}; and, unless `fs.readSource`, not
 *   the function's own code (LAMBDA_TASK_ROOT, /opt, the guard's layer directory) — except when the
 *   read comes straight from Node's module loader: lazy `require()` and `import()` of the function's
 *   own modules after INIT keep working (the loader reads sources through the same public `fs`
 *   functions; the hook tells it apart by the immediate caller's frame, `node:internal/modules/…`,
 *   captured with the guard's own stack formatter).
 * - Paths are judged as strings made absolute and normalised (relative to the current directory,
 *   `..` resolved; Buffer, Uint8Array and `file:` URL paths decoded) and again with their symlinks
 *   resolved, so a link in /tmp to /proc/self/environ or to the function's code is refused too.
 * - Metadata calls (stat, lstat, access, exists, realpath, readlink, watch) are not judged. Calls on
 *   file descriptors (read, write, fstat …) are out of scope: what was opened before the check
 *   cannot be judged by its path.
 * - A refusal fails the way the API fails: thrown by a sync call, passed to the callback on the next
 *   tick, a rejected promise, an 'error' event on a stream (streams open through `fs.open`). The
 *   error has code EPHEMERA_ERR_FS_BLOCKED, errno -1 (EPERM), `syscall` and `path`.
 * - `alert` runs the call and reports it; every refusal or alert is reported once per invocation,
 *   operation and path.
 * - Each hooked call also asks the firewall (`inspectSink('path', …)`) whether event input moved the
 *   path out of its directory; an Error there refuses the call the same way.
 *
 * Sinks hooked: `fs.<op>`, `fs.<op>Sync` and `fs.promises.<op>` for the operations in `FS_OPS`;
 * `createReadStream`/`createWriteStream` through `fs.open`; ESM named imports of node:fs see the hooks
 * (`syncBuiltinESMExports`). Not hooked: `process.binding('fs')` (the internals control refuses
 * `process.binding` after INIT; in exec-wrapper mode Node's permission model refuses it always),
 * references to fs functions taken before the guard installed its hooks, native code.
 */
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { inspectSink } from '../sink-inspector.js';
import { absolutePath, isProcSecret, isUnderAny, normaliseDirs, pathText, realPath } from './paths.js';
import {
  checkSinkAction,
  type FailureForm,
  fail,
  ReportBudget,
  SinkBlockedError,
  type SinkLifecycle,
  sinkLifecycle,
} from './refusal.js';
import { type AnyFunction, mimic, replaceProperty } from './wrap.js';

const { apply, defineProperty, deleteProperty, getOwnPropertyDescriptor } = Reflect;
const { freeze } = Object;
const isArray = Array.isArray;
const ErrorIntrinsic = Error as ErrorConstructor & {
  captureStackTrace(target: object, ctor?: unknown): void;
  prepareStackTrace?: unknown;
  stackTraceLimit: number;
};
const captureStackTrace = ErrorIntrinsic.captureStackTrace;
const stringStartsWith = String.prototype.startsWith;
const stringIncludes = String.prototype.includes;
const inspect = inspectSink;
const syncBuiltinESMExports = Module.syncBuiltinESMExports;
const fsConstants = fs.constants;
const joinPath = path.join;
const dirnameOf = path.dirname;
const basenameOf = path.basename;

/**
 * What an argument of an operation is to the file system. `open` reads the flags argument; `entry` is
 * a write to the directory entry itself (unlink, rename, symlink …), which does not follow a symlink
 * in its last component, so only its parent is resolved.
 */
type Access = 'read' | 'write' | 'entry' | 'list' | 'open';

interface FsOp {
  readonly name: string;
  /** Path arguments and what the operation does to each. */
  readonly paths: readonly (readonly [index: number, access: Access])[];
}

/** The operations judged, as data. Each has a callback, a `Sync` and a `promises` form where Node has one. */
export const FS_OPS: readonly FsOp[] = freeze([
  { name: 'readFile', paths: [[0, 'read']] },
  { name: 'open', paths: [[0, 'open']] },
  { name: 'readdir', paths: [[0, 'list']] },
  { name: 'opendir', paths: [[0, 'list']] },
  { name: 'writeFile', paths: [[0, 'write']] },
  { name: 'appendFile', paths: [[0, 'write']] },
  { name: 'truncate', paths: [[0, 'write']] },
  { name: 'mkdir', paths: [[0, 'entry']] },
  { name: 'mkdtemp', paths: [[0, 'entry']] },
  { name: 'rm', paths: [[0, 'entry']] },
  { name: 'rmdir', paths: [[0, 'entry']] },
  { name: 'unlink', paths: [[0, 'entry']] },
  {
    name: 'rename',
    paths: [
      [0, 'entry'],
      [1, 'entry'],
    ],
  },
  {
    name: 'copyFile',
    paths: [
      [0, 'read'],
      [1, 'write'],
    ],
  },
  {
    name: 'cp',
    paths: [
      [0, 'read'],
      [1, 'write'],
    ],
  },
  { name: 'symlink', paths: [[1, 'entry']] },
  // A hard link to a file is a second name for its content: its source must be readable.
  {
    name: 'link',
    paths: [
      [0, 'read'],
      [1, 'entry'],
    ],
  },
  { name: 'chmod', paths: [[0, 'write']] },
  { name: 'lchmod', paths: [[0, 'entry']] },
  { name: 'chown', paths: [[0, 'write']] },
  { name: 'lchown', paths: [[0, 'entry']] },
  { name: 'utimes', paths: [[0, 'write']] },
  { name: 'lutimes', paths: [[0, 'entry']] },
] as FsOp[]);

/** One refusal or alert, as reported to the guard. */
export interface FsDecision {
  readonly action: 'block' | 'alert';
  /** The hooked API, e.g. `fs.readFileSync`, `fs.promises.open`. */
  readonly op: string;
  /** The path judged (absolute; with symlinks resolved when that is what was refused). */
  readonly path: string;
  readonly access: 'read' | 'write' | 'list';
  readonly reason: string;
  readonly phase: 'init' | 'invocation';
}

export interface FsControlOptions {
  readonly action: 'block' | 'alert';
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly readSource: boolean;
  /** The function's own code; default LAMBDA_TASK_ROOT, /opt and EPHEMERA_LAYER_DIR. */
  readonly sourceRoots?: readonly string[];
  readonly onDecision?: (decision: FsDecision) => void;
}

/** install (hooks, once per process; the last installed control is the one they consult), endOfInit, beginInvocation. */
export type FsControl = SinkLifecycle;

interface FsState {
  readonly action: 'block' | 'alert';
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly readSource: boolean;
  readonly sourceRoots: readonly string[];
  readonly onDecision: ((decision: FsDecision) => void) | undefined;
  readonly budget: ReportBudget;
  afterInit: boolean;
}

let current: FsState | undefined;
/** How many hooked calls are running their original right now (synchronously). */
let depth = 0;

/** The function's own code, as Lambda lays it out (and as the lab maps it). */
function defaultSourceRoots(): string[] {
  const roots = ['/opt'];
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) roots.push(taskRoot);
  const layerDir = process.env.EPHEMERA_LAYER_DIR;
  if (layerDir) roots.push(layerDir);
  const withReal: string[] = [];
  for (const root of roots) {
    withReal.push(root);
    const real = realPath(absolutePath(root));
    if (real !== root) withReal.push(real);
  }
  return withReal;
}

/**
 * Creates the fs control.
 *
 * @example const control = createFsControl({ action: 'block', read: ['/'], write: ['/tmp'], readSource: false }); control.install();
 */
export function createFsControl(options: FsControlOptions): FsControl {
  checkSinkAction('fs', options.action);
  const state: FsState = {
    action: options.action,
    read: normaliseDirs(options.read),
    write: normaliseDirs(options.write),
    readSource: options.readSource,
    sourceRoots: normaliseDirs(options.sourceRoots ?? defaultSourceRoots()),
    onDecision: options.onDecision,
    budget: new ReportBudget(),
    afterInit: false,
  };
  return sinkLifecycle(state, installHooks, (s) => {
    current = s;
  });
}

// ---------------------------------------------------------------------------------------------------
// Judging
// ---------------------------------------------------------------------------------------------------

function writesWith(flags: unknown): boolean {
  if (typeof flags === 'string') {
    return (
      (apply(stringIncludes, flags, ['w']) as boolean) ||
      (apply(stringIncludes, flags, ['a']) as boolean) ||
      (apply(stringIncludes, flags, ['+']) as boolean)
    );
  }
  if (typeof flags === 'number') {
    const writeBits = fsConstants.O_WRONLY | fsConstants.O_RDWR;
    const changeBits = fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_APPEND;
    return (flags & writeBits) !== 0 || (flags & changeBits) !== 0;
  }
  return false; // default 'r'
}

/** Why `target` may not be written, or undefined. */
function writeRefusal(state: FsState, target: string): string | undefined {
  if (isProcSecret(target)) return "a process's environment or memory";
  if (!isUnderAny(target, state.write)) return 'outside fs.write';
  return undefined;
}

/** Why `target` may not be read (content) or listed, or undefined. */
function readRefusal(
  state: FsState,
  target: string,
  access: 'read' | 'list',
  hook: unknown,
): string | undefined {
  if (!isUnderAny(target, state.read)) return 'outside fs.read';
  if (access === 'list') return undefined;
  if (isProcSecret(target)) return "a process's environment or memory";
  if (!state.readSource && isUnderAny(target, state.sourceRoots) && !calledByModuleLoader(hook)) {
    return "the function's own code (fs.readSource is false)";
  }
  return undefined;
}

/** Judges one path argument; returns the reason to refuse and the path it applies to. */
function judgePath(
  state: FsState,
  absolute: string,
  access: 'read' | 'write' | 'entry' | 'list',
  hook: unknown,
): { reason: string; path: string } | undefined {
  const check = (p: string) =>
    access === 'write' || access === 'entry' ? writeRefusal(state, p) : readRefusal(state, p, access, hook);
  let reason = check(absolute);
  if (reason !== undefined) return { reason, path: absolute };
  // The string passed; a symlink on the way may still lead somewhere refused.
  const real =
    access === 'entry' ? joinPath(realPath(dirnameOf(absolute)), basenameOf(absolute)) : realPath(absolute);
  if (real === absolute) return undefined;
  reason = check(real);
  return reason === undefined ? undefined : { reason: `${reason} (through a symlink)`, path: real };
}

/** Judges a call; returns the error that refuses it, or undefined to let it run. */
function judgeCall(
  state: FsState,
  op: string,
  spec: FsOp,
  args: readonly unknown[],
  hook: unknown,
): Error | undefined {
  for (let i = 0; i < spec.paths.length; i++) {
    const [index, declared] = spec.paths[i] as readonly [number, Access];
    const text = pathText(args[index]);
    if (text === undefined) continue;
    const access = declared === 'open' ? (writesWith(args[1]) ? 'write' : 'read') : declared;
    if (access === 'write' || access === 'entry' || state.afterInit) {
      const refused = judgePath(state, absolutePath(text), access, hook);
      if (refused !== undefined) {
        const decision: FsDecision = {
          action: state.action,
          op,
          path: refused.path,
          access: access === 'entry' ? 'write' : access,
          reason: refused.reason,
          phase: state.afterInit ? 'invocation' : 'init',
        };
        report(state, decision);
        if (state.action === 'block') {
          return new SinkBlockedError('EPHEMERA_ERR_FS_BLOCKED', op, refused.reason, refused.path);
        }
      }
    }
    const firewall = inspect('path', text, { sink: op });
    if (firewall !== undefined) return firewall;
  }
  return undefined;
}

function report(state: FsState, decision: FsDecision): void {
  // A call fs makes inside a hooked call (Node 20's readFileSync opens through the public openSync)
  // is still judged, but only the outer call is reported.
  if (state.onDecision === undefined || depth > 0) return;
  if (!state.budget.take(`${decision.op}\u0000${decision.path}`)) return;
  try {
    state.onDecision(decision);
  } catch {
    // Reporting must never change what the call does.
  }
}

// ---------------------------------------------------------------------------------------------------
// Who is reading: Node's module loader, or anyone else
// ---------------------------------------------------------------------------------------------------

interface CallSiteLike {
  getFileName(): string | null | undefined;
}
// A call site's getFileName, captured from a real stack now: an implant reaching a CallSite later
// through its own Error.prepareStackTrace could replace the prototype's method.
const getFileName = ((): ((this: CallSiteLike) => string | null | undefined) | undefined => {
  const holder: { stack?: unknown } = {};
  const previous = getOwnPropertyDescriptor(ErrorIntrinsic, 'prepareStackTrace');
  try {
    defineProperty(ErrorIntrinsic, 'prepareStackTrace', {
      value: (_: unknown, sites: CallSiteLike[]) => sites,
      configurable: true,
      writable: true,
    });
    captureStackTrace(holder);
    const sites = holder.stack as CallSiteLike[] | undefined;
    const site = sites?.[0];
    return site === undefined ? undefined : (Object.getPrototypeOf(site) as CallSiteLike).getFileName;
  } catch {
    return undefined;
  } finally {
    if (previous === undefined) deleteProperty(ErrorIntrinsic, 'prepareStackTrace');
    else defineProperty(ErrorIntrinsic, 'prepareStackTrace', previous);
  }
})();

const LOADER_PREFIXES = ['node:internal/modules/', 'node:internal/source_map/'] as const;
/** Frames of fs itself (Node 24's readFileSync calls the public openSync) and of these hooks. */
const FS_FRAME_PREFIXES = ['node:fs', 'node:internal/fs/'] as const;
const OWN_FILE = __filename;
const LOADER_STACK_DEPTH = 8;

function startsWithAny(text: string, prefixes: readonly string[]): boolean {
  for (let i = 0; i < prefixes.length; i++) if (apply(stringStartsWith, text, [prefixes[i]])) return true;
  return false;
}

/**
 * Whether the first frame below `hook` that is not fs itself (nor this file) is Node's module loader.
 * The stack is formatted by the guard's own function (installed for the capture, then the previous
 * one put back), so a replaced `Error.prepareStackTrace` cannot forge it; if it cannot be installed,
 * the answer is no (refuse). A user function called back synchronously by fs (`cpSync`'s `filter`)
 * is the first non-fs frame, so it does not inherit the loader's allowance.
 */
function calledByModuleLoader(hook: unknown): boolean {
  if (getFileName === undefined) return false;
  const previous = getOwnPropertyDescriptor(ErrorIntrinsic, 'prepareStackTrace');
  const previousLimit = ErrorIntrinsic.stackTraceLimit;
  let files: unknown;
  try {
    if (previous !== undefined && !previous.configurable) return false;
    defineProperty(ErrorIntrinsic, 'prepareStackTrace', {
      value: (_: unknown, sites: CallSiteLike[]) => {
        const names: unknown[] = [];
        for (let i = 0; i < sites.length; i++) names[i] = apply(getFileName, sites[i], []);
        return names;
      },
      configurable: true,
      writable: true,
    });
    ErrorIntrinsic.stackTraceLimit = LOADER_STACK_DEPTH;
    const holder: { stack?: unknown } = {};
    captureStackTrace(holder, hook);
    files = holder.stack;
  } catch {
    return false;
  } finally {
    try {
      ErrorIntrinsic.stackTraceLimit = previousLimit;
      if (previous === undefined) deleteProperty(ErrorIntrinsic, 'prepareStackTrace');
      else defineProperty(ErrorIntrinsic, 'prepareStackTrace', previous);
    } catch {
      // Put back what can be put back.
    }
  }
  if (!isArray(files)) return false;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    if (typeof file !== 'string') return false;
    if (file === OWN_FILE || startsWithAny(file, FS_FRAME_PREFIXES)) continue;
    return startsWithAny(file, LOADER_PREFIXES);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Installing
// ---------------------------------------------------------------------------------------------------

let installed: { hooked: readonly string[]; unavailable: readonly string[] } | undefined;

function installHooks(): { hooked: readonly string[]; unavailable: readonly string[] } {
  if (installed !== undefined) return installed;
  const hooked: string[] = [];
  const unavailable: string[] = [];
  const fsExports = fs as unknown as Record<string, unknown>;
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const spec of FS_OPS) {
    const forms: [Record<string, unknown>, string, string, FailureForm][] = [
      [fsExports, spec.name, `fs.${spec.name}`, 'callback'],
      [fsExports, `${spec.name}Sync`, `fs.${spec.name}Sync`, 'sync'],
      [promises, spec.name, `fs.promises.${spec.name}`, 'promise'],
    ];
    for (const [target, key, op, form] of forms) {
      const original = target[key];
      if (typeof original !== 'function') continue; // lchmod exists on macOS only
      try {
        replaceProperty(target, key, wrap(original as AnyFunction, op, spec, form));
        hooked.push(op);
      } catch (error) {
        unavailable.push(`${op}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  try {
    syncBuiltinESMExports(); // `import { readFileSync } from 'node:fs'` now sees the hooks
  } catch {
    // Nothing imported node:fs as ESM yet.
  }
  installed = freeze({ hooked: freeze(hooked), unavailable: freeze(unavailable) });
  return installed;
}

function wrap(original: AnyFunction, op: string, spec: FsOp, form: FailureForm): AnyFunction {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const state = current;
    if (state !== undefined) {
      const refusal = judgeCall(state, op, spec, args, wrapper);
      if (refusal !== undefined) return fail(form, refusal, args);
    }
    depth++;
    try {
      return apply(original, this, args);
    } finally {
      depth--;
    }
  };
  return mimic(wrapper, original);
}
