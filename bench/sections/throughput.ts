import lambdaLocal from 'lambda-local';
import { CpuMeter } from '../lib/cpu.js';
import { fakeContext, HELLO_FILE, loadHello, sampleHttpEvent, startHttpFloor } from '../lib/hello.js';
import { countEvents, helloFunction, startLab } from '../lib/lab-setup.js';
import { type LoadResult, runHttpLoad } from '../lib/load.js';
import type { SlsOffline } from '../lib/serverless-offline.js';
import { mergeSamples, Reservoir } from '../lib/stats.js';

export const CONCURRENCY = 8;

/** One pass of one target. */
interface Run extends LoadResult {
  /** CPU time over the whole pass (warm-up included): this harness, and the server's other processes. */
  harnessCpuMs: number;
  serverCpuMs: number;
  /** Lab only: on-demand environments started during the pass (beyond the 8 provisioned), peak alive. */
  extraEnvs?: number;
  envsAlive?: number;
}

export interface ThroughputSeries extends Run {
  name: string;
  /** Per-pass latency samples and how many successful calls each stood for (merged into `latencies`). */
  samples: Array<{ values: number[]; seen: number }>;
  /** The server under test runs in this harness process, so harness CPU is its cost. */
  servedByHarness: boolean;
  maxEnvsAlive?: number;
}

export interface ThroughputOptions {
  passes: number;
  seconds: number;
  warmupMs: number;
  sls: SlsOffline | undefined;
}

/** A target sets itself up for one pass, runs the load, and tears down (so idle targets cost nothing). */
interface ThroughputTarget {
  name: string;
  /** serverless-offline serves from its own process; every other path is served from this one. */
  external?: boolean;
  run(o: ThroughputOptions): Promise<Run>;
}

/** Drive `url` from the separate load-client process while metering the server's processes. */
async function httpLoad(url: string, o: ThroughputOptions, serverPids: () => number[]): Promise<Run> {
  const meter = new CpuMeter(serverPids);
  try {
    const result = await runHttpLoad({
      url,
      concurrency: CONCURRENCY,
      warmupMs: o.warmupMs,
      durationMs: o.seconds * 1000,
    });
    const cpu = meter.stop();
    return { ...result, harnessCpuMs: cpu.harnessMs, serverCpuMs: cpu.othersMs };
  } finally {
    meter.stop(); // a second stop only matters when the load failed: it clears the sampling timer
  }
}

function labTarget(freeze: boolean): ThroughputTarget {
  return {
    name: `lab front, 8 provisioned, freeze ${freeze ? 'on' : 'off'}`,
    run: async (o) => {
      const { lab, close } = await startLab({
        functions: [helloFunction({ provisionedConcurrency: CONCURRENCY })],
        freeze,
      });
      try {
        const created = countEvents(lab, 'environment-created');
        let envsAlive = 0;
        const pids = () => {
          const envs = lab.environments();
          envsAlive = Math.max(envsAlive, envs.length);
          return envs.map((e) => e.pid ?? 0).filter((p) => p > 0);
        };
        const run = await httpLoad(`${lab.url}/hello`, o, pids);
        return { ...run, extraEnvs: countEvents(lab, 'environment-created') - created, envsAlive };
      } finally {
        await close();
      }
    },
  };
}

/** N async callers in this process, closed loop, for handlers that run in-process. */
async function inProcessLoad(call: () => Promise<unknown>, o: ThroughputOptions): Promise<Run> {
  const meter = new CpuMeter(() => []);
  const sample = new Reservoir();
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.seconds * 1000;
  const run: Run = {
    completed: 0,
    total: 0,
    failed: 0,
    seconds: o.seconds,
    statuses: {},
    latencies: [],
    harnessCpuMs: 0,
    serverCpuMs: 0,
  };
  const caller = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      let ok = true;
      try {
        await call();
      } catch {
        ok = false;
      }
      const t1 = performance.now();
      run.total += 1;
      if (t0 < measureFrom || t1 > end) continue;
      if (ok) {
        run.completed += 1;
        sample.add(t1 - t0);
      } else {
        run.failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  run.harnessCpuMs = meter.stop().harnessMs;
  run.latencies = sample.values;
  return run;
}

async function targets(o: ThroughputOptions): Promise<ThroughputTarget[]> {
  const hello = await loadHello();
  const sls = o.sls;
  return [
    {
      name: 'HTTP floor (node:http + in-process handler)',
      run: async (opts) => {
        const floor = await startHttpFloor(hello.handler);
        try {
          return await httpLoad(floor.url, opts, () => []);
        } finally {
          await floor.close();
        }
      },
    },
    labTarget(true),
    labTarget(false),
    ...(sls
      ? [
          {
            name: 'serverless-offline (httpApi route)',
            external: true,
            run: (opts: ThroughputOptions) => httpLoad(sls.helloUrl, opts, () => [sls.pid]),
          },
        ]
      : []),
    {
      name: 'in-process handler(), 8 callers',
      run: (opts) => inProcessLoad(() => hello.handler(sampleHttpEvent(), fakeContext()), opts),
    },
    {
      name: 'lambda-local execute(lambdaPath, esm), 8 callers',
      // lambda-local mutes stdout while a call runs; nothing is printed during this window.
      run: (opts) =>
        inProcessLoad(
          () =>
            lambdaLocal.execute({
              lambdaPath: HELLO_FILE,
              esm: true,
              event: sampleHttpEvent(),
              timeoutMs: 3000,
              verboseLevel: 0,
            }),
          opts,
        ),
    },
  ];
}

function add(total: ThroughputSeries, run: Run): void {
  total.completed += run.completed;
  total.total += run.total;
  total.failed += run.failed;
  total.seconds += run.seconds;
  total.harnessCpuMs += run.harnessCpuMs;
  total.serverCpuMs += run.serverCpuMs;
  total.samples.push({ values: run.latencies, seen: run.completed });
  for (const [k, v] of Object.entries(run.statuses)) total.statuses[k] = (total.statuses[k] ?? 0) + v;
  if (run.extraEnvs !== undefined) total.extraEnvs = (total.extraEnvs ?? 0) + run.extraEnvs;
  if (run.envsAlive !== undefined) total.maxEnvsAlive = Math.max(total.maxEnvsAlive ?? 0, run.envsAlive);
}

export async function measureThroughput(o: ThroughputOptions): Promise<ThroughputSeries[]> {
  const list = await targets(o);
  const totals = new Map<ThroughputTarget, ThroughputSeries>(
    list.map((t) => [
      t,
      {
        name: t.name,
        servedByHarness: t.external !== true,
        completed: 0,
        total: 0,
        failed: 0,
        seconds: 0,
        statuses: {},
        latencies: [],
        samples: [],
        harnessCpuMs: 0,
        serverCpuMs: 0,
      },
    ]),
  );
  for (let pass = 0; pass < o.passes; pass += 1) {
    // Alternate the order (A B C…, …C B A) so drift in machine load hits every target alike.
    const order = pass % 2 === 0 ? list : [...list].reverse();
    for (const target of order) add(totals.get(target) as ThroughputSeries, await target.run(o));
  }
  return list.map((t) => {
    const series = totals.get(t) as ThroughputSeries;
    return { ...series, latencies: mergeSamples(series.samples), samples: [] };
  });
}
