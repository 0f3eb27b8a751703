/**
 * The guard's added cold-start time where it matters: INIT inside a lab environment running AWS's
 * real runtime client, which has already loaded what it needs (http, net, stream, …). Interleaved
 * cold starts of the same unmodified function, bare and with the guard installed each way; the
 * lab's REPORT Init Duration is compared quantile by quantile. Usage: node --import tsx
 * bench/guard-cold.bench.mts [--quick]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab } from '@ephemera/lab';
import { buildLayer } from '../packages/guard/scripts/build-layer.mjs';

const rounds = process.argv.includes('--quick') ? 5 : 25;
const fixture = (name: string) =>
  fileURLToPath(new URL(`../packages/guard/test/fixtures/${name}`, import.meta.url));
const register = fileURLToPath(new URL('../packages/guard/dist/register.js', import.meta.url));
const layer = buildLayer(mkdtempSync(join(tmpdir(), 'ephemera-layer-'))).dir;
const quiet = { EPHEMERA_TELEMETRY_STDOUT: 'true' };

const variants = [
  { name: 'bare (no guard)', def: { codeDir: fixture('plain'), environment: {} } },
  {
    name: 'register (NODE_OPTIONS)',
    def: { codeDir: fixture('plain'), environment: { ...quiet, NODE_OPTIONS: `--require ${register}` } },
  },
  {
    name: 'layer + exec wrapper',
    def: {
      codeDir: fixture('plain'),
      layers: [layer],
      environment: { ...quiet, AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper' },
    },
  },
  { name: 'protect() in the handler module', def: { codeDir: fixture('protected'), environment: quiet } },
  // The engine alone: every control off (codegen and integrity are not even loaded).
  {
    name: 'protect(), mode "off" (engine only)',
    def: { codeDir: fixture('protected'), environment: { ...quiet, EPHEMERA_MODE: 'off' } },
  },
  {
    name: 'register, mode "off" (engine only)',
    def: {
      codeDir: fixture('plain'),
      environment: { ...quiet, EPHEMERA_MODE: 'off', NODE_OPTIONS: `--require ${register}` },
    },
  },
];

const lab = await createLab({
  functions: variants.map((v, i) => ({ name: `v${i}`, handler: 'index.handler', ...v.def })),
});
const samples: number[][] = variants.map(() => []);
try {
  for (let r = 0; r < rounds; r += 1) {
    // Rotate the order every round so drift in machine load spreads over all variants.
    for (let k = 0; k < variants.length; k += 1) {
      const i = (k + r) % variants.length;
      const result = await lab.invoke(`v${i}`, {});
      if (result.outcome !== 'success' || result.initDurationMs === undefined) {
        throw new Error(`variant ${variants[i]?.name}: ${result.outcome} ${result.payload.toString()}`);
      }
      samples[i]?.push(result.initDurationMs);
      for (const env of lab.environments(`v${i}`)) await env.shutdown('shutdown');
    }
  }
} finally {
  await lab.close();
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const base = samples[0] ?? [];
console.log(
  `\n#### Guard added INIT (cold start) in the lab, real aws-lambda-ric, ${rounds} cold starts each (ms)\n`,
);
console.log('| variant | Init p50 | Init p95 | added p50 | added p95 | target: added ≤ 5 ms |');
console.log('|:--|--:|--:|--:|--:|:--|');
variants.forEach((v, i) => {
  const xs = samples[i] ?? [];
  const added50 = q(xs, 0.5) - q(base, 0.5);
  const added95 = q(xs, 0.95) - q(base, 0.95);
  console.log(
    `| ${v.name} | ${q(xs, 0.5).toFixed(1)} | ${q(xs, 0.95).toFixed(1)} | ${i === 0 ? '—' : added50.toFixed(1)} | ${i === 0 ? '—' : added95.toFixed(1)} | ${i === 0 ? '—' : added50 <= 5 ? 'met (p50)' : 'NOT met (p50)'} |`,
  );
});
console.log(`\nnode ${process.version}; the guard runs with its default policy (telemetry on stdout).`);
