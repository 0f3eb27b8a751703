import { emfRecord } from './emf.js';
import type { HttpSink } from './http-sink.js';
import { nextId } from './ids.js';
import { intrinsics, writeLine } from './intrinsics.js';
import type { Policy } from './policy.js';

/** Event types the guard emits (docs/events.md is the schema the correlator consumes). */
export type GuardEventType =
  | 'init'
  | 'recycle'
  | 'block'
  | 'alert'
  | 'detection'
  | 'error'
  | 'dropped'
  | 'learn'
  | 'invocation';

/** One decision of the guard, as one JSON line. */
export interface GuardEvent {
  ephemera: 1;
  id: string;
  type: GuardEventType;
  time: string;
  function: string;
  env: string;
  requestId: string | null;
  invocation: number;
  ageMs: number;
  control: string | null;
  action: string | null;
  detail: Record<string, unknown>;
}

/** What a control reports; the telemetry fills in identity and time. */
export interface EventInput {
  type: GuardEventType;
  requestId?: string | null;
  invocation: number;
  ageMs: number;
  control?: string | null;
  action?: string | null;
  detail?: Record<string, unknown>;
}

const EMF_NAMESPACE = 'Ephemera';

/**
 * The HTTP sink (and with it node:http, node:https and TLS) is loaded only when an endpoint is
 * configured: loading them costs tens of milliseconds of INIT that most functions never need. It
 * still happens at INIT (the guard is created there), before any invocation can tamper with them.
 */
function loadHttpSink(): typeof HttpSink {
  return (require('./http-sink.js') as typeof import('./http-sink.js')).HttpSink;
}

/**
 * Where events go: stdout (a JSON line, the CloudWatch transport), `diagnostics_channel`
 * (`ephemera:event`), optional EMF metrics, optional HTTP endpoint. Metrics and the HTTP flush are
 * deferred to `afterResponse()`, which the runtime hook calls once the response was delivered.
 */
export class Telemetry {
  private readonly sink: HttpSink | undefined;
  private counters: Record<string, number> = {};

  constructor(
    private readonly config: Policy['telemetry'],
    private readonly identity: { function: string; env: string },
  ) {
    this.sink = config.endpoint
      ? new (loadHttpSink())({
          endpoint: config.endpoint,
          token: config.token,
          maxBuffer: config.maxBuffer,
          batchSize: config.batchSize,
          droppedRecord: (dropped) =>
            this.record({ type: 'dropped', invocation: 0, ageMs: 0, detail: { dropped } }),
        })
      : undefined;
  }

  /** Emit an event now (stdout line and channel); queue it for the HTTP sink. Never throws. */
  emit(input: EventInput): GuardEvent | undefined {
    try {
      const event = this.record(input);
      if (this.config.stdout) writeLine(intrinsics.jsonStringify(event));
      if (intrinsics.channel.hasSubscribers) intrinsics.channel.publish(event);
      this.sink?.push(event);
      return event;
    } catch {
      return undefined;
    }
  }

  /** Count a metric for the next EMF record (cheap: an object field increment). */
  count(metric: string, by = 1): void {
    if (!this.config.emf) return;
    this.counters[metric] = (this.counters[metric] ?? 0) + by;
  }

  /** Post-response work: write the EMF record, start an HTTP flush (not awaited). */
  afterResponse(): void {
    if (this.config.emf) this.writeMetrics();
    if (this.sink && this.sink.buffered > 0) void this.sink.flush();
  }

  /** Flush what is buffered, waiting at most `timeoutMs` (used before a recycle ends the process). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.config.emf) this.writeMetrics();
    if (!this.sink || this.sink.buffered === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await intrinsics.Promise.race([
      this.sink.flush(),
      new intrinsics.Promise<void>((resolve) => {
        timer = intrinsics.setTimeout(resolve, timeoutMs);
      }),
    ]);
    if (timer) intrinsics.clearTimeout(timer);
  }

  private writeMetrics(): void {
    const names = intrinsics.keys(this.counters);
    if (names.length === 0) return;
    try {
      writeLine(
        emfRecord({
          namespace: EMF_NAMESPACE,
          dimensions: { function: this.identity.function },
          metrics: names.map((name) => ({ name, value: this.counters[name] ?? 0, unit: 'Count' as const })),
          timestamp: intrinsics.dateNow(),
        }),
      );
    } catch {
      // metrics are best effort
    }
    this.counters = {};
  }

  private record(input: EventInput): GuardEvent {
    return {
      ephemera: 1,
      id: nextId(),
      type: input.type,
      time: intrinsics.isoString(intrinsics.dateNow()),
      function: this.identity.function,
      env: this.identity.env,
      requestId: input.requestId ?? null,
      invocation: input.invocation,
      ageMs: input.ageMs,
      control: input.control ?? null,
      action: input.action ?? null,
      detail: input.detail ?? {},
    };
  }
}
