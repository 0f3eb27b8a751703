import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadSpec {
  url: string;
  method?: string;
  body?: string;
  concurrency: number;
  /** Requests issued before the window opens warm connections and environments; not counted. */
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** Successful requests inside the measured window. */
  completed: number;
  /** Every request sent, warm-up included (to divide CPU time measured over the whole run). */
  total: number;
  failed: number;
  seconds: number;
  /** Non-200 statuses and transport errors seen during the window. */
  statuses: Record<string, number>;
  /** A uniform sample (at most 20 000) of the successful requests' latencies, in ms. */
  latencies: number[];
}

const CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

/** Run the closed-loop client in a child process and return what it measured. */
export function runHttpLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load client exited with ${code}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (err) {
        reject(new Error(`load client printed no result: ${stdout}${stderr}`, { cause: err }));
      }
    });
  });
}
