/**
 * The scenarios codegen.test.ts runs, each in a fresh process (the hooks change globals for good).
 * A scenario drives the control as the guard would — install at the end of INIT, then
 * `setInvocation` around each invocation — and returns what it observed, as JSON-able data; the test
 * asserts on it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import {
  type CodegenDecision,
  type CodegenInstallReport,
  type CodegenOptions,
  createCodegenControl,
} from '../../src/codegen.js';
import { SINKS } from './sinks.js';

export type Observations = Record<string, unknown>;

/** One attempt through a sink: its value, or the error it threw. */
export interface Attempt {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly errorName?: string;
  readonly errorCode?: unknown;
  readonly errorMessage?: string;
  readonly isEvalError?: boolean;
}

async function attempt(run: () => unknown): Promise<Attempt> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    return {
      ok: false,
      errorName: e.name,
      errorCode: e.code,
      errorMessage: e.message,
      isEvalError: error instanceof EvalError,
    };
  }
}

function control(options: Partial<CodegenOptions> & Pick<CodegenOptions, 'action'>) {
  const decisions: CodegenDecision[] = [];
  const codegen = createCodegenControl({ onDecision: (d) => decisions.push(d), ...options });
  const report: CodegenInstallReport = codegen.install();
  return { codegen, decisions, report };
}

/** Code through every sink, data through every sink; what ran is in `__pwned`. */
async function everySink(): Promise<Observations> {
  const code: Record<string, Attempt> = {};
  const data: Record<string, Attempt> = {};
  const skipped: string[] = [];
  for (const sink of SINKS) {
    if (sink.available && !sink.available()) {
      skipped.push(sink.name);
      continue;
    }
    code[sink.name] = await attempt(() => sink.run(sink.code));
    data[sink.name] = await attempt(() => sink.run(sink.data));
  }
  return { code, data, skipped, ran: [...globalThis.__pwned] };
}

/** The global `eval` as it is now (the hook after install), read without naming it as a call. */
const liveEval = () => Reflect.get(globalThis, 'eval') as (source: unknown) => unknown;

const EVENT_BODY = JSON.stringify({ expressions: SINKS.map((s) => s.code) });
const FROM_STRING_MODULE = '__pwned.push("from-string")';
const BETWEEN_SOURCE = '__pwned.push("between")';
const SUBCLASS_SOURCE = 'return __pwned.length';

interface Driven {
  readonly codegen: ReturnType<typeof createCodegenControl>;
  readonly decisions: CodegenDecision[];
}

/** Runs `step`, then returns its observations with the decisions it caused and the side effects seen. */
async function phase(driven: Driven, step: () => Promise<Observations>): Promise<Observations> {
  const from = driven.decisions.length;
  globalThis.__pwned.length = 0;
  const observed = await step();
  return { ...observed, decisions: driven.decisions.slice(from), ran: [...globalThis.__pwned] };
}

export const SCENARIOS: Record<string, () => Promise<Observations>> = {
  /**
   * One function's life under `block`: INIT (everything allowed), then invocations — every sink,
   * identity, lazy module loads, node-serialize, the victim idiom, a timer between invocations.
   */
  async lifecycle() {
    const { codegen, decisions, report } = control({ action: 'block' });
    const driven = { codegen, decisions };
    const init = await phase(driven, everySink);
    codegen.setInvocation({ active: true, event: { body: EVENT_BODY } });
    const block = await phase(driven, async () => ({
      ...(await everySink()),
      benign: await attempt(() => Function('return this')() === globalThis),
    }));
    codegen.setInvocation({ active: false });
    // Block mode refuses generated code that carries the event's input: these events carry it.
    codegen.setInvocation({ active: true, event: { body: FROM_STRING_MODULE } });
    const moduleCompile = await phase(driven, compileModules);
    codegen.setInvocation({ active: false });
    const serialize = await phase(driven, () => nodeSerialize(codegen));
    const victim = await phase(driven, () => victimInvocations(codegen));
    codegen.setInvocation({ active: true, event: { body: SUBCLASS_SOURCE } });
    const identity = await identityChecks();
    return { report, init, block, moduleCompile, serialize, victim, identity };
  },

  /** `alert` during an invocation: code runs and is reported; containsEventInput says whose it is. */
  async alert() {
    const { codegen, decisions, report } = control({ action: 'alert' });
    codegen.setInvocation({ active: true, event: { body: EVENT_BODY } });
    const fromEvent = await phase({ codegen, decisions }, everySink);
    // Code that is not in the event.
    const local = await phase({ codegen, decisions }, async () => ({
      // biome-ignore lint/security/noGlobalEval: the sink under test
      local: await attempt(() => eval('__pwned.length + 42')),
    }));
    return { report, fromEvent, local };
  },

  /** `off`: no hook at all, even during invocations. */
  async off() {
    const evalBefore = liveEval();
    const functionBefore = globalThis.Function;
    const { codegen, decisions, report } = control({ action: 'off' });
    codegen.setInvocation({ active: true, event: { body: EVENT_BODY } });
    const result = await phase({ codegen, decisions }, everySink);
    return {
      ...result,
      report,
      evalUnchanged: liveEval() === evalBefore,
      functionUnchanged: globalThis.Function === functionBefore,
    };
  },
};

/** Lazy requires at invoke time still compile; a string compiled as a module does not. */
async function compileModules(): Promise<Observations> {
  const lazy = await attempt(() => require('./lazy-module.cjs') as unknown);
  const lazyJson = await attempt(() => require('./lazy-data.json') as unknown);
  const fromString = await attempt(() => {
    const m = new Module('/tmp/from-string.js') as unknown as { _compile(c: string, f: string): unknown };
    return m._compile(FROM_STRING_MODULE, '/tmp/from-string.js');
  });
  return { lazy, lazyJson, fromString };
}

/** node-serialize@0.0.4: its RCE payload refused during an invocation, plain objects still work. */
async function nodeSerialize(codegen: Driven['codegen']): Promise<Observations> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-codegen-'));
  const marker = join(dir, 'pwned');
  try {
    // node-serialize has no types and is a test-only dependency.
    const serialize = require('node-serialize') as { unserialize(text: string): unknown };
    const payload = JSON.stringify({
      rce: `_$$ND_FUNC$$_function(){require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')}()`,
    });
    const plain = JSON.stringify({ user: 'ada', cart: [1, 2, 3], card: '4111111111111111' });
    codegen.setInvocation({ active: true, event: { body: payload } });
    const refused = await attempt(() => serialize.unserialize(payload));
    const written = existsSync(marker);
    codegen.setInvocation({ active: false });
    codegen.setInvocation({ active: true, event: { body: plain } });
    const plainAtInvoke = await attempt(() => serialize.unserialize(plain));
    codegen.setInvocation({ active: false });
    return { refused, written, plainAtInvoke };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The seed's victim: `eval('(' + event.body + ')')` in block mode, over several invocations. */
async function victimInvocations(codegen: Driven['codegen']): Promise<Observations> {
  // biome-ignore lint/security/noGlobalEval: the victim function's own idiom
  const handler = (event: { body: string }) => eval(`(${event.body})`) as unknown;
  const bodies = [
    '{"card":"4111111111111111","cvv":"123","amount":42.5}',
    '{"items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"coupon":null}',
    '{"name":"Zoë \\u00e9\\ud83d\\ude00","nested":{"deep":[[[1e21]]]}}',
    "{card: '5500000000000004', tags: ['a', 'b',],}",
  ];
  const results: Attempt[] = [];
  for (const body of bodies) {
    codegen.setInvocation({ active: true, event: { body } });
    results.push(await attempt(() => handler({ body })));
    codegen.setInvocation({ active: false });
  }
  const attackBody = "process.mainModule.require('child_process').execSync('id')";
  // The event also carries the code its left-behind timer evaluates between invocations.
  codegen.setInvocation({ active: true, event: { body: attackBody, note: BETWEEN_SOURCE } });
  const attack = await attempt(() => handler({ body: attackBody }));
  codegen.setInvocation({ active: false });
  // A timer left by an invocation runs between invocations: still after INIT.
  const between = await new Promise<Attempt>((resolve) => {
    setTimeout(() => {
      // biome-ignore lint/security/noGlobalEval: the sink under test
      attempt(() => eval(BETWEEN_SOURCE)).then(resolve);
    }, 1);
  });
  return { results, attack, between };
}

/** Functions, constructors and `instanceof` after install, during an invocation (block mode). */
async function identityChecks(): Promise<Observations> {
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as FunctionConstructor;
  const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as FunctionConstructor;
  const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {})
    .constructor as FunctionConstructor;
  function plain() {
    return 1;
  }
  class Base {}
  class Derived extends Base {}
  class MyFunction extends Function {}
  const subclassBlocked = await attempt(() => new MyFunction(SUBCLASS_SOURCE));
  const subclassEmpty = new MyFunction('');
  // The documented limit: a reference taken before install() is the original, and is not hooked.
  const captured = await attempt(() => CAPTURED_AT_LOAD('return 1')());
  class MyScript extends vm.Script {}
  const myScript = new MyScript('[1]');
  const script = new vm.Script('2');
  const worker = new Worker('0', { eval: true });
  const workerIsWorker = worker instanceof Worker;
  await new Promise((resolve) => worker.on('exit', resolve));
  return {
    plainInstanceofFunction: plain instanceof Function,
    arrowInstanceofFunction: (() => 1) instanceof Function,
    boundInstanceofFunction: plain.bind(null) instanceof Function,
    classInstanceofFunction: Derived instanceof Function,
    asyncInstanceofFunction: (async () => 1) instanceof Function,
    asyncInstanceofAsyncFunction: (async () => 1) instanceof AsyncFunction,
    generatorInstanceofGeneratorFunction: function* () {} instanceof GeneratorFunction,
    asyncGeneratorInstanceof: async function* () {} instanceof AsyncGeneratorFunction,
    plainConstructorIsFunction: plain.constructor === Function,
    functionPrototypeConstructor: Function.prototype.constructor === Function,
    functionPrototypeIsOriginal: Function.prototype === Object.getPrototypeOf(plain),
    asyncConstructorName: AsyncFunction.name,
    asyncInheritsFunction: Object.getPrototypeOf(AsyncFunction) === Function,
    asyncPrototypeConstructor: AsyncFunction.prototype.constructor === AsyncFunction,
    functionName: Function.name,
    functionLength: Function.length,
    evalName: liveEval().name,
    evalLength: liveEval().length,
    evalHasNoPrototype: !('prototype' in liveEval()),
    functionIsGlobal: globalThis.Function === Function,
    functionInstanceofFunction: Function instanceof Function,
    derivedWorks: new Derived() instanceof Base,
    callApplyBind: plain.call(null) + plain.apply(null, []) + plain.bind(null)(),
    toStringOfPlain: Function.prototype.toString.call(plain).startsWith('function plain'),
    subclassBlockedCode: subclassBlocked.errorCode,
    subclassInstance: subclassEmpty instanceof MyFunction && subclassEmpty instanceof Function,
    capturedBeforeInstall: captured,
    scriptInstanceof: script instanceof vm.Script,
    scriptConstructor: script.constructor === vm.Script,
    myScriptInstanceof: myScript instanceof MyScript && myScript instanceof vm.Script,
    myScriptValue: myScript.runInThisContext(),
    workerIsWorker,
    evalNonString: liveEval()(42),
    objectToString: Object.prototype.toString.call(Function),
  };
}

/** Taken when this module loads, before any scenario installs the hooks. */
const CAPTURED_AT_LOAD = Function;
