import { join } from 'node:path';
import lambdaLocal from 'lambda-local';
import type { Lab } from '../../packages/lab/src/index.js';
import { PROBE_DIR } from '../lib/hello.js';
import { KeepAliveClient } from '../lib/http.js';
import { startLab } from '../lib/lab-setup.js';
import type { SlsOffline } from '../lib/serverless-offline.js';

/** What the probe function (bench/fixtures/probe) reports about where it ran. */
export interface ProbeReply {
  instance: string;
  pid: number;
  threadId: number;
  count: number;
  ticks: number;
  now: number;
  tmp: string;
  tmpHas: boolean | null;
  entry: string | null;
  runtimeApi: string | null;
}

type ProbeFn = 'probe' | 'probeReset' | 'probeCrash' | 'slowInit';
type Outcome = { ok: true; reply: ProbeReply; ms: number } | { ok: false; error: string; ms: number };

/** A tool the probes run against: how to invoke a probe function and which pid hosts the caller. */
interface ProbeTarget {
  tool: Tool;
  hostPid: number;
  call(fn: ProbeFn, event: Record<string, unknown>): Promise<Outcome>;
}

export type Tool = 'lab' | 'lambda-local' | 'serverless-offline';
export type Property =
  | 'real runtime client'
  | 'separate process per environment'
  | 'one in-flight request per environment'
  | 'freeze between invocations'
  | 'module state persists while warm'
  | 'reset after timeout'
  | 'reset after crash'
  | '/tmp per environment'
  | 'init timeout'
  | 'idle reaping';

export interface Verdict {
  value: 'yes' | 'no' | 'partial' | 'n/a';
  how: 'observed' | 'source';
  evidence: string;
}

export type SemanticsResult = Record<Tool, Partial<Record<Property, Verdict>>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(run: () => Promise<ProbeReply>): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const reply = await run();
    return { ok: true, reply, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, error: describe(err), ms: performance.now() - t0 };
  }
}

/** Tools reject with Errors or with Lambda-style error documents ({errorType, errorMessage}). */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 160);
  if (err !== null && typeof err === 'object') {
    const doc = err as { errorType?: unknown; errorMessage?: unknown };
    return `${String(doc.errorType ?? 'Error')}: ${String(doc.errorMessage ?? JSON.stringify(err))}`.slice(
      0,
      160,
    );
  }
  return String(err).slice(0, 160);
}

const observed = (value: Verdict['value'], evidence: string): Verdict => ({
  value,
  how: 'observed',
  evidence,
});
const fromSource = (value: Verdict['value'], evidence: string): Verdict => ({
  value,
  how: 'source',
  evidence,
});

// ---- the probes, the same for every tool ------------------------------------------------------

async function probeIsolation(t: ProbeTarget, out: Partial<Record<Property, Verdict>>): Promise<void> {
  const first = await t.call('probe', {});
  if (!first.ok) throw new Error(`${t.tool}: probe failed: ${first.error}`);
  const r = first.reply;
  const ric = r.runtimeApi !== null && (r.entry ?? '').includes('aws-lambda-ric');
  out['real runtime client'] = observed(
    ric ? 'yes' : 'no',
    `entry ${r.entry}; AWS_LAMBDA_RUNTIME_API ${r.runtimeApi ?? 'unset'}`,
  );
  // Two overlapping invocations: where do they land?
  const [a, b] = await Promise.all([
    t.call('probe', { action: 'sleep', ms: 300 }),
    t.call('probe', { action: 'sleep', ms: 300 }),
  ]);
  if (!a.ok || !b.ok) throw new Error(`${t.tool}: concurrent probes failed`);
  const [ra, rb] = [a.reply, b.reply];
  const separate = ra.pid !== t.hostPid && rb.pid !== t.hostPid && ra.pid !== rb.pid;
  out['separate process per environment'] = observed(
    separate ? 'yes' : 'no',
    `concurrent calls ran in pids ${ra.pid}/${rb.pid} (threads ${ra.threadId}/${rb.threadId}); caller/host pid ${t.hostPid}`,
  );
  out['one in-flight request per environment'] = observed(
    ra.instance !== rb.instance ? 'yes' : 'no',
    ra.instance !== rb.instance
      ? 'two overlapping calls got two module instances'
      : 'two overlapping calls ran in the same module instance',
  );
  out['/tmp per environment'] = observed(
    ra.tmp !== rb.tmp ? 'yes' : 'no',
    `tmpdir() ${ra.tmp === rb.tmp ? `shared: ${ra.tmp}` : 'differs per environment'}`,
  );
}

async function probeWarmState(t: ProbeTarget, out: Partial<Record<Property, Verdict>>): Promise<void> {
  // Retry until two consecutive calls land on the same instance (a pool may rotate environments).
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const c = await t.call('probe', {});
    await sleep(400);
    const d = await t.call('probe', {});
    if (!c.ok || !d.ok) throw new Error(`${t.tool}: warm probes failed`);
    if (c.reply.instance !== d.reply.instance) continue;
    const expectedTicks = (d.reply.now - c.reply.now) / 10;
    const ticks = d.reply.ticks - c.reply.ticks;
    out['freeze between invocations'] = observed(
      ticks < expectedTicks * 0.2 ? 'yes' : 'no',
      `a 10 ms interval ticked ${ticks}× during ${d.reply.now - c.reply.now} ms idle (≈${expectedTicks.toFixed(0)} if running)`,
    );
    out['module state persists while warm'] = observed(
      d.reply.count > c.reply.count ? 'yes' : 'no',
      `invocation counter ${c.reply.count} → ${d.reply.count} in one instance`,
    );
    return;
  }
  out['freeze between invocations'] = observed('n/a', 'consecutive calls never landed on the same instance');
}

/** Timeout (or crash) an invocation of a function with one environment, then call it again. */
async function probeReset(
  t: ProbeTarget,
  fn: 'probeReset' | 'probeCrash',
  event: Record<string, unknown>,
): Promise<Verdict> {
  const before = await t.call(fn, {});
  if (!before.ok) return observed('n/a', `warm-up call failed: ${before.error}`);
  // Let the environment go idle first: until its runtime calls /next it is busy, and a pool would
  // (rightly) send the next call to a second environment, which is not what this probe is about.
  await sleep(150);
  const bad = await t.call(fn, event);
  await sleep(150);
  const after = await t.call(fn, {});
  const badText = bad.ok
    ? `returned normally in ${bad.ms.toFixed(0)} ms`
    : `failed after ${bad.ms.toFixed(0)} ms (${bad.error})`;
  if (!after.ok)
    return observed(
      'no',
      `${badText}; the next call failed too after ${after.ms.toFixed(0)} ms (${after.error})`,
    );
  const reset = after.reply.instance !== before.reply.instance;
  return observed(
    reset ? 'yes' : 'no',
    `${badText}; next call ${reset ? 'ran in a fresh instance' : `reused the instance (counter ${after.reply.count})`}`,
  );
}

async function probeInitTimeout(t: ProbeTarget, limitText: string): Promise<Verdict> {
  const r = await t.call('slowInit', {});
  return observed(
    r.ok ? 'no' : 'yes',
    `2 s INIT with ${limitText}: ${r.ok ? `succeeded after ${r.ms.toFixed(0)} ms` : `failed after ${r.ms.toFixed(0)} ms (${r.error})`}`,
  );
}

// ---- the tools --------------------------------------------------------------------------------

function parseLabReply(lab: Lab, fn: ProbeFn, event: Record<string, unknown>): Promise<Outcome> {
  return timed(async () => {
    const r = await lab.invoke(fn, event);
    if (r.outcome !== 'success')
      throw new Error(`${r.outcome}: ${r.error?.errorType ?? ''} ${r.error?.errorMessage ?? ''}`.trim());
    return JSON.parse(r.payload.toString()) as ProbeReply;
  });
}

async function probeLab(): Promise<Partial<Record<Property, Verdict>>> {
  const probe = { codeDir: PROBE_DIR, handler: 'index.handler', timeoutSeconds: 1 };
  const { lab, close } = await startLab({
    functions: [
      { name: 'probe', ...probe },
      { name: 'probeReset', ...probe },
      { name: 'probeCrash', ...probe },
      {
        name: 'slowInit',
        codeDir: PROBE_DIR,
        handler: 'slow-init.handler',
        environment: { PROBE_INIT_MS: '2000' },
      },
    ],
    initTimeoutMs: 1000,
  });
  try {
    const t: ProbeTarget = {
      tool: 'lab',
      hostPid: process.pid,
      call: (fn, event) => parseLabReply(lab, fn, event),
    };
    const out: Partial<Record<Property, Verdict>> = {};
    await probeIsolation(t, out);
    await probeWarmState(t, out);
    out['reset after timeout'] = await probeReset(t, 'probeReset', { action: 'sleep', ms: 1500 });
    out['reset after crash'] = await probeReset(t, 'probeCrash', { action: 'exit' });
    out['init timeout'] = await probeInitTimeout(t, 'initTimeoutMs 1000');
    // Idle reaping runs on the lab clock: jump it past the 600 s default instead of waiting.
    const alive = lab.environments('probe').length;
    lab.clock.advance(601_000);
    await sleep(200);
    out['idle reaping'] = observed(
      lab.environments('probe').length === 0 ? 'yes' : 'no',
      `${alive} idle environment(s) of probe, ${lab.environments('probe').length} left after 601 s of lab time; ${lab.events.ofType('reaped', 'probe').length} 'reaped' events`,
    );
    return out;
  } finally {
    await close();
  }
}

async function probeLambdaLocal(): Promise<Partial<Record<Property, Verdict>>> {
  const files: Record<ProbeFn, string> = {
    probe: join(PROBE_DIR, 'index.mjs'),
    probeReset: join(PROBE_DIR, 'index.mjs'),
    probeCrash: join(PROBE_DIR, 'index.mjs'),
    slowInit: join(PROBE_DIR, 'slow-init.mjs'),
  };
  const t: ProbeTarget = {
    tool: 'lambda-local',
    hostPid: process.pid,
    call: (fn, event) =>
      timed(async () => {
        const opts = {
          lambdaPath: files[fn],
          esm: true,
          event,
          timeoutMs: 1000,
          verboseLevel: 0,
          environment: { PROBE_INIT_MS: '2000' },
        };
        return (await lambdaLocal.execute(opts)) as ProbeReply;
      }),
  };
  const out: Partial<Record<Property, Verdict>> = {};
  await probeIsolation(t, out);
  await probeWarmState(t, out);
  out['reset after timeout'] = await probeReset(t, 'probeReset', { action: 'sleep', ms: 1500 });
  out['reset after crash'] = fromSource(
    'no',
    "the handler runs in the caller's process (lambdalocal.js imports it and calls it), so process.exit() would end the caller: not run here",
  );
  out['init timeout'] = await probeInitTimeout(t, 'timeoutMs 1000');
  out['idle reaping'] = fromSource(
    'no',
    'no environment lifecycle: a module stays loaded for the life of the caller (lambdalocal.js, lib/context.js)',
  );
  return out;
}

async function probeServerlessOffline(sls: SlsOffline): Promise<Partial<Record<Property, Verdict>>> {
  const client = new KeepAliveClient(4);
  const t: ProbeTarget = {
    tool: 'serverless-offline',
    hostPid: sls.pid,
    call: (fn, event) =>
      timed(async () => {
        const reply = await client.request(
          sls.invokeUrl(fn),
          'POST',
          Buffer.from(JSON.stringify(event)),
          5000,
        );
        const body = JSON.parse(reply.body.toString() || '{}') as ProbeReply & {
          errorType?: string;
          errorMessage?: string;
        };
        if (reply.status !== 200 || body.errorType)
          throw new Error(
            `status ${reply.status}: ${body.errorType ?? ''} ${body.errorMessage ?? ''}`.trim(),
          );
        return body;
      }),
  };
  try {
    const out: Partial<Record<Property, Verdict>> = {};
    await probeIsolation(t, out);
    await probeWarmState(t, out);
    out['reset after timeout'] = await probeReset(t, 'probeReset', { action: 'sleep', ms: 1500 });
    out['reset after crash'] = await probeReset(t, 'probeCrash', { action: 'exit' });
    out['init timeout'] = await probeInitTimeout(t, 'function timeout 1 s (no separate init limit exists)');
    if (out['init timeout'].value === 'yes') {
      out['init timeout'] = {
        ...out['init timeout'],
        value: 'partial',
        evidence: `${out['init timeout'].evidence}: INIT is charged to the function timeout, not to a separate 10 s init limit`,
      };
    }
    out['idle reaping'] = fromSource(
      'yes',
      'LambdaFunctionPool terminates IDLE functions after terminateIdleLambdaTime (default 60 s); not waited for here',
    );
    return out;
  } finally {
    client.close();
  }
}

export async function probeSemantics(sls: SlsOffline | undefined): Promise<SemanticsResult> {
  const result: SemanticsResult = {
    lab: await probeLab(),
    'lambda-local': await probeLambdaLocal(),
    'serverless-offline': {},
  };
  result['serverless-offline'] = sls ? await probeServerlessOffline(sls) : {};
  return result;
}
