/**
 * Every code-generation sink the control hooks, as a case: how to generate code through it, a piece
 * of code with a visible side effect (it pushes the sink's name onto `globalThis.__pwned`, or posts it
 * from a worker), and a pure data literal with the value it must produce.
 */
import Module from 'node:module';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { CodegenSink } from '../../src/codegen.js';

export interface SinkCase {
  /** The case's name (several cases may share a sink). */
  readonly name: string;
  /** The sink the control must name in its decision. */
  readonly sink: CodegenSink;
  /** Generate code from `source` through the sink and run it; resolves with its value. */
  run(source: string): unknown;
  /** Code whose side effect shows it ran. */
  readonly code: string;
  /** A pure data literal, and what running it through the sink must give. */
  readonly data: string;
  readonly dataValue: unknown;
  /** Only where Node has the hook (import needs module.registerHooks). */
  readonly available?: () => boolean;
}

declare global {
  var __pwned: string[];
}
globalThis.__pwned = [];

const push = (tag: string) => `__pwned.push(${JSON.stringify(tag)})`;
// Looked up at each use, as code running after INIT would: a reference taken before install() is the
// original constructor (the limit the identity scenario records).
const AsyncFunction = () => Object.getPrototypeOf(async () => undefined).constructor as FunctionConstructor;
const GeneratorFunction = () => Object.getPrototypeOf(function* () {}).constructor as FunctionConstructor;
const AsyncGeneratorFunction = () =>
  Object.getPrototypeOf(async function* () {}).constructor as FunctionConstructor;

/** A worker's outcome: what it posted before it exited. */
function workerOutcome(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const posted: unknown[] = [];
    worker.on('message', (message: unknown) => {
      posted.push(message);
      if (typeof message === 'string') globalThis.__pwned.push(message);
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve(posted));
  });
}

const postFromWorker = (tag: string) =>
  `require('node:worker_threads').parentPort.postMessage(${JSON.stringify(tag)})`;
const postFromEsmWorker = (tag: string) =>
  `import { parentPort } from 'node:worker_threads'; parentPort.postMessage(${JSON.stringify(tag)})`;

/** CommonJS `import()` through tsx stays a real dynamic import (checked: it loads data: URLs). */
function importUrl(url: string): Promise<unknown> {
  return import(url);
}

interface CompilableModule {
  _compile(content: string, filename: string): unknown;
}

export const SINKS: readonly SinkCase[] = [
  {
    name: 'eval',
    sink: 'eval',
    // biome-ignore lint/security/noGlobalEval: the sink under test
    run: (source) => eval(source),
    code: push('eval'),
    data: '({"card":"4111111111111111","amount":-12.5e1,"items":[1,[2,[3]]],"note":null})',
    dataValue: { card: '4111111111111111', amount: -125, items: [1, [2, [3]]], note: null },
  },
  {
    name: 'Function',
    sink: 'Function',
    run: (source) => Function(source)(),
    code: push('Function'),
    data: '"use strict"',
    dataValue: undefined,
  },
  {
    name: 'new Function',
    sink: 'Function',
    run: (source) => new Function(source)(),
    code: push('new Function'),
    data: '[1, 2]',
    dataValue: undefined,
  },
  {
    name: '(function(){}).constructor',
    sink: 'Function',
    run: (source) => (() => undefined).constructor(source)(),
    code: push('(function(){}).constructor'),
    data: '',
    dataValue: undefined,
  },
  {
    name: 'AsyncFunction',
    sink: 'AsyncFunction',
    run: (source) => new (AsyncFunction())(source)(),
    code: push('AsyncFunction'),
    data: '{}',
    dataValue: undefined,
  },
  {
    name: 'GeneratorFunction',
    sink: 'GeneratorFunction',
    run: (source) => (GeneratorFunction()(source)() as Generator).next(),
    code: push('GeneratorFunction'),
    data: '1',
    dataValue: { value: undefined, done: true },
  },
  {
    name: 'AsyncGeneratorFunction',
    sink: 'AsyncGeneratorFunction',
    run: (source) => (AsyncGeneratorFunction()(source)() as AsyncGenerator).next(),
    code: push('AsyncGeneratorFunction'),
    data: 'null',
    dataValue: { value: undefined, done: true },
  },
  {
    name: 'vm.runInThisContext',
    sink: 'vm.runInThisContext',
    run: (source) => vm.runInThisContext(source),
    code: push('vm.runInThisContext'),
    data: '[1, "two", {"three": 3}]',
    dataValue: [1, 'two', { three: 3 }],
  },
  {
    name: 'vm.runInNewContext',
    sink: 'vm.runInNewContext',
    run: (source) => vm.runInNewContext(source, { __pwned: globalThis.__pwned }),
    code: push('vm.runInNewContext'),
    data: '0x10',
    dataValue: 16,
  },
  {
    name: 'vm.runInContext',
    sink: 'vm.runInContext',
    run: (source) => vm.runInContext(source, vm.createContext({ __pwned: globalThis.__pwned })),
    code: push('vm.runInContext'),
    data: '"text"',
    dataValue: 'text',
  },
  {
    name: 'vm.Script',
    sink: 'vm.Script',
    run: (source) => new vm.Script(source).runInThisContext(),
    code: push('vm.Script'),
    data: '-Infinity',
    dataValue: Number.NEGATIVE_INFINITY,
  },
  {
    name: 'vm.createScript',
    sink: 'vm.createScript',
    run: (source) =>
      (vm as unknown as { createScript(s: string): vm.Script }).createScript(source).runInThisContext(),
    code: push('vm.createScript'),
    data: 'true',
    dataValue: true,
  },
  {
    name: 'vm.compileFunction',
    sink: 'vm.compileFunction',
    run: (source) => vm.compileFunction(source)(),
    code: push('vm.compileFunction'),
    data: '"data"',
    dataValue: undefined,
  },
  {
    name: 'Module._compile',
    sink: 'Module._compile',
    run: (source) => {
      const filename = '/tmp/ephemera-codegen-case.js';
      const m = new Module(filename) as unknown as CompilableModule;
      return m._compile(source, filename);
    },
    code: push('Module._compile'),
    data: '({"a": 1})',
    dataValue: undefined,
  },
  {
    name: 'Worker eval',
    sink: 'Worker',
    run: (source) => workerOutcome(new Worker(source, { eval: true })),
    code: postFromWorker('Worker eval'),
    data: '[1]',
    dataValue: [],
  },
  {
    name: 'Worker data: URL',
    sink: 'Worker',
    run: (source) => workerOutcome(new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`))),
    code: postFromEsmWorker('Worker data: URL'),
    data: '1',
    dataValue: [],
  },
  {
    name: 'import data: URL',
    sink: 'import',
    run: async (source) =>
      Object.keys((await importUrl(`data:text/javascript,${encodeURIComponent(source)}`)) as object),
    code: push('import data: URL'),
    data: '[1, 2]',
    dataValue: [],
    available: () => typeof (Module as unknown as { registerHooks?: unknown }).registerHooks === 'function',
  },
];
