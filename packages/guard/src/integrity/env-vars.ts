/**
 * The 'env' detector: `process.env`.
 *
 * Threat: the environment steers code the function runs later without touching any function —
 * `AWS_ENDPOINT_URL_S3` or `HTTPS_PROXY` send the SDK's signed requests (and the data) to the
 * attacker, `NODE_OPTIONS`/`LD_PRELOAD` reach every child process, `AWS_ACCESS_KEY_ID` swaps the
 * identity the function acts as, `NODE_TLS_REJECT_UNAUTHORIZED=0` opens every TLS connection to
 * interception. So every added, removed or changed variable is drift, except the few the runtime
 * itself changes per invocation (`RUNTIME_MANAGED_ENV`).
 *
 * Secrets: drifts name the variable, never its value (credentials live here). Variables that steer
 * credentials, endpoints, proxies, TLS or code loading carry `detail.sensitive = true` and a category.
 *
 * `process.env` itself is watched too: replacing it with a plain object or a Proxy is drift.
 */
import type { Detector, Drift } from './detector.js';
import { makeDrift as makeDriftImport, printable as printableImport } from './object-surfaces.js';
import { primordials } from './primordials.js';

const {
  ReflectOwnKeys,
  ReflectGetOwnPropertyDescriptor,
  ObjectFreeze,
  ObjectHasOwn,
  Map: SafeMap,
  Set: SafeSet,
  mapGet,
  mapHas,
  mapSet,
  mapForEach,
  setAdd,
  setHas,
  appendItem,
  newList,
  stringStartsWith,
  stringEndsWith,
  stringToUpperCase,
  process: processObject,
  processEnv,
} = primordials;
// Bound at load, like the primordials: a later write to object-surfaces.js's exports must not reach here.
const makeDrift = makeDriftImport;
const printable = printableImport;

/** Variables the Lambda runtime legitimately sets, changes or deletes after INIT. */
export const RUNTIME_MANAGED_ENV: readonly { readonly name: string; readonly why: string }[] = ObjectFreeze([
  {
    name: '_X_AMZN_TRACE_ID',
    why: "the runtime client sets it from each invocation's X-Ray header and deletes it when there is none",
  },
]);

/** Why a variable is sensitive (the drift's `detail.category`). */
export type EnvCategory = 'credentials' | 'endpoint' | 'proxy' | 'tls' | 'code-loading' | 'identity';

/** Exact names that steer credentials, TLS or code loading. */
const SENSITIVE_NAMES: Readonly<Record<string, EnvCategory>> = ObjectFreeze({
  AWS_ACCESS_KEY_ID: 'credentials',
  AWS_SECRET_ACCESS_KEY: 'credentials',
  AWS_SESSION_TOKEN: 'credentials',
  AWS_SECURITY_TOKEN: 'credentials',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'credentials',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: 'credentials',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'credentials',
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: 'credentials',
  AWS_WEB_IDENTITY_TOKEN_FILE: 'credentials',
  AWS_ROLE_ARN: 'credentials',
  AWS_PROFILE: 'credentials',
  AWS_SHARED_CREDENTIALS_FILE: 'credentials',
  AWS_CONFIG_FILE: 'credentials',
  AWS_EC2_METADATA_SERVICE_ENDPOINT: 'endpoint',
  AWS_REGION: 'identity',
  AWS_DEFAULT_REGION: 'identity',
  AWS_CA_BUNDLE: 'tls',
  NODE_EXTRA_CA_CERTS: 'tls',
  NODE_TLS_REJECT_UNAUTHORIZED: 'tls',
  SSL_CERT_FILE: 'tls',
  SSL_CERT_DIR: 'tls',
  NODE_OPTIONS: 'code-loading',
  NODE_PATH: 'code-loading',
  LD_PRELOAD: 'code-loading',
  LD_LIBRARY_PATH: 'code-loading',
  AWS_LAMBDA_EXEC_WRAPPER: 'code-loading',
  _HANDLER: 'code-loading',
  LAMBDA_TASK_ROOT: 'code-loading',
  LAMBDA_RUNTIME_DIR: 'code-loading',
});

/** The category of a sensitive variable, or undefined. Prefix and suffix rules cover families. */
export function sensitiveCategory(name: string): EnvCategory | undefined {
  const exact = ObjectHasOwn(SENSITIVE_NAMES, name) ? SENSITIVE_NAMES[name] : undefined;
  if (exact !== undefined) return exact;
  const upper = stringToUpperCase(name);
  // AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, …: where every SDK call (and its signature) goes.
  if (stringStartsWith(upper, 'AWS_ENDPOINT_URL')) return 'endpoint';
  // HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, in either case.
  if (stringEndsWith(upper, '_PROXY')) return 'proxy';
  if (stringStartsWith(upper, 'LD_')) return 'code-loading';
  return undefined;
}

/** Options for tests and composing. */
export interface EnvVarsOptions {
  /** Further names the function itself changes at invoke time (documented by the user). */
  readonly allow?: readonly string[];
  /** The environment object to watch (default: `process.env`, captured when the guard loaded). */
  readonly env?: NodeJS.ProcessEnv;
}

const DETECTOR = 'env';

function envPath(name: string): string {
  return `process.env.${printable(name)}`;
}

function readValue(env: object, name: string): string | undefined {
  const descriptor = ReflectGetOwnPropertyDescriptor(env, name);
  if (descriptor === undefined || !ObjectHasOwn(descriptor, 'value')) return undefined;
  return typeof descriptor.value === 'string' ? descriptor.value : undefined;
}

function drift(name: string, change: 'added' | 'removed' | 'changed'): Drift {
  const category = sensitiveCategory(name);
  return makeDrift(
    envPath(name),
    'env',
    DETECTOR,
    category === undefined ? { change } : { change, sensitive: true, category },
  );
}

/**
 * The detector over the process environment.
 *
 * @example
 *   const env = createEnvVarsDetector();
 *   env.baseline();
 *   process.env.AWS_ENDPOINT_URL_S3 = 'http://attacker';
 *   env.check(); // [{ path: 'process.env.AWS_ENDPOINT_URL_S3', kind: 'env', detector: 'env', detail: { change: 'added', sensitive: true, category: 'endpoint' } }]
 */
export function createEnvVarsDetector(options: EnvVarsOptions = {}): Detector {
  const env: object = options.env ?? processEnv;
  const ignored = new SafeSet<string>();
  for (let i = 0; i < RUNTIME_MANAGED_ENV.length; i++)
    setAdd(ignored, (RUNTIME_MANAGED_ENV[i] as { name: string }).name);
  const allow = options.allow ?? [];
  for (let i = 0; i < allow.length; i++) setAdd(ignored, allow[i] as string);

  let values = new SafeMap<string, string | undefined>();
  let baselineTaken = false;

  function baseline(): void {
    values = new SafeMap();
    const names = ReflectOwnKeys(env);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (typeof name !== 'string' || setHas(ignored, name)) continue;
      mapSet(values, name, readValue(env, name));
    }
    baselineTaken = true;
  }

  function check(): Drift[] {
    const out = newList<Drift>();
    if (!baselineTaken) return out;
    try {
      // The object every library reads as `process.env`: swapped for a plain object or a Proxy, it
      // answers whatever the implant wants (and the real one no longer matters).
      if (options.env === undefined) {
        const slot = ReflectGetOwnPropertyDescriptor(processObject, 'env');
        if (slot === undefined || !ObjectHasOwn(slot, 'value') || slot.value !== env) {
          appendItem(
            out,
            makeDrift('process.env', 'replaced', DETECTOR, { sensitive: true, category: 'code-loading' }),
          );
        }
      }
      const names = ReflectOwnKeys(env);
      const seen = new SafeSet<string>();
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        if (typeof name !== 'string' || setHas(ignored, name)) continue;
        setAdd(seen, name);
        const value = readValue(env, name);
        const known = mapGet(values, name);
        if (known === undefined && !mapHas(values, name)) appendItem(out, drift(name, 'added'));
        else if (known !== value) appendItem(out, drift(name, 'changed'));
      }
      mapForEach(values, (_value, name) => {
        if (!setHas(seen, name)) appendItem(out, drift(name, 'removed'));
      });
    } catch {
      appendItem(out, makeDrift('process.env', 'fault', DETECTOR));
    }
    return out;
  }

  return ObjectFreeze({ name: DETECTOR, baseline, check });
}
