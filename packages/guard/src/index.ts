/**
 * @ephemera/guard — runtime protection that runs inside a Lambda function. Zero runtime
 * dependencies; CommonJS, so both `require()` and `import` load it on Node 20, 22 and 24.
 */
export { GuardError, type GuardErrorCode, GuardErrorCodes } from './errors.js';

import { buildControls } from './controls.js';
import { Guard, setControlFactory } from './guard.js';

setControlFactory(buildControls);

export { Guard, type InstallMode, type InvocationRecord, type LambdaContextLike } from './guard.js';
export { loadHandler } from './handler-loader.js';
export { guardMiddleware, type MiddyMiddlewareLike, type MiddyRequestLike } from './middy.js';
export { type Action, DEFAULT_POLICY, type Policy, type PolicyInput, resolvePolicy } from './policy.js';
export { protect, protectAs } from './protect.js';
export type { GuardEvent, GuardEventType } from './telemetry.js';

/** The guard's version, reported in its init event. */
export const GUARD_VERSION = '0.1.0';

/**
 * Create the guard before the function's handler module loads (the register/exec-wrapper shim does),
 * so its hooks judge what dependencies do while they load; `protectAs` then completes it.
 */
export function startGuard(mode: 'register' | 'layer'): void {
  Guard.early(mode);
}

/** Ask for this environment to be recycled after the current response is delivered. */
export function recycle(reason: string): void {
  Guard.shared(undefined, 'protect').recycle(reason);
}
