'use strict';
// Runs ONE technique of the implant catalog (test/implants/catalog.cjs) under ONE prevention setting,
// in this fresh process — the question is not "is it detected" (run-implant.cjs) but "does it happen":
//   INIT     the fake deployment's handler, the technique's setup, then the setting (end of INIT),
//            then every detector's baseline (after hardening: the frozen state is the baseline)
//   invoke   the implant, its exception caught
//   after    every detector's check()
// The technique is STOPPED when none of the paths it is expected to change drifted (its writes were
// refused or had no effect); otherwise it got through (the detectors still see it).
//
//   node [--frozen-intrinsics] run-implant-hardened.cjs <technique> <setting>
// settings: off | builtins | ses | lockdown (SES lockdown() alone) | frozen-intrinsics (the flag)
// Output: `EPHEMERA-HARDEN-IMPLANT {"name","setting","threw","expected","drifted","stopped"}`.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const writeSync = fs.writeSync;
const stringify = JSON.stringify;
const reallyExit = process.reallyExit.bind(process);
const rmSync = fs.rmSync;
// Captured before the technique runs: evasion techniques replace array methods, iteration and
// Object.prototype.toJSON. After the implant, only these and index loops are used.
const createObject = Object.create;
const defineProperty = Object.defineProperty;
const StringCtor = String;
function append(list, item) {
  // A null-prototype descriptor: a getter planted on Object.prototype.get must not fire.
  const descriptor = createObject(null);
  descriptor.value = item;
  descriptor.writable = true;
  descriptor.enumerable = true;
  descriptor.configurable = true;
  defineProperty(list, list.length, descriptor);
}
/** JSON of strings, arrays of strings, booleans and null — without toJSON or iteration. */
function serialise(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return stringify(value);
  if (isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i > 0 ? ',' : '') + serialise(value[i]);
    return `${text}]`;
  }
  let text = '{';
  const keys = objectKeys(value);
  for (let i = 0; i < keys.length; i++)
    text += `${i > 0 ? ',' : ''}${stringify(keys[i])}:${serialise(value[keys[i]])}`;
  return `${text}}`;
}
const isArray = Array.isArray;
const objectKeys = Object.keys;

const DIST = path.resolve(__dirname, '../../dist/integrity');
const { createObjectSurfaceDetectors } = require(path.join(DIST, 'object-surfaces.js'));
const { createModuleCacheDetector } = require(path.join(DIST, 'module-cache.js'));
const { createEnvVarsDetector } = require(path.join(DIST, 'env-vars.js'));
const { createFakeDeployment } = require('../implants/fake-deployment.cjs');
const catalog = require('../implants/catalog.cjs');

const [name, setting] = process.argv.slice(2);

function emit(result) {
  const record = createObject(null);
  record.name = name;
  record.setting = setting;
  const keys = objectKeys(result);
  for (let i = 0; i < keys.length; i++) record[keys[i]] = result[keys[i]];
  writeSync(1, `\nEPHEMERA-HARDEN-IMPLANT ${serialise(record)}\n`);
}

function applySetting() {
  if (setting === 'off' || setting === 'frozen-intrinsics') return;
  if (setting === 'builtins' || setting === 'ses') {
    require(path.join(DIST, 'harden.js')).prepareHarden(setting).apply();
    return;
  }
  if (setting === 'lockdown') {
    require('ses');
    globalThis.lockdown({ errorTrapping: 'none', unhandledRejectionTrapping: 'none' });
    return;
  }
  throw new Error(`unknown setting ${setting}`);
}

async function main() {
  const entry = catalog.techniques[name];
  if (!entry) throw new Error(`unknown technique ${name}`);
  const taskRoot = createFakeDeployment(fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-task-')));
  const ctx = { taskRoot: fs.realpathSync(taskRoot), tmpDir: os.tmpdir(), optDirs: [], state: {} };
  const facts = { taskRoot: ctx.taskRoot, optDirs: [], runtimeDir: undefined, tmpDir: ctx.tmpDir };
  ctx.handlerModule = require(path.join(ctx.taskRoot, 'index.js'));
  if (entry.setup) await entry.setup(ctx);
  applySetting();
  const detectors = [
    ...createObjectSurfaceDetectors(),
    createModuleCacheDetector(facts),
    createEnvVarsDetector(),
  ];
  for (let i = 0; i < detectors.length; i++) detectors[i].baseline();
  ctx.state.boundaryDrifts = 0;
  ctx.boundary = () => {
    for (let i = 0; i < detectors.length; i++) ctx.state.boundaryDrifts += detectors[i].check().length;
  };
  const count = detectors.length;
  let threw = null;
  try {
    await entry.apply(ctx);
  } catch (error) {
    threw = StringCtor(error?.name);
  }
  const drifted = [];
  const seen = createObject(null);
  for (let i = 0; i < count; i++) {
    const found = detectors[i].check();
    for (let j = 0; j < found.length; j++) {
      append(drifted, found[j].path);
      seen[found[j].path] = true;
    }
  }
  let expected;
  try {
    expected = entry.expect(ctx);
  } catch {
    expected = [];
  }
  let hits = 0;
  for (let i = 0; i < expected.length; i++) if (seen[expected[i]] === true) hits += 1;
  emit({ threw, expected, drifted, stopped: hits === 0 });
  try {
    rmSync(taskRoot, { recursive: true, force: true });
  } catch {
    // An evasion technique may have broken the helpers rmSync relies on; the temp dir stays.
  }
}

main().then(
  () => reallyExit(0),
  (error) => {
    writeSync(2, `run-implant-hardened failed: ${error?.stack}\n`);
    reallyExit(1);
  },
);
