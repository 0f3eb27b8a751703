import type { StoredEvent } from './event-schema.js';
import type { IncidentCandidate } from './incident.js';
import type { RuleName, RulesConfig } from './rules-config.js';
import type { Store } from './store.js';

/** Most events one rule evaluation reads for one key (bounds the work a flood can cause). */
const WINDOW_LIMIT = 2000;
/** Most evidence events one evaluation links. */
const EVIDENCE_PER_EVALUATION = 200;

export interface Finding {
  candidate: IncidentCandidate;
  /** How far apart two findings of one key can be and still be one incident. */
  quietMs: number;
}

/** Keys of one batch: key value → latest event time seen for it. */
class Keys {
  readonly map = new Map<string, number>();
  add(key: string | null, time: number): void {
    if (key === null) return;
    const t = this.map.get(key);
    if (t === undefined || time > t) this.map.set(key, time);
  }
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))];
}

function candidate(
  rule: RuleName,
  key: string,
  config: { severity: RulesConfig[RuleName]['severity'] },
  title: string,
  events: StoredEvent[],
): IncidentCandidate {
  const evidence = events.slice(-EVIDENCE_PER_EVALUATION);
  return {
    rule,
    key,
    severity: config.severity,
    title,
    firstSeen: Math.min(...events.map((e) => e.time)),
    lastSeen: Math.max(...events.map((e) => e.time)),
    sources: distinct(events.map((e) => e.sourceIp)),
    environments: distinct(events.map((e) => (e.env === 'api-gateway' ? null : e.env))),
    functions: distinct(events.map((e) => e.function)),
    requestIds: distinct(events.map((e) => e.requestId)),
    eventIds: evidence.map((e) => e.id),
  };
}

/**
 * Run every enabled rule over the windows the new events touch. Each rule names the keys the new
 * events belong to, reads that key's window from the store (so a rule sees events that other
 * correlators stored), and returns a finding when its threshold is crossed. Window ends are event
 * times, not arrival times: a delayed log batch is judged by when things happened.
 */
export async function evaluateRules(
  fresh: readonly StoredEvent[],
  rules: Readonly<RulesConfig>,
  store: Store,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const fingerprints = new Keys();
  const detectionFunctions = new Keys();
  const detectionSources = new Keys();
  const warmSources = new Keys();
  const alertSources = new Keys();
  const recycleFunctions = new Keys();
  for (const e of fresh) {
    switch (e.type) {
      case 'block':
      case 'alert':
        fingerprints.add(e.fingerprint, e.time);
        if (e.type === 'alert') alertSources.add(e.sourceIp, e.time);
        else warmSources.add(e.sourceIp, e.time);
        break;
      case 'detection':
        detectionFunctions.add(e.function, e.time);
        detectionSources.add(e.sourceIp, e.time);
        warmSources.add(e.sourceIp, e.time);
        break;
      case 'invocation':
        warmSources.add(e.sourceIp, e.time);
        break;
      case 'recycle':
        if (e.reason === null || !rules.recycleStorm.ignoreReasons.includes(e.reason))
          recycleFunctions.add(e.function, e.time);
        break;
      default:
        break;
    }
  }

  const fan = rules.fanOut;
  if (fan.enabled) {
    for (const [fp, to] of fingerprints.map) {
      const events = await store.windowEvents({
        column: 'fingerprint',
        value: fp,
        types: ['block', 'alert'],
        from: to - fan.windowMs,
        to,
        limit: WINDOW_LIMIT,
      });
      const envs = distinct(events.map((e) => e.env));
      if (envs.length >= fan.environments)
        findings.push({
          candidate: candidate(
            'fanOut',
            `fingerprint:${fp}`,
            fan,
            `payload ${fp} in ${envs.length} environments`,
            events,
          ),
          quietMs: fan.windowMs,
        });
    }
    for (const [fn, to] of detectionFunctions.map) {
      const events = await store.windowEvents({
        column: 'function',
        value: fn,
        types: ['detection'],
        from: to - fan.windowMs,
        to,
        limit: WINDOW_LIMIT,
      });
      const envs = distinct(events.map((e) => e.env));
      if (envs.length >= fan.environments)
        findings.push({
          candidate: candidate(
            'fanOut',
            `detections:${fn}`,
            fan,
            `integrity detections in ${envs.length} environments of ${fn}`,
            events,
          ),
          quietMs: fan.windowMs,
        });
    }
  }

  const inf = rules.infection;
  if (inf.enabled) {
    // By payload: detections whose attacking request also carried a fingerprinted codegen/firewall
    // decision (codegen in alert mode lets the injection run and names its payload). This catches
    // campaigns that rotate source addresses; one that keeps its address is the `ip:` incident below,
    // so a payload finding is raised only when its detections came from more than one source.
    const payloads = new Keys();
    for (const [fp, t] of fingerprints.map) payloads.add(fp, t);
    const freshDetections = fresh.filter((e) => e.type === 'detection' && e.requestId !== null);
    if (freshDetections.length > 0) {
      const decided = await store.requestEvents(
        distinct(freshDetections.map((e) => e.requestId)),
        'fingerprinted',
      );
      for (const e of decided) payloads.add(e.fingerprint, e.time);
    }
    for (const [fp, to] of payloads.map) {
      const decisions = await store.windowEvents({
        column: 'fingerprint',
        value: fp,
        types: ['block', 'alert'],
        from: to - inf.windowMs,
        to: to + inf.windowMs,
        limit: WINDOW_LIMIT,
      });
      if (decisions.length === 0) continue;
      const detections = await store.requestEvents(distinct(decisions.map((e) => e.requestId)), 'detection');
      const envs = distinct(detections.map((e) => e.env));
      const sources = distinct(detections.map((e) => e.sourceIp));
      if (envs.length >= inf.environments && sources.length !== 1) {
        const linked = new Set(detections.map((e) => e.requestId));
        findings.push({
          candidate: candidate(
            'infection',
            `fingerprint:${fp}`,
            inf,
            `payload ${fp} infected ${envs.length} environments from ${sources.length || 'unknown'} sources`,
            [...decisions.filter((e) => linked.has(e.requestId)), ...detections].sort(
              (a, b) => a.time - b.time,
            ),
          ),
          quietMs: inf.windowMs,
        });
      }
    }
    for (const [ip, to] of detectionSources.map) {
      const events = await store.windowEvents({
        column: 'source_ip',
        value: ip,
        types: ['detection'],
        from: to - inf.windowMs,
        to,
        limit: WINDOW_LIMIT,
      });
      const envs = distinct(events.map((e) => e.env));
      if (envs.length >= inf.environments)
        findings.push({
          candidate: candidate(
            'infection',
            `ip:${ip}`,
            inf,
            `${ip} infected ${envs.length} environments`,
            events,
          ),
          quietMs: inf.windowMs,
        });
    }
  }

  const warm = rules.keepWarm;
  if (warm.enabled) {
    // Cheapest test first, one query for the batch: most sources never caused a detection or block.
    let latest = Number.NEGATIVE_INFINITY;
    let earliest = Number.POSITIVE_INFINITY;
    for (const t of warmSources.map.values()) {
      latest = Math.max(latest, t);
      earliest = Math.min(earliest, t);
    }
    const suspicious =
      warmSources.map.size === 0
        ? new Set<string>()
        : await store.sourcesWith(
            [...warmSources.map.keys()],
            ['detection', 'block'],
            earliest - warm.lookbackMs - warm.windowMs,
            latest,
          );
    for (const [ip, to] of warmSources.map) {
      if (!suspicious.has(ip)) continue;
      const earlier = await store.windowEvents({
        column: 'source_ip',
        value: ip,
        types: ['detection', 'block'],
        from: to - warm.lookbackMs - warm.windowMs,
        to,
        limit: 50,
      });
      if (earlier.length === 0) continue;
      const pings = (
        await store.windowEvents({
          column: 'source_ip',
          value: ip,
          types: ['invocation'],
          from: to - warm.windowMs,
          to,
          limit: WINDOW_LIMIT,
        })
      ).filter((e) => e.bytes !== null && e.bytes <= warm.maxBytes);
      if (pings.length < warm.minRequests || !periodic(pings, warm.maxJitter, warm.roundMs)) continue;
      const last = (pings[pings.length - 1] as StoredEvent).time;
      const before = earlier.filter((e) => e.time <= last && e.time >= last - warm.lookbackMs);
      if (before.length === 0) continue;
      findings.push({
        candidate: candidate(
          'keepWarm',
          `ip:${ip}`,
          warm,
          `${ip} keeps environments warm: ${pings.length} small periodic requests after a detection`,
          [...before.slice(-10), ...pings],
        ),
        quietMs: warm.windowMs,
      });
    }
  }

  const slow = rules.lowAndSlow;
  if (slow.enabled) {
    for (const [ip, to] of alertSources.map) {
      const events = await store.windowEvents({
        column: 'source_ip',
        value: ip,
        types: ['alert'],
        from: to - slow.windowMs,
        to,
        limit: Math.max(slow.alerts, 1) + EVIDENCE_PER_EVALUATION,
      });
      if (events.length >= slow.alerts && slow.alerts > 0)
        findings.push({
          candidate: candidate(
            'lowAndSlow',
            `ip:${ip}`,
            slow,
            `${ip} accumulated ${events.length >= slow.alerts + EVIDENCE_PER_EVALUATION ? `${events.length}+` : events.length} alerts`,
            events,
          ),
          quietMs: slow.windowMs,
        });
    }
  }

  const storm = rules.recycleStorm;
  if (storm.enabled) {
    for (const [fn, to] of recycleFunctions.map) {
      const events = (
        await store.windowEvents({
          column: 'function',
          value: fn,
          types: ['recycle'],
          from: to - storm.windowMs,
          to,
          limit: WINDOW_LIMIT,
        })
      ).filter((e) => e.reason === null || !storm.ignoreReasons.includes(e.reason));
      if (events.length >= storm.recycles && storm.recycles > 0)
        findings.push({
          candidate: candidate(
            'recycleStorm',
            `function:${fn}`,
            storm,
            `${events.length} recycles of ${fn}`,
            events,
          ),
          quietMs: storm.windowMs,
        });
    }
  }
  return findings;
}

/** Regular intervals: the gaps' coefficient of variation is at most `maxJitter`. */
export function periodic(events: readonly StoredEvent[], maxJitter: number, roundMs = 0): boolean {
  // Keep-warm tools send a round of concurrent pings (one per environment) each period: requests
  // less than `roundMs` apart are one round, and the period is judged between round starts.
  const starts: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    if (e.time - last >= roundMs || starts.length === 0) starts.push(e.time);
    last = e.time;
  }
  const gaps: number[] = [];
  for (let i = 1; i < starts.length; i++) gaps.push((starts[i] as number) - (starts[i - 1] as number));
  if (gaps.length < 2) return false;
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (mean <= 0) return false;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
  return Math.sqrt(variance) / mean <= maxJitter;
}
