/**
 * Measures what the three detectors cost (not a test): the per-check cost after a typical
 * invocation, and the timer wrappers' cost per setTimeout call.
 *
 *   node --require tsx/cjs packages/guard/test/implants-process/measure.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Detector } from '../../src/integrity/detector.js';
import { createProcessHooksDetector } from '../../src/integrity/process-hooks.js';
import { createResourcesDetector } from '../../src/integrity/resources.js';
import { createTmpFilesDetector } from '../../src/integrity/tmp-files.js';
import { type Context, TECHNIQUES } from './techniques.js';

const hrtime = process.hrtime.bigint;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** ns per call of `fn`, over `n` calls. */
function perCall(n: number, fn: () => void): number {
  const start = hrtime();
  for (let i = 0; i < n; i++) fn();
  return Number(hrtime() - start) / n;
}

async function main(): Promise<void> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-measure-'));
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(tmpDir, `data-${i}.json`), '{}');
  const handles: unknown[] = [];
  const ctx: Context = { tmpDir, require, leave: (h) => handles.push(h), state: {} };
  const benign = TECHNIQUES['typical legitimate work'];
  if (benign?.setup === undefined || benign.run === undefined) throw new Error('benign workload missing');
  await benign.setup(ctx);
  const noop = () => undefined;
  const before = {
    short: perCall(100_000, () => clearTimeout(setTimeout(noop, 10))),
    long: perCall(20_000, () => clearTimeout(setTimeout(noop, 5000))),
  };

  const facts = {
    taskRoot: __dirname,
    optDirs: [path.resolve(__dirname, '../../../../node_modules')],
    runtimeDir: undefined,
    tmpDir,
  };
  const detectors: Detector[] = [
    createResourcesDetector(facts),
    createProcessHooksDetector(facts),
    createTmpFilesDetector(facts),
  ];
  const baselineUs: Record<string, number> = {};
  for (const detector of detectors) {
    const start = hrtime();
    detector.baseline();
    baselineUs[detector.name] = Number(hrtime() - start) / 1000;
  }
  const after = {
    short: perCall(100_000, () => clearTimeout(setTimeout(noop, 10))),
    long: perCall(20_000, () => clearTimeout(setTimeout(noop, 5000))),
  };

  const samples: Record<string, number[]> = {};
  let drifts = 0;
  for (let round = 0; round < 200; round++) {
    if (round % 20 === 0) await benign.run(ctx);
    await sleep(1);
    for (const detector of detectors) {
      const start = hrtime();
      drifts += detector.check().length;
      const elapsedUs = Number(hrtime() - start) / 1000;
      const list = samples[detector.name] ?? [];
      list.push(elapsedUs);
      samples[detector.name] = list;
    }
  }
  const rows = Object.entries(samples).map(([name, values]) => ({
    detector: name,
    baselineUs: Math.round(baselineUs[name] ?? 0),
    firstCheckUs: Math.round(values[0] ?? 0),
    medianUs: Math.round(percentile(values.slice(1), 50)),
    p95Us: Math.round(percentile(values.slice(1), 95)),
  }));
  console.log(`Node ${process.version}; drifts seen: ${drifts} (expected 0)`);
  console.table(rows);
  console.log(
    `setTimeout+clearTimeout ns/call — before the wrappers: short ${before.short.toFixed(0)}, 5 s ${before.long.toFixed(0)}; ` +
      `wrapped: short ${after.short.toFixed(0)} (not judged), 5 s ${after.long.toFixed(0)} (judged: origin read)`,
  );
  for (const handle of handles) (handle as { close?: () => void }).close?.();
  fs.rmSync(tmpDir, { recursive: true, force: true });
  process.exit(0);
}

void main();
