import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

/** User + system CPU time of a whole process (all its threads), in ms; undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command name (which may contain spaces) start at "state"; utime and stime are 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * CPU spent by a changing set of processes during a window. Processes that appear during the
 * window count from zero (a spawned environment's INIT is part of the cost of serving the load).
 * Resolution is one clock tick per process, so it is meant for windows of seconds.
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly self0 = process.cpuUsage();

  constructor(private readonly pids: () => number[]) {
    for (const pid of pids()) this.start.set(pid, processCpuMs(pid) ?? 0);
    this.timer = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    for (const pid of this.pids()) {
      if (!this.start.has(pid)) this.start.set(pid, 0);
      const now = processCpuMs(pid);
      if (now !== undefined) this.last.set(pid, now);
    }
  }

  /** Stop; returns this process's CPU and the watched processes' CPU over the window, in ms. */
  stop(): { harnessMs: number; othersMs: number } {
    this.sample();
    clearInterval(this.timer);
    const self = process.cpuUsage(this.self0);
    let othersMs = 0;
    for (const [pid, from] of this.start) othersMs += (this.last.get(pid) ?? from) - from;
    return { harnessMs: (self.user + self.system) / 1000, othersMs };
  }
}
