/**
 * Reads the part of an AWS SAM template that the lab can emulate and turns each
 * AWS::Serverless::Function into a FunctionDefinition. Anything the lab cannot reproduce
 * locally is reported as a warning rather than silently dropped, so a lab run never looks
 * more faithful than it is; anything that would make the run wrong is an error.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type CollectionTag, Pair, parseDocument, type ScalarTag, type YAMLError, YAMLMap } from 'yaml';
import { LabError } from './errors.js';
import { type FunctionDefinition, type RouteDefinition, resolveFunction } from './function-definition.js';

/** The functions a template defines and what the lab could not emulate. */
export interface LoadedTemplate {
  functions: FunctionDefinition[];
  warnings: string[];
}

/** Values the lab substitutes for what only a deployment would know. */
export interface SamTemplateOptions {
  /** Value of the AWS::Region pseudo parameter. Default `us-east-1`. */
  region?: string;
  /** Parameter values that win over a Parameter's Default, like `sam local --parameter-overrides`. */
  parameterOverrides?: Record<string, string>;
}

type Mapping = Record<string, unknown>;

interface Context {
  label: string;
  baseDir: string;
  region: string;
  overrides: Record<string, string>;
  parameters: Mapping;
  resources: Mapping;
  warnings: string[];
}

type Resolution = { ok: true; value: unknown } | { ok: false; reason: string };

const TEMPLATE = 'EPHEMERA_ERR_LAB_TEMPLATE';
const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';
const FUNCTION_TYPE = 'AWS::Serverless::Function';
const LAYER_TYPE = 'AWS::Serverless::LayerVersion';
// function-definition.ts validates runtimes too, but as a config error naming the function;
// a template gets its own check so the message names the resource path.
const NODE_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
const DEFAULT_REGION = 'us-east-1';
const HANDLED_PROPERTIES = new Set([
  'FunctionName',
  'Handler',
  'CodeUri',
  'PackageType',
  'Runtime',
  'Timeout',
  'MemorySize',
  'Environment',
  'Layers',
  'ReservedConcurrentExecutions',
  'ProvisionedConcurrencyConfig',
  'Events',
]);
// Metadata and IAM: a local run has no IAM, so these are reported once per function, not each.
const GROUPED_IGNORED_PROPERTIES = ['Description', 'Tags', 'Policies', 'Role'];
const INTRINSIC_FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
];

// ---------------------------------------------------------------------------------------------
// YAML with CloudFormation short tags

/** A short-form tag's long-form object, e.g. `!GetAtt A.B` → `{ 'Fn::GetAtt': ['A', 'B'] }`. */
function longFormScalar(key: string, source: string): Mapping {
  if (key !== 'Fn::GetAtt') return { [key]: source };
  // CloudFormation splits the short form at the first dot only: attribute names may hold dots.
  const dot = source.indexOf('.');
  return { [key]: dot < 0 ? [source] : [source.slice(0, dot), source.slice(dot + 1)] };
}

/** Wraps a tagged collection in a one-key map node, so aliases inside it still resolve in toJS. */
function longFormCollection(key: string, node: unknown): YAMLMap {
  const map = new YAMLMap();
  map.items.push(new Pair(key, node));
  return map;
}

/** Every short tag in its scalar, sequence and mapping forms. */
function intrinsicTags(): Array<ScalarTag | CollectionTag> {
  const forms: Array<[string, string]> = [
    ['!Ref', 'Ref'],
    ['!Condition', 'Condition'],
    ...INTRINSIC_FUNCTIONS.map((name): [string, string] => [`!${name}`, `Fn::${name}`]),
  ];
  return forms.flatMap(
    ([tag, key]): Array<ScalarTag | CollectionTag> => [
      { tag, resolve: (source: string) => longFormScalar(key, source) },
      { tag, collection: 'seq', resolve: (node) => longFormCollection(key, node) },
      { tag, collection: 'map', resolve: (node) => longFormCollection(key, node) },
    ],
  );
}

const INTRINSIC_TAGS = intrinsicTags();

/** `file:line:column` of a YAML diagnostic. */
function yamlPosition(label: string, diagnostic: YAMLError): string {
  const pos = diagnostic.linePos?.[0];
  return pos ? `${label}:${pos.line}:${pos.col}` : label;
}

/** The yaml library's message without its appended position and source excerpt. */
function yamlReason(diagnostic: YAMLError): string {
  return diagnostic.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
}

/** Parse YAML or JSON with CloudFormation short tags mapped to their long forms (`!Ref x` → `{ Ref: x }`). */
export function parseCloudFormationYaml(
  text: string,
  fileLabel = 'template',
): { value: unknown; warnings: string[] } {
  const doc = parseDocument(text, { customTags: INTRINSIC_TAGS, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    throw new LabError(
      TEMPLATE,
      `${yamlPosition(fileLabel, error)}: invalid YAML: ${yamlReason(error)}; accepted: a YAML or JSON SAM template`,
      { cause: error },
    );
  }
  const warnings = doc.warnings.map((warning) =>
    warning.code === 'TAG_RESOLVE_FAILED'
      ? `${yamlPosition(fileLabel, warning)}: ${yamlReason(warning)}; the lab reads the value as if untagged`
      : `${yamlPosition(fileLabel, warning)}: YAML warning: ${yamlReason(warning)}`,
  );
  try {
    return { value: doc.toJS(), warnings };
  } catch (err) {
    // toJS throws only on alias abuse (e.g. a "billion laughs" document).
    const reason = err instanceof Error ? err.message : String(err);
    const message = `${fileLabel}: invalid YAML: ${reason}; accepted: a YAML or JSON SAM template`;
    throw new LabError(TEMPLATE, message, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Small value helpers

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: template keys such as `constructor` must not reach Object.prototype. */
function field(map: Mapping, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Sets an own property even for a key like `__proto__`. */
function setField(map: Mapping, key: string, value: unknown): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The function name of a `{ Ref: x }` / `{ 'Fn::Sub': x }` object, if the value is one. */
function intrinsicName(value: unknown): string | undefined {
  if (!isMapping(value)) return undefined;
  const keys = Object.keys(value);
  const key = keys[0];
  return keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))
    ? key
    : undefined;
}

/** A value as it appears in messages: short tag form for intrinsics, JSON otherwise. */
function show(value: unknown): string {
  const name = intrinsicName(value);
  if (name !== undefined && isMapping(value)) {
    const arg = field(value, name);
    const tag = name === 'Ref' ? '!Ref' : `!${name.slice('Fn::'.length)}`;
    const text = name === 'Fn::GetAtt' && Array.isArray(arg) ? arg.join('.') : show(arg);
    return `${tag} ${text}`;
  }
  if (value === undefined) return 'missing';
  if (isMapping(value)) return 'a mapping';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function templateError(ctx: Context, message: string): LabError {
  return new LabError(TEMPLATE, `${ctx.label}: ${message}`);
}

/** Record a warning once: a Globals problem would otherwise repeat for every function. */
function warn(ctx: Context, message: string): void {
  if (!ctx.warnings.includes(message)) ctx.warnings.push(message);
}

function wrongValue(ctx: Context, path: string, value: unknown, accepted: string): LabError {
  const got = value === undefined ? 'is missing' : `is ${show(value)}`;
  return templateError(ctx, `${path} ${got}; accepted: ${accepted}`);
}

// ---------------------------------------------------------------------------------------------
// Intrinsic functions: only what needs no deployment

function resolveRef(target: unknown, path: string, ctx: Context): Resolution {
  if (typeof target !== 'string') throw wrongValue(ctx, path, { Ref: target }, '!Ref with a name');
  if (target === 'AWS::Region') return { ok: true, value: ctx.region };
  if (target.startsWith('AWS::')) return { ok: false, reason: `!Ref ${target} is known only once deployed` };
  const parameter = field(ctx.parameters, target);
  if (parameter !== undefined) {
    if (Object.hasOwn(ctx.overrides, target)) return { ok: true, value: ctx.overrides[target] };
    if (isMapping(parameter) && Object.hasOwn(parameter, 'Default'))
      return { ok: true, value: parameter.Default };
    return { ok: false, reason: `!Ref ${target} names a parameter with no Default` };
  }
  if (field(ctx.resources, target) !== undefined) {
    return { ok: false, reason: `!Ref ${target} names a resource, known only once deployed` };
  }
  // CloudFormation rejects such a template, so the lab does too rather than warn.
  throw templateError(
    ctx,
    `${path}: !Ref ${target} names no Parameter or Resource of the template; accepted: a Parameter, a Resource or AWS::Region`,
  );
}

/** Text a resolved scalar contributes to a string (CloudFormation stringifies numbers and booleans). */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function resolveSub(arg: unknown, path: string, ctx: Context): Resolution {
  const [template, variables] = Array.isArray(arg) ? arg : [arg, {}];
  if (typeof template !== 'string' || !isMapping(variables)) {
    throw wrongValue(ctx, path, { 'Fn::Sub': arg }, '!Sub "text" or !Sub ["text", {Name: value}]');
  }
  let failure: string | undefined;
  const text = template.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
    // `${!Name}` is CloudFormation's escape for a literal `${Name}`.
    if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
    const name = inner.trim();
    const resolution = Object.hasOwn(variables, name)
      ? resolveValue(variables[name], path, ctx)
      : name.includes('.')
        ? { ok: false as const, reason: `\${${name}} is known only once deployed` }
        : resolveRef(name, path, ctx);
    const value = resolution.ok ? asText(resolution.value) : undefined;
    if (!resolution.ok) failure ??= `!Sub: ${resolution.reason}`;
    else if (value === undefined) failure ??= `!Sub: \${${name}} is ${show(resolution.value)}, not text`;
    return value ?? whole;
  });
  return failure === undefined ? { ok: true, value: text } : { ok: false, reason: failure };
}

/** A plain value as is; `!Ref` and `!Sub` when the lab can evaluate them; otherwise why not. */
function resolveValue(value: unknown, path: string, ctx: Context): Resolution {
  const name = intrinsicName(value);
  if (name === undefined || !isMapping(value)) return { ok: true, value };
  const arg = field(value, name);
  if (name === 'Ref') return resolveRef(arg, path, ctx);
  if (name === 'Fn::Sub') return resolveSub(arg, path, ctx);
  return { ok: false, reason: `${show(value)} is evaluated only by CloudFormation` };
}

// ---------------------------------------------------------------------------------------------
// Function properties

/** A template value and the path that names it in messages. */
interface Located {
  value: unknown;
  path: string;
}

/** A function's own properties over Globals.Function. */
interface FunctionProps {
  own: Mapping;
  globals: Mapping;
  path: string;
}

/** Where a property comes from: the function's own value wins, else the global one (SAM's merge). */
function placeOf(props: FunctionProps, key: string): string {
  const global = !Object.hasOwn(props.own, key) && Object.hasOwn(props.globals, key);
  return global ? 'Globals.Function' : props.path;
}

/** A property after merging Globals, with the path of the place it came from. */
function prop(props: FunctionProps, key: string): Located {
  const place = placeOf(props, key);
  const from = place === props.path ? props.own : props.globals;
  return { value: field(from, key), path: `${place}.${key}` };
}

function child(parent: Located, key: string): Located {
  return {
    value: isMapping(parent.value) ? field(parent.value, key) : undefined,
    path: `${parent.path}.${key}`,
  };
}

/** A property that must resolve to a value; unresolvable intrinsics are errors. */
function requiredValue(p: Located, ctx: Context, accepted: string): unknown {
  if (p.value === undefined) throw wrongValue(ctx, p.path, p.value, accepted);
  const resolution = resolveValue(p.value, p.path, ctx);
  if (!resolution.ok) throw templateError(ctx, `${p.path}: ${resolution.reason}; accepted: ${accepted}`);
  return resolution.value;
}

/** A property the lab may leave at its default: an unresolvable intrinsic is a warning. */
function optionalValue(p: Located, ctx: Context): unknown {
  if (p.value === undefined) return undefined;
  const resolution = resolveValue(p.value, p.path, ctx);
  if (resolution.ok) return resolution.value;
  warn(ctx, `${p.path}: ${resolution.reason}; left out, the lab uses its default`);
  return undefined;
}

/** A whole number; decimal strings are accepted because CloudFormation parameters are strings. */
function asInteger(value: unknown, path: string, ctx: Context, accepted: string): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  throw wrongValue(ctx, path, value, accepted);
}

function optionalInteger(p: Located, ctx: Context, accepted: string): number | undefined {
  return asInteger(optionalValue(p, ctx), p.path, ctx, accepted);
}

/** A local directory from CodeUri or ContentUri; S3 locations are errors, the lab has no S3. */
function localDirectory(p: Located, ctx: Context): string {
  const accepted = 'a local directory path';
  const s3 = 'an S3 location; the lab runs local code only';
  if (isMapping(p.value) && intrinsicName(p.value) === undefined) {
    throw templateError(ctx, `${p.path} is ${s3}; accepted: ${accepted}`);
  }
  const value = requiredValue(p, ctx, accepted);
  if (typeof value !== 'string' || value === '') throw wrongValue(ctx, p.path, value, accepted);
  if (value.startsWith('s3://'))
    throw templateError(ctx, `${p.path} is ${JSON.stringify(value)}, ${s3}; accepted: ${accepted}`);
  return resolve(ctx.baseDir, value);
}

function readFunctionName(id: string, p: Located, ctx: Context): string {
  if (p.value === undefined) return id;
  const resolution = resolveValue(p.value, p.path, ctx);
  if (resolution.ok && typeof resolution.value === 'string') return resolution.value;
  const problem = resolution.ok ? ` is ${show(p.value)}, not text` : `: ${resolution.reason}`;
  warn(ctx, `${p.path}${problem}; the lab names the function ${JSON.stringify(id)}`);
  return id;
}

function readHandler(p: Located, ctx: Context): string {
  const accepted = 'FILE.EXPORT, e.g. "index.handler"';
  const value = requiredValue(p, ctx, accepted);
  if (typeof value !== 'string') throw wrongValue(ctx, p.path, value, accepted);
  return value;
}

function checkPackageType(p: Located, ctx: Context): void {
  const value = optionalValue(p, ctx);
  if (value !== undefined && value !== 'Zip') {
    throw wrongValue(ctx, p.path, value, '"Zip" (the lab runs code from a local directory, not an image)');
  }
}

function readRuntime(p: Located, ctx: Context): string | undefined {
  if (p.value === undefined) {
    warn(ctx, `${p.path} is not set; the lab uses nodejs20.x`);
    return undefined;
  }
  const value = optionalValue(p, ctx);
  if (value !== undefined && (typeof value !== 'string' || !NODE_RUNTIMES.includes(value))) {
    throw wrongValue(ctx, p.path, value, `${NODE_RUNTIMES.join(', ')} (the lab runs Node.js functions only)`);
  }
  return value;
}

/** The variables of one Environment property (the function's or the Globals'), each with its path. */
function variablesOf(environment: Located, ctx: Context): Array<[string, Located]> {
  if (environment.value === undefined) return [];
  if (!isMapping(environment.value))
    throw wrongValue(ctx, environment.path, environment.value, 'a mapping with Variables');
  for (const key of Object.keys(environment.value)) {
    if (key !== 'Variables') warn(ctx, `${environment.path}.${key} is not emulated by the lab; ignored`);
  }
  const variables = child(environment, 'Variables');
  if (variables.value === undefined) return [];
  if (!isMapping(variables.value))
    throw wrongValue(ctx, variables.path, variables.value, 'a mapping of names to values');
  return Object.keys(variables.value).map((name): [string, Located] => [name, child(variables, name)]);
}

function readEnvironment(props: FunctionProps, ctx: Context): Record<string, string> {
  // Variables merge key by key: a function's own value wins over the same key in Globals.
  const merged = new Map([
    ...variablesOf({ value: field(props.globals, 'Environment'), path: 'Globals.Function.Environment' }, ctx),
    ...variablesOf({ value: field(props.own, 'Environment'), path: `${props.path}.Environment` }, ctx),
  ]);
  const environment: Record<string, string> = {};
  for (const [name, p] of merged) {
    const resolution = resolveValue(p.value, p.path, ctx);
    if (!resolution.ok) {
      warn(ctx, `${p.path}: ${resolution.reason}; variable left out`);
      continue;
    }
    const text = asText(resolution.value);
    if (text === undefined)
      throw wrongValue(ctx, p.path, resolution.value, 'a string, number, boolean, !Ref or !Sub');
    setField(environment, name, text);
  }
  return environment;
}

/** The local directory of an AWS::Serverless::LayerVersion resource, or undefined with a warning. */
function layerResourceDirectory(target: string, itemPath: string, ctx: Context): string | undefined {
  const resource = { value: field(ctx.resources, target), path: `Resources.${target}` };
  const type = child(resource, 'Type').value;
  if (type !== LAYER_TYPE) {
    warn(
      ctx,
      `${itemPath}: !Ref ${target} names a ${String(type)}; the lab reads ${LAYER_TYPE} ContentUri only; left out`,
    );
    return undefined;
  }
  const props = child(resource, 'Properties');
  if (!isMapping(props.value)) throw wrongValue(ctx, props.path, props.value, 'a mapping with ContentUri');
  return localDirectory(child(props, 'ContentUri'), ctx);
}

function readLayer(item: Located, ctx: Context): string | undefined {
  const ref = intrinsicName(item.value) === 'Ref' ? child(item, 'Ref').value : undefined;
  if (typeof ref === 'string' && field(ctx.resources, ref) !== undefined) {
    return layerResourceDirectory(ref, item.path, ctx);
  }
  const resolution = resolveValue(item.value, item.path, ctx);
  if (!resolution.ok) {
    warn(ctx, `${item.path}: ${resolution.reason}; layer left out`);
    return undefined;
  }
  const value = resolution.value;
  const accepted = `a local directory, a layer ARN or !Ref to an ${LAYER_TYPE}`;
  if (typeof value !== 'string' || value === '') throw wrongValue(ctx, item.path, value, accepted);
  if (value.startsWith('arn:')) {
    warn(ctx, `${item.path} is a layer ARN (${value}); the lab cannot fetch remote layers; left out`);
    return undefined;
  }
  return resolve(ctx.baseDir, value);
}

function layersOf(layers: Located, ctx: Context): string[] {
  if (layers.value === undefined) return [];
  if (!Array.isArray(layers.value)) throw wrongValue(ctx, layers.path, layers.value, 'a list of layers');
  return layers.value.flatMap(
    (value: unknown, i) => readLayer({ value, path: `${layers.path}[${i}]` }, ctx) ?? [],
  );
}

function readLayers(props: FunctionProps, ctx: Context): string[] {
  // SAM adds lists up rather than replacing them: the Globals' layers come first.
  return [
    ...layersOf({ value: field(props.globals, 'Layers'), path: 'Globals.Function.Layers' }, ctx),
    ...layersOf({ value: field(props.own, 'Layers'), path: `${props.path}.Layers` }, ctx),
  ];
}

function readProvisioned(config: Located, ctx: Context): number | undefined {
  if (config.value === undefined) return undefined;
  if (!isMapping(config.value)) {
    throw wrongValue(ctx, config.path, config.value, 'a mapping with ProvisionedConcurrentExecutions');
  }
  const count = child(config, 'ProvisionedConcurrentExecutions');
  const accepted = 'a number of environments';
  return asInteger(requiredValue(count, ctx, accepted), count.path, ctx, accepted);
}

/** Path or Method of an API event, as text. */
function eventText(p: Located, ctx: Context, accepted: string): string {
  const value = requiredValue(p, ctx, accepted);
  if (typeof value !== 'string') throw wrongValue(ctx, p.path, value, accepted);
  return value;
}

function warnEventProperties(props: Located, ctx: Context): void {
  for (const key of Object.keys(isMapping(props.value) ? props.value : {})) {
    if (key !== 'Path' && key !== 'Method')
      warn(ctx, `${props.path}.${key} is not emulated by the lab; ignored`);
  }
}

function route(api: RouteDefinition['api'], props: Located, ctx: Context): RouteDefinition {
  return {
    api,
    path: eventText(child(props, 'Path'), ctx, 'a path starting with "/"'),
    method: eventText(child(props, 'Method'), ctx, 'an HTTP method or "any"').toUpperCase(),
  };
}

function readApiEvent(event: Located, ctx: Context): RouteDefinition {
  const props = child(event, 'Properties');
  if (!isMapping(props.value))
    throw wrongValue(ctx, props.path, props.value, 'a mapping with Path and Method');
  warnEventProperties(props, ctx);
  return route('rest', props, ctx);
}

function readHttpApiEvent(event: Located, ctx: Context): RouteDefinition {
  const props = child(event, 'Properties');
  props.value ??= {};
  if (!isMapping(props.value))
    throw wrongValue(ctx, props.path, props.value, 'a mapping with Path and Method, or none');
  warnEventProperties(props, ctx);
  const hasPath = field(props.value, 'Path') !== undefined;
  const hasMethod = field(props.value, 'Method') !== undefined;
  // Neither Path nor Method is SAM's catch-all route; one without the other is an error there too.
  if (!hasPath && !hasMethod) return { api: 'http', path: '$default', method: 'ANY' };
  if (hasPath !== hasMethod) {
    const missing = hasPath ? 'Method' : 'Path';
    throw templateError(
      ctx,
      `${props.path}.${missing} is missing; accepted: both Path and Method, or neither`,
    );
  }
  return route('http', props, ctx);
}

function readEvents(events: Located, ctx: Context): RouteDefinition[] {
  if (events.value === undefined) return [];
  if (!isMapping(events.value))
    throw wrongValue(ctx, events.path, events.value, 'a mapping of event names to events');
  const routes: RouteDefinition[] = [];
  for (const name of Object.keys(events.value)) {
    const event = child(events, name);
    if (!isMapping(event.value))
      throw wrongValue(ctx, event.path, event.value, 'a mapping with Type and Properties');
    const type = child(event, 'Type');
    if (typeof type.value !== 'string')
      throw wrongValue(ctx, type.path, type.value, 'an event type such as Api or HttpApi');
    if (type.value === 'Api') routes.push(readApiEvent(event, ctx));
    else if (type.value === 'HttpApi') routes.push(readHttpApiEvent(event, ctx));
    else warn(ctx, `${event.path} (Type: ${type.value}) is not emulated by the lab; ignored`);
  }
  return routes;
}

/** One warning per property the lab does not read; IAM and metadata grouped into one per place. */
function warnIgnoredProperties(props: FunctionProps, ctx: Context): void {
  const keys = [...new Set([...Object.keys(props.own), ...Object.keys(props.globals)])];
  const grouped = new Map<string, string[]>();
  for (const key of keys) {
    const place = placeOf(props, key);
    if (GROUPED_IGNORED_PROPERTIES.includes(key)) {
      grouped.set(place, [...(grouped.get(place) ?? []), key]);
    } else if (!HANDLED_PROPERTIES.has(key)) {
      warn(ctx, `${place}.${key} is not emulated by the lab; ignored`);
    }
  }
  for (const [place, names] of grouped) {
    warn(
      ctx,
      `${place}: ${names.join(', ')} are not emulated by the lab (no IAM or metadata locally); ignored`,
    );
  }
}

function readFunction(id: string, resource: Mapping, globals: Mapping, ctx: Context): FunctionDefinition {
  const path = `Resources.${id}.Properties`;
  const own = field(resource, 'Properties') ?? {};
  if (!isMapping(own)) throw wrongValue(ctx, path, own, 'a mapping with Handler and CodeUri');
  const props: FunctionProps = { own, globals, path };
  checkPackageType(prop(props, 'PackageType'), ctx);
  const count = 'a number of environments';
  const def: FunctionDefinition = {
    name: readFunctionName(id, prop(props, 'FunctionName'), ctx),
    handler: readHandler(prop(props, 'Handler'), ctx),
    codeDir: localDirectory(prop(props, 'CodeUri'), ctx),
    runtime: readRuntime(prop(props, 'Runtime'), ctx),
    timeoutSeconds: optionalInteger(prop(props, 'Timeout'), ctx, 'a number of seconds'),
    memoryMb: optionalInteger(prop(props, 'MemorySize'), ctx, 'a number of MB'),
    environment: readEnvironment(props, ctx),
    layers: readLayers(props, ctx),
    reservedConcurrency: optionalInteger(prop(props, 'ReservedConcurrentExecutions'), ctx, count),
    provisionedConcurrency: readProvisioned(prop(props, 'ProvisionedConcurrencyConfig'), ctx),
    routes: readEvents(prop(props, 'Events'), ctx),
  };
  warnIgnoredProperties(props, ctx);
  // Shared validation (directories exist, ranges, handler syntax); its errors name the function.
  return resolveFunction(def, ctx.baseDir);
}

// ---------------------------------------------------------------------------------------------
// The template

function checkTransform(template: Mapping, ctx: Context): void {
  const transform = field(template, 'Transform');
  const names = Array.isArray(transform) ? transform : [transform];
  if (!names.includes(SAM_TRANSFORM)) {
    warn(ctx, `Transform: ${SAM_TRANSFORM} is missing; the lab reads the template as SAM anyway`);
  }
}

function readGlobals(template: Mapping, ctx: Context): Mapping {
  const globals = field(template, 'Globals');
  if (globals === undefined) return {};
  if (!isMapping(globals)) throw wrongValue(ctx, 'Globals', globals, 'a mapping with Function');
  for (const key of Object.keys(globals)) {
    if (key !== 'Function') warn(ctx, `Globals.${key} is not emulated by the lab; ignored`);
  }
  const functionGlobals = field(globals, 'Function') ?? {};
  if (!isMapping(functionGlobals))
    throw wrongValue(ctx, 'Globals.Function', functionGlobals, 'a mapping of properties');
  return functionGlobals;
}

function readMapping(template: Mapping, key: string, ctx: Context): Mapping {
  const value = field(template, key) ?? {};
  if (!isMapping(value))
    throw wrongValue(ctx, key, value, `a mapping of logical ids to ${key.toLowerCase()}`);
  return value;
}

function readFunctions(globals: Mapping, ctx: Context): FunctionDefinition[] {
  const functions: FunctionDefinition[] = [];
  const owners = new Map<string, string>();
  for (const [id, resource] of Object.entries(ctx.resources)) {
    const type = isMapping(resource) ? field(resource, 'Type') : undefined;
    if (!isMapping(resource) || typeof type !== 'string') {
      throw wrongValue(
        ctx,
        `Resources.${id}.Type`,
        type,
        'a resource type such as AWS::Serverless::Function',
      );
    }
    if (type === LAYER_TYPE) continue; // read when a function refers to it
    if (type !== FUNCTION_TYPE) {
      warn(ctx, `Resources.${id} (${type}) is not emulated by the lab; ignored`);
      continue;
    }
    if (field(resource, 'Condition') !== undefined) {
      warn(ctx, `Resources.${id}.Condition is not evaluated by the lab; the function is always served`);
    }
    const fn = readFunction(id, resource, globals, ctx);
    const owner = owners.get(fn.name);
    if (owner !== undefined) {
      throw templateError(
        ctx,
        `Resources.${id} is named ${JSON.stringify(fn.name)}, like Resources.${owner}; accepted: unique function names`,
      );
    }
    owners.set(fn.name, id);
    functions.push(fn);
  }
  return functions;
}

/** Read the functions of SAM template text; relative CodeUri and ContentUri resolve against `baseDir`. */
export function parseSamTemplate(
  text: string,
  baseDir: string,
  fileLabel = 'template',
  options: SamTemplateOptions = {},
): LoadedTemplate {
  const parsed = parseCloudFormationYaml(text, fileLabel);
  const template = parsed.value;
  const accepted = 'a SAM template (a mapping with Resources)';
  if (!isMapping(template)) {
    const kind = Array.isArray(template)
      ? 'a list'
      : template == null
        ? 'empty'
        : `the scalar ${show(template)}`;
    throw new LabError(TEMPLATE, `${fileLabel}: the top level is ${kind}; accepted: ${accepted}`);
  }
  const ctx: Context = {
    label: fileLabel,
    baseDir: resolve(baseDir),
    region: options.region ?? DEFAULT_REGION,
    overrides: options.parameterOverrides ?? {},
    parameters: {},
    resources: {},
    warnings: parsed.warnings,
  };
  if (field(template, 'Resources') === undefined) throw wrongValue(ctx, 'Resources', undefined, accepted);
  ctx.parameters = readMapping(template, 'Parameters', ctx);
  ctx.resources = readMapping(template, 'Resources', ctx);
  checkTransform(template, ctx);
  const globals = readGlobals(template, ctx);
  const functions = readFunctions(globals, ctx);
  if (functions.length === 0) {
    throw templateError(
      ctx,
      `Resources has no ${FUNCTION_TYPE}; accepted: a template with at least one function`,
    );
  }
  return { functions, warnings: ctx.warnings };
}

/** Why a template file could not be read, in words. */
function readFailure(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'is not readable (permission denied)';
  return `could not be read (${code})`;
}

/** Read a SAM template file; relative CodeUri and ContentUri resolve against the file's directory. */
export function loadSamTemplate(file: string, options: SamTemplateOptions = {}): LoadedTemplate {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LabError(
      TEMPLATE,
      `SAM template ${JSON.stringify(file)} ${readFailure(err)}; accepted: a readable YAML or JSON file`,
      { cause: err },
    );
  }
  return parseSamTemplate(text, dirname(path), file, options);
}
