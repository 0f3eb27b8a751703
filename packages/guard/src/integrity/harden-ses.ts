/**
 * `integrity.harden: "ses"` — SES `lockdown()` for the intrinsics, when the function ships `ses`.
 *
 * The guard keeps zero dependencies: `ses` is an optional peer, resolved from the function's own
 * `node_modules` (the task root's resolution path) with `require`, when the guard is created — so a
 * missing or broken `ses` stops the function at INIT (EPHEMERA_ERR_HARDEN), never at the first
 * request. `lockdown()` itself runs at the end of INIT, before the integrity baseline.
 *
 * The options are chosen to coexist with AWS's runtime client and ordinary libraries:
 * - `errorTrapping: 'none'`, `unhandledRejectionTrapping: 'none'`: SES's defaults install process
 *   handlers that exit; the runtime client owns uncaught errors (it posts them to the Runtime API).
 * - `errorTaming: 'unsafe'`, `stackFiltering: 'verbose'`: stacks stay readable in the logs and
 *   `Error.captureStackTrace` keeps working (depd, the AWS SDK, pino use it).
 * - `consoleTaming: 'unsafe'`: the runtime client has replaced `console` already; SES must not wrap it.
 * - `overrideTaming: 'moderate'`: SES's own override-mistake repair (the same idea as harden-builtins).
 * - `evalTaming: 'unsafe-eval'`: with the default ('safe-eval') lockdown refuses to run unless
 *   `globalThis.eval` is the original — and the codegen control has wrapped it. With 'unsafe-eval'
 *   the global `eval` and `Function` stay (the codegen hooks keep guarding them) and lockdown still
 *   makes `(function(){}).constructor` (and the async and generator ones) inert: they throw.
 * - `localeTaming: 'unsafe'`, `domainTaming: 'unsafe'`, `reporting: 'none'`: keep `toLocaleString`
 *   localised, tolerate Node's `domain` module, and keep lockdown's notices out of the function log.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export const LOCKDOWN_OPTIONS = Object.freeze({
  errorTrapping: 'none',
  unhandledRejectionTrapping: 'none',
  errorTaming: 'unsafe',
  stackFiltering: 'verbose',
  consoleTaming: 'unsafe',
  overrideTaming: 'moderate',
  localeTaming: 'unsafe',
  domainTaming: 'unsafe',
  reporting: 'none',
  evalTaming: 'unsafe-eval',
});

type Lockdown = (options?: Record<string, unknown>) => void;

/** SES, loaded from the function's node_modules, ready to lock down. */
export interface LoadedSes {
  readonly file: string;
  readonly version: string | undefined;
  readonly lockdown: Lockdown;
}

/** Where the function's own packages resolve from. */
function functionRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAMBDA_TASK_ROOT ?? process.cwd();
}

/**
 * Resolve and load `ses` from the function's node_modules. Throws a plain Error saying what was
 * looked for and where (the caller wraps it in EPHEMERA_ERR_HARDEN).
 */
export function loadSes(root: string = functionRoot()): LoadedSes {
  const requireFromFunction = createRequire(path.join(root, '__ephemera_harden__.js'));
  let file: string;
  try {
    file = requireFromFunction.resolve('ses');
  } catch {
    throw new Error(
      `harden "ses" needs the ses package in the function's node_modules (looked from ${root}); install ses or choose harden "builtins" or "off"`,
    );
  }
  let version: string | undefined;
  try {
    version = (requireFromFunction('ses/package.json') as { version?: string }).version;
  } catch {
    version = undefined;
  }
  // Loading ses defines the globals lockdown, harden, Compartment and assert.
  requireFromFunction(file);
  const lockdown = (globalThis as { lockdown?: unknown }).lockdown;
  if (typeof lockdown !== 'function') throw new Error(`ses at ${file} did not define a global lockdown()`);
  return { file, version, lockdown: lockdown as Lockdown };
}

/** Run lockdown() with the options above. */
export function lockdownWithSes(ses: LoadedSes): void {
  ses.lockdown({ ...LOCKDOWN_OPTIONS });
}
