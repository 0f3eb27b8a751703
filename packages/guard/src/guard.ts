import type { GuardControl, GuardServices } from './control.js';
import { GuardError } from './errors.js';
import { sourceIpOf } from './event-source.js';
import type { InvokeVerdict } from './firewall/verdict.js';
import { environmentId } from './ids.js';
import { intrinsics } from './intrinsics.js';
import { cleanTmp, LifecycleLimits, type RecycleReason, snapshotTmp } from './lifecycle.js';
import { type Policy, resolvePolicy, summarisePolicy, unimplementedControls } from './policy.js';
import { installRuntimeHook, type RuntimeHook } from './runtime-hook.js';
import { Telemetry } from './telemetry.js';

/** How the guard was installed; reported in the init event. */
export type InstallMode = 'protect' | 'middy' | 'register' | 'layer';

/** The Lambda context fields the guard reads (declared structurally: no aws-lambda dependency). */
export interface LambdaContextLike {
  awsRequestId?: string;
  functionName?: string;
}

/** One invocation as the guard tracks it. */
export interface InvocationRecord {
  readonly requestId: string | null;
  readonly number: number;
  readonly startedAt: number;
  /** The client address the event names (API Gateway, function URL, ALB), if any. */
  readonly sourceIp: string | null;
}

/** Longest the guard waits for its telemetry before a recycle ends the process. */
const RECYCLE_DRAIN_MS = 500;

let shared: Guard | undefined;
let controlFactory: ((policy: Readonly<Policy>) => GuardControl[]) | undefined;

/** Register the function that builds the policy's controls (index.ts does, so the engine stays small). */
export function setControlFactory(factory: (policy: Readonly<Policy>) => GuardControl[]): void {
  controlFactory = factory;
}

/**
 * The engine. One per process, created when the handler is wrapped (protect, Middy) or before the
 * handler module loads (register, exec wrapper: `early`), with a lifecycle that mirrors Lambda's:
 * init → handler loaded (init event) → end of INIT (baselines) → beforeInvoke → handler → afterInvoke → (after the
 * response is delivered) afterResponse checks → recycle. Every adapter — protect(), the Middy
 * middleware, register and the exec wrapper — only translates to these calls.
 *
 * State lives in private (#) fields: code running in the function (an implant) can reach the guard
 * object through the module cache, but cannot read or reset its counters, its pending recycle or
 * its controls.
 */
export class Guard {
  readonly policy: Readonly<Policy>;
  readonly envId: string;
  readonly startedAt: number;
  readonly installMode: InstallMode;
  readonly runtimeHook: RuntimeHook;
  readonly #telemetry: Telemetry;
  readonly #limits: LifecycleLimits;
  readonly #tmpDir: string;
  readonly #tmpBaseline: ReadonlySet<string>;
  readonly #controls: readonly GuardControl[];
  #invocations = 0;
  #current: InvocationRecord | undefined;
  #pendingRecycle: RecycleReason | undefined;
  #initDone = false;
  #loaded = false;
  /** A control's refusal of an invocation, taken once by the adapter (see `verdict`). */
  readonly #verdicts = new WeakMap<InvocationRecord, InvokeVerdict>();

  /** The process's guard, created on first use with `policy` (validated, then frozen). */
  static shared(policy: unknown, mode: InstallMode): Guard {
    if (shared) {
      if (policy !== undefined && shared.installMode !== mode) {
        shared.emitError(
          new Error(`a second guard install (${mode}) reused the ${shared.installMode} guard and its policy`),
        );
      }
      shared.loaded();
      return shared;
    }
    shared = new Guard(resolvePolicy(policy), mode);
    shared.loaded();
    return shared;
  }

  /**
   * Create the process's guard before the function's handler module loads (register and exec-wrapper
   * modes: the shim calls it first): its hooks are in place while dependencies load. `shared()`,
   * called when the handler is wrapped, then finishes INIT's inventory and emits the init event.
   */
  static early(mode: InstallMode): Guard {
    if (!shared) shared = new Guard(resolvePolicy(undefined), mode);
    return shared;
  }

  constructor(policy: Readonly<Policy>, mode: InstallMode) {
    this.policy = policy;
    this.installMode = mode;
    this.startedAt = intrinsics.dateNow();
    this.envId = environmentId();
    this.#telemetry = new Telemetry(policy.telemetry, {
      function: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
      env: this.envId,
    });
    this.#limits = new LifecycleLimits(policy.lifecycle);
    this.#tmpDir = intrinsics.tmpdir();
    this.#tmpBaseline = snapshotTmp(this.#tmpDir);
    // The hook goes in before the controls' INIT work: the integrity baseline must include it, so
    // that an implant restoring the runtime client's original `next()` (to dodge recycling) drifts.
    this.runtimeHook = installRuntimeHook(() => this.#beforeNext());
    this.#controls = controlFactory ? controlFactory(policy) : [];
    const services = this.#services();
    for (const control of this.#controls) this.#safely(control, () => control.init?.(services));
  }

  /**
   * The handler module has loaded: the controls finish what needed the function's code in place
   * (the init-time patch inventory ends here) and the `init` event is emitted. Idempotent. The
   * adapters call it when they wrap the handler; in register/exec-wrapper modes the guard is created
   * before the handler loads (so its sink hooks judge what dependencies do while they load) and this
   * runs when the shim wraps the loaded handler. A control may throw EPHEMERA_ERR_INIT_PATCH here
   * (initPatches in `block`), which fails INIT.
   */
  loaded(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    for (const control of this.#controls) {
      if (control.handlerLoaded) this.#safely(control, () => control.handlerLoaded?.());
    }
    const policy = this.policy;
    this.#telemetry.emit({
      type: 'init',
      invocation: 0,
      ageMs: this.ageMs(),
      detail: {
        installMode: this.installMode,
        policy: summarisePolicy(policy),
        controls: this.#controls.map((c) => c.name),
        controlInfo: this.#describeControls(),
        unimplemented: unimplementedControls(policy),
        recycle: this.runtimeHook.installed ? 'clean' : `unavailable: ${this.runtimeHook.reason}`,
        ageLimitMs: this.#limits.ageLimitMs,
        node: process.version,
        initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE ?? null,
      },
    });
  }

  /** Milliseconds since the guard initialised (the environment's age as the guard sees it). */
  ageMs(): number {
    return intrinsics.dateNow() - this.startedAt;
  }

  /** Called before the handler runs. Cheap: a counter, a small record, the controls' hooks. */
  beforeInvoke(context: LambdaContextLike | undefined, event?: unknown): InvocationRecord {
    // Without the runtime hook there is no "first /next" to mark the end of INIT: the first
    // invocation does, before the handler runs.
    if (!this.#initDone) this.#endOfInit();
    this.#invocations += 1;
    const record: InvocationRecord = {
      requestId: typeof context?.awsRequestId === 'string' ? context.awsRequestId : null,
      number: this.#invocations,
      startedAt: intrinsics.dateNow(),
      sourceIp: sourceIpOf(event),
    };
    this.#current = record;
    this.#telemetry.count('Invocations');
    if (this.policy.telemetry.invocations) {
      this.#report({
        type: 'invocation',
        control: 'telemetry',
        detail: { sourceIp: record.sourceIp, bytes: bodyBytes(event) },
      });
    }
    let verdict: InvokeVerdict | undefined;
    for (const control of this.#controls) {
      if (!control.beforeInvoke) continue;
      this.#safely(control, () => {
        const v = control.beforeInvoke?.(record, event);
        // The first refusal wins; the other controls still see the invocation start (their
        // afterInvoke runs as for any invocation).
        if (v && v.block === true && verdict === undefined) verdict = v;
      });
    }
    if (verdict !== undefined) this.#verdicts.set(record, verdict);
    return record;
  }

  /**
   * The refusal a control returned from `beforeInvoke` for this invocation, if any: the adapter
   * returns its `response` (HTTP events: a 403) or throws its `error` instead of calling the handler.
   */
  verdict(record: InvocationRecord): InvokeVerdict | undefined {
    return this.#verdicts.get(record);
  }

  /** Called after the handler settled (either way); decides whether to recycle. */
  afterInvoke(record: InvocationRecord): void {
    for (const control of this.#controls) {
      if (control.afterInvoke) this.#safely(control, () => control.afterInvoke?.(record));
    }
    const reason = this.#limits.check(this.ageMs(), record.number);
    if (reason) this.recycle(reason);
  }

  /**
   * Ask for this environment to be recycled after the current response has been delivered.
   * The first reason wins; the request in flight is never failed or delayed.
   */
  recycle(reason: RecycleReason): void {
    if (this.#pendingRecycle !== undefined) return;
    this.#pendingRecycle = reason;
    if (!this.runtimeHook.installed) {
      // Reported once per environment: the guard cannot end the process without risking a request.
      this.#report({
        type: 'error',
        control: 'lifecycle',
        action: 'recycle-unavailable',
        detail: { reason, why: this.runtimeHook.reason },
      });
    }
  }

  /** Report the guard's own fault as an event (never throws). */
  emitError(error: unknown, requestId: string | null = this.#current?.requestId ?? null): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.#report({
      type: 'error',
      requestId,
      control: 'guard',
      detail: { name: err.name, message: err.message, code: (err as { code?: unknown }).code ?? null },
    });
  }

  #describeControls(): Record<string, unknown> {
    const info: Record<string, unknown> = {};
    for (const control of this.#controls) {
      if (control.describe)
        this.#safely(control, () => {
          info[control.name] = control.describe?.();
        });
    }
    return info;
  }

  /** INIT is over: the controls take their baselines (once). */
  #endOfInit(): void {
    if (this.#initDone) return;
    this.#initDone = true;
    this.loaded();
    for (const control of this.#controls) {
      if (control.endOfInit) this.#safely(control, () => control.endOfInit?.());
    }
  }

  #services(): GuardServices {
    return intrinsics.freeze({
      report: (event: Parameters<GuardServices['report']>[0]) => this.#report(event),
      recycle: (reason: RecycleReason) => this.recycle(reason),
      current: () => this.#current,
    });
  }

  #report(event: Parameters<GuardServices['report']>[0]): void {
    this.#telemetry.emit({
      ...event,
      requestId: event.requestId === undefined ? (this.#current?.requestId ?? null) : event.requestId,
      invocation: this.#invocations,
      ageMs: this.ageMs(),
    });
  }

  /** Run a control's hook; a throwing control is a guard fault, never the handler's problem. */
  #safely(control: GuardControl, run: () => void): void {
    try {
      run();
    } catch (error) {
      // The one error a control may throw on purpose: integrity.initPatches "block" refusing to start
      // the function (controls.ts initPatchesControl). It must fail INIT, not become a guard fault.
      if (error instanceof GuardError && error.code === 'EPHEMERA_ERR_INIT_PATCH') throw error;
      this.emitError(
        new GuardError('EPHEMERA_ERR_GUARD_FAULT', `control ${control.name} failed`, { cause: error }),
      );
    }
  }

  /** The runtime is about to ask for work: the response of the last invocation was delivered. */
  #beforeNext(): (() => Promise<void>) | undefined {
    // The first call is the runtime finishing INIT: there is no response yet, only baselines to take.
    if (!this.#initDone) {
      this.#endOfInit();
      this.#telemetry.afterResponse();
      return undefined;
    }
    this.#telemetry.afterResponse();
    for (const control of this.#controls) {
      if (!control.afterResponse) continue;
      let reason: RecycleReason | undefined;
      this.#safely(control, () => {
        reason = control.afterResponse?.(this.#current);
      });
      if (reason !== undefined) this.recycle(reason);
    }
    if (this.#pendingRecycle === undefined || !this.runtimeHook.installed) return undefined;
    const reason = this.#pendingRecycle;
    return async () => {
      const removed = this.policy.lifecycle.cleanTmp ? cleanTmp(this.#tmpDir, this.#tmpBaseline) : [];
      this.#telemetry.count('Recycles');
      this.#telemetry.count(`Recycles.${reason}`);
      this.#report({
        type: 'recycle',
        control: 'lifecycle',
        action: 'recycle',
        detail: { reason, invocations: this.#invocations, tmpRemoved: removed },
      });
      await this.#telemetry.drain(RECYCLE_DRAIN_MS);
    };
  }
}

/** The request body's length (HTTP events), else null: what the keep-warm rule calls low content. */
function bodyBytes(event: unknown): number | null {
  if (event === null || typeof event !== 'object') return null;
  const body = (event as { body?: unknown }).body;
  if (typeof body === 'string') return body.length;
  return body === undefined || body === null ? 0 : null;
}

/** For tests only: forget the process's guard. */
export function resetSharedGuardForTests(): void {
  shared = undefined;
}
