/**
 * Init-inventory benchmark: what the init-time patch inventory (integrity.initPatches, register and
 * exec-wrapper modes) adds to a cold start, on a function that loads the AWS SDK v3 DynamoDB client
 * and DocumentClient, express and pg at INIT (bench/fixtures/init-inventory-fn, ~300 modules).
 *
 *   node --import tsx bench/init-inventory.bench.ts            (25 cold starts per arm)
 *   node --import tsx bench/init-inventory.bench.ts --quick    (8 per arm)
 *   node --import tsx bench/init-inventory.bench.ts --instructions
 *       (valgrind's callgrind: instructions executed by the main thread, register-off vs inventory
 *       on, two runs each — repeatable within ~0.2 % whatever else the machine is doing; V8's
 *       background compiler and GC threads are left out, they vary from run to run)
 *
 * Each sample is a fresh `node` process (the built guard, dist/): the function is required, then the
 * inventory is ended as the guard ends it when created. Arms, rotated sample by sample so they share
 * the machine's noise: no guard; register with EPHEMERA_INIT_PATCHES=off; register with the
 * inventory. "Cold start" is the time from process start to the end of INIT as the probe sees it
 * (performance.now()); "added" is arm − register-off, median against median. CPU time (user +
 * system, process.cpuUsage) is reported beside it: on a shared machine wall time includes the time
 * the process waited for a core, CPU time does not. The inventory's own
 * accounting (recording at start, comparisons) is reported beside it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './lib/machine.js';
import { ms, ratio, summarize } from './lib/stats.js';
import { renderMarkdown, renderText, type Table } from './lib/table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MEASURE = join(ROOT, 'bench', 'fixtures', 'init-inventory-fn', 'measure.cjs');
const REGISTER = join(ROOT, 'packages', 'guard', 'dist', 'register.js');
const MARK = 'INIT-INVENTORY-BENCH ';
const SAMPLES = process.argv.includes('--quick') ? 8 : 25;

const ARMS = [
  { name: 'bare', label: 'no guard', register: false, inventory: false },
  { name: 'off', label: 'register, EPHEMERA_INIT_PATCHES=off', register: true, inventory: false },
  { name: 'on', label: 'register, init inventory on', register: true, inventory: true },
] as const;

interface Sample {
  sinceProcessStart: number;
  /** CPU milliseconds (user + system) of the process up to the end of INIT. */
  cpu: number;
  load: number;
  finish: number;
  modules: number;
  inventory: {
    patches: string[];
    modules: number;
    comparisons: number;
    costMs: number;
    startMs: number;
  } | null;
}

function coldStart(arm: (typeof ARMS)[number]): Sample {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.EPHEMERA_ORIGINAL_HANDLER;
  if (arm.register) {
    // What register sees in a Lambda runtime process (the runtime API is never contacted here).
    env.AWS_LAMBDA_RUNTIME_API = '127.0.0.1:9';
    env._HANDLER = 'index.handler';
    env.EPHEMERA_INIT_PATCHES = arm.inventory ? 'alert' : 'off';
  }
  const args = arm.register ? ['--require', REGISTER, MEASURE] : [MEASURE];
  const out = execFileSync(process.execPath, args, { env, encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`no result from ${arm.name}: ${out}`);
  return JSON.parse(line.slice(MARK.length)) as Sample;
}

/** Instructions the main thread executed in one cold start of `arm` (callgrind, one thread per file). */
function mainThreadInstructions(arm: (typeof ARMS)[number]): number {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-callgrind-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', NODE_NO_WARNINGS: '1' };
    delete env.EPHEMERA_ORIGINAL_HANDLER;
    env.AWS_LAMBDA_RUNTIME_API = '127.0.0.1:9';
    env._HANDLER = 'index.handler';
    env.EPHEMERA_INIT_PATCHES = arm.inventory ? 'alert' : 'off';
    const out = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(dir, 'out')}`,
        process.execPath,
        '--require',
        REGISTER,
        MEASURE,
      ],
      { env, encoding: 'utf8', timeout: 600_000 },
    );
    if (out.status !== 0) throw new Error(`callgrind failed (${out.status}): ${out.stderr.slice(-500)}`);
    const first = readdirSync(dir).find((f) => f.endsWith('-01'));
    const totals = first ? /^totals:\s+(\d+)/m.exec(readFileSync(join(dir, first), 'utf8')) : null;
    if (!totals) throw new Error('no main-thread totals in the callgrind output');
    return Number(totals[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--instructions')) {
  const arms = ARMS.filter((a) => a.register);
  const counts = new Map<string, number[]>(arms.map((a) => [a.name, []]));
  for (let i = 0; i < 2; i++) for (const arm of arms) counts.get(arm.name)?.push(mainThreadInstructions(arm));
  const mean = (name: string) => {
    const xs = counts.get(name) ?? [];
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const off = mean('off');
  const millions = (n: number) => `${(n / 1e6).toFixed(1)} M`;
  const table: Table = {
    title: 'Init-time patch inventory: main-thread instructions of one cold start (callgrind, 2 runs each)',
    headers: ['arm', 'instructions (mean)', 'runs', 'added vs register-off', 'ratio'],
    rows: arms.map((arm) => [
      arm.label,
      millions(mean(arm.name)),
      (counts.get(arm.name) ?? []).map(millions).join(', '),
      arm.name === 'off' ? '–' : millions(mean(arm.name) - off),
      ratio(mean(arm.name), off),
    ]),
    notes: [`machine: ${JSON.stringify(machine())}`],
  };
  console.log(renderText(table));
  console.log(`\n${renderMarkdown(table)}`);
  process.exit(0);
}

const samples = new Map<string, Sample[]>(ARMS.map((a) => [a.name, []]));
for (const arm of ARMS) coldStart(arm); // warm the file cache once per arm
for (let i = 0; i < SAMPLES; i++) {
  for (let k = 0; k < ARMS.length; k++) {
    const arm = ARMS[(i + k) % ARMS.length] as (typeof ARMS)[number];
    samples.get(arm.name)?.push(coldStart(arm));
  }
}

const p50 = (arm: string, pick: (s: Sample) => number) => summarize((samples.get(arm) ?? []).map(pick)).p50;
const base = p50('off', (s) => s.sinceProcessStart);
const baseCpu = p50('off', (s) => s.cpu);
const on = samples.get('on') ?? [];
const inv = on.map((s) => s.inventory).filter((x) => x !== null);
const table: Table = {
  title: `Init-time patch inventory on cold start (${on[0]?.modules ?? '?'} modules, ${SAMPLES} cold starts per arm)`,
  headers: [
    'arm',
    'cold start p50',
    'p95',
    'added vs register-off (p50)',
    'ratio',
    'CPU p50',
    'CPU added vs register-off (p50)',
    'loading the function p50',
  ],
  rows: ARMS.map((arm) => {
    const all = summarize((samples.get(arm.name) ?? []).map((s) => s.sinceProcessStart));
    return [
      arm.label,
      ms(all.p50),
      ms(all.p95),
      arm.name === 'off' ? '–' : ms(all.p50 - base),
      ratio(all.p50, base),
      ms(p50(arm.name, (s) => s.cpu)),
      arm.name === 'off' ? '–' : ms(p50(arm.name, (s) => s.cpu) - baseCpu),
      ms(p50(arm.name, (s) => s.load + s.finish)),
    ];
  }),
  notes: [
    `inventory's own accounting (p50): recording at register ${ms(summarize(inv.map((x) => x.startMs)).p50)}, comparisons ${ms(summarize(inv.map((x) => x.costMs)).p50)} over ${inv[0]?.comparisons ?? '?'} comparisons, ${inv[0]?.modules ?? '?'} modules compiled while recording`,
    `patches found in this function: ${inv[0]?.patches.length ? inv[0].patches.join(', ') : 'none'}`,
    `machine: ${JSON.stringify(machine())}; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ],
};
console.log(renderText(table));
console.log(`\n${renderMarkdown(table)}`);
