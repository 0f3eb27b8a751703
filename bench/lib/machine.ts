import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  memoryGb: number;
  loadavgStart: number[];
  date: string;
}

export function machine(): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    node: process.version,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadavgStart: loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
  };
}

/** Processes this harness started that are still alive (detached runtimes keep us as their parent). */
export function leftoverChildren(): string[] {
  try {
    return (
      execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/\bps -o pid=,args=/.test(l))
        // tsx's esbuild service is a child of the harness too; it exits with it and runs no function code.
        .filter((l) => !/esbuild --service/.test(l))
    );
  } catch {
    return []; // ps exits 1 when there is no such process
  }
}
