import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Identifiers for events and environments without loading node:crypto: the Lambda runtime client
 * does not load it, and loading it costs milliseconds of every cold start. Sixteen bytes from the
 * kernel's CSPRNG seed the process; ids are that seed plus a counter, formatted as UUID v4 text.
 * Ids must be unique (receivers deduplicate on them), not secret: within one process they are
 * sequential by design.
 */
function seed(): Uint8Array {
  const bytes = new Uint8Array(16);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      readSync(fd, bytes, 0, 16, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom (not Linux): fall back to V8's generator, seeded by the OS per isolate.
    for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  }
  return bytes;
}

const SEED = seed();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let counter = 0;

/** A new id, e.g. `3f9a1c2b-7d4e-4c1a-9b2f-0000000000a1` (UUID v4 layout; the last 48 bits count). */
export function nextId(): string {
  counter += 1;
  const b = SEED.slice();
  // The counter occupies the last six bytes (2^48 ids per process).
  let n = counter;
  for (let i = 15; i >= 10; i -= 1) {
    b[i] = n % 256;
    n = Math.floor(n / 256);
  }
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = (i: number) => HEX[b[i] ?? 0];
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** This process's environment id: 12 hex characters from the seed. */
export function environmentId(): string {
  return Array.from(SEED.slice(0, 6), (x) => HEX[x]).join('');
}
