/**
 * @ephemera/guard overhead benchmark: what the guard adds to one invocation (in process) and to INIT.
 *
 *   node --import tsx bench/guard.bench.mts            full run (≈20 s on 2 cores)
 *   node --import tsx bench/guard.bench.mts --quick    smoke run (≈8 s)
 *   node --import tsx bench/guard.bench.mts --src      load the guard from packages/guard/src (through
 *                                                      tsx) for the per-invocation part, not from dist
 *
 * Per invocation: `Guard` is a per-process singleton whose first install fixes the policy, so each
 * policy runs in its own child process (this file, `--child=<group>`). A child measures its variant
 * and that variant's baseline interleaved batch by batch (the order rotates every round), so both see
 * the same machine noise; "added" is always variant − baseline from the same child. A batch is
 * `batch` sequential awaited calls timed with one pair of `process.hrtime.bigint()` reads; p50/p99 are
 * over the per-call means of the batches. Every series gets its own compiled loop, so one series' call
 * target never makes another's call site polymorphic.
 *
 * INIT: fresh plain-`node` children (no tsx: the built package, as Lambda loads it), rotating a
 * baseline that only defines the handler, one that also runs `require('@ephemera/guard')` and
 * `protect(handler)` (default policy), and the same with node:http loaded first (Lambda's runtime
 * client loads it); each times itself with `process.hrtime.bigint()` and `process.cpuUsage()`.
 *
 * The machine is shared and noisy: compare the added columns, not absolute numbers across runs.
 * Results: stdout tables (aligned Markdown), bench/results/guard.json (raw samples).
 */
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type GuardModule = typeof import('../packages/guard/src/index.js');
type Invoke = (event: unknown, context: unknown) => Promise<unknown>;
type Loop = (fn: Invoke, event: unknown, context: unknown, n: number) => Promise<void>;
interface LooseMiddy {
  (event: unknown, context: unknown): Promise<unknown>;
  use(middleware: object): LooseMiddy;
}

const FILE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(FILE), '..');
const RESULTS = join(ROOT, 'bench', 'results');
const GUARD_DIR = join(ROOT, 'packages', 'guard');
const RESULT_MARK = 'BENCH_RESULT ';

const TARGET_ADDED_NS_P50 = 5_000;
const TARGET_ADDED_INIT_MS = 5;

/** A small API Gateway HTTP API (v2) event: the guard reads the source IP from it on every call. */
const EVENT = {
  version: '2.0',
  routeKey: 'GET /',
  rawPath: '/',
  headers: { host: 'example.com' },
  requestContext: { requestId: 'id', http: { method: 'GET', path: '/', sourceIp: '203.0.113.7' } },
  isBase64Encoded: false,
};
const CONTEXT = { awsRequestId: 'id', functionName: 'bench' };
const EXPECTED_BODY = 'ok';

/**
 * "No controls": every control off (`mode: 'off'`), no lifecycle limits, telemetry not written to
 * stdout (we time the engine, not console I/O).
 */
const POLICY_OFF = { mode: 'off', telemetry: { stdout: false }, lifecycle: 'off' } as const;
/**
 * The default-ish hot path: the default mode (every implemented control at its default action) and
 * lifecycle limits checked after every invocation but never reached here.
 */
const POLICY_LIFECYCLE = {
  telemetry: { stdout: false },
  lifecycle: { maxInvocations: 1_000_000_000, maxAgeSeconds: 86_400 },
} as const;

interface Config {
  quick: boolean;
  src: boolean;
  warmup: number;
  calls: number;
  batch: number;
  coldN: number;
}

function config(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const src = argv.includes('--src');
  return quick
    ? { quick, src, warmup: 5_000, calls: 40_000, batch: 1_000, coldN: 5 }
    : { quick, src, warmup: 20_000, calls: 200_000, batch: 1_000, coldN: 15 };
}

// ---------------------------------------------------------------------------------------------------
// Series and child groups
// ---------------------------------------------------------------------------------------------------

type SeriesId =
  | 'bare'
  | 'protect-off'
  | 'protect-lifecycle'
  | 'middy'
  | 'middy-guard-off'
  | 'middy-guard-lifecycle';

const SERIES_LABEL: Record<SeriesId, string> = {
  bare: '(a) bare async handler',
  'protect-off': '(b) protect(), no controls',
  'protect-lifecycle': '(b′) protect(), default controls + lifecycle limits',
  middy: '(c) middy(), no middleware',
  'middy-guard-off': '(d) middy + guardMiddleware, no controls',
  'middy-guard-lifecycle': '(d′) middy + guardMiddleware, default controls + lifecycle',
};

const SHORT_LABEL: Record<SeriesId, string> = {
  bare: '(a) bare',
  'protect-off': '(b)',
  'protect-lifecycle': '(b′)',
  middy: '(c) middy',
  'middy-guard-off': '(d)',
  'middy-guard-lifecycle': '(d′)',
};

/** One child process each: the series it measures, interleaved. */
const GROUPS = {
  'protect-off': ['bare', 'protect-off'],
  'protect-lifecycle': ['bare', 'protect-lifecycle'],
  'middy-off': ['bare', 'middy', 'middy-guard-off'],
  'middy-lifecycle': ['bare', 'middy', 'middy-guard-lifecycle'],
} as const satisfies Record<string, readonly SeriesId[]>;
type GroupId = keyof typeof GROUPS;

/** The table's rows: a series, the group (child) it comes from, and the baseline it is compared with. */
const ROWS: readonly { series: SeriesId; group: GroupId; baseline: SeriesId | null; target: boolean }[] = [
  { series: 'bare', group: 'protect-off', baseline: null, target: false },
  { series: 'protect-off', group: 'protect-off', baseline: 'bare', target: true },
  { series: 'protect-lifecycle', group: 'protect-lifecycle', baseline: 'bare', target: true },
  { series: 'middy', group: 'middy-off', baseline: 'bare', target: false },
  { series: 'middy-guard-off', group: 'middy-off', baseline: 'middy', target: true },
  { series: 'middy-guard-lifecycle', group: 'middy-lifecycle', baseline: 'middy', target: true },
  { series: 'middy-guard-off', group: 'middy-off', baseline: 'bare', target: false },
];

/**
 * A timing loop compiled from its own source text: a separate function literal (and so separate type
 * feedback) per series, so the bare handler's call site stays monomorphic next to a wrapped one.
 */
function freshLoop(tag: string): Loop {
  const body = `// series ${JSON.stringify(tag)}
return async function loop(fn, event, context, n) {
  for (let i = 0; i < n; i++) await fn(event, context);
};`;
  return new Function(body)() as Loop;
}

interface Series {
  id: SeriesId;
  fn: Invoke;
  loop: Loop;
}

/** What the child learned about the guard it installed (from the init event) and what it emitted. */
interface GuardFacts {
  init: Record<string, unknown> | null;
  /** Events published on `ephemera:event` during warm-up and measurement, by type (none expected). */
  eventsWhileMeasuring: Record<string, number>;
}

async function buildSeries(group: GroupId, src: boolean): Promise<{ series: Series[]; facts: GuardFacts }> {
  // The guard publishes every event on this channel too: the init event says what was installed.
  const facts: GuardFacts = { init: null, eventsWhileMeasuring: {} };
  let measuring = false;
  diagnosticsChannel.subscribe('ephemera:event', (message) => {
    const event = message as { type?: string; detail?: Record<string, unknown> };
    if (event.type === 'init' && facts.init === null) facts.init = event.detail ?? {};
    if (measuring) {
      const type = String(event.type);
      facts.eventsWhileMeasuring[type] = (facts.eventsWhileMeasuring[type] ?? 0) + 1;
    }
  });
  const guard = (await import(
    src ? pathToSpecifier(join(GUARD_DIR, 'src', 'index.ts')) : '@ephemera/guard'
  )) as GuardModule;
  const handler = async (_event: unknown, _context: unknown) => ({ statusCode: 200, body: EXPECTED_BODY });
  const ids: readonly SeriesId[] = GROUPS[group];
  const middy = ids.some((id) => id.startsWith('middy'))
    ? ((await import('@middy/core')).default as unknown as (handler: Invoke) => LooseMiddy)
    : () => {
        throw new Error('middy not loaded');
      };
  const make = (id: SeriesId): Invoke => {
    switch (id) {
      case 'bare':
        return handler;
      case 'protect-off':
        return guard.protect(handler, POLICY_OFF);
      case 'protect-lifecycle':
        return guard.protect(handler, POLICY_LIFECYCLE);
      case 'middy':
        return middy(handler);
      case 'middy-guard-off':
        return middy(handler).use(guard.guardMiddleware(POLICY_OFF));
      case 'middy-guard-lifecycle':
        return middy(handler).use(guard.guardMiddleware(POLICY_LIFECYCLE));
    }
  };
  const series = ids.map((id) => ({ id, fn: make(id), loop: freshLoop(`${group}/${id}`) }));
  for (const s of series) {
    const result = (await s.fn(EVENT, CONTEXT)) as { statusCode?: unknown; body?: unknown } | undefined;
    if (result?.statusCode !== 200 || result.body !== EXPECTED_BODY) {
      throw new Error(`${s.id}: unexpected result ${JSON.stringify(result)}`);
    }
  }
  measuring = true;
  return { series, facts };
}

function pathToSpecifier(path: string): string {
  return new URL(`file://${path}`).href;
}

// ---------------------------------------------------------------------------------------------------
// Child: per-invocation timing
// ---------------------------------------------------------------------------------------------------

interface ChildResult {
  group: GroupId;
  guardFacts: GuardFacts;
  batches: number;
  batch: number;
  /** Per-call ns of each batch, index = round (same index = measured in the same round). */
  samples: Record<string, number[]>;
}

async function runChild(group: GroupId, cfg: Config): Promise<void> {
  const { series, facts: guardFacts } = await buildSeries(group, cfg.src);
  const warmBatches = Math.ceil(cfg.warmup / cfg.batch);
  for (let b = 0; b < warmBatches; b++) {
    for (const s of series) await s.loop(s.fn, EVENT, CONTEXT, cfg.batch);
  }
  const batches = Math.ceil(cfg.calls / cfg.batch);
  const samples: number[][] = series.map(() => []);
  for (let b = 0; b < batches; b++) {
    for (let k = 0; k < series.length; k++) {
      const i = (b + k) % series.length; // rotate which series goes first in the round
      const s = series[i] as Series;
      const t0 = process.hrtime.bigint();
      await s.loop(s.fn, EVENT, CONTEXT, cfg.batch);
      const t1 = process.hrtime.bigint();
      (samples[i] as number[]).push(Number(t1 - t0) / cfg.batch);
    }
  }
  const result: ChildResult = {
    group,
    guardFacts,
    batches,
    batch: cfg.batch,
    samples: Object.fromEntries(series.map((s, i) => [s.id, samples[i] as number[]])),
  };
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Cold start (INIT) children: plain node, the built package
// ---------------------------------------------------------------------------------------------------

const HANDLER_SRC = "async (event, context) => ({ statusCode: 200, body: 'ok' })";
const REPORT = `process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify(result) + '\\n');`;
const GUARD_INIT = `const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const guard = require('@ephemera/guard');
const tRequire = process.hrtime.bigint();
const handler = guard.protect(${HANDLER_SRC});
const c1 = process.cpuUsage(c0);
const t1 = process.hrtime.bigint();
globalThis.handler = handler;
const result = {
  initMs: Number(t1 - t0) / 1e6,
  cpuMs: (c1.user + c1.system) / 1e3,
  requireMs: Number(tRequire - t0) / 1e6,
  protectMs: Number(t1 - tRequire) / 1e6,
};
${REPORT}`;
const COLD_SCRIPTS = {
  baseline: `const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const handler = ${HANDLER_SRC};
const c1 = process.cpuUsage(c0);
const t1 = process.hrtime.bigint();
globalThis.handler = handler;
const result = { initMs: Number(t1 - t0) / 1e6, cpuMs: (c1.user + c1.system) / 1e3 };
${REPORT}`,
  guard: GUARD_INIT,
  // Lambda's runtime interface client has loaded node:http before it loads the handler module.
  guardHttpLoaded: `require('node:http');\n${GUARD_INIT}`,
} as const;
type ColdKind = keyof typeof COLD_SCRIPTS;

interface ColdSample {
  initMs: number;
  /** CPU time of the process over the same span (all its threads): less sensitive to other load. */
  cpuMs: number;
  requireMs?: number;
  protectMs?: number;
  wallMs: number;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; wallMs: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env, maxBuffer: 64 * 2 ** 20, timeout: 120_000 },
      (error, stdout, stderr) => {
        const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
        if (error) reject(new Error(`node ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolvePromise({ stdout, wallMs });
      },
    );
  });
}

function parseResult<T>(stdout: string): T {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARK));
  if (line === undefined) throw new Error(`child printed no result:\n${stdout.slice(0, 2000)}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

/** The environment without EPHEMERA_* variables: the default policy, whatever the caller's shell sets. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('EPHEMERA_')) env[key] = value;
  return env;
}

async function measureCold(n: number): Promise<Record<ColdKind, ColdSample[]>> {
  const env = cleanEnv();
  const kinds = Object.keys(COLD_SCRIPTS) as ColdKind[];
  const out = Object.fromEntries(kinds.map((k) => [k, [] as ColdSample[]])) as Record<ColdKind, ColdSample[]>;
  const once = async (kind: ColdKind): Promise<ColdSample> => {
    const { stdout, wallMs } = await run(['-e', COLD_SCRIPTS[kind]], env);
    return { ...parseResult<Omit<ColdSample, 'wallMs'>>(stdout), wallMs };
  };
  for (const kind of kinds) await once(kind); // discarded: warms the file cache
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(i + k) % kinds.length] as ColdKind; // rotate which kind goes first
      out[kind].push(await once(kind));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Statistics and tables
// ---------------------------------------------------------------------------------------------------

/** Linear-interpolated quantile of unsorted values. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

const ns = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const signedNs = (v: number) => `${v >= 0 ? '+' : '−'}${ns(Math.abs(v))}`;
const msText = (v: number) => v.toFixed(2);
const signedMs = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
const round2 = (v: number) => Math.round(v * 100) / 100;

interface Table {
  title: string;
  headers: string[];
  /** Per column: right-aligned (numbers) or not. */
  right: boolean[];
  rows: string[][];
  notes: string[];
}

/** A Markdown table with padded, aligned columns: readable on stdout and pasteable into the docs. */
function render(table: Table): string {
  const widths = table.headers.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const cell = (text: string, i: number) =>
    table.right[i] ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (table.right[i] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  const out = [`#### ${table.title}`, '', line(table.headers), rule, ...table.rows.map(line)];
  if (table.notes.length > 0) out.push('', ...table.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------------

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Source files newer than their built output (then the built package lags the code under review). */
function staleDist(): string[] {
  try {
    return readdirSync(join(GUARD_DIR, 'src'))
      .filter((f) => /\.m?ts$/.test(f))
      .filter((f) => {
        const built = join(GUARD_DIR, 'dist', f.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
        try {
          return statSync(join(GUARD_DIR, 'src', f)).mtimeMs > statSync(built).mtimeMs;
        } catch {
          return true;
        }
      });
  } catch {
    return ['(no packages/guard/src)'];
  }
}

async function main(cfg: Config): Promise<void> {
  const started = Date.now();
  const tmpEntries = (() => {
    try {
      return readdirSync(tmpdir()).length;
    } catch {
      return -1;
    }
  })();
  const facts = {
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    node: process.version,
    loadavgStart: loadavg().map(round2),
    date: new Date().toISOString(),
    tmpEntries,
    guardSource: cfg.src ? 'packages/guard/src (tsx)' : '@ephemera/guard (packages/guard/dist)',
    staleDist: staleDist(),
  };
  console.log(
    `guard bench (${cfg.quick ? 'quick' : 'full'}): ${facts.nproc} CPUs, ${facts.cpuModel}, node ${facts.node}, ` +
      `load ${facts.loadavgStart.join(' ')}`,
  );
  if (facts.staleDist.length > 0) {
    console.log(
      `WARNING: packages/guard/src has files modified after their dist build (${facts.staleDist.join(', ')}); ` +
        `if their code changed, ${cfg.src ? 'the INIT section measures' : 'this run measures'} the last build: ` +
        'run `npm run build` first.',
    );
  }

  const children: Partial<Record<GroupId, ChildResult>> = {};
  for (const group of Object.keys(GROUPS) as GroupId[]) {
    const args = ['--import', 'tsx', FILE, `--child=${group}`, ...(cfg.quick ? ['--quick'] : [])];
    if (cfg.src) args.push('--src');
    process.stdout.write(`  per-invocation: ${group} … `);
    const { stdout, wallMs } = await run(args, cleanEnv());
    children[group] = parseResult<ChildResult>(stdout);
    process.stdout.write(`${(wallMs / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`  init: ${cfg.coldN} × ${Object.keys(COLD_SCRIPTS).length} fresh processes … `);
  const coldStart = Date.now();
  const cold = await measureCold(cfg.coldN);
  process.stdout.write(`${((Date.now() - coldStart) / 1000).toFixed(1)} s\n`);

  // Per-invocation table.
  const seriesOf = (group: GroupId, id: SeriesId): number[] => {
    const values = children[group]?.samples[id];
    if (!values) throw new Error(`no samples for ${group}/${id}`);
    return values;
  };
  const hotSummary = ROWS.map((row) => {
    const values = seriesOf(row.group, row.series);
    const summary = { ...row, p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
    if (row.baseline === null) return { ...summary, vs: null };
    const base = seriesOf(row.group, row.baseline);
    const baseP50 = quantile(base, 0.5);
    return {
      ...summary,
      vs: {
        baseP50,
        baseP99: quantile(base, 0.99),
        addedP50: summary.p50 - baseP50,
        addedP99: summary.p99 - quantile(base, 0.99),
        // Cross-check, less sensitive to load drift: the median of same-round differences.
        pairedAddedP50: quantile(
          values.map((v, i) => v - (base[i] ?? Number.NaN)),
          0.5,
        ),
        ratioP50: summary.p50 / baseP50,
      },
    };
  });
  const guardGroups = (Object.keys(GROUPS) as GroupId[]).filter((g) => children[g]?.guardFacts.init);
  const initOfGroup = (g: GroupId) => children[g]?.guardFacts.init ?? {};
  const controlsNote = guardGroups
    .map((g) => `${g}: [${((initOfGroup(g).controls as unknown[] | undefined) ?? []).join(', ')}]`)
    .join('; ');
  const recycleNote = String(initOfGroup(guardGroups[0] ?? 'protect-off').recycle ?? 'unknown');
  const emitted = guardGroups.filter(
    (g) => Object.keys(children[g]?.guardFacts.eventsWhileMeasuring ?? {}).length > 0,
  );
  const eventsNote =
    emitted.length === 0
      ? ' No guard event was emitted while measuring.'
      : ` WARNING: guard events were emitted while measuring: ${emitted.map((g) => `${g} ${JSON.stringify(children[g]?.guardFacts.eventsWhileMeasuring)}`).join('; ')}.`;
  const verdict = (added: number, limit: number) => (added <= limit ? 'met' : 'NOT met');
  const hotTable: Table = {
    title: 'Guard overhead per invocation, in process (ns per call)',
    headers: [
      'variant',
      'vs (same process)',
      'baseline p50',
      'p50',
      'p99',
      'added p50',
      'added p99',
      'added, paired median',
      '× p50',
      `target: added p50 ≤ ${TARGET_ADDED_NS_P50 / 1000} µs`,
    ],
    right: [false, false, true, true, true, true, true, true, true, false],
    rows: hotSummary.map((r) => [
      SERIES_LABEL[r.series],
      r.baseline === null ? '—' : SHORT_LABEL[r.baseline],
      r.vs === null ? '—' : ns(r.vs.baseP50),
      ns(r.p50),
      ns(r.p99),
      r.vs === null ? '—' : signedNs(r.vs.addedP50),
      r.vs === null ? '—' : signedNs(r.vs.addedP99),
      r.vs === null ? '—' : signedNs(r.vs.pairedAddedP50),
      r.vs === null ? '—' : `${r.vs.ratioP50.toFixed(2)}×`,
      !r.target || r.vs === null ? '—' : verdict(r.vs.addedP50, TARGET_ADDED_NS_P50),
    ]),
    notes: [
      `${cfg.calls.toLocaleString('en-US')} sequential awaited calls per series after ${cfg.warmup.toLocaleString('en-US')} warm-up calls, timed in batches of ${cfg.batch.toLocaleString('en-US')}; p50/p99 over the ${Math.ceil(cfg.calls / cfg.batch)} per-batch means (GC pauses land in p99).`,
      'Each policy runs in its own child process (Guard is a per-process singleton); a variant and its baseline are measured interleaved, batch by batch, in that process. "added p50/p99" = variant − baseline quantile; "added, paired median" = median over rounds of (variant batch − baseline batch of the same round); when machine noise comes in phases the two p50s can fall in different phases, and the paired median is then the steadier estimate.',
      'Handler: `async (event, context) => ({ statusCode: 200, body: "ok" })`, called with a small API Gateway HTTP API event and the context `{ awsRequestId: "id", functionName: "bench" }`.',
      `Policies: no controls = \`${JSON.stringify(POLICY_OFF)}\`; default controls + lifecycle = \`${JSON.stringify(POLICY_LIFECYCLE)}\` (limits never reached: no recycle). Controls the guard ran (init event): ${controlsNote}. Telemetry writes nothing per invocation (stdout off, EMF off).${eventsNote}`,
      `Outside Lambda the runtime hook is not installed (init event: recycle ${JSON.stringify(recycleNote)}); the per-invocation path measured here is the same, the post-response hook is not exercised.`,
      'middy: @middy/core 7, default options; the fake context has no getRemainingTimeInMillis, so middy arms no early-timeout timer (it still builds a request object and an AbortController per call). (d) is compared with (c) in the same process; its last row compares it with (a).',
      `Guard loaded from ${facts.guardSource}.`,
    ],
  };

  // INIT table.
  const coldStats = (values: readonly number[]) => ({
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
  });
  const field = (kind: ColdKind, key: keyof ColdSample) =>
    coldStats(cold[kind].map((sample) => sample[key] ?? Number.NaN));
  const initOf = (kind: ColdKind) => ({
    init: field(kind, 'initMs'),
    cpu: field(kind, 'cpuMs'),
    require: field(kind, 'requireMs'),
    protect: field(kind, 'protectMs'),
    wall: field(kind, 'wallMs'),
  });
  const coldSummary = {
    baseline: initOf('baseline'),
    guard: initOf('guard'),
    guardHttpLoaded: initOf('guardHttpLoaded'),
  };
  const added = (kind: 'guard' | 'guardHttpLoaded', key: 'init' | 'cpu' | 'wall') => ({
    p50: coldSummary[kind][key].p50 - coldSummary.baseline[key].p50,
    p95: coldSummary[kind][key].p95 - coldSummary.baseline[key].p95,
  });
  const initAdded = { guard: added('guard', 'init'), guardHttpLoaded: added('guardHttpLoaded', 'init') };
  const cpuAdded = { guard: added('guard', 'cpu'), guardHttpLoaded: added('guardHttpLoaded', 'cpu') };
  const wallAdded = added('guard', 'wall');
  const initVerdict = (a: { p50: number; p95: number }) =>
    `p50 ${verdict(a.p50, TARGET_ADDED_INIT_MS)}; p95 ${verdict(a.p95, TARGET_ADDED_INIT_MS)}`;
  const stat = (s: { p50: number; p95: number }) => [msText(s.p50), msText(s.p95)];
  const blank = ['', '', '', '', '', '', ''];
  const initTable: Table = {
    title: 'Guard cost at INIT (cold start), fresh processes (ms)',
    headers: [
      'measured span',
      'p50',
      'p95',
      'added p50',
      'added p95',
      'CPU p50',
      'added CPU p50',
      `target: added ≤ ${TARGET_ADDED_INIT_MS} ms`,
    ],
    right: [false, true, true, true, true, true, true, false],
    rows: [
      [
        '(i) baseline: define the handler',
        ...stat(coldSummary.baseline.init),
        '—',
        '—',
        msText(coldSummary.baseline.cpu.p50),
        '—',
        '—',
      ],
      [
        "(ii) require('@ephemera/guard') + protect(handler)",
        ...stat(coldSummary.guard.init),
        signedMs(initAdded.guard.p50),
        signedMs(initAdded.guard.p95),
        msText(coldSummary.guard.cpu.p50),
        signedMs(cpuAdded.guard.p50),
        initVerdict(initAdded.guard),
      ],
      ["     of which require('@ephemera/guard')", ...stat(coldSummary.guard.require), ...blank.slice(2)],
      ['     of which protect(handler)', ...stat(coldSummary.guard.protect), ...blank.slice(2)],
      [
        '(iii) as (ii), node:http already loaded (as by Lambda’s runtime client)',
        ...stat(coldSummary.guardHttpLoaded.init),
        signedMs(initAdded.guardHttpLoaded.p50),
        signedMs(initAdded.guardHttpLoaded.p95),
        msText(coldSummary.guardHttpLoaded.cpu.p50),
        signedMs(cpuAdded.guardHttpLoaded.p50),
        initVerdict(initAdded.guardHttpLoaded),
      ],
      [
        "     of which require('@ephemera/guard')",
        ...stat(coldSummary.guardHttpLoaded.require),
        ...blank.slice(2),
      ],
      ['whole process, spawn → exit: (i)', ...stat(coldSummary.baseline.wall), '—', '—', '', '', '—'],
      [
        'whole process, spawn → exit: (ii)',
        ...stat(coldSummary.guard.wall),
        signedMs(wallAdded.p50),
        signedMs(wallAdded.p95),
        '',
        '',
        '(context only)',
      ],
    ],
    notes: [
      `${cfg.coldN} fresh \`node -e\` processes per kind (plain node, no tsx; the built CommonJS package in packages/guard/dist), kinds rotating, after one discarded warm-up each. Spans timed in-process with process.hrtime.bigint() (wall; the target is judged on it) and process.cpuUsage() (CPU of all the process's threads over the same span: less sensitive to other load on a shared machine). "added" = kind − (i), quantile by quantile.`,
      'protect(handler) uses the default policy: it resolves and freezes the policy (checking EPHEMERA_* variables; none set), snapshots the temp directory, looks for the runtime client, and writes the init event line to stdout.',
      `The temp directory (${tmpdir()}) had ${tmpEntries} entries (the guard lists it at INIT; Lambda's /tmp is usually near empty). Outside Lambda no runtime hook is installed.`,
      '"whole process" includes Node start-up and exit and is much noisier; context only.',
    ],
  };

  const hotText = render(hotTable);
  const initText = render(initTable);
  console.log(`\n${hotText}\n\n${initText}\n`);
  const facts2 = { ...facts, loadavgEnd: loadavg().map(round2), totalSeconds: (Date.now() - started) / 1000 };
  console.log(
    `machine: nproc ${facts2.nproc}; ${facts2.cpuModel}; node ${facts2.node}; load ${facts2.loadavgStart.join(' ')} → ${facts2.loadavgEnd.join(' ')}; ${facts2.totalSeconds.toFixed(1)} s`,
  );

  mkdirSync(RESULTS, { recursive: true });
  const out = join(RESULTS, 'guard.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        config: cfg,
        machine: facts2,
        targets: { addedNsP50: TARGET_ADDED_NS_P50, addedInitMs: TARGET_ADDED_INIT_MS },
        perInvocation: { summary: hotSummary, children },
        init: {
          summary: { ...coldSummary, added: initAdded, cpuAdded, wallAdded },
          samples: cold,
        },
        tables: { perInvocation: hotText, init: initText },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`raw results: ${out}`);
}

const cfg = config(process.argv.slice(2));
const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg !== undefined) {
  const group = childArg.slice('--child='.length);
  if (!Object.hasOwn(GROUPS, group)) throw new Error(`unknown child group ${group}`);
  await runChild(group as GroupId, cfg);
} else {
  await main(cfg);
}
