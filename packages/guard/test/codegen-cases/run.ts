/**
 * Runs one scenario of scenarios.ts in this process and prints its observations as the last line,
 * prefixed with RESULT_MARK: `node --import tsx run.ts <scenario>`. Values JSON cannot carry
 * (undefined, non-finite numbers) are tagged so the test can compare them exactly.
 */
import { SCENARIOS } from './scenarios.js';

export const RESULT_MARK = '@@codegen-result ';

function encode(_key: string, value: unknown): unknown {
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  if (typeof value === 'bigint') return { $bigint: String(value) };
  return value;
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const scenario = SCENARIOS[name];
  if (scenario === undefined) {
    process.stderr.write(
      `unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(SCENARIOS).join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const observations = await scenario();
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(observations, encode)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
