/**
 * `ephemera scan`: static analysis of a deployment. The function's own code is reported sink by sink
 * (file:line); each package is reported as a whole: install scripts, code generation, obfuscation,
 * load-time patches of built-ins and timers, and its capabilities (network, fs, processes, codegen).
 *
 * Why per package and not per sink in node_modules: a deployment has thousands of files and a
 * dependency tree that legitimately evaluates code (template engines, validators) and spawns processes
 * (credential helpers). What a reviewer can act on is "which package does what"; what an implant needs
 * is load-time access to built-ins, which is reported precisely.
 */
import { readFileSync, statSync } from 'node:fs';
import { CliError } from '../errors.js';
import { analyseSource, type FileFacts, type Hit, type PatchHit } from './analyse-file.js';
import { type Deployment, type PackageDir, readDeployment, type SourceFile } from './deployment.js';
import { RULES, type RuleId, type Severity, severityRank } from './rules.js';
import { UNSAFE_DESERIALIZERS } from './tables.js';

export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly message: string;
  /** Relative to the scanned directory, `/` separators. */
  readonly file: string;
  readonly line: number | null;
  readonly column: number | null;
  /** `name@version` when the finding is about a dependency. */
  readonly package: string | null;
}

export interface Capabilities {
  network: boolean;
  fs: boolean;
  process: boolean;
  codegen: boolean;
}

export interface PackageSummary {
  readonly name: string;
  readonly version: string;
  readonly path: string;
  readonly files: number;
  readonly capabilities: Capabilities;
  /** Hosts that are the literal destination of a network call or a `host:` field in the package. */
  readonly hosts: string[];
  readonly executables: string[];
  /** Highest severity among the package's findings, or null. */
  readonly highest: Severity | null;
}

export interface ScanReport {
  readonly dir: string;
  readonly files: { readonly total: number; readonly analysed: number; readonly notAnalysed: number };
  readonly bytes: number;
  readonly durationMs: number;
  readonly findings: Finding[];
  readonly packages: PackageSummary[];
  readonly own: {
    readonly files: number;
    readonly capabilities: Capabilities;
    readonly hosts: { host: string; file: string; line: number }[];
    readonly executables: { name: string; file: string; line: number }[];
  };
}

/** Files larger than this are not parsed (reported as not analysed): generated data, not code. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;
const SUSPICIOUS_SCRIPT =
  /\b(?:curl|wget|nc|bash\s+-c|sh\s+-c|powershell|base64|eval)\b|https?:\/\/|node\s+-e\b|\.\.\/\.\.\//;
const CODEGEN_RULES = new Set<RuleId>(['eval', 'function-constructor', 'vm', 'timer-string']);

/**
 * Scans the deployment at `dir`. Throws EPHEMERA_ERR_SCAN_DIR when it is not a directory.
 *
 * @example const report = scanDeployment('.aws-sam/build/MyFunction')
 */
export function scanDeployment(dir: string): ScanReport {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {}
  if (!isDir)
    throw new CliError(
      'EPHEMERA_ERR_SCAN_DIR',
      `${JSON.stringify(dir)} is not a directory; accepted: the directory of a deployment (the function's code and its node_modules)`,
    );
  const started = performance.now();
  const deployment = readDeployment(dir);
  const findings: Finding[] = [];
  const counters = { total: 0, analysed: 0, notAnalysed: 0, bytes: 0 };

  const own = scanOwnCode(deployment, findings, counters);
  const packages = deployment.packages.map((pkg) => scanPackage(pkg, findings, counters));

  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0),
  );
  return {
    dir,
    files: { total: counters.total, analysed: counters.analysed, notAnalysed: counters.notAnalysed },
    bytes: counters.bytes,
    durationMs: Math.round(performance.now() - started),
    findings,
    packages,
    own,
  };
}

interface Counters {
  total: number;
  analysed: number;
  notAnalysed: number;
  bytes: number;
}

type Analysed = { file: SourceFile; facts: FileFacts } | { file: SourceFile; error: string };

function analyse(file: SourceFile, own: boolean, counters: Counters): Analysed {
  counters.total++;
  try {
    const size = statSync(file.path).size;
    if (size > MAX_FILE_BYTES) {
      counters.notAnalysed++;
      return { file, error: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` };
    }
    const source = readFileSync(file.path, 'utf8');
    counters.bytes += size;
    const facts = analyseSource(source, file.kind, own);
    counters.analysed++;
    return { file, facts };
  } catch (error) {
    counters.notAnalysed++;
    return {
      file,
      error: error instanceof Error ? (error.message.split('\n')[0] ?? 'error') : String(error),
    };
  }
}

function scanOwnCode(deployment: Deployment, findings: Finding[], counters: Counters): ScanReport['own'] {
  const capabilities: Capabilities = { network: false, fs: false, process: false, codegen: false };
  const hosts: ScanReport['own']['hosts'] = [];
  const executables: ScanReport['own']['executables'] = [];
  for (const file of deployment.own) {
    const result = analyse(file, true, counters);
    if ('error' in result) {
      findings.push(finding('parse-error', 'info', `not analysed: ${result.error}`, file.rel, null, null));
      continue;
    }
    const { facts } = result;
    mergeCapabilities(capabilities, facts);
    for (const hit of facts.hits) findings.push(hitFinding(hit, file.rel, null));
    for (const patch of facts.patches)
      findings.push(
        finding(
          'load-time-patch',
          patch.severity,
          `replaces ${patch.target} at load time${patchNote(patch)}`,
          file.rel,
          patch.line,
          patch.column,
        ),
      );
    for (const marker of facts.obfuscation)
      findings.push(finding('obfuscation', 'high', marker, file.rel, null, null));
    for (const host of facts.hosts) hosts.push({ host: host.host, file: file.rel, line: host.line });
    for (const executable of facts.executables)
      executables.push({ name: executable.name, file: file.rel, line: executable.line });
  }
  return { files: deployment.own.length, capabilities, hosts, executables };
}

function scanPackage(pkg: PackageDir, findings: Finding[], counters: Counters): PackageSummary {
  const id = `${pkg.name}@${pkg.version}`;
  const capabilities: Capabilities = { network: false, fs: false, process: false, codegen: false };
  const hosts = new Set<string>();
  const executables = new Set<string>();
  const own: Finding[] = [];
  const add = (f: Omit<Finding, 'package'>): void => {
    own.push({ ...f, package: id });
  };
  const manifestFile = `${pkg.rel}/package.json`;

  const scripts = (pkg.manifest.scripts ?? {}) as Record<string, unknown>;
  for (const name of INSTALL_SCRIPTS) {
    const script = scripts[name];
    if (typeof script !== 'string') continue;
    const severity: Severity = SUSPICIOUS_SCRIPT.test(script) ? 'high' : 'medium';
    add({
      rule: 'install-script',
      severity,
      message: `${name}: ${truncate(script, 120)}`,
      file: manifestFile,
      line: lineOf(pkg.manifestText, `"${name}"`),
      column: null,
    });
  }
  if (pkg.native && !INSTALL_SCRIPTS.some((name) => typeof scripts[name] === 'string'))
    add({
      rule: 'install-script',
      severity: 'low',
      message: 'native addon: npm runs node-gyp rebuild on install (binding.gyp)',
      file: manifestFile,
      line: null,
      column: null,
    });
  if (UNSAFE_DESERIALIZERS.has(pkg.name))
    add({
      rule: 'unsafe-package',
      severity: 'high',
      message: `${pkg.name} deserializes with eval (CVE-2017-5941 for node-serialize)`,
      file: manifestFile,
      line: null,
      column: null,
    });

  const codegen: { count: number; kinds: Map<RuleId, number>; first: Finding | null } = {
    count: 0,
    kinds: new Map(),
    first: null,
  };
  const patched = new Set<string>();
  let timers = 0;
  let firstTimer: Omit<Finding, 'package'> | null = null;
  let notAnalysed = 0;
  let firstError = '';
  let obfuscated = false;
  let deserializer = false;
  let beacon = false;

  for (const file of pkg.files) {
    const result = analyse(file, false, counters);
    if ('error' in result) {
      if (notAnalysed++ === 0) firstError = `${file.rel}: ${result.error}`;
      continue;
    }
    const { facts } = result;
    mergeCapabilities(capabilities, facts);
    for (const host of facts.hosts) if (host.strong) hosts.add(host.host);
    for (const executable of facts.executables) executables.add(executable.name);
    for (const hit of facts.hits) {
      if (CODEGEN_RULES.has(hit.rule)) {
        // `Function('return this')()` (the classic globalThis lookup) compiles a constant: not reported.
        if (hit.severity === 'low') continue;
        codegen.count++;
        codegen.kinds.set(hit.rule, (codegen.kinds.get(hit.rule) ?? 0) + 1);
        codegen.first ??= hitFinding(hit, file.rel, id);
      } else if (hit.rule === 'decoded-eval') {
        add(hitFinding(hit, file.rel, id));
      } else if (hit.rule === 'unsafe-deserializer' && !deserializer) {
        deserializer = true;
        add({ ...hitFinding(hit, file.rel, id), severity: 'medium' });
      }
      // Child processes and dynamic requires inside dependencies are capabilities, not findings:
      // credential helpers and plugin loaders do both legitimately.
    }
    for (const patch of facts.patches) {
      if (patched.has(patch.target)) continue;
      patched.add(patch.target);
      add({
        rule: 'load-time-patch',
        severity: patch.severity,
        message: `replaces ${patch.target} when required${patchNote(patch)}`,
        file: file.rel,
        line: patch.line,
        column: patch.column,
      });
    }
    const request = facts.loadTimeRequests[0];
    if (request && !beacon) {
      beacon = true;
      add({
        rule: 'load-time-network',
        severity: 'high',
        message: `${request.call}() when required${facts.loadTimeRequests.length > 1 ? ` (${facts.loadTimeRequests.length} sites in this file)` : ''}`,
        file: file.rel,
        line: request.line,
        column: request.column,
      });
    }
    if (facts.timers.length > 0) {
      timers += facts.timers.length;
      const timer = facts.timers[0];
      if (timer && firstTimer === null)
        firstTimer = {
          rule: 'load-time-timer',
          severity: 'medium',
          message: '',
          file: file.rel,
          line: timer.line,
          column: timer.column,
        };
    }
    if (facts.obfuscation.length > 0 && !obfuscated) {
      obfuscated = true;
      add({
        rule: 'obfuscation',
        severity: 'high',
        message: facts.obfuscation.join('; '),
        file: file.rel,
        line: null,
        column: null,
      });
    }
  }
  if (codegen.count > 0 && codegen.first) {
    const kinds = [...codegen.kinds].map(([rule, n]) => `${RULE_LABEL[rule] ?? rule} ×${n}`).join(', ');
    add({
      ...codegen.first,
      rule: 'code-generation',
      severity: 'low',
      message: `${codegen.count} code generation site${codegen.count === 1 ? '' : 's'} (${kinds}); first: ${codegen.first.message}`,
    });
  }
  if (firstTimer)
    add({ ...firstTimer, message: `setInterval when required (${timers} site${timers === 1 ? '' : 's'})` });
  if (notAnalysed > 0)
    add({
      rule: 'parse-error',
      severity: 'info',
      message: `${notAnalysed} file${notAnalysed === 1 ? '' : 's'} not analysed; first: ${firstError}`,
      file: manifestFile,
      line: null,
      column: null,
    });

  findings.push(...own);
  const highest = own.reduce<Severity | null>(
    (best, f) =>
      f.rule === 'parse-error'
        ? best
        : best === null || severityRank(f.severity) > severityRank(best)
          ? f.severity
          : best,
    null,
  );
  return {
    name: pkg.name,
    version: pkg.version,
    path: pkg.rel,
    files: pkg.files.length,
    capabilities,
    hosts: [...hosts].sort(),
    executables: [...executables].sort(),
    highest,
  };
}

const RULE_LABEL: Partial<Record<RuleId, string>> = {
  eval: 'eval',
  'function-constructor': 'Function',
  vm: 'vm',
  'timer-string': 'string timer',
};

function patchNote(patch: PatchHit): string {
  if (patch.guarded) return ' (guarded polyfill)';
  if (patch.uncertain) return ' (through a name the file binds more than once: verify)';
  return '';
}

function mergeCapabilities(into: Capabilities, facts: FileFacts): void {
  into.network ||= facts.network;
  into.fs ||= facts.fs;
  into.process ||= facts.process;
  into.codegen ||= facts.codegen > 0;
}

function hitFinding(hit: Hit, file: string, pkg: string | null): Finding {
  return {
    rule: hit.rule,
    severity: hit.severity,
    message: hit.message,
    file,
    line: hit.line,
    column: hit.column,
    package: pkg,
  };
}

function finding(
  rule: RuleId,
  severity: Severity,
  message: string,
  file: string,
  line: number | null,
  column: number | null,
): Finding {
  return { rule, severity, message, file, line, column, package: null };
}

function lineOf(text: string, needle: string): number | null {
  const index = text.indexOf(needle);
  if (index === -1) return null;
  return text.slice(0, index).split('\n').length;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Whether any finding is at or above `threshold`. */
export function failsAt(report: ScanReport, threshold: Severity): boolean {
  return report.findings.some((f) => severityRank(f.severity) >= severityRank(threshold));
}

export { RULES };
