/**
 * The event firewall end to end: the seeded attack corpus (250+ payloads) and benign corpus
 * (5,000 requests) against the deliberately vulnerable functions of examples/vulnerable/, run in the
 * lab with the real runtime client, the guard installed without code changes (register mode), and
 * the real PostgreSQL.
 *
 * Three runs:
 * 1. the attacks with the guard's controls off — the attacks are real: most of them succeed;
 * 2. the attacks with the guard at its defaults (firewall `block`) — at least 99 % are stopped
 *    (their effect does not show in the answer);
 * 3. the benign corpus with the same guard — zero blocks, from any control.
 * The two functions whose whole job is a sink (the curl converter, the link preview) run with
 * `childProcess` and `egress` at `alert`: an allow-list cannot express "any URL the user gives", and
 * the point here is the firewall's sink-aware decision, not theirs.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import {
  type Answer,
  attackCorpus,
  benignCorpus,
  VULNERABLE_FUNCTIONS,
  type VulnerableFunction,
} from './corpora/firewall-corpus.js';
import { collectLogs, eventually, REGISTER, sleep, traffic } from './helpers.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = 20261130;
const BENIGN = Number(process.env.FIREWALL_BENIGN ?? 5000);
const CONCURRENCY = 4;
const PG = {
  PGHOST: process.env.PGHOST ?? '127.0.0.1',
  PGPORT: process.env.PGPORT ?? '5432',
  PGUSER: process.env.PGUSER ?? 'ephemera',
  PGPASSWORD: process.env.PGPASSWORD ?? 'ephemera',
  PGDATABASE: process.env.PGDATABASE ?? 'ephemera',
};

const HANDLERS: Record<VulnerableFunction, string> = {
  'eval-json': 'examples/vulnerable/eval-json/index.handler',
  'node-serialize': 'examples/vulnerable/node-serialize/index.handler',
  shell: 'examples/vulnerable/shell/index.handler',
  sql: 'examples/vulnerable/sql/index.handler',
  'path-read': 'examples/vulnerable/path-read/index.handler',
  'fetch-url': 'examples/vulnerable/fetch-url/index.handler',
  merge: 'examples/vulnerable/merge/index.handler',
  'nosql-login': 'examples/vulnerable/nosql-login/index.handler',
};

/**
 * What each function legitimately needs beyond the defaults: its database, the files it serves (its
 * own package), and for the two functions whose job is a user-chosen sink, the sink control at
 * `alert` (an allow-list cannot express "any URL the user gives"; the firewall still decides).
 */
const FUNCTION_POLICY: Partial<Record<VulnerableFunction, Record<string, string>>> = {
  sql: { EPHEMERA_EGRESS_ALLOW: '127.0.0.1:5432' },
  'path-read': { EPHEMERA_POLICY: '{"fs":{"readSource":true}}' },
  shell: { EPHEMERA_CHILD_PROCESS: 'alert' },
  'fetch-url': { EPHEMERA_EGRESS: 'alert' },
};

function answerOf(result: InvokeResult): Answer {
  if (result.outcome !== 'success') return { outcome: result.outcome, errorType: result.error?.errorType };
  try {
    const payload = JSON.parse(result.payload.toString('utf8')) as { statusCode?: number; body?: string };
    return { outcome: 'success', statusCode: payload.statusCode, body: payload.body };
  } catch {
    return { outcome: 'success', body: result.payload.toString('utf8') };
  }
}

async function startLab(prefix: string, guardEnv: Record<string, string>): Promise<Lab> {
  return createLab({
    functions: VULNERABLE_FUNCTIONS.map((fn) => ({
      name: `${prefix}-${fn}`,
      codeDir: REPO_ROOT,
      handler: HANDLERS[fn],
      timeoutSeconds: 10,
      memoryMb: 512,
      environment: {
        ...PG,
        NODE_OPTIONS: `--require ${REGISTER}`,
        EPHEMERA_MAX_INVOCATIONS: 'off',
        EPHEMERA_MAX_AGE_SECONDS: 'off',
        ...guardEnv,
        ...(guardEnv.EPHEMERA_MODE === 'off' ? {} : FUNCTION_POLICY[fn]),
      },
    })),
  });
}

describe('event firewall corpora against the vulnerable functions (lab, register mode)', () => {
  const metadata = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('EPH-PWN {"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"stand-in"}');
  });
  let port = 0;

  before(async () => {
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    port = (metadata.address() as AddressInfo).port;
  });
  after(() => {
    metadata.closeAllConnections();
    metadata.close();
  });

  async function runAttacks(lab: Lab, prefix: string) {
    const corpus = attackCorpus(SEED, port);
    const requestIds: string[] = [];
    const answers = await traffic(corpus.length, CONCURRENCY, async (i) => {
      const c = corpus[i];
      assert.ok(c);
      const result = await lab.invoke(`${prefix}-${c.fn}`, c.event);
      requestIds[i] = result.requestId;
      return answerOf(result);
    });
    const byCategory = new Map<string, { total: number; succeeded: number }>();
    let succeeded = 0;
    corpus.forEach((c, i) => {
      const worked = c.succeeded(answers[i] as Answer);
      if (worked) succeeded++;
      const row = byCategory.get(c.category) ?? { total: 0, succeeded: 0 };
      row.total++;
      if (worked) row.succeeded++;
      byCategory.set(c.category, row);
    });
    return { corpus, answers, succeeded, byCategory, requestIds };
  }

  it('the attacks are real: with the guard off, most of them succeed', async (t: TestContext) => {
    const lab = await startLab('off', { EPHEMERA_MODE: 'off' });
    try {
      const { corpus, succeeded, byCategory } = await runAttacks(lab, 'off');
      for (const [category, row] of byCategory)
        t.diagnostic(`unprotected ${category}: ${row.succeeded}/${row.total} succeeded`);
      t.diagnostic(`unprotected: ${succeeded}/${corpus.length} attacks succeeded`);
      assert.ok(corpus.length >= 200, `${corpus.length} attacks`);
      assert.ok(
        succeeded / corpus.length >= 0.6,
        `${succeeded}/${corpus.length} succeeded without the guard`,
      );
    } finally {
      await lab.close();
    }
  });

  it('with the guard at its defaults, at least 99 % of the attacks are stopped, and zero of 5,000 benign requests blocked', async (t: TestContext) => {
    const lab = await startLab('on', {});
    const logs = collectLogs(lab);
    try {
      const { corpus, answers, succeeded, byCategory, requestIds } = await runAttacks(lab, 'on');
      await sleep(300);
      // Which control stopped each attack: the block events of its request.
      const stoppers = new Map<string, Set<string>>();
      for (const e of logs.guard()) {
        if (e.type !== 'block' || e.requestId === null) continue;
        const set = stoppers.get(e.requestId) ?? new Set<string>();
        set.add(e.control ?? 'unknown');
        stoppers.set(e.requestId, set);
      }
      const byFirewall = new Map<string, number>();
      corpus.forEach((c, i) => {
        if (stoppers.get(requestIds[i] as string)?.has('firewall'))
          byFirewall.set(c.category, (byFirewall.get(c.category) ?? 0) + 1);
      });
      for (const [category, row] of byCategory)
        t.diagnostic(
          `protected ${category}: ${row.total - row.succeeded}/${row.total} stopped, ${byFirewall.get(category) ?? 0} with a firewall block event`,
        );
      const stopped = corpus.length - succeeded;
      const rate = stopped / corpus.length;
      t.diagnostic(`attack corpus: ${stopped}/${corpus.length} stopped (${(rate * 100).toFixed(1)} %)`);
      const through = corpus
        .filter((c, i) => c.succeeded(answers[i] as Answer))
        .map((c) => `${c.category}#${c.id}`);
      assert.ok(rate >= 0.99, `stopped ${stopped}/${corpus.length}; got through: ${through.join(', ')}`);
      const firewallBlocks = logs.guard().filter((e) => e.type === 'block' && e.control === 'firewall');
      assert.ok(firewallBlocks.length > 0, 'the firewall reported its blocks');
      for (const e of firewallBlocks) {
        for (const key of ['detector', 'location', 'fingerprint', 'sourceIp'])
          assert.ok(key in e.detail, `${key} in ${JSON.stringify(e.detail)}`);
        assert.ok(!JSON.stringify(e.detail).includes('EPH-PWN'), 'no payload value in an event');
      }
      const detectors = new Set(firewallBlocks.map((e) => e.detail.detector));
      t.diagnostic(`firewall detectors that fired: ${[...detectors].sort().join(', ')}`);

      // The benign corpus, same lab, same guard.
      await eventually(
        () =>
          VULNERABLE_FUNCTIONS.every((fn) => lab.environments(`on-${fn}`).every((e) => e.state !== 'busy')),
        'idle',
      );
      await sleep(200);
      const before = logs.guard().length;
      const benign = benignCorpus(SEED + 1, BENIGN);
      const results = await traffic(benign.length, CONCURRENCY, async (i) => {
        const c = benign[i];
        assert.ok(c);
        return answerOf(await lab.invoke(`on-${c.fn}`, c.event));
      });
      await sleep(300);
      const blocks = logs
        .guard()
        .slice(before)
        .filter((e) => e.type === 'block');
      const refused = results.filter(
        (a) => a.statusCode === 403 || (a.errorType ?? '').startsWith('EPHEMERA_ERR'),
      );
      t.diagnostic(
        `benign corpus: ${benign.length} requests, ${blocks.length} block events, ${refused.length} refused answers (${((refused.length / benign.length) * 100).toFixed(2)} %)`,
      );
      assert.deepEqual(
        blocks.slice(0, 5).map((e) => ({ control: e.control, detail: e.detail })),
        [],
        'zero blocks on benign traffic',
      );
      assert.equal(refused.length, 0);
      const failed = results.filter((a) => a.outcome !== 'success');
      assert.equal(
        failed.length,
        0,
        `every benign request answered (${failed
          .slice(0, 3)
          .map((f) => f.errorType)
          .join(', ')})`,
      );
    } finally {
      await lab.close();
    }
  });
});
