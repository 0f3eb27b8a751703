/**
 * The pieces of the init-time patch inventory that need no lab: package attribution of files and
 * stacks, package globs (egress.packages, integrity.initPatchesAllow), and the inventory itself in a
 * fresh Node process that loads the built guard's register first (as NODE_OPTIONS does).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FUNCTION_CODE, packageFromStack, packageMatcher, packageOfFile } from '../src/attribution.js';
import { isPackagePattern } from '../src/policy.js';

const DIST = join(__dirname, '..', 'dist');

describe('packageOfFile', () => {
  it('names the nearest node_modules package, scoped or not', () => {
    assert.equal(packageOfFile('/var/task/node_modules/pg/lib/client.js'), 'pg');
    assert.equal(
      packageOfFile('/var/task/node_modules/@aws-sdk/client-dynamodb/dist-cjs/index.js'),
      '@aws-sdk/client-dynamodb',
    );
    assert.equal(packageOfFile('/var/task/node_modules/a/node_modules/evil/index.js'), 'evil');
    assert.equal(packageOfFile('file:///opt/nodejs/node_modules/@sentry/node/index.js'), '@sentry/node');
  });

  it("calls everything outside node_modules the function's own code", () => {
    assert.equal(packageOfFile('/var/task/index.js'), FUNCTION_CODE);
    assert.equal(packageOfFile('/var/task/lib/node_modules_like/x.js'), FUNCTION_CODE);
  });
});

describe('packageMatcher', () => {
  it('matches exact names, scope globs and *', () => {
    const allowed = packageMatcher(['dd-trace', '@opentelemetry/*']);
    assert.equal(allowed('dd-trace'), true);
    assert.equal(allowed('@opentelemetry/instrumentation-http'), true);
    assert.equal(allowed('dd-trace-evil'), false);
    assert.equal(allowed('@opentelemetry-evil/api'), false);
    assert.equal(allowed('evil-telemetry'), false);
    assert.equal(packageMatcher(['*'])('anything'), true);
    assert.equal(packageMatcher([])('pg'), false);
  });

  it('treats regular-expression characters in names literally', () => {
    assert.equal(packageMatcher(['lodash.get'])('lodashXget'), false);
    assert.equal(packageMatcher(['a.*'])('a.b'), true);
    assert.equal(packageMatcher(['a.*'])('axb'), false);
  });
});

describe('isPackagePattern', () => {
  it('accepts npm names and globs, refuses the rest', () => {
    for (const ok of ['pg', '@aws-sdk/client-s3', '@scope/*', '*', 'lodash.get', 'a-b_c~d'])
      assert.equal(isPackagePattern(ok), true, ok);
    for (const bad of ['', 'Bad', 'has space', '../x', '@scope', '@/x', 'a/b', '/abs'])
      assert.equal(isPackagePattern(bad), false, bad);
  });
});

describe('packageFromStack', () => {
  it('names the caller outside the guard and Node', () => {
    // This test file is outside node_modules: the function's own code, as far as attribution goes.
    assert.equal(packageFromStack(), FUNCTION_CODE);
  });

  it('is not fooled by a replaced Error.prepareStackTrace', () => {
    const previous = Error.prepareStackTrace;
    Error.prepareStackTrace = () => 'at /var/task/node_modules/dd-trace/index.js:1:1';
    try {
      assert.equal(packageFromStack(), FUNCTION_CODE);
    } finally {
      Error.prepareStackTrace = previous;
    }
  });
});

describe('the init inventory in a process where register loads first', () => {
  function run(files: Record<string, string>, main: string): { patches: string[]; modules: number } {
    const root = mkdtempSync(join(tmpdir(), 'ephemera-inventory-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), text);
    }
    const probe = `const inv = require(${JSON.stringify(join(DIST, 'integrity', 'init-inventory.js'))});
require(${JSON.stringify(join(root, main))});
const r = inv.finishInitInventory();
process.stdout.write(JSON.stringify({ patches: r.patches.map(inv.describePatch), modules: r.modules }));`;
    const out = execFileSync(process.execPath, ['--require', join(DIST, 'register.js'), '-e', probe], {
      env: {
        ...process.env,
        AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9',
        _HANDLER: 'index.handler',
        EPHEMERA_ORIGINAL_HANDLER: '',
      },
      encoding: 'utf8',
    });
    return JSON.parse(out) as { patches: string[]; modules: number };
  }

  it('attributes each patch to the package whose module body made it, nested dependencies included', () => {
    const result = run(
      {
        'index.js': "require('outer');\n",
        'node_modules/outer/index.js':
          "const net = require('net');\nconst c = net.connect; net.connect = function (...a) { return c.apply(this, a); };\nrequire('inner');\n",
        'node_modules/outer/node_modules/inner/index.js':
          'const p = JSON.parse; JSON.parse = function (t, r) { return p(t, r); };\n',
        'node_modules/outer/node_modules/@scope/lib/index.js': '',
      },
      'index.js',
    );
    assert.ok(result.patches.includes('node_modules/outer patched net.connect'), result.patches.join('\n'));
    assert.ok(result.patches.includes('node_modules/inner patched JSON.parse'), result.patches.join('\n'));
    assert.equal(result.patches.length, 2, result.patches.join('\n'));
  });

  it('lists nothing for packages that patch nothing', () => {
    const result = run(
      {
        'index.js': "require('a'); require('b');\n",
        'node_modules/a/index.js': "module.exports = require('b') + 1;\n",
        'node_modules/b/index.js': 'module.exports = 41;\n',
      },
      'index.js',
    );
    assert.deepEqual(result.patches, []);
    assert.ok(result.modules >= 3, `modules compiled while recording: ${result.modules}`);
  });

  it("names the package that wrote a wrapper the function's own code installed by calling it", () => {
    const result = run(
      {
        'index.js':
          "const agent = require('agent');\nagent.start();\nconst d = JSON.stringify; JSON.stringify = function mine(v) { return d(v); };\n",
        'node_modules/agent/index.js':
          "const https = require('https');\nexports.start = () => { const r = https.request; https.request = function traced(...a) { return r.apply(this, a); }; };\n",
      },
      'index.js',
    );
    assert.ok(
      result.patches.includes('node_modules/agent patched https.request (called from function code)'),
      result.patches.join('\n'),
    );
    // A wrapper in the function's own source is the function's.
    assert.ok(result.patches.includes('function code patched JSON.stringify'), result.patches.join('\n'));
  });

  it('does not let a package launder a patch through the function: a wrapper whose text is in no source (built by eval) is unknown', () => {
    const result = run(
      {
        'index.js': "require('sly').init();\n",
        'node_modules/sly/index.js':
          "const net = require('net');\nexports.init = () => { net.connect = eval('(function (...a) ' + '{ return 1; })'); };\n",
      },
      'index.js',
    );
    assert.ok(
      result.patches.includes('unknown patched net.connect (called from function code)'),
      result.patches.join('\n'),
    );
  });
});
