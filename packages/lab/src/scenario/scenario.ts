import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { ARM_SPECS, DEMO_ARMS, type DemoArm } from './arms.js';
import { IMPLANT_VARIANTS } from './implants.js';
import { buildPlan } from './plan.js';
import { type ArmObserverFactory, type ArmProgress, type ArmResult, runArm } from './run.js';

/** Options of the warm-container attack scenario (`ephemera demo`). */
export interface ScenarioOptions {
  arms?: readonly DemoArm[];
  /** Victims, one payment update each, with a unique test card. Default 400. */
  victims?: number;
  /** Simulated period in lab seconds. Default 7200 (2 hours). */
  durationSeconds?: number;
  /** Lab seconds per real second. Default 360 (2 hours in 20 seconds per arm). */
  timeScale?: number;
  /** Seed of the traffic (victims, cards, attack). Default 1. */
  seed?: number;
  /** The guard's layer directory; required when a guarded arm runs. */
  layerDir?: string;
  /** Concurrency limit of the victim function (reserved concurrency). Default 10. */
  reservedConcurrency?: number;
  /** Attack requests in the fan-out. Default 200. */
  attackRequests?: number;
  /** When the attack starts, lab seconds. Default 900 (15 minutes in). */
  attackAtSeconds?: number;
  /** Keep-warm ping period, lab seconds. Default 300. */
  keepWarmEverySeconds?: number;
  /** Idle time before the lab reaps an environment, lab seconds. Default 600. */
  idleTimeoutSeconds?: number;
  /** Lifecycle arm's age limit, lab seconds. Default 900 (15 minutes). */
  maxAgeSeconds?: number;
  nodePath?: string;
  /** Watches each arm's lab (the CLI attaches a correlator to the guarded arms). */
  observe?: ArmObserverFactory;
  onArmStart?: (arm: DemoArm, index: number, total: number) => void;
  onProgress?: (progress: ArmProgress) => void;
  onArmEnd?: (result: ArmResult) => void;
}

export interface ScenarioResult {
  version: 1;
  seed: number;
  victims: number;
  durationSeconds: number;
  timeScale: number;
  attackAtSeconds: number;
  attackRequests: number;
  reservedConcurrency: number;
  maxAgeSeconds: number;
  /** The lifecycle arm's limit as the guard saw it (real seconds; the guard's clock is not scaled). */
  maxAgeRealSeconds: number;
  variants: readonly string[];
  node: string;
  arms: ArmResult[];
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CONFIG',
      `scenario: ${name} is ${String(v)}; accepted: an integer from ${min} to ${max}`,
    );
  }
  return v;
}

/** Run the scenario's arms one after another, each on a fresh lab. */
export async function runScenario(options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const arms = options.arms ?? DEMO_ARMS;
  for (const arm of arms) {
    if (!(arm in ARM_SPECS)) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_CONFIG',
        `scenario: unknown arm ${JSON.stringify(arm)}; accepted: ${DEMO_ARMS.join(', ')}`,
      );
    }
  }
  const victims = integer('victims', options.victims, 400, 1, 100_000);
  const durationSeconds = integer('durationSeconds', options.durationSeconds, 7200, 60, 7 * 24 * 3600);
  const timeScale = options.timeScale ?? 360;
  if (!(typeof timeScale === 'number' && Number.isFinite(timeScale) && timeScale > 0)) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CONFIG',
      `scenario: timeScale is ${String(timeScale)}; accepted: a number > 0`,
    );
  }
  const seed = integer('seed', options.seed, 1, 0, 2 ** 31 - 1);
  const reservedConcurrency = integer('reservedConcurrency', options.reservedConcurrency, 10, 1, 100);
  const attackRequests = integer('attackRequests', options.attackRequests, 200, 1, 10_000);
  const attackAtSeconds = integer(
    'attackAtSeconds',
    options.attackAtSeconds,
    Math.min(900, Math.floor(durationSeconds / 8)),
    0,
    durationSeconds - 1,
  );
  const keepWarmEverySeconds = integer(
    'keepWarmEverySeconds',
    options.keepWarmEverySeconds,
    300,
    1,
    durationSeconds,
  );
  const idleTimeoutSeconds = integer('idleTimeoutSeconds', options.idleTimeoutSeconds, 600, 1, 24 * 3600);
  const maxAgeSeconds = integer('maxAgeSeconds', options.maxAgeSeconds, 900, 1, 24 * 3600);
  const needsLayer = arms.some((a) => ARM_SPECS[a].guarded);
  if (needsLayer && !options.layerDir) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CONFIG',
      'scenario: guarded arms need layerDir (build it with @ephemera/guard/layer-build)',
    );
  }
  const plan = buildPlan({
    seed,
    victims,
    durationSeconds,
    attackAtSeconds,
    attackRequests,
    attackWaves: Math.min(4, attackRequests),
    keepWarmEverySeconds,
  });
  const workDir = mkdtempSync(join(tmpdir(), 'ephemera-demo-'));
  const results: ArmResult[] = [];
  try {
    for (const [index, arm] of arms.entries()) {
      options.onArmStart?.(arm, index, arms.length);
      const result = await runArm(arm, {
        plan,
        timeScale,
        ...(options.layerDir ? { layerDir: options.layerDir } : {}),
        workDir,
        reservedConcurrency,
        idleTimeoutSeconds,
        maxAgeLabSeconds: maxAgeSeconds,
        ...(options.nodePath ? { nodePath: options.nodePath } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.observe ? { observe: options.observe } : {}),
      });
      results.push(result);
      options.onArmEnd?.(result);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return {
    version: 1,
    seed,
    victims,
    durationSeconds,
    timeScale,
    attackAtSeconds,
    attackRequests,
    reservedConcurrency,
    maxAgeSeconds,
    maxAgeRealSeconds: Math.max(1, Math.round(maxAgeSeconds / timeScale)),
    variants: IMPLANT_VARIANTS,
    node: process.version,
    arms: results,
  };
}
