import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import fc from 'fast-check';
import { DEFAULT_MAX_DEPTH, describeCode, isDataLiteral } from '../src/data-literal.js';

/** What the victim function does with a body; run in a fresh context (this process has no hooks). */
function evaluate(source: string): unknown {
  return vm.runInNewContext(source);
}

const ACCEPTED: readonly (readonly [string, string])[] = [
  ['a JSON object', '{"card":"4111111111111111","cvv":"123","amount":42.5,"ok":true,"note":null}'],
  ['the idiom: one pair of parentheses', '({"card":"4111111111111111"})'],
  ['the idiom with whitespace inside and out', ' \n( {"a":[1,2]} )\t'],
  ['a JSON array of card numbers', '["4111111111111111","5500000000000004","340000000000009"]'],
  ['nested arrays', '[[[[1]],[[2,[3,[4]]]]]]'],
  ['unicode escapes', '{"name":"Zo\\u00eb \\ud83d\\ude00 \\u{1F600}","t":"\\t\\n\\\\\\"\\/"}'],
  ['raw non-ASCII and U+2028 in a string', '{"name":"Zoë 😀 \u2028"}'],
  ['big and small numbers', '[1e308,-1e-308,123456789012345678901234567890,0.1,-0,1E+5,5e-324]'],
  ['single-quoted strings', "{'a':'it\\'s','b':\"q'\"}"],
  ['unquoted keys, reserved words included', '{a:1, if:2, class:3, $x:4, _y:5, ключ:6}'],
  ['numeric keys', '{1:"a", 0x2:"b", 1.5:"c"}'],
  ['trailing commas', '{"a":[1,2,],"b":{"c":3,},}'],
  ['array holes', '[1,,2,,]'],
  ['undefined, NaN and Infinity', '[undefined, NaN, Infinity, -Infinity, +NaN]'],
  ['signed numbers', '[-1, +2, - 3, -0x10, -.5]'],
  ['hex, octal, binary, exponent', '[0xFF, 0o17, 0b101, 017, 08, 1e3, 1.5E-3, 5., .5]'],
  ['BigInt and separators', '[10n, 0xffn, -5n, 1_000_000, 0b1010_0101]'],
  ['a template literal without substitution', `\`multi\nline $ {not} \\$\{x}\``],
  [
    'a string holding a node-serialize payload (a string is data)',
    '{"rce":"_$$ND_FUNC$$_function(){require(\'fs\')}()"}',
  ],
  ['a string holding code', "\"process.mainModule.require('child_process').execSync('id')\""],
  ['a line continuation in a string', '"a\\\nb"'],
  ['-1', '-1'],
  ['true', 'true'],
  ['an empty object and array', '[{},[],{"":""}]'],
];

describe('isDataLiteral accepts data', () => {
  for (const [name, source] of ACCEPTED) {
    it(name, () => {
      assert.deepEqual(describeCode(source), { kind: 'data', reason: 'pure data literal' });
      assert.equal(isDataLiteral(source), true);
    });
  }

  it('evaluates each accepted sample without touching any global but undefined, NaN and Infinity', () => {
    for (const [name, source] of ACCEPTED) assertPlainData(`(${source})`, name);
  });
});

const REJECTED: readonly (readonly [string, string, string])[] = [
  ['the classic RCE', "process.mainModule.require('child_process')", 'identifier "process" at 0'],
  ['an IIFE', '(function(){return process})()', 'function at 1'],
  ['the constructor chain', "constructor.constructor('return process')()", 'identifier "constructor" at 0'],
  ['an assignment', 'a=1', 'identifier at 0'],
  ['an assignment to a literal', '1=1', 'assignment at 1'],
  ['an identifier', 'x', 'identifier at 0'],
  // Found by the token-soup property: `+1n` is a TypeError, not data (`-1n` is a BigInt).
  ['a unary plus on a BigInt', '[+0x1n]', 'sign before a non-number at 1'],
  ['require', 'require', 'identifier "require" at 0'],
  ['a template substitution', `\`a$\{process}\``, 'template substitution at 2'],
  ['a tagged template', '"a"`b`', 'tagged template at 3'],
  [
    "node-serialize's evaluated string",
    "(function(){require('fs').writeFileSync('/tmp/x','')}())",
    'function at 1',
  ],
  ['a __proto__ key', '{"__proto__":{"isAdmin":true}}', '__proto__ key at 1'],
  ['an unquoted __proto__ key', '{__proto__:{}}', '__proto__ key at 1'],
  ['a single-quoted __proto__ key', "{'__proto__':{}}", '__proto__ key at 1'],
  ['an escaped __proto__ key (\\x)', '{"\\x5f_proto__":{}}', '__proto__ key at 1'],
  ['an escaped __proto__ key (\\u)', '{"\\u005f\\u005fproto__":{}}', '__proto__ key at 1'],
  ['an escaped __proto__ key (\\u{})', '{"\\u{00005f}_proto__":{}}', '__proto__ key at 1'],
  ['an escaped __proto__ key (legacy octal)', '{"\\137_proto__":{}}', '__proto__ key at 1'],
  ['an escaped __proto__ key (identity escapes)', '{"\\_\\_proto\\_\\_":{}}', '__proto__ key at 1'],
  ['a __proto__ key split by a line continuation', '{"__pro\\\nto__":{}}', '__proto__ key at 1'],
  ['a nested __proto__ key', '[1,{"a":{"__proto__":null}}]', '__proto__ key at 9'],
  ['a method call on an array', '[1,2,3].map(x=>x)', 'member access at 7'],
  ['an operator', '1+1', 'operator "+" at 1'],
  ['a comparison', '1 == 1', 'operator "==" at 2'],
  ['a parenthesised member access', '({a:1}).constructor', 'parenthesised expression at 0'],
  ['two pairs of parentheses', '((1))', 'parenthesised expression at 1'],
  ['a member access on a number', '1..toString', 'member access at 2'],
  ['a member access after a space', '1 .x', 'member access at 2'],
  ['a malformed number', '1.toString', 'malformed number at 0'],
  ['a double sign', '- -1', 'sign before a non-number at 0'],
  ['a decrement', '--1', 'sign before a non-number at 0'],
  ['a sign before a string', '-"1"', 'sign before a non-number at 0'],
  ['a regular expression', '/x/.test("")', 'regular expression at 0'],
  ['a line comment', '1 // c', 'comment at 2'],
  ['a block comment', '{/* c */"a":1}', 'comment at 1'],
  ['a shorthand property', '{process}', 'method, accessor or shorthand property at 8'],
  ['a method', '{a(){}}', 'method, accessor or shorthand property at 2'],
  ['a getter', '{get a(){return 1}}', 'method, accessor or shorthand property at 5'],
  ['a computed key', '{[k]:1}', 'computed key at 1'],
  ['a spread', '{...a}', 'spread at 1'],
  ['a spread element', '[...a]', 'spread at 1'],
  ['a sequence expression', '1,2', 'comma expression at 1'],
  ['new', 'new Date()', '"new" at 0'],
  ['a class', 'class A{}', 'class at 0'],
  ['an import', 'import("fs")', 'import at 0'],
  ['an arrow', '() => 1', 'parenthesised expression at 0'],
  ['an arrow after a value', '[]=>1', 'arrow function at 2'],
  ['a call on a literal', 'true(1)', 'call at 4'],
  ['the in operator', '"a" in x', 'keyword "in" at 4'],
  ['a keyword', 'this', 'keyword "this" at 0'],
  ['optional chaining', '[]?.x', 'member access at 2'],
  ['a conditional', '1?2:3', 'operator "?" at 1'],
  ['a compound assignment', '[] += 1', 'assignment at 3'],
  ['an escaped keyword', 'tru\\u0065', 'identifier with an escape at 0'],
  ['an escaped identifier key', '{\\u0061:1}', 'identifier with an escape at 1'],
  ['a semicolon', '1;2', 'unexpected ";" at 1'],
  ['a missing comma', '{"a":1 "b":2}', 'unexpected string at 7'],
  ['an unterminated string', '"abc', 'unterminated string at 0'],
  ['a raw line break in a string', '"a\nb"', 'line break in a string at 2'],
  ['an unclosed array', '[1,2', 'unexpected end at 4'],
  ['an empty source', '', 'empty'],
  ['only parentheses', ' ( ) ', 'empty'],
  ['a private name', '#x', 'unexpected "#" at 0'],
  ['a statement', 'if(1){}', 'keyword "if" at 0'],
];

describe('isDataLiteral rejects code, and describeCode says why', () => {
  for (const [name, source, reason] of REJECTED) {
    it(`${name}: ${reason}`, () => {
      assert.deepEqual(describeCode(source), { kind: 'code', reason });
      assert.equal(isDataLiteral(source), false);
    });
  }

  it('never quotes a string, a number or an unknown identifier from the source', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{12,24}$/), (secret) => {
        for (const source of [
          `{"token": ${JSON.stringify(secret)}, "x": f()}`,
          `{"token": s${secret}}`,
          `[${JSON.stringify(secret)}](1)`,
          `{"__proto__": ${JSON.stringify(secret)}}`,
        ]) {
          const { kind, reason } = describeCode(source);
          assert.equal(kind, 'code', source);
          assert.ok(!reason.includes(secret), `${reason} quotes the secret`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives positions in the source as written, parentheses included', () => {
    assert.equal(describeCode("  ({'a': x})").reason, 'identifier at 9');
  });

  it('honours maxLength and maxDepth', () => {
    assert.deepEqual(describeCode('[1,2,3]', { maxLength: 6 }), {
      kind: 'code',
      reason: 'longer than 6 characters',
    });
    assert.equal(isDataLiteral('[[1]]', { maxDepth: 2 }), true);
    assert.deepEqual(describeCode('[[[1]]]', { maxDepth: 2 }), {
      kind: 'code',
      reason: 'nested deeper than 2 at 2',
    });
    const atLimit = `${'['.repeat(DEFAULT_MAX_DEPTH)}${']'.repeat(DEFAULT_MAX_DEPTH)}`;
    assert.equal(isDataLiteral(atLimit), true);
    assert.equal(isDataLiteral(`[${atLimit}]`), false);
  });
});

/** Does `value` (JSON) have a `__proto__` key anywhere? Evaluated as a literal, that key sets the prototype. */
function hasProtoKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey);
  if (typeof value !== 'object' || value === null) return false;
  return Object.keys(value).some(
    (k) => k === '__proto__' || hasProtoKey((value as Record<string, unknown>)[k]),
  );
}

describe('isDataLiteral on generated input', () => {
  it('accepts JSON.stringify of any JSON value, bare and in the idiom (unless it has a __proto__ key)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        const json = JSON.stringify(value, null, indent);
        const expected = !hasProtoKey(value);
        assert.equal(isDataLiteral(json), expected, json);
        assert.equal(isDataLiteral(`(${json})`), expected, json);
      }),
      { numRuns: 500 },
    );
  });

  it('gives back the same value when the victim evaluates what it accepted', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        fc.pre(!hasProtoKey(value));
        const json = JSON.stringify(value);
        assert.deepEqual(JSON.stringify(evaluate(`(${json})`)), json);
      }),
      { numRuns: 300 },
    );
  });

  it('only ever accepts sources that evaluate to plain data (token soup near the boundary)', () => {
    const tokens = [
      ...['{', '}', '[', ']', '(', ')', ',', ':', '"a"', "'b'", '`t`', `\`$\{1}\``, '1', '-', '+', '.', '..'],
      ...['x', 'true', 'null', 'undefined', 'NaN', 'Infinity', '__proto__', '"__proto__"', "'\\x5f_proto__'"],
      ...['=', '=>', '?', '?.', ' ', '\n', '/', '//', '/*', '*/', '<!--', '-->', ';', '\\', 'in', 'n', 'e'],
      ...['0x1', '1e3', '.5', '5.', '08', '1_0', 'get', 'new', 'a', '$', '#', '"', "'", '`', '\u2028'],
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 12 }), (parts) => {
        const source = parts.join('');
        if (isDataLiteral(source)) assertPlainData(`(${source})`, source);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on any string, including lone surrogates', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' })),
        (s) => {
          assert.equal(typeof isDataLiteral(s), 'boolean');
          assert.equal(typeof describeCode(s).reason, 'string');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('returns in bounded time for 1 MB inputs', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 1 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.constantFrom('', '"', '[', '{"a":', ' '),
        (unit, prefix) => {
          const source = prefix + unit.repeat(Math.ceil((1024 * 1024) / unit.length)).slice(0, 1024 * 1024);
          const start = performance.now();
          describeCode(source);
          const ms = performance.now() - start;
          assert.ok(ms < 1000, `${ms.toFixed(0)} ms for 1 MB`);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('rejects [[[[…]]]] 100 000 deep without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    assert.deepEqual(describeCode(deep), {
      kind: 'code',
      reason: `nested deeper than ${DEFAULT_MAX_DEPTH} at 256`,
    });
    const objects = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    assert.equal(isDataLiteral(objects), false);
  });

  it('accepts a 6 MiB body and rejects one character more', () => {
    const body = `"${'a'.repeat(6 * 1024 * 1024 - 2)}"`;
    assert.equal(isDataLiteral(body), true);
    assert.deepEqual(describeCode(`${body} `), { kind: 'code', reason: 'longer than 6291456 characters' });
  });
});

/**
 * Evaluates `source` in a fresh context whose global records every name looked up, and checks that
 * only undefined, NaN and Infinity were, and that the value is plain data: primitives, arrays and
 * objects whose prototypes are the context's own (a `__proto__` key would have changed one).
 */
function assertPlainData(source: string, what: string): void {
  const seen: string[] = [];
  const sandbox = new Proxy(
    {},
    {
      has(_target, key) {
        if (typeof key === 'string') seen.push(key);
        return false;
      },
      get(_target, key) {
        if (typeof key === 'string') seen.push(key);
        return undefined;
      },
    },
  );
  const context = vm.createContext(sandbox);
  // The context's own prototypes, reached by syntax (its global answers no name).
  const [emptyObject, emptyArray] = vm.runInContext('[{}, []]', context) as [object, object];
  const objectProto = Object.getPrototypeOf(emptyObject);
  const arrayProto = Object.getPrototypeOf(emptyArray);
  seen.length = 0;
  let value: unknown;
  try {
    value = vm.runInContext(source, context);
  } catch (error) {
    // V8 may refuse what the recogniser's lenient grammar accepts; a SyntaxError executes nothing.
    assert.equal((error as Error).name, 'SyntaxError', `${what}: ${String(error)}`);
    return;
  }
  assert.deepEqual(
    seen.filter((name) => !['undefined', 'NaN', 'Infinity'].includes(name)),
    [],
    `${what} looked up globals`,
  );
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'function' || typeof item === 'symbol')
      assert.fail(`${what} produced a ${typeof item}`);
    if (typeof item !== 'object' || item === null) continue;
    const proto = Object.getPrototypeOf(item);
    assert.ok(
      proto === (Array.isArray(item) ? arrayProto : objectProto),
      `${what}: an object with a foreign prototype`,
    );
    for (const key of Object.keys(item)) {
      const descriptor = Object.getOwnPropertyDescriptor(item, key);
      assert.ok(descriptor && 'value' in descriptor, `${what}: an accessor property`);
      stack.push(descriptor.value);
    }
  }
}
