import { dirname, join } from 'node:path';
import { intrinsics } from '../intrinsics.js';
import type { DeploymentFacts, Detector, Drift } from './detector.js';
import { createEnvVarsDetector } from './env-vars.js';
import { createModuleCacheDetector } from './module-cache.js';
import { createObjectSurfaceDetectors } from './object-surfaces.js';
import { createProcessHooksDetector } from './process-hooks.js';
import { createResourcesDetector } from './resources.js';
import { createTmpFilesDetector } from './tmp-files.js';

/** Most drifts one check reports; the count says how many there were. */
const MAX_REPORTED = 50;

/**
 * Where the deployment's code lives. Besides the task root, the runtime and the layers (/opt, and
 * the lab's stand-in for it), every `node_modules` directory on the task root's resolution path and
 * on NODE_PATH: Node resolves the function's bare imports from them, so a lazy require from there
 * is the function's own code. (On Lambda that is /var/task/node_modules, /opt/nodejs/…; in the lab,
 * where a monorepo hoists packages above the function's directory, it includes those too.)
 */
export function deploymentFacts(env: NodeJS.ProcessEnv = process.env): DeploymentFacts {
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const optDirs = new Set<string>(['/opt']);
  if (env.EPHEMERA_LAYER_DIR) optDirs.add(env.EPHEMERA_LAYER_DIR);
  for (const entry of (env.NODE_PATH ?? '').split(':')) if (entry) optDirs.add(entry);
  for (let dir = taskRoot; ; dir = dirname(dir)) {
    optDirs.add(join(dir, 'node_modules'));
    if (dirname(dir) === dir) break;
  }
  return {
    taskRoot,
    optDirs: [...optDirs],
    runtimeDir: env.LAMBDA_RUNTIME_DIR,
    tmpDir: intrinsics.tmpdir(),
  };
}

/** The composed integrity check: every detector, baselined in the order their hooks require. */
export interface IntegrityChecker {
  /**
   * Take every baseline (end of INIT). `afterHooks` runs once the sentinel and timer wrappers are in
   * place and before any object surface is recorded: hardening goes there, so that the wrappers are
   * frozen with the rest and the frozen state is the baseline (freezing is not drift).
   */
  baseline(afterHooks?: () => void): void;
  /** Everything that drifted since the baseline; never throws. */
  check(): Drift[];
  /** The detectors, in baseline order (for the init event). */
  readonly detectors: readonly string[];
}

export function createIntegrityChecker(facts: DeploymentFacts = deploymentFacts()): IntegrityChecker {
  // Order matters: process-hooks and resources install sentinel wrappers (timers, async_hooks,
  // inspector, diagnostics_channel); the object-surface and module-cache baselines must record the
  // wrapped functions, so they come after.
  const moduleCache = createModuleCacheDetector(facts);
  const HOOK_INSTALLERS = 2;
  const detectors: Detector[] = [
    createProcessHooksDetector(facts),
    createResourcesDetector(facts),
    createTmpFilesDetector(facts),
    ...createObjectSurfaceDetectors({ lazyLoads: () => moduleCache.lazyLoads() }),
    moduleCache,
    createEnvVarsDetector(),
  ];
  // Checks run with the module cache first: the globals detector asks it whether the deployment
  // lazily loaded modules since the last check (see ObjectSurfacesOptions.lazyLoads).
  const checkOrder: Detector[] = [moduleCache, ...detectors.filter((d) => d !== moduleCache)];
  return {
    detectors: detectors.map((d) => d.name),
    baseline(afterHooks) {
      for (let i = 0; i < detectors.length; i++) {
        // The two hook-installing detectors come first (see the order above).
        if (i === HOOK_INSTALLERS && afterHooks) afterHooks();
        (detectors[i] as Detector).baseline();
      }
    },
    check() {
      const drifts: Drift[] = [];
      for (const detector of checkOrder) {
        try {
          for (const drift of detector.check()) drifts.push(drift);
        } catch {
          // A detector must not throw; if one does, that is itself a sign of tampering.
          drifts.push({ path: `detector ${detector.name}`, kind: 'fault', detector: detector.name });
        }
      }
      return drifts;
    },
  };
}

/** The drifts an event carries: bounded, secret-free (paths, kinds, detectors, detail). */
export function reportableDrifts(drifts: readonly Drift[]): Drift[] {
  return drifts.slice(0, MAX_REPORTED);
}
