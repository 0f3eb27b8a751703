import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EmfInput, emfRecord, validateEmf } from '../src/emf.js';

const TS = Date.UTC(2025, 0, 1);

function sample(overrides: Partial<EmfInput> = {}): EmfInput {
  return {
    namespace: 'Ephemera',
    dimensions: { FunctionName: 'orders', Environment: 'env-1' },
    metrics: [
      { name: 'Blocked', value: 1, unit: 'Count' },
      { name: 'AgeMs', value: 1234.5, unit: 'Milliseconds' },
      { name: 'Invocation', value: 7 },
    ],
    timestamp: TS,
    ...overrides,
  };
}

type EmfDoc = Record<string, unknown> & {
  _aws: Record<string, unknown> & { CloudWatchMetrics: Array<Record<string, unknown>> };
};

/** A valid record as a mutable object, for tests that break one rule at a time. */
function validDoc(): EmfDoc {
  return {
    _aws: {
      Timestamp: TS,
      CloudWatchMetrics: [
        { Namespace: 'Ephemera', Dimensions: [['FunctionName']], Metrics: [{ Name: 'Blocked' }] },
      ],
    },
    FunctionName: 'orders',
    Blocked: 1,
  };
}

/** Asserts that one of the violations matches `fragment`. */
function assertViolation(doc: unknown, fragment: RegExp): void {
  const problems = validateEmf(JSON.stringify(doc));
  assert.ok(
    problems.some((p) => fragment.test(p)),
    `expected a violation matching ${fragment}, got ${JSON.stringify(problems)}`,
  );
}

describe('emfRecord', () => {
  it('produces one line that the validator accepts', () => {
    const line = emfRecord(sample());
    assert.ok(!line.includes('\n'));
    assert.deepEqual(validateEmf(line), []);
  });

  it('puts the directive under _aws and every dimension and metric value at the root', () => {
    const doc = JSON.parse(emfRecord(sample()));
    assert.deepEqual(doc._aws, {
      Timestamp: TS,
      CloudWatchMetrics: [
        {
          Namespace: 'Ephemera',
          Dimensions: [['FunctionName', 'Environment']],
          Metrics: [
            { Name: 'Blocked', Unit: 'Count' },
            { Name: 'AgeMs', Unit: 'Milliseconds' },
            { Name: 'Invocation', Unit: 'None' },
          ],
        },
      ],
    });
    assert.equal(doc.FunctionName, 'orders');
    assert.equal(doc.Environment, 'env-1');
    assert.equal(doc.Blocked, 1);
    assert.equal(doc.AgeMs, 1234.5);
    assert.equal(doc.Invocation, 7);
  });

  it('accepts no dimensions (one empty dimension set) and the limits exactly', () => {
    assert.deepEqual(validateEmf(emfRecord(sample({ dimensions: {} }))), []);
    const dimensions = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`d${i}`, `v${i}`]));
    const metrics = Array.from({ length: 100 }, (_, i) => ({ name: `m${i}`, value: i }));
    assert.deepEqual(validateEmf(emfRecord(sample({ dimensions, metrics }))), []);
  });

  it('keeps a member named __proto__ as an ordinary member', () => {
    // JSON.parse defines an own `__proto__` member; an object literal would set the prototype instead.
    const dimensions = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const line = emfRecord(sample({ dimensions }));
    assert.match(line, /"__proto__":"x"/);
    assert.deepEqual(validateEmf(line), []);
  });

  const bad: Array<[string, Partial<EmfInput>, RegExp]> = [
    ['an empty namespace', { namespace: '' }, /namespace/],
    [
      '31 dimensions',
      { dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'v'])) },
      /31 dimensions/,
    ],
    [
      '101 metrics',
      { metrics: Array.from({ length: 101 }, (_, i) => ({ name: `m${i}`, value: 1 })) },
      /101 metrics/,
    ],
    ['no metrics', { metrics: [] }, /non-empty array/],
    ['an empty metric name', { metrics: [{ name: '', value: 1 }] }, /metric name/],
    ['an empty dimension name', { dimensions: { '': 'x' } }, /dimension name/],
    ['a NaN value', { metrics: [{ name: 'm', value: Number.NaN }] }, /finite/],
    ['an infinite value', { metrics: [{ name: 'm', value: Number.POSITIVE_INFINITY }] }, /finite/],
    ['a string value', { metrics: [{ name: 'm', value: '1' as unknown as number }] }, /finite/],
    ['a number dimension value', { dimensions: { d: 1 as unknown as string } }, /string value/],
    ['a metric named like a dimension', { metrics: [{ name: 'FunctionName', value: 1 }] }, /same name/],
    [
      'a duplicated metric',
      {
        metrics: [
          { name: 'm', value: 1 },
          { name: 'm', value: 2 },
        ],
      },
      /twice/,
    ],
    ['a dimension named _aws', { dimensions: { _aws: 'x' } }, /_aws/],
    ['a metric named _aws', { metrics: [{ name: '_aws', value: 1 }] }, /_aws/],
    ['an unknown unit', { metrics: [{ name: 'm', value: 1, unit: 'Parsecs' as 'None' }] }, /unknown unit/],
    ['a fractional timestamp', { timestamp: 1.5 }, /timestamp/],
    ['a negative timestamp', { timestamp: -1 }, /timestamp/],
  ];
  for (const [what, overrides, message] of bad) {
    it(`throws a TypeError naming the problem for ${what}`, () => {
      assert.throws(
        () => emfRecord(sample(overrides)),
        (err: unknown) => err instanceof TypeError && message.test(err.message),
      );
    });
  }
});

describe('validateEmf', () => {
  it('accepts a hand-written valid record, metric arrays and extra root members', () => {
    const doc = validDoc();
    doc.Blocked = [1, 2, 3];
    doc.requestId = 'abc';
    assert.deepEqual(validateEmf(JSON.stringify(doc)), []);
  });

  it('rejects text that is not a JSON object', () => {
    for (const line of ['', 'not json', '[]', 'null', '"x"', '42', '{"_aws":1} trailing']) {
      assert.notDeepEqual(validateEmf(line), [], line);
    }
  });

  it('rejects a record without _aws, or with _aws not an object', () => {
    const { _aws, ...rest } = validDoc();
    assertViolation(rest, /no "_aws"/);
    assertViolation({ ...validDoc(), _aws: [] }, /"_aws" must be an object/);
  });

  it('rejects a missing or string Timestamp', () => {
    const doc = validDoc();
    assertViolation({ ...doc, _aws: { ...doc._aws, Timestamp: String(TS) } }, /Timestamp/);
    assertViolation(
      { ...doc, _aws: { CloudWatchMetrics: doc._aws.CloudWatchMetrics } },
      /Timestamp" is missing/,
    );
  });

  it('rejects CloudWatchMetrics that is not an array of directive objects', () => {
    const doc = validDoc();
    assertViolation({ ...doc, _aws: { Timestamp: TS } }, /CloudWatchMetrics" must be an array/);
    assertViolation({ ...doc, _aws: { Timestamp: TS, CloudWatchMetrics: ['x'] } }, /\[0\] must be an object/);
  });

  it('rejects a missing Namespace and members the specification does not define', () => {
    const doc = validDoc();
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    delete directive.Namespace;
    directive.Extra = true;
    assertViolation(doc, /Namespace must be a non-empty string/);
    assertViolation(doc, /member "Extra"/);
  });

  it('rejects a dimension referencing a missing member', () => {
    const doc = validDoc();
    delete doc.FunctionName;
    assertViolation(doc, /references "FunctionName", which is not a member/);
  });

  it('rejects a dimension whose member is not a string', () => {
    assertViolation({ ...validDoc(), FunctionName: 3 }, /"FunctionName", whose value must be a string/);
  });

  it('rejects Dimensions that are not arrays of strings', () => {
    const doc = validDoc();
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    directive.Dimensions = ['FunctionName'];
    assertViolation(doc, /Dimensions\[0\] must be an array/);
    directive.Dimensions = [[7]];
    assertViolation(doc, /Dimensions\[0\]\[0\] must be a string/);
    directive.Dimensions = 'FunctionName';
    assertViolation(doc, /Dimensions must be an array/);
  });

  it('rejects more than 30 dimension keys in one set', () => {
    const doc = validDoc();
    const keys = Array.from({ length: 31 }, (_, i) => `d${i}`);
    for (const k of keys) doc[k] = 'v';
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    directive.Dimensions = [keys];
    assertViolation(doc, /31 dimensions/);
  });

  it('rejects a metric whose value is a string, null, or an array holding a non-number', () => {
    assertViolation({ ...validDoc(), Blocked: '1' }, /"Blocked", whose value must be a number or an array/);
    assertViolation({ ...validDoc(), Blocked: null }, /"Blocked", whose value must be a number/);
    assertViolation({ ...validDoc(), Blocked: [1, '2'] }, /array of numbers only/);
  });

  it('rejects a metric referencing a missing member, or without a Name', () => {
    const doc = validDoc();
    delete doc.Blocked;
    assertViolation(doc, /Name references "Blocked", which is not a member/);
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    directive.Metrics = [{ Unit: 'Count' }];
    assertViolation(doc, /Name must be a non-empty string/);
  });

  it('rejects an unknown Unit and a bad StorageResolution, accepts the listed ones', () => {
    const doc = validDoc();
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    directive.Metrics = [{ Name: 'Blocked', Unit: 'Widgets' }];
    assertViolation(doc, /Unit "Widgets" is not a CloudWatch unit/);
    directive.Metrics = [{ Name: 'Blocked', Unit: 'count' }];
    assertViolation(doc, /Unit "count"/);
    directive.Metrics = [{ Name: 'Blocked', StorageResolution: 5 }];
    assertViolation(doc, /StorageResolution must be 1 or 60/);
    directive.Metrics = [{ Name: 'Blocked', Unit: 'Count/Second', StorageResolution: 1 }];
    assert.deepEqual(validateEmf(JSON.stringify(doc)), []);
  });

  it('rejects more than 100 metrics in one directive, and more than 100 values in one metric', () => {
    const doc = validDoc();
    const directive = doc._aws.CloudWatchMetrics[0] ?? {};
    directive.Metrics = Array.from({ length: 101 }, (_, i) => ({ Name: `m${i}` }));
    for (let i = 0; i < 101; i++) doc[`m${i}`] = i;
    assertViolation(doc, /101 metrics/);
    assertViolation({ ...validDoc(), Blocked: Array.from({ length: 101 }, () => 1) }, /101 values/);
  });

  it('rejects a record spread over two lines', () => {
    const problems = validateEmf(JSON.stringify(validDoc(), null, 2));
    assert.ok(problems.some((p) => /line break/.test(p)));
  });

  it('reports every violation, not only the first', () => {
    const doc = { ...validDoc(), FunctionName: 1, Blocked: 'x' };
    assert.equal(validateEmf(JSON.stringify(doc)).length, 2);
  });
});
