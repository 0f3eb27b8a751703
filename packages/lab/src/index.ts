export { type ClockTimer, LabClock } from './clock.js';
export type { EnvironmentState, ExecutionEnvironment, InvokeOutcome, InvokeResult } from './environment.js';
export { LabError, type LabErrorCode, LabErrorCodes } from './errors.js';
export {
  type FunctionDefinition,
  RESERVED_VARIABLES,
  type ResolvedFunction,
  type RouteDefinition,
  resolveFunction,
} from './function-definition.js';
export type { ReusePolicy } from './function-pool.js';
export { createLab, type InvokeOptions, type Lab, type LabOptions, REQUEST_PAYLOAD_LIMIT } from './lab.js';
export { type LabEvent, LabEvents, type LabEventType, type LabLogLine } from './lab-events.js';
export { type LoadedTemplate, loadSamTemplate, parseSamTemplate } from './sam-template.js';
export { ARM_SPECS, type ArmSpec, DEMO_ARMS, type DemoArm } from './scenario/arms.js';
export { IMPLANT_VARIANTS, type ImplantVariant, implantPayload } from './scenario/implants.js';
export { buildPlan, type PlanOptions, type TrafficPlan } from './scenario/plan.js';
export { luhnValid } from './scenario/random.js';
export { renderReport } from './scenario/report.js';
export {
  type ArmObserverFactory,
  type ArmProgress,
  type ArmResult,
  ATTACKER_ADDRESS,
  type EnvironmentLane,
  type IncidentSummary,
  type ObserverSummary,
  VICTIM_DIR,
  VICTIM_FUNCTION,
  victimAddress,
} from './scenario/run.js';
export { runScenario, type ScenarioOptions, type ScenarioResult } from './scenario/scenario.js';
export { labDuration, labTime, renderTable } from './scenario/table.js';
