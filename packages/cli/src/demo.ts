import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCorrelator } from '@ephemera/correlator';
import { buildLayer } from '@ephemera/guard/layer-build';
import {
  ARM_SPECS,
  type ArmObserverFactory,
  type ArmProgress,
  DEMO_ARMS,
  type DemoArm,
  labDuration,
  renderReport,
  renderTable,
  runScenario,
  type ScenarioResult,
} from '@ephemera/lab';

export interface DemoCommandOptions {
  arms: DemoArm[];
  victims: number;
  durationSeconds: number;
  timeScale: number;
  seed: number;
  out: string;
}

export const DEMO_USAGE = `  demo [options]                     reproduce the warm-container attack and the defence, arm by arm
      --arms a,b,...                 arms to run (default all): ${DEMO_ARMS.join(', ')}
      --victims N                    victims, one card update each (default 400)
      --duration D                   simulated period on the lab clock: 2h, 90m, 3600s or seconds (default 2h)
      --time-scale X                 lab seconds per real second (default 360: 2 h in 20 s per arm)
      --seed S                       traffic seed; the same seed sends the same traffic (default 1)
      --out DIR                      where ephemera-report.html and ephemera-results.json go (default ./ephemera-demo)`;

/**
 * The correlator arm: every guarded arm's environments stream their guard events (their stdout, as
 * CloudWatch Logs would carry them) to a correlator with its own SQLite file; its incidents join
 * the arm's results.
 */
export const correlatorObserver: ArmObserverFactory = async (arm, lab, workDir) => {
  if (!ARM_SPECS[arm].guarded) return undefined;
  const correlator = await createCorrelator({
    db: join(workDir, `${arm}-correlator.db`),
    // The guard stamps events with the real clock and the lab runs 360x faster: the attacker's
    // keep-warm rounds, 5 lab minutes apart, are under a real second apart. A round is what arrives
    // within 100 ms (the default, 2 s, would merge them all into one).
    rules: { keepWarm: { roundMs: 100 } },
  });
  const feed = correlator.attachLab(lab);
  return {
    async finish() {
      await feed.flush();
      await feed.detach();
      const found = await correlator.incidents();
      await correlator.close();
      return {
        incidents: found.map((i) => ({
          rule: i.rule,
          severity: i.severity,
          title: i.title,
          sources: i.sources,
          environments: i.environments.length,
          requestIds: i.requestIds.length,
          events: i.eventCount,
        })),
      };
    },
  };
};

/** A usage mistake in demo flags: the message names the flag, the value and what is accepted. */
export class DemoUsageError extends Error {}

/** Parse `--duration`: `2h`, `90m`, `3600s` or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(h|m|s)?$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 60 || seconds > 7 * 24 * 3600 || !Number.isInteger(seconds)) {
    throw new DemoUsageError(
      `--duration is ${JSON.stringify(text)}; accepted: a whole number of seconds from 60 to 604800, written like 2h, 90m, 3600s or 3600`,
    );
  }
  return seconds;
}

export function parseDemoFlags(values: Record<string, string | boolean | undefined>): DemoCommandOptions {
  const text = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const armsText = text('arms');
  let arms: DemoArm[] = [...DEMO_ARMS];
  if (armsText !== undefined && armsText !== 'all') {
    arms = [];
    for (const name of armsText.split(',').map((s) => s.trim())) {
      if (!(DEMO_ARMS as readonly string[]).includes(name)) {
        throw new DemoUsageError(
          `--arms names ${JSON.stringify(name)}; accepted: all, or a comma-separated list of ${DEMO_ARMS.join(', ')}`,
        );
      }
      if (!arms.includes(name as DemoArm)) arms.push(name as DemoArm);
    }
  }
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^[0-9]+$/.test(raw) || n < min || n > max) {
      throw new DemoUsageError(
        `--${name} is ${JSON.stringify(raw)}; accepted: an integer from ${min} to ${max}`,
      );
    }
    return n;
  };
  const scaleText = text('time-scale');
  const timeScale = scaleText === undefined ? 360 : Number(scaleText);
  if (!(Number.isFinite(timeScale) && timeScale >= 1 && timeScale <= 100_000)) {
    throw new DemoUsageError(
      `--time-scale is ${JSON.stringify(scaleText)}; accepted: a number from 1 to 100000`,
    );
  }
  return {
    arms,
    victims: int('victims', 400, 1, 100_000),
    durationSeconds: parseDuration(text('duration') ?? '2h'),
    timeScale,
    seed: int('seed', 1, 0, 2 ** 31 - 1),
    out: resolve(text('out') ?? 'ephemera-demo'),
  };
}

/** Run the demo: progress on stderr, the table on stdout, the JSON and HTML report in `out`. */
export async function runDemo(
  options: DemoCommandOptions,
  out: (line: string) => void = console.log,
  progress: NodeJS.WriteStream = process.stderr,
): Promise<ScenarioResult> {
  mkdirSync(options.out, { recursive: true });
  const layerRoot = mkdtempSync(join(tmpdir(), 'ephemera-demo-layer-'));
  const tty = progress.isTTY === true;
  let lastLine = 0;
  const show = (p: ArmProgress) => {
    const line = `  ${ARM_SPECS[p.arm].label}: lab ${labDuration(p.labSeconds)} of ${labDuration(p.durationSeconds)} · victims ${p.victimsSent}/${p.victims} · cards stolen ${p.stolen} · environments ${p.environments}`;
    if (tty) progress.write(`\r\x1b[2K${line}`);
    else if (Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      progress.write(`${line}\n`);
    }
  };
  const wallStart = performance.now();
  try {
    const layerDir = buildLayer(layerRoot).dir;
    out(
      `Ephemera demo: ${options.arms.length} arm(s), ${options.victims} victims over ${labDuration(options.durationSeconds)} of lab time at ${options.timeScale}x, seed ${options.seed}`,
    );
    const result = await runScenario({
      arms: options.arms,
      victims: options.victims,
      durationSeconds: options.durationSeconds,
      timeScale: options.timeScale,
      seed: options.seed,
      layerDir,
      observe: correlatorObserver,
      onArmStart: (arm, index, total) => {
        lastLine = 0;
        progress.write(`[${index + 1}/${total}] ${ARM_SPECS[arm].label} — ${ARM_SPECS[arm].setup}\n`);
      },
      onProgress: show,
      onArmEnd: (arm) => {
        if (tty) progress.write('\r\x1b[2K');
        progress.write(
          `  done in ${arm.wallSeconds} s: ${arm.stolen.cards} cards stolen, ${arm.victims.failed} victim requests failed, ${arm.environments.infected}/${arm.environments.created} environments infected\n`,
        );
      },
    });
    const json = join(options.out, 'ephemera-results.json');
    const html = join(options.out, 'ephemera-report.html');
    writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(html, renderReport(result));
    out('');
    out(renderTable(result));
    out('');
    out(`Report: ${html}`);
    out(`Results: ${json}`);
    out(`Finished in ${Math.round((performance.now() - wallStart) / 1000)} s.`);
    return result;
  } finally {
    rmSync(layerRoot, { recursive: true, force: true });
  }
}
