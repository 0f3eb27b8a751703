import { EventEmitter } from 'node:events';

/** What happened to an execution environment or an invocation. */
export type LabEventType =
  | 'environment-created'
  | 'initialized'
  | 'init-failed'
  | 'frozen'
  | 'thawed'
  | 'invoke-start'
  | 'invoke-end'
  | 'timeout'
  | 'crashed'
  | 'reset'
  | 'exited'
  | 'reaped'
  | 'retired'
  | 'shutdown'
  | 'throttled';

/** One lab event; `time` is lab-clock time, `realTime` wall-clock time (both epoch ms). */
export interface LabEvent {
  type: LabEventType;
  time: number;
  realTime: number;
  function: string;
  environment?: string;
  requestId?: string;
  detail?: Record<string, unknown>;
}

/** A line an environment wrote (stdout/stderr) or the platform wrote for it (START/END/REPORT). */
export interface LabLogLine {
  function: string;
  environment: string;
  /** The CloudWatch-style log stream name. */
  stream: string;
  line: string;
}

/**
 * The lab's event stream. `on('event', fn)` sees every event; `toJsonLines(write)` renders them as
 * JSON lines (the CLI's `--events` output). Kept in memory up to `limit` for tests and the demo.
 */
export class LabEvents extends EventEmitter {
  readonly history: LabEvent[] = [];
  constructor(private readonly limit = 100_000) {
    super();
  }

  emitEvent(event: LabEvent): void {
    this.history.push(event);
    // Trim in chunks: one splice per limit/10 events instead of one per event once full.
    if (this.history.length > this.limit + this.limit / 10)
      this.history.splice(0, this.history.length - this.limit);
    this.emit('event', event);
  }

  /** One log line of one environment, to every `on('log', fn)` listener (not kept in history). */
  emitLog(line: LabLogLine): void {
    if (this.listenerCount('log') > 0) this.emit('log', line);
  }

  /** Subscribe `write` to every future event as one JSON line; returns the unsubscribe function. */
  toJsonLines(write: (line: string) => void): () => void {
    const listener = (event: LabEvent) => write(`${JSON.stringify(event)}\n`);
    this.on('event', listener);
    return () => this.off('event', listener);
  }

  /** Events of one type (optionally of one function). */
  ofType(type: LabEventType, fn?: string): LabEvent[] {
    return this.history.filter((e) => e.type === type && (fn === undefined || e.function === fn));
  }
}
