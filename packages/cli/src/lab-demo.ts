import { fileURLToPath } from 'node:url';
import { createLab, type LabEventType } from '@ephemera/lab';

/** One row of the demo's table: what a phase of traffic did to the lab. */
interface PhaseRow {
  phase: string;
  requests: number;
  ok: number;
  cold: number;
  warm: number;
  /** Distinct existing environments that served a warm request in this phase. */
  reused: number;
  created: number;
  frozen: number;
  reaped: number;
  alive: number;
  p50Ms: number;
}

const EXAMPLE = fileURLToPath(new URL('../../../examples/hello', import.meta.url));

/**
 * The lab demo: the example function behind an HTTP API, a burst of concurrent requests, warm
 * reuse, freezing between invocations, and idle reaping on the scaled clock. Everything printed is
 * counted from the lab's own events during this run.
 */
export async function runLabDemo(out: (line: string) => void = console.log): Promise<PhaseRow[]> {
  const idleTimeoutSeconds = 600;
  const lab = await createLab({
    functions: [
      {
        name: 'hello',
        codeDir: EXAMPLE,
        handler: 'index.handler',
        routes: [{ api: 'http', method: 'ANY', path: '$default' }],
      },
    ],
    clockScale: 60, // one real second is a lab minute
    idleTimeoutSeconds,
  });
  const rows: PhaseRow[] = [];
  const count = (type: LabEventType, since: number) =>
    lab.events.history.slice(since).filter((e) => e.type === type).length;
  const phase = async (name: string, requests: number, concurrency: number, delayMs: number) => {
    const mark = lab.events.history.length;
    const latencies: number[] = [];
    let ok = 0;
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        next += 1;
        const started = performance.now();
        const res = await fetch(`${lab.url}/pay?delayMs=${delayMs}`, {
          method: 'POST',
          body: '{"hello":"lab"}',
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - started);
        if (res.status === 200) ok += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await new Promise((r) => setTimeout(r, 50)); // let environments reach /next and freeze
    const starts = lab.events.history.slice(mark).filter((e) => e.type === 'invoke-start');
    const cold = starts.filter((e) => e.detail?.cold === true).length;
    const reused = new Set(starts.filter((e) => e.detail?.cold !== true).map((e) => e.environment)).size;
    latencies.sort((a, b) => a - b);
    const row: PhaseRow = {
      phase: name,
      requests,
      ok,
      cold,
      warm: starts.length - cold,
      reused,
      created: count('environment-created', mark),
      frozen: count('frozen', mark),
      reaped: count('reaped', mark),
      alive: lab.environments().length,
      p50Ms: Math.round((latencies[Math.floor(latencies.length / 2)] ?? 0) * 10) / 10,
    };
    rows.push(row);
    out(`  ${name}: ${ok}/${requests} ok, ${cold} cold, ${row.warm} warm, ${row.alive} environments alive`);
  };

  try {
    out(`Ephemera lab demo: function "hello" (real aws-lambda-ric) behind an HTTP API at ${lab.url}`);
    out('Lab clock: 1 real second = 1 lab minute; idle environments are reaped after 10 lab minutes.\n');
    await phase('burst of 8 concurrent', 8, 8, 150);
    await phase('second burst of 8', 8, 8, 150);
    await phase('20 sequential', 20, 1, 0);
    // Let 11 lab minutes pass with no traffic: every idle environment is reaped.
    const mark = lab.events.history.length;
    lab.clock.advance((idleTimeoutSeconds + 60) * 1000);
    await new Promise((r) => setTimeout(r, 300));
    rows.push({
      phase: '11 idle lab minutes',
      requests: 0,
      ok: 0,
      cold: 0,
      warm: 0,
      reused: 0,
      created: 0,
      frozen: 0,
      reaped: count('reaped', mark),
      alive: lab.environments().length,
      p50Ms: 0,
    });
    out(`  11 idle lab minutes: ${rows.at(-1)?.reaped} environments reaped`);
    await phase('after the quiet', 4, 4, 0);
  } finally {
    await lab.close();
  }
  out('');
  out(renderTable(rows));
  out(
    '\ncold = the request paid an INIT; reused = warm environments that served the phase (most recently used first);',
  );
  out(
    'frozen = SIGSTOP while waiting in /next; reaped = idle longer than the idle timeout on the lab clock.',
  );
  return rows;
}

function renderTable(rows: PhaseRow[]): string {
  const header = [
    'phase',
    'requests',
    'ok',
    'cold',
    'warm',
    'reused',
    'created',
    'frozen',
    'reaped',
    'alive',
    'p50 ms',
  ];
  const body = rows.map((r) =>
    [
      r.phase,
      r.requests,
      r.ok,
      r.cold,
      r.warm,
      r.reused,
      r.created,
      r.frozen,
      r.reaped,
      r.alive,
      r.p50Ms,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
