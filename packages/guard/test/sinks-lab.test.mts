/**
 * The fs, childProcess and internals controls end to end: an unmodified function behind the layer's
 * exec wrapper, run by the real aws-lambda-ric on Node 20 and Node 24. The function does what an
 * implant would, once through the hooked built-ins (the guard's hooks refuse) and once through the
 * original references it kept from INIT (no JavaScript hook sees those: Node's permission model,
 * which the wrapper turned on, refuses them). With `nodePermissions: false` the same saved
 * references succeed — the hooks alone do not hold against them, which is why the flags exist.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildLayer } from '@ephemera/guard/layer-build';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { collectLogs, fixture, NODE24 } from './helpers.mjs';

type Attempt = { ok: boolean; value?: unknown; code?: string | null; name?: string };
const json = (r: InvokeResult) => JSON.parse(r.payload.toString('utf8')) as Record<string, Attempt>;
const NO_RECYCLE = { EPHEMERA_MAX_AGE_SECONDS: 'off', EPHEMERA_MAX_INVOCATIONS: 'off' };
const WRAPPER = { AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper' };

// Outside /tmp on purpose: the default fs.write is /tmp. One directory per function and Node.
const outsideRoot = mkdtempSync('/var/tmp/ephemera-sinks-lab-');
const outsideDir = (name: string) => mkdtempSync(join(outsideRoot, `${name}-`));
let layerDir: string;

before(() => {
  layerDir = buildLayer(mkdtempSync(join(tmpdir(), 'ephemera-layer-'))).dir;
});
after(() => rmSync(outsideRoot, { recursive: true, force: true }));

for (const [label, nodePath] of [
  ['Node 20', process.execPath],
  ['Node 24', NODE24],
] as const) {
  describe(`fs, childProcess and internals behind the exec wrapper (${label})`, { concurrency: 1 }, () => {
    let lab: Lab;
    let logs: ReturnType<typeof collectLogs>;

    before(async () => {
      const fn = (name: string, environment: Record<string, string>) => ({
        name,
        codeDir: fixture('sinks'),
        handler: 'index.handler',
        environment: {
          ...WRAPPER,
          ...NO_RECYCLE,
          // Code that runs before the guard's hooks: it keeps the original built-ins for the handler.
          NODE_OPTIONS: `--require ${join(fixture('sinks'), 'saver.cjs')}`,
          ...environment,
        },
        layers: [layerDir],
      });
      lab = await createLab({
        nodePath,
        functions: [
          fn('permissions', { EPHEMERA_CODEGEN_NODE_FLAG: 'true' }),
          fn('hooks-only', { EPHEMERA_NODE_PERMISSIONS: 'false' }),
          fn('alert', { EPHEMERA_FS: 'alert', EPHEMERA_CHILD_PROCESS: 'alert', EPHEMERA_INTERNALS: 'alert' }),
        ],
      });
      logs = collectLogs(lab);
    });
    after(async () => {
      await lab.close();
    });

    it('refuses through the hooks, and through Node when the hooks are bypassed', async () => {
      const outside = outsideDir('permissions');
      const result = await lab.invoke('permissions', { outside });
      assert.equal(result.outcome, 'success', result.payload.toString());
      const out = json(result);
      // Hooked built-ins: the guard refuses with its own codes.
      assert.equal(out.hookedWrite?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      // A reference the handler module took while it loaded: the hooks were already in place.
      assert.equal(out.loadTimeWrite?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      assert.equal(out.environ?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      assert.equal(out.source?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      assert.equal(out.hookedSpawn?.code, 'EPHEMERA_ERR_CHILD_PROCESS_BLOCKED');
      assert.equal(out.hookedBinding?.code, 'EPHEMERA_ERR_INTERNALS_BLOCKED');
      // References taken before the hooks (by code preloaded with NODE_OPTIONS): Node's permission
      // model refuses.
      assert.equal(out.savedWrite?.code, 'ERR_ACCESS_DENIED');
      assert.equal(out.savedSpawn?.code, 'ERR_ACCESS_DENIED');
      assert.equal(out.savedBinding?.code, 'ERR_ACCESS_DENIED');
      assert.equal(out.savedWorker?.code, 'ERR_ACCESS_DENIED');
      // codegen.nodeFlag: V8 refuses string-to-code even through the original Function.
      assert.equal(out.savedFunction?.ok, false);
      assert.equal(out.savedFunction?.name, 'EvalError');
      assert.equal(existsSync(join(outside, 'hooked.txt')), false);
      assert.equal(existsSync(join(outside, 'saved.txt')), false);
      // What the function legitimately does keeps working.
      assert.deepEqual(out.tmpWrite, { ok: true, value: 'undefined' });
      assert.deepEqual(out.lazyCjs, { ok: true, value: 'lazy cjs' });
      assert.deepEqual(out.lazyEsm, { ok: true, value: 'lazy esm' });
      const blocks = logs.guard('permissions').filter((e) => e.type === 'block');
      const controls = new Set(blocks.map((e) => e.control));
      assert.deepEqual([...controls].sort(), ['childProcess', 'fs', 'internals']);
      const environ = blocks.find((e) => e.control === 'fs' && e.detail.path === '/proc/self/environ');
      assert.equal(environ?.detail.op, 'fs.readFileSync');
      assert.equal(environ?.requestId, result.requestId);
      const init = logs.guard('permissions').find((e) => e.type === 'init');
      assert.deepEqual(init?.detail.unimplemented, []);
    });

    it('without nodePermissions the hooks still refuse, but saved references get through', async () => {
      const outside = outsideDir('hooks-only');
      const out = json(await lab.invoke('hooks-only', { outside }));
      assert.equal(out.hookedWrite?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      assert.equal(out.environ?.code, 'EPHEMERA_ERR_FS_BLOCKED');
      assert.equal(out.hookedSpawn?.code, 'EPHEMERA_ERR_CHILD_PROCESS_BLOCKED');
      assert.equal(out.savedWrite?.ok, true, 'only the permission model holds against a saved reference');
      assert.equal(out.savedSpawn?.ok, true);
      assert.deepEqual(out.savedFunction, { ok: true, value: 42 });
      assert.ok(existsSync(join(outside, 'saved.txt')));
    });

    it('alert lets everything run and reports each sink', async () => {
      const result = await lab.invoke('alert', { outside: outsideDir('alert') });
      const out = json(result);
      assert.equal(out.hookedWrite?.ok, true);
      assert.equal(out.savedWrite?.ok, true, 'fs alert: no Node write limit either');
      assert.equal(out.environ?.ok, true);
      assert.equal(out.hookedSpawn?.ok, true);
      assert.equal(out.savedWorker?.ok, true, 'internals alert: --allow-worker');
      // process.binding is one thing the permission model refuses whatever the policy says.
      assert.equal(out.hookedBinding?.code, 'ERR_ACCESS_DENIED');
      const alerts = logs
        .guard('alert')
        .filter((e) => e.type === 'alert' && e.requestId === result.requestId);
      for (const control of ['fs', 'childProcess', 'internals']) {
        assert.ok(
          alerts.some((e) => e.control === control),
          `an alert from ${control}`,
        );
      }
    });
  });
}
