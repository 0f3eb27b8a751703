/**
 * `ephemera policy suggest [DIR] [--learned FILE]...`: a least-privilege guard policy for a deployment,
 * from two sources of evidence:
 * - the scan: which code needs the network or child processes, the literal hosts it connects to
 *   (→ `egress.allow`) and the executables it starts (→ `childProcess.allow`);
 * - what the guard's egress `learn` mode recorded: `learn` events in the function's logs (guard event
 *   JSON lines, as on stdout or exported from CloudWatch) and/or policy fragments
 *   (`{"egress":{"allow":[…]}}`, `{"childProcess":{"allow":[…]}}`).
 *
 * The policy goes to stdout (a file to commit and pass to the guard); why each entry is there, and what
 * was left out, goes to stderr. Evidence from a package with high-severity findings is never allowed:
 * a poisoned dependency's collector must not end up in the allow-list that was meant to stop it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, usageErrorFrom } from './errors.js';
import { type ScanReport, scanDeployment } from './scan/scan.js';

export const POLICY_SUGGEST_USAGE = `  policy suggest [DIR] [options]     a least-privilege guard policy (JSON on stdout) from a scan of DIR
      --learned FILE                 also allow what egress "learn" recorded: a log of guard events
                                     (JSON lines) or a policy fragment {"egress":{"allow":[...]}}; repeatable`;

/** The part of a guard policy the suggestion writes (valid input for the guard's resolvePolicy). */
export interface SuggestedPolicy {
  egress: { action: 'block'; allow: string[] };
  childProcess: { action: 'block'; allow: string[] };
}

/** What learn mode (or a fragment) says the function used. */
export interface Learned {
  readonly egress: string[];
  readonly childProcess: string[];
  /** How many learn records (or fragment entries) the file held. */
  readonly records: number;
}

/** Where the AWS SDK reaches AWS; the guard's default allow-list, kept when SDK clients are deployed. */
const AWS_ENDPOINTS = '*.amazonaws.com';
/** Instance metadata and container credential endpoints: not reachable (nor needed) from Lambda. */
const METADATA_HOSTS = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254']);
/** Lambda's PATH, where a bare executable name is looked up. */
const LAMBDA_PATH = ['/var/lang/bin', '/usr/local/bin', '/usr/bin', '/bin', '/opt/bin'];

// ---------------------------------------------------------------------------------------------------
// Reading learn records
// ---------------------------------------------------------------------------------------------------

/**
 * Reads one --learned file: a policy fragment (a JSON object with `egress.allow` and/or
 * `childProcess.allow`, or a JSON array of guard events), or JSON lines holding guard events (other
 * lines, and any prefix before `{"ephemera":` such as CloudWatch's timestamp and request id, are
 * ignored). Throws EPHEMERA_ERR_CLI_LEARNED_FILE when it is neither.
 *
 * @example readLearned('learned.log') // { egress: ['api.stripe.com:443'], childProcess: [], records: 1 }
 */
export function readLearned(file: string): Learned {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw learnedError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let whole: unknown;
    try {
      whole = JSON.parse(trimmed);
    } catch {
      whole = undefined; // not one JSON document: JSON lines, below
    }
    if (Array.isArray(whole)) return fromEvents(file, whole, whole.length);
    if (isObject(whole) && whole.ephemera === undefined) return fromFragment(file, whole);
  }
  const events: unknown[] = [];
  for (const line of text.split('\n')) {
    const start = line.indexOf('{"ephemera":');
    if (start === -1) continue;
    try {
      events.push(JSON.parse(line.slice(start)));
    } catch {
      // a truncated line (log export limits): skipped
    }
  }
  if (events.length === 0)
    throw learnedError(
      file,
      'holds no guard event (no line contains {"ephemera":…}) and is not a policy fragment',
    );
  return fromEvents(file, events, events.length);
}

function fromFragment(file: string, fragment: Record<string, unknown>): Learned {
  const list = (key: 'egress' | 'childProcess'): string[] => {
    const block = fragment[key];
    if (block === undefined) return [];
    const allow = isObject(block) ? block.allow : undefined;
    if (
      !Array.isArray(allow) ||
      !allow.every((item) => typeof item === 'string' && item !== '' && !/\s/.test(item))
    )
      throw learnedError(file, `${key}.allow is not an array of non-empty strings without whitespace`);
    return allow as string[];
  };
  const egress = list('egress');
  const childProcess = list('childProcess');
  if (fragment.egress === undefined && fragment.childProcess === undefined)
    throw learnedError(file, 'is a JSON object without egress.allow or childProcess.allow');
  return { egress, childProcess, records: egress.length + childProcess.length };
}

function fromEvents(file: string, events: unknown[], total: number): Learned {
  const egress: string[] = [];
  const childProcess: string[] = [];
  let records = 0;
  let guardEvents = 0;
  for (const event of events) {
    if (!isObject(event) || event.ephemera !== 1) continue;
    guardEvents++;
    if (event.type !== 'learn' || !isObject(event.detail)) continue;
    const detail = event.detail;
    if (event.control === 'childProcess') {
      const executable = detail.executable ?? detail.file;
      if (typeof executable === 'string' && executable !== '') {
        childProcess.push(executable);
        records++;
      }
      continue;
    }
    const entry = learnedEntry(detail);
    if (entry === null) continue;
    egress.push(entry);
    records++;
  }
  if (guardEvents === 0)
    throw learnedError(file, `holds ${total} JSON value(s) but no guard event ({"ephemera":1,…})`);
  return { egress, childProcess, records };
}

/**
 * The allow entry a learn record stands for: the guard's own `suggestion` (`host:port`, `[v6]:port`,
 * or `host` for a DNS query) when present, else `destination.{host,port}`, else `{host, port}`.
 */
function learnedEntry(detail: Record<string, unknown>): string | null {
  const suggestion = detail.suggestion;
  if (
    typeof suggestion === 'string' &&
    suggestion !== '' &&
    !/\s/.test(suggestion) &&
    !suggestion.startsWith(':')
  )
    return suggestion.toLowerCase();
  const where = isObject(detail.destination) ? detail.destination : detail;
  const host = typeof where.host === 'string' ? where.host.toLowerCase() : '';
  if (host === '' || /\s/.test(host)) return null;
  const port = where.port;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536
    ? `${bracketed}:${port}`
    : bracketed;
}

function learnedError(file: string, why: string, cause?: unknown): CliError {
  return new CliError(
    'EPHEMERA_ERR_CLI_LEARNED_FILE',
    `--learned ${JSON.stringify(file)} ${why}; accepted: guard event JSON lines (learn records from the ` +
      `function's logs) or a policy fragment such as {"egress":{"allow":["api.example.com:443"]}}`,
    { cause, exitCode: 2 },
  );
}

// ---------------------------------------------------------------------------------------------------
// The suggestion
// ---------------------------------------------------------------------------------------------------

export interface Suggestion {
  readonly policy: SuggestedPolicy;
  /** One line per decision: why an entry is in, or why a candidate was left out. */
  readonly notes: string[];
}

/**
 * The least-privilege policy for a scanned deployment plus learn records.
 *
 * @example suggestPolicy(scanDeployment('dist'), [readLearned('learned.log')]).policy
 */
export function suggestPolicy(report: ScanReport, learned: readonly Learned[] = []): Suggestion {
  const notes: string[] = [];
  const egress = new Map<string, string>(); // entry → why
  const executables = new Map<string, string>();
  const risky = new Set(
    report.packages.filter((p) => p.highest === 'high').map((p) => `${p.name}@${p.version}`),
  );

  if (report.packages.some((p) => p.name.startsWith('@aws-sdk/') || p.name === 'aws-sdk'))
    egress.set(AWS_ENDPOINTS, 'AWS SDK clients are deployed');
  for (const { host, file, line } of report.own.hosts) {
    if (METADATA_HOSTS.has(host)) continue;
    if (!egress.has(host)) egress.set(host, `own code, ${file}:${line}`);
  }
  for (const pkg of report.packages) {
    const id = `${pkg.name}@${pkg.version}`;
    for (const host of pkg.hosts) {
      if (risky.has(id)) notes.push(`left out ${host}: ${id} has high-severity findings (run ephemera scan)`);
      else if (METADATA_HOSTS.has(host))
        notes.push(`left out ${host} (${id}): instance metadata, not used on Lambda`);
      else if (isLoopback(host)) notes.push(`left out ${host} (${id}): a library default, not a destination`);
      else if (!egress.has(host)) egress.set(host, `literal destination in ${id}`);
    }
  }
  for (const set of learned)
    for (const entry of set.egress) if (!egress.has(entry)) egress.set(entry, 'learned');

  for (const { name, file, line } of report.own.executables)
    if (!executables.has(name)) executables.set(name, `own code, ${file}:${line}`);
  for (const pkg of report.packages) {
    const id = `${pkg.name}@${pkg.version}`;
    for (const name of pkg.executables) {
      if (risky.has(id)) notes.push(`left out executable ${name}: ${id} has high-severity findings`);
      else if (!executables.has(name)) executables.set(name, `started by ${id}`);
    }
  }
  for (const set of learned)
    for (const name of set.childProcess) if (!executables.has(name)) executables.set(name, 'learned');

  const allow = withoutCovered([...egress.keys()]);
  for (const entry of egress.keys())
    if (!allow.includes(entry)) notes.push(`left out ${entry}: covered by another entry`);
  for (const entry of allow) notes.push(`egress.allow ${entry}: ${egress.get(entry)}`);

  const programs: string[] = [];
  for (const [name, why] of executables) {
    const path = resolveExecutable(name);
    if (path === null) {
      notes.push(
        `childProcess.allow ${name}: ${why}; not found on Lambda's PATH here: replace it with its absolute path`,
      );
      programs.push(name);
    } else {
      notes.push(`childProcess.allow ${path}: ${why}`);
      programs.push(path);
    }
  }
  if (!report.own.capabilities.network && !report.packages.some((p) => p.capabilities.network))
    notes.push('no code in the deployment uses the network');
  return {
    policy: {
      egress: { action: 'block', allow: allow.sort(compareEntries) },
      childProcess: { action: 'block', allow: [...new Set(programs)].sort() },
    },
    notes,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** Drops entries another entry already allows: `host` covers `host:port`, `*.d.com` covers `a.d.com[:p]`. */
function withoutCovered(entries: string[]): string[] {
  const split = (entry: string): [string, string | null] => {
    const match = /^(.*):(\d+)$/.exec(entry);
    const host = match?.[1];
    return host && (!host.includes(':') || /^\[.*\]$/.test(host)) ? [host, match[2] ?? null] : [entry, null];
  };
  const covers = (a: string, b: string): boolean => {
    if (a === b) return false;
    const [hostA, portA] = split(a);
    const [hostB, portB] = split(b);
    if (portA !== null && portA !== portB) return false;
    if (hostA === hostB) return portA === null;
    return hostA.startsWith('*.') && hostB.endsWith(hostA.slice(1));
  };
  return entries.filter((b) => !entries.some((a) => covers(a, b)));
}

function compareEntries(a: string, b: string): number {
  return a.localeCompare(b);
}

function resolveExecutable(name: string): string | null {
  if (name.startsWith('/')) return name;
  if (name.includes('/')) return null;
  for (const dir of LAMBDA_PATH) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------------

/** Runs `policy suggest`; the policy goes to `write`, the notes to `note`. Returns the exit code. */
export function runPolicySuggestCommand(
  args: string[],
  write: (text: string) => void,
  note: (text: string) => void,
): number {
  let values: { learned?: string[] };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { learned: { type: 'string', multiple: true } },
    }));
  } catch (error) {
    throw usageErrorFrom(error, 'policy suggest');
  }
  if (positionals.length > 1)
    throw new CliError(
      'EPHEMERA_ERR_CLI_USAGE',
      `policy suggest takes one directory, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  const learned = (values.learned ?? []).map((file) => {
    const set = readLearned(file);
    note(`read ${set.records} learn record${set.records === 1 ? '' : 's'} from ${file}`);
    return set;
  });
  const report = scanDeployment(positionals[0] ?? '.');
  const { policy, notes } = suggestPolicy(report, learned);
  for (const line of notes) note(line);
  write(JSON.stringify(policy, null, 2));
  return 0;
}
