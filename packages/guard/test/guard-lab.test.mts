import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { buildLayer } from '../scripts/build-layer.mjs';
import { validateEmf } from '../src/emf.js';
import { collectLogs, eventually, fixture, REGISTER, traffic } from './helpers.mjs';

const json = (r: InvokeResult) => JSON.parse(r.payload.toString('utf8')) as Record<string, unknown>;
const NO_AGE = { EPHEMERA_MAX_AGE_SECONDS: 'off' };

/** Every response ok, and no environment served more than `max` invocations. */
function assertRecycledCleanly(results: InvokeResult[], max: number): void {
  const bad = results.filter((r) => r.outcome !== 'success');
  assert.deepEqual(
    bad.map((r) => r.error),
    [],
    'no invocation failed through a recycle',
  );
  const perEnv = new Map<string, number>();
  for (const r of results) perEnv.set(r.environmentId, (perEnv.get(r.environmentId) ?? 0) + 1);
  for (const [env, n] of perEnv) assert.ok(n <= max, `environment ${env} served ${n} > ${max} invocations`);
}

describe('guard core in the lab with the real aws-lambda-ric', () => {
  let lab: Lab;
  let logs: ReturnType<typeof collectLogs>;
  let sink: Server;
  const received: Array<{ auth: string | undefined; events: Array<{ type: string; id: string }> }> = [];
  let layerDir: string;

  before(async () => {
    sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, events: JSON.parse(body) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/events`;
    layerDir = buildLayer(mkdtempSync(join(tmpdir(), 'ephemera-layer-'))).dir;
    const fn = (name: string, dir: string, environment: Record<string, string>, extra: object = {}) => ({
      name,
      codeDir: fixture(dir),
      handler: 'index.handler',
      environment,
      ...extra,
    });
    lab = await createLab({
      functions: [
        fn('count', 'protected', { EPHEMERA_MAX_INVOCATIONS: '3', ...NO_AGE }),
        fn('age', 'protected', {
          EPHEMERA_MAX_AGE_SECONDS: '1',
          EPHEMERA_JITTER: '0',
          EPHEMERA_MAX_INVOCATIONS: 'off',
        }),
        fn('tmp', 'protected', { EPHEMERA_MAX_INVOCATIONS: '1', ...NO_AGE }),
        fn('tmp-kept', 'protected', {
          EPHEMERA_MAX_INVOCATIONS: '1',
          EPHEMERA_CLEAN_TMP: 'false',
          ...NO_AGE,
        }),
        fn('emf', 'protected', { EPHEMERA_TELEMETRY_EMF: 'true', EPHEMERA_MAX_INVOCATIONS: '2', ...NO_AGE }),
        fn('sink-down', 'protected', {
          EPHEMERA_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9/v1/events',
          EPHEMERA_MAX_INVOCATIONS: '2',
          ...NO_AGE,
        }),
        fn('sink-up', 'protected', {
          EPHEMERA_TELEMETRY_ENDPOINT: sinkUrl,
          EPHEMERA_TELEMETRY_TOKEN: 'lab-token',
          EPHEMERA_MAX_INVOCATIONS: '2',
          ...NO_AGE,
        }),
        fn('bad-mode', 'protected', { EPHEMERA_MODE: 'bogus' }),
        fn('bad-key', 'protected', { EPHEMERA_POLICY: '{"lifecyle":{"maxInvocations":5}}' }),
        fn('callback', 'protected-cjs', { EPHEMERA_MAX_INVOCATIONS: '2', ...NO_AGE }),
        fn('middy', 'middy', { EPHEMERA_MAX_INVOCATIONS: '2', ...NO_AGE }),
        fn('stream', 'streaming', {}),
        fn('register', 'plain', {
          NODE_OPTIONS: `--require ${REGISTER}`,
          EPHEMERA_MAX_INVOCATIONS: '2',
          ...NO_AGE,
        }),
        fn(
          'layer-esm',
          'plain',
          { AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper', EPHEMERA_MAX_INVOCATIONS: '2', ...NO_AGE },
          { layers: [layerDir] },
        ),
        {
          ...fn(
            'layer-cjs',
            'plain-cjs',
            {
              AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper',
              EPHEMERA_MAX_INVOCATIONS: '2',
              ...NO_AGE,
            },
            { layers: [layerDir] },
          ),
          handler: 'app.handlers.main',
        },
        fn(
          'eval-victim',
          'eval-victim',
          { AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper' },
          { layers: [layerDir] },
        ),
        {
          ...fn(
            'layer-missing',
            'plain',
            { AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper' },
            { layers: [layerDir] },
          ),
          handler: 'index.nothing',
        },
      ],
    });
    logs = collectLogs(lab);
  });
  after(async () => {
    await lab.close();
    sink.close();
  });

  it('recycles after maxInvocations under concurrency without failing or delaying any request', async () => {
    const results = await traffic(30, 4, (seq) => lab.invoke('count', { seq, sleepMs: 5 }));
    assertRecycledCleanly(results, 3);
    assert.deepEqual(
      results.map((r) => json(r).seq),
      Array.from({ length: 30 }, (_, i) => i),
      'each response is its own',
    );
    await eventually(
      () => logs.guard('count').filter((e) => e.type === 'recycle').length >= 8,
      'recycle events',
      // An upper bound only (it returns as soon as they are in): a loaded machine needs more than 5 s.
      15_000,
    );
    const recycles = logs.guard('count').filter((e) => e.type === 'recycle');
    assert.ok(recycles.every((e) => e.detail.reason === 'max-invocations' && e.invocation === 3));
    assert.equal(lab.events.ofType('crashed', 'count').length, 0, 'no recycle surfaced as a crash');
    assert.ok(
      lab.events.ofType('exited', 'count').length >= 8,
      'recycled environments exited between invocations',
    );
  });

  it('recycles after maxAgeSeconds, still answering every request', async () => {
    const started = Date.now();
    const results: InvokeResult[] = [];
    const recycled = () => logs.guard('age').some((e) => e.type === 'recycle');
    // At least 2.6 s of traffic (the limit is 1 s); on a loaded machine, until the recycle shows.
    while (Date.now() - started < 2600 || (!recycled() && Date.now() - started < 20_000)) {
      results.push(
        ...(await Promise.all([lab.invoke('age', { sleepMs: 20 }), lab.invoke('age', { sleepMs: 20 })])),
      );
    }
    assertRecycledCleanly(results, Number.POSITIVE_INFINITY);
    await eventually(() => logs.guard('age').some((e) => e.type === 'recycle'), 'an age recycle');
    const recycle = logs.guard('age').find((e) => e.type === 'recycle');
    assert.equal(recycle?.detail.reason, 'max-age');
    assert.ok((recycle?.ageMs ?? 0) >= 1000);
  });

  it('removes files created in /tmp after INIT when it recycles (cleanTmp), and only then', async () => {
    const sandboxOf = (r: InvokeResult) =>
      String(
        lab.events.history.find((e) => e.type === 'environment-created' && e.environment === r.environmentId)
          ?.detail?.sandbox,
      );
    const cleaned = await lab.invoke('tmp', { writeTmp: 'implant.js' });
    const kept = await lab.invoke('tmp-kept', { writeTmp: 'implant.js' });
    assert.equal(cleaned.outcome, 'success');
    await eventually(
      () => lab.events.history.some((e) => e.type === 'exited' && e.environment === cleaned.environmentId),
      'tmp recycle',
    );
    await eventually(
      () => lab.events.history.some((e) => e.type === 'exited' && e.environment === kept.environmentId),
      'tmp-kept recycle',
    );
    assert.equal(
      existsSync(join(sandboxOf(cleaned), 'tmp', 'implant.js')),
      false,
      'cleanTmp removed the implant',
    );
    assert.equal(
      existsSync(join(sandboxOf(kept), 'tmp', 'implant.js')),
      true,
      'without cleanTmp the file survives',
    );
    const recycle = logs.guard('tmp').find((e) => e.type === 'recycle');
    assert.deepEqual(recycle?.detail.tmpRemoved, ['implant.js']);
  });

  it('emits telemetry lines that follow the documented event schema', async () => {
    await lab.invoke('count', { seq: -1 });
    const events = logs.guard();
    assert.ok(events.length > 10);
    for (const e of events) {
      assert.deepEqual(Object.keys(e), [
        'ephemera',
        'id',
        'type',
        'time',
        'function',
        'env',
        'requestId',
        'invocation',
        'ageMs',
        'control',
        'action',
        'detail',
      ]);
      assert.equal(e.ephemera, 1);
      assert.match(e.id, /^[0-9a-f-]{36}$/);
      assert.ok(
        ['init', 'recycle', 'block', 'alert', 'detection', 'error', 'dropped'].includes(e.type),
        e.type,
      );
      assert.ok(!Number.isNaN(Date.parse(e.time)) && e.time.endsWith('Z'));
      assert.match(e.env, /^[0-9a-f]{12}$/);
      assert.ok(Number.isInteger(e.invocation) && e.ageMs >= 0);
      assert.equal(typeof e.detail, 'object');
    }
    const init = events.find((e) => e.function === 'count' && e.type === 'init');
    assert.ok(init);
    assert.equal(init.detail.installMode, 'protect');
    assert.equal(init.detail.recycle, 'clean');
    // Every control is enforced; the firewall comes first (its verdict precedes the handler) and
    // integrity last (its baseline includes every other control's hooks).
    assert.deepEqual(init.detail.unimplemented, []);
    const controls = init.detail.controls as string[];
    assert.equal(controls[0], 'firewall');
    assert.equal(controls.at(-1), 'integrity');
    for (const c of ['codegen', 'egress', 'fs', 'childProcess', 'internals'])
      assert.ok(controls.includes(c), `${c} is on by default`);
  });

  it('writes EMF metrics that validate against the Embedded Metric Format', async () => {
    await lab.invoke('emf', {});
    // Same environment for both: wait until it asks for work again.
    await eventually(() => lab.environments('emf').some((e) => e.state === 'idle'), 'emf idle');
    await lab.invoke('emf', {});
    const emfLines = () => logs.lines.filter((l) => l.function === 'emf' && l.line.startsWith('{"_aws"'));
    const records = () => emfLines().map((l) => JSON.parse(l.line) as Record<string, unknown>);
    // The second invocation recycles: its metrics are written just before the process ends.
    await eventually(() => records().some((r) => r.Recycles === 1), 'EMF line of the recycle');
    for (const l of emfLines()) assert.deepEqual(validateEmf(l.line), [], l.line);
    assert.equal(
      records().reduce((n, r) => n + Number(r.Invocations ?? 0), 0),
      2,
    );
    assert.equal(
      records().reduce((n, r) => n + Number(r['Recycles.max-invocations'] ?? 0), 0),
      1,
    );
  });

  it('never lets a down telemetry endpoint affect responses, and delivers to a live one with its token', async () => {
    const results = await traffic(8, 2, () => lab.invoke('sink-down', {}));
    assertRecycledCleanly(results, 2);
    await traffic(4, 1, () => lab.invoke('sink-up', {}));
    await eventually(
      () => received.flatMap((b) => b.events).some((e) => e.type === 'recycle'),
      'events at the sink',
    );
    assert.ok(received.every((b) => b.auth === 'Bearer lab-token'));
    const ids = received.flatMap((b) => b.events.map((e) => e.id));
    assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
  });

  it('refuses to start with an invalid policy, naming the variable or key', async () => {
    const mode = await lab.invoke('bad-mode', {});
    assert.equal(mode.outcome, 'init-error');
    assert.equal(mode.error?.errorType, 'EPHEMERA_ERR_POLICY');
    assert.match(
      mode.error?.errorMessage ?? '',
      /EPHEMERA_MODE is "bogus"; accepted: "block", "alert", "off"/,
    );
    const key = await lab.invoke('bad-key', {});
    assert.equal(key.error?.errorType, 'EPHEMERA_ERR_POLICY');
    assert.match(key.error?.errorMessage ?? '', /lifecyle/);
    assert.match(key.error?.errorMessage ?? '', /lifecycle/, 'suggests the accepted key');
  });

  it('passes handler results and errors through unchanged (async and callback style)', async () => {
    const failed = await lab.invoke('count', { fail: 'card declined' });
    assert.equal(failed.error?.errorType, 'RangeError');
    assert.equal(failed.error?.errorMessage, 'handler failed: card declined');
    const ok = await lab.invoke('callback', {});
    assert.equal(json(ok).style, 'callback');
    const cbFailed = await lab.invoke('callback', { fail: 'x' });
    assert.equal(cbFailed.error?.errorMessage, 'callback failure: x');
  });

  it('works as a Middy middleware with the real @middy/core, recycling cleanly', async () => {
    const results = await traffic(6, 2, () => lab.invoke('middy', {}));
    assertRecycledCleanly(results, 2);
    assert.equal(json(results[0] as InvokeResult).via, 'middy');
    const failed = await lab.invoke('middy', { fail: true });
    assert.equal(failed.error?.errorMessage, 'middy handler failed');
    await eventually(() => logs.guard('middy').some((e) => e.type === 'recycle'), 'middy recycle');
    assert.equal(logs.guard('middy').find((e) => e.type === 'init')?.detail.installMode, 'middy');
  });

  it('keeps a streaming handler streaming', async () => {
    const result = await lab.invoke('stream', {});
    assert.equal(result.outcome, 'success');
    assert.equal(result.streamed, true);
    assert.equal(result.payload.toString(), 'one;two;');
  });

  it('protects an unmodified function through NODE_OPTIONS=--require register', async () => {
    const results = await traffic(6, 2, () => lab.invoke('register', {}));
    assertRecycledCleanly(results, 2);
    assert.match(String(json(results[0] as InvokeResult).handlerVar), /dist\/shim\.handler$/);
    await eventually(() => logs.guard('register').some((e) => e.type === 'recycle'), 'register recycle');
    assert.equal(logs.guard('register').find((e) => e.type === 'init')?.detail.installMode, 'register');
  });

  it('protects unmodified ESM and CommonJS functions through the layer and its exec wrapper', async () => {
    for (const name of ['layer-esm', 'layer-cjs']) {
      const results = await traffic(6, 2, () => lab.invoke(name, {}));
      assertRecycledCleanly(results, 2);
      await eventually(() => logs.guard(name).some((e) => e.type === 'recycle'), `${name} recycle`);
      const init = logs.guard(name).find((e) => e.type === 'init');
      assert.equal(init?.detail.installMode, 'layer');
      assert.equal(init?.detail.recycle, 'clean');
    }
    assert.equal(json((await lab.invoke('layer-cjs', {})) as InvokeResult).module, 'cjs');
  });

  it('lets the eval idiom parse data but refuses code injected through it (codegen block)', async () => {
    const http = (body: string) => ({
      version: '2.0',
      body,
      requestContext: { http: { sourceIp: '203.0.113.9' } },
    });
    const data = await lab.invoke('eval-victim', http('{"card":"4111111111111111","exp":"12/29"}'));
    assert.equal(data.outcome, 'success');
    assert.equal(JSON.parse(String(json(data).body)).fields, 2);
    const implant = "require('https').request = function () { return 'stolen' }";
    const attack = await lab.invoke('eval-victim', http(`(function(){ ${implant} })()`));
    assert.equal(attack.outcome, 'function-error');
    assert.equal(attack.error?.errorType, 'EPHEMERA_ERR_CODEGEN_BLOCKED');
    await eventually(() => logs.guard('eval-victim').some((e) => e.type === 'block'), 'block event');
    const block = logs.guard('eval-victim').find((e) => e.type === 'block');
    assert.equal(block?.control, 'codegen');
    assert.equal(block?.requestId, attack.requestId);
    assert.equal(block?.detail.containsEventInput, true);
    assert.equal(block?.detail.sourceIp, '203.0.113.9');
    assert.match(String(block?.detail.fingerprint), /^[0-9a-f]{16}$/);
    assert.doesNotMatch(
      JSON.stringify(block),
      /stolen|4111111111111111/,
      'no payload or secret in the event',
    );
    const after = await lab.invoke('eval-victim', http('{"card":"5500000000000004"}'));
    assert.equal(after.outcome, 'success', 'the next user is served');
  });

  it('raised no integrity detection on any of these honest functions', () => {
    // 'tmp' and 'tmp-kept' drop implant.js in /tmp on purpose: those detections are right.
    const detections = logs.guard().filter((e) => e.type === 'detection' && !e.function.startsWith('tmp'));
    assert.deepEqual(
      detections.map((e) => ({ fn: e.function, drifts: e.detail.drifts })),
      [],
    );
  });

  it('reports a missing original handler in layer mode as Runtime.HandlerNotFound', async () => {
    const result = await lab.invoke('layer-missing', {});
    assert.equal(result.outcome, 'init-error');
    assert.equal(result.error?.errorType, 'Runtime.HandlerNotFound');
    assert.match(result.error?.errorMessage ?? '', /index\.nothing is undefined or not exported/);
  });
});
