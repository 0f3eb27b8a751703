/**
 * API Gateway's Lambda proxy integration as pure functions: route selection, the REST (payload 1.0)
 * and HTTP API (payload 2.0) events, and the mapping of a function's result back to an HTTP reply.
 * Where AWS's behaviour differs from what its own documentation suggests, the comments say which
 * observation was followed.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RouteDefinition } from './function-definition.js';

/** A route bound to the function it invokes. */
export type FrontRoute = RouteDefinition & { functionName: string };

/** An HTTP request as the front received it, before API Gateway reshapes it. */
export interface FrontRequest {
  method: string;
  /** Path + `?` + query, as received (still percent-encoded). */
  url: string;
  /** Node's `req.rawHeaders`: name, value, name, value… */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  /** e.g. `HTTP/1.1`. */
  protocol: string;
}

/** The route chosen for a request and the path parameters it captured. */
export interface RouteMatch {
  route: FrontRoute;
  pathParameters: Record<string, string> | null;
}

/** The per-request values API Gateway stamps into an event. */
export interface EventContext {
  requestId: string;
  apiId: string;
  accountId: string;
  stage: string;
  domainName: string;
  nowMs: number;
}

/** A reply ready to be written by an HTTP server. */
export interface HttpReply {
  statusCode: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** The ways a request can fail before a function result can be mapped. */
export type FrontFailure =
  | 'function-error'
  | 'timeout'
  | 'throttled'
  | 'payload-too-large'
  | 'not-found'
  | 'malformed-response';

// ---------------------------------------------------------------------------------------------
// Route matching

const GREEDY = /^\{([^{}]+)\+\}$/;
const PARAM = /^\{([^{}]+)\}$/;

// Lower ranks win: a route whose path has no variables beats one with `{param}` segments, which
// beats a greedy `{proxy+}` route, which beats `$default`.
const EXACT_CLASS = 0;
const PARAM_CLASS = 1;
const GREEDY_CLASS = 2;
const DEFAULT_CLASS = 3;

interface Candidate {
  match: RouteMatch;
  routeClass: number;
  /** Per template segment: 0 literal, 1 `{param}`, 2 `{proxy+}`; compared left to right. */
  segmentRanks: number[];
  /** 0 for a specific method, 1 for ANY. */
  methodRank: number;
  order: number;
}

/**
 * Pick the route API Gateway would pick for `method` and the raw (percent-encoded) `path`, or
 * undefined when none matches (REST answers 403, HTTP APIs 404).
 */
export function matchRoute(
  routes: ReadonlyArray<RouteDefinition & { functionName: string }>,
  method: string,
  path: string,
): RouteMatch | undefined {
  const verb = method.toUpperCase();
  const segments = splitPath(splitUrl(path).path);
  const candidates: Candidate[] = [];
  routes.forEach((route, order) => {
    const routeMethod = route.method.toUpperCase();
    if (route.path === '$default') {
      // Only HTTP APIs have a catch-all route; it answers every method.
      if (route.api !== 'http') return;
      const match = { route, pathParameters: null };
      candidates.push({ match, routeClass: DEFAULT_CLASS, segmentRanks: [], methodRank: 1, order });
      return;
    }
    if (routeMethod !== verb && routeMethod !== 'ANY') return;
    const found = matchTemplate(splitPath(route.path), segments, route.api === 'http');
    if (!found) return;
    const routeClass = found.ranks.includes(2)
      ? GREEDY_CLASS
      : found.ranks.includes(1)
        ? PARAM_CLASS
        : EXACT_CLASS;
    const pathParameters = found.params.length === 0 ? null : Object.fromEntries(found.params);
    candidates.push({
      match: { route, pathParameters },
      routeClass,
      segmentRanks: found.ranks,
      methodRank: routeMethod === 'ANY' ? 1 : 0,
      order,
    });
  });
  candidates.sort(compareCandidates);
  return candidates[0]?.match;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.routeClass !== b.routeClass) return a.routeClass - b.routeClass;
  const length = Math.max(a.segmentRanks.length, b.segmentRanks.length);
  for (let i = 0; i < length; i += 1) {
    const diff = (a.segmentRanks[i] ?? -1) - (b.segmentRanks[i] ?? -1);
    if (diff !== 0) return diff;
  }
  if (a.methodRank !== b.methodRank) return a.methodRank - b.methodRank;
  return a.order - b.order;
}

interface TemplateMatch {
  params: Array<[string, string]>;
  ranks: number[];
}

/**
 * REST APIs hand path parameters over exactly as the client encoded them (a `%2F` stays `%2F`);
 * HTTP APIs decode them first (AWS: "API Gateway decodes URL-encoded request parameters").
 */
function matchTemplate(template: string[], segments: string[], decode: boolean): TemplateMatch | undefined {
  const value = (segment: string) => (decode ? safeDecode(segment) : segment);
  const params: Array<[string, string]> = [];
  const ranks: number[] = [];
  for (let i = 0; i < template.length; i += 1) {
    const part = template[i] ?? '';
    const greedy = GREEDY.exec(part);
    if (greedy) {
      // A greedy variable must close the template and swallow at least one segment.
      const rest = segments.slice(i);
      if (i !== template.length - 1 || rest.length === 0) return undefined;
      params.push([greedy[1] ?? '', rest.map(value).join('/')]);
      ranks.push(2);
      return { params, ranks };
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    const param = PARAM.exec(part);
    if (param) {
      if (segment === '') return undefined;
      params.push([param[1] ?? '', value(segment)]);
      ranks.push(1);
    } else if (part === segment || part === safeDecode(segment)) {
      ranks.push(0);
    } else {
      return undefined;
    }
  }
  return segments.length === template.length ? { params, ranks } : undefined;
}

/** Path segments without the leading slash; one trailing slash is ignored, as REST APIs do. */
function splitPath(path: string): string[] {
  let trimmed = path.startsWith('/') ? path.slice(1) : path;
  if (trimmed.endsWith('/')) trimmed = trimmed.slice(0, -1);
  return trimmed === '' ? [] : trimmed.split('/');
}

// ---------------------------------------------------------------------------------------------
// Request → event

// Without an authorizer AWS sends no `authorizer` and only these identity keys (no apiKey, no
// clientCert), although the community typings mark them as required.
type RestIdentity = Omit<APIGatewayEventIdentity, 'apiKey' | 'apiKeyId' | 'clientCert' | 'vpcId' | 'vpceId'>;
type RestRequestContext = Omit<APIGatewayProxyEvent['requestContext'], 'authorizer' | 'identity'> & {
  identity: RestIdentity;
  deploymentId?: string;
};

/** Build the REST API (payload format 1.0) event for a matched request. */
export function buildRestEvent(
  req: FrontRequest,
  match: RouteMatch,
  ctx: EventContext,
): APIGatewayProxyEvent {
  const { path, query } = splitUrl(req.url);
  // CloudFront in front of REST APIs consumes the framing headers; functions never see them.
  const headers = groupHeaders(req.rawHeaders).filter((h) => !REST_DROPPED_HEADERS.has(h.key));
  const queryValues = groupQuery(parseQuery(query));
  const content = encodeBody(req.body, lastValue(headers, 'content-type'));
  const requestContext: RestRequestContext = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    deploymentId: shortId(`deployment:${ctx.apiId}:${ctx.stage}`),
    domainName: ctx.domainName,
    domainPrefix: domainPrefix(ctx.domainName),
    extendedRequestId: extendedRequestId(ctx.requestId),
    httpMethod: req.method,
    identity: {
      accessKey: null,
      accountId: null,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: req.sourceIp,
      user: null,
      userAgent: lastValue(headers, 'user-agent') ?? null,
      userArn: null,
    },
    path: `/${ctx.stage}${path}`,
    protocol: req.protocol,
    requestId: ctx.requestId,
    requestTime: formatRequestTime(ctx.nowMs),
    requestTimeEpoch: ctx.nowMs,
    resourceId: shortId(`resource:${ctx.apiId}:${match.route.path}`),
    resourcePath: match.route.path,
    stage: ctx.stage,
  };
  return {
    resource: match.route.path,
    path,
    httpMethod: req.method,
    headers: Object.fromEntries(headers.map((h) => [h.name, h.values[h.values.length - 1] ?? ''])),
    multiValueHeaders: Object.fromEntries(headers.map((h) => [h.name, [...h.values]])),
    queryStringParameters:
      queryValues.size === 0
        ? null
        : Object.fromEntries([...queryValues].map(([k, v]) => [k, v[v.length - 1] ?? ''])),
    multiValueQueryStringParameters: queryValues.size === 0 ? null : Object.fromEntries(queryValues),
    pathParameters: match.pathParameters,
    stageVariables: null,
    requestContext: requestContext as APIGatewayProxyEvent['requestContext'],
    body: content.body,
    isBase64Encoded: content.isBase64Encoded,
  };
}

/** Build the HTTP API (payload format 2.0) event for a matched request. */
export function buildHttpEvent(
  req: FrontRequest,
  match: RouteMatch,
  ctx: EventContext,
): APIGatewayProxyEventV2 {
  const { path, query } = splitUrl(req.url);
  // Captured HTTP API events carry a decoded rawPath (`/a%2Fb` arrives as `/a/b`).
  const rawPath = safeDecode(path);
  const headers = groupHeaders(req.rawHeaders).filter((h) => !HOP_BY_HOP_HEADERS.has(h.key));
  const cookies = headers
    .filter((h) => h.key === 'cookie')
    .flatMap((h) => h.values)
    .flatMap((value) => value.split(';'))
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== '');
  const queryValues = groupQuery(parseQuery(query));
  const content = encodeBody(req.body, lastValue(headers, 'content-type'));
  const route = match.route;
  const routeKey = route.path === '$default' ? '$default' : `${route.method.toUpperCase()} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: query,
    ...(cookies.length > 0 ? { cookies } : {}),
    // The cookie header moves to `cookies`; AWS does not repeat it among the headers.
    headers: Object.fromEntries(
      headers.filter((h) => h.key !== 'cookie').map((h) => [h.key, h.values.join(',')]),
    ),
    ...(queryValues.size > 0
      ? { queryStringParameters: Object.fromEntries([...queryValues].map(([k, v]) => [k, v.join(',')])) }
      : {}),
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: ctx.domainName,
      domainPrefix: domainPrefix(ctx.domainName),
      http: {
        method: req.method,
        path: rawPath,
        protocol: req.protocol,
        sourceIp: req.sourceIp,
        userAgent: lastValue(headers, 'user-agent') ?? '',
      },
      requestId: ctx.requestId,
      routeKey,
      stage: '$default',
      time: formatRequestTime(ctx.nowMs),
      timeEpoch: ctx.nowMs,
    },
    ...(content.body !== null ? { body: content.body } : {}),
    ...(match.pathParameters !== null ? { pathParameters: match.pathParameters } : {}),
    isBase64Encoded: content.isBase64Encoded,
  };
}

// RFC 9110 hop-by-hop headers: proxies, API Gateway included, never forward them.
const HOP_BY_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const REST_DROPPED_HEADERS = new Set([...HOP_BY_HOP_HEADERS, 'content-length']);

interface HeaderGroup {
  /** Spelling of the first occurrence. */
  name: string;
  /** Lower-cased name. */
  key: string;
  values: string[];
}

/** Group node's alternating raw headers by case-insensitive name, keeping arrival order. */
function groupHeaders(rawHeaders: readonly string[]): HeaderGroup[] {
  const groups = new Map<string, HeaderGroup>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    const key = name.toLowerCase();
    const group = groups.get(key);
    if (group) group.values.push(value);
    else groups.set(key, { name, key, values: [value] });
  }
  return [...groups.values()];
}

function lastValue(headers: readonly HeaderGroup[], key: string): string | undefined {
  const values = headers.find((h) => h.key === key)?.values;
  return values?.[values.length - 1];
}

/** Split a request target into path and raw query; absolute-form targets lose their origin. */
function splitUrl(url: string): { path: string; query: string } {
  const target = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const hash = target.indexOf('#');
  const noFragment = hash === -1 ? target : target.slice(0, hash);
  const mark = noFragment.indexOf('?');
  const path = mark === -1 ? noFragment : noFragment.slice(0, mark);
  return { path: path === '' ? '/' : path, query: mark === -1 ? '' : noFragment.slice(mark + 1) };
}

/** Query pairs in order, form-decoded (`+` is a space), as API Gateway presents them. */
function parseQuery(query: string): Array<[string, string]> {
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [safeDecode(key.replace(/\+/g, ' ')), safeDecode(value.replace(/\+/g, ' '))];
    });
}

function groupQuery(pairs: ReadonlyArray<[string, string]>): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  return grouped;
}

/** A malformed escape is passed through rather than failing the whole request. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const TEXT_MEDIA_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/javascript',
  'application/graphql',
]);

/**
 * Text bodies travel as UTF-8 strings, everything else base64-encoded. A body without a
 * content-type cannot be known to be text, so it is encoded too.
 */
function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') || TEXT_MEDIA_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml')
  );
}

function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  if (isTextContentType(contentType)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function domainPrefix(domainName: string): string {
  return domainName.split('.')[0] ?? domainName;
}

/** A stable id of AWS's short lower-case shape (resource and deployment ids), derived from a seed. */
function shortId(seed: string): string {
  const n = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return n.toString(36).padStart(6, '0').slice(-6);
}

/** AWS's extended request ids are 11 random bytes in base64 (16 characters ending in `=`). */
function extendedRequestId(requestId: string): string {
  return createHash('sha256').update(requestId).digest().subarray(0, 11).toString('base64');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `dd/MMM/yyyy:HH:mm:ss +0000` request time, always in UTC. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? ''}/${d.getUTCFullYear()}`;
  return `${date}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

// ---------------------------------------------------------------------------------------------
// Function result → reply

const REST_RESPONSE_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

// The front frames the body itself; a length the function declared could contradict the decoded body.
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Map a REST (payload 1.0) function result to a reply. Observed AWS rules: any key outside the
 * documented five is a 502, `statusCode` may be a numeric string and defaults to 200, header values
 * may be strings, numbers or booleans, and `multiValueHeaders` wins over `headers` for a name.
 */
export function mapRestResponse(payload: Buffer): HttpReply {
  const result = parseJson(payload);
  if (!result.ok || !isRecord(result.value)) return failureReply('rest', 'malformed-response');
  const response = result.value;
  if (Object.keys(response).some((key) => !REST_RESPONSE_KEYS.has(key)))
    return failureReply('rest', 'malformed-response');
  const statusCode = response.statusCode == null ? 200 : parseStatus(response.statusCode);
  const single = singleHeaders(response.headers);
  const multi = multiValueHeaders(response.multiValueHeaders);
  const body = decodeResponseBody(response.body, response.isBase64Encoded);
  if (statusCode === undefined || single === undefined || multi === undefined || body === undefined) {
    return failureReply('rest', 'malformed-response');
  }
  const overridden = new Set(multi.map(([name]) => name.toLowerCase()));
  const headers = withoutFraming([
    ...single.filter(([name]) => !overridden.has(name.toLowerCase())),
    ...multi,
  ]);
  // REST APIs label a result without a content type as JSON.
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type'))
    headers.push(['content-type', 'application/json']);
  return { statusCode, headers, body };
}

/**
 * Map an HTTP API (payload 2.0) function result to a reply. A result without `statusCode` is
 * wrapped whole as a 200 JSON body; AWS documents that a returned string becomes the body
 * itself (`"Hello"` → `Hello`), while any other JSON value is sent as its JSON text.
 */
export function mapHttpResponse(payload: Buffer): HttpReply {
  const result = parseJson(payload);
  if (!result.ok) return failureReply('http', 'malformed-response');
  const value = result.value;
  if (!isRecord(value) || !('statusCode' in value)) {
    const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(result.text, 'utf8');
    return { statusCode: 200, headers: [['content-type', 'application/json']], body };
  }
  const statusCode = parseStatus(value.statusCode);
  const headers = singleHeaders(value.headers);
  const cookies = cookieList(value.cookies);
  const body = decodeResponseBody(value.body, value.isBase64Encoded);
  if (statusCode === undefined || headers === undefined || cookies === undefined || body === undefined) {
    return failureReply('http', 'malformed-response');
  }
  const setCookies = cookies.map((cookie): [string, string] => ['set-cookie', cookie]);
  return { statusCode, headers: withoutFraming([...headers, ...setCookies]), body };
}

type ParsedJson = { ok: true; value: unknown; text: string } | { ok: false };

function parseJson(payload: Buffer): ParsedJson {
  // Lambda reports a handler that returned nothing as `null`.
  const text = payload.toString('utf8').trim() === '' ? 'null' : payload.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch {
    return { ok: false };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer status code from 100 to 599, given as a number or as a numeric string. */
function parseStatus(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `headers` as pairs; null/absent is no headers, anything else malformed is undefined. */
function singleHeaders(value: unknown): Array<[string, string]> | undefined {
  if (value == null) return [];
  if (!isRecord(value)) return undefined;
  const pairs: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(value)) {
    const text = headerText(raw);
    if (text === undefined) return undefined;
    pairs.push([name, text]);
  }
  return pairs;
}

function multiValueHeaders(value: unknown): Array<[string, string]> | undefined {
  if (value == null) return [];
  if (!isRecord(value)) return undefined;
  const pairs: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(value)) {
    if (!Array.isArray(raw)) return undefined;
    for (const item of raw) {
      const text = headerText(item);
      if (text === undefined) return undefined;
      pairs.push([name, text]);
    }
  }
  return pairs;
}

function cookieList(value: unknown): string[] | undefined {
  if (value == null) return [];
  if (!Array.isArray(value) || !value.every((cookie) => typeof cookie === 'string')) return undefined;
  return value;
}

function decodeResponseBody(body: unknown, isBase64Encoded: unknown): Buffer | undefined {
  if (isBase64Encoded != null && typeof isBase64Encoded !== 'boolean') return undefined;
  if (body == null) return Buffer.alloc(0);
  if (typeof body !== 'string') return undefined;
  return Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8');
}

function withoutFraming(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(([name]) => !FRAMING_HEADERS.has(name.toLowerCase()));
}

// ---------------------------------------------------------------------------------------------
// Gateway failures

interface FailureShape {
  statusCode: number;
  body: string;
  errorType?: string;
}

// Bodies are byte-for-byte what each API sends, spacing included: REST's 502/504 bodies have a
// space after the colon, its 403 does not.
const REST_FAILURES: Record<FrontFailure, FailureShape> = {
  'function-error': {
    statusCode: 502,
    body: '{"message": "Internal server error"}',
    errorType: 'InternalServerErrorException',
  },
  'malformed-response': {
    statusCode: 502,
    body: '{"message": "Internal server error"}',
    errorType: 'InternalServerErrorException',
  },
  // API Gateway's own 29 s integration timeout. A function that hits its own timeout is a
  // function error (502), not this.
  timeout: { statusCode: 504, body: '{"message": "Endpoint request timed out"}' },
  throttled: {
    statusCode: 429,
    body: '{"message": "Too Many Requests"}',
    errorType: 'TooManyRequestsException',
  },
  'payload-too-large': { statusCode: 413, body: '{"message": "Request Entity Too Large"}' },
  'not-found': {
    statusCode: 403,
    body: '{"message":"Missing Authentication Token"}',
    errorType: 'MissingAuthenticationTokenException',
  },
};

const HTTP_FAILURES: Record<FrontFailure, FailureShape> = {
  'function-error': { statusCode: 500, body: '{"message":"Internal Server Error"}' },
  'malformed-response': { statusCode: 500, body: '{"message":"Internal Server Error"}' },
  // HTTP APIs answer their integration timeout (30 s) with 503, not 504, as users observe; AWS
  // documents neither status nor body, so the body follows the API's other error bodies. As for
  // REST, a function's own timeout is a function error (500).
  timeout: { statusCode: 503, body: '{"message":"Service Unavailable"}' },
  // AWS documents no body for these two; the message mirrors the status text like its other errors.
  throttled: { statusCode: 429, body: '{"message":"Too Many Requests"}' },
  'payload-too-large': { statusCode: 413, body: '{"message":"Request Entity Too Large"}' },
  'not-found': { statusCode: 404, body: '{"message":"Not Found"}' },
};

/** The reply API Gateway sends itself when a request fails before (or instead of) a usable result. */
export function failureReply(api: 'rest' | 'http', failure: FrontFailure): HttpReply {
  const shape = (api === 'rest' ? REST_FAILURES : HTTP_FAILURES)[failure];
  const headers: Array<[string, string]> = [['content-type', 'application/json']];
  if (shape.errorType !== undefined) headers.push(['x-amzn-ErrorType', shape.errorType]);
  return { statusCode: shape.statusCode, headers, body: Buffer.from(shape.body, 'utf8') };
}
