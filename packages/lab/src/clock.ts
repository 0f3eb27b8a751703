/**
 * The lab's clock for lifecycle timers (idle reaping, provider lifetime). Lab time runs `scale`
 * times faster than real time and can be advanced by hand, so a scenario covering hours of warm
 * life runs in seconds. Request deadlines never use this clock: they stay in real time, as the
 * code under test measures them with Date.now().
 */
export interface ClockTimer {
  readonly dueMs: number;
  cancel(): void;
}

interface PendingTimer {
  dueMs: number;
  fn: () => void;
  cancelled: boolean;
}

export class LabClock {
  readonly scale: number;
  private readonly realStart: number;
  private readonly labStart: number;
  private offsetMs = 0;
  private timers: PendingTimer[] = [];
  private wake: NodeJS.Timeout | undefined;

  constructor(options: { scale?: number; startMs?: number } = {}) {
    const scale = options.scale ?? 1;
    if (!(typeof scale === 'number' && Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`clock scale is ${String(scale)}; accepted: a finite number > 0`);
    }
    this.scale = scale;
    this.realStart = performance.now();
    this.labStart = options.startMs ?? Date.now();
  }

  /** Lab time in epoch milliseconds. */
  now(): number {
    return this.labStart + (performance.now() - this.realStart) * this.scale + this.offsetMs;
  }

  /** Run `fn` once `labMs` of lab time have passed. */
  setTimeout(fn: () => void, labMs: number): ClockTimer {
    const timer: PendingTimer = { dueMs: this.now() + Math.max(0, labMs), fn, cancelled: false };
    this.timers.push(timer);
    this.reschedule();
    return {
      dueMs: timer.dueMs,
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
        this.reschedule();
      },
    };
  }

  /** Jump lab time forward by `labMs`, firing every timer that falls due. */
  advance(labMs: number): void {
    if (!(labMs >= 0)) throw new RangeError(`advance(${labMs}): accepted: a number >= 0`);
    this.offsetMs += labMs;
    this.fireDue();
  }

  /** Cancel every pending timer (lab shutdown). */
  stop(): void {
    this.timers = [];
    if (this.wake) clearTimeout(this.wake);
    this.wake = undefined;
  }

  private fireDue(): void {
    const now = this.now();
    const due = this.timers.filter((t) => t.dueMs <= now).sort((a, b) => a.dueMs - b.dueMs);
    this.timers = this.timers.filter((t) => t.dueMs > now);
    for (const timer of due) if (!timer.cancelled) timer.fn();
    this.reschedule();
  }

  private reschedule(): void {
    if (this.wake) clearTimeout(this.wake);
    this.wake = undefined;
    if (this.timers.length === 0) return;
    const next = Math.min(...this.timers.map((t) => t.dueMs));
    const realDelay = Math.max(0, (next - this.now()) / this.scale);
    // unref: a pending reap must not keep the host process alive on its own.
    this.wake = setTimeout(() => this.fireDue(), Math.min(realDelay + 1, 2 ** 31 - 1));
    this.wake.unref();
  }
}
