/**
 * @ephemera/correlator — cross-environment detection over guard events.
 * The service arrives with the correlator issue; until then the package only states its version.
 */
export const CORRELATOR_VERSION = '0.1.0';
