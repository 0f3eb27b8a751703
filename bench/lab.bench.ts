/**
 * Ephemera lab benchmark: cold starts, warm overhead, throughput, and the same handler under
 * lambda-local and serverless-offline, plus an observed semantics table.
 *
 *   npm run bench               full run (≈2–3 min)
 *   npm run bench -- --quick    smoke run (≈30 s; skips serverless-offline unless --sls is given)
 *   npm run bench -- --no-sls   skip serverless-offline even when it is installed
 *
 * serverless-offline is looked up in the project's node_modules, else in $BENCH_SLS_DIR (a scratch
 * directory where `npm i serverless@3 serverless-offline@13` was run).
 *
 * The machine is shared and noisy: every comparison is a ratio against a baseline measured in this
 * same run (interleaved with the measurement where possible), and latencies are p50/p95, not means.
 * Results: stdout tables, bench/results/lab.json (raw samples), bench/results/lab.md (tables).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeAll, track } from './lib/cleanup.js';
import { leftoverChildren, machine } from './lib/machine.js';
import { locateServerless, type SlsOffline, startServerlessOffline } from './lib/serverless-offline.js';
import { ms, ratio, raw, round, type Summary, summarize } from './lib/stats.js';
import { renderMarkdown, renderText, type Table } from './lib/table.js';
import { type ColdResult, measureColdStarts } from './sections/cold.js';
import { type Property, probeSemantics, type SemanticsResult, type Tool } from './sections/semantics.js';
import { measureSequential, type SequentialSeries } from './sections/sequential.js';
import { CONCURRENCY, measureThroughput, type ThroughputSeries } from './sections/throughput.js';

interface Config {
  quick: boolean;
  sls: boolean;
  coldN: number;
  seqRounds: number;
  seqBlock: number;
  seqWarmup: number;
  tputPasses: number;
  tputSeconds: number;
  tputWarmupMs: number;
}

const TARGET_COLD_P50_MS = 250;
const TARGET_ADDED_P50_MS = 1;
const TARGET_RPS = 1000;

function config(argv: string[]): Config {
  const quick = argv.includes('--quick');
  // serverless-offline needs ~6 s to start and ~5 s of timeout probes: too slow for a smoke run.
  const sls = argv.includes('--sls') || (!quick && !argv.includes('--no-sls'));
  return quick
    ? {
        quick,
        sls,
        coldN: 5,
        seqRounds: 2,
        seqBlock: 100,
        seqWarmup: 30,
        tputPasses: 1,
        tputSeconds: 1.5,
        tputWarmupMs: 500,
      }
    : {
        quick,
        sls,
        coldN: 20,
        seqRounds: 10,
        seqBlock: 200,
        seqWarmup: 100,
        tputPasses: 2,
        tputSeconds: 5,
        tputWarmupMs: 1000,
      };
}

const tables: Table[] = [];
function emit(table: Table): void {
  tables.push(table);
  process.stdout.write(`${renderText(table)}\n`);
}

// ---- serverless-offline ---------------------------------------------------------------------

interface SlsStatus {
  state: 'running' | 'not installed' | 'failed' | 'skipped';
  detail: string;
  versions?: { serverless: string; offline: string };
  startupMs?: number;
}

async function startSls(cfg: Config): Promise<{ sls: SlsOffline | undefined; status: SlsStatus }> {
  if (!cfg.sls)
    return {
      sls: undefined,
      status: { state: 'skipped', detail: cfg.quick ? '--quick (add --sls to include it)' : '--no-sls' },
    };
  const install = locateServerless();
  if ('missing' in install)
    return { sls: undefined, status: { state: 'not installed', detail: install.missing } };
  const versions = { serverless: install.serverlessVersion, offline: install.offlineVersion };
  try {
    const sls = await startServerlessOffline(install, 60);
    const close = track(() => sls.close());
    return {
      sls: { ...sls, close },
      status: { state: 'running', detail: `from ${install.root}`, versions, startupMs: sls.startupMs },
    };
  } catch (err) {
    return { sls: undefined, status: { state: 'failed', detail: (err as Error).message, versions } };
  }
}

// ---- tables -----------------------------------------------------------------------------------

function coldTable(cold: ColdResult): Table {
  const node = summarize(cold.nodeStartup);
  const row = (name: string, s: Summary) => [name, ms(s.p50), ms(s.p95), ratio(s.p50, node.p50)];
  return {
    title: `1. Cold start: lab.invoke after shutting every environment down (N=${cold.endToEnd.length})`,
    headers: ['measure', 'p50', 'p95', 'p50 vs node -e 0'],
    rows: [
      row('lab.invoke end-to-end (cold)', summarize(cold.endToEnd)),
      row('  Init Duration reported by the lab', summarize(cold.initDuration)),
      row('  Duration reported by the lab', summarize(cold.invokeDuration)),
      row('baseline: node -e 0 (spawn → exit)', node),
      row('baseline: node importing the handler', summarize(cold.nodeWithHandler)),
    ],
    notes: [
      `${cold.endToEnd.length - cold.notCold}/${cold.endToEnd.length} invocations flagged cold; ${cold.distinctPids} distinct runtime pids`,
      'baselines run interleaved with the cold starts (same machine load)',
    ],
  };
}

/** The series with this exact name, else the first whose name starts with it. */
function find<T extends { name: string }>(series: T[], name: string): T | undefined {
  return series.find((s) => s.name === name) ?? series.find((s) => s.name.startsWith(name));
}

function sequentialTable(series: SequentialSeries[]): Table {
  const base = summarize(find(series, 'in-process')?.samples ?? []);
  const floor = summarize(find(series, 'HTTP floor')?.samples ?? []);
  return {
    title: '2. Warm invocation, sequential, one keep-alive client (interleaved rounds)',
    headers: [
      'path',
      'n',
      'p50',
      'p95',
      'added p50 vs in-process',
      'p50 vs HTTP floor',
      'envs created / alive',
    ],
    rows: series.map((s) => {
      const sum = summarize(s.samples);
      const envs = s.envsCreated === undefined ? '' : `${s.envsCreated} / ${s.envsAlive}`;
      return [
        s.name,
        String(sum.n),
        ms(sum.p50),
        ms(sum.p95),
        ms(sum.p50 - base.p50),
        ratio(sum.p50, floor.p50),
        envs,
      ];
    }),
    notes: [
      'added p50 = p50(path) − p50(in-process handler()); the HTTP floor is a bare node:http server calling the handler in-process',
      '"envs created" counts environments the lab started during the measured window (after warm-up)',
    ],
  };
}

function throughputTable(series: ThroughputSeries[], cfg: Config): Table {
  const rps = (s: ThroughputSeries) => s.completed / s.seconds;
  const floor = find(series, 'HTTP floor');
  const perRequest = (cpuMs: number, s: ThroughputSeries) => (s.total > 0 ? ms(cpuMs / s.total) : '–');
  return {
    title: `3. Throughput, ${CONCURRENCY} concurrent closed-loop callers, ${cfg.tputPasses}×${cfg.tputSeconds} s per path`,
    headers: [
      'path',
      'req/s',
      'vs HTTP floor',
      'p50',
      'p95',
      'failed',
      'CPU/req harness',
      'CPU/req runtimes',
      'extra envs / max alive',
    ],
    rows: series.map((s) => {
      const sum = summarize(s.latencies);
      const envs = s.extraEnvs === undefined ? '' : `${s.extraEnvs} / ${s.maxEnvsAlive}`;
      const failed = s.failed === 0 ? '0' : `${s.failed} ${JSON.stringify(s.statuses)}`;
      const others = s.serverCpuMs > 0 ? perRequest(s.serverCpuMs, s) : '';
      const harness = s.servedByHarness ? perRequest(s.harnessCpuMs, s) : '–';
      return [
        s.name,
        rps(s).toFixed(0),
        floor ? ratio(rps(s), rps(floor)) : '–',
        ms(sum.p50),
        ms(sum.p95),
        failed,
        harness,
        others,
        envs,
      ];
    }),
    notes: [
      'HTTP paths are driven by a separate client process (bench/lib/load-client.ts) with keep-alive sockets; in-process paths by 8 async callers in the harness',
      'CPU/req = user+system CPU over the whole pass ÷ requests sent: "harness" is this process (the lab front and scheduler, or the in-process callers), ' +
        '"runtimes" the lab\'s runtime processes (or the serverless-offline process); 10 ms /proc resolution per process',
      '"extra envs" = on-demand environments the lab started beyond the 8 provisioned ones during the runs (cold starts under load)',
    ],
  };
}

function toolsTable(seq: SequentialSeries[], tput: ThroughputSeries[]): Table {
  const rows: Array<[string, string | undefined, string | undefined]> = [
    [
      'lab front (HTTP API), freeze on',
      'lab front (HTTP API), freeze on',
      'lab front, 8 provisioned, freeze on',
    ],
    [
      'lab front (HTTP API), freeze off',
      'lab front (HTTP API), freeze off',
      'lab front, 8 provisioned, freeze off',
    ],
    ['lab.invoke, freeze on', 'lab.invoke, freeze on', undefined],
    [
      'lambda-local execute(lambdaPath, esm)',
      'lambda-local execute(lambdaPath, esm)',
      'lambda-local execute(lambdaPath, esm)',
    ],
    ['lambda-local execute(lambdaFunc)', 'lambda-local execute(lambdaFunc)', undefined],
    [
      'serverless-offline (httpApi route)',
      'serverless-offline (httpApi route)',
      'serverless-offline (httpApi route)',
    ],
    ['in-process handler() (baseline)', 'in-process', 'in-process'],
  ];
  const out: string[][] = [];
  for (const [label, seqName, tputName] of rows) {
    const s = seqName ? find(seq, seqName) : undefined;
    const t = tputName ? find(tput, tputName) : undefined;
    if (!s && !t) continue;
    const sum = summarize(s?.samples ?? []);
    out.push([label, ms(sum.p50), ms(sum.p95), t ? (t.completed / t.seconds).toFixed(0) : '–']);
  }
  return {
    title: '4. The same handler across tools (warm sequential latency, throughput with 8 callers)',
    headers: ['tool / path', 'warm p50', 'warm p95', 'req/s (8 callers)'],
    rows: out,
  };
}

function slsTable(status: SlsStatus): Table {
  return {
    title: '4b. serverless-offline',
    headers: ['state', 'versions', 'startup', 'detail'],
    rows: [
      [
        status.state,
        status.versions
          ? `serverless ${status.versions.serverless}, serverless-offline ${status.versions.offline}`
          : '–',
        status.startupMs === undefined ? '–' : ms(status.startupMs),
        status.detail.split('\n').slice(-3).join(' '),
      ],
    ],
  };
}

const PROPERTIES: Property[] = [
  'real runtime client',
  'separate process per environment',
  'one in-flight request per environment',
  'freeze between invocations',
  'module state persists while warm',
  'reset after timeout',
  'reset after crash',
  '/tmp per environment',
  'init timeout',
  'idle reaping',
];
const TOOLS: Tool[] = ['lab', 'lambda-local', 'serverless-offline'];

function semanticsTables(sem: SemanticsResult): Table[] {
  const cell = (tool: Tool, p: Property) => {
    const v = sem[tool][p];
    return v ? `${v.value} (${v.how})` : 'not run';
  };
  const evidence: string[][] = [];
  for (const p of PROPERTIES)
    for (const tool of TOOLS) {
      const v = sem[tool][p];
      if (v) evidence.push([p, tool, v.evidence]);
    }
  return [
    {
      title: "5. Lambda semantics kept (observed = probed in this run; source = read in the tool's code)",
      headers: ['property', ...TOOLS],
      rows: PROPERTIES.map((p) => [p, ...TOOLS.map((t) => cell(t, p))]),
    },
    { title: '5b. Semantics evidence', headers: ['property', 'tool', 'evidence'], rows: evidence },
  ];
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

function targets(cold: ColdResult, seq: SequentialSeries[], tput: ThroughputSeries[]): TargetCheck[] {
  const p50 = (name: string) => summarize(find(seq, name)?.samples ?? []).p50;
  const base = p50('in-process');
  const coldP50 = summarize(cold.endToEnd).p50;
  const rps = (name: string) => {
    const s = find(tput, name);
    return s ? s.completed / s.seconds : Number.NaN;
  };
  const checks: TargetCheck[] = [
    {
      target: `cold start p50 ≤ ${TARGET_COLD_P50_MS} ms`,
      measured: ms(coldP50),
      met: coldP50 <= TARGET_COLD_P50_MS,
    },
  ];
  for (const freeze of ['on', 'off']) {
    const added = p50(`lab front (HTTP API), freeze ${freeze}`) - base;
    checks.push({
      target: `front added p50 ≤ ${TARGET_ADDED_P50_MS} ms (freeze ${freeze})`,
      measured: ms(added),
      met: added <= TARGET_ADDED_P50_MS,
    });
  }
  for (const freeze of ['on', 'off']) {
    const r = rps(`lab front, 8 provisioned, freeze ${freeze}`);
    checks.push({
      target: `throughput ≥ ${TARGET_RPS} req/s, 8 envs (freeze ${freeze})`,
      measured: `${r.toFixed(0)} req/s`,
      met: r >= TARGET_RPS,
    });
  }
  return checks;
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = config(process.argv.slice(2));
  const started = performance.now();
  const host = machine();
  process.stdout.write(
    `Ephemera lab bench (${cfg.quick ? 'quick' : 'full'}) — ${host.nproc} CPU × ${host.cpuModel}, Node ${host.node}, loadavg ${host.loadavgStart.join(' ')}\n`,
  );
  const { sls, status: slsStatus } = await startSls(cfg);
  process.stdout.write(
    `serverless-offline: ${slsStatus.state}${slsStatus.startupMs ? ` (ready in ${ms(slsStatus.startupMs)})` : ''}\n`,
  );
  try {
    const cold = await measureColdStarts(cfg.coldN);
    emit(coldTable(cold));
    const seq = await measureSequential({
      rounds: cfg.seqRounds,
      block: cfg.seqBlock,
      warmup: cfg.seqWarmup,
      sls,
    });
    emit(sequentialTable(seq));
    const tput = await measureThroughput({
      passes: cfg.tputPasses,
      seconds: cfg.tputSeconds,
      warmupMs: cfg.tputWarmupMs,
      sls,
    });
    emit(throughputTable(tput, cfg));
    emit(toolsTable(seq, tput));
    emit(slsTable(slsStatus));
    const sem = await probeSemantics(sls);
    for (const t of semanticsTables(sem)) emit(t);
    const checks = targets(cold, seq, tput);
    emit({
      title: 'Targets',
      headers: ['target', 'measured', 'met'],
      rows: checks.map((c) => [c.target, c.measured, c.met ? 'yes' : 'NO']),
    });
    await closeAll();
    const leftovers = leftoverChildren();
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `\nleftover child processes: ${leftovers.length === 0 ? 'none' : leftovers.join('; ')}\n`,
    );
    process.stdout.write(
      `total ${seconds.toFixed(1)} s, loadavg at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    writeResults({ cfg, host, cold, seq, tput, sem, slsStatus, checks, leftovers, seconds });
  } finally {
    await closeAll();
  }
}

function writeResults(r: {
  cfg: Config;
  host: ReturnType<typeof machine>;
  cold: ColdResult;
  seq: SequentialSeries[];
  tput: ThroughputSeries[];
  sem: SemanticsResult;
  slsStatus: SlsStatus;
  checks: TargetCheck[];
  leftovers: string[];
  seconds: number;
}): void {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const json = {
    machine: { ...r.host, loadavgEnd: loadavg().map((l) => round(l, 2)) },
    config: r.cfg,
    seconds: round(r.seconds, 1),
    cold: {
      summary: {
        endToEnd: summarize(r.cold.endToEnd),
        initDuration: summarize(r.cold.initDuration),
        invokeDuration: summarize(r.cold.invokeDuration),
        nodeStartup: summarize(r.cold.nodeStartup),
        nodeWithHandler: summarize(r.cold.nodeWithHandler),
      },
      notCold: r.cold.notCold,
      distinctPids: r.cold.distinctPids,
      raw: {
        endToEnd: raw(r.cold.endToEnd),
        initDuration: raw(r.cold.initDuration),
        invokeDuration: raw(r.cold.invokeDuration),
        nodeStartup: raw(r.cold.nodeStartup),
        nodeWithHandler: raw(r.cold.nodeWithHandler),
      },
    },
    sequential: r.seq.map((s) => ({ ...s, summary: summarize(s.samples), samples: raw(s.samples) })),
    throughput: r.tput.map((s) => ({
      ...s,
      rps: round(s.completed / s.seconds, 1),
      summary: summarize(s.latencies),
      latencies: raw(s.latencies),
    })),
    serverlessOffline: r.slsStatus,
    semantics: r.sem,
    targets: r.checks,
    leftoverChildren: r.leftovers,
  };
  writeFileSync(new URL('lab.json', dir), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(new URL('lab.md', dir), `${tables.map(renderMarkdown).join('\n\n')}\n`);
  process.stdout.write('results: bench/results/lab.json, bench/results/lab.md\n');
}

await main();
