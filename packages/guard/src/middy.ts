import { Guard, type InvocationRecord, type LambdaContextLike } from './guard.js';

/** The part of Middy's request object the guard uses (structural: Middy stays optional). */
export interface MiddyRequestLike {
  event: unknown;
  context: LambdaContextLike;
  response?: unknown;
  error?: unknown;
}

/** A Middy middleware object. */
export interface MiddyMiddlewareLike {
  before: (request: MiddyRequestLike) => void;
  after: (request: MiddyRequestLike) => void;
  onError: (request: MiddyRequestLike) => void;
}

/**
 * The guard as a Middy middleware. Register it first (`.use(guardMiddleware())`) so its `before`
 * runs before, and its `after`/`onError` after, every other middleware. It never sets a response
 * and never handles an error: Middy rethrows the handler's error unchanged.
 *
 * @example export const handler = middy(baseHandler).use(guardMiddleware({ lifecycle: { maxInvocations: 1000 } }));
 */
export function guardMiddleware(policy?: unknown): MiddyMiddlewareLike {
  const guard = Guard.shared(policy, 'middy');
  const records = new WeakMap<object, InvocationRecord>();
  const finish = (request: MiddyRequestLike) => {
    const record = records.get(request);
    if (!record) return;
    records.delete(request);
    try {
      guard.afterInvoke(record);
    } catch (fault) {
      guard.emitError(fault, record.requestId);
    }
  };
  return {
    before: (request) => {
      try {
        records.set(request, guard.beforeInvoke(request.context, request.event));
      } catch (fault) {
        guard.emitError(fault);
        if (guard.policy.failClosed) throw fault;
      }
    },
    after: finish,
    onError: finish,
  };
}
