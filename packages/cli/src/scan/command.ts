/**
 * `ephemera scan [DIR] [--format table|json|sarif] [--fail-on none|info|low|medium|high]`.
 * Exit code: 0, or 1 when a finding is at or above --fail-on; usage and directory errors exit 2.
 */
import { parseArgs } from 'node:util';
import { CliError, usageErrorFrom } from '../errors.js';
import { FORMATS, type Format, formatJson, formatSarif, formatTable } from './format.js';
import { SEVERITIES, type Severity } from './rules.js';
import { failsAt, scanDeployment } from './scan.js';

export const SCAN_USAGE = `  scan [DIR] [options]               static analysis of a deployment (DIR, default ".": code + node_modules)
      --format table|json|sarif      output format (default table; sarif is SARIF 2.1.0 for code scanning)
      --fail-on none|info|low|medium|high
                                     exit 1 when a finding is at or above this severity (default none)`;

const FAIL_ON = ['none', ...SEVERITIES] as const;

/** Runs the scan command; `write` receives the output. Returns the exit code. */
export function runScanCommand(args: string[], write: (text: string) => void): number {
  let values: { format?: string; 'fail-on'?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { format: { type: 'string' }, 'fail-on': { type: 'string' } },
    }));
  } catch (error) {
    throw usageErrorFrom(error, 'scan');
  }
  if (positionals.length > 1)
    throw new CliError(
      'EPHEMERA_ERR_CLI_USAGE',
      `scan takes one directory, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  const format = values.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(
      'EPHEMERA_ERR_CLI_USAGE',
      `scan: --format is ${JSON.stringify(format)}; accepted: ${FORMATS.join(', ')}`,
    );
  const failOn = values['fail-on'] ?? 'none';
  if (!(FAIL_ON as readonly string[]).includes(failOn))
    throw new CliError(
      'EPHEMERA_ERR_CLI_USAGE',
      `scan: --fail-on is ${JSON.stringify(failOn)}; accepted: ${FAIL_ON.join(', ')}`,
    );
  const report = scanDeployment(positionals[0] ?? '.');
  const formatters: Record<Format, () => string> = {
    table: () => formatTable(report),
    json: () => formatJson(report),
    sarif: () => formatSarif(report),
  };
  write(formatters[format as Format]());
  return failOn !== 'none' && failsAt(report, failOn as Severity) ? 1 : 0;
}
