/**
 * `ephemera scan` on a real deployment (AWS SDK v3 DynamoDB client + express + pg and their whole
 * dependency closure, built from the repository's node_modules), compared in the same run with
 * @nodesecure/js-x-ray on exactly the same files, and with a floor: meriyah parsing the same files and
 * nothing else. Then both tools on the poisoned-dependency fixture.
 *
 *   node --import tsx bench/scan.bench.ts [--rounds N]     (default 5 rounds, interleaved)
 *
 * The machine is shared: wall time is noisy, so CPU time (process.cpuUsage) is reported beside it and
 * the comparison is a ratio against the parse floor measured in the same rounds.
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AstAnalyser, type Warning } from '@nodesecure/js-x-ray';
import { parse } from 'meriyah';
import { readDeployment } from '../packages/cli/src/scan/deployment.js';
import { type ScanReport, scanDeployment } from '../packages/cli/src/scan/scan.js';
import { buildRealDeployment } from '../packages/cli/test/deployment-fixture.js';
import { machine } from './lib/machine.js';
import { renderText, type Table } from './lib/table.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 5);
const POISONED = fileURLToPath(new URL('../packages/guard/test/fixtures/poisoned-dep/', import.meta.url));

interface Sample {
  wall: number;
  cpu: number;
}

function measure(run: () => void): Sample {
  const cpu = process.cpuUsage();
  const start = performance.now();
  run();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The file list both tools see: the deployment's own files and every package file. */
function filesOf(dir: string): { path: string; kind: 'module' | 'commonjs'; pkg: string | null }[] {
  const deployment = readDeployment(dir);
  return [
    ...deployment.own.map((f) => ({ path: f.path, kind: f.kind, pkg: null })),
    ...deployment.packages.flatMap((p) => p.files.map((f) => ({ path: f.path, kind: f.kind, pkg: p.name }))),
  ];
}

function jsXray(files: ReturnType<typeof filesOf>): {
  warnings: (Warning & { pkg: string | null })[];
  failed: number;
} {
  const analyser = new AstAnalyser();
  const warnings: (Warning & { pkg: string | null })[] = [];
  let failed = 0;
  for (const file of files) {
    const result = analyser.analyseFileSync(file.path, file.pkg ? { packageName: file.pkg } : {});
    if (!result.ok) failed++;
    for (const warning of result.warnings) warnings.push({ ...warning, file: file.path, pkg: file.pkg });
  }
  return { warnings, failed };
}

function parseFloor(files: ReturnType<typeof filesOf>): number {
  let failed = 0;
  const options = { next: true, ranges: true, webcompat: true, validateRegex: false } as const;
  for (const file of files) {
    const source = readFileSync(file.path, 'utf8');
    try {
      parse(source, { ...options, sourceType: file.kind });
    } catch {
      try {
        parse(source, { ...options, sourceType: file.kind === 'module' ? 'commonjs' : 'module' });
      } catch {
        failed++;
      }
    }
  }
  return failed;
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return new Map([...counts].sort((a, b) => b[1] - a[1]));
}

const host = machine();
const real = buildRealDeployment();
try {
  const files = filesOf(real.dir);
  const bytes = files.reduce((sum, f) => sum + readFileSync(f.path).length, 0);
  console.log(
    `real deployment: ${real.packages} packages, ${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB; ` +
      `${ROUNDS} interleaved rounds; node ${host.node}; ${host.nproc} CPUs; load ${host.loadavgStart.join(' ')}`,
  );

  // Warm-up (JIT, file cache) for all three, then interleaved rounds in rotating order.
  let report: ScanReport = scanDeployment(real.dir);
  let xray = jsXray(files);
  parseFloor(files);
  const samples: Record<'ephemera' | 'xray' | 'floor', Sample[]> = { ephemera: [], xray: [], floor: [] };
  const arms = [
    ['ephemera', () => (report = scanDeployment(real.dir))],
    ['xray', () => (xray = jsXray(files))],
    ['floor', () => parseFloor(files)],
  ] as const;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? arms : [...arms].reverse();
    for (const [name, run] of order) samples[name].push(measure(run));
  }

  const floorWall = median(samples.floor.map((s) => s.wall));
  const floorCpu = median(samples.floor.map((s) => s.cpu));
  const row = (label: string, list: Sample[], findings: string): string[] => {
    const wall = median(list.map((s) => s.wall));
    const cpu = median(list.map((s) => s.cpu));
    return [
      label,
      `${wall.toFixed(0)} ms`,
      `${cpu.toFixed(0)} ms`,
      `${Math.round((files.length / cpu) * 1000)}`,
      `${(bytes / 1024 / 1024 / (cpu / 1000)).toFixed(1)}`,
      `×${(cpu / floorCpu).toFixed(2)}`,
      `×${(wall / floorWall).toFixed(2)}`,
      findings,
    ];
  };
  const alerts = report.findings.filter((f) => f.severity !== 'info');
  const timing: Table = {
    title: `Scan of the real deployment (${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB), median of ${ROUNDS}`,
    headers: [
      'tool',
      'wall',
      'CPU',
      'files/s (CPU)',
      'MB/s (CPU)',
      'CPU vs parse floor',
      'wall vs floor',
      'findings',
    ],
    rows: [
      row('meriyah parse only (floor)', samples.floor, '–'),
      row(
        'ephemera scan',
        samples.ephemera,
        `${alerts.length} (+${report.findings.length - alerts.length} info)`,
      ),
      row(
        '@nodesecure/js-x-ray 16',
        samples.xray,
        `${xray.warnings.length} warnings, ${xray.failed} files failed`,
      ),
    ],
    notes: [
      'ephemera scan includes walking node_modules and reading files; js-x-ray and the floor read the same list of files',
      'files/s and MB/s use CPU time, which other sessions on this shared machine disturb less than wall time',
    ],
  };
  console.log(renderText(timing));

  const ours = countBy(report.findings, (f) => `${f.rule} (${f.severity})`);
  const theirs = countBy(xray.warnings, (w) => `${w.kind} (${w.severity})`);
  console.log(
    renderText({
      title: 'Findings on the real deployment, per category',
      headers: ['ephemera scan', 'count', '', 'js-x-ray', 'count'],
      rows: Array.from({ length: Math.max(ours.size, theirs.size) }, (_, i) => {
        const a = [...ours][i];
        const b = [...theirs][i];
        return [a?.[0] ?? '', a ? String(a[1]) : '', '', b?.[0] ?? '', b ? String(b[1]) : ''];
      }),
    }),
  );
  const xrayPackages = countBy(xray.warnings, (w) => w.pkg ?? '(own code)');
  console.log(
    renderText({
      title: 'js-x-ray warnings per package (top 12)',
      headers: ['package', 'warnings'],
      rows: [...xrayPackages].slice(0, 12).map(([name, n]) => [name, String(n)]),
    }),
  );

  // The poisoned fixture: what each tool says about evil-telemetry.
  const poisonedFiles = filesOf(POISONED);
  const poisonedReport = scanDeployment(POISONED);
  const poisonedXray = jsXray(poisonedFiles);
  console.log(
    renderText({
      title: 'The poisoned dependency fixture (evil-telemetry patches https.request and JSON.stringify)',
      headers: ['tool', 'findings'],
      rows: [
        [
          'ephemera scan',
          poisonedReport.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('; ') || 'none',
        ],
        [
          'js-x-ray',
          poisonedXray.warnings
            .map((w) => `${w.severity} ${w.kind}${w.value ? ` (${w.value})` : ''}`)
            .join('; ') || 'none',
        ],
      ],
    }),
  );
  console.log(
    `\nload average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(real.dir, { recursive: true, force: true });
}
