/**
 * The firewall's detectors, as data plus small linear scanners (no regular expressions: nothing here
 * can backtrack on hostile input).
 *
 * Two kinds:
 * - Input checks, before the handler runs, for what has no sink the guard can watch: prototype
 *   pollution keys at any depth, NoSQL query operators where a value was expected, and the markers of
 *   JavaScript deserialisation/sandbox-escape payloads (node-serialize's `_$$ND_FUNC$$_`,
 *   `constructor.constructor`, `process.mainModule`) that have no benign use in request data.
 * - Sink checks, when a hooked sink is about to run: does a piece of the current event's input change
 *   the structure of what runs? A shell command's quoting and operators, an SQL statement's tokens, a
 *   path escaping the directory it was joined to, a URL's host. Input that lands inside one token (a
 *   search term inside a string literal, a file name inside its directory) is data and passes, which
 *   is what keeps false positives near zero.
 */
import type { Input, KeyFinding } from './extract.js';
import { safeDecode } from './extract.js';

const { apply } = Reflect;
const { freeze } = Object;
const call = Function.prototype.call;
const bind = Function.prototype.bind;
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const stringSlice = uncurry(String.prototype.slice as (this: string, s?: number, e?: number) => string);
const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, s: string, from?: number) => number);
const stringToLowerCase = uncurry(String.prototype.toLowerCase as (this: string) => string);
const stringStartsWith = uncurry(String.prototype.startsWith as (this: string, s: string) => boolean);
const stringEndsWith = uncurry(String.prototype.endsWith as (this: string, s: string) => boolean);
const stringSplit = uncurry(String.prototype.split as (this: string, sep: string) => string[]);
const charCodeAt = uncurry(String.prototype.charCodeAt as (this: string, i: number) => number);
const arrayPush = uncurry(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number);
const arrayJoin = uncurry(Array.prototype.join as (this: unknown[], sep?: string) => string);
const URLIntrinsic = URL;

/** What a detector found: which detector, and the input location responsible. */
export interface Finding {
  readonly detector: Detector;
  readonly location: string;
  /** The input that did it (never reported; the fingerprint is computed from it). */
  readonly input: string;
}

export type Detector =
  | 'prototype-pollution'
  | 'nosql-injection'
  | 'js-injection'
  | 'command-injection'
  | 'sql-injection'
  | 'path-traversal'
  | 'ssrf';

/** Most occurrences of one input examined in one sink value. */
const MAX_OCCURRENCES = 16;
/** Longest sink value scanned (a longer command, statement, path or URL is scanned up to here). */
export const MAX_SINK_VALUE = 256 * 1024;

// ---------------------------------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------------------------------

/** MongoDB query and update operators a caller should never be able to choose. */
const NOSQL_OPERATORS: ReadonlySet<string> = new Set([
  '$where',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$eq',
  '$regex',
  '$exists',
  '$expr',
  '$or',
  '$and',
  '$not',
  '$nor',
  '$elemMatch',
  '$function',
  '$accumulator',
  '$type',
  '$size',
  '$all',
  '$mod',
  '$text',
  '$jsonSchema',
  '$set',
  '$unset',
  '$inc',
  '$push',
  '$rename',
  '$lookup',
  '$merge',
  '$out',
]);

/**
 * Markers of JavaScript payloads with no benign use in request data, compared after dropping
 * whitespace, quotes, `]` and `?` and reading `[` as `.` (so `constructor['constructor']`,
 * `constructor?.constructor` and `constructor . constructor` are one form; prose that merely says
 * "constructor constructor" is not).
 */
const JS_MARKERS = freeze([
  '_$$nd_func$$_', // node-serialize's function marker (DVSA's RCE)
  'constructor.constructor',
  'process.mainmodule',
  '__definegetter__',
  'require(child_process)',
]);

export function keyFinding(k: KeyFinding): Finding | undefined {
  if (k.operatorObject === true) {
    return NOSQL_OPERATORS.has(k.key)
      ? freeze({ detector: 'nosql-injection' as const, location: k.location, input: k.key })
      : undefined;
  }
  return freeze({ detector: 'prototype-pollution' as const, location: k.location, input: k.key });
}

/** A string worth the JS-marker check: it contains `_`, `.`, `[` or `(` next to letters. */
export function jsMarkerFinding(input: Input): Finding | undefined {
  const v = input.value;
  if (v.length < 12) return undefined;
  // Cheap pre-filter: every marker contains one of these substrings.
  if (
    stringIndexOf(v, 'ND_FUNC') < 0 &&
    stringIndexOf(v, 'onstructor') < 0 &&
    stringIndexOf(v, 'ainModule') < 0 &&
    stringIndexOf(v, 'efineGetter') < 0 &&
    stringIndexOf(v, 'child_process') < 0
  ) {
    return undefined;
  }
  const squeezed = squeeze(v);
  for (let i = 0; i < JS_MARKERS.length; i++) {
    if (stringIndexOf(squeezed, JS_MARKERS[i] as string) >= 0) {
      return freeze({ detector: 'js-injection' as const, location: input.location, input: v });
    }
  }
  return undefined;
}

/** Lower-case, without whitespace, quotes, backticks, `]` and `?`; `[` read as `.`. */
function squeeze(v: string): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? charCodeAt(v, i) : -1;
    const drop =
      c === -1 ||
      c <= 0x20 ||
      c === 0x22 ||
      c === 0x27 ||
      c === 0x60 ||
      c === 0x5b ||
      c === 0x5d ||
      c === 0x3f;
    if (drop) {
      if (i > start) arrayPush(parts, stringSlice(v, start, i));
      if (c === 0x5b) arrayPush(parts, '.');
      start = i + 1;
    }
  }
  return stringToLowerCase(arrayJoin(parts, ''));
}

// ---------------------------------------------------------------------------------------------------
// Occurrences of input in a sink value
// ---------------------------------------------------------------------------------------------------

/** Start offsets of `needle` in `hay` (at most MAX_OCCURRENCES). */
function occurrences(hay: string, needle: string): number[] {
  const out: number[] = [];
  if (needle.length === 0 || needle.length > hay.length) return out;
  let at = stringIndexOf(hay, needle);
  while (at >= 0 && out.length < MAX_OCCURRENCES) {
    arrayPush(out, at);
    at = stringIndexOf(hay, needle, at + 1);
  }
  return out;
}

/** The input and, when it is percent-encoded, its decoded form (a function may decode once more). */
function forms(value: string): string[] {
  const decoded = safeDecode(value);
  return decoded === value ? [value] : [value, decoded];
}

function clip(value: string): string {
  return value.length > MAX_SINK_VALUE ? stringSlice(value, 0, MAX_SINK_VALUE) : value;
}

function isPlainWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x5f || c >= 0x80;
}

// ---------------------------------------------------------------------------------------------------
// Shell (child_process.exec and every `shell: true` spawn)
// ---------------------------------------------------------------------------------------------------

const SH_UNQUOTED = 0;
const SH_SINGLE = 1;
const SH_DOUBLE = 2;

/**
 * Quote context of every character of a POSIX shell command: unquoted, single- or double-quoted,
 * and whether it was escaped by a backslash. One pass.
 */
function shellContexts(cmd: string): { ctx: Uint8Array; escaped: Uint8Array } {
  const n = cmd.length;
  const ctx = new Uint8Array(n + 1);
  const escaped = new Uint8Array(n + 1);
  let state = SH_UNQUOTED;
  for (let i = 0; i < n; i++) {
    const c = charCodeAt(cmd, i);
    ctx[i] = state;
    if (state === SH_SINGLE) {
      if (c === 0x27) state = SH_UNQUOTED;
    } else if (c === 0x5c && i + 1 < n && (state === SH_UNQUOTED || isDqEscapable(charCodeAt(cmd, i + 1)))) {
      ctx[i + 1] = state;
      escaped[i + 1] = 1;
      i++;
    } else if (state === SH_DOUBLE) {
      if (c === 0x22) state = SH_UNQUOTED;
    } else if (c === 0x27) {
      state = SH_SINGLE;
    } else if (c === 0x22) {
      state = SH_DOUBLE;
    }
  }
  ctx[n] = state;
  return { ctx, escaped };
}

function isDqEscapable(c: number): boolean {
  return c === 0x24 || c === 0x60 || c === 0x22 || c === 0x5c || c === 0x0a;
}

/** Characters that can change a shell command's structure, in a context. */
function shellSpecial(cmd: string, i: number, state: number): boolean {
  const c = charCodeAt(cmd, i);
  if (state === SH_SINGLE) return c === 0x27;
  if (c === 0x60) return true; // `command substitution`
  if (c === 0x24) {
    const d = i + 1 < cmd.length ? charCodeAt(cmd, i + 1) : 0;
    return d === 0x28 || d === 0x7b || d === 0x5f || ((d | 0x20) >= 0x61 && (d | 0x20) <= 0x7a); // $( ${ $VAR
  }
  if (c === 0x22) return true; // a quote the input opens or closes
  if (state === SH_DOUBLE) return false;
  // Unquoted: operators, separators, redirections, a quote.
  return c === 0x3b || c === 0x26 || c === 0x7c || c === 0x3c || c === 0x3e || c === 0x0a || c === 0x27;
}

/** Whether the input could matter to a shell at all (most inputs are skipped here). */
export function shellCandidate(value: string): boolean {
  if (value.length < 2) return false;
  for (let i = 0; i < value.length; i++) {
    const c = charCodeAt(value, i);
    if (
      c === 0x3b ||
      c === 0x26 ||
      c === 0x7c ||
      c === 0x3c ||
      c === 0x3e ||
      c === 0x0a ||
      c === 0x27 ||
      c === 0x22 ||
      c === 0x60 ||
      c === 0x24 ||
      c === 0x5c ||
      c === 0x20 ||
      c === 0x09
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Does an input change the structure of a shell command? It does if, where it lands, it carries an
 * operator or separator (unquoted `; & | < > newline`), a substitution (`` ` ``, `$(`, `${`, `$VAR`
 * outside single quotes), a quote that ends or begins a quoted span, or an unquoted space followed by
 * `-` (a new option).
 *
 * @example shellFinding('curl -s "https://x/; id"', [{location:'query.url', value:'https://x/; id'}]) // undefined (quoted)
 */
export function shellFinding(command: string, inputs: readonly Input[]): Finding | undefined {
  const cmd = clip(command);
  let contexts: { ctx: Uint8Array; escaped: Uint8Array } | undefined;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as Input;
    if (!shellCandidate(input.value)) continue;
    const needles = forms(input.value);
    for (let f = 0; f < needles.length; f++) {
      const needle = needles[f] as string;
      const at = occurrences(cmd, needle);
      if (at.length === 0) continue;
      contexts ??= shellContexts(cmd);
      for (let o = 0; o < at.length; o++) {
        if (shellSpanChanges(cmd, contexts, at[o] as number, (at[o] as number) + needle.length)) {
          return freeze({
            detector: 'command-injection' as const,
            location: input.location,
            input: input.value,
          });
        }
      }
    }
  }
  return undefined;
}

function shellSpanChanges(
  cmd: string,
  { ctx, escaped }: { ctx: Uint8Array; escaped: Uint8Array },
  start: number,
  end: number,
): boolean {
  if (ctx[start] !== ctx[end]) return true; // the input leaves the quoting it started in
  for (let i = start; i < end; i++) {
    if (escaped[i] === 1) continue;
    const state = ctx[i] as number;
    if (shellSpecial(cmd, i, state)) return true;
    const c = charCodeAt(cmd, i);
    if (state === SH_UNQUOTED && (c === 0x20 || c === 0x09) && i + 1 < end && charCodeAt(cmd, i + 1) === 0x2d)
      return true; // ` -o /tmp/x`: a new option
  }
  return false;
}

/**
 * `execFile`/`spawn` without a shell: no operators exist, but an argument that the caller chose
 * whole and that starts with `-` is an option (`curl -o /var/task/index.js`). `value` is the file and
 * its arguments joined by spaces (as the child-process hook passes them).
 */
export function execFinding(value: string, inputs: readonly Input[]): Finding | undefined {
  const args = stringSplit(clip(value), ' ');
  for (let a = 1; a < args.length; a++) {
    const arg = args[a] as string;
    if (arg.length < 2 || charCodeAt(arg, 0) !== 0x2d) continue;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k] as Input;
      if (input.value === arg || safeDecode(input.value) === arg) {
        return freeze({
          detector: 'command-injection' as const,
          location: input.location,
          input: input.value,
        });
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// SQL (pg, mysql2)
// ---------------------------------------------------------------------------------------------------

export type SqlDialect = 'postgres' | 'mysql';

const T_STRING = 1;
const T_QUOTED_ID = 2;
const T_NUMBER = 3;
const T_WORD = 4;
const T_OP = 5;
const T_COMMENT = 6;
const T_PARAM = 7;

interface SqlToken {
  kind: number;
  start: number;
  end: number;
}

/**
 * A lenient one-pass SQL lexer: strings (`'…'` with `''`; E-strings and MySQL's backslash escapes;
 * PostgreSQL dollar quotes `$tag$…$tag$`), quoted identifiers, numbers, words, comments (`--`,
 * `/* *\/` nested in PostgreSQL, `#` in MySQL), parameters (`$1`, `?`), one-character operators.
 * `unterminated` says the statement ended inside a string, identifier or comment.
 */
export function lexSql(sql: string, dialect: SqlDialect): { tokens: SqlToken[]; unterminated: boolean } {
  const tokens: SqlToken[] = [];
  const n = sql.length;
  let i = 0;
  let unterminated = false;
  while (i < n) {
    const c = charCodeAt(sql, i);
    const start = i;
    if (c <= 0x20) {
      i++;
      continue;
    }
    const next = i + 1 < n ? charCodeAt(sql, i + 1) : -1;
    if (c === 0x27 || ((c | 0x20) === 0x65 && next === 0x27 && dialect === 'postgres')) {
      // 'string' or E'string'
      const backslash = dialect === 'mysql' || c !== 0x27;
      i += c === 0x27 ? 1 : 2;
      let closed = false;
      while (i < n) {
        const d = charCodeAt(sql, i);
        if (backslash && d === 0x5c) {
          i += 2;
          continue;
        }
        if (d === 0x27) {
          if (i + 1 < n && charCodeAt(sql, i + 1) === 0x27) {
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) unterminated = true;
      arrayPush(tokens, { kind: T_STRING, start, end: i });
    } else if (c === 0x22 || (c === 0x60 && dialect === 'mysql') || (c === 0x22 && dialect === 'mysql')) {
      i++;
      let closed = false;
      while (i < n) {
        const d = charCodeAt(sql, i);
        if (dialect === 'mysql' && c === 0x22 && d === 0x5c) {
          i += 2;
          continue;
        }
        if (d === c) {
          if (i + 1 < n && charCodeAt(sql, i + 1) === c) {
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) unterminated = true;
      // MySQL's "…" is a string unless ANSI_QUOTES; either way it is one token.
      arrayPush(tokens, {
        kind: c === 0x22 && dialect === 'postgres' ? T_QUOTED_ID : T_STRING,
        start,
        end: i,
      });
    } else if ((c === 0x2d && next === 0x2d) || (c === 0x23 && dialect === 'mysql')) {
      while (i < n && charCodeAt(sql, i) !== 0x0a) i++;
      arrayPush(tokens, { kind: T_COMMENT, start, end: i });
    } else if (c === 0x2f && next === 0x2a) {
      i += 2;
      let depth = 1;
      while (i < n && depth > 0) {
        const d = charCodeAt(sql, i);
        const e = i + 1 < n ? charCodeAt(sql, i + 1) : -1;
        if (d === 0x2a && e === 0x2f) {
          depth--;
          i += 2;
        } else if (d === 0x2f && e === 0x2a && dialect === 'postgres') {
          depth++;
          i += 2;
        } else {
          i++;
        }
      }
      if (depth > 0) unterminated = true;
      arrayPush(tokens, { kind: T_COMMENT, start, end: i });
    } else if (c === 0x24 && dialect === 'postgres' && next >= 0x30 && next <= 0x39) {
      i++;
      while (i < n && isDigit(charCodeAt(sql, i))) i++;
      arrayPush(tokens, { kind: T_PARAM, start, end: i });
    } else if (c === 0x24 && dialect === 'postgres') {
      // $tag$ … $tag$
      let j = i + 1;
      while (j < n && isPlainWordChar(charCodeAt(sql, j)) && !isDigitAt(sql, j, i + 1)) j++;
      if (j < n && charCodeAt(sql, j) === 0x24) {
        const tag = stringSlice(sql, i, j + 1);
        const close = stringIndexOf(sql, tag, j + 1);
        i = close < 0 ? n : close + tag.length;
        if (close < 0) unterminated = true;
        arrayPush(tokens, { kind: T_STRING, start, end: i });
      } else {
        i++;
        arrayPush(tokens, { kind: T_OP, start, end: i });
      }
    } else if (isDigit(c) || (c === 0x2e && isDigit(next))) {
      i++;
      while (i < n && (isPlainWordChar(charCodeAt(sql, i)) || charCodeAt(sql, i) === 0x2e)) i++;
      arrayPush(tokens, { kind: T_NUMBER, start, end: i });
    } else if (isPlainWordChar(c)) {
      i++;
      while (i < n && (isPlainWordChar(charCodeAt(sql, i)) || charCodeAt(sql, i) === 0x24)) i++;
      arrayPush(tokens, { kind: T_WORD, start, end: i });
    } else if (c === 0x3f && dialect === 'mysql') {
      i++;
      arrayPush(tokens, { kind: T_PARAM, start, end: i });
    } else {
      i++;
      arrayPush(tokens, { kind: T_OP, start, end: i });
    }
  }
  return { tokens, unterminated };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isDigitAt(s: string, j: number, first: number): boolean {
  return j === first && isDigit(charCodeAt(s, j));
}

/** Whether the input could matter to SQL (letters, digits, `_`, `.`, `@` and `-` inside a word cannot). */
export function sqlCandidate(value: string): boolean {
  if (value.length < 2) return false;
  for (let i = 0; i < value.length; i++) {
    const c = charCodeAt(value, i);
    if (isPlainWordChar(c) || c === 0x2e || c === 0x40) continue;
    return true;
  }
  return false;
}

/**
 * Does an input change the tokens of an SQL statement? Input that lies inside one token (a string
 * literal, a number, an identifier) is data. Input spanning tokens is an injection — except when the
 * statement is left unterminated by it and the input carries no comment, `;` or backslash (then the
 * database refuses the statement anyway: `'O'Reilly'`), or when what follows the string the input
 * closed is a bare word (`'%Don't stop%'` is a syntax error, not a query the caller could shape).
 */
export function sqlFinding(
  statement: string,
  inputs: readonly Input[],
  dialect: SqlDialect,
): Finding | undefined {
  const sql = clip(statement);
  let lexed: { tokens: SqlToken[]; unterminated: boolean } | undefined;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as Input;
    if (!sqlCandidate(input.value)) continue;
    const needles = forms(input.value);
    for (let f = 0; f < needles.length; f++) {
      const needle = needles[f] as string;
      const at = occurrences(sql, needle);
      if (at.length === 0) continue;
      lexed ??= lexSql(sql, dialect);
      for (let o = 0; o < at.length; o++) {
        const s = at[o] as number;
        if (sqlSpanChanges(sql, lexed, s, s + needle.length)) {
          return freeze({ detector: 'sql-injection' as const, location: input.location, input: input.value });
        }
      }
    }
  }
  return undefined;
}

function sqlSpanChanges(
  sql: string,
  lexed: { tokens: SqlToken[]; unterminated: boolean },
  start: number,
  end: number,
): boolean {
  const { tokens } = lexed;
  // Tokens overlapping [start, end).
  let first = -1;
  let last = -1;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t] as SqlToken;
    if (tok.end <= start) continue;
    if (tok.start >= end) break;
    if (first < 0) first = t;
    last = t;
  }
  if (first < 0) return false; // only whitespace
  const a = tokens[first] as SqlToken;
  if (first === last && a.start <= start && a.end >= end) {
    // Inside one token: data, unless it is a word the input made (a whole keyword or identifier it
    // chose, `ORDER BY ${col}`, is the caller's choice of one identifier: allowed).
    return false;
  }
  // Statement-level code the input brings outside string literals: a comment or a `;`.
  let carriesCode = false;
  let onlyNames = true;
  for (let t = first; t <= last; t++) {
    const tok = tokens[t] as SqlToken;
    const text = stringSlice(sql, tok.start, tok.end);
    if (tok.kind === T_COMMENT || (tok.kind === T_OP && text === ';')) carriesCode = true;
    if (tok.kind === T_WORD) {
      const word = stringToLowerCase(text);
      if (SQL_KEYWORDS.has(word) && !ORDERING_WORDS.has(word)) onlyNames = false;
    } else if (tok.kind === T_OP) {
      if (text !== ',' && text !== '.') onlyNames = false;
    } else if (tok.kind !== T_NUMBER && tok.kind !== T_QUOTED_ID) {
      onlyNames = false;
    }
  }
  // `ORDER BY ${sort}` with `title DESC` or `id, title`: names and ordering words, no operator and
  // no keyword that could start another clause: the caller chose columns, not a statement.
  if (onlyNames) return false;
  // The input closed a string literal that was the right operand of an operator (`ILIKE '%Don'`)
  // and a bare word follows (`t stop`): no dialect accepts an identifier there, so the database
  // rejects the whole statement — and with it whatever the input put after a `;` or a comment.
  for (let t = first; t <= last; t++) {
    const tok = tokens[t] as SqlToken;
    if (tok.kind !== T_STRING || tok.end <= start || tok.end > end) continue;
    const after = tokens[t + 1] as SqlToken | undefined;
    const prev = tokens[t - 1] as SqlToken | undefined;
    if (after !== undefined && after.start < end && prev !== undefined && isOperandPosition(sql, prev)) {
      const word = stringToLowerCase(stringSlice(sql, after.start, after.end));
      if (after.kind === T_WORD && !SQL_KEYWORDS.has(word)) return false;
    }
    break;
  }
  // Left unterminated and carrying no comment or `;`: the database refuses it (`'%O'Reilly%'`).
  if (lexed.unterminated && !carriesCode) return false;
  return true;
}

/** The token before a string literal makes it a right operand: a comparison or arithmetic operator, LIKE. */
function isOperandPosition(sql: string, prev: SqlToken): boolean {
  const text = stringToLowerCase(stringSlice(sql, prev.start, prev.end));
  if (prev.kind === T_OP) return OPERAND_OPS.has(text);
  return (
    prev.kind === T_WORD && (text === 'like' || text === 'ilike' || text === 'rlike' || text === 'regexp')
  );
}

/** Words a caller may add after a column in `ORDER BY ${sort}`. */
const ORDERING_WORDS: ReadonlySet<string> = new Set(['asc', 'desc', 'nulls', 'first', 'last']);

const OPERAND_OPS: ReadonlySet<string> = new Set([
  '=',
  '<',
  '>',
  '!',
  '~',
  '+',
  '-',
  '*',
  '/',
  '%',
  '|',
  '&',
  '^',
]);

/** Words that continue an expression after a string literal (the breakout attacks use these). */
const SQL_KEYWORDS: ReadonlySet<string> = new Set([
  'or',
  'and',
  'not',
  'union',
  'intersect',
  'except',
  'select',
  'from',
  'where',
  'order',
  'group',
  'by',
  'having',
  'limit',
  'offset',
  'fetch',
  'into',
  'is',
  'isnull',
  'notnull',
  'like',
  'ilike',
  'in',
  'between',
  'as',
  'at',
  'collate',
  'escape',
  'uescape',
  'overlaps',
  'then',
  'else',
  'end',
  'when',
  'case',
  'returning',
  'insert',
  'update',
  'delete',
  'drop',
  'exec',
  'execute',
  'xor',
  'regexp',
  'rlike',
  'similar',
  'sounds',
  'member',
  'procedure',
  'join',
  'left',
  'right',
  'inner',
  'outer',
  'full',
  'cross',
  'natural',
  'using',
  'on',
  'for',
  'do',
  'sleep',
  'waitfor',
  'div',
  'mod',
  'window',
  'asc',
  'desc',
  'nulls',
  'to',
  'with',
  'within',
  'filter',
  'over',
  'lock',
  'values',
  'set',
]);

// ---------------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------------

/** Segments that escape upward, as a caller may spell them. */
function hasDotDotSegment(v: string): boolean {
  const n = v.length;
  for (let i = 0; i + 1 < n; i++) {
    if (charCodeAt(v, i) !== 0x2e || charCodeAt(v, i + 1) !== 0x2e) continue;
    const before = i === 0 ? 0x2f : charCodeAt(v, i - 1);
    const after = i + 2 >= n ? 0x2f : charCodeAt(v, i + 2);
    if ((before === 0x2f || before === 0x5c) && (after === 0x2f || after === 0x5c)) return true;
  }
  return false;
}

/** Where an absolute path the caller chose must not go. */
const SENSITIVE_ROOTS = freeze([
  '/proc/',
  '/etc/',
  '/dev/',
  '/sys/',
  '/var/task',
  '/var/runtime',
  '/opt/',
  '/root/',
  '/home/',
]);

function normalise(p: string): string {
  const parts = stringSplit(p, '/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const s = parts[i] as string;
    if (s === '' || s === '.') continue;
    if (s === '..') out.length = out.length > 0 ? out.length - 1 : 0;
    else arrayPush(out, s);
  }
  return `/${arrayJoin(out, '/')}`;
}

/**
 * Does an input steer a file path out of its directory? The input carries `..` segments (or a NUL)
 * and the path it reached no longer lies under the directory the function put before it (or under
 * `base`, when the hook knows one); or the input is an absolute path into a sensitive root.
 * Paths arrive already joined (`path.join(dir, input)` normalises `..` away), so the input is also
 * matched by its tail: `../../etc/passwd` is recognised in `/etc/passwd`.
 */
export function pathFinding(path: string, inputs: readonly Input[], base?: string): Finding | undefined {
  const p = clip(path);
  const resolved = charCodeAt(p, 0) === 0x2f ? normalise(p) : p;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as Input;
    if (input.value.length < 2) continue;
    const needles = forms(input.value);
    for (let f = 0; f < needles.length; f++) {
      const v = needles[f] as string;
      const nul = stringIndexOf(v, '\u0000');
      if (nul > 0 && stringIndexOf(p, stringSlice(v, 0, nul)) >= 0) return found(input); // `x.pdf\0.js`
      if (hasDotDotSegment(v)) {
        // The tail the input names after its `../` run.
        let tail = v;
        while (
          stringStartsWith(tail, '../') ||
          stringStartsWith(tail, './') ||
          stringStartsWith(tail, '..\\')
        ) {
          tail = stringSlice(tail, stringStartsWith(tail, './') ? 2 : 3);
        }
        const at = stringIndexOf(p, v);
        if (at >= 0) {
          const dir = normalise(stringSlice(p, 0, at) || '/');
          const limit = base !== undefined ? normalise(base) : dir;
          if (!within(resolved, limit)) return found(input);
          continue;
        }
        const normTail = normalise(tail);
        if (normTail !== '/' && (resolved === normTail || stringEndsWith(resolved, normTail))) {
          if (base === undefined || !within(resolved, normalise(base))) return found(input);
        }
        continue;
      }
      if (
        charCodeAt(v, 0) === 0x2f &&
        (resolved === normalise(v) || stringStartsWith(resolved, `${normalise(v)}/`))
      ) {
        if (base !== undefined) {
          if (!within(resolved, normalise(base))) return found(input);
          continue;
        }
        for (let r = 0; r < SENSITIVE_ROOTS.length; r++) {
          const root = SENSITIVE_ROOTS[r] as string;
          if (stringStartsWith(resolved, root) || `${resolved}/` === root) return found(input);
        }
      }
    }
  }
  return undefined;
}

function within(p: string, dir: string): boolean {
  return dir === '/' || p === dir || stringStartsWith(p, `${dir}/`);
}

function found(input: Input): Finding {
  return freeze({ detector: 'path-traversal' as const, location: input.location, input: input.value });
}

// ---------------------------------------------------------------------------------------------------
// Outbound URLs (SSRF)
// ---------------------------------------------------------------------------------------------------

/**
 * Does an input steer an outbound request somewhere it must not go? Either the input changed the
 * URL's host (it is spliced into a URL whose host differs with the input blanked out), or the input
 * chose the host and that host is internal: loopback, private, link-local (the instance metadata
 * service 169.254.169.254), the ECS/EKS credential endpoints, any IPv4 spelled in decimal, octal or
 * hex, or a scheme other than http(s). Host names are not resolved (no DNS on the hot path), so a
 * public name that resolves to a private address is not caught here; the egress allow-list is.
 */
export function urlFinding(url: string, inputs: readonly Input[]): Finding | undefined {
  const u = clip(url);
  let parsed: URL | undefined;
  try {
    parsed = new URLIntrinsic(u);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol;
  if (scheme === 'tcp:' || scheme === 'tls:' || scheme === 'udp:') return connectionFinding(parsed, inputs);
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as Input;
    if (input.value.length < 3) continue;
    const needles = forms(input.value);
    for (let f = 0; f < needles.length; f++) {
      const v = needles[f] as string;
      const at = stringIndexOf(u, v);
      if (at < 0) {
        // The URL parser rewrites what the caller wrote (`http://2130706433/` is
        // `http://127.0.0.1/`): an input that is itself a URL with the same origin chose the host.
        if (sameOrigin(v, parsed) && internalDestination(parsed)) {
          return freeze({ detector: 'ssrf' as const, location: input.location, input: input.value });
        }
        continue;
      }
      const schemeEnd = stringIndexOf(u, '://');
      const hostEnd = schemeEnd < 0 ? -1 : firstOf(u, schemeEnd + 3);
      const choosesHost = at <= (hostEnd < 0 ? u.length : hostEnd);
      if (choosesHost) {
        if (internalDestination(parsed)) {
          return freeze({ detector: 'ssrf' as const, location: input.location, input: input.value });
        }
        // Input inside the authority after a fixed prefix (`https://api.example.com${x}`): userinfo,
        // a path or a port it brings moves the request to another host.
        if (schemeEnd >= 0 && at > schemeEnd + 3 && hasAuthorityBreaker(v)) {
          return freeze({ detector: 'ssrf' as const, location: input.location, input: input.value });
        }
      } else if (v.length >= 3) {
        // Spliced into the path or query: the host must be the same with the input blanked out.
        const blank = `${stringSlice(u, 0, at)}a${stringSlice(u, at + v.length)}`;
        try {
          const alt = new URLIntrinsic(blank);
          if (alt.host !== parsed.host)
            return freeze({ detector: 'ssrf' as const, location: input.location, input: input.value });
        } catch {
          // ignore
        }
      }
    }
  }
  return undefined;
}

/**
 * A socket about to connect (`tcp://host:port`, as the egress hooks describe a connection): SSRF when
 * the destination is internal and an input named it — the host appears in the input, or the input is
 * a URL whose host the URL parser normalises to it (`http://2130706433/` names 127.0.0.1).
 */
function connectionFinding(target: URL, inputs: readonly Input[]): Finding | undefined {
  const web = new URLIntrinsic(`http://${target.host}/`);
  if (!internalDestination(web)) return undefined;
  const host = stringToLowerCase(web.hostname);
  const bare = charCodeAt(host, 0) === 0x5b ? stringSlice(host, 1, -1) : host;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as Input;
    if (input.value.length < 3) continue;
    const needles = forms(input.value);
    for (let f = 0; f < needles.length; f++) {
      const v = needles[f] as string;
      let named = stringIndexOf(stringToLowerCase(v), bare) >= 0;
      if (!named && stringIndexOf(v, '://') > 0) {
        try {
          named = stringToLowerCase(new URLIntrinsic(v).hostname) === host;
        } catch {
          named = false;
        }
      }
      if (named) return freeze({ detector: 'ssrf' as const, location: input.location, input: input.value });
    }
  }
  return undefined;
}

function sameOrigin(v: string, parsed: URL): boolean {
  if (stringIndexOf(v, ':') < 0) return false;
  try {
    const other = new URLIntrinsic(v);
    return other.protocol === parsed.protocol && other.host === parsed.host;
  } catch {
    return false;
  }
}

function hasAuthorityBreaker(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = charCodeAt(v, i);
    if (c === 0x40 || c === 0x2f || c === 0x5c || c === 0x23 || c === 0x3f || c <= 0x20) return true;
  }
  return false;
}

/** Index of the first `/`, `?` or `#` at or after `from` (the end of the authority). */
function firstOf(u: string, from: number): number {
  for (let i = from; i < u.length; i++) {
    const c = charCodeAt(u, i);
    if (c === 0x2f || c === 0x3f || c === 0x23) return i;
  }
  return -1;
}

const INTERNAL_NAMES: ReadonlySet<string> = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Whether a URL points at this machine, a private network, link-local metadata, or a non-web scheme. */
export function internalDestination(url: URL): boolean {
  const scheme = url.protocol;
  if (scheme !== 'http:' && scheme !== 'https:') return true;
  let host = stringToLowerCase(url.hostname);
  if (stringEndsWith(host, '.')) host = stringSlice(host, 0, -1);
  if (INTERNAL_NAMES.has(host) || stringEndsWith(host, '.localhost') || stringEndsWith(host, '.internal'))
    return true;
  if (charCodeAt(host, 0) === 0x5b) return internalIpv6(stringSlice(host, 1, -1));
  const v4 = ipv4(host);
  if (v4 !== undefined) return internalIpv4(v4);
  return false;
}

/** The URL parser already turns decimal/octal/hex IPv4 spellings into dotted quads. */
function ipv4(host: string): number[] | undefined {
  const parts = stringSplit(host, '.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (p.length === 0 || p.length > 3) return undefined;
    let n = 0;
    for (let j = 0; j < p.length; j++) {
      const c = charCodeAt(p, j);
      if (!isDigit(c)) return undefined;
      n = n * 10 + (c - 0x30);
    }
    if (n > 255) return undefined;
    arrayPush(out, n);
  }
  return out;
}

function internalIpv4(q: number[]): boolean {
  const [a = 0, b = 0] = q;
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT (some VPC endpoints)
    a >= 224
  );
}

function internalIpv6(h: string): boolean {
  const host = stringToLowerCase(h);
  if (
    host === '::1' ||
    host === '::' ||
    stringStartsWith(host, 'fe80:') ||
    stringStartsWith(host, 'fc') ||
    stringStartsWith(host, 'fd')
  )
    return true;
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:7f00:1).
  if (stringStartsWith(host, '::ffff:')) {
    const rest = stringSlice(host, 7);
    const v4 = ipv4(rest);
    if (v4 !== undefined) return internalIpv4(v4);
    const parts = stringSplit(rest, ':');
    if (parts.length === 2) {
      const hi = Number.parseInt(parts[0] as string, 16);
      const lo = Number.parseInt(parts[1] as string, 16);
      return internalIpv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
    }
  }
  return false;
}
