/**
 * Cost of the fs and childProcess hooks per call, against the same call unguarded, in one process;
 * and what the exec wrapper's flag computation adds to a cold start.
 *
 *   node --import tsx bench/sinks.bench.ts            full run
 *   node --import tsx bench/sinks.bench.ts --quick    smoke run
 *
 * The originals are captured before the controls install their hooks, so `plain` calls the very
 * function the hook wraps. The controls are in `block` mode after INIT, with allow-lists that admit
 * every call timed (the common path: the call is judged — path normalised, symlinks resolved,
 * allow-lists checked, the firewall seam asked — and then runs). Series alternate batch by batch in a
 * rotating order so both see the same machine noise; a sample is `batch` sequential calls timed with
 * one pair of `process.hrtime.bigint()` reads; the table shows medians of the per-call means and
 * "added" is guarded − plain from the same run.
 *
 * Cold start: `node dist/exec-flags.js` (what the wrapper runs before the runtime starts) against
 * `node -e 0`, alternated, wall time of each process.
 */
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChildProcessControl } from '../packages/guard/src/sinks/child-process.js';
import { createFsControl } from '../packages/guard/src/sinks/fs.js';
import { renderMarkdown, renderText, type Table } from './lib/table.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 5 : 25;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const plain = {
  readFileSync: fs.readFileSync,
  readFile: fs.promises.readFile,
  writeFileSync: fs.writeFileSync,
  spawnSync: childProcess.spawnSync,
  spawn: childProcess.spawn,
  execFileSync: childProcess.execFileSync,
};

const dir = fs.mkdtempSync(join(tmpdir(), 'ephemera-sinks-bench-'));
const file = join(dir, 'data.json');
plain.writeFileSync(file, JSON.stringify({ hello: 'world', n: 42 }));
const trueBinary = fs.realpathSync('/usr/bin/true');

const fsControl = createFsControl({
  action: 'block',
  read: ['/'],
  write: [dir],
  readSource: false,
  sourceRoots: [join(ROOT, 'packages')],
});
fsControl.install();
fsControl.endOfInit();
const cpControl = createChildProcessControl({ action: 'block', allow: [trueBinary] });
cpControl.install();
cpControl.endOfInit();

interface Op {
  readonly name: string;
  readonly batch: number;
  readonly plain: () => unknown;
  readonly guarded: () => unknown;
}

const exitOf = (child: childProcess.ChildProcess) =>
  new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
  });

const OPS: Op[] = [
  {
    name: 'fs.readFileSync (small file in /tmp)',
    batch: 2000,
    plain: () => plain.readFileSync(file, 'utf8'),
    guarded: () => fs.readFileSync(file, 'utf8'),
  },
  {
    name: 'fs.promises.readFile (small file in /tmp)',
    batch: 500,
    plain: () => plain.readFile(file, 'utf8'),
    guarded: () => fs.promises.readFile(file, 'utf8'),
  },
  {
    name: 'fs.writeFileSync (small file in /tmp)',
    batch: 1000,
    plain: () => plain.writeFileSync(join(dir, 'out.txt'), 'x'),
    guarded: () => fs.writeFileSync(join(dir, 'out.txt'), 'x'),
  },
  {
    name: 'child_process.spawnSync(/usr/bin/true) allowed',
    batch: 20,
    plain: () => plain.spawnSync(trueBinary),
    guarded: () => childProcess.spawnSync('true'),
  },
  {
    name: 'child_process.spawn(/usr/bin/true) allowed, to exit',
    batch: 20,
    plain: () => exitOf(plain.spawn(trueBinary)),
    guarded: () => exitOf(childProcess.spawn('true')),
  },
];

async function timeBatch(fn: () => unknown, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / n; // µs per call
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const us = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(2)} µs`);

async function hookCosts(): Promise<Table> {
  const rows: string[][] = [];
  for (const op of OPS) {
    const samples = { plain: [] as number[], guarded: [] as number[] };
    await timeBatch(op.plain, Math.ceil(op.batch / 4)); // warm-up
    await timeBatch(op.guarded, Math.ceil(op.batch / 4));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plain', 'guarded'] as const) : (['guarded', 'plain'] as const);
      for (const series of order) samples[series].push(await timeBatch(op[series], op.batch));
    }
    const p = median(samples.plain);
    const g = median(samples.guarded);
    rows.push([op.name, us(p), us(g), us(g - p), `${(g / p).toFixed(2)}×`]);
  }
  return {
    title: 'fs and childProcess hooks: cost per call (block mode, allowed call, after INIT)',
    headers: ['operation', 'plain', 'guarded', 'added', 'ratio'],
    rows,
    notes: [
      `medians of ${ROUNDS} alternating batches; ${availableParallelism()} CPUs, load ${loadavg()[0]?.toFixed(2)}`,
      'guarded spawn/spawnSync name `true` (resolved through PATH by the hook) where plain names the absolute path',
    ],
  };
}

function wall(command: string, args: string[]): number {
  const start = process.hrtime.bigint();
  plain.execFileSync(command, args, { env: { ...process.env, NODE_OPTIONS: '' }, stdio: 'pipe' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function coldStart(): Table {
  const flagsScript = join(ROOT, 'packages', 'guard', 'dist', 'exec-flags.js');
  if (!fs.existsSync(flagsScript)) throw new Error(`${flagsScript} is missing: run \`npx tsc -b\` first`);
  const runs = QUICK ? 5 : 20;
  const base: number[] = [];
  const flags: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      base.push(wall(process.execPath, ['-e', '0']));
      flags.push(wall(process.execPath, [flagsScript]));
    } else {
      flags.push(wall(process.execPath, [flagsScript]));
      base.push(wall(process.execPath, ['-e', '0']));
    }
  }
  const b = median(base);
  const f = median(flags);
  return {
    title: 'exec wrapper: computing the Node flags at cold start',
    headers: ['process', 'wall (median)'],
    rows: [
      ['node -e 0', `${b.toFixed(1)} ms`],
      ['node dist/exec-flags.js (default policy)', `${f.toFixed(1)} ms`],
      [
        'added to a cold start by the wrapper',
        `${f.toFixed(1)} ms (of which ${(f - b).toFixed(1)} ms beyond a bare Node start)`,
      ],
    ],
    notes: [`${runs} runs each, alternated; Node ${process.versions.node}`],
  };
}

/** INIT: loading and installing each control in a fresh Node (built package, no tsx), in ms. */
function initCost(): Table {
  const dist = join(ROOT, 'packages', 'guard', 'dist', 'sinks');
  const script = `
    const t = () => Number(process.hrtime.bigint()) / 1e6;
    const out = {};
    let s = t();
    require(${JSON.stringify(join(dist, 'fs.js'))}).createFsControl({ action: 'block', read: ['/'], write: ['/tmp'], readSource: false }).install();
    out.fs = t() - s; s = t();
    require(${JSON.stringify(join(dist, 'child-process.js'))}).createChildProcessControl({ action: 'block', allow: [] }).install();
    out.childProcess = t() - s; s = t();
    require(${JSON.stringify(join(dist, 'internals.js'))}).createInternalsControl({ action: 'block' }).install();
    out.internals = t() - s;
    console.log(JSON.stringify(out));`;
  const runs = QUICK ? 5 : 15;
  const samples: Record<string, number[]> = { fs: [], childProcess: [], internals: [] };
  for (let i = 0; i < runs; i++) {
    const out = JSON.parse(
      plain.execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }),
    ) as Record<string, number>;
    for (const key of Object.keys(samples)) samples[key]?.push(out[key] as number);
  }
  return {
    title: 'INIT: loading and installing each control (fresh Node, in this order)',
    headers: ['control', 'added to INIT (median)'],
    rows: Object.entries(samples).map(([name, values]) => [name, `${median(values).toFixed(2)} ms`]),
    notes: [
      `${runs} fresh processes; childProcess includes loading node:child_process, internals node:inspector`,
    ],
  };
}

const tables = [await hookCosts(), coldStart(), initCost()];
for (const t of tables) console.log(renderText(t));
console.log('\n--- Markdown ---\n');
for (const t of tables) console.log(`${renderMarkdown(t)}\n`);
fs.rmSync(dir, { recursive: true, force: true });
