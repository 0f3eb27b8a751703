import lambdaLocal from 'lambda-local';
import type { Lab } from '../../packages/lab/src/index.js';
import {
  fakeContext,
  HELLO_FILE,
  type HelloHandler,
  loadHello,
  sampleHttpEvent,
  startHttpFloor,
} from '../lib/hello.js';
import { KeepAliveClient } from '../lib/http.js';
import { countEvents, helloFunction, startLab, type TrackedLab } from '../lib/lab-setup.js';
import type { SlsOffline } from '../lib/serverless-offline.js';

/** One way of calling the hello handler once, end to end, from this process. */
interface SequentialTarget {
  name: string;
  call(): Promise<void>;
  /** For lab targets: the lab, to count environments created while measuring. */
  lab?: Lab;
}

export interface SequentialSeries {
  name: string;
  samples: number[];
  /** Lab only: environments created and inits paid during the measured window, environments alive after. */
  envsCreated?: number;
  envsAlive?: number;
  thawed?: number;
}

export interface SequentialOptions {
  rounds: number;
  /** Calls per target per round; rounds rotate the target order to spread machine noise evenly. */
  block: number;
  warmup: number;
  sls: SlsOffline | undefined;
}

function expect200(status: number | undefined, what: string): void {
  if (status !== 200) throw new Error(`${what}: status ${status}`);
}

function inProcessTarget(handler: HelloHandler): SequentialTarget {
  return {
    name: 'in-process handler()',
    call: async () => expect200((await handler(sampleHttpEvent(), fakeContext())).statusCode, 'in-process'),
  };
}

function httpTarget(name: string, client: KeepAliveClient, url: string, lab?: Lab): SequentialTarget {
  return { name, lab, call: async () => expect200((await client.request(url)).status, name) };
}

function labInvokeTarget(name: string, lab: Lab): SequentialTarget {
  return {
    name,
    lab,
    call: async () => {
      const r = await lab.invoke('hello', sampleHttpEvent());
      if (r.outcome !== 'success') throw new Error(`${name}: ${r.outcome}`);
    },
  };
}

/** lambda-local, as its README shows it: lambdaPath (esm: true for an .mjs file) or lambdaFunc. */
function lambdaLocalTarget(
  name: string,
  source: { lambdaPath: string } | { lambdaFunc: { handler: HelloHandler } },
): SequentialTarget {
  return {
    name,
    call: async () => {
      const opts = {
        ...source,
        ...('lambdaPath' in source ? { esm: true } : {}),
        event: sampleHttpEvent(),
        timeoutMs: 3000,
        verboseLevel: 0,
      };
      const result = (await lambdaLocal.execute(opts)) as { statusCode?: number };
      expect200(result.statusCode, name);
    },
  };
}

/**
 * Bring the lab's event history to its 100 000-event cap, the state any lab reaches after roughly
 * 25 000 warm invocations (4 events each with freeze on); from then on every event trims the array.
 */
function fillEventHistory(lab: Lab): void {
  while (lab.events.history.length < 100_000) {
    lab.events.emitEvent({
      type: 'invoke-end',
      time: 0,
      realTime: Date.now(),
      function: 'filler',
      detail: {},
    });
  }
}

async function time(target: SequentialTarget, count: number, into: number[] | undefined): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    await target.call();
    into?.push(performance.now() - t0);
  }
}

/** Warm sequential latency of every way to call the handler, measured in interleaved rounds. */
export async function measureSequential(options: SequentialOptions): Promise<SequentialSeries[]> {
  const hello = await loadHello();
  const client = new KeepAliveClient(1);
  const floor = await startHttpFloor(hello.handler);
  // One lab per lab target, so environment counts belong to exactly one series.
  const [invokeOn, invokeOff, frontOn, frontOff, fullHistory] = (await Promise.all(
    [true, false, true, false, true].map((freeze) => startLab({ functions: [helloFunction()], freeze })),
  )) as [TrackedLab, TrackedLab, TrackedLab, TrackedLab, TrackedLab];
  fillEventHistory(fullHistory.lab);
  try {
    const targets: SequentialTarget[] = [
      inProcessTarget(hello.handler),
      httpTarget('HTTP floor (node:http + in-process handler)', client, floor.url),
      labInvokeTarget('lab.invoke, freeze on', invokeOn.lab),
      labInvokeTarget('lab.invoke, freeze off', invokeOff.lab),
      labInvokeTarget('lab.invoke, freeze on, event history full', fullHistory.lab),
      httpTarget('lab front (HTTP API), freeze on', client, `${frontOn.lab.url}/hello`, frontOn.lab),
      httpTarget('lab front (HTTP API), freeze off', client, `${frontOff.lab.url}/hello`, frontOff.lab),
      lambdaLocalTarget('lambda-local execute(lambdaPath, esm)', { lambdaPath: HELLO_FILE }),
      lambdaLocalTarget('lambda-local execute(lambdaFunc)', { lambdaFunc: hello }),
      ...(options.sls
        ? [httpTarget('serverless-offline (httpApi route)', client, options.sls.helloUrl)]
        : []),
    ];
    for (const target of targets) await time(target, options.warmup, undefined);
    const series = new Map(targets.map((t) => [t, { name: t.name, samples: [] as number[] }]));
    const before = new Map(targets.map((t) => [t, t.lab ? countEvents(t.lab, 'environment-created') : 0]));
    const thawBefore = new Map(targets.map((t) => [t, t.lab ? countEvents(t.lab, 'thawed') : 0]));
    for (let round = 0; round < options.rounds; round += 1) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as SequentialTarget);
      for (const target of order) await time(target, options.block, series.get(target)?.samples);
    }
    return targets.map((t) => {
      const s: SequentialSeries = series.get(t) ?? { name: t.name, samples: [] };
      if (!t.lab) return s;
      return {
        ...s,
        envsCreated: countEvents(t.lab, 'environment-created') - (before.get(t) ?? 0),
        envsAlive: t.lab.environments().length,
        thawed: countEvents(t.lab, 'thawed') - (thawBefore.get(t) ?? 0),
      };
    });
  } finally {
    client.close();
    await Promise.all([
      floor.close(),
      invokeOn.close(),
      invokeOff.close(),
      frontOn.close(),
      frontOff.close(),
    ]);
  }
}
