/**
 * The guard's policy: the schema as data (`POLICY_SCHEMA`, `POLICY_ENV_VARIABLES`) and one resolver
 * that reads it (`resolvePolicy`). docs/configuration.md ("Guard policy", "Environment variables") is
 * written from these tables; a test keeps the two in sync.
 *
 * What this module guarantees:
 * - Loud configuration. An unknown key, an unknown `EPHEMERA_*` variable or a bad value throws
 *   EPHEMERA_ERR_POLICY naming the key or variable, the value and what is accepted. A guard that ignored
 *   `egres: 'off'` or `EPHEMERA_EGRES=alert` would run a policy nobody wrote.
 * - Safe defaults. With no configuration every control blocks; the weaker actions are spelled out.
 * - Resolved once (at init, never per invocation), then deep-frozen: controls read frozen data, and code
 *   that runs later (an implant included) cannot loosen the policy by mutating it.
 * - The telemetry token never appears in an error message or in `summarisePolicy`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { GuardError } from './errors.js';

export const ACTIONS = ['block', 'alert', 'off'] as const;
/** What a control does when it sees what it guards against. */
export type Action = (typeof ACTIONS)[number];
export const INTEGRITY_ACTIONS = ['recycle', 'alert', 'off'] as const;
export type IntegrityAction = (typeof INTEGRITY_ACTIONS)[number];
export const EGRESS_ACTIONS = ['block', 'alert', 'learn', 'off'] as const;
export type EgressAction = (typeof EGRESS_ACTIONS)[number];
export const HARDEN_SETTINGS = ['off', 'builtins', 'ses'] as const;
/** What `integrity.harden` freezes at the end of INIT. */
export type HardenSetting = (typeof HARDEN_SETTINGS)[number];
export const INIT_PATCH_ACTIONS = ['block', 'alert', 'off'] as const;
/** What `integrity.initPatches` does with a patch made at INIT by a package not in `initPatchesAllow`. */
export type InitPatchAction = (typeof INIT_PATCH_ACTIONS)[number];
/**
 * Packages known to patch the runtime at INIT on purpose (APM and tracing agents): the default of
 * `integrity.initPatchesAllow`. A glob `@scope/*` matches every package of the scope.
 */
export const APM_PACKAGES: readonly string[] = Object.freeze([
  'dd-trace',
  'aws-xray-sdk-core',
  'aws-xray-sdk',
  '@opentelemetry/*',
  '@aws-lambda-powertools/*',
  'newrelic',
  'elastic-apm-node',
  '@sentry/*',
  '@datadog/*',
]);

/** A fully resolved policy: every field present, every control in object form with an explicit action. */
export interface Policy {
  readonly mode: Action;
  readonly codegen: { readonly action: Action; readonly nodeFlag: boolean };
  readonly integrity: {
    readonly action: IntegrityAction;
    readonly harden: HardenSetting;
    readonly initPatches: InitPatchAction;
    readonly initPatchesAllow: readonly string[];
  };
  readonly lifecycle: {
    readonly maxAgeSeconds: number | null;
    readonly maxInvocations: number | null;
    readonly jitter: number;
    readonly cleanTmp: boolean;
  };
  readonly egress: {
    readonly action: EgressAction;
    readonly allow: readonly string[];
    readonly packages: readonly string[];
  };
  readonly fs: {
    readonly action: Action;
    readonly read: readonly string[];
    readonly write: readonly string[];
    readonly readSource: boolean;
  };
  readonly childProcess: {
    readonly action: Action;
    readonly allow: readonly string[];
    readonly packages: readonly string[];
  };
  readonly internals: { readonly action: Action };
  readonly firewall: { readonly action: Action };
  readonly telemetry: {
    readonly stdout: boolean;
    readonly emf: boolean;
    readonly endpoint: string | null;
    readonly token: string | null;
    readonly maxBuffer: number;
    readonly batchSize: number;
    readonly invocations: boolean;
  };
  readonly failClosed: boolean;
  readonly nodePermissions: boolean;
}

export type ControlName = Exclude<keyof Policy, 'mode' | 'failClosed' | 'nodePermissions'>;

/**
 * What users may write (the JSON-compatible contract). `resolvePolicy` accepts `unknown` and validates
 * it against this shape; a resolved `Policy` is itself a valid input. An `undefined` value counts as absent.
 */
export type PolicyInput = {
  mode?: Action;
  codegen?: Action | { action?: Action; nodeFlag?: boolean };
  integrity?:
    | IntegrityAction
    | {
        action?: IntegrityAction;
        harden?: HardenSetting;
        initPatches?: InitPatchAction;
        initPatchesAllow?: readonly string[];
      };
  lifecycle?:
    | 'off'
    | { maxAgeSeconds?: number | null; maxInvocations?: number | null; jitter?: number; cleanTmp?: boolean };
  egress?: EgressAction | { action?: EgressAction; allow?: readonly string[]; packages?: readonly string[] };
  fs?:
    | Action
    | { action?: Action; read?: readonly string[]; write?: readonly string[]; readSource?: boolean };
  childProcess?: Action | { action?: Action; allow?: readonly string[]; packages?: readonly string[] };
  internals?: Action | { action?: Action };
  firewall?: Action | { action?: Action };
  telemetry?:
    | 'off'
    | {
        stdout?: boolean;
        emf?: boolean;
        endpoint?: string | null;
        token?: string | null;
        maxBuffer?: number;
        batchSize?: number;
        invocations?: boolean;
      };
  failClosed?: boolean;
  nodePermissions?: boolean;
};

// ---------------------------------------------------------------------------------------------------
// The schema (data)
// ---------------------------------------------------------------------------------------------------

type PolicyValue = string | number | boolean | null | readonly string[];

/** How one value is checked. `describeRule` turns a rule into the "accepted" text of errors and docs. */
export type FieldRule =
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'boolean' }
  | {
      readonly kind: 'integer';
      readonly min: number;
      readonly max: number | null;
      readonly nullMeans: string | null;
    }
  | { readonly kind: 'fraction' }
  | { readonly kind: 'url' }
  | { readonly kind: 'secret' }
  | { readonly kind: 'list'; readonly of: ListItemKind };

/** What a list holds: destinations (egress), paths (fs, executables) or npm package names/globs. */
export type ListItemKind = 'destination' | 'path' | 'package';

export interface FieldSpec {
  readonly rule: FieldRule;
  readonly default: PolicyValue;
  readonly doc: string;
}

/**
 * A top-level key is one of three kinds:
 * - `setting`: a single value (`mode`, `failClosed`);
 * - `control`: an object with an `action` (default taken from `mode` through `fromMode`) and fields;
 *   a bare action string is shorthand for `{ action }`;
 * - `group`: an object of fields without an action (`lifecycle`, `telemetry`); `"off"` sets `off`.
 */
export type KeySpec =
  | ({ readonly kind: 'setting' } & FieldSpec)
  | {
      readonly kind: 'control';
      readonly actions: readonly string[];
      readonly fromMode: Readonly<Record<Action, string>>;
      readonly fields: Readonly<Record<string, FieldSpec>>;
      readonly doc: string;
    }
  | {
      readonly kind: 'group';
      readonly off: Readonly<Record<string, PolicyValue>>;
      readonly fields: Readonly<Record<string, FieldSpec>>;
      readonly doc: string;
    };

const SAME_AS_MODE = { block: 'block', alert: 'alert', off: 'off' } as const;
const DEFAULT_MODE: Action = 'block'; // safe default: with nothing configured, every control blocks

/** The policy schema, in documentation order. Typed against `Policy` so no key can be missing. */
export const POLICY_SCHEMA: Readonly<Record<keyof Policy, KeySpec>> = deepFreeze({
  mode: {
    kind: 'setting',
    rule: { kind: 'enum', values: ACTIONS },
    default: DEFAULT_MODE,
    doc: 'default action of every control not given one',
  },
  codegen: {
    kind: 'control',
    actions: ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {
      nodeFlag: {
        rule: { kind: 'boolean' },
        default: false,
        doc: "exec-wrapper mode: also start Node with --disallow-code-generation-from-strings (refuses all eval/Function string-to-code, at INIT too and through references taken before the hooks: breaks ajv, lodash.template and the guard's own data-literal allowance)",
      },
    },
    doc: 'code generation from strings at invoke time (eval, Function, vm)',
  },
  integrity: {
    kind: 'control',
    actions: INTEGRITY_ACTIONS,
    fromMode: { block: 'recycle', alert: 'alert', off: 'off' },
    fields: {
      harden: {
        rule: { kind: 'enum', values: HARDEN_SETTINGS },
        default: 'off',
        doc: 'at the end of INIT, freeze the intrinsics, built-in module exports and global bindings (`builtins`), or run SES lockdown() (`ses`, needs the `ses` package installed)',
      },
      initPatches: {
        rule: { kind: 'enum', values: INIT_PATCH_ACTIONS },
        default: 'alert',
        doc: 'register/exec-wrapper modes: what to do when a package not in `initPatchesAllow` patched a watched surface while the function initialised (`block` refuses to start the function with EPHEMERA_ERR_INIT_PATCH, so it is opt-in)',
      },
      initPatchesAllow: {
        rule: { kind: 'list', of: 'package' },
        default: APM_PACKAGES,
        doc: 'packages allowed to patch the runtime at INIT (default: APM and tracing agents)',
      },
    },
    doc: 'after each invocation, compare the runtime with the baseline taken at init; recycle on drift',
  },
  lifecycle: {
    kind: 'group',
    off: { maxAgeSeconds: null, maxInvocations: null },
    fields: {
      maxAgeSeconds: {
        rule: { kind: 'integer', min: 1, max: null, nullMeans: 'no age limit' },
        default: 1800,
        doc: 'recycle the environment after this many seconds of life',
      },
      maxInvocations: {
        rule: { kind: 'integer', min: 1, max: null, nullMeans: 'no invocation limit' },
        default: 10000,
        doc: 'recycle the environment after this many invocations',
      },
      jitter: {
        rule: { kind: 'fraction' },
        default: 0.1,
        doc: 'random spread of each limit, as a fraction of it, so environments started together do not recycle together',
      },
      cleanTmp: {
        rule: { kind: 'boolean' },
        default: true,
        doc: 'empty /tmp on every recycle, whichever control asked for it',
      },
    },
    doc: 'control ephemerality: recycle environments that lived too long or served too many invocations',
  },
  egress: {
    kind: 'control',
    actions: EGRESS_ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {
      allow: {
        rule: { kind: 'list', of: 'destination' },
        default: ['*.amazonaws.com'],
        doc: 'destinations the function may connect to',
      },
      packages: {
        rule: { kind: 'list', of: 'package' },
        default: ['*'],
        doc: "packages whose code may open connections (decided from the stack at connect time, only when this is not `['*']`); the function's own code always may",
      },
    },
    doc: 'outbound network connections',
  },
  fs: {
    kind: 'control',
    actions: ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {
      read: {
        rule: { kind: 'list', of: 'path' },
        default: ['/'],
        doc: "paths the function may read after INIT (always refused: /proc/self/environ, /proc/self/mem and, unless `readSource`, the function's own code)",
      },
      write: {
        rule: { kind: 'list', of: 'path' },
        default: ['/tmp'],
        doc: 'paths the function may write, create, rename or delete',
      },
      readSource: {
        rule: { kind: 'boolean' },
        default: false,
        doc: "allow reading the function's own code (LAMBDA_TASK_ROOT, /opt) after INIT",
      },
    },
    doc: 'file-system access an implant needs',
  },
  childProcess: {
    kind: 'control',
    actions: ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {
      allow: {
        rule: { kind: 'list', of: 'path' },
        default: [],
        doc: 'executables the function may start',
      },
      packages: {
        rule: { kind: 'list', of: 'package' },
        default: ['*'],
        doc: "packages whose code may start processes at all, INIT included (decided from the stack at the call, only when this is not `['*']`); the function's own code always may",
      },
    },
    doc: 'starting child processes',
  },
  internals: {
    kind: 'control',
    actions: ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {},
    doc: 'inspector sessions, eval workers, native addons loaded after INIT, process.binding',
  },
  firewall: {
    kind: 'control',
    actions: ACTIONS,
    fromMode: SAME_AS_MODE,
    fields: {},
    doc: 'hostile event payloads (executable structure where the function expects data)',
  },
  telemetry: {
    kind: 'group',
    off: { stdout: false, emf: false, endpoint: null, invocations: false },
    fields: {
      stdout: { rule: { kind: 'boolean' }, default: true, doc: 'write each event as a JSON line on stdout' },
      emf: { rule: { kind: 'boolean' }, default: false, doc: 'also write CloudWatch EMF metrics' },
      endpoint: {
        rule: { kind: 'url' },
        default: null,
        doc: 'HTTP sink (e.g. the correlator), flushed off the latency path',
      },
      token: { rule: { kind: 'secret' }, default: null, doc: 'bearer token sent to the endpoint' },
      maxBuffer: {
        rule: { kind: 'integer', min: 1, max: 100000, nullMeans: null },
        default: 1000,
        doc: 'most events held in memory for the endpoint',
      },
      batchSize: {
        rule: { kind: 'integer', min: 1, max: 10000, nullMeans: null },
        default: 100,
        doc: 'events per request to the endpoint',
      },
      invocations: {
        rule: { kind: 'boolean' },
        default: false,
        doc: "one `invocation` event per request (source IP and body size), for the correlator's keep-warm rule; off by default (one log line per request)",
      },
    },
    doc: 'where events go',
  },
  failClosed: {
    kind: 'setting',
    rule: { kind: 'boolean' },
    default: false,
    doc: 'when the guard itself fails, fail the invocation instead of letting it run unprotected',
  },
  nodePermissions: {
    kind: 'setting',
    rule: { kind: 'boolean' },
    default: true,
    doc: 'exec-wrapper mode: also start Node with its permission model, flags derived from the fs, childProcess and internals controls that block (writes, child processes, workers; process.binding and the inspector always refused), enforced by Node itself',
  },
});

/** How an environment variable's text becomes a value (then checked by the rule at its `path`). */
export type EnvParse = 'policy' | 'enum' | 'limit' | 'fraction' | 'boolean' | 'list' | 'url' | 'secret';

export interface PolicyEnvVariable {
  readonly variable: string;
  /** Dotted policy path it sets; `null` for EPHEMERA_POLICY, which holds a whole policy. */
  readonly path: string | null;
  readonly parse: EnvParse;
  readonly doc: string;
}

/** Every variable the policy reads. Per-key variables override EPHEMERA_POLICY. */
export const POLICY_ENV_VARIABLES: readonly PolicyEnvVariable[] = deepFreeze([
  {
    variable: 'EPHEMERA_POLICY',
    path: null,
    parse: 'policy',
    doc: 'a whole policy: inline JSON or a JSON file path',
  },
  { variable: 'EPHEMERA_MODE', path: 'mode', parse: 'enum', doc: 'mode' },
  { variable: 'EPHEMERA_CODEGEN', path: 'codegen.action', parse: 'enum', doc: 'codegen action' },
  {
    variable: 'EPHEMERA_CODEGEN_NODE_FLAG',
    path: 'codegen.nodeFlag',
    parse: 'boolean',
    doc: 'codegen Node flag',
  },
  { variable: 'EPHEMERA_INTEGRITY', path: 'integrity.action', parse: 'enum', doc: 'integrity action' },
  { variable: 'EPHEMERA_HARDEN', path: 'integrity.harden', parse: 'enum', doc: 'integrity hardening' },
  {
    variable: 'EPHEMERA_INIT_PATCHES',
    path: 'integrity.initPatches',
    parse: 'enum',
    doc: 'init-time patches action',
  },
  {
    variable: 'EPHEMERA_INIT_PATCHES_ALLOW',
    path: 'integrity.initPatchesAllow',
    parse: 'list',
    doc: 'init-time patches allow-list',
  },
  {
    variable: 'EPHEMERA_MAX_AGE_SECONDS',
    path: 'lifecycle.maxAgeSeconds',
    parse: 'limit',
    doc: 'lifecycle age limit',
  },
  {
    variable: 'EPHEMERA_MAX_INVOCATIONS',
    path: 'lifecycle.maxInvocations',
    parse: 'limit',
    doc: 'lifecycle invocation limit',
  },
  { variable: 'EPHEMERA_JITTER', path: 'lifecycle.jitter', parse: 'fraction', doc: 'lifecycle jitter' },
  {
    variable: 'EPHEMERA_CLEAN_TMP',
    path: 'lifecycle.cleanTmp',
    parse: 'boolean',
    doc: 'empty /tmp on recycle',
  },
  { variable: 'EPHEMERA_EGRESS', path: 'egress.action', parse: 'enum', doc: 'egress action' },
  { variable: 'EPHEMERA_EGRESS_ALLOW', path: 'egress.allow', parse: 'list', doc: 'egress allow-list' },
  {
    variable: 'EPHEMERA_EGRESS_PACKAGES',
    path: 'egress.packages',
    parse: 'list',
    doc: 'packages allowed to connect',
  },
  { variable: 'EPHEMERA_FS', path: 'fs.action', parse: 'enum', doc: 'fs action' },
  { variable: 'EPHEMERA_FS_READ', path: 'fs.read', parse: 'list', doc: 'fs read allow-list' },
  { variable: 'EPHEMERA_FS_WRITE', path: 'fs.write', parse: 'list', doc: 'fs write allow-list' },
  {
    variable: 'EPHEMERA_CHILD_PROCESS',
    path: 'childProcess.action',
    parse: 'enum',
    doc: 'childProcess action',
  },
  {
    variable: 'EPHEMERA_CHILD_PROCESS_ALLOW',
    path: 'childProcess.allow',
    parse: 'list',
    doc: 'childProcess allow-list',
  },
  {
    variable: 'EPHEMERA_CHILD_PROCESS_PACKAGES',
    path: 'childProcess.packages',
    parse: 'list',
    doc: 'packages allowed to start processes',
  },
  { variable: 'EPHEMERA_INTERNALS', path: 'internals.action', parse: 'enum', doc: 'internals action' },
  { variable: 'EPHEMERA_FIREWALL', path: 'firewall.action', parse: 'enum', doc: 'firewall action' },
  {
    variable: 'EPHEMERA_TELEMETRY_STDOUT',
    path: 'telemetry.stdout',
    parse: 'boolean',
    doc: 'events on stdout',
  },
  { variable: 'EPHEMERA_TELEMETRY_EMF', path: 'telemetry.emf', parse: 'boolean', doc: 'EMF metrics' },
  {
    variable: 'EPHEMERA_TELEMETRY_ENDPOINT',
    path: 'telemetry.endpoint',
    parse: 'url',
    doc: 'HTTP sink for events',
  },
  {
    variable: 'EPHEMERA_TELEMETRY_TOKEN',
    path: 'telemetry.token',
    parse: 'secret',
    doc: 'bearer token for the endpoint',
  },
  {
    variable: 'EPHEMERA_TELEMETRY_INVOCATIONS',
    path: 'telemetry.invocations',
    parse: 'boolean',
    doc: 'per-request invocation events',
  },
  {
    variable: 'EPHEMERA_FAIL_CLOSED',
    path: 'failClosed',
    parse: 'boolean',
    doc: 'fail closed on guard faults',
  },
  {
    variable: 'EPHEMERA_NODE_PERMISSIONS',
    path: 'nodePermissions',
    parse: 'boolean',
    doc: "Node's permission model in exec-wrapper mode",
  },
]);

/** `EPHEMERA_*` variables that other parts of the guard own; the policy accepts them without reading them. */
export const OTHER_ENV_VARIABLES = ['EPHEMERA_ORIGINAL_HANDLER', 'EPHEMERA_LAYER_DIR'] as const;

/** Controls the guard enforces today; the init event names the others (`unimplementedControls`). */
export const IMPLEMENTED_CONTROLS = [
  'lifecycle',
  'telemetry',
  'codegen',
  'integrity',
  'egress',
  'firewall',
  'fs',
  'childProcess',
  'internals',
] as const;

// ---------------------------------------------------------------------------------------------------
// Checking values against rules
// ---------------------------------------------------------------------------------------------------

type Verdict =
  | { readonly ok: true; readonly value: PolicyValue }
  | { readonly ok: false; readonly index?: number };

const BAD: Verdict = { ok: false };

function checkRule(rule: FieldRule, value: unknown): Verdict {
  switch (rule.kind) {
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value) ? { ok: true, value } : BAD;
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : BAD;
    case 'integer':
      if (value === null) return rule.nullMeans === null ? BAD : { ok: true, value };
      return Number.isSafeInteger(value) &&
        (value as number) >= rule.min &&
        (rule.max === null || (value as number) <= rule.max)
        ? { ok: true, value: value as number }
        : BAD;
    case 'fraction':
      return typeof value === 'number' && value >= 0 && value < 1 ? { ok: true, value } : BAD;
    case 'url':
      return value === null || (typeof value === 'string' && isHttpUrl(value)) ? { ok: true, value } : BAD;
    case 'secret':
      return value === null || (typeof value === 'string' && value !== '') ? { ok: true, value } : BAD;
    case 'list': {
      if (!Array.isArray(value)) return BAD;
      const items: string[] = [];
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        if (!checkListItem(rule.of, item)) return { ok: false, index };
        items.push(item);
      }
      return { ok: true, value: items }; // a copy: freezing must never reach the caller's array
    }
  }
}

function checkListItem(of: ListItemKind, item: unknown): item is string {
  if (typeof item !== 'string' || item === '') return false;
  if (of === 'package') return isPackagePattern(item);
  return of === 'path' || !/\s/.test(item);
}

/** An npm package name (`name`, `@scope/name`), `*`, `@scope/*` or a name with `*` wildcards. */
const PACKAGE_PATTERN = /^(\*|(@[a-z0-9*][a-z0-9._~*-]*\/)?[a-z0-9*][a-z0-9._~*-]*)$/;

/** Whether `item` is an accepted package name or glob (lower case, as npm requires). */
export function isPackagePattern(item: string): boolean {
  return item.length <= 214 && PACKAGE_PATTERN.test(item);
}

function isHttpUrl(text: string): boolean {
  if (text !== text.trim()) return false;
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const DESTINATION = 'host, *.suffix wildcard, IP or CIDR, optionally with :port';
const PACKAGE = 'npm package name or glob (`name`, `@scope/name`, `@scope/*`, `*`)';
const LIST_VARIABLE_ITEMS: Readonly<Record<ListItemKind, string>> = {
  destination: `entries without whitespace (each a ${DESTINATION})`,
  path: 'executable paths',
  package: `${PACKAGE}s`,
};

/** The "accepted" text of a rule, as errors and docs print it. */
export function describeRule(rule: FieldRule): string {
  switch (rule.kind) {
    case 'enum':
      return quoteList(rule.values);
    case 'boolean':
      return 'true or false';
    case 'integer':
      return rule.nullMeans === null
        ? describeRange(rule)
        : `${describeRange(rule)}, or null (${rule.nullMeans})`;
    case 'fraction':
      return 'a number from 0 (inclusive) to 1 (exclusive)';
    case 'url':
      return 'an http:// or https:// URL, or null';
    case 'secret':
      return 'a non-empty string, or null';
    case 'list':
      if (rule.of === 'package') return `an array of ${PACKAGE}s`;
      return rule.of === 'destination'
        ? `an array of non-empty strings without whitespace (each a ${DESTINATION})`
        : 'an array of non-empty strings (executable paths)';
  }
}

function describeListItem(of: ListItemKind): string {
  if (of === 'package') return `an ${PACKAGE}`;
  return of === 'destination'
    ? `a non-empty string without whitespace (a ${DESTINATION})`
    : 'a non-empty string (an executable path)';
}

function describeRange(rule: { readonly min: number; readonly max: number | null }): string {
  return rule.max === null
    ? `an integer of at least ${rule.min}`
    : `an integer from ${rule.min} to ${rule.max}`;
}

// ---------------------------------------------------------------------------------------------------
// Reading one policy document (the explicit option, or EPHEMERA_POLICY) into a normalised layer
// ---------------------------------------------------------------------------------------------------

/** A partial policy: settings as values, controls and groups as objects of the fields given. */
type Layer = Record<string, PolicyValue | Record<string, PolicyValue>>;

const TOP_KEYS = Object.keys(POLICY_SCHEMA) as (keyof Policy)[];

function readDocument(input: unknown, source: string): Layer {
  if (!isPlainObject(input)) {
    fail(`${source}: the policy is ${show(input)}; accepted: an object with the keys ${quoteList(TOP_KEYS)}`);
  }
  const layer: Layer = {};
  for (const key of Object.keys(input)) {
    const value = input[key];
    if (!isTopKey(key)) unknownKey(source, key, key, TOP_KEYS);
    if (value === undefined) continue;
    const spec = POLICY_SCHEMA[key];
    if (spec.kind === 'setting') layer[key] = checked(source, key, spec.rule, value);
    else layer[key] = readObjectKey(source, key, spec, value);
  }
  return layer;
}

function readObjectKey(
  source: string,
  key: string,
  spec: Exclude<KeySpec, { kind: 'setting' }>,
  value: unknown,
): Record<string, PolicyValue> {
  if (typeof value === 'string') {
    if (spec.kind === 'control' && spec.actions.includes(value)) return { action: value };
    if (spec.kind === 'group' && value === 'off') return { ...spec.off };
  }
  if (!isPlainObject(value))
    fail(`${source}: ${key} is ${show(value)}; accepted: ${describeObjectKey(spec)}`);
  const names = objectKeyNames(spec);
  const out: Record<string, PolicyValue> = {};
  for (const name of Object.keys(value)) {
    const path = joinPath(key, name);
    const field = value[name];
    if (!names.includes(name)) unknownKey(source, path, name, names);
    if (field === undefined) continue;
    out[name] = checked(source, path, ruleOf(spec, name), field);
  }
  return out;
}

function checked(source: string, path: string, rule: FieldRule, value: unknown): PolicyValue {
  const verdict = checkRule(rule, value);
  if (verdict.ok) return verdict.value;
  if (verdict.index !== undefined && rule.kind === 'list' && Array.isArray(value)) {
    const item: unknown = value[verdict.index];
    fail(`${source}: ${path}[${verdict.index}] is ${show(item)}; accepted: ${describeListItem(rule.of)}`);
  }
  const shown = rule.kind === 'secret' ? `${article(value)} (value not shown)` : show(value);
  return fail(`${source}: ${path} is ${shown}; accepted: ${describeRule(rule)}`);
}

function describeObjectKey(spec: Exclude<KeySpec, { kind: 'setting' }>): string {
  const keys = quoteList(objectKeyNames(spec));
  return spec.kind === 'control'
    ? `${quoteList(spec.actions)}, or an object with the keys ${keys}`
    : `"off", or an object with the keys ${keys}`;
}

function objectKeyNames(spec: Exclude<KeySpec, { kind: 'setting' }>): string[] {
  const fields = Object.keys(spec.fields);
  return spec.kind === 'control' ? ['action', ...fields] : fields;
}

function ruleOf(spec: Exclude<KeySpec, { kind: 'setting' }>, name: string): FieldRule {
  if (spec.kind === 'control' && name === 'action') return { kind: 'enum', values: spec.actions };
  const field = spec.fields[name];
  if (field === undefined) throw new Error(`policy schema has no field ${name}`); // a bug in the tables
  return field.rule;
}

/** The rule that checks the value at a dotted policy path (used for environment variables). */
function ruleAt(path: string): FieldRule {
  const [key = '', name] = path.split('.');
  if (!isTopKey(key)) throw new Error(`policy schema has no key ${key}`); // a bug in the tables
  const spec = POLICY_SCHEMA[key];
  if (spec.kind === 'setting') return spec.rule;
  return ruleOf(spec, name ?? '');
}

function isTopKey(key: string): key is keyof Policy {
  return Object.hasOwn(POLICY_SCHEMA, key);
}

// ---------------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------------

const KNOWN_VARIABLES: readonly string[] = [
  ...POLICY_ENV_VARIABLES.map((entry) => entry.variable),
  ...OTHER_ENV_VARIABLES,
];

function checkVariableNames(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('EPHEMERA_') || env[name] === undefined || KNOWN_VARIABLES.includes(name)) continue;
    const closest = closestName(name, KNOWN_VARIABLES, Number.POSITIVE_INFINITY);
    fail(
      `${/^\w+$/.test(name) ? name : JSON.stringify(name)} is not a variable Ephemera reads (did you mean ${closest}?); ` +
        'every EPHEMERA_* variable is listed in docs/configuration.md, "Environment variables"',
    );
  }
}

/** Reads EPHEMERA_POLICY: inline JSON (starts with "{") or a path to a JSON file. */
function readPolicyVariable(env: NodeJS.ProcessEnv): Layer {
  const raw = env.EPHEMERA_POLICY?.trim() ?? '';
  if (raw === '') return {};
  if (raw.startsWith('{')) {
    return readDocument(parseJson(raw, 'EPHEMERA_POLICY (inline JSON)'), 'EPHEMERA_POLICY');
  }
  // Relative to the function's code directory: the file ships with the function, not with the cwd.
  const file = isAbsolute(raw) ? raw : resolvePath(env.LAMBDA_TASK_ROOT || process.cwd(), raw);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
    return fail(
      `EPHEMERA_POLICY names the file ${JSON.stringify(file)}, which cannot be read (${code}); accepted: ` +
        'inline JSON starting with "{", or the path of a readable JSON file (relative paths resolve ' +
        'against LAMBDA_TASK_ROOT, else the current directory)',
      error,
    );
  }
  const source = `EPHEMERA_POLICY (file ${JSON.stringify(file)})`;
  return readDocument(parseJson(text.replace(/^\uFEFF/, ''), source), source);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8 quotes a slice of the input in some messages (`Unexpected token 's', "{"token": "se"... is not
    // valid JSON`); the input may hold the telemetry token, so the slice is cut (the cause keeps it).
    const detail =
      error instanceof Error
        ? error.message.replace(/,? ?"[\s\S]*"(?:\.\.\.)?/, '').replace(/ is not valid JSON$/, '')
        : 'unknown error';
    return fail(`${source} is not valid JSON (${detail}); accepted: a JSON object of policy keys`, error);
  }
}

/** Reads the per-key variables into a layer; each value is parsed by kind, then checked by the schema. */
function readKeyVariables(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const entry of POLICY_ENV_VARIABLES) {
    if (entry.path === null) continue;
    const raw = env[entry.variable]?.trim() ?? '';
    if (raw === '') continue; // unset and empty are the same: deployment tools write "" for "not given"
    const rule = ruleAt(entry.path);
    const parsed = parseVariable(entry.parse, raw);
    const verdict = parsed === undefined ? BAD : checkRule(rule, parsed);
    if (!verdict.ok) {
      const shown = rule.kind === 'secret' ? 'a string (value not shown)' : JSON.stringify(raw);
      fail(`${entry.variable} is ${shown}; accepted: ${describeVariable(entry.parse, rule)}`);
    }
    setPath(layer, entry.path, verdict.value);
  }
  return layer;
}

/** Text → candidate value, or `undefined` when the text has the wrong form for its kind. */
function parseVariable(parse: EnvParse, raw: string): unknown {
  switch (parse) {
    case 'enum':
    case 'secret':
      return raw;
    case 'limit':
      if (raw === 'off') return null;
      return /^[0-9]+$/.test(raw) ? Number(raw) : undefined;
    case 'fraction':
      return /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(raw) ? Number(raw) : undefined;
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return undefined;
    case 'list':
      return raw === 'none' ? [] : raw.split(',').map((item) => item.trim());
    case 'url':
      return raw === 'none' ? null : raw;
    case 'policy':
      return undefined;
  }
}

/** The "accepted" text of a variable: the rule's, in the spelling the variable takes. */
export function describeVariable(parse: EnvParse, rule: FieldRule): string {
  switch (parse) {
    case 'limit':
      return rule.kind === 'integer' ? `${describeRange(rule)}, or "off" (no limit)` : describeRule(rule);
    case 'boolean':
      return '"true", "false", "1" or "0"';
    case 'list':
      return rule.kind === 'list'
        ? `a comma-separated list of ${LIST_VARIABLE_ITEMS[rule.of]}, or "none" (empty list)`
        : describeRule(rule);
    case 'url':
      return 'an http:// or https:// URL, or "none"';
    case 'secret':
      return 'a non-empty string';
    case 'policy':
      return 'inline JSON starting with "{", or the path of a JSON file';
    default:
      return describeRule(rule);
  }
}

function setPath(layer: Layer, path: string, value: PolicyValue): void {
  const [key = '', name] = path.split('.');
  if (name === undefined) {
    layer[key] = value;
    return;
  }
  const current = layer[key];
  layer[key] = { ...(isPlainObject(current) ? (current as Record<string, PolicyValue>) : {}), [name]: value };
}

// ---------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------

/**
 * Resolves the policy: explicit option → per-key EPHEMERA_* variables → EPHEMERA_POLICY → defaults.
 * Objects merge key by key, arrays replace. An action given at any layer beats `mode` from any layer.
 * Throws GuardError EPHEMERA_ERR_POLICY on anything it does not accept. Call once, at init.
 *
 * @example resolvePolicy({ mode: 'alert', lifecycle: { maxInvocations: 500 } }, process.env)
 */
export function resolvePolicy(explicit?: unknown, env: NodeJS.ProcessEnv = process.env): Readonly<Policy> {
  checkVariableNames(env);
  const layers = [readPolicyVariable(env), readKeyVariables(env)];
  if (explicit !== undefined) layers.push(readDocument(explicit, 'policy'));
  const merged = mergeLayers(layers);

  const mode = (merged.mode ?? DEFAULT_MODE) as Action;
  const resolved: Record<string, unknown> = {};
  for (const key of TOP_KEYS) {
    const spec = POLICY_SCHEMA[key];
    if (spec.kind === 'setting') {
      resolved[key] = Object.hasOwn(merged, key) ? merged[key] : spec.default;
      continue;
    }
    const given = (merged[key] ?? {}) as Record<string, PolicyValue>;
    const out: Record<string, unknown> = {};
    if (spec.kind === 'control') {
      out.action = Object.hasOwn(given, 'action') ? given.action : spec.fromMode[mode];
    }
    for (const [name, field] of Object.entries(spec.fields)) {
      const value = Object.hasOwn(given, name) ? given[name] : field.default;
      out[name] = Array.isArray(value) ? [...value] : value;
    }
    resolved[key] = out;
  }
  // The schema and Policy are kept in step by the Record<keyof Policy, KeySpec> type and by the tests.
  return deepFreeze(resolved as unknown as Policy);
}

function mergeLayers(layers: readonly Layer[]): Layer {
  const merged: Layer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      const current = merged[key];
      merged[key] =
        isPlainObject(value) && isPlainObject(current)
          ? { ...(current as Record<string, PolicyValue>), ...(value as Record<string, PolicyValue>) }
          : value;
    }
  }
  return merged;
}

/** The policy with nothing configured. */
export const DEFAULT_POLICY: Readonly<Policy> = resolvePolicy(undefined, {});

/**
 * The compact form the init event carries: one action string per control, the lifecycle and telemetry
 * settings, never the token (only whether one is set) nor the endpoint's credentials or query.
 */
export function summarisePolicy(p: Policy): Record<string, unknown> {
  return {
    mode: p.mode,
    codegen: p.codegen.action,
    codegenNodeFlag: p.codegen.nodeFlag,
    integrity: p.integrity.action,
    harden: p.integrity.harden,
    initPatches: p.integrity.initPatches,
    initPatchesAllow: [...p.integrity.initPatchesAllow],
    lifecycle: { ...p.lifecycle },
    egress: p.egress.action,
    egressAllow: [...p.egress.allow],
    egressPackages: [...p.egress.packages],
    fs: p.fs.action,
    fsRead: [...p.fs.read],
    fsWrite: [...p.fs.write],
    fsReadSource: p.fs.readSource,
    childProcess: p.childProcess.action,
    childProcessAllow: [...p.childProcess.allow],
    childProcessPackages: [...p.childProcess.packages],
    internals: p.internals.action,
    firewall: p.firewall.action,
    telemetry: {
      stdout: p.telemetry.stdout,
      emf: p.telemetry.emf,
      endpoint: p.telemetry.endpoint === null ? null : publicUrl(p.telemetry.endpoint),
      tokenSet: p.telemetry.token !== null,
      maxBuffer: p.telemetry.maxBuffer,
      batchSize: p.telemetry.batchSize,
      invocations: p.telemetry.invocations,
    },
    failClosed: p.failClosed,
    nodePermissions: p.nodePermissions,
  };
}

function publicUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Controls the policy asks for (action not 'off') that the guard does not enforce yet. */
export function unimplementedControls(p: Policy): ControlName[] {
  const implemented: readonly string[] = IMPLEMENTED_CONTROLS;
  const out: ControlName[] = [];
  for (const key of TOP_KEYS) {
    const spec = POLICY_SCHEMA[key];
    if (spec.kind !== 'control' || implemented.includes(key)) continue;
    if ((p[key] as { readonly action: string }).action !== 'off') out.push(key as ControlName);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

function fail(message: string, cause?: unknown): never {
  throw new GuardError('EPHEMERA_ERR_POLICY', message, cause === undefined ? undefined : { cause });
}

function unknownKey(source: string, path: string, key: string, accepted: readonly string[]): never {
  const closest = closestName(key, accepted, 2);
  const hint = closest === undefined ? '' : ` (did you mean ${JSON.stringify(closest)}?)`;
  return fail(`${source}: ${path} is not a known key${hint}; accepted keys: ${quoteList(accepted)}`);
}

/**
 * The accepted name nearest to `name` (case-insensitive edit distance) among those within `maxDistance`
 * or that extend or are extended by it (`maxAge` → `maxAgeSeconds`). Ties go to the earlier name.
 */
function closestName(name: string, accepted: readonly string[], maxDistance: number): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of accepted) {
    const other = candidate.toLowerCase();
    const distance = levenshtein(lower, other);
    const related = lower.length >= 3 && (other.startsWith(lower) || lower.startsWith(other));
    if ((distance <= maxDistance || related) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function joinPath(parent: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A value as JSON for a message, shortened; values JSON cannot express are named by type. */
function show(value: unknown): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !isPlainObject(value)) {
    const name: unknown = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)
      ?.constructor?.name;
    return `an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
    text = typeof value === 'number' ? String(value) : article(value);
  }
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

function article(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function quoteList(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
