/**
 * Integrity benchmark: the cost of the integrity control and of integrity.harden on a function that
 * loads 300+ modules at INIT (AWS SDK v3 DynamoDB DocumentClient, express + serverless-http, pg,
 * pino, axios, zod, Powertools: bench/fixtures/integrity-fn), compared in the same run with the same
 * function bare, SES `lockdown()` alone, and `node --frozen-intrinsics`.
 *
 *   node --import tsx bench/integrity.bench.ts            (3 rounds × 300 invocations per arm)
 *   node --import tsx bench/integrity.bench.ts --quick    (1 round × 60)
 *
 * Each arm runs in a fresh plain-node child (bench/fixtures/integrity-fn/measure.cjs, the built
 * guard), arms rotated every round so they share the machine's noise. Per child: INIT (the
 * function's module), then the arm's hardening and baseline (timed apart), then sequential
 * invocations of the real handler (express through serverless-http, DynamoDB GetItem against a
 * loopback endpoint), each followed by the arm's full check (timed: wall and process CPU). The
 * check runs after the response is delivered (the runtime hook), so what a client sees is the
 * handler latency; "added" columns are arm − bare quantile by quantile. The first 10 invocations of
 * each child are warm-up and dropped. Every child gets its own empty TMPDIR (the tmp detector must
 * not see other processes' files).
 *
 * Results: a Markdown table on stdout, raw samples in bench/results/integrity.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MEASURE = join(ROOT, 'bench', 'fixtures', 'integrity-fn', 'measure.cjs');
const RESULTS = join(ROOT, 'bench', 'results');
const MARK = 'INTEGRITY-BENCH ';
const WARMUP = 10;

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const CALLS = quick ? 60 : 300;

const ARMS = [
  { name: 'bare', label: 'bare function', flags: [] as string[] },
  { name: 'detect', label: 'integrity check, harden off', flags: [] },
  { name: 'detect+builtins', label: 'integrity check + harden "builtins"', flags: [] },
  { name: 'detect+ses', label: 'integrity check + harden "ses"', flags: [] },
  { name: 'lockdown', label: 'SES lockdown() alone', flags: [] },
  { name: 'frozen-intrinsics', label: 'node --frozen-intrinsics', flags: ['--frozen-intrinsics'] },
] as const;

interface ChildResult {
  arm: string;
  node: string;
  failed?: string;
  initUs?: number;
  modules?: number;
  hardenUs?: number;
  baselineUs?: number;
  latency?: number[];
  checkWall?: number[];
  checkCpu?: number[];
  drifts?: number;
}

function runChild(arm: (typeof ARMS)[number]): Promise<ChildResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'ephemera-ibench-'));
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...arm.flags, '--no-warnings', MEASURE, arm.name, String(CALLS)],
      {
        cwd: dirname(MEASURE),
        env: { ...process.env, TMPDIR: tmp, LAMBDA_TASK_ROOT: dirname(MEASURE) },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 600_000,
      },
      (error, stdout, stderr) => {
        rmSync(tmp, { recursive: true, force: true });
        const line = stdout.split('\n').find((l) => l.startsWith(MARK));
        if (!line)
          done({ arm: arm.name, node: process.version, failed: `${error?.message} ${stderr.slice(0, 300)}` });
        else done(JSON.parse(line.slice(MARK.length)) as ChildResult);
      },
    );
  });
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const median = (values: readonly number[]) => quantile(values, 0.5);
const fmtMs = (us: number) => (Number.isNaN(us) ? '—' : `${(us / 1000).toFixed(2)} ms`);
const fmtUs = (us: number) => (Number.isNaN(us) ? '—' : `${Math.round(us)} µs`);
const signedUs = (us: number) => (Number.isNaN(us) ? '—' : `${us >= 0 ? '+' : ''}${Math.round(us)} µs`);

async function main(): Promise<void> {
  const load = loadavg()[0]?.toFixed(1);
  const byArm = new Map<string, ChildResult[]>(ARMS.map((a) => [a.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = ARMS.map((_, i) => ARMS[(i + round) % ARMS.length] as (typeof ARMS)[number]);
    for (const arm of order) {
      const result = await runChild(arm);
      byArm.get(arm.name)?.push(result);
      process.stderr.write(
        `round ${round + 1}/${ROUNDS} ${arm.name}${result.failed ? ` FAILED ${result.failed}` : ''}\n`,
      );
    }
  }
  const merged = (arm: string, key: 'latency' | 'checkWall' | 'checkCpu') =>
    (byArm.get(arm) ?? []).flatMap((r) => (r[key] ?? []).slice(WARMUP));
  const scalar = (arm: string, key: 'hardenUs' | 'baselineUs' | 'initUs' | 'modules') =>
    median((byArm.get(arm) ?? []).filter((r) => !r.failed).map((r) => r[key] ?? 0));
  const bareLatency = merged('bare', 'latency');
  const rows: string[] = [
    '| arm | modules at INIT | harden | baseline | handler p50 | handler p99 | added p50 | added p99 | check CPU p50 | check CPU p99 | check wall p50 | check wall p99 | drifts |',
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const arm of ARMS) {
    const results = byArm.get(arm.name) ?? [];
    const failed = results.find((r) => r.failed);
    if (failed && results.every((r) => r.failed)) {
      rows.push(`| ${arm.label} | — | fails: ${failed.failed} |||||||||||`);
      continue;
    }
    const latency = merged(arm.name, 'latency');
    const cpu = merged(arm.name, 'checkCpu');
    const wall = merged(arm.name, 'checkWall');
    const detects = arm.name.startsWith('detect');
    rows.push(
      `| ${arm.label} | ${scalar(arm.name, 'modules')} | ${arm.name === 'bare' || arm.name === 'detect' ? '—' : fmtMs(scalar(arm.name, 'hardenUs'))} | ${detects ? fmtMs(scalar(arm.name, 'baselineUs')) : '—'} | ${fmtUs(median(latency))} | ${fmtUs(quantile(latency, 0.99))} | ${arm.name === 'bare' ? '—' : signedUs(median(latency) - median(bareLatency))} | ${arm.name === 'bare' ? '—' : signedUs(quantile(latency, 0.99) - quantile(bareLatency, 0.99))} | ${detects ? fmtUs(median(cpu)) : '—'} | ${detects ? fmtUs(quantile(cpu, 0.99)) : '—'} | ${detects ? fmtUs(median(wall)) : '—'} | ${detects ? fmtUs(quantile(wall, 0.99)) : '—'} | ${results.reduce((n, r) => n + (r.drifts ?? 0), 0)} |`,
    );
  }
  const header = `Integrity benchmark — ${process.version}, ${ROUNDS} round(s) × ${CALLS} invocations per arm (first ${WARMUP} dropped), load average ${load} at start`;
  process.stdout.write(`\n${header}\n\n${rows.join('\n')}\n`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'integrity.json'),
    JSON.stringify({ header, rounds: ROUNDS, calls: CALLS, results: Object.fromEntries(byArm) }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
