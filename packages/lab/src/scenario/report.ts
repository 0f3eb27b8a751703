import type { ArmResult, EnvironmentLane } from './run.js';
import type { ScenarioResult } from './scenario.js';
import { labDuration, labTime, resultRows } from './table.js';

/**
 * The demo's HTML report (`ephemera-report.html`): self-contained (inline CSS and SVG, no script,
 * no network), one timeline per arm with a lane per environment, stolen cards over time, and the
 * table. Everything in it comes from the run's measurements.
 */
export function renderReport(result: ScenarioResult): string {
  const { header, rows } = resultRows(result);
  const table = `<table class="summary results"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r, i) =>
        `<tr data-arm="${esc(result.arms[i]?.arm ?? '')}">${r.map((c, j) => (j === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
  const lastWave = result.attackAtSeconds + 60;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ephemera demo — the warm-container attack, arm by arm</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>The warm-container attack, arm by arm</h1>
<p class="lede">A payment-update function behind API Gateway parses requests with <code>eval</code>.
An attacker sends one injection payload, fanned out ${result.attackRequests} times in parallel at
lab time ${labTime(result.attackAtSeconds)}, to implant a hook in every warm environment it reaches
(${result.variants.length} variants: ${result.variants.map((v) => `<code>${esc(v)}</code>`).join(', ')}), then only sends
keep-warm pings. ${result.victims} victims update their card over ${labDuration(result.durationSeconds)} of lab time.
Every arm runs the same traffic (seed ${result.seed}) on a fresh lab with the real AWS runtime interface client.</p>
<dl class="params">
<div><dt>Lab time</dt><dd>${labDuration(result.durationSeconds)} at ${result.timeScale}× (1 real second = ${labDuration(result.timeScale)})</dd></div>
<div><dt>Concurrency limit</dt><dd>${result.reservedConcurrency} environments</dd></div>
<div><dt>Lifecycle arm limit</dt><dd>maxAgeSeconds ${result.maxAgeRealSeconds} real s = ${labDuration(result.maxAgeRealSeconds * result.timeScale)} of lab time</dd></div>
<div><dt>Node</dt><dd>${esc(result.node)}</dd></div>
</dl>
</header>
<main>
<section>
<h2>Results</h2>
<div class="scroll">${table}</div>
<p class="note">Cards stolen = distinct victim card numbers that reached the attacker's collector. "Of victims after attack" counts victims whose request was sent after the fan-out began. Latencies are client-side, in real milliseconds. Attack requests: accepted (200) / refused (400 or 403) / throttled (429 after the attacker's one retry).</p>
</section>
${result.arms.map((arm) => armSection(arm, result, lastWave)).join('\n')}
<section class="legend">
<h2>Reading the timelines</h2>
<ul>
<li><span class="swatch clean"></span> an environment alive and clean; <span class="swatch init"></span> its INIT</li>
<li><span class="swatch infected"></span> the same environment after an implant reported in (▼ marks each implant)</li>
<li><span class="dot"></span> a victim's card arriving at the attacker's collector</li>
<li>End of a lane: <b class="end-recycled">┃ recycled by the guard</b>, <b class="end-reaped">┃ reaped idle</b>, <b class="end-crashed">┃ crashed</b>; lanes open at the right were alive when the run ended</li>
</ul>
</section>
</main>
</body>
</html>
`;
}

function headline(arm: ArmResult): string {
  const after = arm.victims.afterAttack;
  const parts: string[] = [];
  if (arm.stolen.cards > 0) {
    parts.push(
      `<strong class="bad">${arm.stolen.cards} cards stolen</strong> (${Math.round(arm.stolen.shareAfterAttack * 1000) / 10}% of the ${after} victims after the attack)`,
    );
    if (arm.theftWindow) parts.push(`theft window ${labDuration(arm.theftWindow.seconds)}`);
  } else {
    parts.push('<strong class="good">0 cards stolen</strong>');
  }
  parts.push(
    arm.victims.failed === 0
      ? '<span class="good">0 victim requests failed</span>'
      : `<strong class="bad">${arm.victims.failed} of ${arm.victims.total} victim requests failed</strong>`,
  );
  if (arm.attack.refused > 0)
    parts.push(`${arm.attack.refused} of ${arm.attack.requests} attack requests refused`);
  parts.push(`${arm.environments.infected} of ${arm.environments.created} environments infected`);
  return parts.join(' · ');
}

function armSection(arm: ArmResult, result: ScenarioResult, lastWave: number): string {
  const failures =
    arm.victims.failureSamples.length === 0
      ? ''
      : `<p class="note">Victim failures looked like: ${arm.victims.failureSamples.map((f) => `<code>${esc(f)}</code>`).join('; ')}</p>`;
  return `<section class="arm" id="arm-${esc(arm.arm)}" data-arm="${esc(arm.arm)}" data-stolen="${arm.stolen.cards}" data-lanes="${arm.lanes.length}">
<h2>${esc(arm.label)}</h2>
<p class="setup">${esc(arm.setup)}</p>
<p class="headline">${headline(arm)}</p>
${timeline(arm, result, lastWave)}
${incidents(arm)}
${failures}
</section>`;
}

const W = 1000;
const GUTTER = 70;
const LANE = 12;
const GAP = 4;
const TOP = 26;
const CHART = 90;

function timeline(arm: ArmResult, result: ScenarioResult, lastWave: number): string {
  const duration = result.durationSeconds;
  const end = Math.max(duration, ...arm.lanes.map((l) => l.end?.at ?? 0));
  const x = (t: number) => GUTTER + (Math.max(0, Math.min(end, t)) / end) * (W - GUTTER - 10);
  const lanesHeight = arm.lanes.length * (LANE + GAP);
  const chartTop = TOP + lanesHeight + 24;
  const height = chartTop + CHART + 28;
  const parts: string[] = [];
  // Hour/quarter ticks.
  const step = duration > 4 * 3600 ? 3600 : duration > 3600 ? 900 : 300;
  for (let t = 0; t <= end; t += step) {
    parts.push(
      `<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${TOP - 6}" y2="${height - 20}"/><text class="axis" x="${x(t)}" y="${height - 6}" text-anchor="middle">${labTime(t)}</text>`,
    );
  }
  parts.push(
    `<rect class="attack" x="${x(result.attackAtSeconds)}" y="${TOP - 8}" width="${Math.max(3, x(lastWave) - x(result.attackAtSeconds))}" height="${lanesHeight + 8}"><title>attack fan-out</title></rect><text class="attack-label" x="${x(result.attackAtSeconds) + 4}" y="${TOP - 12}">attack</text>`,
  );
  arm.lanes.forEach((lane, i) => {
    parts.push(laneSvg(lane, TOP + i * (LANE + GAP), x, end));
  });
  // Cumulative stolen cards.
  const max = Math.max(1, result.victims);
  const y = (n: number) => chartTop + CHART - (n / max) * CHART;
  let path = `M ${x(0)} ${y(0)}`;
  for (const [t, n] of arm.stolenSeries) path += ` H ${x(t)} V ${y(n)}`;
  path += ` H ${x(end)}`;
  parts.push(
    `<text class="axis" x="4" y="${chartTop + 10}">stolen</text><text class="axis" x="4" y="${chartTop + 22}">cards</text>`,
    `<line class="baseline" x1="${GUTTER}" x2="${W - 10}" y1="${y(0)}" y2="${y(0)}"/>`,
    `<text class="axis" x="${GUTTER - 4}" y="${y(max) + 4}" text-anchor="end">${max}</text><text class="axis" x="${GUTTER - 4}" y="${y(0)}" text-anchor="end">0</text>`,
    `<path class="stolen-line" d="${path}"><title>${arm.stolen.cards} cards stolen</title></path>`,
  );
  return `<svg class="timeline" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${esc(arm.label)}: ${arm.lanes.length} environments, ${arm.stolen.cards} cards stolen">
<text class="axis" x="4" y="${TOP - 12}">environments</text>
${parts.join('\n')}
</svg>`;
}

function laneSvg(lane: EnvironmentLane, top: number, x: (t: number) => number, end: number): string {
  const stop = lane.end?.at ?? end;
  const init = lane.initialized ?? stop;
  const infectedAt = lane.infected.length > 0 ? Math.min(...lane.infected.map((i) => i.at)) : undefined;
  const out: string[] = [
    `<g class="lane" data-lane="${esc(lane.id)}" data-infected="${infectedAt !== undefined}">`,
  ];
  const endText = lane.end
    ? `${lane.end.kind}${lane.end.reason ? ` (${lane.end.reason})` : ''} at ${labTime(lane.end.at)}`
    : 'alive at the end';
  out.push(
    `<title>environment ${esc(lane.id)}: created ${labTime(lane.created)}, ${endText}; ${lane.infected.length} implant(s), ${lane.stolen.length} card(s) stolen here</title>`,
    `<text class="lane-id" x="${GUTTER - 4}" y="${top + LANE - 2}" text-anchor="end">${esc(lane.id.slice(0, 6))}</text>`,
    `<rect class="init" x="${x(lane.created)}" y="${top}" width="${Math.max(1, x(init) - x(lane.created))}" height="${LANE}"/>`,
  );
  const cleanEnd = infectedAt ?? stop;
  if (cleanEnd > init)
    out.push(
      `<rect class="clean" x="${x(init)}" y="${top}" width="${Math.max(1, x(cleanEnd) - x(init))}" height="${LANE}"/>`,
    );
  if (infectedAt !== undefined && stop > infectedAt)
    out.push(
      `<rect class="infected" x="${x(infectedAt)}" y="${top}" width="${Math.max(1, x(stop) - x(infectedAt))}" height="${LANE}"/>`,
    );
  for (const inf of lane.infected) {
    const cx = x(inf.at);
    out.push(
      `<path class="implant" d="M ${cx - 4} ${top - 3} L ${cx + 4} ${top - 3} L ${cx} ${top + 4} Z"><title>implant ${esc(inf.variant)} at ${labTime(inf.at)}</title></path>`,
    );
  }
  for (const t of lane.stolen) out.push(`<circle class="card" cx="${x(t)}" cy="${top + LANE / 2}" r="2.2"/>`);
  if (lane.end && lane.end.kind !== 'shutdown') {
    out.push(
      `<rect class="end end-${lane.end.kind}" x="${x(stop) - 1}" y="${top - 2}" width="3" height="${LANE + 4}"><title>${esc(endText)}</title></rect>`,
    );
  }
  out.push('</g>');
  return out.join('');
}

function incidents(arm: ArmResult): string {
  if (arm.observed === null) return '';
  if (arm.observed.incidents.length === 0)
    return '<p class="note incidents">The correlator watching this arm raised no incident.</p>';
  const rows = arm.observed.incidents
    .map(
      (i) =>
        `<tr data-rule="${esc(i.rule)}"><th scope="row">${esc(i.rule)}</th><td>${esc(i.severity)}</td><td class="title">${esc(i.title)}</td><td>${esc(i.sources.join(', ') || '-')}</td><td>${i.environments}</td><td>${i.requestIds}</td><td>${i.events}</td></tr>`,
    )
    .join('');
  return `<h3>Correlator incidents</h3><table class="summary incidents"><thead><tr><th>rule</th><th>severity</th><th>title</th><th>sources</th><th>environments</th><th>request ids</th><th>evidence events</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5d6678; --bad: #b3261e; --good: #1e7b3c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7f9; }
header, main { max-width: 1360px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 0 0 6px; }
.lede { max-width: 900px; color: var(--muted); }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eceff3; padding: 1px 4px; border-radius: 3px; }
.params { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0 20px; }
.params div { display: flex; gap: 6px; }
.params dt { color: var(--muted); }
.params dd { margin: 0; font-weight: 600; }
section { background: #fff; border: 1px solid #e1e5ea; border-radius: 8px; padding: 18px 20px; margin: 0 0 18px; }
table.summary { border-collapse: collapse; width: 100%; font-size: 13.5px; }
.summary th, .summary td { padding: 6px 8px; border-bottom: 1px solid #e9ecf0; text-align: right; white-space: nowrap; }
.summary thead th { color: var(--muted); font-weight: 600; font-size: 12.5px; vertical-align: bottom; white-space: normal; }
.summary th[scope=row], .summary thead th:first-child { text-align: left; }
.scroll { overflow-x: auto; }
table.results td:nth-child(n+11) { white-space: normal; min-width: 110px; text-align: left; }
table.results th[scope=row] { white-space: normal; max-width: 190px; }
.summary th, .summary td { padding: 6px 6px; }
.note { color: var(--muted); font-size: 13px; }
.setup { color: var(--muted); margin: 0 0 4px; }
.headline { margin: 0 0 10px; }
.bad { color: var(--bad); }
.good { color: var(--good); }
svg.timeline { display: block; background: #fbfcfd; border: 1px solid #eef0f3; border-radius: 6px; }
.axis, .lane-id, .attack-label { font: 10.5px ui-monospace, Menlo, monospace; fill: var(--muted); }
.attack-label { fill: var(--bad); }
.tick { stroke: #e8ebef; }
.baseline { stroke: #c9ced6; }
.attack { fill: rgba(179, 38, 30, 0.10); }
.init { fill: #c8d6e8; }
.clean { fill: #6f8fb8; }
.infected { fill: #d9534f; }
.implant { fill: #7a0f0a; }
.card { fill: #3b0503; }
.end-recycled { fill: #1f5fbf; color: #1f5fbf; }
.end-exited { fill: #1f5fbf; color: #1f5fbf; }
.end-reaped, .end-retired { fill: #8a93a3; color: #8a93a3; }
.end-crashed { fill: #e08a00; color: #e08a00; }
.stolen-line { fill: none; stroke: var(--bad); stroke-width: 2; }
h3 { font-size: 15px; margin: 14px 0 4px; }
.summary td.title { text-align: left; white-space: normal; }
.legend ul { margin: 0; padding-left: 18px; }
.swatch { display: inline-block; width: 22px; height: 10px; border-radius: 2px; vertical-align: middle; }
.swatch.clean { background: #6f8fb8; } .swatch.init { background: #c8d6e8; } .swatch.infected { background: #d9534f; }
.dot { display: inline-block; width: 6px; height: 6px; border-radius: 50%; background: #3b0503; vertical-align: middle; }
`;
