import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LabError } from './errors.js';

/** One API Gateway route that invokes a function. */
export interface RouteDefinition {
  /** `rest` builds REST API (payload v1) events; `http` builds HTTP API (payload 2.0) events. */
  api: 'rest' | 'http';
  /** Upper-case HTTP method or `ANY`. */
  method: string;
  /** Path template (`/items/{id}`, `/{proxy+}`), or `$default` for an HTTP API catch-all. */
  path: string;
}

/** A function as the lab deploys it: the subset of Lambda's configuration that changes behaviour. */
export interface FunctionDefinition {
  name: string;
  /** Directory holding the function code (Lambda's /var/task). */
  codeDir: string;
  /** `file.export`, resolved by the runtime client with Lambda's rules. */
  handler: string;
  /** Lambda runtime identifier; only nodejs runtimes are run. Default `nodejs20.x`. */
  runtime?: string;
  /** Invocation timeout in seconds (Lambda: 1–900, default 3). */
  timeoutSeconds?: number;
  /** Memory size in MB (Lambda: 128–10240, default 128). */
  memoryMb?: number;
  /** The function's own environment variables. */
  environment?: Record<string, string>;
  /** Layer directories, merged in order into the environment's /opt. */
  layers?: string[];
  /** Maximum concurrent environments of this function; beyond it invocations get 429. */
  reservedConcurrency?: number;
  /** Environments initialised at lab start (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency). */
  provisionedConcurrency?: number;
  /** API Gateway routes that invoke this function. */
  routes?: RouteDefinition[];
}

/** A validated definition with every default filled in. */
export interface ResolvedFunction extends Required<Omit<FunctionDefinition, 'reservedConcurrency'>> {
  reservedConcurrency: number | undefined;
}

/** Variables Lambda reserves: a function may not set them (Lambda rejects such a configuration). */
export const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

const SUPPORTED_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const HANDLER_PATTERN = /^[^\s]+\.[^\s.]+$/;
const METHODS = ['ANY', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function fail(name: string, key: string, value: unknown, accepted: string): never {
  throw new LabError(
    'EPHEMERA_ERR_LAB_CONFIG',
    `function ${JSON.stringify(name)}: ${key} is ${JSON.stringify(value)}; accepted: ${accepted}`,
  );
}

function integerIn(name: string, key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, key, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function existingDir(name: string, key: string, dir: unknown, base: string): string {
  if (typeof dir !== 'string' || dir === '') fail(name, key, dir, 'a directory path');
  const abs = isAbsolute(dir) ? dir : resolve(base, dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CODE_DIR',
      `function ${JSON.stringify(name)}: ${key} ${JSON.stringify(abs)} is not a directory`,
    );
  }
  return abs;
}

/** Validate a definition, resolve paths against `base`, and fill in Lambda's defaults. */
export function resolveFunction(def: FunctionDefinition, base = process.cwd()): ResolvedFunction {
  if (def === null || typeof def !== 'object') {
    throw new LabError('EPHEMERA_ERR_LAB_CONFIG', 'a function definition must be an object');
  }
  const name = def.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    fail(String(name), 'name', name, '1–64 letters, digits, "-" or "_"');
  }
  if (typeof def.handler !== 'string' || !HANDLER_PATTERN.test(def.handler)) {
    fail(name, 'handler', def.handler, 'FILE.EXPORT, e.g. "index.handler" or "src/app.main"');
  }
  const runtime = def.runtime ?? 'nodejs20.x';
  if (!SUPPORTED_RUNTIMES.includes(runtime)) fail(name, 'runtime', runtime, SUPPORTED_RUNTIMES.join(', '));
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(def.environment ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key))
      fail(name, 'environment key', key, 'a letter, then letters, digits, "_"');
    if (RESERVED_VARIABLES.has(key)) fail(name, 'environment key', key, 'any name Lambda does not reserve');
    if (typeof value !== 'string') fail(name, `environment.${key}`, value, 'a string');
    environment[key] = value;
  }
  const routes = (def.routes ?? []).map((route, i) => {
    if (route.api !== 'rest' && route.api !== 'http')
      fail(name, `routes[${i}].api`, route.api, '"rest" or "http"');
    const method = String(route.method ?? 'ANY').toUpperCase();
    if (!METHODS.includes(method)) fail(name, `routes[${i}].method`, route.method, METHODS.join(', '));
    const ok =
      route.path === '$default'
        ? route.api === 'http'
        : typeof route.path === 'string' && route.path.startsWith('/');
    if (!ok)
      fail(name, `routes[${i}].path`, route.path, 'a path starting with "/" (or "$default" for an HTTP API)');
    return { api: route.api, method, path: route.path };
  });
  const reserved =
    def.reservedConcurrency === undefined
      ? undefined
      : integerIn(name, 'reservedConcurrency', def.reservedConcurrency, 0, 1000);
  return {
    name,
    codeDir: existingDir(name, 'codeDir', def.codeDir, base),
    handler: def.handler,
    runtime,
    timeoutSeconds:
      def.timeoutSeconds === undefined ? 3 : integerIn(name, 'timeoutSeconds', def.timeoutSeconds, 1, 900),
    memoryMb: def.memoryMb === undefined ? 128 : integerIn(name, 'memoryMb', def.memoryMb, 128, 10240),
    environment,
    layers: (def.layers ?? []).map((dir, i) => existingDir(name, `layers[${i}]`, dir, base)),
    reservedConcurrency: reserved,
    provisionedConcurrency:
      def.provisionedConcurrency === undefined
        ? 0
        : integerIn(name, 'provisionedConcurrency', def.provisionedConcurrency, 0, reserved ?? 1000),
    routes,
  };
}
