/**
 * Stable error codes of the command line (scan, policy suggest). Each is documented in
 * docs/errors.md with a mitigation; a test (packages/cli/test/errors-doc.test.ts) keeps this
 * registry and the docs in sync.
 */
export const CliErrorCodes = {} as const satisfies Record<string, string>;
