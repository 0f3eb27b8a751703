import { IMPLANT_VARIANTS, type ImplantVariant } from './implants.js';
import { SeededRandom, testCards } from './random.js';

/** One victim: a user updating their payment method once, with a card nobody else has. */
export interface Victim {
  index: number;
  /** Lab seconds after the start when the request is sent. */
  at: number;
  userId: string;
  name: string;
  cardNumber: string;
  expiry: string;
}

export interface AttackWave {
  at: number;
  /** One variant per request, in order. */
  variants: ImplantVariant[];
}

/** Everything that will be sent, decided up front from the seed. */
export interface TrafficPlan {
  victims: Victim[];
  waves: AttackWave[];
  /** Lab seconds of each keep-warm round. */
  keepWarm: number[];
  attackAt: number;
  durationSeconds: number;
}

export interface PlanOptions {
  seed: number;
  victims: number;
  durationSeconds: number;
  attackAtSeconds: number;
  attackRequests: number;
  attackWaves: number;
  keepWarmEverySeconds: number;
}

const FIRST = [
  'Ada',
  'Sean',
  'Mary',
  'Chen',
  'Aoife',
  'Kwame',
  'Zoë',
  'Renée',
  'José',
  'Priya',
  'Olu',
  'Ines',
];
const LAST = ["O'Reilly", 'Nguyen', 'Smith-Jones', 'García', 'Kowalski', 'Müller', 'Okafor', 'Lee', 'Dubois'];

/**
 * The run's traffic. Victims arrive over the whole period at a rate that rises and falls (two busy
 * hours a day compressed into the period), partly in bursts of 2–6 simultaneous requests so several
 * environments are alive at once. The attack is a fan-out of `attackRequests` requests in
 * `attackWaves` parallel waves a few lab seconds apart; afterwards the attacker only sends
 * keep-warm pings.
 */
export function buildPlan(options: PlanOptions): TrafficPlan {
  const random = new SeededRandom(options.seed);
  const cards = testCards(random, options.victims);
  const duration = options.durationSeconds;
  // Inverse-CDF sampling of a rate curve over [0, duration): two peaks and a floor.
  const rate = (t: number) =>
    0.35 +
    Math.exp(-(((t / duration - 0.3) / 0.09) ** 2)) +
    0.8 * Math.exp(-(((t / duration - 0.75) / 0.1) ** 2));
  const steps = 2000;
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < steps; i += 1) {
    total += rate(((i + 0.5) / steps) * duration);
    cumulative.push(total);
  }
  const sampleTime = (u: number) => {
    const target = u * total;
    let lo = 0;
    let hi = steps - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) < target) lo = mid + 1;
      else hi = mid;
    }
    return ((lo + random.next()) / steps) * duration;
  };
  const times: number[] = [];
  while (times.length < options.victims) {
    const at = Math.min(duration - 1, sampleTime(random.next()));
    // One arrival in five is a burst: 2–6 users at the same moment.
    const burst = random.next() < 0.2 ? random.int(2, 6) : 1;
    for (let k = 0; k < burst && times.length < options.victims; k += 1) times.push(at);
  }
  times.sort((a, b) => a - b);
  const victims = times.map((at, index): Victim => {
    const year = 27 + random.int(0, 5);
    return {
      index,
      at: Math.round(at * 1000) / 1000,
      userId: `u-${(index + 1).toString(36).padStart(5, '0')}${random.int(0, 35).toString(36)}`,
      name: `${random.pick(FIRST)} ${random.pick(LAST)}`,
      cardNumber: cards[index] ?? '',
      expiry: `${String(random.int(1, 12)).padStart(2, '0')}/${year}`,
    };
  });
  const perWave = Math.ceil(options.attackRequests / options.attackWaves);
  const waves: AttackWave[] = [];
  let sent = 0;
  for (let w = 0; w < options.attackWaves && sent < options.attackRequests; w += 1) {
    const variants: ImplantVariant[] = [];
    for (let i = 0; i < perWave && sent < options.attackRequests; i += 1, sent += 1) {
      variants.push(IMPLANT_VARIANTS[(sent + w) % IMPLANT_VARIANTS.length] as ImplantVariant);
    }
    waves.push({ at: options.attackAtSeconds + w * 20, variants });
  }
  const keepWarm: number[] = [];
  const lastWave = waves.at(-1)?.at ?? options.attackAtSeconds;
  for (let t = lastWave + options.keepWarmEverySeconds; t < duration; t += options.keepWarmEverySeconds) {
    keepWarm.push(t);
  }
  return { victims, waves, keepWarm, attackAt: options.attackAtSeconds, durationSeconds: duration };
}
