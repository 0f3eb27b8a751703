import { forbiddenResponse, isBlockError } from './firewall/verdict.js';
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
  /** Returns a response only when the firewall refused the event (Middy's early return). */
  before: (request: MiddyRequestLike) => unknown;
  after: (request: MiddyRequestLike) => void;
  /** Returns a response only for the firewall's own sink refusal of an HTTP event (a 403). */
  onError: (request: MiddyRequestLike) => unknown;
}

/**
 * The guard as a Middy middleware. Register it first (`.use(guardMiddleware())`) so its `before`
 * runs before, and its `after`/`onError` after, every other middleware. It never sets a response
 * and never handles an error — except the event firewall's deliberate refusals: `before` returns
 * the 403 (HTTP events; Middy's early return skips the handler) or throws EPHEMERA_ERR_BLOCKED, and
 * `onError` turns the firewall's own sink refusal of an HTTP event into the same 403. Any other
 * error Middy rethrows unchanged.
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
      let record: InvocationRecord | undefined;
      try {
        record = guard.beforeInvoke(request.context, request.event);
        records.set(request, record);
      } catch (fault) {
        guard.emitError(fault);
        if (guard.policy.failClosed) throw fault;
      }
      const verdict = record ? guard.verdict(record) : undefined;
      if (verdict === undefined) return undefined;
      if (verdict.response !== undefined) {
        // An early return skips `after`: the invocation ends here.
        finish(request);
        return verdict.response;
      }
      throw verdict.error; // onError runs `finish`
    },
    after: finish,
    onError: (request) => {
      finish(request);
      if (!isBlockError(request.error)) return undefined;
      return forbiddenResponse(request.event);
    },
  };
}
