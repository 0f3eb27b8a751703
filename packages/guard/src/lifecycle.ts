import { intrinsics } from './intrinsics.js';
import type { Policy } from './policy.js';

/** Why the guard recycles an environment. Controls may add their own reasons. */
export type RecycleReason = 'max-age' | 'max-invocations' | (string & {});

/**
 * Ephemerality limits, decided once at init. The age limit is drawn uniformly from
 * [maxAge × (1 − jitter), maxAge]: a fleet started together does not recycle in lockstep, and no
 * environment ever outlives the configured maximum.
 */
export class LifecycleLimits {
  readonly ageLimitMs: number | null;
  readonly maxInvocations: number | null;

  constructor(config: Policy['lifecycle'], random: () => number = intrinsics.random) {
    this.ageLimitMs =
      config.maxAgeSeconds === null
        ? null
        : Math.floor(config.maxAgeSeconds * 1000 * (1 - config.jitter * random()));
    this.maxInvocations = config.maxInvocations;
  }

  /** The reason to recycle after an invocation, or undefined to keep the environment. */
  check(ageMs: number, invocations: number): RecycleReason | undefined {
    if (this.maxInvocations !== null && invocations >= this.maxInvocations) return 'max-invocations';
    if (this.ageLimitMs !== null && ageMs >= this.ageLimitMs) return 'max-age';
    return undefined;
  }
}

/** Names of the entries in the temp directory at the end of INIT. */
export function snapshotTmp(dir: string): Set<string> {
  try {
    return new Set(intrinsics.readdirSync(dir));
  } catch {
    return new Set();
  }
}

/**
 * Remove what appeared in the temp directory after INIT. Lambda keeps /tmp across resets, so an
 * implant's dropped files would otherwise greet the next runtime in the same sandbox.
 */
export function cleanTmp(dir: string, baseline: ReadonlySet<string>): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = intrinsics.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of entries) {
    if (baseline.has(name)) continue;
    try {
      intrinsics.rmSync(intrinsics.pathJoin(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Keep going: one stubborn file must not stop the rest from being removed.
    }
  }
  return removed;
}
