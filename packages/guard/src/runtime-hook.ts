import { createRequire } from 'node:module';
import { intrinsics } from './intrinsics.js';

/**
 * The guard's hook into AWS's runtime interface client. The RIC posts an invocation's response
 * (synchronously, through its native client) and only then asks the Runtime API for the next
 * invocation with the native `next()`. Wrapping `next()` gives the guard a moment that is after the
 * response was delivered and before any further invocation was accepted:
 * - post-response work (metrics, telemetry flush) runs there, off the latency path;
 * - a recycle happens there: the guard does not call the real `next()`, finishes its cleanup, and
 *   ends the process. The caller already has its response; the next request lands in a fresh
 *   environment. Exiting any earlier would lose the response; exiting after `next()` is racy (the
 *   native call blocks process exit until it returns with the next invocation, whose caller would
 *   then get Runtime.ExitError).
 */
export interface RuntimeHook {
  /** Whether the hook is installed (the guard can recycle cleanly). */
  readonly installed: boolean;
  /** Why it is not installed. */
  readonly reason: string | undefined;
}

interface NativeClient {
  next: (...args: unknown[]) => unknown;
}

const NATIVE_CLIENT_FILE = 'rapid-client.node';

function findNativeClient(): NativeClient | string {
  if (process.env.AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1 === 'true') {
    return 'the runtime client uses its alternative HTTP client (AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1)';
  }
  const cache = createRequire(__filename).cache;
  for (const key of intrinsics.keys(cache)) {
    if (!key.endsWith(`/${NATIVE_CLIENT_FILE}`)) continue;
    const exported = cache[key]?.exports as Partial<NativeClient> | undefined;
    if (exported && typeof exported.next === 'function') return exported as NativeClient;
  }
  return 'no AWS Lambda runtime interface client (rapid-client.node) is loaded in this process';
}

/**
 * Install the hook. `beforeNext` runs synchronously each time the runtime is about to ask for work;
 * when it returns a function, the real `next()` is never called: that function's promise runs to
 * completion (cleanup) and the process is then ended.
 */
export function installRuntimeHook(beforeNext: () => (() => Promise<void>) | undefined): RuntimeHook {
  const found = findNativeClient();
  if (typeof found === 'string') return { installed: false, reason: found };
  const original = found.next;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let recycle: (() => Promise<void>) | undefined;
    try {
      recycle = beforeNext();
    } catch {
      recycle = undefined; // a guard fault here must not stop the runtime from taking work
    }
    if (recycle === undefined) return intrinsics.apply(original, this, args);
    return new intrinsics.Promise<never>(() => {
      const finish = () => endProcess();
      recycle().then(finish, finish);
    });
  };
  found.next = wrapped;
  return { installed: true, reason: undefined };
}

/**
 * End the process at once. SIGKILL rather than process.exit(): exit waits for every libuv worker
 * thread, and an implant can keep one busy; a signal cannot be delayed or intercepted.
 */
function endProcess(): void {
  intrinsics.kill(intrinsics.pid, 'SIGKILL');
}
