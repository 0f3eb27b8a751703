// One arm of bench/firewall.bench.ts, run by plain `node` (no tsx: Aikido Zen refuses to protect a
// process started through tsx, and the guard is measured as users load it, from dist/).
//
//   node bench/lib/firewall-arm.mjs <none|ephemera|zen> <corpus.json> [--quick]
//
// Reads the corpus events the parent generated, calls the vulnerable handlers in process, and prints
// one line `FWBENCH_RESULT {…}`: the answers (the parent judges them), and the timings.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const [arm, corpusFile] = process.argv.slice(2);
const QUICK = process.argv.includes('--quick');

const HANDLER_FILES = {
  'eval-json': 'examples/vulnerable/eval-json/index.mjs',
  'node-serialize': 'examples/vulnerable/node-serialize/index.cjs',
  shell: 'examples/vulnerable/shell/index.mjs',
  sql: 'examples/vulnerable/sql/index.mjs',
  'path-read': 'examples/vulnerable/path-read/index.mjs',
  'fetch-url': 'examples/vulnerable/fetch-url/index.mjs',
  merge: 'examples/vulnerable/merge/index.mjs',
  'nosql-login': 'examples/vulnerable/nosql-login/index.mjs',
};

const context = (i) => ({
  awsRequestId: `bench-${i}`,
  functionName: 'firewall-bench',
  getRemainingTimeInMillis: () => 10_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:firewall-bench',
});

let wrap = (h) => h;
let inspect;
const errors = [];
if (arm === 'zen' || arm === 'zen-esm') {
  process.env.AIKIDO_BLOCK = 'true';
  const zen = require('@aikidosec/firewall/lambda');
  wrap = (h) => zen(h);
} else if (arm === 'ephemera') {
  const guard = require(join(ROOT, 'packages/guard/dist/index.js'));
  const sink = require(join(ROOT, 'packages/guard/dist/sink-inspector.js'));
  const policy = {
    mode: 'off',
    firewall: 'block',
    codegen: 'block',
    fs: { action: 'alert', readSource: true },
    childProcess: 'alert',
    egress: 'alert',
    telemetry: 'off',
    lifecycle: 'off',
  };
  wrap = (h) => guard.protect(h, policy);
  inspect = (value) => sink.inspectSink('sql', value, { sink: 'pg.Client.query' });
}

const handlers = {};
for (const [fn, file] of Object.entries(HANDLER_FILES)) {
  const mod = await import(pathToFileURL(join(ROOT, file)).href);
  handlers[fn] = wrap(mod.handler ?? mod.default?.handler);
}

function answerOf(value, error) {
  if (error !== undefined) {
    return {
      outcome: 'function-error',
      errorType: String(error?.code ?? error?.name ?? 'Error'),
      body: String(error?.message ?? ''),
    };
  }
  return { outcome: 'success', statusCode: value?.statusCode, body: value?.body };
}
async function call(fn, event, i) {
  try {
    return answerOf(await handlers[fn](event, context(i)), undefined);
  } catch (error) {
    return answerOf(undefined, error);
  }
}

const corpus = JSON.parse(readFileSync(corpusFile, 'utf8'));
const attackAnswers = [];
for (const [i, c] of corpus.attacks.entries()) attackAnswers.push(await call(c.fn, c.event, i));
const benignAnswers = [];
for (const [i, c] of corpus.benign.entries()) benignAnswers.push(await call(c.fn, c.event, 100_000 + i));

/** Mean ns per call over `n` sequential awaited calls; a call that throws is counted, not fatal. */
async function timeCalls(fn, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    try {
      await fn();
    } catch (error) {
      if (errors.length < 5) errors.push(String(error?.message ?? error));
    }
  }
  return Number(process.hrtime.bigint() - start) / n;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Cost per invocation: the arm's wrapper vs the bare handler, interleaved in this process.
const bare = async () => ({ statusCode: 200, body: 'ok' });
const wrapped = wrap(async () => ({ statusCode: 200, body: 'ok' }));
const rounds = QUICK ? 5 : 15;
const s = { body1k: [], body100k: [], base1k: [], base100k: [] };
for (let r = 0; r < rounds; r++) {
  s.base1k.push(await timeCalls(() => bare(corpus.event1k, context(r)), QUICK ? 400 : 1000));
  s.body1k.push(await timeCalls(() => wrapped(corpus.event1k, context(r)), QUICK ? 400 : 1000));
  s.base100k.push(await timeCalls(() => bare(corpus.event100k, context(r)), QUICK ? 40 : 100));
  s.body100k.push(await timeCalls(() => wrapped(corpus.event100k, context(r)), QUICK ? 40 : 100));
}

// Cost per SQL query: pg round trips inside one invocation whose input is in the statement.
const pg = require('pg');
const pool = new pg.Pool({ max: 1 });
const STATEMENT = "SELECT title FROM fw_notes WHERE private = false AND title ILIKE '%chair%'";
const queries = QUICK ? 200 : 1000;
let sqlNs = Number.NaN;
await wrap(async () => {
  await pool.query('SELECT 1');
  const start = process.hrtime.bigint();
  for (let i = 0; i < queries; i++) await pool.query(STATEMENT);
  sqlNs = Number(process.hrtime.bigint() - start) / queries;
  return { statusCode: 200 };
})(corpus.sqlEvent, context(1)).catch((e) => errors.push(String(e?.message ?? e)));
await pool.end();

// Ephemera's sink inspector alone for that statement, with the event's inputs current.
let inspectorNs = null;
if (inspect) {
  await wrap(async () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) inspect(STATEMENT);
    inspectorNs = Number(process.hrtime.bigint() - start) / 100_000;
    return { statusCode: 200 };
  })(corpus.sqlEvent, context(2));
}

process.stdout.write(
  `FWBENCH_RESULT ${JSON.stringify({
    arm,
    attackAnswers,
    benignAnswers,
    perInvocationNs: {
      body1k: median(s.body1k),
      body100k: median(s.body100k),
      base1k: median(s.base1k),
      base100k: median(s.base100k),
    },
    sqlQueryUs: sqlNs / 1000,
    inspectorNs,
    errors,
  })}\n`,
  // A pipe takes a large write asynchronously: exit once it is flushed.
  () => process.exit(0),
);
