/**
 * The internals control: the ways out of JavaScript's reach that an implant uses after INIT.
 *
 * Threat. An inspector session can read every closure and rewrite any function, the guard's hooks
 * included; a `Worker` from a string runs code in a fresh isolate whose built-ins were never hooked;
 * a native addon is machine code; `process.binding` hands out Node's raw bindings (fs, spawn_sync,
 * tcp_wrap) under every hook. Functions use these during INIT (native drivers such as better-sqlite3,
 * an APM agent's inspector), almost never while serving.
 *
 * Contract. INIT is free. After INIT:
 * - `inspector.open()`, `inspector.Session.prototype.connect()` and `connectToMainThread()`
 *   (`inspector/promises` sessions inherit them);
 * - `new Worker(code, { eval: true })` — whatever the code (the codegen control judges the code
 *   itself, only for event input; this refuses the eval worker regardless);
 * - `process.dlopen()` and `Module._extensions['.node']` (a native addon loaded after INIT);
 * - `process.binding()` and `process._linkedBinding()`;
 * are refused in `block` (thrown synchronously, code EPHEMERA_ERR_INTERNALS_BLOCKED) and reported in
 * `alert` (once per invocation and target). Nothing is hooked with `off`.
 *
 * Not covered: references taken before install (a module that saved `process.binding` at INIT);
 * `internalBinding` (unreachable without --expose-internals); addons already loaded at INIT.
 */
import Module from 'node:module';
import workerThreads from 'node:worker_threads';
import {
  checkSinkAction,
  ReportBudget,
  SinkBlockedError,
  type SinkLifecycle,
  sinkLifecycle,
} from './refusal.js';
import { type AnyFunction, mimic, replaceProperty } from './wrap.js';

const { apply, construct, defineProperty, setPrototypeOf } = Reflect;
const { freeze } = Object;
const syncBuiltinESMExports = Module.syncBuiltinESMExports;

/** What was about to be reached. */
export type InternalsSink =
  | 'inspector.open'
  | 'inspector.Session.connect'
  | 'inspector.Session.connectToMainThread'
  | 'Worker.eval'
  | 'process.dlopen'
  | "Module._extensions['.node']"
  | 'process.binding'
  | 'process._linkedBinding';

export interface InternalsDecision {
  readonly action: 'block' | 'alert';
  readonly sink: InternalsSink;
  /** The binding's name or the addon's path, when there is one. */
  readonly target: string | null;
}

export interface InternalsControlOptions {
  readonly action: 'block' | 'alert';
  readonly onDecision?: (decision: InternalsDecision) => void;
}

/** install (hooks, once per process; the last installed control is the one they consult), endOfInit, beginInvocation. */
export type InternalsControl = SinkLifecycle;

interface State {
  readonly action: 'block' | 'alert';
  readonly onDecision: ((decision: InternalsDecision) => void) | undefined;
  readonly budget: ReportBudget;
  afterInit: boolean;
}

let current: State | undefined;

/**
 * Creates the control.
 *
 * @example createInternalsControl({ action: 'block' }).install();
 */
export function createInternalsControl(options: InternalsControlOptions): InternalsControl {
  checkSinkAction('internals', options.action);
  const state: State = {
    action: options.action,
    onDecision: options.onDecision,
    budget: new ReportBudget(),
    afterInit: false,
  };
  return sinkLifecycle(state, installHooks, (s) => {
    current = s;
  });
}

/** Throws the refusal after INIT in `block`; reports in both actions. */
function check(sink: InternalsSink, target: string | null): void {
  const state = current;
  if (state === undefined || !state.afterInit) return;
  if (state.onDecision !== undefined && state.budget.take(`${sink}\u0000${target ?? ''}`)) {
    try {
      state.onDecision({ action: state.action, sink, target });
    } catch {
      // Reporting must never change what the call does.
    }
  }
  if (state.action === 'block') {
    throw new SinkBlockedError(
      'EPHEMERA_ERR_INTERNALS_BLOCKED',
      sink,
      'refused after INIT (internals)',
      target ?? undefined,
    );
  }
}

function targetText(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 256 ? `${value.slice(0, 256)}…` : value;
  return null;
}

let installed: { hooked: readonly string[]; unavailable: readonly string[] } | undefined;

function installHooks(): { hooked: readonly string[]; unavailable: readonly string[] } {
  if (installed !== undefined) return installed;
  const hooked: string[] = [];
  const unavailable: string[] = [];
  const attempt = (sink: InternalsSink, run: () => void) => {
    try {
      run();
      hooked.push(sink);
    } catch (error) {
      unavailable.push(`${sink}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const guardMethod = (
    target: object,
    key: string,
    sink: InternalsSink,
    targetOf: (args: unknown[]) => string | null,
  ) => {
    const original = (target as Record<string, unknown>)[key];
    if (typeof original !== 'function') throw new Error(`${key} is not a function here`);
    const wrapper = {
      [key](this: unknown, ...args: unknown[]): unknown {
        check(sink, targetOf(args));
        return apply(original as AnyFunction, this, args);
      },
    }[key] as AnyFunction;
    replaceProperty(target, key, mimic(wrapper, original as AnyFunction));
  };
  const none = () => null;
  // Required here, not imported: a Node built without the inspector throws on require.
  let inspector: typeof import('node:inspector') | undefined;
  attempt('inspector.open', () => {
    inspector = require('node:inspector') as typeof import('node:inspector');
    guardMethod(inspector, 'open', 'inspector.open', none);
  });
  if (inspector !== undefined) {
    const sessionPrototype = inspector.Session.prototype as unknown as object;
    attempt('inspector.Session.connect', () =>
      guardMethod(sessionPrototype, 'connect', 'inspector.Session.connect', none),
    );
    attempt('inspector.Session.connectToMainThread', () =>
      guardMethod(sessionPrototype, 'connectToMainThread', 'inspector.Session.connectToMainThread', none),
    );
  }
  attempt('Worker.eval', () => {
    const exports = workerThreads as unknown as Record<string, unknown>;
    const original = exports.Worker as AnyFunction;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      if (new.target === undefined) return apply(original, this, args); // the original throws
      const options = args[1];
      if (typeof options === 'object' && options !== null && (options as { eval?: unknown }).eval) {
        check('Worker.eval', null);
      }
      return construct(original, args, new.target);
    };
    mimic(wrapper, original);
    const prototype = (original as unknown as { prototype: object }).prototype;
    defineProperty(wrapper, 'prototype', {
      value: prototype,
      writable: false,
      enumerable: false,
      configurable: false,
    });
    setPrototypeOf(wrapper, original); // statics (and `instanceof` through the shared prototype) hold
    replaceProperty(prototype, 'constructor', wrapper);
    replaceProperty(exports, 'Worker', wrapper);
  });
  attempt('process.dlopen', () =>
    guardMethod(process, 'dlopen', 'process.dlopen', (args) => targetText(args[1])),
  );
  attempt("Module._extensions['.node']", () => {
    const extensions = (Module as unknown as { _extensions: Record<string, unknown> })._extensions;
    guardMethod(extensions, '.node', "Module._extensions['.node']", (args) => targetText(args[1]));
  });
  attempt('process.binding', () =>
    guardMethod(process, 'binding', 'process.binding', (args) => targetText(args[0])),
  );
  attempt('process._linkedBinding', () =>
    guardMethod(process, '_linkedBinding', 'process._linkedBinding', (args) => targetText(args[0])),
  );
  try {
    syncBuiltinESMExports();
  } catch {
    // Nothing imported these modules as ESM yet.
  }
  installed = freeze({ hooked: freeze(hooked), unavailable: freeze(unavailable) });
  return installed;
}
