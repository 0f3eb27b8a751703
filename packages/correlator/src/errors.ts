/**
 * Stable error codes of the correlator. Each is documented in docs/errors.md with a mitigation; a
 * test (packages/cli/test/errors-doc.test.ts) keeps this registry and the docs in sync.
 */
export const CorrelatorErrorCodes = {} as const satisfies Record<string, string>;
