import type { InvokeVerdict } from './firewall/verdict.js';
import type { InvocationRecord } from './guard.js';
import type { RecycleReason } from './lifecycle.js';
import type { EventInput } from './telemetry.js';

/** What a control may ask of the engine. */
export interface GuardServices {
  /** Emit an event about the current (or last) invocation; identity, time and age are filled in. */
  report(event: Omit<EventInput, 'invocation' | 'ageMs' | 'requestId'> & { requestId?: string | null }): void;
  /** Ask for a recycle after the current response is delivered. */
  recycle(reason: RecycleReason): void;
  /** The invocation in flight or the last one, if any. */
  current(): InvocationRecord | undefined;
}

/**
 * A control plugs into the engine's lifecycle; every hook is optional and must not throw (the
 * engine still guards against it: a throwing control is a guard fault, reported, never the
 * handler's problem). `afterResponse` runs after the response was delivered and before the next
 * invocation is accepted: expensive checks belong there, off the latency path.
 */
export interface GuardControl {
  readonly name: string;
  /** When the guard is created (before the handler module loads in register/exec-wrapper modes, else while it loads): install hooks. */
  init?(services: GuardServices): void;
  /**
   * The handler module has loaded (before the `init` event is emitted, which carries `describe()`).
   * In register/exec-wrapper modes the guard was created before it loaded; in the other modes this
   * follows `init` at once.
   */
  handlerLoaded?(): void;
  /**
   * The end of INIT: the handler module and everything it loads at INIT have finished loading (the
   * runtime asks for its first invocation). Baselines are taken here.
   */
  endOfInit?(): void;
  /** Facts for the init event (what is hooked, what is not and why). */
  describe?(): Record<string, unknown>;
  /**
   * Before the handler. A control may return a verdict to refuse the invocation (the firewall does):
   * the adapters then return its `response` or throw its `error` instead of running the handler.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: controls that never refuse return nothing
  beforeInvoke?(record: InvocationRecord, event: unknown): InvokeVerdict | undefined | void;
  afterInvoke?(record: InvocationRecord): void;
  /** Post-response check; return a reason to recycle now. */
  afterResponse?(record: InvocationRecord | undefined): RecycleReason | undefined;
}
