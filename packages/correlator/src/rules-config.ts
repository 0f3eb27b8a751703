import { CorrelatorError } from './errors.js';

/**
 * The detection rules as data: each rule's thresholds and severity. `createCorrelator({rules})`
 * and `ephemera correlate serve --rules FILE` override any subset; unknown keys and bad values are
 * refused with the key named. Validated once, then frozen.
 */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface RulesConfig {
  /** The same payload fingerprint (codegen/firewall block or alert) or integrity detections of one
   * function in ≥ `environments` environments within `windowMs`. */
  fanOut: { enabled: boolean; environments: number; windowMs: number; severity: Severity };
  /** Integrity detections in ≥ `environments` environments whose attacking request came from one
   * source IP, or (from several sources) carried one payload fingerprint, within `windowMs`. */
  infection: { enabled: boolean; environments: number; windowMs: number; severity: Severity };
  /** ≥ `minRequests` requests of at most `maxBytes` within `windowMs` from a source that caused a
   * detection or block in the `lookbackMs` before, at regular intervals (coefficient of variation of
   * the gaps ≤ `maxJitter`). Requests less than `roundMs` apart are one round (keep-warm tools send
   * one ping per environment at once); the period is judged between rounds. */
  keepWarm: {
    enabled: boolean;
    minRequests: number;
    roundMs: number;
    maxBytes: number;
    windowMs: number;
    lookbackMs: number;
    maxJitter: number;
    severity: Severity;
  };
  /** ≥ `alerts` alert events from one source within `windowMs` (a long window). */
  lowAndSlow: { enabled: boolean; alerts: number; windowMs: number; severity: Severity };
  /** ≥ `recycles` recycles of one function within `windowMs`, not counting `ignoreReasons`
   * (the policy's own age and invocation limits recycle busy functions by design). */
  recycleStorm: {
    enabled: boolean;
    recycles: number;
    windowMs: number;
    ignoreReasons: string[];
    severity: Severity;
  };
}

export type RuleName = keyof RulesConfig;
export const RULE_NAMES: readonly RuleName[] = [
  'fanOut',
  'infection',
  'keepWarm',
  'lowAndSlow',
  'recycleStorm',
];

export type RulesInput = { [R in RuleName]?: Partial<RulesConfig[R]> };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_RULES: Readonly<RulesConfig> = {
  fanOut: { enabled: true, environments: 3, windowMs: 5 * MINUTE, severity: 'high' },
  infection: { enabled: true, environments: 2, windowMs: HOUR, severity: 'critical' },
  keepWarm: {
    enabled: true,
    minRequests: 4,
    roundMs: 2000,
    maxBytes: 64,
    windowMs: HOUR,
    lookbackMs: 24 * HOUR,
    maxJitter: 0.25,
    severity: 'medium',
  },
  lowAndSlow: { enabled: true, alerts: 20, windowMs: 24 * HOUR, severity: 'medium' },
  recycleStorm: {
    enabled: true,
    recycles: 10,
    windowMs: 5 * MINUTE,
    ignoreReasons: ['max-age', 'max-invocations'],
    severity: 'high',
  },
};

const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

function bad(path: string, value: unknown, accepted: string): never {
  throw new CorrelatorError(
    'EPHEMERA_ERR_CORRELATOR_CONFIG',
    `rules.${path} is ${JSON.stringify(value) ?? String(value)}; accepted: ${accepted}`,
  );
}

/** Defaults overridden by `input`, validated and frozen. */
export function resolveRules(input: RulesInput | undefined = {}): Readonly<RulesConfig> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) bad('', input, 'an object');
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of Object.keys(input))
    if (!RULE_NAMES.includes(key as RuleName)) bad(key, '(rule)', RULE_NAMES.join(', '));
  for (const rule of RULE_NAMES) {
    const defaults = DEFAULT_RULES[rule] as unknown as Record<string, unknown>;
    const given = (input[rule] ?? {}) as Record<string, unknown>;
    if (given === null || typeof given !== 'object' || Array.isArray(given)) bad(rule, given, 'an object');
    const merged: Record<string, unknown> = { ...defaults };
    for (const [k, v] of Object.entries(given)) {
      const path = `${rule}.${k}`;
      if (!(k in defaults)) bad(path, '(key)', Object.keys(defaults).join(', '));
      const d = defaults[k];
      if (k === 'severity') {
        if (!SEVERITIES.includes(v as Severity)) bad(path, v, SEVERITIES.join(', '));
      } else if (k === 'maxJitter') {
        if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) bad(path, v, 'a number >= 0');
      } else if (typeof d === 'boolean') {
        if (typeof v !== 'boolean') bad(path, v, 'true or false');
      } else if (typeof d === 'number') {
        if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= (k.endsWith('Ms') ? 1 : 0)))
          bad(path, v, k.endsWith('Ms') ? 'an integer number of milliseconds >= 1' : 'an integer >= 0');
      } else if (Array.isArray(d)) {
        if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) bad(path, v, 'an array of strings');
      }
      merged[k] = Array.isArray(v) ? [...v] : v;
    }
    out[rule] = Object.freeze(merged);
  }
  return Object.freeze(out) as unknown as Readonly<RulesConfig>;
}
