import { GuardError } from './errors.js';
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
}

/** Longest the guard waits for its telemetry before a recycle ends the process. */
const RECYCLE_DRAIN_MS = 500;

let shared: Guard | undefined;

/**
 * The engine. One per process, created when the handler is wrapped (the end of INIT), with a
 * lifecycle that mirrors Lambda's: init → beforeInvoke → handler → afterInvoke → (after the
 * response is delivered) recycle. Every adapter — protect(), the Middy middleware, register and
 * the exec wrapper — only translates to these calls.
 */
export class Guard {
  readonly policy: Readonly<Policy>;
  readonly envId: string;
  readonly startedAt: number;
  readonly installMode: InstallMode;
  readonly telemetry: Telemetry;
  readonly runtimeHook: RuntimeHook;
  private readonly limits: LifecycleLimits;
  private readonly tmpDir: string;
  private readonly tmpBaseline: ReadonlySet<string>;
  private invocations = 0;
  private current: InvocationRecord | undefined;
  private pendingRecycle: RecycleReason | undefined;

  /** The process's guard, created on first use with `policy` (validated, then frozen). */
  static shared(policy: unknown, mode: InstallMode): Guard {
    if (shared) {
      if (policy !== undefined && shared.installMode !== mode) {
        shared.emitError(
          new Error(`a second guard install (${mode}) reused the ${shared.installMode} guard and its policy`),
        );
      }
      return shared;
    }
    shared = new Guard(resolvePolicy(policy), mode);
    return shared;
  }

  constructor(policy: Readonly<Policy>, mode: InstallMode) {
    this.policy = policy;
    this.installMode = mode;
    this.startedAt = intrinsics.dateNow();
    this.envId = intrinsics.randomUUID().slice(0, 8) + intrinsics.randomUUID().slice(9, 13);
    this.telemetry = new Telemetry(policy.telemetry, {
      function: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
      env: this.envId,
    });
    this.limits = new LifecycleLimits(policy.lifecycle);
    this.tmpDir = intrinsics.tmpdir();
    this.tmpBaseline = snapshotTmp(this.tmpDir);
    this.runtimeHook = installRuntimeHook(() => this.beforeNext());
    this.telemetry.emit({
      type: 'init',
      invocation: 0,
      ageMs: 0,
      detail: {
        installMode: mode,
        policy: summarisePolicy(policy),
        unimplemented: unimplementedControls(policy),
        recycle: this.runtimeHook.installed ? 'clean' : `unavailable: ${this.runtimeHook.reason}`,
        ageLimitMs: this.limits.ageLimitMs,
        node: process.version,
        initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE ?? null,
      },
    });
  }

  /** Milliseconds since the guard initialised (the environment's age as the guard sees it). */
  ageMs(): number {
    return intrinsics.dateNow() - this.startedAt;
  }

  /** Called before the handler runs. Cheap: a counter and a small record. */
  beforeInvoke(context: LambdaContextLike | undefined): InvocationRecord {
    this.invocations += 1;
    const record = {
      requestId: typeof context?.awsRequestId === 'string' ? context.awsRequestId : null,
      number: this.invocations,
      startedAt: intrinsics.dateNow(),
    };
    this.current = record;
    this.telemetry.count('Invocations');
    return record;
  }

  /** Called after the handler settled (either way); decides whether to recycle. */
  afterInvoke(record: InvocationRecord): void {
    const reason = this.limits.check(this.ageMs(), record.number);
    if (reason) this.recycle(reason);
  }

  /**
   * Ask for this environment to be recycled after the current response has been delivered.
   * The first reason wins; the request in flight is never failed or delayed.
   */
  recycle(reason: RecycleReason): void {
    if (this.pendingRecycle !== undefined) return;
    if (!this.runtimeHook.installed) {
      this.telemetry.emit({
        type: 'error',
        requestId: this.current?.requestId ?? null,
        invocation: this.invocations,
        ageMs: this.ageMs(),
        control: 'lifecycle',
        action: 'recycle-unavailable',
        detail: { reason, why: this.runtimeHook.reason },
      });
      // Asked once per environment: do not flood the log on every later invocation.
      this.pendingRecycle = reason;
      return;
    }
    this.pendingRecycle = reason;
  }

  /** The recycle that is pending, if any. */
  get recyclePending(): RecycleReason | undefined {
    return this.pendingRecycle;
  }

  /** Report the guard's own fault as an event (never throws). */
  emitError(error: unknown, requestId: string | null = this.current?.requestId ?? null): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.telemetry.emit({
      type: 'error',
      requestId,
      invocation: this.invocations,
      ageMs: this.ageMs(),
      control: 'guard',
      detail: { name: err.name, message: err.message, code: (err as { code?: unknown }).code ?? null },
    });
  }

  /** The runtime is about to ask for work: the response of the last invocation was delivered. */
  private beforeNext(): (() => Promise<void>) | undefined {
    this.telemetry.afterResponse();
    if (this.pendingRecycle === undefined || !this.runtimeHook.installed) return undefined;
    const reason = this.pendingRecycle;
    return async () => {
      const removed = this.policy.lifecycle.cleanTmp ? cleanTmp(this.tmpDir, this.tmpBaseline) : [];
      this.telemetry.count('Recycles');
      this.telemetry.count(`Recycles.${reason}`);
      this.telemetry.emit({
        type: 'recycle',
        requestId: this.current?.requestId ?? null,
        invocation: this.invocations,
        ageMs: this.ageMs(),
        control: 'lifecycle',
        action: 'recycle',
        detail: { reason, invocations: this.invocations, tmpRemoved: removed },
      });
      await this.telemetry.drain(RECYCLE_DRAIN_MS);
    };
  }
}

/** For tests only: forget the process's guard. */
export function resetSharedGuardForTests(): void {
  shared = undefined;
}

export { GuardError };
