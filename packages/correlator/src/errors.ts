/**
 * Stable error codes of the correlator. Each is documented in docs/errors.md with a mitigation; a
 * test (packages/cli/test/errors-doc.test.ts) keeps this registry and the docs in sync.
 */
export const CorrelatorErrorCodes = {
  EPHEMERA_ERR_CORRELATOR_CONFIG: 'A correlator option or rule threshold is invalid.',
  EPHEMERA_ERR_CORRELATOR_UNAUTHORIZED: 'An HTTP request carried no bearer token or the wrong one.',
  EPHEMERA_ERR_CORRELATOR_TOO_LARGE: 'A batch is larger than the body or event-count limit.',
  EPHEMERA_ERR_CORRELATOR_MALFORMED: 'A batch is not JSON, JSON lines, or a decodable CloudWatch payload.',
  EPHEMERA_ERR_CORRELATOR_SCHEMA: 'An event does not match the guard event schema (docs/events.md).',
  EPHEMERA_ERR_CORRELATOR_NOT_FOUND: 'No incident (or no route) has that id or path.',
  EPHEMERA_ERR_CORRELATOR_STORE: 'The database could not be opened, migrated or written.',
  EPHEMERA_ERR_CORRELATOR_CLOSED: 'The correlator was used after close().',
} as const satisfies Record<string, string>;

export type CorrelatorErrorCode = keyof typeof CorrelatorErrorCodes;

/** HTTP status each code answers with. */
export const HTTP_STATUS: Readonly<Record<CorrelatorErrorCode, number>> = {
  EPHEMERA_ERR_CORRELATOR_CONFIG: 500,
  EPHEMERA_ERR_CORRELATOR_UNAUTHORIZED: 401,
  EPHEMERA_ERR_CORRELATOR_TOO_LARGE: 413,
  EPHEMERA_ERR_CORRELATOR_MALFORMED: 400,
  EPHEMERA_ERR_CORRELATOR_SCHEMA: 400,
  EPHEMERA_ERR_CORRELATOR_NOT_FOUND: 404,
  EPHEMERA_ERR_CORRELATOR_STORE: 503,
  EPHEMERA_ERR_CORRELATOR_CLOSED: 503,
};

/** An error with a stable `code`; its message names what was wrong and what is accepted. */
export class CorrelatorError extends Error {
  readonly code: CorrelatorErrorCode;
  constructor(code: CorrelatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorrelatorError';
    this.code = code;
  }
}
