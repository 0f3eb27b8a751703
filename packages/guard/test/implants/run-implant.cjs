'use strict';
// Runs ONE implant technique (or one benign workload) in this fresh process, as a warm Lambda
// environment would see it:
//   INIT      load the fake deployment's handler, the technique's setup, then every detector's baseline
//   invoke    apply the technique (the implant), or run the benign workload
//   after     every detector's check(); print the drifts as one JSON line
//
//   node --import tsx run-implant.cjs <technique>            (a name from catalog.cjs)
//   node --import tsx run-implant.cjs --benign <workload>    (a name from benign.cjs)
//   node --import tsx run-implant.cjs --list                 (technique names, one per line)
//
// Environment: EPHEMERA_IMPLANT_TASK_ROOT (default: a fresh fake deployment in the temp dir),
// EPHEMERA_IMPLANT_OPT_DIRS (JSON array), EPHEMERA_IMPLANT_RUNTIME_DIR, EPHEMERA_IMPLANT_DETECTORS
// (a CommonJS bundle of the detectors, built by the test; then no TypeScript loader is needed).
// Output: a line `EPHEMERA-IMPLANT-RESULT {...}` with { name, node, expect, paths, drifts, state, timing }.

// Captured before anything else: the technique may replace any of these.
const fs = require('node:fs');
const writeSync = fs.writeSync;
const removeTree = fs.rmSync;
const jsonString = JSON.stringify;
const ownKeys = Reflect.ownKeys;
const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const hasOwn = Object.hasOwn;
const hrtime = process.hrtime.bigint;
const reallyExit = process.reallyExit.bind(process);
const isArray = Array.isArray;
const NumberCtor = Number;
const defineProperty = Object.defineProperty;
const createObject = Object.create;

/** Append as an own property: an accessor planted on Array.prototype[n] cannot swallow it. */
function append(list, item) {
  const descriptor = createObject(null);
  descriptor.value = item;
  descriptor.writable = true;
  descriptor.enumerable = true;
  descriptor.configurable = true;
  defineProperty(list, list.length, descriptor);
}

const os = require('node:os');
const path = require('node:path');
const { createFakeDeployment } = require('./fake-deployment.cjs');
// The detectors: a prebuilt CommonJS bundle of them when the test provides one (no TypeScript loader
// in the child: a third of the start-up cost), else their TypeScript sources (run with tsx).
const bundle = process.env.EPHEMERA_IMPLANT_DETECTORS;
const { createObjectSurfaceDetectors } = bundle
  ? require(bundle)
  : require('../../src/integrity/object-surfaces.ts');
const { createModuleCacheDetector } = bundle
  ? require(bundle)
  : require('../../src/integrity/module-cache.ts');
const { createEnvVarsDetector } = bundle ? require(bundle) : require('../../src/integrity/env-vars.ts');
const catalog = require('./catalog.cjs');

/** JSON without JSON.stringify's toJSON lookups (an implant may plant Object.prototype.toJSON). */
function serialise(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'number') return NumberCtor.isFinite(value) ? `${value}` : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return jsonString(`${value}`);
  if (isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i > 0 ? ',' : '') + serialise(value[i]);
    return `${text}]`;
  }
  if (typeof value === 'object') {
    let text = '{';
    let first = true;
    const keys = ownKeys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (typeof key !== 'string') continue;
      const descriptor = getOwnPropertyDescriptor(value, key);
      if (!descriptor || !hasOwn(descriptor, 'value') || descriptor.value === undefined) continue;
      text += `${first ? '' : ','}${jsonString(key)}:${serialise(descriptor.value)}`;
      first = false;
    }
    return `${text}}`;
  }
  return 'null';
}

function emit(result) {
  writeSync(1, `\nEPHEMERA-IMPLANT-RESULT ${serialise(result)}\n`);
}

function microseconds(from, to) {
  return NumberCtor(to - from) / 1000;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--list') {
    writeSync(1, `${Object.keys(catalog.techniques).join('\n')}\n`);
    return reallyExit(0);
  }
  const isBenign = args[0] === '--benign';
  const name = isBenign ? args[1] : args[0];
  const entry = isBenign ? require('./benign.cjs').workloads[name] : catalog.techniques[name];
  if (!entry) {
    writeSync(2, `unknown ${isBenign ? 'workload' : 'technique'}: ${name}\n`);
    return reallyExit(2);
  }

  // Run by hand without a task root: a fake deployment of our own, removed before we exit.
  const ownTaskRoot = process.env.EPHEMERA_IMPLANT_TASK_ROOT
    ? undefined
    : createFakeDeployment(fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-task-')));
  const taskRoot = process.env.EPHEMERA_IMPLANT_TASK_ROOT || ownTaskRoot;
  const ctx = {
    taskRoot: fs.realpathSync(taskRoot),
    tmpDir: os.tmpdir(),
    optDirs: JSON.parse(process.env.EPHEMERA_IMPLANT_OPT_DIRS || '[]'),
    runtimeDir: process.env.EPHEMERA_IMPLANT_RUNTIME_DIR || undefined,
    state: {},
  };
  const facts = {
    taskRoot: ctx.taskRoot,
    optDirs: ctx.optDirs,
    runtimeDir: ctx.runtimeDir,
    tmpDir: ctx.tmpDir,
  };

  // INIT: the function's handler module loads (and with it lib/greeter.js).
  ctx.handlerModule = require(path.join(ctx.taskRoot, 'index.js'));
  if (entry.setup) await entry.setup(ctx);

  const detectors = [
    ...createObjectSurfaceDetectors(),
    createModuleCacheDetector(facts),
    createEnvVarsDetector(),
  ];
  const t0 = hrtime();
  for (const detector of detectors) detector.baseline();
  const t1 = hrtime();
  ctx.state.boundaryDrifts = 0;
  ctx.boundary = () => {
    for (let i = 0; i < detectors.length; i++) ctx.state.boundaryDrifts += detectors[i].check().length;
  };

  // The invocation: the implant (or the legitimate work).
  await entry.apply(ctx);

  const t2 = hrtime();
  const drifts = [];
  for (let i = 0; i < detectors.length; i++) {
    const found = detectors[i].check();
    for (let j = 0; j < found.length; j++) append(drifts, found[j]);
  }
  const t3 = hrtime();
  // A second check right after: the steady-state cost (what every later invocation pays).
  const t4 = hrtime();
  for (let i = 0; i < detectors.length; i++) detectors[i].check();
  const t5 = hrtime();

  const paths = [];
  for (let i = 0; i < drifts.length; i++) append(paths, drifts[i].path);
  const stats = [];
  for (let i = 0; i < detectors.length; i++) {
    const detector = detectors[i];
    if (typeof detector.stats === 'function') append(stats, { name: detector.name, ...detector.stats() });
  }
  emit({
    name,
    node: process.version,
    expect: isBenign ? [] : entry.expect(ctx),
    paths,
    drifts,
    state: ctx.state,
    stats,
    timing: {
      baselineUs: microseconds(t0, t1),
      checkUs: microseconds(t2, t3),
      secondCheckUs: microseconds(t4, t5),
    },
  });
  if (ownTaskRoot) removeTree(ownTaskRoot, { recursive: true, force: true });
  return reallyExit(0);
}

main().catch((error) => {
  writeSync(2, `run-implant failed: ${error?.stack}\n`);
  reallyExit(1);
});
