/**
 * What the codegen control costs the victim idiom, `eval('(' + body + ')')` on a 1 KB JSON body:
 * `node --import tsx packages/guard/test/codegen-cases/bench.ts`. Prints a table of median ns per
 * call over several rounds. Run in its own process: install() replaces globals for good.
 *
 * Two kinds of body: the same string every time (V8 caches the compiled eval, so the hook's scan is
 * the whole difference) and a different string every time (what a function sees: each request's body
 * is new, and V8 compiles each one).
 */
import { createCodegenControl } from '../../src/codegen.js';
import { isDataLiteral } from '../../src/data-literal.js';

const ROUNDS = 15;
const SAME_CALLS = 20_000;
const UNIQUE_CALLS = 2_000;

function body1k(variant: number): string {
  const items: unknown[] = [];
  for (let i = 0; JSON.stringify(items).length < 960; i++) {
    items.push({ sku: `SKU-${variant}-${i}`, qty: (i % 3) + 1, price: 9.99 + i, tags: ['a', 'b'] });
  }
  return JSON.stringify({ card: '4111111111111111', items });
}

const liveEval = () => Reflect.get(globalThis, 'eval') as (source: string) => unknown;

/**
 * CPU time of this process in ns (user + system). Wall-clock time on a shared machine counts the
 * time other processes ran; CPU time does not.
 */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const same = `(${body1k(0)})`;
let uniqueOffset = 0;
/** Fresh bodies for each batch, so no body is ever in V8's eval cache. */
function uniqueBodies(): string[] {
  const out: string[] = [];
  for (let i = 0; i < UNIQUE_CALLS; i++) out.push(`(${body1k(++uniqueOffset)})`);
  return out;
}

interface Variant {
  readonly label: string;
  /** Puts the process in the variant's state and returns the function to call. */
  readonly enter: () => (source: string) => unknown;
}

function main(): void {
  const original = liveEval();
  const installStart = process.hrtime.bigint();
  // Two controls over the same hooks: install() makes one current, so the rounds can alternate
  // between INIT (pass-through) and an invocation (data checked) and share the machine's noise.
  const atInit = createCodegenControl({ action: 'block' });
  const report = atInit.install();
  const installUs = Number(process.hrtime.bigint() - installStart) / 1000;
  const hooked = liveEval();
  const inInvocation = createCodegenControl({ action: 'block' });
  inInvocation.install();
  inInvocation.setInvocation({ active: true, event: { body: same } });

  const variants: Variant[] = [
    { label: 'eval, no hook (the original, called indirectly)', enter: () => original },
    { label: 'isDataLiteral alone', enter: () => isDataLiteral },
    { label: 'JSON.parse of the body, for scale', enter: () => (s: string) => JSON.parse(s.slice(1, -1)) },
    {
      label: 'eval hook during INIT (pass-through)',
      enter: () => {
        atInit.install();
        return hooked;
      },
    },
    {
      label: 'eval hook during an invocation (data checked)',
      enter: () => {
        inInvocation.install();
        return hooked;
      },
    },
  ];
  const sameNs = variants.map(() => [] as number[]);
  const uniqueNs = variants.map(() => [] as number[]);
  for (let round = -2; round < ROUNDS; round++) {
    variants.forEach((variant, v) => {
      const run = variant.enter();
      let start = cpuNs();
      for (let i = 0; i < SAME_CALLS; i++) run(same);
      const sameTime = (cpuNs() - start) / SAME_CALLS;
      const bodies = uniqueBodies();
      start = cpuNs();
      for (let i = 0; i < UNIQUE_CALLS; i++) run(bodies[i] as string);
      const uniqueTime = (cpuNs() - start) / UNIQUE_CALLS;
      if (round >= 0) {
        sameNs[v]?.push(sameTime);
        uniqueNs[v]?.push(uniqueTime);
      }
    });
  }
  const setInvocationStart = cpuNs();
  for (let i = 0; i < SAME_CALLS; i++) inInvocation.setInvocation({ active: true, event: undefined });
  const setInvocationNs = (cpuNs() - setInvocationStart) / SAME_CALLS;

  const lines = variants.map(
    (variant, v) =>
      `| ${variant.label.padEnd(48)} | ${median(sameNs[v] ?? [])
        .toFixed(0)
        .padStart(9)} | ${median(uniqueNs[v] ?? [])
        .toFixed(0)
        .padStart(11)} |`,
  );
  process.stdout.write(
    [
      `Node ${process.versions.node}; body ${same.length} characters; median of ${ROUNDS} interleaved rounds (CPU ns per call)`,
      '',
      `| ${'path'.padEnd(48)} | same body | unique body |`,
      `|${'-'.repeat(50)}|-----------|-------------|`,
      ...lines,
      '',
      `install(): ${installUs.toFixed(0)} µs (${report.hooked.length} sinks hooked); setInvocation(): ${setInvocationNs.toFixed(0)} ns`,
      '',
    ].join('\n'),
  );
}

main();
