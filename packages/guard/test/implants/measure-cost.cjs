'use strict';
// Measures what the surface, module-cache and env detectors cost: baseline once, then check() after
// each of N simulated invocations, on a process that loaded a realistic dependency tree: the AWS SDK
// v3 Lambda client and the repository's other CommonJS dependencies (~350 modules in require.cache).
//
//   node --import tsx packages/guard/test/implants/measure-cost.cjs [invocations=500] [--no-prototypes] [--no-exports]
//
// Prints one JSON line: module count, what each detector watches, baseline ms, the mean CPU time
// of one check of all of them, and wall-clock check µs (first 5 checks, then median/p90 of the
// steady state, per detector and in total).
const hrtime = process.hrtime.bigint;
const path = require('node:path');

const invocations = Number(process.argv[2] || 500);
const moduleCacheOptions = {
  watchExports: !process.argv.includes('--no-exports'),
  watchExportedPrototypes: !process.argv.includes('--no-prototypes'),
};
const repoRoot = path.resolve(__dirname, '../../../..');

// "INIT": what a typical function loads.
const loadStart = hrtime();
for (const name of [
  '@aws-sdk/client-lambda',
  '@aws-sdk/credential-provider-node',
  'yaml',
  'semver',
  'lambda-local',
  'make-fetch-happen',
]) {
  try {
    require(require.resolve(name, { paths: [repoRoot] }));
  } catch {
    // Optional: the numbers say how many modules were loaded.
  }
}
const loadMs = Number(hrtime() - loadStart) / 1e6;

const { createObjectSurfaceDetectors } = require('../../src/integrity/object-surfaces.ts');
const { createModuleCacheDetector } = require('../../src/integrity/module-cache.ts');
const { createEnvVarsDetector } = require('../../src/integrity/env-vars.ts');

const facts = {
  taskRoot: repoRoot,
  optDirs: [],
  runtimeDir: undefined,
  tmpDir: require('node:os').tmpdir(),
};
const detectors = [
  ...createObjectSurfaceDetectors(),
  createModuleCacheDetector(facts, moduleCacheOptions),
  createEnvVarsDetector(),
];

const baselineMs = {};
for (const detector of detectors) {
  const t = hrtime();
  detector.baseline();
  baselineMs[detector.name] = Number(hrtime() - t) / 1e6;
}

const perDetector = {};
for (const detector of detectors) perDetector[detector.name] = [];
const totals = [];
let drifts = 0;
// CPU time of the whole loop as well: wall-clock samples include time the machine gave to others.
const cpuStart = process.cpuUsage();
for (let i = 0; i < invocations; i++) {
  let total = 0;
  for (const detector of detectors) {
    const t = hrtime();
    drifts += detector.check().length;
    const us = Number(hrtime() - t) / 1e3;
    perDetector[detector.name].push(us);
    total += us;
  }
  totals.push(total);
}
const cpu = process.cpuUsage(cpuStart);
const cpuPerCheckUs = Math.round(((cpu.user + cpu.system) / invocations) * 10) / 10;

function summary(samples) {
  const steady = samples.slice(Math.min(50, samples.length >> 1)).sort((a, b) => a - b);
  const pick = (q) =>
    Math.round(steady[Math.min(steady.length - 1, Math.floor(steady.length * q))] * 10) / 10;
  return {
    first: samples.slice(0, 5).map((x) => Math.round(x)),
    median: pick(0.5),
    p90: pick(0.9),
  };
}

const stats = {};
for (const detector of detectors)
  if (typeof detector.stats === 'function') stats[detector.name] = detector.stats();

console.log(
  JSON.stringify({
    node: process.version,
    moduleCacheOptions,
    modulesInRequireCache: Object.keys(require.cache).length,
    loadMs: Math.round(loadMs),
    watched: stats,
    baselineMs: Object.fromEntries(Object.entries(baselineMs).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    cpuPerCheckUs,
    checkUs: {
      total: summary(totals),
      ...Object.fromEntries(Object.entries(perDetector).map(([k, v]) => [k, summary(v)])),
    },
    drifts,
  }),
);
