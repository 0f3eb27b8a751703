import { GuardError } from './errors.js';
import { forbiddenResponse, isBlockError } from './firewall/verdict.js';
import { Guard, type InstallMode, type InvocationRecord, type LambdaContextLike } from './guard.js';
import { intrinsics } from './intrinsics.js';

/** The runtime's markers of a response-streaming handler (`awslambda.streamifyResponse`). */
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const PROTECTED = Symbol.for('ephemera.guard.protected');

// biome-ignore lint/suspicious/noExplicitAny: a handler's parameters and result are the user's own types
type AnyHandler = (...args: any[]) => any;

/**
 * Wrap a Lambda handler with the guard. Works for async handlers, callback-style handlers (adapted
 * to a promise: the response is returned when the callback is called), and response-streaming
 * handlers (their streaming markers are kept). The policy is validated now — at INIT — and an
 * invalid one throws EPHEMERA_ERR_POLICY, so the function never runs unprotected by mistake.
 *
 * @example export const handler = protect(async (event) => ({ statusCode: 200 }), { lifecycle: { maxInvocations: 500 } });
 */
export function protect<H extends AnyHandler>(handler: H, policy?: unknown): H {
  return protectAs(handler, policy, 'protect');
}

/** protect() for a given install mode (the shim and register use it). */
export function protectAs<H extends AnyHandler>(handler: H, policy: unknown, mode: InstallMode): H {
  if (typeof handler !== 'function') {
    throw new GuardError(
      'EPHEMERA_ERR_HANDLER',
      `protect(handler): handler is ${typeof handler}; accepted: a function`,
    );
  }
  if ((handler as unknown as Record<symbol, unknown>)[PROTECTED] === true) return handler; // never wrap twice
  const guard = Guard.shared(policy, mode);
  const streaming = (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response';
  const wrapped = streaming
    ? async function ephemeraStreamingHandler(
        event: unknown,
        responseStream: unknown,
        context: LambdaContextLike,
      ) {
        return run(guard, context, event, () =>
          intrinsics.apply(handler, undefined, [event, responseStream, context]),
        );
      }
    : async function ephemeraHandler(event: unknown, context: LambdaContextLike) {
        return run(guard, context, event, () => callHandler(handler, event, context));
      };
  for (const marker of [STREAMING, HIGH_WATER_MARK]) {
    const value = (handler as unknown as Record<symbol, unknown>)[marker];
    if (value !== undefined) intrinsics.defineProperty(wrapped, marker, { value, enumerable: false });
  }
  intrinsics.defineProperty(wrapped, PROTECTED, { value: true, enumerable: false });
  return wrapped as unknown as H;
}

/**
 * A callback-style handler (three parameters) is called with a callback that settles a promise;
 * an async handler's promise is used as is. If a callback-style handler also returns a promise,
 * whichever settles first wins, as Lambda's runtime did.
 */
function callHandler(handler: AnyHandler, event: unknown, context: LambdaContextLike): Promise<unknown> {
  if (handler.length < 3)
    return intrinsics.Promise.resolve(intrinsics.apply(handler, undefined, [event, context]));
  return new intrinsics.Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
    const returned = intrinsics.apply(handler, undefined, [event, context, callback]) as unknown;
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      (returned as Promise<unknown>).then(resolve, reject);
    }
  });
}

/**
 * The invariants live here: the handler runs exactly once; its result is returned unchanged; its
 * error is rethrown unchanged; a guard fault never replaces either (it becomes an event, and the
 * `cause` of the handler's error when that has none). With `failClosed`, a guard fault on a
 * successful invocation fails the invocation instead of letting it through unguarded.
 */
async function run(
  guard: Guard,
  context: LambdaContextLike,
  event: unknown,
  call: () => unknown,
): Promise<unknown> {
  let record: InvocationRecord | undefined;
  try {
    record = guard.beforeInvoke(context, event);
  } catch (fault) {
    guard.emitError(fault);
    if (guard.policy.failClosed) throw faultError(fault);
  }
  let result: unknown;
  let failed = false;
  let handlerError: unknown;
  // A deliberate refusal (the firewall's): the handler does not run; its response or error stands
  // in for the handler's, and afterInvoke still runs.
  const verdict = record ? guard.verdict(record) : undefined;
  if (verdict !== undefined) {
    if (verdict.response !== undefined) result = verdict.response;
    else {
      failed = true;
      handlerError = verdict.error;
    }
  } else {
    try {
      result = await call();
    } catch (error) {
      // A sink the firewall refused, surfacing unchanged from the handler: for an HTTP event the
      // caller gets the same 403 as a refusal before the handler (deliberate, never any other error).
      const forbidden = isBlockError(error) ? forbiddenResponse(event) : undefined;
      if (forbidden !== undefined) result = forbidden;
      else {
        failed = true;
        handlerError = error;
      }
    }
  }
  let fault: unknown;
  try {
    if (record) guard.afterInvoke(record);
  } catch (error) {
    fault = error;
    guard.emitError(error);
  }
  if (failed) {
    if (fault !== undefined) attachCause(handlerError, fault);
    throw handlerError;
  }
  if (fault !== undefined && guard.policy.failClosed) throw faultError(fault);
  return result;
}

function faultError(fault: unknown): GuardError {
  return new GuardError('EPHEMERA_ERR_GUARD_FAULT', 'the guard failed and the policy is failClosed', {
    cause: fault,
  });
}

function attachCause(error: unknown, fault: unknown): void {
  if (error === null || typeof error !== 'object' || 'cause' in error) return;
  try {
    intrinsics.defineProperty(error, 'cause', {
      value: faultError(fault),
      configurable: true,
      writable: true,
    });
  } catch {
    // a frozen error object: the event already reported the fault
  }
}
