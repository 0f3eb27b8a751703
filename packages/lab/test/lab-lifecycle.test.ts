import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, type Lab } from '../src/index.js';
import { alive, eventually, fixture, json, sleep } from './helpers.js';

interface Reply {
  pid: number;
  invocations: number;
  ticks: number;
  requestId: string;
  functionArn: string;
  remainingMs: number;
  clientContext: unknown;
  env: Record<string, string>;
  cwd: string;
}

describe('lab lifecycle with the real aws-lambda-ric', () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab({
      functions: [
        {
          name: 'behaviours',
          codeDir: fixture('behaviours'),
          handler: 'index.handler',
          timeoutSeconds: 1,
          environment: { MY_SETTING: 'on' },
        },
        { name: 'missing-handler', codeDir: fixture('behaviours'), handler: 'index.nope' },
        { name: 'broken-init', codeDir: fixture('broken-init'), handler: 'index.handler' },
      ],
    });
  });
  after(async () => {
    const pids = lab.environments().flatMap((e) => (e.pid ? [e.pid] : []));
    await lab.close();
    for (const pid of pids) assert.equal(alive(pid), false, `runtime ${pid} survived close()`);
  });

  it('cold-starts an environment, then reuses it warm with its module state', async () => {
    const first = await lab.invoke('behaviours', { action: 'none' });
    assert.equal(first.outcome, 'success');
    assert.equal(first.cold, true);
    assert.ok((first.initDurationMs ?? 0) > 0, 'a cold start reports its init duration');
    await eventually(
      () => lab.environments('behaviours').some((e) => e.state === 'idle'),
      'the environment to call /next',
    );
    const second = await lab.invoke('behaviours', { action: 'none' });
    assert.equal(second.cold, false);
    assert.equal(second.environmentId, first.environmentId);
    assert.equal(second.initDurationMs, undefined);
    const a = json<Reply>(first.payload);
    const b = json<Reply>(second.payload);
    assert.equal(b.pid, a.pid);
    assert.equal(b.invocations, a.invocations + 1, 'module state survives between warm invocations');
    assert.notEqual(b.requestId, a.requestId);
  });

  it("gives the runtime Lambda's reserved variables, the function's own, a private TMPDIR and /var/task as cwd", async () => {
    const result = await lab.invoke('behaviours', { action: 'none' });
    const reply = json<Reply>(result.payload);
    const env = lab.environments('behaviours').find((e) => e.id === result.environmentId);
    assert.ok(env);
    assert.equal(reply.env.AWS_LAMBDA_FUNCTION_NAME, 'behaviours');
    assert.equal(reply.env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
    assert.equal(reply.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '128');
    assert.equal(reply.env.AWS_LAMBDA_LOG_GROUP_NAME, '/aws/lambda/behaviours');
    assert.equal(reply.env.AWS_LAMBDA_LOG_STREAM_NAME, env.logStream.name);
    assert.match(
      reply.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
      /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/,
    );
    assert.equal(reply.env.AWS_REGION, 'us-east-1');
    assert.equal(reply.env.AWS_EXECUTION_ENV, 'AWS_Lambda_nodejs20.x');
    assert.equal(reply.env.AWS_LAMBDA_INITIALIZATION_TYPE, 'on-demand');
    assert.equal(reply.env.LAMBDA_TASK_ROOT, fixture('behaviours'));
    assert.equal(reply.env._HANDLER, 'index.handler');
    assert.equal(reply.env.AWS_LAMBDA_RUNTIME_API, env.runtimeApi);
    assert.equal(reply.env.MY_SETTING, 'on');
    assert.equal(reply.env.TMPDIR, env.tmpDir);
    assert.equal(reply.cwd, fixture('behaviours'));
    assert.equal(reply.functionArn, 'arn:aws:lambda:us-east-1:123456789012:function:behaviours');
    assert.ok(
      reply.remainingMs > 500 && reply.remainingMs <= 1000,
      `deadline from the 1 s timeout, got ${reply.remainingMs}`,
    );
  });

  it('keeps back-to-back requests warm in one environment, as the network makes them on AWS', async () => {
    for (const env of lab.environments('behaviours')) await env.shutdown('shutdown');
    const results = [];
    for (let i = 0; i < 15; i += 1) results.push(await lab.invoke('behaviours', { action: 'none' }));
    assert.equal(new Set(results.map((r) => r.environmentId)).size, 1);
    assert.deepEqual(
      results.map((r) => r.cold),
      [true, ...Array(14).fill(false)],
    );
  });

  it('runs N concurrent invocations in N environments, one invocation each', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => lab.invoke('behaviours', { action: 'sleep', ms: 150 })),
    );
    assert.ok(results.every((r) => r.outcome === 'success'));
    assert.equal(new Set(results.map((r) => r.environmentId)).size, 4);
    assert.equal(new Set(results.map((r) => json<Reply>(r.payload).pid)).size, 4);
  });

  it('freezes an environment between invocations, so its timers do not run', async () => {
    const first = json<Reply>((await lab.invoke('behaviours', { action: 'none' })).payload);
    await sleep(400);
    const again = await lab.invoke('behaviours', { action: 'none' });
    const second = json<Reply>(again.payload);
    assert.equal(second.pid, first.pid);
    // A 10 ms interval would tick ~40 times in 400 ms if the process were running.
    assert.ok(
      second.ticks - first.ticks < 10,
      `interval advanced ${second.ticks - first.ticks} ticks while frozen`,
    );
    assert.ok(lab.events.ofType('frozen', 'behaviours').length > 0);
    assert.ok(lab.events.ofType('thawed', 'behaviours').length > 0);
  });

  it("writes Lambda's START/END/REPORT lines around the function's own log lines", async () => {
    const result = await lab.invoke('behaviours', { action: 'log', message: 'marker-42' });
    await sleep(50);
    const env = lab.environments('behaviours').find((e) => e.id === result.environmentId);
    assert.ok(env);
    const lines = env.logStream.lines;
    const start = lines.indexOf(`START RequestId: ${result.requestId} Version: $LATEST`);
    const log = lines.findIndex((l) => l.includes('marker-42'));
    const end = lines.indexOf(`END RequestId: ${result.requestId}`);
    assert.ok(
      start >= 0 && log > start && end > log,
      `order START < log < END in ${JSON.stringify(lines.slice(-6))}`,
    );
    const report = lines[end + 1] ?? '';
    assert.match(
      report,
      new RegExp(
        `^REPORT RequestId: ${result.requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: [1-9]\\d* MB`,
      ),
    );
    assert.match(
      lines[log] ?? '',
      new RegExp(`\\t${result.requestId}\\tINFO\\thello from the handler marker-42`),
    );
  });

  it('returns a function error as the runtime reported it ({errorType, errorMessage, trace})', async () => {
    const result = await lab.invoke('behaviours', { action: 'throw', message: 'boom' });
    assert.equal(result.outcome, 'function-error');
    assert.equal(result.error?.errorType, 'TypeError');
    assert.equal(result.error?.errorMessage, 'asked to fail: boom');
    const body = json(result.payload);
    assert.equal(body.errorType, 'TypeError');
    assert.ok(Array.isArray(body.trace));
    // A handled error does not reset the environment.
    await eventually(
      () => lab.environments('behaviours').some((e) => e.id === result.environmentId && e.state === 'idle'),
      'idle after error',
    );
  });

  it('kills the environment on timeout, answers Sandbox.Timedout, and re-initialises it keeping /tmp', async () => {
    const planted = await lab.invoke('behaviours', { action: 'write-tmp', name: 'kept.txt' });
    const env = lab.environments('behaviours').find((e) => e.id === planted.environmentId);
    assert.ok(env);
    await eventually(() => env.state === 'idle', 'idle');
    const oldPid = env.pid;
    const started = Date.now();
    const result = await lab.invoke('behaviours', { action: 'sleep', ms: 5000 });
    assert.equal(result.environmentId, env.id);
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.error?.errorType, 'Sandbox.Timedout');
    assert.match(result.error?.errorMessage ?? '', /Task timed out after 1\.00 seconds/);
    assert.ok(Date.now() - started < 2500, 'the caller is answered at the deadline');
    await eventually(() => env.state === 'reset', 'reset');
    assert.equal(alive(oldPid ?? 0), false, 'the timed-out runtime was killed');
    assert.equal(existsSync(join(env.tmpDir, 'kept.txt')), true, 'Lambda does not clear /tmp on reset');
    // Only reset environments remain idle-able? Force the next invocation onto it by making it the only one.
    for (const other of lab.environments('behaviours')) if (other !== env) await other.shutdown('shutdown');
    const next = await lab.invoke('behaviours', { action: 'none' });
    assert.equal(next.environmentId, env.id);
    assert.equal(next.cold, true, 'a reset environment pays init inside the next invocation');
    assert.notEqual(json<Reply>(next.payload).pid, oldPid);
    assert.equal(json<Reply>(next.payload).invocations, 1, 'module state is gone after a reset');
  });

  it('answers Runtime.ExitError when the runtime exits during an invocation, then resets', async () => {
    const result = await lab.invoke('behaviours', { action: 'crash' });
    assert.equal(result.outcome, 'exit');
    assert.equal(result.error?.errorType, 'Runtime.ExitError');
    assert.match(result.error?.errorMessage ?? '', /Runtime exited with error: exit status 3/);
    assert.ok(lab.events.history.some((e) => e.type === 'reset' && e.environment === result.environmentId));
    const next = await lab.invoke('behaviours', { action: 'none' });
    assert.equal(next.outcome, 'success');
  });

  it('refuses a response over 6 MB with Function.ResponseSizeTooLarge', async () => {
    const result = await lab.invoke('behaviours', { action: 'huge' });
    assert.equal(result.outcome, 'function-error');
    assert.equal(result.error?.errorType, 'Function.ResponseSizeTooLarge');
  });

  it('surfaces Runtime.HandlerNotFound from INIT for an unknown handler', async () => {
    const result = await lab.invoke('missing-handler', {});
    assert.equal(result.outcome, 'init-error');
    assert.equal(result.error?.errorType, 'Runtime.HandlerNotFound');
    assert.ok(lab.events.ofType('init-failed', 'missing-handler').length > 0);
    await eventually(
      () => lab.environments('missing-handler').every((e) => e.pid === undefined),
      'runtime stopped',
    );
  });

  it('reports an exception thrown while the module loads as an init error', async () => {
    const result = await lab.invoke('broken-init', {});
    assert.equal(result.outcome, 'init-error');
    assert.match(result.error?.errorMessage ?? '', /cannot connect to the database at init/);
  });

  it('answers 400 for an unknown request id and 403 for an invalid state transition', async () => {
    let requestId = '';
    const seen = new Promise<void>((resolve) => {
      const listener = (e: { type: string; requestId?: string; function: string }) => {
        if (e.type === 'invoke-start' && e.function === 'behaviours' && e.requestId) {
          requestId = e.requestId;
          lab.events.off('event', listener);
          resolve();
        }
      };
      lab.events.on('event', listener);
    });
    const running = lab.invoke('behaviours', { action: 'sleep', ms: 300 });
    await seen;
    const env = lab.environments('behaviours').find((e) => e.state === 'busy');
    assert.ok(env);
    const base = `http://${env.runtimeApi}/2018-06-01/runtime`;
    const unknown = await fetch(`${base}/invocation/not-a-request/response`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { errorType: string }).errorType, 'InvalidRequestID');
    const early = await fetch(`${base}/invocation/next`);
    assert.equal(early.status, 403, '/next before the current invocation is answered');
    const lateInit = await fetch(`${base}/init/error`, { method: 'POST', body: '{}' });
    assert.equal(lateInit.status, 403, 'init/error after INIT');
    const result = await running;
    assert.equal(result.requestId, requestId);
    assert.equal(result.outcome, 'success');
    const twice = await fetch(`${base}/invocation/${requestId}/response`, { method: 'POST', body: '{}' });
    assert.ok([400, 403].includes(twice.status), `a second response is refused (got ${twice.status})`);
  });
});

describe('lab lifecycle without freezing', () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab({
      freeze: false,
      initTimeoutMs: 1500,
      functions: [
        { name: 'behaviours', codeDir: fixture('behaviours'), handler: 'index.handler' },
        { name: 'hang', codeDir: fixture('broken-init'), handler: 'hang.handler' },
      ],
    });
  });
  after(() => lab.close());

  it('lets timers run between invocations when freezing is off', async () => {
    const first = json<Reply>((await lab.invoke('behaviours', { action: 'none' })).payload);
    await sleep(400);
    const second = json<Reply>((await lab.invoke('behaviours', { action: 'none' })).payload);
    assert.equal(second.pid, first.pid);
    assert.ok(second.ticks - first.ticks >= 15, `interval advanced only ${second.ticks - first.ticks} ticks`);
  });

  it('treats an environment whose process exits after its response as gone: the next request is cold', async () => {
    for (const env of lab.environments('behaviours')) await env.shutdown('shutdown');
    const result = await lab.invoke('behaviours', { action: 'exit-after-response' });
    assert.equal(result.outcome, 'success', 'the response was delivered before the exit');
    await eventually(
      () => lab.events.history.some((e) => e.type === 'exited' && e.environment === result.environmentId),
      'exited event',
    );
    assert.equal(
      lab.environments('behaviours').some((e) => e.id === result.environmentId),
      false,
    );
    const next = await lab.invoke('behaviours', { action: 'none' });
    assert.equal(next.outcome, 'success');
    assert.equal(next.cold, true);
    assert.notEqual(next.environmentId, result.environmentId);
  });

  it('fails an INIT that never calls /next within the init limit, with no orphan left', async () => {
    const started = Date.now();
    const result = await lab.invoke('hang', {});
    assert.equal(result.outcome, 'init-error');
    assert.equal(result.error?.errorType, 'Runtime.InitTimeout');
    assert.ok(Date.now() - started < 4000);
    await eventually(() => lab.environments('hang').every((e) => e.pid === undefined), 'hung runtime killed');
  });
});
