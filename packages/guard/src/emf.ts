/**
 * CloudWatch Embedded Metric Format (EMF): one JSON log line that CloudWatch Logs turns into metrics.
 *
 * `emfRecord` builds a line from fixed guard inputs and throws on a programming error; `validateEmf`
 * checks any line against the specification and is written separately (it shares only the limits
 * below) so that a test of one against the other is not a test of a function against itself.
 */

/** Units the specification accepts in `MetricDefinition.Unit` (CloudWatch's StandardUnit values). */
export const EMF_UNITS: readonly string[] = Object.freeze([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/** Specification limits: dimension keys per DimensionSet, MetricDefinitions per directive, values per metric. */
export const EMF_LIMITS = Object.freeze({
  dimensionsPerSet: 30,
  metricsPerDirective: 100,
  valuesPerMetric: 100,
});

/** Units the guard emits. */
export type EmfUnit = 'Count' | 'Milliseconds' | 'None';

/** One metric of an EMF record. */
export interface EmfMetric {
  name: string;
  value: number;
  unit?: EmfUnit;
}

/** What `emfRecord` turns into a log line. */
export interface EmfInput {
  namespace: string;
  dimensions: Record<string, string>;
  metrics: EmfMetric[];
  /** Epoch milliseconds. */
  timestamp: number;
}

/** The metadata member; a dimension or metric of that name would overwrite the directive. */
const METADATA_KEY = '_aws';
/** `StorageResolution` accepts standard (60) or high (1) resolution only. */
const STORAGE_RESOLUTIONS: readonly unknown[] = [1, 60];
const DIRECTIVE_MEMBERS: readonly string[] = ['Namespace', 'Dimensions', 'Metrics'];
const DEFINITION_MEMBERS: readonly string[] = ['Name', 'Unit', 'StorageResolution'];

/** One EMF log line (no trailing newline) with one directive and one dimension set; throws a TypeError on bad input. */
export function emfRecord(input: EmfInput): string {
  requireName(input.namespace, 'namespace');
  requireTimestamp(input.timestamp);
  const dimensionKeys = requireDimensions(input.dimensions);
  requireMetrics(input.metrics, new Set(dimensionKeys));

  // A null-prototype object: a member named `__proto__` stays an ordinary member instead of
  // silently changing the prototype and vanishing from the JSON output.
  const root: Record<string, unknown> = Object.create(null);
  root[METADATA_KEY] = {
    Timestamp: input.timestamp,
    CloudWatchMetrics: [
      {
        Namespace: input.namespace,
        Dimensions: [dimensionKeys],
        Metrics: input.metrics.map((m) => ({ Name: m.name, Unit: m.unit ?? 'None' })),
      },
    ],
  };
  for (const key of dimensionKeys) root[key] = input.dimensions[key];
  for (const metric of input.metrics) root[metric.name] = metric.value;
  return JSON.stringify(root);
}

function fail(problem: string): never {
  throw new TypeError(`emfRecord: ${problem}`);
}

function requireName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) fail(`${what} must be a non-empty string`);
  if (name === METADATA_KEY) fail(`${what} must not be "${METADATA_KEY}", the EMF metadata member`);
}

function requireTimestamp(timestamp: unknown): void {
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    fail(`timestamp must be a non-negative integer of epoch milliseconds, got ${String(timestamp)}`);
  }
}

/** Returns the dimension keys in insertion order. */
function requireDimensions(dimensions: unknown): string[] {
  if (typeof dimensions !== 'object' || dimensions === null || Array.isArray(dimensions)) {
    fail('dimensions must be an object of string values');
  }
  const entries = Object.entries(dimensions);
  if (entries.length > EMF_LIMITS.dimensionsPerSet) {
    fail(`${entries.length} dimensions; a dimension set holds at most ${EMF_LIMITS.dimensionsPerSet}`);
  }
  for (const [key, value] of entries) {
    requireName(key, 'a dimension name');
    if (typeof value !== 'string') fail(`dimension "${key}" must have a string value, got ${typeof value}`);
  }
  return entries.map(([key]) => key);
}

function requireMetrics(metrics: unknown, dimensionKeys: ReadonlySet<string>): void {
  if (!Array.isArray(metrics) || metrics.length === 0) fail('metrics must be a non-empty array');
  if (metrics.length > EMF_LIMITS.metricsPerDirective) {
    fail(`${metrics.length} metrics; a directive holds at most ${EMF_LIMITS.metricsPerDirective}`);
  }
  const seen = new Set<string>();
  for (const metric of metrics as unknown[]) {
    if (typeof metric !== 'object' || metric === null) fail('each metric must be an object');
    const { name, value, unit } = metric as Partial<EmfMetric>;
    requireName(name, 'a metric name');
    // Names share the root object with dimensions: a second member of the same name would
    // overwrite the first and turn one metric or dimension into garbage.
    if (dimensionKeys.has(name)) fail(`metric "${name}" has the same name as a dimension`);
    if (seen.has(name)) fail(`metric "${name}" appears twice`);
    seen.add(name);
    // NaN and ±Infinity serialise to null, which CloudWatch rejects.
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      fail(`metric "${name}" must have a finite number value, got ${String(value)}`);
    }
    if (unit !== undefined && !EMF_UNITS.includes(unit)) fail(`metric "${name}" has unknown unit "${unit}"`);
  }
}

type Json = Record<string, unknown>;

/** Specification violations of one EMF log line; empty when the line is valid. Never throws. */
export function validateEmf(line: string): string[] {
  const problems: string[] = [];
  if (typeof line !== 'string') return ['the record must be a string'];
  // CloudWatch Logs splits stdout on line breaks: a record across two lines is two invalid events.
  if (/[\r\n]/.test(line)) problems.push('the record contains a line break; it must be one line');
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch (err) {
    return [...problems, `the record is not valid JSON (${(err as Error).message})`];
  }
  if (!isObject(root)) return [...problems, 'the root must be a JSON object'];
  if (!Object.hasOwn(root, METADATA_KEY)) return [...problems, 'the root has no "_aws" member'];
  const aws = root[METADATA_KEY];
  if (!isObject(aws)) return [...problems, '"_aws" must be an object'];
  checkTimestamp(aws, problems);
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) {
    problems.push('"_aws.CloudWatchMetrics" must be an array of metric directives');
  } else {
    directives.forEach((d, i) => {
      checkDirective(d, `_aws.CloudWatchMetrics[${i}]`, root, problems);
    });
  }
  return problems;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTimestamp(aws: Json, problems: string[]): void {
  if (!Object.hasOwn(aws, 'Timestamp')) {
    problems.push('"_aws.Timestamp" is missing');
    return;
  }
  const ts = aws.Timestamp;
  if (typeof ts !== 'number' || ts < 0) {
    problems.push(
      `"_aws.Timestamp" must be a non-negative number of epoch milliseconds, got ${JSON.stringify(ts)}`,
    );
  }
}

function checkDirective(directive: unknown, path: string, root: Json, problems: string[]): void {
  if (!isObject(directive)) {
    problems.push(`${path} must be an object`);
    return;
  }
  checkNoExtraMembers(directive, DIRECTIVE_MEMBERS, path, problems);
  if (typeof directive.Namespace !== 'string' || directive.Namespace.length === 0) {
    problems.push(`${path}.Namespace must be a non-empty string`);
  }
  checkDimensionSets(directive.Dimensions, `${path}.Dimensions`, root, problems);
  checkMetricDefinitions(directive.Metrics, `${path}.Metrics`, root, problems);
}

/** The specification forbids members it does not define in its own objects. */
function checkNoExtraMembers(obj: Json, allowed: readonly string[], path: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      problems.push(`${path} has a member "${key}" the specification does not define`);
  }
}

function checkDimensionSets(sets: unknown, path: string, root: Json, problems: string[]): void {
  if (!Array.isArray(sets)) {
    problems.push(`${path} must be an array of dimension sets`);
    return;
  }
  sets.forEach((set: unknown, i) => {
    const setPath = `${path}[${i}]`;
    if (!Array.isArray(set)) {
      problems.push(`${setPath} must be an array of dimension names`);
      return;
    }
    if (set.length > EMF_LIMITS.dimensionsPerSet) {
      problems.push(
        `${setPath} has ${set.length} dimensions; at most ${EMF_LIMITS.dimensionsPerSet} are allowed`,
      );
    }
    set.forEach((key: unknown, j) => {
      checkDimensionReference(key, `${setPath}[${j}]`, root, problems);
    });
  });
}

function checkDimensionReference(key: unknown, path: string, root: Json, problems: string[]): void {
  if (typeof key !== 'string') {
    problems.push(`${path} must be a string naming a root member`);
  } else if (!Object.hasOwn(root, key)) {
    problems.push(`${path} references "${key}", which is not a member of the root`);
  } else if (typeof root[key] !== 'string') {
    problems.push(`${path} references "${key}", whose value must be a string`);
  }
}

function checkMetricDefinitions(metrics: unknown, path: string, root: Json, problems: string[]): void {
  if (!Array.isArray(metrics)) {
    problems.push(`${path} must be an array of metric definitions`);
    return;
  }
  if (metrics.length > EMF_LIMITS.metricsPerDirective) {
    problems.push(
      `${path} has ${metrics.length} metrics; at most ${EMF_LIMITS.metricsPerDirective} are allowed`,
    );
  }
  metrics.forEach((definition: unknown, i) => {
    checkMetricDefinition(definition, `${path}[${i}]`, root, problems);
  });
}

function checkMetricDefinition(definition: unknown, path: string, root: Json, problems: string[]): void {
  if (!isObject(definition)) {
    problems.push(`${path} must be an object`);
    return;
  }
  checkNoExtraMembers(definition, DEFINITION_MEMBERS, path, problems);
  const { Name, Unit, StorageResolution } = definition;
  if (typeof Name !== 'string' || Name.length === 0) {
    problems.push(`${path}.Name must be a non-empty string`);
  } else if (!Object.hasOwn(root, Name)) {
    problems.push(`${path}.Name references "${Name}", which is not a member of the root`);
  } else {
    checkMetricValue(root[Name], `${path}.Name references "${Name}", whose value`, problems);
  }
  if (Unit !== undefined && (typeof Unit !== 'string' || !EMF_UNITS.includes(Unit))) {
    problems.push(`${path}.Unit ${JSON.stringify(Unit)} is not a CloudWatch unit`);
  }
  if (StorageResolution !== undefined && !STORAGE_RESOLUTIONS.includes(StorageResolution)) {
    problems.push(`${path}.StorageResolution must be 1 or 60, got ${JSON.stringify(StorageResolution)}`);
  }
}

function checkMetricValue(value: unknown, what: string, problems: string[]): void {
  if (typeof value === 'number') return;
  if (!Array.isArray(value)) {
    problems.push(`${what} must be a number or an array of numbers, got ${JSON.stringify(value)}`);
  } else if (!value.every((v) => typeof v === 'number')) {
    problems.push(`${what} must be an array of numbers only`);
  } else if (value.length > EMF_LIMITS.valuesPerMetric) {
    problems.push(`${what} has ${value.length} values; at most ${EMF_LIMITS.valuesPerMetric} are allowed`);
  }
}
