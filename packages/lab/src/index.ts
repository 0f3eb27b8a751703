export { LabClock, type ClockTimer } from './clock.js';
export type { EnvironmentState, InvokeOutcome, InvokeResult, ExecutionEnvironment } from './environment.js';
export { LabError, LabErrorCodes, type LabErrorCode } from './errors.js';
export type { ReusePolicy } from './function-pool.js';
export {
  type FunctionDefinition,
  type ResolvedFunction,
  type RouteDefinition,
  RESERVED_VARIABLES,
  resolveFunction,
} from './function-definition.js';
export { createLab, type InvokeOptions, type Lab, type LabOptions, REQUEST_PAYLOAD_LIMIT } from './lab.js';
export { type LabEvent, type LabEventType, LabEvents } from './lab-events.js';
export { type LoadedTemplate, loadSamTemplate, parseSamTemplate } from './sam-template.js';
