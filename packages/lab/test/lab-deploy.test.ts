import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLab, type Lab, type LabError } from '../src/index.js';
import { alive, eventually, fixture, json, sleep } from './helpers.js';

describe('layers, exec wrapper, scaled clock and provisioned concurrency', () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab({
      clockScale: 600, // one real second is ten lab minutes
      idleTimeoutSeconds: 600,
      maxLifetimeSeconds: 3 * 3600,
      functions: [
        {
          name: 'layered',
          codeDir: fixture('cjs-layered'),
          handler: 'index.handler',
          layers: [fixture('layer-greeting'), fixture('layer-wrapper')],
          environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper.sh' },
        },
        { name: 'warm', codeDir: fixture('behaviours'), handler: 'index.handler', provisionedConcurrency: 2 },
        { name: 'reaped', codeDir: fixture('behaviours'), handler: 'index.handler' },
      ],
    });
  });
  after(() => lab.close());

  it('runs the runtime through AWS_LAMBDA_EXEC_WRAPPER and resolves packages from layers in /opt', async () => {
    const result = await lab.invoke('layered', {});
    assert.equal(result.outcome, 'success', result.payload.toString());
    const reply = json(result.payload);
    assert.equal(reply.greeting, 'hello, lab, from a layer');
    assert.equal(reply.wrapped, 'layer-wrapper');
    assert.match(String(reply.optPath), /opt-layered\/nodejs\/node_modules\/greeting\/index\.js$/);
  });

  it('initialises provisioned environments before the first request, typed provisioned-concurrency', async () => {
    const envs = lab.environments('warm');
    assert.equal(envs.length, 2);
    assert.ok(envs.every((e) => e.state === 'idle'));
    const result = await lab.invoke('warm', {});
    assert.equal(result.cold, false, 'a provisioned environment serves the first request warm');
    assert.equal(
      json<{ env: Record<string, string> }>(result.payload).env.AWS_LAMBDA_INITIALIZATION_TYPE,
      'provisioned-concurrency',
    );
  });

  it('reaps an idle environment after the idle timeout on the scaled clock, and keeps provisioned ones', async () => {
    const result = await lab.invoke('reaped', {});
    const pid = json<{ pid: number }>(result.payload).pid;
    // 600 lab seconds at scale 600 is about one real second.
    await eventually(
      () => lab.events.history.some((e) => e.type === 'reaped' && e.environment === result.environmentId),
      'reaped event',
      4000,
    );
    assert.equal(lab.environments('reaped').length, 0);
    await eventually(() => !alive(pid), 'reaped runtime to exit');
    assert.equal(lab.environments('warm').length, 2, 'provisioned environments are not reaped');
    const again = await lab.invoke('reaped', {});
    assert.equal(again.cold, true);
  });

  it('retires environments at the provider maximum lifetime even when kept warm', async () => {
    const first = await lab.invoke('warm', {});
    lab.clock.advance(3 * 3600 * 1000 + 1000);
    await eventually(
      () => lab.events.history.some((e) => e.type === 'retired' && e.environment === first.environmentId),
      'retired',
      3000,
    );
    assert.equal(
      lab.environments('warm').some((e) => e.id === first.environmentId),
      false,
    );
  });
});

describe('runtimes left behind by a lab whose host process died', () => {
  it('are killed by the next lab, with their sandbox', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    // A host that starts a lab, serves one request (its runtime is then frozen) and is SIGKILLed.
    const script = `
      import { createLab } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const lab = await createLab({ functions: [{ name: 'f', codeDir: ${JSON.stringify(fixture('behaviours'))}, handler: 'index.handler' }] });
      await lab.invoke('f', {});
      await new Promise((r) => setTimeout(r, 200));
      console.log(JSON.stringify({ pid: lab.environments()[0].pid, root: lab.environments()[0].sandboxDir }));
      process.kill(process.pid, 'SIGKILL');`;
    const host = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    host.stdout.on('data', (d) => (out += d));
    await new Promise((r) => host.on('close', r));
    const { pid, root } = JSON.parse(out) as { pid: number; root: string };
    assert.ok(alive(pid), 'the orphaned runtime survived its host');
    const lab = await createLab({
      functions: [{ name: 'f', codeDir: fixture('behaviours'), handler: 'index.handler' }],
    });
    await lab.close();
    await eventually(() => !alive(pid), 'the orphan to be killed', 2000);
    assert.equal(existsSync(root), false, 'its sandbox was removed');
  });
});

describe('bad input to the lab', () => {
  it('names a missing code directory', async () => {
    await assert.rejects(
      createLab({ functions: [{ name: 'f', codeDir: '/nonexistent/code', handler: 'index.handler' }] }),
      (err: LabError) => {
        assert.equal(err.code, 'EPHEMERA_ERR_LAB_CODE_DIR');
        assert.match(err.message, /\/nonexistent\/code/);
        return true;
      },
    );
  });

  it('names a bad handler, timeout and reserved variable', async () => {
    const base = { name: 'f', codeDir: fixture('behaviours') };
    await assert.rejects(
      createLab({ functions: [{ ...base, handler: 'nodot' }] }),
      /handler is "nodot"; accepted: FILE\.EXPORT/,
    );
    await assert.rejects(
      createLab({ functions: [{ ...base, handler: 'index.handler', timeoutSeconds: 901 }] }),
      /timeoutSeconds is 901; accepted: an integer from 1 to 900/,
    );
    await assert.rejects(
      createLab({
        functions: [{ ...base, handler: 'index.handler', environment: { AWS_REGION: 'eu-west-1' } }],
      }),
      (err: LabError) => err.code === 'EPHEMERA_ERR_LAB_CONFIG' && /AWS_REGION/.test(err.message),
    );
  });

  it('reports a port in use as EPHEMERA_ERR_LAB_PORT_IN_USE and leaves no runtime behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        createLab({
          port,
          functions: [
            {
              name: 'f',
              codeDir: fixture('behaviours'),
              handler: 'index.handler',
              provisionedConcurrency: 1,
            },
          ],
        }),
        (err: LabError) => err.code === 'EPHEMERA_ERR_LAB_PORT_IN_USE' && err.message.includes(String(port)),
      );
    } finally {
      blocker.close();
    }
  });

  it('rejects an unknown function and a payload over 6 MB with their codes', async () => {
    const lab = await createLab({
      functions: [{ name: 'f', codeDir: fixture('behaviours'), handler: 'index.handler' }],
    });
    try {
      await assert.rejects(
        lab.invoke('g', {}),
        (err: LabError) => err.code === 'EPHEMERA_ERR_LAB_UNKNOWN_FUNCTION',
      );
      await assert.rejects(
        lab.invoke('f', Buffer.alloc(6 * 1024 * 1024 + 1, 32)),
        (err: LabError) => err.code === 'EPHEMERA_ERR_LAB_PAYLOAD_TOO_LARGE',
      );
    } finally {
      await lab.close();
    }
    await assert.rejects(lab.invoke('f', {}), (err: LabError) => err.code === 'EPHEMERA_ERR_LAB_CLOSED');
  });

  it('leaves no orphan process after close(), even for frozen environments and their children', async () => {
    const lab = await createLab({
      functions: [{ name: 'f', codeDir: fixture('behaviours'), handler: 'index.handler' }],
    });
    await Promise.all([1, 2, 3].map(() => lab.invoke('f', { action: 'sleep', ms: 100 })));
    await eventually(() => lab.environments().every((e) => e.state === 'idle'), 'all idle');
    const child = json<{ childPid: number }>(
      (await lab.invoke('f', { action: 'spawn-child' })).payload,
    ).childPid;
    assert.ok(alive(child));
    await sleep(100);
    const pids = [...lab.environments().map((e) => e.pid ?? 0), child];
    assert.equal(pids.length, 4, 'three runtimes and one child');
    assert.ok(
      lab.environments().every((e) => e.frozen),
      'idle environments are frozen',
    );
    await lab.close();
    await eventually(() => pids.every((pid) => !alive(pid)), `no survivor among ${pids.join(', ')}`, 2000);
    for (const pid of pids.slice(0, 3)) assert.equal(alive(-pid), false, `process group ${pid} survived`);
  });
});
