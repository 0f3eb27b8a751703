/**
 * The childProcess control: starting a program after INIT is refused (or reported) unless its
 * executable is in `childProcess.allow`.
 *
 * Threat. A shell is the implant's most general tool: `curl | sh`, a reverse shell, a second process
 * that outlives the handler's hooks and reads the environment. A Lambda function rarely starts
 * programs per request; the ones that do (ffmpeg, git, a bundled binary) can name them.
 *
 * Contract.
 * - INIT is free. After INIT every start is judged: the executable is resolved as the OS will
 *   (a name without a slash through the child's PATH; relative paths against the current directory;
 *   symlinks resolved) and must be one of `childProcess.allow` (absolute paths, compared exactly, or
 *   by their resolved path). A shell command (`exec`, `execSync`, `shell: true`) runs `/bin/sh`
 *   (or the `shell` named): allow that shell to allow shell commands.
 * - `block` refuses the start the way the API fails: `spawn`/`exec`/`execFile`/`fork` return a
 *   ChildProcess that emits 'error' on the next tick (the callback of `exec`/`execFile` receives the
 *   error), `spawnSync` returns `{ error }`, `execSync`/`execFileSync` throw. The error has code
 *   EPHEMERA_ERR_CHILD_PROCESS_BLOCKED, errno -1, `syscall` naming the API. Nothing is started.
 * - `alert` starts the program and reports it (once per invocation and executable).
 * - Every start (INIT included) asks the firewall whether event input changed the command's tokens:
 *   `inspectSink('shell', command)` for shell commands, `inspectSink('exec', file + ' ' + args)`
 *   otherwise; an Error there refuses the start the same way.
 *
 * Sinks hooked: `ChildProcess.prototype.spawn` — every asynchronous form (`spawn`, `exec`,
 * `execFile`, `fork`, and `new ChildProcess().spawn()`) reaches it with Node's normalised options —
 * and `spawnSync`, `execSync`, `execFileSync` (they reach the `spawn_sync` binding directly, so they
 * are wrapped one by one). Not hooked: `process.binding('spawn_sync')` and `process.binding('process_wrap')`
 * (the internals control refuses `process.binding` after INIT; Node's permission model, in exec-wrapper
 * mode, refuses child processes unless `--allow-child-process`), references taken before install.
 */
import childProcess from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { FUNCTION_CODE, packageFromStack, packageMatcher } from '../attribution.js';
import { inspectSink } from '../sink-inspector.js';
import { absolutePath, normaliseDirs, realPath } from './paths.js';
import {
  checkSinkAction,
  ReportBudget,
  SinkBlockedError,
  type SinkLifecycle,
  sinkLifecycle,
} from './refusal.js';
import { type AnyFunction, mimic, replaceProperty } from './wrap.js';

const { apply } = Reflect;
const { freeze } = Object;
const isArray = Array.isArray;
const arrayJoin = Array.prototype.join;
const arraySlice = Array.prototype.slice;
const stringIncludes = String.prototype.includes;
const stringSplit = String.prototype.split;
const stringStartsWith = String.prototype.startsWith;
const stringSlice = String.prototype.slice;
const emit = EventEmitter.prototype.emit;
const nextTick = process.nextTick;
const accessSync = fs.accessSync;
const X_OK = fs.constants.X_OK;
const joinPath = path.join;
const inspect = inspectSink;
const syncBuiltinESMExports = Module.syncBuiltinESMExports;

/** One refusal or alert, as reported to the guard. */
export interface ChildProcessDecision {
  readonly action: 'block' | 'alert';
  /** The API, e.g. `child_process.exec`. */
  readonly api: string;
  /** The executable as resolved (absolute when it could be resolved). */
  readonly executable: string;
  /** Whether it is a shell command. */
  readonly shell: boolean;
  readonly reason: string;
}

export interface ChildProcessControlOptions {
  readonly action: 'block' | 'alert';
  readonly allow: readonly string[];
  /** `childProcess.packages`: packages whose code may start processes; absent or `['*']`: every one. */
  readonly packages?: readonly string[];
  readonly onDecision?: (decision: ChildProcessDecision) => void;
}

/** install (hooks, once per process; the last installed control is the one they consult), endOfInit, beginInvocation. */
export type ChildProcessControl = SinkLifecycle;

interface State {
  readonly action: 'block' | 'alert';
  readonly allow: readonly string[];
  /** Undefined when every package may start processes (no stack is ever taken). */
  readonly packageAllowed: ((name: string) => boolean) | undefined;
  readonly onDecision: ((decision: ChildProcessDecision) => void) | undefined;
  readonly budget: ReportBudget;
  afterInit: boolean;
}

let current: State | undefined;
/** The outermost public API in progress (exec calls execFile calls spawn): it names the sink. */
let pendingApi: string | undefined;

/**
 * Creates the control.
 *
 * @example createChildProcessControl({ action: 'block', allow: ['/usr/bin/git'] }).install();
 */
export function createChildProcessControl(options: ChildProcessControlOptions): ChildProcessControl {
  checkSinkAction('childProcess', options.action);
  const state: State = {
    action: options.action,
    allow: normaliseDirs(options.allow),
    packageAllowed:
      options.packages === undefined || options.packages.includes('*')
        ? undefined
        : packageMatcher(options.packages),
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

/** What is about to start, in Node's normalised form. */
interface Start {
  readonly file: string;
  /** argv without argv[0]. */
  readonly args: readonly string[];
  /** The command a shell will parse, when this is `sh -c command`. */
  readonly shellCommand: string | undefined;
  readonly pathVariable: string | undefined;
}

/** Resolves the executable as execvp would: through PATH when the name has no slash. */
function resolveExecutable(file: string, pathVariable: string | undefined): string {
  if (apply(stringIncludes, file, ['/'])) return absolutePath(file);
  const dirs = apply(stringSplit, pathVariable ?? '', [':']) as string[];
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i] as string;
    if (dir === '') continue;
    const candidate = joinPath(absolutePath(dir), file);
    try {
      accessSync(candidate, X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return file;
}

function isAllowed(state: State, executable: string): boolean {
  if (state.allow.length === 0) return false;
  const real = executable[0] === '/' ? realPath(executable) : executable;
  for (let i = 0; i < state.allow.length; i++) {
    const entry = state.allow[i] as string;
    if (entry === executable || entry === real) return true;
  }
  return false;
}

function judge(api: string, start: Start): Error | undefined {
  const state = current;
  if (state === undefined) return undefined;
  const refused = packageRefusal(state, api, start);
  if (refused !== undefined) return refused;
  if (state.afterInit) {
    const executable = resolveExecutable(start.file, start.pathVariable);
    if (!isAllowed(state, executable)) {
      const reason =
        state.allow.length === 0
          ? 'childProcess.allow is empty'
          : 'the executable is not in childProcess.allow';
      report(state, {
        action: state.action,
        api,
        executable,
        shell: start.shellCommand !== undefined,
        reason,
      });
      if (state.action === 'block') {
        return new SinkBlockedError('EPHEMERA_ERR_CHILD_PROCESS_BLOCKED', api, reason, executable);
      }
    }
  }
  return start.shellCommand !== undefined
    ? inspect('shell', start.shellCommand, { sink: api })
    : inspect('exec', apply(arrayJoin, [start.file, ...start.args], [' ']) as string, { sink: api });
}

/**
 * `childProcess.packages`, judged at INIT too (a poisoned dependency spawns while it loads): the
 * stack is read only when the list is set and a process is about to start. The function's own code
 * and calls whose stack names no package are not judged here.
 */
function packageRefusal(state: State, api: string, start: Start): Error | undefined {
  const allowed = state.packageAllowed;
  if (allowed === undefined) return undefined;
  const pkg = packageFromStack();
  if (pkg === null || pkg === FUNCTION_CODE || allowed(pkg)) return undefined;
  const executable = resolveExecutable(start.file, start.pathVariable);
  const reason = `package ${pkg} is not in childProcess.packages`;
  report(state, { action: state.action, api, executable, shell: start.shellCommand !== undefined, reason });
  return state.action === 'block'
    ? new SinkBlockedError('EPHEMERA_ERR_CHILD_PROCESS_BLOCKED', api, reason, executable)
    : undefined;
}

function report(state: State, decision: ChildProcessDecision): void {
  if (state.onDecision === undefined) return;
  if (!state.budget.take(`${decision.api}\u0000${decision.executable}`)) return;
  try {
    state.onDecision(decision);
  } catch {
    // Reporting must never change what the call does.
  }
}

/** `sh -c command` (what `shell: true` becomes) is a shell command. */
function shellCommandOf(args: readonly string[]): string | undefined {
  return args.length >= 2 && args[0] === '-c' && typeof args[1] === 'string' ? args[1] : undefined;
}

function pathFromEnvPairs(envPairs: unknown): string | undefined {
  if (!isArray(envPairs)) return process.env.PATH;
  for (let i = envPairs.length - 1; i >= 0; i--) {
    const pair = envPairs[i];
    if (typeof pair === 'string' && apply(stringStartsWith, pair, ['PATH='])) {
      return apply(stringSlice, pair, [5]) as string;
    }
  }
  return undefined;
}

function stringsOf(value: unknown): string[] {
  const out: string[] = [];
  if (!isArray(value)) return out;
  for (let i = 0; i < value.length; i++) out[i] = `${value[i] as string}`;
  return out;
}

/** The start a sync API's arguments describe (Node normalises them the same way internally). */
function syncStart(api: string, args: readonly unknown[]): Start {
  if (api === 'child_process.execSync') {
    const options = args[1] as { shell?: unknown; env?: { PATH?: unknown } } | undefined;
    const shell = typeof options?.shell === 'string' ? options.shell : '/bin/sh';
    const command = `${args[0] as string}`;
    return { file: shell, args: ['-c', command], shellCommand: command, pathVariable: envPath(options) };
  }
  const file = `${args[0] as string}`;
  const list = isArray(args[1]) ? stringsOf(args[1]) : [];
  const options = (isArray(args[1]) ? args[2] : args[1]) as
    | { shell?: unknown; env?: { PATH?: unknown } }
    | undefined;
  if (options !== null && typeof options === 'object' && options.shell) {
    const command = apply(arrayJoin, [file, ...list], [' ']) as string;
    const shell = typeof options.shell === 'string' ? options.shell : '/bin/sh';
    return { file: shell, args: ['-c', command], shellCommand: command, pathVariable: envPath(options) };
  }
  return { file, args: list, shellCommand: undefined, pathVariable: envPath(options) };
}

function envPath(options: { env?: { PATH?: unknown } } | undefined | null): string | undefined {
  const fromOptions = options !== null && typeof options === 'object' ? options.env?.PATH : undefined;
  return typeof fromOptions === 'string' ? fromOptions : process.env.PATH;
}

// ---------------------------------------------------------------------------------------------------
// Installing
// ---------------------------------------------------------------------------------------------------

interface ChildProcessLike {
  _handle: { close(): void } | null;
  spawnfile?: string;
  spawnargs?: string[];
}

let installed: { hooked: readonly string[]; unavailable: readonly string[] } | undefined;

function installHooks(): { hooked: readonly string[]; unavailable: readonly string[] } {
  if (installed !== undefined) return installed;
  const hooked: string[] = [];
  const unavailable: string[] = [];
  const attempt = (name: string, run: () => void) => {
    try {
      run();
      hooked.push(name);
    } catch (error) {
      unavailable.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const exports = childProcess as unknown as Record<string, unknown>;
  const prototype = childProcess.ChildProcess.prototype as unknown as Record<string, unknown>;
  attempt('ChildProcess.prototype.spawn', () => {
    const original = prototype.spawn as AnyFunction;
    const wrapper = {
      spawn(
        this: ChildProcessLike,
        options: { file?: unknown; args?: unknown; envPairs?: unknown },
      ): unknown {
        if (options !== null && typeof options === 'object' && typeof options.file === 'string') {
          const argv = stringsOf(options.args);
          const args = apply(arraySlice, argv, [1]) as string[];
          const refusal = judge(pendingApi ?? 'ChildProcess.spawn', {
            file: options.file,
            args,
            shellCommand: shellCommandOf(args),
            pathVariable: pathFromEnvPairs(options.envPairs),
          });
          if (refusal !== undefined) return refuseAsync(this, options.file, argv, refusal);
        }
        return apply(original, this, [options]);
      },
    }.spawn;
    replaceProperty(prototype, 'spawn', mimic(wrapper, original));
  });
  for (const name of ['spawn', 'exec', 'execFile', 'fork'] as const) {
    attempt(`child_process.${name}`, () => {
      const original = exports[name] as AnyFunction;
      const api = `child_process.${name}`;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        const outer = pendingApi === undefined;
        if (outer) pendingApi = api;
        try {
          return apply(original, this, args);
        } finally {
          if (outer) pendingApi = undefined;
        }
      };
      replaceProperty(exports, name, mimic(wrapper, original));
    });
  }
  for (const name of ['spawnSync', 'execSync', 'execFileSync'] as const) {
    attempt(`child_process.${name}`, () => {
      const original = exports[name] as AnyFunction;
      const api = `child_process.${name}`;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        if (current !== undefined && args[0] !== undefined && args[0] !== null) {
          const refusal = judge(api, syncStart(api, args));
          if (refusal !== undefined) {
            if (name !== 'spawnSync') throw refusal;
            // spawnSync reports a failed start in its result, as it does for ENOENT.
            return {
              pid: 0,
              output: null,
              stdout: null,
              stderr: null,
              status: null,
              signal: null,
              error: refusal,
            };
          }
        }
        return apply(original, this, args);
      };
      replaceProperty(exports, name, mimic(wrapper, original));
    });
  }
  try {
    syncBuiltinESMExports();
  } catch {
    // Nothing imported node:child_process as ESM yet.
  }
  installed = freeze({ hooked: freeze(hooked), unavailable: freeze(unavailable) });
  return installed;
}

/**
 * Fails an asynchronous start as Node fails one whose executable is missing: no process, the handle
 * closed, 'error' emitted on the next tick (`exec`/`execFile` pass it to their callback).
 */
function refuseAsync(child: ChildProcessLike, file: string, argv: string[], error: Error): undefined {
  try {
    child._handle?.close();
  } catch {
    // Already closed.
  }
  child._handle = null;
  child.spawnfile = file;
  child.spawnargs = argv;
  nextTick(() => {
    apply(emit, child, ['error', error]);
  });
  return undefined;
}
