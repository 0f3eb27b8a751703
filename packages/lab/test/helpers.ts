import { fileURLToPath } from 'node:url';

/** Absolute path of a fixture function directory. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/functions/${name}`, import.meta.url));
}

/** The JSON document a successful invocation returned. */
export function json<T = Record<string, unknown>>(payload: Buffer): T {
  return JSON.parse(payload.toString('utf8')) as T;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process (or, with a negative pid, a process group) still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until `check` holds, polling; fails with `what` after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
