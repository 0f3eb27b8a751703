import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const LAB_FIXTURES = fileURLToPath(new URL('../../lab/test/fixtures/', import.meta.url));

function ephemera(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: 'pipe' });
}

/** Run to completion; stdout, stderr and exit code. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = ephemera(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ephemera lab start', () => {
  it('serves a SAM template, prints its endpoints and lab events, and stops cleanly on Ctrl-C', async () => {
    const child = ephemera([
      'lab',
      'start',
      '--template',
      `${LAB_FIXTURES}sam/lab/template.yaml`,
      '--port',
      '0',
      '--events',
    ]);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 15_000;
    while (!/Ctrl-C stops the lab/.test(stdout)) {
      assert.ok(Date.now() < deadline, `lab did not start: ${stdout}${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    assert.ok(url);
    assert.match(stdout, /warning: .*WebFunction.*Tracing/);
    assert.match(stdout, /REST API\s+ANY http:\/\/127\.0\.0\.1:\d+\/rest\/\{proxy\+\}/);
    assert.match(stdout, /Invoke API POST .*\/functions\/BehavioursFunction\/invocations/);

    const rest = await fetch(`${url}/rest/a/b`, { method: 'PUT', body: 'x' });
    assert.equal(rest.status, 200);
    assert.equal(((await rest.json()) as { resource: string }).resource, '/rest/{proxy+}');
    const fallback = await fetch(`${url}/anything`, { method: 'POST', body: '{"action":"none"}' });
    assert.equal(fallback.status, 200);
    const reply = (await fallback.json()) as { env: Record<string, string> };
    assert.equal(reply.env.MY_GREETING, 'from-sam');
    assert.equal(reply.env.AWS_LAMBDA_FUNCTION_NAME, 'BehavioursFunction');

    const pids = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; detail?: { pid?: number } })
      .filter((e) => e.type === 'initialized')
      .map((e) => e.detail?.pid ?? 0);
    assert.equal(pids.length, 2, 'one environment per function, seen in the JSON-lines event stream');
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `runtime ${pid} outlived the lab`);
  });

  it('names a missing code directory, an unknown option and a malformed template', async () => {
    const missing = await run([
      'lab',
      'start',
      '--function',
      '/no/such/dir',
      '--handler',
      'index.handler',
      '--port',
      '0',
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /EPHEMERA_ERR_LAB_CODE_DIR: .*\/no\/such\/dir/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');

    const unknown = await run(['lab', 'start', '--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--frobnicate/);
    assert.match(unknown.stderr, /usage: ephemera/);

    const template = await run([
      'lab',
      'start',
      '--template',
      `${LAB_FIXTURES}functions/behaviours/index.mjs`,
    ]);
    assert.equal(template.code, 1);
    assert.match(template.stderr, /EPHEMERA_ERR_LAB_TEMPLATE/);

    const api = await run(['lab', 'start', '--function', '.', '--handler', 'index.handler', '--api', 'soap']);
    assert.equal(api.code, 2);
    assert.match(api.stderr, /--api is "soap"; accepted: rest, http/);
  });
});

describe('ephemera lab demo', () => {
  it('shows cold starts on a burst, warm reuse after it, and idle reaping on the scaled clock', async () => {
    const { runLabDemo } = await import('../src/lab-demo.js');
    const lines: string[] = [];
    const rows = await runLabDemo((line) => lines.push(line));
    const [burst, second, sequential, idle, after] = rows;
    assert.ok(burst && second && sequential && idle && after);
    assert.deepEqual([burst.ok, burst.cold, burst.created], [8, 8, 8]);
    assert.deepEqual([second.ok, second.cold, second.warm, second.created], [8, 0, 8, 0]);
    assert.equal(sequential.cold, 0);
    assert.equal(idle.reaped, 8);
    assert.equal(idle.alive, 0);
    assert.deepEqual([after.ok, after.cold], [4, 4]);
    assert.ok(
      lines.some((l) => /^phase\s+requests\s+ok\s+cold\s+warm\s+reused/.test(l)),
      'prints the table',
    );
  });
});
