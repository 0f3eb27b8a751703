/**
 * Closed-loop HTTP load generator, run as its own process by `runHttpLoad` so the client does not
 * share an event loop with the server under test (the lab's front lives in the harness process).
 * Input: one JSON argument (LoadSpec). Output: one JSON line (LoadResult) on stdout.
 */
import { performance } from 'node:perf_hooks';
import { KeepAliveClient } from './http.js';
import type { LoadResult, LoadSpec } from './load.js';
import { Reservoir } from './stats.js';

async function worker(
  client: KeepAliveClient,
  spec: LoadSpec,
  measureFrom: number,
  end: number,
  out: LoadResult,
  sample: Reservoir,
): Promise<void> {
  while (performance.now() < end) {
    const t0 = performance.now();
    let ok = false;
    try {
      const reply = await client.request(
        spec.url,
        spec.method ?? 'GET',
        spec.body ? Buffer.from(spec.body) : undefined,
        10_000,
      );
      ok = reply.status === 200;
      if (!ok) out.statuses[String(reply.status)] = (out.statuses[String(reply.status)] ?? 0) + 1;
    } catch (err) {
      const key = `error:${(err as NodeJS.ErrnoException).code ?? 'other'}`;
      out.statuses[key] = (out.statuses[key] ?? 0) + 1;
    }
    const t1 = performance.now();
    out.total += 1;
    // Requests that started during the warm-up are not counted: the window is [measureFrom, end).
    if (t0 >= measureFrom && t1 <= end) {
      if (ok) {
        out.completed += 1;
        sample.add(t1 - t0);
      } else {
        out.failed += 1;
      }
    }
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const client = new KeepAliveClient(spec.concurrency);
  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const end = measureFrom + spec.durationMs;
  const sample = new Reservoir();
  const out: LoadResult = {
    completed: 0,
    total: 0,
    failed: 0,
    seconds: spec.durationMs / 1000,
    statuses: {},
    latencies: [],
  };
  await Promise.all(
    Array.from({ length: spec.concurrency }, () => worker(client, spec, measureFrom, end, out, sample)),
  );
  client.close();
  out.latencies = sample.values;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
