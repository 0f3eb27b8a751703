import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Marks a sandbox root with the pid of the lab that owns it. */
const OWNER_FILE = 'lab.pid';

/** Record that this process owns `sandboxRoot` (so a later lab can clean up after a crash). */
export function claimSandbox(sandboxRoot: string): void {
  writeFileSync(join(sandboxRoot, OWNER_FILE), String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kill runtimes left behind by labs whose host process died without close() (SIGKILL, OOM): a
 * frozen runtime would otherwise stay stopped forever. A leftover is recognised by its TMPDIR,
 * which points into a sandbox root whose owner pid is gone. Returns how many processes it killed.
 */
export function sweepOrphans(parent: string, prefix: string): number {
  let roots: string[];
  try {
    roots = readdirSync(parent).filter((name) => name.startsWith(prefix));
  } catch {
    return 0;
  }
  const stale = roots
    .map((name) => join(parent, name))
    .filter((root) => {
      const owner = Number(
        existsSync(join(root, OWNER_FILE)) ? readFileSync(join(root, OWNER_FILE), 'utf8') : Number.NaN,
      );
      return Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner);
    });
  if (stale.length === 0) return 0;
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours
    }
    const tmp =
      environ
        .split('\0')
        .find((v) => v.startsWith('TMPDIR='))
        ?.slice(7) ?? '';
    if (!stale.some((root) => tmp.startsWith(`${root}/`))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  for (const root of stale) rmSync(root, { recursive: true, force: true });
  return killed;
}
