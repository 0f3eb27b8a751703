/** Summary of a latency sample, in milliseconds. Means are left out on purpose: one stall skews them. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Milliseconds with a precision that suits their size (µs for sub-millisecond values). */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value < 1) return `${(value * 1000).toFixed(0)} µs`;
  if (value < 100) return `${value.toFixed(2)} ms`;
  return `${value.toFixed(0)} ms`;
}

export function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return '–';
  return `×${(value / base).toFixed(value / base >= 10 ? 0 : 2)}`;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Raw samples as stored in the JSON results (rounded to µs to keep the file readable). */
export function raw(samples: readonly number[]): number[] {
  return samples.map((s) => round(s));
}

/**
 * A uniform random sample of at most `cap` values (reservoir sampling). A throughput run can
 * complete millions of calls; keeping every latency would grow the harness heap (and its GC work,
 * which then leaks into the next measurement) and the JSON file, while percentiles from a 20 000
 * value uniform sample are accurate to well under a percentile rank.
 */
export class Reservoir {
  readonly values: number[] = [];
  seen = 0;
  constructor(private readonly cap = 20_000) {}

  add(value: number): void {
    this.seen += 1;
    if (this.values.length < this.cap) {
      this.values.push(value);
      return;
    }
    const j = Math.floor(Math.random() * this.seen);
    if (j < this.cap) this.values[j] = value;
  }
}

/**
 * Merge uniform samples of several runs into one uniform sample of their union: each run keeps
 * values in proportion to how many it saw, so a run that completed more calls weighs more.
 */
export function mergeSamples(runs: ReadonlyArray<{ values: readonly number[]; seen: number }>): number[] {
  const rate = Math.min(...runs.filter((r) => r.seen > 0).map((r) => r.values.length / r.seen));
  if (!Number.isFinite(rate)) return [];
  const merged: number[] = [];
  for (const run of runs) {
    const shuffled = [...run.values];
    for (let i = shuffled.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
    }
    merged.push(...shuffled.slice(0, Math.round(rate * run.seen)));
  }
  return merged;
}
