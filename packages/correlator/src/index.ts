/**
 * @ephemera/correlator — cross-environment detection over guard events (docs/correlator.md).
 * One engine (`createCorrelator`); the HTTP API, the lab feed and the CLI are thin adapters.
 */
export const CORRELATOR_VERSION = '0.1.0';
export { decodeCloudWatch, eventFromLine, type LineOrigin, parseBatch } from './batch.js';
export {
  type Correlator,
  type CorrelatorOptions,
  createCorrelator,
  type IngestResult,
  type LabLike,
} from './correlator.js';
export { CorrelatorError, type CorrelatorErrorCode, CorrelatorErrorCodes } from './errors.js';
export {
  EVENT_TYPES,
  type EventType,
  type GuardEventRecord,
  type StoredEvent,
  toStoredEvent,
} from './event-schema.js';
export type { Incident, IncidentFilter } from './incident.js';
export { dropPostgresSchema } from './postgres-store.js';
export {
  DEFAULT_RULES,
  RULE_NAMES,
  type RuleName,
  type RulesConfig,
  type RulesInput,
  resolveRules,
  type Severity,
} from './rules-config.js';
export type { Store } from './store.js';
