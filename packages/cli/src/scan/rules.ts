/**
 * What `ephemera scan` reports, as data: one rule per kind of finding. The analysis (analyse-file.ts,
 * scan.ts) decides the severity of each finding; the rule gives its id, title and the advice printed in
 * SARIF and docs/scan.md. A rule's `severity` is its usual severity (SARIF `defaultConfiguration`).
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Rule {
  readonly title: string;
  readonly help: string;
  readonly severity: Severity;
  /** 'code': a sink in the function's own code; 'package': a property of a dependency. */
  readonly scope: 'code' | 'package';
}

export const RULES = {
  eval: {
    scope: 'code',
    severity: 'high',
    title: 'eval of a computed string',
    help: 'eval runs whatever string it is given; parse data with JSON.parse instead.',
  },
  'function-constructor': {
    scope: 'code',
    severity: 'high',
    title: 'Function constructor with computed source',
    help: 'new Function(string) compiles code at run time; build the function at INIT from constants.',
  },
  'timer-string': {
    scope: 'code',
    severity: 'medium',
    title: 'setTimeout/setInterval with a string',
    help: 'a string first argument is compiled like eval; pass a function.',
  },
  vm: {
    scope: 'code',
    severity: 'high',
    title: 'vm code execution',
    help: 'node:vm is not a security boundary; never run code derived from input in it.',
  },
  'child-process-shell': {
    scope: 'code',
    severity: 'high',
    title: 'shell command built from a computed string',
    help: 'exec/execSync run a shell; use execFile/spawn with an argument array and no shell.',
  },
  'child-process': {
    scope: 'code',
    severity: 'medium',
    title: 'child process with a computed executable or a shell',
    help: 'start a fixed executable with an argument array; list it in childProcess.allow.',
  },
  'dynamic-require': {
    scope: 'code',
    severity: 'medium',
    title: 'require/import of a computed specifier',
    help: 'a computed specifier can load any file; require constant names.',
  },
  'unsafe-deserializer': {
    scope: 'code',
    severity: 'high',
    title: 'unsafe deserializer',
    help: 'node-serialize and similar libraries run functions embedded in the data (CVE-2017-5941); use JSON.parse.',
  },
  'prototype-pollution-sink': {
    scope: 'code',
    severity: 'high',
    title: 'deep merge/set of request data',
    help: 'lodash merge/set/defaultsDeep with request-controlled keys can write __proto__; validate the keys or use Object.create(null) targets.',
  },
  'install-script': {
    scope: 'package',
    severity: 'medium',
    title: 'install script',
    help: 'the package runs a script when installed; review it, or install with --ignore-scripts.',
  },
  'code-generation': {
    scope: 'package',
    severity: 'low',
    title: 'code generation in a dependency',
    help: 'the package compiles code from strings (template engines and validators do); keep codegen in block mode: the guard only refuses it at invoke time.',
  },
  'decoded-eval': {
    scope: 'package',
    severity: 'high',
    title: 'code generation from decoded data',
    help: 'eval/Function of base64- or hex-decoded data is how droppers hide their payload.',
  },
  obfuscation: {
    scope: 'package',
    severity: 'high',
    title: 'obfuscated code',
    help: 'obfuscator.io-style identifiers, escaped string tables or JSFuck in a dependency hide what it does.',
  },
  'load-time-patch': {
    scope: 'package',
    severity: 'high',
    title: 'patch of a built-in at load time',
    help: 'the package replaces a built-in when it is required (https.request, JSON.stringify, Object.prototype, Module internals); legitimate only for APM agents and polyfills.',
  },
  'load-time-network': {
    scope: 'package',
    severity: 'high',
    title: 'connection opened at load time',
    help: 'the package opens an outbound connection when it is required (a beacon): before any request, from every cold start; telemetry agents connect lazily, when first used.',
  },
  'load-time-timer': {
    scope: 'package',
    severity: 'medium',
    title: 'timer started at load time',
    help: 'a package that starts a repeating timer when required keeps running between invocations.',
  },
  'unsafe-package': {
    scope: 'package',
    severity: 'high',
    title: 'known unsafe package installed',
    help: 'this package deserializes with eval; remove it from the deployment.',
  },
  'parse-error': {
    scope: 'package',
    severity: 'info',
    title: 'file not analysed',
    help: 'the file could not be parsed as JavaScript (or is too large); it was not analysed.',
  },
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
