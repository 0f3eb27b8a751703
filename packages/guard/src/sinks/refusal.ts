/**
 * What the fs, child-process and internals hooks share: the refusal error (errno-like, with a
 * stable code) and the report de-duplication that keeps a chatty function from flooding the log.
 */

const { defineProperty } = Reflect;
const ErrorIntrinsic = Error;
const nextTick = process.nextTick;
const create = Object.create as (proto: null) => Record<string, true>;
const promiseReject = Promise.reject.bind(Promise);

export type SinkErrorCode =
  | 'EPHEMERA_ERR_FS_BLOCKED'
  | 'EPHEMERA_ERR_CHILD_PROCESS_BLOCKED'
  | 'EPHEMERA_ERR_INTERNALS_BLOCKED';

/** libuv's EPERM: the refusal reads like the operating system's "operation not permitted". */
const UV_EPERM = -1;

/**
 * The error a refused call raises. Like Node's system errors it carries `code`, `errno`, `syscall`
 * and (for fs) `path`; its `name` is the code, as the guard's other errors, so Lambda reports it as
 * the errorType when the function lets it escape.
 */
export class SinkBlockedError extends ErrorIntrinsic {
  readonly code: SinkErrorCode;
  readonly errno = UV_EPERM;
  readonly syscall: string;
  readonly path?: string;
  readonly reason: string;
  constructor(code: SinkErrorCode, syscall: string, reason: string, target?: string) {
    super(
      `Ephemera refused ${syscall}${target === undefined ? '' : ` of ${JSON.stringify(target)}`}: ${reason} (${code})`,
    );
    defineProperty(this, 'name', { value: code, configurable: true, writable: true, enumerable: false });
    this.code = code;
    this.syscall = syscall;
    this.reason = reason;
    if (target !== undefined) this.path = target;
  }
}

/** How a hooked API reports failure. */
export type FailureForm = 'sync' | 'callback' | 'promise';

/**
 * Raise `error` the way the API fails: thrown (sync), passed to the last-argument callback on the
 * next tick (as libuv errors are), or as a rejected promise.
 */
export function fail(form: FailureForm, error: Error, args: readonly unknown[]): unknown {
  if (form === 'promise') return promiseReject(error);
  if (form === 'callback') {
    const callback = args[args.length - 1];
    if (typeof callback === 'function') {
      nextTick(callback as (e: Error) => void, error);
      return undefined;
    }
  }
  throw error;
}

/** Keeps each (kind, target) reported once per invocation, and at most `limit` reports per invocation. */
export class ReportBudget {
  // A null-prototype record, not a Set: an implant may replace Set.prototype.has later.
  #seen: Record<string, true> = create(null);
  #count = 0;
  readonly #limit: number;
  constructor(limit = 50) {
    this.#limit = limit;
  }
  /** True if this key should be reported now. */
  take(key: string): boolean {
    if (this.#seen[key] === true || this.#count >= this.#limit) return false;
    this.#seen[key] = true;
    this.#count += 1;
    return true;
  }
  reset(): void {
    this.#seen = create(null);
    this.#count = 0;
  }
}

/** What every sink control's state carries (fs, childProcess, internals). */
export interface SinkState {
  readonly action: 'block' | 'alert';
  readonly budget: ReportBudget;
  /** Set at the end of INIT: some rules apply only from then on. */
  afterInit: boolean;
}

/** The lifecycle every sink control exposes to the engine (see controls.ts `sinkControl`). */
export interface SinkLifecycle {
  install(): { readonly hooked: readonly string[]; readonly unavailable: readonly string[] };
  endOfInit(): void;
  beginInvocation(): void;
}

/**
 * Refuse an action other than block/alert (TypeError naming the control), as every sink control's
 * constructor does.
 */
export function checkSinkAction(control: string, action: unknown): void {
  if (action !== 'block' && action !== 'alert') {
    throw new TypeError(`${control} action is ${String(action)}; accepted: "block", "alert"`);
  }
}

/**
 * The shared lifecycle of a sink control: `install` puts the module's hooks in (once per process)
 * and makes `state` the one they judge with (`activate`); the end of INIT and each invocation start
 * the rules that apply after INIT and reset the per-invocation report budget.
 */
export function sinkLifecycle<S extends SinkState>(
  state: S,
  installHooks: () => ReturnType<SinkLifecycle['install']>,
  activate: (state: S) => void,
): SinkLifecycle {
  return Object.freeze({
    install() {
      const result = installHooks();
      activate(state);
      return result;
    },
    endOfInit() {
      state.afterInit = true;
    },
    beginInvocation() {
      state.afterInit = true;
      state.budget.reset();
    },
  });
}
