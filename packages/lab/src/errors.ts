/**
 * Stable error codes of the lab. Every error a lab user can hit carries one of these codes;
 * each is documented in docs/errors.md (a test keeps the two in sync).
 */
export const LabErrorCodes = {
  EPHEMERA_ERR_LAB_CONFIG: 'A function definition or lab option is invalid.',
  EPHEMERA_ERR_LAB_CODE_DIR: 'A function code directory or layer directory does not exist.',
  EPHEMERA_ERR_LAB_TEMPLATE: 'A SAM template could not be read or is malformed.',
  EPHEMERA_ERR_LAB_PORT_IN_USE: 'The port the lab was asked to listen on is taken.',
  EPHEMERA_ERR_LAB_UNKNOWN_FUNCTION: 'An invocation named a function the lab does not serve.',
  EPHEMERA_ERR_LAB_THROTTLED: 'Every environment allowed by the concurrency limit is busy.',
  EPHEMERA_ERR_LAB_PAYLOAD_TOO_LARGE: "An invocation payload is larger than Lambda's 6 MB limit.",
  EPHEMERA_ERR_LAB_RIC_MISSING: 'The aws-lambda-ric package (and its native build) could not be found.',
  EPHEMERA_ERR_LAB_CLOSED: 'The lab was used after close().',
} as const;

export type LabErrorCode = keyof typeof LabErrorCodes;

/** An error with a stable `code`; its message names what was wrong and what is accepted. */
export class LabError extends Error {
  readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
