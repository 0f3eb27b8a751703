/**
 * Stable error codes of the guard. Each is documented in docs/errors.md with a mitigation; a test
 * keeps this registry and the docs in sync.
 */
export const GuardErrorCodes = {
  EPHEMERA_ERR_POLICY: 'The guard policy is invalid: the function refuses to start unprotected.',
  EPHEMERA_ERR_HANDLER: 'The original handler named for the guard shim could not be loaded.',
  EPHEMERA_ERR_GUARD_FAULT: 'The guard itself failed while protecting an invocation.',
  EPHEMERA_ERR_CODEGEN_BLOCKED:
    'Code generation from a string carrying event input was refused during an invocation.',
  EPHEMERA_ERR_EGRESS_BLOCKED: 'An outbound connection to a destination outside egress.allow was refused.',
  EPHEMERA_ERR_FS_BLOCKED: 'A file-system access outside the fs allow-lists was refused.',
  EPHEMERA_ERR_CHILD_PROCESS_BLOCKED: 'Starting a child process outside childProcess.allow was refused.',
  EPHEMERA_ERR_INTERNALS_BLOCKED:
    'An inspector session, eval worker, native addon loaded after INIT or process.binding call was refused.',
  EPHEMERA_ERR_BLOCKED: 'The event firewall refused an event carrying hostile input (non-HTTP events).',
  EPHEMERA_ERR_INIT_PATCH:
    'A package not in integrity.initPatchesAllow patched the runtime while it loaded at INIT.',
  EPHEMERA_ERR_HARDEN: 'integrity.harden could not be applied (for example `ses` is not installed).',
} as const;

export type GuardErrorCode = keyof typeof GuardErrorCodes;

/** An error with a stable `code`; the message names what was wrong and what is accepted. */
export class GuardError extends Error {
  readonly code: GuardErrorCode;
  constructor(code: GuardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    // The code is the name: Lambda reports it as the errorType of an init or invocation failure.
    this.name = code;
    this.code = code;
  }
}
