/**
 * The three shapes of a scan report: a readable table, JSON (the report as is), and SARIF 2.1.0 for
 * GitHub code scanning (results with rule metadata and `security-severity`, paths relative to the
 * directory the command ran in so they match the repository).
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES, type RuleId, SEVERITIES, type Severity, severityRank } from './rules.js';
import type { Finding, ScanReport } from './scan.js';

export const FORMATS = ['table', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

const TOOL_NAME = 'ephemera-scan';
const TOOL_VERSION = '0.1.0';
const TOOL_URI = 'https://github.com/ephemera-dev/ephemera/blob/main/docs/scan.md';

/** The report as indented JSON. */
export function formatJson(report: ScanReport): string {
  return JSON.stringify(report, null, 2);
}

/** The report as a table: findings (low and above), then packages with capabilities. */
export function formatTable(report: ScanReport): string {
  const lines: string[] = [];
  const count = (severity: Severity): number => report.findings.filter((f) => f.severity === severity).length;
  lines.push(`ephemera scan: ${report.dir}`);
  lines.push(
    `${report.files.total} files (${report.files.analysed} analysed, ${report.files.notAnalysed} not analysed), ` +
      `${report.packages.length} packages, ${(report.bytes / 1024 / 1024).toFixed(1)} MB in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push('');
  const shown = report.findings.filter((f) => f.severity !== 'info');
  lines.push(
    `findings: ${count('high')} high, ${count('medium')} medium, ${count('low')} low` +
      (count('info') > 0 ? ` (${count('info')} info in --format json)` : ''),
  );
  if (shown.length > 0) {
    lines.push(
      ...table(
        ['severity', 'rule', 'where', 'what'],
        shown.map((f) => [
          f.severity,
          f.rule,
          where(f),
          f.package ? `${f.package}: ${f.message}` : f.message,
        ]),
      ),
    );
  }
  lines.push('');
  const own = report.own.capabilities;
  lines.push(
    `own code: ${report.own.files} files; capabilities: ${capabilityList(own) || 'none'}` +
      (report.own.hosts.length > 0
        ? `; hosts: ${unique(report.own.hosts.map((h) => h.host)).join(', ')}`
        : ''),
  );
  const capable = report.packages.filter((p) => capabilityList(p.capabilities) !== '');
  lines.push(`packages with capabilities: ${capable.length} of ${report.packages.length}`);
  if (capable.length > 0) {
    const mark = (on: boolean): string => (on ? 'x' : '');
    lines.push(
      ...table(
        ['package', 'network', 'fs', 'process', 'codegen', 'hosts'],
        capable.map((p) => [
          `${p.name}@${p.version}`,
          mark(p.capabilities.network),
          mark(p.capabilities.fs),
          mark(p.capabilities.process),
          mark(p.capabilities.codegen),
          p.hosts.join(', '),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function where(f: Finding): string {
  return f.line === null ? f.file : `${f.file}:${f.line}`;
}

function capabilityList(c: ScanReport['own']['capabilities']): string {
  return (['network', 'fs', 'process', 'codegen'] as const).filter((k) => c[k]).join(', ');
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

// ---------------------------------------------------------------------------------------------------
// SARIF 2.1.0
// ---------------------------------------------------------------------------------------------------

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
/** GitHub code scanning reads `security-severity` (0–10) to rank alerts. */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.5', low: '2.0', info: '0.0' };

/**
 * The report as a SARIF 2.1.0 log. Findings below `low` are left out (they are notes about files the
 * scan could not read, not alerts). URIs are relative to `base` (default: the current directory) when
 * the scanned directory is inside it, so that code scanning maps them onto the repository.
 */
export function formatSarif(report: ScanReport, base: string = process.cwd()): string {
  const ruleIds = Object.keys(RULES) as RuleId[];
  const absoluteDir = isAbsolute(report.dir) ? report.dir : join(base, report.dir);
  const prefix = relative(base, absoluteDir);
  const insideBase = !prefix.startsWith('..') && !isAbsolute(prefix);
  const uriOf = (file: string): string =>
    insideBase && prefix !== '' ? `${prefix.split(sep).join('/')}/${file}` : file;
  const baseUri = (insideBase ? pathToFileURL(base) : pathToFileURL(absoluteDir)).href;
  const results = report.findings
    .filter((f) => severityRank(f.severity) >= severityRank('low'))
    .map((f) => ({
      ruleId: f.rule,
      ruleIndex: ruleIds.indexOf(f.rule),
      level: LEVEL[f.severity],
      message: { text: f.package ? `${f.package}: ${f.message}` : f.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: encodeURI(uriOf(f.file)), uriBaseId: '%SRCROOT%' },
            ...(f.line === null
              ? {}
              : { region: { startLine: f.line, ...(f.column === null ? {} : { startColumn: f.column }) } }),
          },
        },
      ],
      partialFingerprints: {
        'ephemeraFinding/v1': createHash('sha256')
          .update(`${f.rule}\0${f.file}\0${f.package ?? ''}\0${f.message}`)
          .digest('hex')
          .slice(0, 32),
      },
      properties: { severity: f.severity, ...(f.package ? { package: f.package } : {}) },
    }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: TOOL_VERSION,
            semanticVersion: TOOL_VERSION,
            informationUri: TOOL_URI,
            rules: ruleIds.map((id) => {
              const rule = RULES[id];
              return {
                id,
                name: id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
                shortDescription: { text: rule.title },
                fullDescription: { text: `${rule.title}. ${rule.help}` },
                help: { text: rule.help },
                defaultConfiguration: { level: LEVEL[rule.severity] },
                properties: {
                  tags: ['security', rule.scope === 'code' ? 'code' : 'supply-chain'],
                  'security-severity': SECURITY_SEVERITY[rule.severity],
                  precision: 'medium',
                },
              };
            }),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: baseUri.endsWith('/') ? baseUri : `${baseUri}/` } },
        columnKind: 'utf16CodeUnits',
        results,
        properties: {
          files: report.files,
          packages: report.packages.length,
          durationMs: report.durationMs,
        },
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}

export { SEVERITIES };
