import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const TOKEN = 'cli-test-token-42';
const dir = mkdtempSync(join(tmpdir(), 'ephemera-correlate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function ephemera(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
}

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = ephemera(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every stdout line of a child, from its start; `waitFor` resolves on the first (past or future) match. */
function lines(child: ChildProcessWithoutNullStreams) {
  const seen: string[] = [];
  const waiters: { match: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const line of parts) {
      seen.push(line);
      for (const w of [...waiters]) {
        const m = line.match(w.match);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  });
  return {
    seen,
    waitFor(match: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
      for (const line of seen) {
        const m = line.match(match);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matched ${match}; saw:\n${seen.join('\n')}`)),
          ms,
        );
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

const detection = (env: string, at: number) => {
  const requestId = randomUUID();
  return {
    ephemera: 1,
    id: randomUUID(),
    type: 'detection',
    time: new Date(at).toISOString(),
    function: 'payments',
    env,
    requestId,
    invocation: 2,
    ageMs: 900,
    control: 'integrity',
    action: 'recycle',
    detail: { count: 1, drifts: [], sourceIp: '203.0.113.66', appearedIn: requestId },
  };
};

describe('ephemera correlate', () => {
  it('serve ingests, incidents lists them (table, JSON, one by id, from the database), tail follows, Ctrl-C stops', async () => {
    const db = join(dir, 'cli.db');
    const serve = ephemera(['correlate', 'serve', '--db', db, '--port', '0'], {
      EPHEMERA_CORRELATOR_TOKEN: TOKEN,
    });
    const serveOut = lines(serve);
    const [, url] = (await serveOut.waitFor(/^correlator listening on (http:\S+)/)) as [string, string];
    const tail = ephemera(['correlate', 'tail', '--url', url, '--token', TOKEN, '--interval', '100']);
    const tailOut = lines(tail);
    const t0 = Date.parse('2026-11-30T04:00:00Z');
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify([detection('aaaaaaaaaaa1', t0), detection('aaaaaaaaaaa2', t0 + 1000)]),
    });
    assert.equal(res.status, 200);
    // serve prints each incident change as a JSON line.
    await serveOut.waitFor(/"rule":"infection"/);
    const tailed = await tailOut.waitFor(/^\{"change":"created".*"rule":"infection"/);
    assert.match(tailed.input ?? '', /203\.0\.113\.66/);
    tail.kill('SIGINT');

    const table = await run(['correlate', 'incidents', '--url', url, '--token', TOKEN]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^id\trule\tseverity/);
    assert.match(
      table.stdout,
      /infection\tcritical\t2026-11-30T04:00:00\.000Z\t2026-11-30T04:00:01\.000Z\t2\t203\.0\.113\.66/,
    );
    const json = await run([
      'correlate',
      'incidents',
      '--url',
      url,
      '--token',
      TOKEN,
      '--json',
      '--rule',
      'infection',
    ]);
    const list = JSON.parse(json.stdout) as { id: string; environments: string[] }[];
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]?.environments, ['aaaaaaaaaaa1', 'aaaaaaaaaaa2']);
    const one = await run([
      'correlate',
      'incidents',
      '--url',
      url,
      '--token',
      TOKEN,
      '--id',
      list[0]?.id as string,
    ]);
    assert.equal((JSON.parse(one.stdout) as { evidence: unknown[] }).evidence.length, 2);
    const filtered = await run([
      'correlate',
      'incidents',
      '--url',
      url,
      '--token',
      TOKEN,
      '--function',
      'orders',
    ]);
    assert.match(filtered.stdout, /^no incidents/);
    const unauth = await run(['correlate', 'incidents', '--url', url, '--token', 'wrong-token-123']);
    assert.equal(unauth.code, 1);
    assert.match(unauth.stderr, /EPHEMERA_ERR_CORRELATOR_UNAUTHORIZED: 401/);

    serve.kill('SIGINT');
    const code = await new Promise((r) => serve.once('exit', r));
    assert.equal(code, 0);
    // The database outlives the server: read it directly.
    const offline = await run(['correlate', 'incidents', '--db', db, '--json']);
    assert.equal((JSON.parse(offline.stdout) as unknown[]).length, 1);
  });

  it('reads rules from a file and refuses a bad one naming the key', async () => {
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ infection: { environments: 0.5 } }));
    const r = await run([
      'correlate',
      'serve',
      '--db',
      ':memory:',
      '--port',
      '0',
      '--token',
      TOKEN,
      '--rules',
      rules,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /EPHEMERA_ERR_CORRELATOR_CONFIG: rules\.infection\.environments is 0\.5; accepted: an integer >= 0/,
    );
  });

  it('bad flags are usage errors (exit 2) that name the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['correlate'], /correlate needs a subcommand: serve, incidents or tail/],
      [['correlate', 'watch'], /got "watch"/],
      [['correlate', 'serve', '--db', ':memory:'], /needs a token: --token T or EPHEMERA_CORRELATOR_TOKEN/],
      [
        ['correlate', 'serve', '--token', TOKEN, '--port', '70000'],
        /--port is "70000"; accepted: an integer from 0 to 65535/,
      ],
      [['correlate', 'serve', '--token', TOKEN, '--verbose'], /Unknown option '--verbose'/],
      [
        ['correlate', 'incidents', '--since', 'yesterday'],
        /--since is "yesterday"; accepted: an ISO 8601 time/,
      ],
      [['correlate', 'incidents', '--url', 'http://x', '--db', 'y.db'], /--url and --db are exclusive/],
      [['correlate', 'tail', '--interval', '0'], /--interval is "0"; accepted: an integer from 50/],
      [
        ['correlate', 'serve', '--token', TOKEN, '--rules', '/nonexistent.json'],
        /--rules \/nonexistent\.json: cannot read it/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage:/);
    }
  });
});
