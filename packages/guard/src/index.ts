/**
 * @ephemera/guard — runtime protection that runs inside a Lambda function.
 * The engine arrives with the guard-core issue; until then the package only states its version.
 */
export const GUARD_VERSION = '0.1.0';
