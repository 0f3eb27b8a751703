/**
 * Seeded randomness for the scenario: the same seed gives the same victims, cards, arrival times
 * and attack, so two runs of the same arms can be compared. (Not for anything secret.)
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3…) over the state space.
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 1;
  }

  /** A float in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }
}

/** Luhn check digit for `digits` (the number without its last digit). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** Whether `number` (digits only) passes the Luhn check. */
export function luhnValid(number: string): boolean {
  return /^[0-9]{2,}$/.test(number) && luhnCheckDigit(number.slice(0, -1)) === Number(number.at(-1));
}

/**
 * `count` distinct 16-digit Luhn-valid test card numbers. They start with 4000 00 (a test range no
 * issuer hands out), so a leaked report never holds a real card.
 */
export function testCards(random: SeededRandom, count: number): string[] {
  const seen = new Set<string>();
  while (seen.size < count) {
    let body = '400000';
    while (body.length < 15) body += String(random.int(0, 9));
    seen.add(body + String(luhnCheckDigit(body)));
  }
  return [...seen];
}
