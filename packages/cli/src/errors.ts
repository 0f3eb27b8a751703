/**
 * Stable error codes of the command line (scan, policy suggest). Each is documented in
 * docs/errors.md with a mitigation; a test (packages/cli/test/errors-doc.test.ts) keeps this
 * registry and the docs in sync.
 */
export const CliErrorCodes = {
  EPHEMERA_ERR_CLI_USAGE: 'A command was given an unknown option, a bad option value or too many arguments.',
  EPHEMERA_ERR_SCAN_DIR: 'The directory to scan does not exist or is not a directory.',
  EPHEMERA_ERR_CLI_LEARNED_FILE:
    'A --learned file cannot be read or is neither guard event JSON lines nor a policy fragment.',
} as const satisfies Record<string, string>;

export type CliErrorCode = keyof typeof CliErrorCodes;

/** An error with a stable `code` and the process exit code the CLI ends with (2: usage, 1: other). */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 2;
  }
}

/** Node's parseArgs errors (unknown option, missing value) turned into EPHEMERA_ERR_CLI_USAGE. */
export function usageErrorFrom(error: unknown, command: string): unknown {
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    return new CliError('EPHEMERA_ERR_CLI_USAGE', `${command}: ${error.message}`, { cause: error });
  return error;
}
