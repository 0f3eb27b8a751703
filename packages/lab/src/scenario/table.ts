import type { ArmResult } from './run.js';
import type { ScenarioResult } from './scenario.js';

/** Lab seconds as h:mm (the lab clock of the scenario). */
export function labTime(seconds: number): string {
  const total = Math.max(0, Math.round(seconds / 60));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** Lab seconds as a short duration: 45 s, 12 min, 1 h 38 min. */
export function labDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;

function countsText(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? '-' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** One row of cells per arm, the same for the terminal and the HTML report. */
export function resultRows(result: ScenarioResult): { header: string[]; rows: string[][] } {
  const header = [
    'arm',
    'envs',
    'infected',
    'cards stolen',
    'of victims after attack',
    'theft window',
    'victims failed',
    'p50 ms',
    'p95 ms',
    'attack ok/refused/429',
    'recycles',
    'guard events',
    'correlator incidents',
  ];
  const rows = result.arms.map((a: ArmResult) => [
    a.label,
    String(a.environments.created),
    String(a.environments.infected),
    String(a.stolen.cards),
    `${percent(a.stolen.shareAfterAttack)} of ${a.victims.afterAttack}`,
    a.theftWindow ? labDuration(a.theftWindow.seconds) : '-',
    `${a.victims.failed} of ${a.victims.total}`,
    String(a.latencyMs.p50),
    String(a.latencyMs.p95),
    `${a.attack.accepted}/${a.attack.refused}/${a.attack.throttled}${a.attack.failed > 0 ? ` (+${a.attack.failed} failed)` : ''}`,
    countsText(a.recycles),
    countsText(a.guardEvents),
    a.observed === null
      ? 'not watched'
      : countsText(
          a.observed.incidents.reduce<Record<string, number>>((acc, i) => {
            acc[i.rule] = (acc[i.rule] ?? 0) + 1;
            return acc;
          }, {}),
        ),
  ]);
  return { header, rows };
}

/** The terminal table. */
export function renderTable(result: ScenarioResult): string {
  const { header, rows } = resultRows(result);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
