import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { HELLO_FILE, sampleHttpEvent } from '../lib/hello.js';
import { helloFunction, shutdownAll, startLab } from '../lib/lab-setup.js';

export interface ColdResult {
  /** lab.invoke() from call to answer, environment spawn included. */
  endToEnd: number[];
  /** Init Duration the lab reported (spawn → first /next). */
  initDuration: number[];
  /** Duration the lab reported (dispatch → response). */
  invokeDuration: number[];
  /** Same-run baselines: a bare `node -e 0`, and node importing the handler. */
  nodeStartup: number[];
  nodeWithHandler: number[];
  /** Invocations the lab did not flag as cold, and distinct runtime pids seen (should be N). */
  notCold: number;
  distinctPids: number;
}

/** Spawn-to-exit time of a node process: the floor any process-per-environment design pays. */
function timeNode(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
  });
}

export async function measureColdStarts(n: number): Promise<ColdResult> {
  const { lab, close } = await startLab({ functions: [helloFunction()] });
  const result: ColdResult = {
    endToEnd: [],
    initDuration: [],
    invokeDuration: [],
    nodeStartup: [],
    nodeWithHandler: [],
    notCold: 0,
    distinctPids: 0,
  };
  const pids = new Set<number>();
  const importHandler = `await import(${JSON.stringify(pathToFileURL(HELLO_FILE).href)})`;
  try {
    // One unmeasured round first: the very first spawn also pays the page cache and tsx warm-up.
    await lab.invoke('hello', sampleHttpEvent());
    await timeNode(['-e', '0']);
    for (let i = 0; i < n; i += 1) {
      await shutdownAll(lab);
      const t0 = performance.now();
      const r = await lab.invoke('hello', sampleHttpEvent());
      result.endToEnd.push(performance.now() - t0);
      if (r.outcome !== 'success') throw new Error(`cold invocation failed: ${r.payload.toString()}`);
      if (!r.cold) result.notCold += 1;
      if (r.initDurationMs !== undefined) result.initDuration.push(r.initDurationMs);
      result.invokeDuration.push(r.durationMs);
      pids.add(
        (JSON.parse((JSON.parse(r.payload.toString()) as { body: string }).body) as { pid: number }).pid,
      );
      // Baselines interleaved with the measurement, so both see the same machine load.
      result.nodeStartup.push(await timeNode(['-e', '0']));
      result.nodeWithHandler.push(await timeNode(['--input-type=module', '-e', importHandler]));
    }
  } finally {
    await close();
  }
  result.distinctPids = pids.size;
  return result;
}
