/**
 * Runs ONE technique from `techniques.ts` in this fresh process, as a warm Lambda environment sees it:
 *   INIT     the technique's setup, then the baselines — resources, process-hooks, tmp (the order the
 *            composer must keep: see resources.ts)
 *   invoke   the deployment code (`run`: a benign workload), then the implant (`code`, eval'd)
 *   after    every detector's check(), `checks` times, 50 ms apart
 *
 *   node --require tsx/cjs run.ts '<technique name>'     (or --import tsx)
 *
 * Prints one line `EPHEMERA-PROCESS-RESULT {"name","node","drifts","firstDrifts","checkUs","baselineUs"}`
 * and exits (a worker, a server or an interval the technique left would otherwise keep it alive).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// The runner's own waits: not through the wrapped global setTimeout, and finished before each check.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentFacts, Drift } from '../../src/integrity/detector.js';
import { createProcessHooksDetector } from '../../src/integrity/process-hooks.js';
import { createResourcesDetector } from '../../src/integrity/resources.js';
import { createTmpFilesDetector } from '../../src/integrity/tmp-files.js';
import { type Context, TECHNIQUES } from './techniques.js';

// Captured before the technique runs.
const writeSync = fs.writeSync;
const stringify = JSON.stringify;
const hrtime = process.hrtime.bigint;
const exit = process.exit.bind(process);

const HERE = __dirname;
const REPO_NODE_MODULES = path.resolve(HERE, '../../../../node_modules');

function emit(result: object): void {
  writeSync(1, `EPHEMERA-PROCESS-RESULT ${stringify(result)}\n`);
}

function cleanup(handles: unknown[]): void {
  for (const handle of handles) {
    const h = handle as Record<string, unknown>;
    try {
      if (typeof h.kill === 'function') (h.kill as (signal: string) => void)('SIGKILL');
      else if (typeof h.terminate === 'function') (h.terminate as () => void)();
      else if (typeof h.disconnect === 'function') (h.disconnect as () => void)();
      else if (typeof h.close === 'function') (h.close as () => void)();
    } catch {
      // The process exits next anyway.
    }
  }
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const technique = TECHNIQUES[name];
  if (technique === undefined) throw new Error(`unknown technique: ${name}`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-process-tmp-'));
  const ownTaskRoot = technique.deployment
    ? undefined
    : fs.mkdtempSync(path.join(os.tmpdir(), 'ephemera-process-task-'));
  const facts: DeploymentFacts = {
    taskRoot: ownTaskRoot ?? HERE,
    // The repository's node_modules plays the part of a layer (/opt/nodejs/node_modules).
    optDirs: technique.deployment ? [REPO_NODE_MODULES] : [],
    runtimeDir: undefined,
    tmpDir,
  };
  const handles: unknown[] = [];
  const ctx: Context = { tmpDir, require, leave: (handle) => handles.push(handle), state: {} };

  try {
    await technique.setup?.(ctx);
    const detectors = [
      createResourcesDetector(facts),
      createProcessHooksDetector(facts),
      createTmpFilesDetector(facts),
    ];
    const baselineUs: Record<string, number> = {};
    for (const detector of detectors) {
      const start = hrtime();
      detector.baseline();
      baselineUs[detector.name] = Number(hrtime() - start) / 1000;
    }

    // Deployment code first (it may create what the implant then tampers with), then the implant.
    if (technique.run !== undefined) await technique.run(ctx);
    if (technique.code !== undefined) {
      // Eval'd code, as an implant arrives: no file, `require` and the context in scope.
      const implant = new Function('require', 'ctx', `return (async () => {\n${technique.code}\n})();`) as (
        r: NodeJS.Require,
        c: Context,
      ) => Promise<void>;
      await implant(require, ctx);
    }
    // Let callbacks the technique scheduled run (a chain re-arms, a child spawns), as the runtime's
    // response round trip would.
    await sleep(30);

    let drifts: Drift[] = [];
    let firstDrifts: Drift[] | undefined;
    const checkUs: Record<string, number>[] = [];
    const checks = technique.checks ?? 1;
    for (let i = 0; i < checks; i++) {
      if (i > 0) await sleep(50);
      drifts = [];
      const timing: Record<string, number> = {};
      for (const detector of detectors) {
        const start = hrtime();
        const found = detector.check();
        timing[detector.name] = Number(hrtime() - start) / 1000;
        drifts.push(...found);
      }
      checkUs.push(timing);
      if (i === 0) firstDrifts = drifts;
    }
    emit({ name, node: process.version, drifts, firstDrifts, checkUs, baselineUs });
  } finally {
    cleanup(handles);
    fs.rmSync(tmpDir, { recursive: true, force: true });
    if (ownTaskRoot !== undefined) fs.rmSync(ownTaskRoot, { recursive: true, force: true });
  }
}

main().then(
  () => exit(0),
  (error: unknown) => {
    emit({ error: String(error instanceof Error ? error.stack : error) });
    exit(1);
  },
);
