/**
 * Event extraction: the user-controlled input of the event a function sees, each piece with its
 * location (`body.card.number`, `query.q`, `headers.user-agent`, `Records[0].body.x`).
 *
 * Event shapes recognised: API Gateway REST (v1) and HTTP API (v2) proxy events, Lambda function
 * URLs (v2 shape), ALB, SQS, SNS, S3 (object keys), EventBridge (`detail`), DynamoDB streams
 * (new/old images and keys). Anything else (a direct invoke) is walked as a whole from its root.
 * Bodies are read as JSON, form (`a=1&b=2`) or plain text, base64-decoded first when the event says
 * so. Only what the caller controls is read: `requestContext` is the gateway's, not the caller's.
 *
 * Bounded, always: at most MAX_DEPTH levels, MAX_NODES values visited, MAX_INPUTS strings kept,
 * JSON bodies parsed only up to MAX_PARSE_BYTES (a larger body is kept as one string and scanned for
 * pollution keys as text), each kept string truncated to MAX_STRING for the detectors. The walk is
 * iterative (no recursion on hostile depth) and counts its work in `stats` so tests can assert the
 * bound without timing anything. Never throws: an exotic event (a throwing getter) yields what was
 * read before it.
 */
import { Buffer } from 'node:buffer';

const { apply } = Reflect;
const hasOwn = Object.hasOwn;
const { keys: objectKeys, freeze } = Object;
const isArray = Array.isArray;
const jsonParse = JSON.parse;
const bufferFrom = Buffer.from;
const BufferIntrinsic = Buffer;
const decodeUri = decodeURIComponent;
const call = Function.prototype.call;
const bind = Function.prototype.bind;
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const stringSlice = uncurry(String.prototype.slice as (this: string, s?: number, e?: number) => string);
const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, s: string, from?: number) => number);
const stringIncludes = uncurry(String.prototype.includes as (this: string, s: string) => boolean);
const stringToLowerCase = uncurry(String.prototype.toLowerCase as (this: string) => string);
const stringReplaceAll = uncurry(
  String.prototype.replaceAll as (this: string, search: string, replacement: string) => string,
);
const charCodeAt = uncurry(String.prototype.charCodeAt as (this: string, i: number) => number);
const arrayPush = uncurry(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number);
const arrayPop = uncurry(Array.prototype.pop as (this: unknown[]) => unknown);
const bufferToString = uncurry(Buffer.prototype.toString as (this: Buffer, enc?: BufferEncoding) => string);

/** Deepest nesting walked (deeper values are not inputs the detectors see). */
export const MAX_DEPTH = 64;
/** Most values visited per event. */
export const MAX_NODES = 20_000;
/** Most input strings kept per event. */
export const MAX_INPUTS = 4_096;
/** Longest JSON/form body parsed; a larger one is one opaque input (its pollution keys scanned as text). */
export const MAX_PARSE_BYTES = 1024 * 1024;
/** Longest string a detector sees (longer ones are truncated; sink matching uses the truncated prefix). */
export const MAX_STRING = 64 * 1024;

/** One piece of user input. `value` is truncated to MAX_STRING. */
export interface Input {
  readonly location: string;
  readonly value: string;
}

/** A key the caller chose that is dangerous in itself (prototype pollution, NoSQL operators). */
export interface KeyFinding {
  readonly location: string;
  readonly key: string;
  /** For NoSQL operators: the object holding the operator (its keys), for the detector. */
  readonly operatorObject?: boolean;
}

export interface ExtractStats {
  nodes: number;
  parsedBytes: number;
  truncated: boolean;
}

export interface Extracted {
  readonly kind: EventKind;
  readonly inputs: Input[];
  readonly keys: KeyFinding[];
  readonly stats: ExtractStats;
}

export type EventKind =
  | 'apigateway-v1'
  | 'apigateway-v2'
  | 'alb'
  | 'sqs'
  | 'sns'
  | 's3'
  | 'eventbridge'
  | 'dynamodb'
  | 'other';

/** The kind of event, from its shape. */
export function eventKind(event: unknown): EventKind {
  if (event === null || typeof event !== 'object') return 'other';
  const e = event as Record<string, unknown>;
  const rc = e.requestContext as Record<string, unknown> | undefined;
  if (rc !== null && typeof rc === 'object') {
    if (rc.elb !== undefined) return 'alb';
    if (e.version === '2.0' || rc.http !== undefined) return 'apigateway-v2';
    if (e.httpMethod !== undefined || rc.identity !== undefined) return 'apigateway-v1';
  }
  if (isArray(e.Records)) {
    const first = (e.Records as unknown[])[0] as Record<string, unknown> | undefined;
    const source = first && typeof first === 'object' ? (first.eventSource ?? first.EventSource) : undefined;
    if (source === 'aws:sqs') return 'sqs';
    if (source === 'aws:sns') return 'sns';
    if (source === 'aws:s3') return 's3';
    if (source === 'aws:dynamodb') return 'dynamodb';
  }
  if (typeof e['detail-type'] === 'string' && 'detail' in e) return 'eventbridge';
  return 'other';
}

interface Work {
  value: unknown;
  location: string;
  depth: number;
}

class Collector {
  readonly inputs: Input[] = [];
  readonly keys: KeyFinding[] = [];
  readonly stats: ExtractStats = { nodes: 0, parsedBytes: 0, truncated: false };
  readonly #stack: Work[] = [];

  full(): boolean {
    return this.stats.nodes >= MAX_NODES || this.inputs.length >= MAX_INPUTS;
  }

  addString(location: string, value: string): void {
    if (this.inputs.length >= MAX_INPUTS) {
      this.stats.truncated = true;
      return;
    }
    const v = value.length > MAX_STRING ? stringSlice(value, 0, MAX_STRING) : value;
    if (value.length > MAX_STRING) this.stats.truncated = true;
    // Not frozen: thousands per large body, and only the firewall reads them.
    arrayPush(this.inputs, { location, value: v });
  }

  /** Walk a value (object tree from JSON, an event section) iteratively. */
  walk(value: unknown, location: string, depth = 0): void {
    arrayPush(this.#stack, { value, location, depth });
    while (this.#stack.length > 0) {
      if (this.full()) {
        this.stats.truncated = true;
        this.#stack.length = 0;
        return;
      }
      const item = arrayPop(this.#stack) as Work;
      this.stats.nodes++;
      const v = item.value;
      if (typeof v === 'string') {
        this.addString(item.location, v);
        continue;
      }
      if (typeof v === 'number' || typeof v === 'boolean') continue;
      if (v === null || typeof v !== 'object') continue;
      if (item.depth >= MAX_DEPTH) {
        this.stats.truncated = true;
        continue;
      }
      if (isArray(v)) {
        const n = v.length;
        for (let i = n - 1; i >= 0; i--) {
          if (this.#stack.length + this.stats.nodes >= MAX_NODES) {
            this.stats.truncated = true;
            break;
          }
          arrayPush(this.#stack, { value: v[i], location: `${item.location}[${i}]`, depth: item.depth + 1 });
        }
        continue;
      }
      const names = objectKeys(v);
      for (let i = 0; i < names.length; i++) {
        const key = names[i] as string;
        const loc = item.location === '' ? key : `${item.location}.${key}`;
        if (isPollutionKey(key, v as Record<string, unknown>))
          arrayPush(this.keys, freeze({ location: loc, key }));
        if (charCodeAt(key, 0) === 0x24 /* $ */) {
          arrayPush(this.keys, freeze({ location: loc, key, operatorObject: true }));
        }
        if (this.#stack.length + this.stats.nodes >= MAX_NODES) {
          this.stats.truncated = true;
          break;
        }
        arrayPush(this.#stack, {
          value: (v as Record<string, unknown>)[key],
          location: loc,
          depth: item.depth + 1,
        });
      }
    }
  }

  /** A body (or message) string: JSON, form or text. */
  body(raw: string, location: string, base64: boolean, contentType: string | undefined, depth: number): void {
    let text = raw;
    if (base64) {
      if (raw.length > MAX_PARSE_BYTES * 2) {
        this.addString(location, raw);
        this.stats.truncated = true;
        return;
      }
      text = bufferToString(apply(bufferFrom, BufferIntrinsic, [raw, 'base64']) as Buffer, 'utf8');
    }
    this.addString(location, text);
    if (text.length > MAX_PARSE_BYTES) {
      this.stats.truncated = true;
      // Too large to parse: the pollution keys are still visible as text.
      for (const key of POLLUTION_TEXT) {
        if (stringIncludes(text, key))
          arrayPush(this.keys, freeze({ location, key: stringSlice(key, 1, -1) }));
      }
      return;
    }
    const parsed = parseJson(text);
    if (parsed !== undefined) {
      this.stats.parsedBytes += text.length;
      if (parsed !== null && typeof parsed === 'object') this.walk(parsed, location, depth + 1);
      return;
    }
    const ct = contentType === undefined ? '' : stringToLowerCase(contentType);
    if (stringIncludes(ct, 'application/x-www-form-urlencoded') || looksLikeForm(text)) {
      this.stats.parsedBytes += text.length;
      this.form(text, location);
    }
  }

  /** `a=1&b[c]=2`: each value at `location.a`, and bracketed keys checked for pollution/operators. */
  form(text: string, location: string): void {
    let start = 0;
    while (start <= text.length && !this.full()) {
      let end = stringIndexOf(text, '&', start);
      if (end < 0) end = text.length;
      const pair = stringSlice(text, start, end);
      start = end + 1;
      this.stats.nodes++;
      if (pair === '') continue;
      const eq = stringIndexOf(pair, '=');
      const key = formDecode(eq < 0 ? pair : stringSlice(pair, 0, eq));
      const value = eq < 0 ? '' : formDecode(stringSlice(pair, eq + 1));
      const loc = location === '' ? key : `${location}.${key}`;
      this.bracketKeys(key, loc);
      if (value !== '') this.addString(loc, value);
    }
  }

  /** `user[$ne]`, `a[__proto__][x]`, `a.__proto__.x` (qs-style parsers turn these into objects). */
  bracketKeys(key: string, location: string): void {
    let i = 0;
    const n = key.length;
    let segment = '';
    while (i <= n) {
      const c = i < n ? charCodeAt(key, i) : -1;
      if (c === 0x5b || c === 0x5d || c === 0x2e || c === -1) {
        if (segment !== '') {
          if (segment === '__proto__' || segment === 'prototype')
            arrayPush(this.keys, freeze({ location, key: segment }));
          if (charCodeAt(segment, 0) === 0x24)
            arrayPush(this.keys, freeze({ location, key: segment, operatorObject: true }));
        }
        segment = '';
      } else if (segment.length < 64) {
        segment += key[i];
      }
      i++;
    }
  }

  /** Query parameters as an object of strings (or string arrays). */
  params(obj: unknown, prefix: string): void {
    if (obj === null || typeof obj !== 'object') return;
    const names = objectKeys(obj);
    for (let i = 0; i < names.length && !this.full(); i++) {
      const key = names[i] as string;
      const loc = `${prefix}.${key}`;
      this.bracketKeys(key, loc);
      const v = (obj as Record<string, unknown>)[key];
      this.stats.nodes++;
      if (typeof v === 'string') this.addString(loc, v);
      else if (isArray(v)) this.walk(v, loc, 1);
    }
  }

  headers(obj: unknown, prefix: string): void {
    if (obj === null || typeof obj !== 'object') return;
    const names = objectKeys(obj);
    for (let i = 0; i < names.length && !this.full(); i++) {
      const name = stringToLowerCase(names[i] as string);
      const v = (obj as Record<string, unknown>)[names[i] as string];
      this.stats.nodes++;
      if (name === 'cookie' && typeof v === 'string') {
        this.cookies(splitCookieHeader(v));
        continue;
      }
      if (typeof v === 'string') this.addString(`${prefix}.${name}`, v);
      else if (isArray(v)) this.walk(v, `${prefix}.${name}`, 1);
    }
  }

  cookies(list: readonly string[]): void {
    for (let i = 0; i < list.length && !this.full(); i++) {
      const pair = list[i] as string;
      const eq = stringIndexOf(pair, '=');
      const name = trimSpaces(eq < 0 ? pair : stringSlice(pair, 0, eq));
      const value = eq < 0 ? '' : stringSlice(pair, eq + 1);
      this.stats.nodes++;
      if (value !== '') this.addString(`cookies.${name}`, safeDecode(value));
    }
  }
}

/** `"__proto__"` etc. as they appear in JSON text, for bodies too large to parse. */
const POLLUTION_TEXT = freeze(['"__proto__"', '"prototype"']);

function isPollutionKey(key: string, holder: Record<string, unknown>): boolean {
  if (key === '__proto__') return true;
  // `constructor.prototype` is the other road to Object.prototype; `prototype` alone under a
  // caller-chosen `constructor` key is what merges follow.
  if (key === 'constructor') {
    const inner = holder[key];
    return inner !== null && typeof inner === 'object' && hasOwn(inner, 'prototype');
  }
  return false;
}

function parseJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  while (i < n && charCodeAt(text, i) <= 0x20) i++;
  const c = i < n ? charCodeAt(text, i) : -1;
  if (c !== 0x7b && c !== 0x5b) return undefined; // only objects and arrays are worth parsing
  try {
    return jsonParse(text) as unknown;
  } catch {
    return undefined;
  }
}

function looksLikeForm(text: string): boolean {
  if (text.length === 0 || text.length > MAX_PARSE_BYTES) return false;
  // `k=v` pairs with no spaces or newlines: what browsers send for a form.
  const eq = stringIndexOf(text, '=');
  if (eq <= 0) return false;
  for (let i = 0; i < text.length && i < 4096; i++) {
    const c = charCodeAt(text, i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x7b || c === 0x22) return false;
  }
  return true;
}

function formDecode(s: string): string {
  return safeDecode(stringReplaceAll(s, '+', ' '));
}

/** decodeURIComponent, or the string itself when it is not valid percent-encoding. */
export function safeDecode(s: string): string {
  if (stringIndexOf(s, '%') < 0) return s;
  try {
    return decodeUri(s);
  } catch {
    return s;
  }
}

function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && charCodeAt(s, a) === 0x20) a++;
  while (b > a && charCodeAt(s, b - 1) === 0x20) b--;
  return stringSlice(s, a, b);
}

function splitCookieHeader(header: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < header.length && out.length < 256) {
    let end = stringIndexOf(header, ';', start);
    if (end < 0) end = header.length;
    arrayPush(out, stringSlice(header, start, end));
    start = end + 1;
  }
  return out;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const names = objectKeys(headers);
  for (let i = 0; i < names.length; i++) {
    if (stringToLowerCase(names[i] as string) === name) {
      const v = (headers as Record<string, unknown>)[names[i] as string];
      return typeof v === 'string' ? v : undefined;
    }
  }
  return undefined;
}

/**
 * The event's user-controlled input. Never throws.
 *
 * @example extractInputs({ body: '{"card":{"number":"4111"}}', requestContext: { http: {} }, version: '2.0' }).inputs
 *          // [{ location: 'body', value: '{"card":…}' }, { location: 'body.card.number', value: '4111' }]
 */
export function extractInputs(event: unknown): Extracted {
  const c = new Collector();
  const kind = eventKind(event);
  try {
    const e = event as Record<string, unknown>;
    switch (kind) {
      case 'apigateway-v1':
      case 'apigateway-v2':
      case 'alb': {
        const headers = e.headers ?? e.multiValueHeaders;
        c.headers(e.headers, 'headers');
        if (e.headers === undefined) c.headers(e.multiValueHeaders, 'headers');
        if (isArray(e.cookies)) c.cookies(e.cookies as string[]);
        if (typeof e.rawPath === 'string') c.addString('path', e.rawPath);
        else if (typeof e.path === 'string')
          c.addString('path', kind === 'alb' ? safeDecode(e.path) : e.path);
        c.params(e.pathParameters, 'path');
        const query = e.queryStringParameters ?? e.multiValueQueryStringParameters;
        if (kind === 'alb' && query !== null && typeof query === 'object') {
          // ALB passes query parameters still percent-encoded.
          const decoded: Record<string, string> = {};
          const names = objectKeys(query);
          for (let i = 0; i < names.length; i++) {
            const v = (query as Record<string, unknown>)[names[i] as string];
            if (typeof v === 'string') decoded[safeDecode(names[i] as string)] = formDecode(v);
          }
          c.params(decoded, 'query');
        } else {
          c.params(query, 'query');
        }
        if (typeof e.body === 'string' && e.body !== '') {
          c.body(e.body, 'body', e.isBase64Encoded === true, headerValue(headers, 'content-type'), 0);
        }
        break;
      }
      case 'sqs':
      case 'sns':
      case 's3':
      case 'dynamodb': {
        const records = e.Records as unknown[];
        for (let i = 0; i < records.length && !c.full(); i++) {
          const r = records[i] as Record<string, unknown>;
          if (r === null || typeof r !== 'object') continue;
          const at = `Records[${i}]`;
          c.stats.nodes++;
          if (kind === 'sqs') {
            if (typeof r.body === 'string') c.body(r.body, `${at}.body`, false, undefined, 1);
            c.walk(r.messageAttributes, `${at}.messageAttributes`, 1);
          } else if (kind === 'sns') {
            const sns = r.Sns as Record<string, unknown> | undefined;
            if (sns && typeof sns === 'object') {
              if (typeof sns.Message === 'string')
                c.body(sns.Message, `${at}.Sns.Message`, false, undefined, 1);
              if (typeof sns.Subject === 'string') c.addString(`${at}.Sns.Subject`, sns.Subject);
              c.walk(sns.MessageAttributes, `${at}.Sns.MessageAttributes`, 1);
            }
          } else if (kind === 's3') {
            const key = (
              (r.s3 as Record<string, unknown> | undefined)?.object as Record<string, unknown> | undefined
            )?.key;
            // S3 event keys are URL-encoded with `+` for spaces.
            if (typeof key === 'string') c.addString(`${at}.s3.object.key`, formDecode(key));
          } else {
            const ddb = r.dynamodb as Record<string, unknown> | undefined;
            if (ddb && typeof ddb === 'object') {
              c.walk(ddb.Keys, `${at}.dynamodb.Keys`, 1);
              c.walk(ddb.NewImage, `${at}.dynamodb.NewImage`, 1);
              c.walk(ddb.OldImage, `${at}.dynamodb.OldImage`, 1);
            }
          }
        }
        break;
      }
      case 'eventbridge':
        c.walk(e.detail, 'detail', 0);
        break;
      default:
        if (typeof event === 'string') c.body(event, 'event', false, undefined, 0);
        else c.walk(event, '', 0);
    }
  } catch {
    c.stats.truncated = true; // a throwing getter: keep what was read
  }
  return { kind, inputs: c.inputs, keys: c.keys, stats: c.stats };
}
