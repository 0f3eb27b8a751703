/**
 * The contract every integrity detector follows. A detector records a baseline of some runtime
 * state at the end of INIT and, after each invocation, reports what changed. Detectors are
 * independent files; `integrity-checker.ts` composes them.
 *
 * Rules every detector keeps:
 * - It uses only primitives captured when its module loaded (see `primordials.ts`): an implant may
 *   replace Reflect, Object.keys, Function.prototype.toString, Map, Array methods… after INIT.
 * - `check()` never throws (a detector fault becomes a drift of kind 'fault' naming the detector),
 *   and does not mutate the state it watches.
 * - Legitimate change is not drift: lazy requires from the deployment, module-scope caches,
 *   keep-alive sockets, dispatchers created on first use must not be reported.
 */
export interface Drift {
  /** What changed, as a path a human greps for: `https.request`, `Object.prototype.toJSON`, `require.cache[/tmp/x.js]`. */
  path: string;
  /** How it changed. */
  kind:
    | 'added'
    | 'removed'
    | 'replaced'
    | 'reconfigured'
    | 'prototype'
    | 'extensibility'
    | 'resource'
    | 'hook'
    | 'file'
    | 'env'
    | 'fault';
  /** The detector that saw it (`intrinsics`, `builtins`, `globals`, `module-cache`, `process-hooks`, `resources`, `tmp`, `env`, …). */
  detector: string;
  /** Short, secret-free extra facts (a type name, a count); never a value from the environment or an event. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface Detector {
  readonly name: string;
  /** Record the baseline. Called once, at the end of INIT. */
  baseline(): void;
  /** Report drift since the baseline (or since the last accepted state, for detectors that adopt benign change). */
  check(): Drift[];
}

/** Facts about the deployment detectors need to tell benign from hostile change. */
export interface DeploymentFacts {
  /** LAMBDA_TASK_ROOT (the function's code, read-only on Lambda). */
  taskRoot: string;
  /** Where layers are (/opt on Lambda; the lab maps it elsewhere): files under it are part of the deployment. */
  optDirs: readonly string[];
  /** Directory of the runtime client (LAMBDA_RUNTIME_DIR). */
  runtimeDir: string | undefined;
  /** The temp directory (TMPDIR or /tmp). */
  tmpDir: string;
}
