import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { resolvePolicy } from '../../guard/src/policy.js';
import { CliError } from '../src/errors.js';
import { readLearned, runPolicySuggestCommand, suggestPolicy } from '../src/policy-suggest.js';
import { scanDeployment } from '../src/scan/scan.js';
import { buildRealDeployment } from './deployment-fixture.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const POISONED = fileURLToPath(new URL('../../guard/test/fixtures/poisoned-dep/', import.meta.url));

const temp = mkdtempSync(join(tmpdir(), 'ephemera-suggest-test-'));
let real: { dir: string; packages: number } | undefined;
after(() => {
  rmSync(temp, { recursive: true, force: true });
  if (real) rmSync(real.dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(temp, name);
  writeFileSync(path, text);
  return path;
}

/** A guard event line as the guard writes it on stdout. */
function learnEvent(host: string, port: number | undefined, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ephemera: 1,
    id: crypto.randomUUID(),
    type: 'learn',
    time: '2026-11-30T05:00:00.000Z',
    function: 'orders',
    env: '3f9a1c2b7d4e',
    requestId: 'c0ffee',
    invocation: 1,
    ageMs: 10,
    control: 'egress',
    action: 'learn',
    detail: { host, ...(port === undefined ? {} : { port }), module: 'https', ...extra },
  });
}

describe('ephemera policy suggest', () => {
  it('never allows what a poisoned dependency connects to, and the suggestion resolves in the guard', () => {
    const { policy, notes } = suggestPolicy(scanDeployment(POISONED));
    assert.deepEqual(policy, {
      egress: { action: 'block', allow: [] },
      childProcess: { action: 'block', allow: [] },
    });
    assert.ok(
      notes.some((n) => /left out 127\.0\.0\.1: evil-telemetry@1\.4\.2 has high-severity findings/.test(n)),
    );
    const resolved = resolvePolicy(policy, {});
    assert.deepEqual(resolved.egress, { action: 'block', allow: [], packages: ['*'] });
  });

  it('merges the scan of a real deployment with learn records from logs and policy fragments', () => {
    real = buildRealDeployment();
    const log = file(
      'orders.log',
      [
        'START RequestId: c0ffee Version: $LATEST',
        learnEvent('api.stripe.com', 443),
        // CloudWatch export: timestamp, request id and level before the JSON line.
        `2026-11-30T05:00:01.000Z\tc0ffee\tINFO\t${learnEvent('dynamodb.us-east-1.amazonaws.com', 443)}`,
        learnEvent('API.Stripe.com', 443),
        learnEvent('10.0.3.7', 5432),
        // The guard's egress control writes destination {host, port, ip} and the entry it suggests.
        JSON.stringify({
          ephemera: 1,
          type: 'learn',
          control: 'egress',
          action: 'learn',
          detail: {
            destination: { host: 'sqs.eu-west-1.amazonaws.com', port: 443, ip: null },
            suggestion: 'sqs.eu-west-1.amazonaws.com:443',
          },
        }),
        JSON.stringify({
          ephemera: 1,
          type: 'learn',
          control: 'egress',
          detail: { destination: { host: 'fd00::5', port: 6379, ip: 'fd00::5' }, transport: 'tcp' },
        }),
        JSON.stringify({ ephemera: 1, type: 'recycle', detail: { reason: 'max-age' } }),
        '{"ephemera":1,"type":"learn","detail":{"host":"trunc',
        'END RequestId: c0ffee',
      ].join('\n'),
    );
    const fragment = file(
      'fragment.json',
      JSON.stringify({
        egress: { allow: ['hooks.slack.example-corp.com:443', 'db.internal.example.net:5432'] },
      }),
    );
    const learned = [readLearned(log), readLearned(fragment)];
    assert.deepEqual(learned[0], {
      egress: [
        'api.stripe.com:443',
        'dynamodb.us-east-1.amazonaws.com:443',
        'api.stripe.com:443',
        '10.0.3.7:5432',
        'sqs.eu-west-1.amazonaws.com:443',
        '[fd00::5]:6379',
      ],
      childProcess: [],
      records: 6,
    });

    const { policy, notes } = suggestPolicy(scanDeployment(real.dir), learned);
    assert.deepEqual(policy.egress.allow, [
      '[fd00::5]:6379', // learned, IPv6 in brackets
      '*.amazonaws.com', // the AWS SDK client is deployed
      '10.0.3.7:5432', // learned
      'api.stripe.com:443', // learned (twice, and in another case)
      'db.internal.example.net:5432', // fragment
      'hooks.slack.example-corp.com', // literal in the handler; covers the fragment's :443 entry
    ]);
    assert.ok(notes.includes('left out dynamodb.us-east-1.amazonaws.com:443: covered by another entry'));
    assert.ok(
      notes.some((n) => /left out 169\.254\.169\.254 \(@smithy\/core@[\d.]+\): instance metadata/.test(n)),
    );
    assert.ok(notes.some((n) => /left out localhost \(pg@[\d.]+\)/.test(n)));
    assert.ok(notes.includes('egress.allow hooks.slack.example-corp.com: own code, index.js:18'));
    assert.deepEqual(policy.childProcess.allow, []);
    const resolved = resolvePolicy(policy, {});
    assert.deepEqual(resolved.egress.allow, policy.egress.allow);
    assert.equal(resolved.childProcess.action, 'block');
  });

  it('lists the executables the code starts (absolute when found on Lambda’s PATH)', () => {
    const dir = mkdtempSync(join(temp, 'exec-'));
    writeFileSync(
      join(dir, 'index.js'),
      `const { execFile, spawn } = require('node:child_process');
exports.handler = async () => {
  execFile('/opt/bin/pdftotext', ['in.pdf']);
  spawn('frobnicate-tool', ['--fast']);
};
`,
    );
    const learned = readLearned(
      file('cp.json', JSON.stringify({ childProcess: { allow: ['/usr/bin/convert'] } })),
    );
    const { policy, notes } = suggestPolicy(scanDeployment(dir), [learned]);
    assert.deepEqual(policy.childProcess.allow, [
      '/opt/bin/pdftotext',
      '/usr/bin/convert',
      'frobnicate-tool',
    ]);
    assert.ok(
      notes.some((n) => /frobnicate-tool: own code, index\.js:4; not found on Lambda's PATH/.test(n)),
    );
    assert.doesNotThrow(() => resolvePolicy(policy, {}));
  });

  it('names --learned files it cannot use (EPHEMERA_ERR_CLI_LEARNED_FILE)', () => {
    const cases: [string, RegExp][] = [
      [join(temp, 'missing.log'), /cannot be read \(ENOENT\)/],
      [file('plain.log', 'START RequestId: 1\nhello\n'), /holds no guard event/],
      [file('bad-fragment.json', '{"egress":{"allow":"api.stripe.com"}}'), /egress\.allow is not an array/],
      [file('other.json', '{"mode":"alert"}'), /without egress\.allow or childProcess\.allow/],
      [file('array.json', '[1,2,3]'), /holds 3 JSON value\(s\) but no guard event/],
    ];
    for (const [path, message] of cases) {
      assert.throws(
        () => readLearned(path),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'EPHEMERA_ERR_CLI_LEARNED_FILE' &&
          message.test(error.message) &&
          /accepted: guard event JSON lines/.test(error.message),
        path,
      );
    }
    const noLearn = readLearned(
      file('recycles.log', JSON.stringify({ ephemera: 1, type: 'recycle', detail: {} })),
    );
    assert.equal(noLearn.records, 0, 'a log without learn records is valid: nothing learned');
    assert.throws(
      () =>
        runPolicySuggestCommand(
          ['--learn', 'x'],
          () => {},
          () => {},
        ),
      (error: unknown) => error instanceof CliError && error.code === 'EPHEMERA_ERR_CLI_USAGE',
    );
  });

  it('reads any file either into learn records or into EPHEMERA_ERR_CLI_LEARNED_FILE (fast-check)', () => {
    const line = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({ host: fc.domain(), port: fc.option(fc.integer({ min: -1, max: 70000 })) })
        .map(({ host, port }) => learnEvent(host, port ?? undefined)),
      fc.constant('{"ephemera":1,"type":"learn","detail":null}'),
    );
    let n = 0;
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const path = file(`fuzz-${n++}.log`, lines.join('\n'));
        try {
          const learned = readLearned(path);
          for (const entry of learned.egress) assert.ok(entry !== '' && !/\s/.test(entry));
          assert.doesNotThrow(() => resolvePolicy({ egress: { allow: learned.egress } }, {}));
        } catch (error) {
          assert.ok(error instanceof CliError, String(error));
          assert.equal(error.code, 'EPHEMERA_ERR_CLI_LEARNED_FILE');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('prints the policy on stdout and the reasons on stderr', async () => {
    const log = file('cli.log', `${learnEvent('api.stripe.com', 443)}\n`);
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = spawn(process.execPath, [
        '--import',
        'tsx',
        BIN,
        'policy',
        'suggest',
        POISONED,
        '--learned',
        log,
      ]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    assert.equal(code, 0, stderr);
    const policy = JSON.parse(stdout) as unknown;
    assert.deepEqual(resolvePolicy(policy, {}).egress.allow, ['api.stripe.com:443']);
    assert.match(stderr, /read 1 learn record from /);
    assert.match(stderr, /left out 127\.0\.0\.1/);
  });
});
