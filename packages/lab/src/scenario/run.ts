import { mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../lab.js';
import type { LabEvent, LabLogLine } from '../lab-events.js';
import { ARM_SPECS, armEnvironment, type DemoArm } from './arms.js';
import { ExfilCollector } from './collector.js';
import { IMPLANT_VARIANTS, type ImplantVariant, implantPayload, KEEP_WARM_BODY } from './implants.js';
import type { TrafficPlan, Victim } from './plan.js';

/** The victim function shipped with the repository. */
export const VICTIM_DIR = fileURLToPath(new URL('../../../../examples/payment-update', import.meta.url));
export const VICTIM_FUNCTION = 'payment-update';
export const VICTIM_ROUTE = '/payment-method';

export interface ArmRunOptions {
  plan: TrafficPlan;
  /** Lab seconds per real second. */
  timeScale: number;
  /** The guard's layer directory (packages/guard `buildLayer`), needed by guarded arms. */
  layerDir?: string;
  /** Directory for the arm's database file. */
  workDir: string;
  reservedConcurrency: number;
  idleTimeoutSeconds: number;
  /** Lifecycle arm: the age limit in lab seconds (converted to real seconds for the guard). */
  maxAgeLabSeconds: number;
  nodePath?: string;
  onProgress?: (progress: ArmProgress) => void;
  /** Watches the arm's lab (e.g. a correlator fed its log streams); its summary joins the result. */
  observe?: ArmObserverFactory;
}

/** One incident as the demo reports it (from a correlator watching the arm). */
export interface IncidentSummary {
  rule: string;
  severity: string;
  title: string;
  sources: string[];
  environments: number;
  requestIds: number;
  events: number;
}

/** What an observer of an arm found. */
export interface ObserverSummary {
  incidents: IncidentSummary[];
}

/** Attach to an arm's lab after it starts; `finish` runs after the traffic, before the lab closes. */
export type ArmObserverFactory = (
  arm: DemoArm,
  lab: Lab,
  workDir: string,
) => Promise<{ finish(): Promise<ObserverSummary> } | undefined>;

export interface ArmProgress {
  arm: DemoArm;
  labSeconds: number;
  durationSeconds: number;
  victimsSent: number;
  victims: number;
  stolen: number;
  environments: number;
}

/** One environment's life, for the timeline. Times are lab seconds after the start. */
export interface EnvironmentLane {
  id: string;
  created: number;
  initialized: number | null;
  infected: { at: number; variant: ImplantVariant }[];
  stolen: number[];
  end: {
    at: number;
    kind: 'recycled' | 'exited' | 'reaped' | 'retired' | 'shutdown' | 'crashed';
    reason?: string;
  } | null;
}

export interface ArmResult {
  arm: DemoArm;
  label: string;
  setup: string;
  environments: { created: number; infected: number; infectedByVariant: Record<ImplantVariant, number> };
  victims: {
    total: number;
    afterAttack: number;
    ok: number;
    failed: number;
    failedAfterAttack: number;
    throttledRetries: number;
    failureSamples: string[];
  };
  /** `byVariant`: distinct cards each implant variant delivered (one card can reach several). */
  stolen: { cards: number; shareAfterAttack: number; byVariant: Record<ImplantVariant, number> };
  /** First to last stolen card, lab seconds after the start (null when nothing was stolen). */
  theftWindow: { first: number; last: number; seconds: number } | null;
  latencyMs: { p50: number; p95: number };
  attack: {
    requests: number;
    accepted: number;
    refused: number;
    /** Still throttled (429) after the attacker's retries. */
    throttled: number;
    failed: number;
    /** 429s the attacker retried. */
    throttledRetries: number;
    /** Up to five distinct responses that were neither accepted nor refused (status and body). */
    otherSamples: string[];
    latencyMs: { p50: number; max: number };
  };
  recycles: Record<string, number>;
  /** Guard events by `type:control` (detection, block, alert). */
  guardEvents: Record<string, number>;
  lanes: EnvironmentLane[];
  /** What the arm's observer (the correlator, in `ephemera demo`) found; null without one. */
  observed: ObserverSummary | null;
  /** Cumulative stolen cards: [lab seconds, total]. */
  stolenSeries: [number, number][];
  wallSeconds: number;
}

interface VictimOutcome {
  victim: Victim;
  status: number;
  latencyMs: number;
  retries: number;
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Victims' clients retry a throttled (429) request with exponential backoff up to 1 s, for about
 * 25 real seconds in all, as API clients and the AWS SDKs do; a request that still fails counts as
 * failed. Retries are reported per arm (`throttledRetries`).
 */
const VICTIM_RETRIES = 30;

/**
 * The attacker retries a throttled payload once (a 429 costs it nothing, and the retry may land in
 * an environment that was busy a moment ago); what is still throttled after that is reported as
 * throttled. Once, not more: in the detect + evict arm every payload that lands costs an eviction
 * and a cold start, and with 4 retries the churn (83 evictions) pushed victims' p50 to 15.7 s.
 */
const ATTACK_RETRIES = 1;

/**
 * Source addresses: Linux routes all of 127.0.0.0/8 to loopback, so each victim and the attacker
 * connect from their own address and the function (and the guard, and the correlator) see distinct
 * API Gateway source IPs, as on AWS.
 */
export const ATTACKER_ADDRESS = '127.66.6.6';
export function victimAddress(index: number): string {
  return `127.1.${(index >> 8) & 255}.${(index & 255) === 0 ? 254 : index & 255}`;
}

/** POST `body` once; resolves with the status and text (status 0 when the connection failed). */
function postOnce(
  url: URL,
  body: string,
  agent: Agent,
  localAddress: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => resolve({ status: 0, text: error.message }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, text: error.message }));
    req.end(body);
  });
}

/** POST `body` to the victim's route; on 429 retry with backoff, as API clients do. */
async function post(
  url: URL,
  body: string,
  agent: Agent,
  retry429: number,
  localAddress: string,
): Promise<{ status: number; text: string; retries: number; ms: number }> {
  const started = performance.now();
  let retries = 0;
  for (;;) {
    const res = await postOnce(url, body, agent, localAddress);
    if (res.status === 429 && retries < retry429) {
      retries += 1;
      await sleep(Math.min(1000, 25 * 2 ** retries));
      continue;
    }
    return { ...res, retries, ms: performance.now() - started };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return Math.round(value * 10) / 10;
}

function emptyByVariant(): Record<ImplantVariant, number> {
  return Object.fromEntries(IMPLANT_VARIANTS.map((v) => [v, 0])) as Record<ImplantVariant, number>;
}

/** Run one arm on a fresh lab: victims, the attack, keep-warm pings; measure everything. */
export async function runArm(arm: DemoArm, options: ArmRunOptions): Promise<ArmResult> {
  const spec = ARM_SPECS[arm];
  if (spec.guarded && !options.layerDir) {
    throw new Error(`the ${arm} arm installs the guard's layer: pass layerDir (packages/guard buildLayer)`);
  }
  const wallStart = performance.now();
  const { plan, timeScale } = options;
  mkdirSync(options.workDir, { recursive: true });
  let lab: Lab | undefined;
  let labStart = 0;
  const labSeconds = () => (lab ? (lab.clock.now() - labStart) / 1000 : 0);
  const collector = new ExfilCollector(() => (lab ? lab.clock.now() : Date.now()));
  const collectorPort = await collector.listen();
  const labEvents: LabEvent[] = [];
  const guardLines: { environment: string; event: Record<string, unknown>; at: number }[] = [];
  const maxAgeRealSeconds = Math.max(1, Math.round(options.maxAgeLabSeconds / timeScale));
  try {
    lab = await createLab({
      functions: [
        {
          name: VICTIM_FUNCTION,
          codeDir: VICTIM_DIR,
          handler: 'index.handler',
          timeoutSeconds: 10,
          environment: {
            PAYMENTS_DB: join(options.workDir, `${arm}.db`),
            ...armEnvironment(arm, maxAgeRealSeconds),
          },
          layers: spec.guarded && options.layerDir ? [options.layerDir] : [],
          reservedConcurrency: options.reservedConcurrency,
          routes: [{ api: 'http', method: 'POST', path: VICTIM_ROUTE }],
        },
      ],
      clockScale: timeScale,
      idleTimeoutSeconds: options.idleTimeoutSeconds,
      // Requests go to the least recently used warm environment: traffic (the attacker's keep-warm
      // rounds included) spreads over every environment the function has, as a keep-warm tool
      // that sends one ping per environment intends.
      reuse: 'lru',
      ...(options.nodePath ? { nodePath: options.nodePath } : {}),
    });
    const running = lab;
    labStart = running.clock.now();
    const observer = options.observe ? await options.observe(arm, running, options.workDir) : undefined;
    running.events.on('event', (e: LabEvent) => labEvents.push(e));
    running.events.on('log', (l: LabLogLine) => {
      if (!l.line.startsWith('{"ephemera":1')) return;
      try {
        guardLines.push({ environment: l.environment, event: JSON.parse(l.line), at: labSeconds() });
      } catch {
        // not a guard line after all
      }
    });
    const url = new URL(`${running.url}${VICTIM_ROUTE}`);
    // One connection per request (no keep-alive races with the front's idle timeout).
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const outcomes: VictimOutcome[] = [];
    const attackStatuses: number[] = [];
    const attackLatencies: number[] = [];
    /** Attack responses other than accepted/refused (throttled after retries, errors), as samples. */
    const attackOther: string[] = [];
    let attackRetries = 0;
    const inflight: Promise<unknown>[] = [];
    let victimsSent = 0;

    type Action = { at: number; run: () => Promise<unknown> };
    const actions: Action[] = [
      ...plan.victims.map((victim) => ({
        at: victim.at,
        run: async () => {
          victimsSent += 1;
          const { userId, name, cardNumber, expiry } = victim;
          const r = await post(
            url,
            JSON.stringify({ userId, name, cardNumber, expiry }),
            agent,
            VICTIM_RETRIES,
            victimAddress(victim.index),
          );
          outcomes.push({
            victim,
            status: r.status,
            latencyMs: r.ms,
            retries: r.retries,
            ...(r.status === 200 ? {} : { error: `${r.status} ${r.text.slice(0, 160)}` }),
          });
        },
      })),
      ...plan.waves.map((wave) => ({
        at: wave.at,
        run: () =>
          Promise.all(
            wave.variants.map(async (variant) => {
              const r = await post(
                url,
                implantPayload(variant, collectorPort),
                agent,
                ATTACK_RETRIES,
                ATTACKER_ADDRESS,
              );
              attackStatuses.push(r.status);
              attackRetries += r.retries;
              if (r.status !== 200 && r.status !== 400 && r.status !== 403)
                attackOther.push(`${r.status} ${r.text.slice(0, 160)}`);
              attackLatencies.push(r.ms);
            }),
          ),
      })),
      ...[...plan.keepWarm, plan.durationSeconds].map((at) => ({
        at,
        run: () =>
          Promise.all(
            Array.from({ length: options.reservedConcurrency }, () =>
              post(url, KEEP_WARM_BODY, agent, 0, ATTACKER_ADDRESS),
            ),
          ),
      })),
    ].sort((a, b) => a.at - b.at);

    const progress = setInterval(() => {
      options.onProgress?.({
        arm,
        labSeconds: Math.min(plan.durationSeconds, labSeconds()),
        durationSeconds: plan.durationSeconds,
        victimsSent,
        victims: plan.victims.length,
        stolen: new Set(collector.records.filter((r) => r.kind === 'card').map((r) => r.card)).size,
        environments: running.environments().length,
      });
    }, 500);
    try {
      for (const action of actions) {
        const waitMs = ((action.at - labSeconds()) * 1000) / timeScale;
        if (waitMs > 1) await sleep(waitMs);
        inflight.push(action.run());
      }
      await Promise.all(inflight);
      // The last keep-warm round thawed every environment; give in-flight exfiltration a moment.
      await sleep(300);
    } finally {
      clearInterval(progress);
    }
    const endAt = labSeconds();
    const observed = observer ? await observer.finish() : null;
    agent.destroy();
    await running.close();
    return summarise(arm, {
      plan,
      outcomes,
      attackStatuses,
      attackLatencies,
      attackRetries,
      attackOther,
      collector,
      labEvents,
      guardLines,
      labStart,
      endAt,
      observed,
      wallSeconds: (performance.now() - wallStart) / 1000,
    });
  } finally {
    if (lab) await lab.close();
    await collector.close();
  }
}

function summarise(
  arm: DemoArm,
  data: {
    plan: TrafficPlan;
    outcomes: VictimOutcome[];
    attackStatuses: number[];
    attackLatencies: number[];
    attackRetries: number;
    attackOther: string[];
    collector: ExfilCollector;
    labEvents: LabEvent[];
    guardLines: { environment: string; event: Record<string, unknown>; at: number }[];
    labStart: number;
    endAt: number;
    observed: ObserverSummary | null;
    wallSeconds: number;
  },
): ArmResult {
  const spec = ARM_SPECS[arm];
  const { plan, outcomes, collector, labEvents, guardLines, labStart } = data;
  const rel = (time: number) => Math.round((time - labStart) / 10) / 100;
  // Environments, keyed by lab id; implants report their log stream.
  const lanes = new Map<string, EnvironmentLane>();
  const byStream = new Map<string, EnvironmentLane>();
  for (const e of labEvents) {
    if (!e.environment) continue;
    if (e.type === 'environment-created') {
      const lane: EnvironmentLane = {
        id: e.environment,
        created: rel(e.time),
        initialized: null,
        infected: [],
        stolen: [],
        end: null,
      };
      lanes.set(e.environment, lane);
      const stream = e.detail?.logStream;
      if (typeof stream === 'string') byStream.set(stream, lane);
      continue;
    }
    const lane = lanes.get(e.environment);
    if (!lane) continue;
    if (e.type === 'initialized') lane.initialized = rel(e.time);
    else if (
      (e.type === 'exited' || e.type === 'reaped' || e.type === 'retired' || e.type === 'shutdown') &&
      lane.end === null
    ) {
      lane.end = { at: rel(e.time), kind: e.type };
    } else if (e.type === 'crashed' && lane.end === null) lane.end = { at: rel(e.time), kind: 'crashed' };
  }
  const recycles: Record<string, number> = {};
  const guardEvents: Record<string, number> = {};
  for (const { environment, event } of guardLines) {
    const type = String(event.type);
    const control = String(event.control ?? '');
    if (type === 'recycle') {
      const reason = String((event.detail as Record<string, unknown> | undefined)?.reason ?? 'unknown');
      recycles[reason] = (recycles[reason] ?? 0) + 1;
      const lane = lanes.get(environment);
      if (lane?.end?.kind === 'exited') lane.end = { ...lane.end, kind: 'recycled', reason };
      else if (lane && lane.end === null) lane.end = { at: data.endAt, kind: 'recycled', reason };
    } else if (type === 'detection' || type === 'block' || type === 'alert') {
      guardEvents[`${type}:${control}`] = (guardEvents[`${type}:${control}`] ?? 0) + 1;
    }
  }
  const infectedByVariant = emptyByVariant();
  const infectedLanes = new Set<string>();
  const victimCards = new Set(plan.victims.map((v) => v.cardNumber));
  const stolenFirst = new Map<string, { at: number; variant: ImplantVariant }>();
  const stolenByVariant = emptyByVariant();
  const variantCards = new Set<string>();
  for (const record of collector.records) {
    const lane = byStream.get(record.stream);
    const at = rel(record.time);
    if (record.kind === 'infected') {
      infectedByVariant[record.variant] += 1;
      if (lane) {
        lane.infected.push({ at, variant: record.variant });
        infectedLanes.add(lane.id);
      }
    } else if (record.card !== undefined && victimCards.has(record.card)) {
      const key = `${record.variant} ${record.card}`;
      if (!variantCards.has(key)) {
        variantCards.add(key);
        stolenByVariant[record.variant] += 1;
      }
      if (!stolenFirst.has(record.card)) {
        stolenFirst.set(record.card, { at, variant: record.variant });
        lane?.stolen.push(at);
      }
    }
  }
  const stolenTimes = [...stolenFirst.values()].map((s) => s.at).sort((a, b) => a - b);
  const stolenSeries: [number, number][] = stolenTimes.map((t, i) => [t, i + 1]);
  const afterAttack = outcomes.filter((o) => o.victim.at >= plan.attackAt);
  const stolenAfter = afterAttack.filter((o) => stolenFirst.has(o.victim.cardNumber)).length;
  const latencies = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  const failed = outcomes.filter((o) => o.status !== 200);
  const first = stolenTimes[0];
  const last = stolenTimes.at(-1);
  return {
    arm,
    label: spec.label,
    setup: spec.setup,
    environments: { created: lanes.size, infected: infectedLanes.size, infectedByVariant },
    victims: {
      total: outcomes.length,
      afterAttack: afterAttack.length,
      ok: outcomes.length - failed.length,
      failed: failed.length,
      failedAfterAttack: afterAttack.filter((o) => o.status !== 200).length,
      throttledRetries: outcomes.reduce((n, o) => n + o.retries, 0),
      failureSamples: [...new Set(failed.map((o) => o.error ?? String(o.status)))].slice(0, 5),
    },
    stolen: {
      cards: stolenFirst.size,
      shareAfterAttack: afterAttack.length === 0 ? 0 : stolenAfter / afterAttack.length,
      byVariant: stolenByVariant,
    },
    theftWindow:
      first === undefined || last === undefined
        ? null
        : { first, last, seconds: Math.round((last - first) * 10) / 10 },
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
    attack: {
      requests: data.attackStatuses.length,
      accepted: data.attackStatuses.filter((s) => s === 200).length,
      refused: data.attackStatuses.filter((s) => s === 400 || s === 403).length,
      throttled: data.attackStatuses.filter((s) => s === 429).length,
      failed: data.attackStatuses.filter((s) => s !== 200 && s !== 400 && s !== 403 && s !== 429).length,
      throttledRetries: data.attackRetries,
      otherSamples: [...new Set(data.attackOther)].slice(0, 5),
      latencyMs: {
        p50: percentile(
          [...data.attackLatencies].sort((a, b) => a - b),
          0.5,
        ),
        max: Math.round(Math.max(0, ...data.attackLatencies)),
      },
    },
    recycles,
    guardEvents,
    lanes: [...lanes.values()],
    observed: data.observed,
    stolenSeries,
    wallSeconds: Math.round(data.wallSeconds * 10) / 10,
  };
}
