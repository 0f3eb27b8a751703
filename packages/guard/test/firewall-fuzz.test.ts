/**
 * Fuzzing the event firewall's extraction and detectors with fast-check: no crash, and bounded work
 * on deep, wide or huge input (asserted by counting the work the extractor reports — nodes visited,
 * bytes parsed — and the size of what it returns, never by timing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  jsMarkerFinding,
  keyFinding,
  lexSql,
  pathFinding,
  shellFinding,
  sqlFinding,
  urlFinding,
} from '../src/firewall/detectors.js';
import {
  extractInputs,
  type Input,
  MAX_DEPTH,
  MAX_INPUTS,
  MAX_NODES,
  MAX_PARSE_BYTES,
  MAX_STRING,
} from '../src/firewall/extract.js';
import { createFirewallControl, payloadFingerprint } from '../src/firewall/firewall.js';
import { setSinkInspector } from '../src/sink-inspector.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Characters that matter to the detectors, mixed with ordinary text. */
const hostileChar = fc.constantFrom(
  "'",
  '"',
  '`',
  ';',
  '&',
  '|',
  '$',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  '<',
  '>',
  '\\',
  '/',
  '.',
  '..',
  '-',
  '--',
  '/*',
  '*/',
  '#',
  '%',
  '%2f',
  '\n',
  '\u0000',
  ' ',
  'a',
  'Z',
  '0',
  '_$$ND_FUNC$$_',
  '__proto__',
  'constructor',
  '$ne',
  'OR',
  'UNION',
  '://',
  '@',
  ':',
  'é',
);
const hostileString = fc.array(hostileChar, { maxLength: 60 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 80 }), hostileString);

/** JSON-like values with hostile keys and strings. */
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.dictionary(
      fc.oneof(anyText, fc.constantFrom('__proto__', 'constructor', 'prototype', '$where', '$gt')),
      tie('tree'),
      {
        maxKeys: 5,
      },
    ),
  ),
}));

const eventShape = fc.oneof(
  tree,
  fc.record({
    version: fc.constant('2.0'),
    requestContext: fc.constant({ http: { sourceIp: '1.2.3.4' } }),
    headers: fc.dictionary(fc.string({ maxLength: 10 }), anyText, { maxKeys: 5 }),
    cookies: fc.array(anyText, { maxLength: 4 }),
    queryStringParameters: fc.dictionary(anyText, anyText, { maxKeys: 5 }),
    body: fc.oneof(
      anyText,
      tree.map((t) => JSON.stringify(t) ?? 'null'),
    ),
    isBase64Encoded: fc.boolean(),
  }),
  fc.record({
    httpMethod: fc.constant('POST'),
    requestContext: fc.constant({ identity: { sourceIp: '1.2.3.4' } }),
    headers: fc.dictionary(fc.string({ maxLength: 10 }), anyText, { maxKeys: 5 }),
    body: fc.oneof(
      anyText,
      tree.map((t) => JSON.stringify(t) ?? 'null'),
    ),
  }),
  fc.record({
    Records: fc.array(
      fc.record({
        eventSource: fc.constantFrom('aws:sqs', 'aws:sns', 'aws:s3', 'aws:dynamodb'),
        body: anyText,
      }),
      { maxLength: 3 },
    ),
  }),
);

function checkBounds(x: ReturnType<typeof extractInputs>): void {
  assert.ok(x.stats.nodes <= MAX_NODES + 64, `nodes ${x.stats.nodes}`);
  assert.ok(x.inputs.length <= MAX_INPUTS);
  for (const i of x.inputs) assert.ok(i.value.length <= MAX_STRING);
}

describe('firewall fuzzing', () => {
  it('extraction never throws and stays within its bounds on arbitrary events', () => {
    fc.assert(
      fc.property(eventShape, (event) => {
        const x = extractInputs(event);
        checkBounds(x);
        for (const k of x.keys) keyFinding(k);
        for (const i of x.inputs) jsMarkerFinding(i);
      }),
      { numRuns: RUNS },
    );
  });

  it('the sink detectors never throw on arbitrary values and inputs', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, (prefix, input, suffix) => {
        const inputs: Input[] = [{ location: 'x', value: input }];
        const value = `${prefix}${input}${suffix}`;
        shellFinding(value, inputs);
        sqlFinding(value, inputs, 'postgres');
        sqlFinding(value, inputs, 'mysql');
        pathFinding(`/var/task/${value}`, inputs);
        urlFinding(`https://api.example.com/${value}`, inputs);
        urlFinding(value, inputs);
        lexSql(value, 'postgres');
        payloadFingerprint(value);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('a shell or SQL value made only of the input plus fixed text is judged the same way twice (no state)', () => {
    fc.assert(
      fc.property(hostileString, (input) => {
        const inputs: Input[] = [{ location: 'q', value: input }];
        const cmd = `curl -s "${input}"`;
        assert.deepEqual(shellFinding(cmd, inputs), shellFinding(cmd, inputs));
        const sql = `SELECT 1 WHERE a = '${input}'`;
        assert.deepEqual(sqlFinding(sql, inputs, 'postgres'), sqlFinding(sql, inputs, 'postgres'));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('hostile sizes: bounded work, counted', () => {
  it('a 6 MB JSON body is not parsed (one opaque input, truncated) and pollution keys are still seen', () => {
    const big = `{"pad":"${'x'.repeat(6 * 1024 * 1024)}","__proto__":{"a":1}}`;
    const x = extractInputs({ version: '2.0', requestContext: { http: {} }, body: big });
    assert.equal(x.stats.parsedBytes, 0, 'not parsed');
    assert.ok(x.stats.truncated);
    assert.equal(x.inputs.find((i) => i.location === 'body')?.value.length, MAX_STRING);
    assert.deepEqual(
      x.keys.map((k) => k.key),
      ['__proto__'],
    );
    assert.ok(big.length > MAX_PARSE_BYTES);
  });

  it('a 6 MB base64 body and a 6 MB header are handled within the same bounds', () => {
    const b64 = Buffer.from('a='.concat('y'.repeat(6 * 1024 * 1024))).toString('base64');
    const x = extractInputs({
      httpMethod: 'POST',
      requestContext: { identity: {} },
      headers: { 'x-big': 'z'.repeat(6e6) },
      body: b64,
      isBase64Encoded: true,
    });
    checkBounds(x);
    assert.equal(x.stats.parsedBytes, 0);
  });

  it('nesting 100,000 levels deep (parsed JSON) is walked to MAX_DEPTH only', () => {
    const depth = 100_000;
    const text = `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
    let parsedOk = true;
    try {
      JSON.parse(text);
    } catch {
      parsedOk = false; // V8 refuses this depth itself: then the body is one opaque input
    }
    const x = extractInputs({ version: '2.0', requestContext: { http: {} }, body: text });
    checkBounds(x);
    assert.ok(x.stats.nodes <= MAX_DEPTH + 2, `visited ${x.stats.nodes} nodes (parsed by V8: ${parsedOk})`);
    // A deep object built in memory (a direct invoke) is bounded the same way.
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < depth; i++) deep = { a: deep };
    const y = extractInputs(deep);
    assert.ok(y.stats.nodes <= MAX_DEPTH + 2);
    assert.ok(y.stats.truncated);
  });

  it('a wide body (200,000 keys) stops at MAX_NODES', () => {
    const wide: Record<string, string> = {};
    for (let i = 0; i < 200_000; i++) wide[`k${i}`] = 'v';
    const x = extractInputs({ version: '2.0', requestContext: { http: {} }, body: JSON.stringify(wide) });
    checkBounds(x);
    assert.ok(x.stats.truncated);
  });

  it('the sink detectors scan at most MAX_SINK_VALUE of a 6 MB value, and a hostile control run completes', () => {
    const control = createFirewallControl({ action: 'block' });
    control.init?.({ report: () => undefined, recycle: () => undefined, current: () => undefined });
    try {
      const hostile = "'".repeat(3 * 1024 * 1024) + '"'.repeat(3 * 1024 * 1024);
      const verdict = control.beforeInvoke?.(
        { requestId: 'r', number: 1, startedAt: 0, sourceIp: null },
        {
          version: '2.0',
          requestContext: { http: {} },
          body: hostile,
          queryStringParameters: { q: hostile },
        },
      );
      assert.equal(verdict, undefined);
      const inputs: Input[] = [{ location: 'q', value: hostile.slice(0, MAX_STRING) }];
      // Quadratic-prone shapes: many quotes, many occurrences. Returns (a finding or none) — the
      // occurrence count is capped, the scan is linear.
      shellFinding(`echo ${hostile}`, inputs);
      sqlFinding(`SELECT '${hostile}'`, inputs, 'postgres');
      pathFinding(`/tmp/${hostile}`, inputs);
    } finally {
      setSinkInspector(undefined);
    }
  });
});
