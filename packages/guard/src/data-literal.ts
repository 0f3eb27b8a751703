/**
 * Is this string a pure data literal? The codegen control asks it about every string that reaches a
 * code-generation sink after INIT: `eval('(' + event.body + ')')` is how the seed's victim function
 * parses JSON, and a body that is data must keep working while a body that carries executable
 * structure (an identifier, a call, a member access, an assignment, a function, an operator) must not.
 *
 * The accepted language is JSON plus the literal extras people send through `eval`:
 * - one pair of wrapping parentheses around the whole source (the `'(' + body + ')'` idiom);
 * - single-quoted strings, template literals without `${…}`, every string escape JS has;
 * - object keys that are unquoted identifier names (reserved words included) or numbers;
 * - trailing commas and array holes (`[1,,2,]`);
 * - `undefined`, `NaN`, `Infinity`, one unary `-`/`+` before a number, `NaN` or `Infinity`;
 * - hexadecimal, octal (`0o17` and legacy `017`), binary, exponent, BigInt and `1_000` numbers.
 *
 * Rejected, with the first reason found (`describeCode`):
 * - every identifier in value position other than `true false null undefined NaN Infinity`: those
 *   six are the only names whose value no code can change (the last three are non-writable,
 *   non-configurable properties of the global object; the wrapper in codegen.ts evaluates
 *   indirectly, in global scope, where no local binding can shadow them);
 * - calls, member access, assignments, operators (other than the unary sign), commas at the top level
 *   (sequence expressions), grouping parentheses, regular expressions, `${…}` substitutions, tagged
 *   templates, functions, arrows, classes, `new`, computed keys, spreads, methods, accessors and
 *   shorthand properties, identifiers written with `\u` escapes;
 * - a `__proto__` key in any spelling (`__proto__`, `"__proto__"`, `'\x5f_proto__'`, …): in an
 *   object literal it sets the prototype instead of an own property (unlike `JSON.parse`), which is
 *   prototype pollution through `eval`;
 * - comments. They cannot hide executable structure in this grammar, but JSON has none, no data
 *   sender needs them, and accepting them means two more lexer states (and Annex B's `<!--`/`-->`
 *   HTML comments) in a security recogniser for no benefit. A rejected comment is the safe error.
 *
 * Bounded on hostile input: one left-to-right pass with no backtracking (linear time; the only
 * regular expression is a sticky negated character class that skips the inside of long strings), an
 * explicit stack instead of recursion (nesting deeper than `maxDepth`, default 256,
 * is rejected at the first bracket over the limit: `[[[[…` 100 000 deep costs 257 steps), and sources
 * longer than `maxLength` (default 6 MiB, Lambda's invocation payload limit, so any event body fits
 * with the idiom's two parentheses) are rejected before they are read.
 *
 * Being lenient where the JS grammar is stricter is safe: a string this module accepts but V8 does not
 * (`{a: 1, b: 2}` evaluated as a block statement, a malformed escape) fails with a SyntaxError, which
 * executes nothing. Being lenient the other way — accepting something V8 reads as an expression with
 * an effect — is the one mistake it must not make; the scanner is precise at exactly those edges
 * (`1..x` and `1 .x` are member accesses, `1.x` is a malformed number, `- -1` is two operators).
 *
 * The built-ins it uses are captured when the module loads: code that runs later cannot change
 * `String.prototype.charCodeAt` to make code look like data.
 */

const call = Function.prototype.call;
const bind = Function.prototype.bind;
/** `fn` as a plain function of its receiver, bound now (an implant may replace the prototype method later). */
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return Reflect.apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const charCodeAt = uncurry(String.prototype.charCodeAt as (this: string, index: number) => number);
const stringSlice = uncurry(String.prototype.slice as (this: string, start?: number, end?: number) => string);

/** Default `maxLength`: Lambda's synchronous invocation payload limit (6 MiB). */
export const DEFAULT_MAX_LENGTH = 6 * 1024 * 1024;
/** Default `maxDepth`: arrays and objects nested deeper than this are not treated as data. */
export const DEFAULT_MAX_DEPTH = 256;

export interface DataLiteralOptions {
  /** Longest source accepted, in UTF-16 code units (default 6 MiB). */
  readonly maxLength?: number;
  /** Deepest nesting of arrays and objects accepted (default 256). */
  readonly maxDepth?: number;
}

/**
 * True iff `source` — trimmed, with one pair of wrapping parentheses removed — is a pure data literal.
 *
 * @example isDataLiteral('(' + '{"card":"4111111111111111"}' + ')') // true
 * @example isDataLiteral("process.mainModule.require('child_process')") // false
 */
export function isDataLiteral(source: string, options?: DataLiteralOptions): boolean {
  return scan(source, options?.maxLength ?? DEFAULT_MAX_LENGTH, options?.maxDepth ?? DEFAULT_MAX_DEPTH);
}

/** What `describeCode` says about a source. */
export interface CodeDescription {
  readonly kind: 'data' | 'code';
  /** `pure data literal`, or the first reason it is code, with a position; never string contents. */
  readonly reason: string;
}

/**
 * Classifies `source` as `isDataLiteral` does and gives the first reason it is code, e.g.
 * `identifier "require" at 14`, `call at 9`, `__proto__ key at 1`. Positions are offsets in `source`.
 * The reason never quotes the source's strings or numbers (they may be secrets); it names an
 * identifier only when it is a keyword or a well-known global.
 *
 * @example describeCode('x=>x') // { kind: 'code', reason: 'identifier at 0' }
 */
export function describeCode(source: string, options?: DataLiteralOptions): CodeDescription {
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (scan(source, maxLength, maxDepth)) return { kind: 'data', reason: 'pure data literal' };
  return { kind: 'code', reason: formatFailure(source, maxLength, maxDepth) };
}

// ---------------------------------------------------------------------------------------------------
// Why a source is not data. The scanner records the first failure here (it never calls out, so one
// module-level record cannot be overwritten by a re-entrant call) and `describeCode` formats it.
// ---------------------------------------------------------------------------------------------------

const F_TOO_LONG = 1;
const F_EMPTY = 2;
const F_TOO_DEEP = 3;
const F_COMMENT = 4;
const F_IDENTIFIER = 5;
const F_ESCAPED_IDENTIFIER = 6;
const F_FUNCTION = 7;
const F_CLASS = 8;
const F_NEW = 9;
const F_GROUPING = 10;
const F_REGEXP = 11;
const F_SUBSTITUTION = 12;
const F_UNTERMINATED = 13;
const F_LINE_BREAK = 14;
const F_NUMBER = 15;
const F_SIGN = 16;
const F_PROTO = 17;
const F_COMPUTED_KEY = 18;
const F_SPREAD = 19;
const F_METHOD = 20;
const F_CALL = 21;
const F_MEMBER = 22;
const F_ASSIGNMENT = 23;
const F_ARROW = 24;
const F_SEQUENCE = 25;
const F_TAGGED_TEMPLATE = 26;
const F_OPERATOR = 27;
const F_UNEXPECTED = 28;
const F_END = 29;
const F_IMPORT = 30;

const failure = { what: 0, at: 0, end: 0 };

function fail(what: number, at: number, end = at + 1): false {
  failure.what = what;
  failure.at = at;
  failure.end = end;
  return false;
}

/** `fail` for the scanners that return a position: -1 means "not data". */
function reject(what: number, at: number, end = at + 1): -1 {
  fail(what, at, end);
  return -1;
}

/** Reserved words (and the contextual ones that act like them): a reason calls them keywords. */
const KEYWORDS = new Set([
  ...['await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete'],
  ...['do', 'else', 'enum', 'export', 'extends', 'finally', 'for', 'function', 'if', 'import', 'in'],
  ...['instanceof', 'new', 'return', 'super', 'switch', 'this', 'throw', 'try', 'typeof', 'var', 'void'],
  ...['while', 'with', 'yield', 'let', 'static', 'async', 'of', 'get', 'set'],
]);

/**
 * Other names that a reason may quote: well-known globals and properties. Any other identifier is
 * reported without its name — in `{"token": s3cr3t}` the name is the secret.
 */
const NAMEABLE = new Set([
  ...['require', 'process', 'module', 'exports', 'global', 'globalThis', 'window', 'self', 'constructor'],
  ...['prototype', '__proto__', '__defineGetter__', '__defineSetter__', 'Function', 'eval', 'Reflect'],
  ...['Object', 'Proxy', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch'],
  ...['console', 'Symbol', 'Promise', 'Array', 'String', 'Number', 'Boolean', 'JSON', 'Math', 'Date'],
  ...['RegExp', 'Error', 'WebAssembly', 'Atomics', 'SharedArrayBuffer', '__dirname', '__filename'],
  ...['mainModule', 'binding', 'dlopen', 'env', 'exit', 'kill', 'child_process', 'execSync', 'exec'],
  ...['spawn', 'spawnSync', 'readFileSync', 'writeFileSync', 'toString', 'valueOf', 'call', 'apply'],
  ...['bind', 'map', 'then', 'arguments'],
]);

const MAX_NAMED_LENGTH = 32;

function formatFailure(source: string, maxLength: number, maxDepth: number): string {
  const { what, at, end } = failure;
  switch (what) {
    case F_TOO_LONG:
      return `longer than ${maxLength} characters`;
    case F_EMPTY:
      return 'empty';
    case F_TOO_DEEP:
      return `nested deeper than ${maxDepth} at ${at}`;
    case F_COMMENT:
      return `comment at ${at}`;
    case F_IDENTIFIER: {
      const length = end - at;
      const name = length <= MAX_NAMED_LENGTH ? stringSlice(source, at, end) : '';
      if (KEYWORDS.has(name)) return `keyword "${name}" at ${at}`;
      return NAMEABLE.has(name) ? `identifier "${name}" at ${at}` : `identifier at ${at}`;
    }
    case F_ESCAPED_IDENTIFIER:
      return `identifier with an escape at ${at}`;
    case F_FUNCTION:
      return `function at ${at}`;
    case F_CLASS:
      return `class at ${at}`;
    case F_NEW:
      return `"new" at ${at}`;
    case F_IMPORT:
      return `import at ${at}`;
    case F_GROUPING:
      return `parenthesised expression at ${at}`;
    case F_REGEXP:
      return `regular expression at ${at}`;
    case F_SUBSTITUTION:
      return `template substitution at ${at}`;
    case F_UNTERMINATED:
      return `unterminated string at ${at}`;
    case F_LINE_BREAK:
      return `line break in a string at ${at}`;
    case F_NUMBER:
      return `malformed number at ${at}`;
    case F_SIGN:
      return `sign before a non-number at ${at}`;
    case F_PROTO:
      return `__proto__ key at ${at}`;
    case F_COMPUTED_KEY:
      return `computed key at ${at}`;
    case F_SPREAD:
      return `spread at ${at}`;
    case F_METHOD:
      return `method, accessor or shorthand property at ${at}`;
    case F_CALL:
      return `call at ${at}`;
    case F_MEMBER:
      return `member access at ${at}`;
    case F_ASSIGNMENT:
      return `assignment at ${at}`;
    case F_ARROW:
      return `arrow function at ${at}`;
    case F_SEQUENCE:
      return `comma expression at ${at}`;
    case F_TAGGED_TEMPLATE:
      return `tagged template at ${at}`;
    case F_OPERATOR:
      return `operator "${stringSlice(source, at, end)}" at ${at}`;
    case F_END:
      return `unexpected end at ${at}`;
    default:
      return `unexpected ${describeChar(source, at)} at ${at}`;
  }
}

/** A character for a message: ASCII punctuation is shown, anything else only by kind. */
function describeChar(source: string, at: number): string {
  const c = at < source.length ? charCodeAt(source, at) : -1;
  if (c === Q_DOUBLE || c === Q_SINGLE) return 'string';
  if (c >= C_0 && c <= C_9) return 'number';
  if (c > 0x20 && c < 0x7f) return `"${stringSlice(source, at, at + 1)}"`;
  return 'character';
}

// ---------------------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------------------

const C_TAB = 0x09;
const C_LF = 0x0a;
const C_VT = 0x0b;
const C_FF = 0x0c;
const C_CR = 0x0d;
const C_SPACE = 0x20;
const C_BANG = 0x21;
const Q_DOUBLE = 0x22;
const C_DOLLAR = 0x24;
const Q_SINGLE = 0x27;
const C_LPAREN = 0x28;
const C_RPAREN = 0x29;
const C_STAR = 0x2a;
const C_PLUS = 0x2b;
const C_COMMA = 0x2c;
const C_MINUS = 0x2d;
const C_DOT = 0x2e;
const C_SLASH = 0x2f;
const C_0 = 0x30;
const C_1 = 0x31;
const C_3 = 0x33;
const C_7 = 0x37;
const C_9 = 0x39;
const C_COLON = 0x3a;
const C_SEMICOLON = 0x3b;
const C_EQUALS = 0x3d;
const C_GT = 0x3e;
const C_QUESTION = 0x3f;
const C_LBRACKET = 0x5b;
const C_BACKSLASH = 0x5c;
const C_RBRACKET = 0x5d;
const C_UNDERSCORE = 0x5f;
const Q_BACKTICK = 0x60;
const C_LBRACE = 0x7b;
const C_RBRACE = 0x7d;
const C_LS = 0x2028;
const C_PS = 0x2029;

// ASCII classes, one table lookup per character.
const WS = 1;
const ID_START = 2;
const ID_PART = 4;
const DIGIT = 8;
const ASCII = new Uint8Array(128);
for (const c of [C_TAB, C_LF, C_VT, C_FF, C_CR, C_SPACE]) ASCII[c] = WS;
for (let c = 0x41; c <= 0x5a; c++) ASCII[c] = ID_START | ID_PART;
for (let c = 0x61; c <= 0x7a; c++) ASCII[c] = ID_START | ID_PART;
ASCII[C_DOLLAR] = ID_START | ID_PART;
ASCII[C_UNDERSCORE] = ID_START | ID_PART;
for (let c = C_0; c <= C_9; c++) ASCII[c] = ID_PART | DIGIT;

/** JS WhiteSpace and LineTerminator outside ASCII (NBSP, BOM, Zs, LS, PS). */
function isUnicodeSpace(c: number): boolean {
  return (
    c === 0xa0 ||
    c === 0xfeff ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === C_LS ||
    c === C_PS ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function isSpace(c: number): boolean {
  return c < 128 ? (ASCII[c] ?? 0) === WS : isUnicodeSpace(c);
}

/**
 * Part of an identifier as far as this scanner cares. Outside ASCII every non-space character counts:
 * JS has no non-ASCII punctuators, so the lenient reading can only make a run longer, never hide one.
 */
function isIdentifierPart(c: number): boolean {
  return c < 128 ? ((ASCII[c] ?? 0) & ID_PART) !== 0 : !isUnicodeSpace(c);
}

function isIdentifierStart(c: number): boolean {
  return c < 128 ? ((ASCII[c] ?? 0) & ID_START) !== 0 : !isUnicodeSpace(c);
}

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function hexValue(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// The recogniser
// ---------------------------------------------------------------------------------------------------

/** Parser states: a value is required / an array element, `]` or `,` / after a value / a key or `}` / `:`. */
const S_VALUE = 0;
const S_ELEMENT = 1;
const S_AFTER = 2;
const S_KEY = 3;
const S_COLON = 4;

const IN_ARRAY = 0;
const IN_OBJECT = 1;

/** Skips whitespace from `pos` up to `end`; a comment there is a failure (-1). */
function skipSpace(src: string, pos: number, end: number): number {
  while (pos < end) {
    const c = charCodeAt(src, pos);
    if (c === C_SLASH && pos + 1 < end) {
      const next = charCodeAt(src, pos + 1);
      if (next === C_SLASH || next === C_STAR) return reject(F_COMMENT, pos);
      return pos;
    }
    if (!isSpace(c)) return pos;
    pos++;
  }
  return pos;
}

function scan(src: string, maxLength: number, maxDepth: number): boolean {
  const length = src.length;
  if (length > maxLength) return fail(F_TOO_LONG, 0);
  let start = 0;
  let end = length;
  while (start < end && isSpace(charCodeAt(src, start))) start++;
  while (end > start && isSpace(charCodeAt(src, end - 1))) end--;
  // The `'(' + body + ')'` idiom: one pair, no more (a second pair is grouping, i.e. code).
  if (end - start >= 2 && charCodeAt(src, start) === C_LPAREN && charCodeAt(src, end - 1) === C_RPAREN) {
    start++;
    end--;
    while (start < end && isSpace(charCodeAt(src, start))) start++;
    while (end > start && isSpace(charCodeAt(src, end - 1))) end--;
  }
  if (start >= end) return fail(F_EMPTY, start);

  const stack: number[] = [];
  let depth = 0;
  let state = S_VALUE;
  let pos = start;
  for (;;) {
    pos = skipSpace(src, pos, end);
    if (pos < 0) return false;
    if (pos >= end) return state === S_AFTER && depth === 0 ? true : fail(F_END, pos);
    const c = charCodeAt(src, pos);
    if (state === S_AFTER) {
      const top = depth === 0 ? -1 : stack[depth - 1];
      if (c === C_COMMA && top !== -1) {
        pos++;
        state = top === IN_ARRAY ? S_ELEMENT : S_KEY;
      } else if ((c === C_RBRACKET && top === IN_ARRAY) || (c === C_RBRACE && top === IN_OBJECT)) {
        depth--;
        pos++;
      } else {
        return afterValueFailure(src, pos, end, c, top === -1);
      }
    } else if (state === S_KEY) {
      if (c === C_RBRACE) {
        depth--;
        pos++;
        state = S_AFTER;
      } else {
        pos = scanKey(src, pos, end, c);
        if (pos < 0) return false;
        state = S_COLON;
      }
    } else if (state === S_COLON) {
      if (c !== C_COLON) return colonFailure(pos, c);
      pos++;
      state = S_VALUE;
    } else if (state === S_ELEMENT && c === C_RBRACKET) {
      depth--;
      pos++;
      state = S_AFTER;
    } else if (state === S_ELEMENT && c === C_COMMA) {
      pos++; // a hole: [1,,2]
    } else if (c === C_LBRACKET || c === C_LBRACE) {
      // S_VALUE or S_ELEMENT: a nested array or object
      if (depth >= maxDepth) return fail(F_TOO_DEEP, pos);
      stack[depth++] = c === C_LBRACKET ? IN_ARRAY : IN_OBJECT;
      state = c === C_LBRACKET ? S_ELEMENT : S_KEY;
      pos++;
    } else {
      pos = scanScalar(src, pos, end, c);
      if (pos < 0) return false;
      state = S_AFTER;
    }
  }
}

/** After a key, anything but `:` is a method (`a(){}`), an accessor (`get a`) or a shorthand (`{a}`). */
function colonFailure(pos: number, c: number): false {
  if (c === C_LPAREN || c === C_COMMA || c === C_RBRACE || c === C_EQUALS || isIdentifierStart(c)) {
    return fail(F_METHOD, pos);
  }
  return failUnexpected(pos, c);
}

/** A string, template, number, signed number or literal name at `pos`; returns the end or -1. */
function scanScalar(src: string, pos: number, end: number, c: number): number {
  if (c === Q_DOUBLE || c === Q_SINGLE) return scanString(src, pos, end, c);
  if (c === Q_BACKTICK) return scanTemplate(src, pos, end);
  if (isDigit(c) || (c === C_DOT && pos + 1 < end && isDigit(charCodeAt(src, pos + 1)))) {
    return scanNumber(src, pos, end);
  }
  if (c === C_MINUS || c === C_PLUS) {
    const next = skipSpace(src, pos + 1, end);
    if (next < 0) return -1;
    if (next >= end) return reject(F_SIGN, pos);
    const d = charCodeAt(src, next);
    if (isDigit(d) || (d === C_DOT && next + 1 < end && isDigit(charCodeAt(src, next + 1)))) {
      const stop = scanNumber(src, next, end);
      // `+10n` throws (a BigInt has no unary plus): not data. `-10n` is a BigInt.
      if (stop > 0 && c === C_PLUS && charCodeAt(src, stop - 1) === 0x6e) return reject(F_SIGN, pos);
      return stop;
    }
    if (isIdentifierStart(d)) {
      const stop = identifierEnd(src, next, end);
      if (stop < 0) return -1;
      if (isName(src, next, stop, 'Infinity') || isName(src, next, stop, 'NaN')) return stop;
    }
    return reject(F_SIGN, pos);
  }
  if (c === C_BACKSLASH) return reject(F_ESCAPED_IDENTIFIER, pos);
  if (isIdentifierStart(c)) {
    const stop = identifierEnd(src, pos, end);
    if (stop < 0) return -1;
    if (isLiteralName(src, pos, stop)) return stop;
    return reject(keywordFailure(src, pos, stop), pos, stop);
  }
  if (c === C_LPAREN) return reject(F_GROUPING, pos);
  if (c === C_SLASH) return reject(F_REGEXP, pos);
  if (c === C_DOT && pos + 2 < end && charCodeAt(src, pos + 1) === C_DOT) return reject(F_SPREAD, pos);
  failUnexpected(pos, c);
  return -1;
}

/** An object key: a string, an identifier name (reserved words too) or an unsigned number. */
function scanKey(src: string, pos: number, end: number, c: number): number {
  if (c === Q_DOUBLE || c === Q_SINGLE) {
    const stop = scanString(src, pos, end, c);
    if (stop < 0) return -1;
    if (isProtoString(src, pos + 1, stop - 1)) return reject(F_PROTO, pos);
    return stop;
  }
  if (isDigit(c) || (c === C_DOT && pos + 1 < end && isDigit(charCodeAt(src, pos + 1)))) {
    return scanNumber(src, pos, end);
  }
  if (c === C_BACKSLASH) return reject(F_ESCAPED_IDENTIFIER, pos);
  if (isIdentifierStart(c)) {
    const stop = identifierEnd(src, pos, end);
    if (stop < 0) return -1;
    if (isName(src, pos, stop, '__proto__')) return reject(F_PROTO, pos);
    return stop;
  }
  if (c === C_LBRACKET) return reject(F_COMPUTED_KEY, pos);
  if (c === C_DOT) return reject(F_SPREAD, pos);
  if (c === C_STAR) return reject(F_METHOD, pos);
  failUnexpected(pos, c);
  return -1;
}

/** The end of the identifier run at `pos`; an escape inside it is a failure (-1). */
function identifierEnd(src: string, pos: number, end: number): number {
  let i = pos + 1;
  while (i < end) {
    const c = charCodeAt(src, i);
    if (c === C_BACKSLASH) return reject(F_ESCAPED_IDENTIFIER, pos, i + 1);
    if (!isIdentifierPart(c)) break;
    i++;
  }
  return i;
}

function isName(src: string, start: number, stop: number, name: string): boolean {
  if (stop - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if (charCodeAt(src, start + i) !== charCodeAt(name, i)) return false;
  }
  return true;
}

const LITERAL_NAMES = ['true', 'false', 'null', 'undefined', 'NaN', 'Infinity'];

function isLiteralName(src: string, start: number, stop: number): boolean {
  for (let i = 0; i < LITERAL_NAMES.length; i++) {
    if (isName(src, start, stop, LITERAL_NAMES[i] as string)) return true;
  }
  return false;
}

function keywordFailure(src: string, start: number, stop: number): number {
  if (isName(src, start, stop, 'function')) return F_FUNCTION;
  if (isName(src, start, stop, 'class')) return F_CLASS;
  if (isName(src, start, stop, 'new')) return F_NEW;
  if (isName(src, start, stop, 'import')) return F_IMPORT;
  return F_IDENTIFIER;
}

/**
 * The run of ordinary string characters, for long strings: one character class with `*`, sticky, so
 * it is linear (no alternation, no backtracking) and V8 runs it several times faster than a JS loop.
 */
const PLAIN_DOUBLE = /[^"\\\n\r]*/y;
const PLAIN_SINGLE = /[^'\\\n\r]*/y;
const regExpExec = uncurry(RegExp.prototype.exec as (this: RegExp, s: string) => RegExpExecArray | null);
/** Characters scanned one by one before a string switches to the regular expression. */
const SHORT_STRING = 24;

/** A quoted string from its opening quote; returns the index after the closing quote, or -1. */
function scanString(src: string, pos: number, end: number, quote: number): number {
  let i = pos + 1;
  let budget = SHORT_STRING;
  while (i < end) {
    const c = charCodeAt(src, i);
    if (c === quote) return i + 1;
    if (c === C_BACKSLASH) {
      // Any escaped character, a line continuation included; CR LF continues as one.
      if (i + 2 < end && charCodeAt(src, i + 1) === C_CR && charCodeAt(src, i + 2) === C_LF) i += 3;
      else i += 2;
      continue;
    }
    if (c === C_LF || c === C_CR) return reject(F_LINE_BREAK, i);
    i++;
    if (--budget === 0) {
      // A long string: jump to its next quote, backslash or line break (a match past `end` is
      // an unterminated string, caught by the loop condition).
      const plain = quote === Q_DOUBLE ? PLAIN_DOUBLE : PLAIN_SINGLE;
      plain.lastIndex = i;
      regExpExec(plain, src);
      i = plain.lastIndex;
      budget = SHORT_STRING;
    }
  }
  return reject(F_UNTERMINATED, pos);
}

/** A template literal without substitutions; `${` is code. */
function scanTemplate(src: string, pos: number, end: number): number {
  let i = pos + 1;
  while (i < end) {
    const c = charCodeAt(src, i);
    if (c === Q_BACKTICK) return i + 1;
    if (c === C_BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === C_DOLLAR && i + 1 < end && charCodeAt(src, i + 1) === C_LBRACE) {
      return reject(F_SUBSTITUTION, i);
    }
    i++;
  }
  return reject(F_UNTERMINATED, pos);
}

/**
 * A numeric literal (ECMA-262 NumericLiteral plus the legacy octal forms of sloppy mode), then the
 * rule that the next character is neither an identifier character nor a digit (`1.x` is malformed,
 * not a member access: V8 rejects it too).
 */
function scanNumber(src: string, pos: number, end: number): number {
  let i = pos;
  let integer = true;
  const first = charCodeAt(src, i);
  const second = i + 1 < end ? charCodeAt(src, i + 1) : -1;
  if (
    first === C_0 &&
    second !== -1 &&
    ((second | 0x20) === 0x78 || (second | 0x20) === 0x6f || (second | 0x20) === 0x62)
  ) {
    // 0x…, 0o…, 0b…
    const radix = (second | 0x20) === 0x78 ? 16 : (second | 0x20) === 0x6f ? 8 : 2;
    i = digitsEnd(src, i + 2, end, radix, true);
    if (i < 0) return reject(F_NUMBER, pos);
  } else if (first === C_0 && second !== -1 && isDigit(second)) {
    // Legacy octal (017) or a decimal with a leading zero (089): digits only, no separators, no BigInt.
    i += 1;
    while (i < end && isDigit(charCodeAt(src, i))) i++;
    integer = false;
  } else {
    if (first !== C_DOT) {
      i = digitsEnd(src, i, end, 10, first !== C_0);
      if (i < 0) return reject(F_NUMBER, pos);
    }
    if (i < end && charCodeAt(src, i) === C_DOT) {
      integer = false;
      i++;
      if (i < end && isDigit(charCodeAt(src, i))) {
        i = digitsEnd(src, i, end, 10, true);
        if (i < 0) return reject(F_NUMBER, pos);
      }
    }
    if (i < end && (charCodeAt(src, i) | 0x20) === 0x65) {
      integer = false;
      i++;
      if (i < end && (charCodeAt(src, i) === C_PLUS || charCodeAt(src, i) === C_MINUS)) i++;
      i = digitsEnd(src, i, end, 10, true);
      if (i < 0) return reject(F_NUMBER, pos);
    }
  }
  if (integer && i < end && charCodeAt(src, i) === 0x6e) i++; // BigInt: 10n, 0xffn
  if (i < end) {
    const next = charCodeAt(src, i);
    if (next === C_BACKSLASH || isIdentifierStart(next) || isDigit(next)) return reject(F_NUMBER, pos, i);
  }
  return i;
}

/** One or more digits of `radix`, with `_` allowed only between two digits; -1 if none. */
function digitsEnd(src: string, pos: number, end: number, radix: number, separators: boolean): number {
  let i = pos;
  if (i >= end || !isRadixDigit(charCodeAt(src, i), radix)) return -1;
  i++;
  while (i < end) {
    const c = charCodeAt(src, i);
    if (isRadixDigit(c, radix)) {
      i++;
    } else if (
      separators &&
      c === C_UNDERSCORE &&
      i + 1 < end &&
      isRadixDigit(charCodeAt(src, i + 1), radix)
    ) {
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

function isRadixDigit(c: number, radix: number): boolean {
  if (radix === 10) return isDigit(c);
  if (radix === 16) return hexValue(c) >= 0;
  if (radix === 8) return c >= C_0 && c <= C_7;
  return c === C_0 || c === C_1;
}

/**
 * Whether the raw string contents `src[start, stop)` decode to exactly `__proto__`, with every escape
 * sloppy-mode JS has: `\x5f`, `\u005f`, `\u{5f}`, `\137` (legacy octal), `\_` (identity escape) and
 * line continuations. Stops at the first character that cannot match.
 */
function isProtoString(src: string, start: number, stop: number): boolean {
  let k = 0; // characters of "__proto__" matched so far
  let i = start;
  while (i < stop) {
    let c = charCodeAt(src, i);
    if (c !== C_BACKSLASH) {
      i++;
    } else {
      i++;
      if (i >= stop) return false;
      const e = charCodeAt(src, i);
      i++;
      if (e === C_LF || e === C_LS || e === C_PS) continue; // line continuation: no character
      if (e === C_CR) {
        if (i < stop && charCodeAt(src, i) === C_LF) i++;
        continue;
      }
      if (e === 0x78) {
        // \xHH
        const h1 = i < stop ? hexValue(charCodeAt(src, i)) : -1;
        const h2 = i + 1 < stop ? hexValue(charCodeAt(src, i + 1)) : -1;
        if (h1 < 0 || h2 < 0) return false;
        c = h1 * 16 + h2;
        i += 2;
      } else if (e === 0x75) {
        // \uHHHH or \u{H…}
        if (i < stop && charCodeAt(src, i) === C_LBRACE) {
          i++;
          let value = 0;
          let digits = 0;
          while (i < stop && charCodeAt(src, i) !== C_RBRACE) {
            const h = hexValue(charCodeAt(src, i));
            if (h < 0) return false;
            value = value * 16 + h;
            if (value > 0x10ffff) return false;
            digits++;
            i++;
          }
          if (i >= stop || digits === 0) return false;
          i++;
          c = value;
        } else {
          let value = 0;
          for (let j = 0; j < 4; j++) {
            const h = i < stop ? hexValue(charCodeAt(src, i)) : -1;
            if (h < 0) return false;
            value = value * 16 + h;
            i++;
          }
          c = value;
        }
      } else if (e >= C_0 && e <= C_7) {
        // Legacy octal: up to three digits when the first is 0-3, two otherwise.
        let value = e - C_0;
        const max = e <= C_3 ? 2 : 1;
        for (let j = 0; j < max && i < stop; j++) {
          const d = charCodeAt(src, i);
          if (d < C_0 || d > C_7) break;
          value = value * 8 + (d - C_0);
          i++;
        }
        c = value;
      } else {
        // \b \f \n \r \t \v decode to control characters (never part of the name); others to themselves.
        c = e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74 || e === 0x76 ? 0 : e;
      }
    }
    if (k >= PROTO.length || c !== PROTO_CODES[k]) return false;
    k++;
  }
  return k === PROTO.length;
}

const PROTO = '__proto__';
const PROTO_CODES = Array.from(PROTO, (ch) => charCodeAt(ch, 0));

/** The failure after a complete value, named by what the character starts. */
function afterValueFailure(src: string, pos: number, end: number, c: number, topLevel: boolean): false {
  const next = pos + 1 < end ? charCodeAt(src, pos + 1) : -1;
  switch (c) {
    case C_LPAREN:
      return fail(F_CALL, pos);
    case C_DOT:
      return fail(F_MEMBER, pos);
    case C_LBRACKET:
      return fail(F_MEMBER, pos);
    case C_QUESTION:
      return next === C_DOT && !(pos + 2 < end && isDigit(charCodeAt(src, pos + 2)))
        ? fail(F_MEMBER, pos)
        : fail(F_OPERATOR, pos, next === C_QUESTION ? pos + 2 : pos + 1);
    case C_EQUALS:
      if (next === C_GT) return fail(F_ARROW, pos);
      if (next === C_EQUALS) return fail(F_OPERATOR, pos, pos + 2);
      return fail(F_ASSIGNMENT, pos);
    case C_COMMA:
      return fail(topLevel ? F_SEQUENCE : F_UNEXPECTED, pos);
    case Q_BACKTICK:
      return fail(F_TAGGED_TEMPLATE, pos);
    case C_SEMICOLON:
    case C_COLON:
    case C_RPAREN:
    case C_RBRACKET:
    case C_RBRACE:
    case C_LBRACE:
    case Q_DOUBLE:
    case Q_SINGLE:
      return fail(F_UNEXPECTED, pos);
    default:
      break;
  }
  if (c === C_BACKSLASH) return fail(F_ESCAPED_IDENTIFIER, pos);
  if (isIdentifierStart(c)) {
    const stop = identifierEnd(src, pos, end);
    if (stop < 0) return false;
    return fail(keywordFailure(src, pos, stop), pos, stop);
  }
  if (isOperatorChar(c)) {
    // Compound assignment (`+=`, `|=`…) is an assignment; otherwise the operator itself.
    if (next === C_EQUALS && c !== C_BANG && c !== 0x3c && c !== C_GT) return fail(F_ASSIGNMENT, pos);
    return fail(F_OPERATOR, pos);
  }
  return failUnexpected(pos, c);
}

function isOperatorChar(c: number): boolean {
  // ! % & * + - / < > ^ | ~
  return (
    c === C_BANG ||
    c === 0x25 ||
    c === 0x26 ||
    c === C_STAR ||
    c === C_PLUS ||
    c === C_MINUS ||
    c === C_SLASH ||
    c === 0x3c ||
    c === C_GT ||
    c === 0x5e ||
    c === 0x7c ||
    c === 0x7e
  );
}

function failUnexpected(pos: number, c: number): false {
  return fail(isOperatorChar(c) ? F_OPERATOR : F_UNEXPECTED, pos);
}
