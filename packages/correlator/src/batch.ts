import { gunzipSync } from 'node:zlib';
import { CorrelatorError } from './errors.js';
import { derivedId, guardEventStart, type StoredEvent, toStoredEvent } from './event-schema.js';

/** What one request body held, after validation. Nothing is stored before the whole body passed. */
export interface ParsedBatch {
  events: StoredEvent[];
  /** Lines of a log payload that are not guard events or access records (ordinary function output). */
  ignored: number;
  /** Guard-event lines of a log payload that failed the schema (skipped: logs cannot be re-sent fixed). */
  invalid: number;
  /** `firehose` when the body was a Firehose HTTP endpoint request (it expects a specific answer). */
  source: 'events' | 'cloudwatch' | 'firehose';
  firehoseRequestId?: string;
}

/** Limits of one batch. */
export interface BatchLimits {
  maxEvents: number;
  /** Largest decompressed CloudWatch payload, bytes (a gzip bomb is refused, not inflated). */
  maxInflated: number;
}

function malformed(message: string): never {
  throw new CorrelatorError('EPHEMERA_ERR_CORRELATOR_MALFORMED', message);
}

/**
 * Parse a `POST /v1/events` body: a JSON array of guard events, one event, JSON lines, a CloudWatch
 * Logs subscription payload (`{"awslogs":{"data":…}}`) or a Firehose HTTP endpoint request whose
 * records carry CloudWatch payloads. Guard events given directly must all be valid (the batch is
 * refused otherwise); lines inside log payloads that are not guard events are counted and skipped.
 */
export function parseBatch(body: string, limits: BatchLimits): ParsedBatch {
  const text = body.trim();
  if (text.length === 0) malformed('the body is empty; accepted: a JSON array of guard events or JSON lines');
  let whole: unknown;
  let parsed = false;
  try {
    whole = JSON.parse(text);
    parsed = true;
  } catch {
    // not one JSON document: JSON lines below
  }
  if (parsed) {
    if (Array.isArray(whole)) return direct(whole, limits, (i) => `event ${i}`);
    if (whole !== null && typeof whole === 'object') {
      const o = whole as Record<string, unknown>;
      if ('awslogs' in o) {
        const out: ParsedBatch = { events: [], ignored: 0, invalid: 0, source: 'cloudwatch' };
        addCloudWatch(out, cloudWatchData(o.awslogs, 'awslogs'), limits);
        return out;
      }
      if (Array.isArray(o.records) && typeof o.requestId === 'string') return firehose(o, limits);
      return direct([whole], limits, () => 'event 0');
    }
    malformed(`the body is ${JSON.stringify(whole)}; accepted: a JSON array of guard events or JSON lines`);
  }
  const lines = text.split('\n');
  const values: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.length === 0) continue;
    try {
      values.push(JSON.parse(line));
    } catch (err) {
      malformed(`line ${i + 1} is not JSON (${(err as Error).message}); accepted: one guard event per line`);
    }
  }
  return direct(values, limits, (i) => `line ${i + 1}`);
}

function direct(values: unknown[], limits: BatchLimits, where: (i: number) => string): ParsedBatch {
  if (values.length > limits.maxEvents)
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_TOO_LARGE',
      `the batch holds ${values.length} events; accepted: at most ${limits.maxEvents} per request`,
    );
  return {
    events: values.map((v, i) => toStoredEvent(v, where(i))),
    ignored: 0,
    invalid: 0,
    source: 'events',
  };
}

function cloudWatchData(awslogs: unknown, where: string): string {
  const data = (awslogs as { data?: unknown } | null)?.data;
  if (typeof data !== 'string' || data.length === 0)
    malformed(`${where}.data is missing; accepted: base64 of a gzip-compressed CloudWatch Logs payload`);
  return data;
}

/** The CloudWatch Logs subscription payload, decoded. */
export interface CloudWatchPayload {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner?: string;
  logGroup: string;
  logStream: string;
  logEvents: { id: string; timestamp: number; message: string }[];
}

/** Decode base64 + gzip + JSON; refuses payloads that inflate beyond `maxInflated` bytes. */
export function decodeCloudWatch(data: string, maxInflated: number): CloudWatchPayload {
  let json: string;
  try {
    json = gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: maxInflated }).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_TOO_LARGE',
        `the CloudWatch payload inflates beyond ${maxInflated} bytes`,
      );
    malformed(`awslogs.data is not base64 of gzip data (${(err as Error).message})`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    malformed('awslogs.data does not decompress to JSON; accepted: a CloudWatch Logs subscription payload');
  }
  const p = payload as Partial<CloudWatchPayload> | null;
  if (
    !p ||
    (p.messageType !== 'DATA_MESSAGE' && p.messageType !== 'CONTROL_MESSAGE') ||
    !Array.isArray(p.logEvents)
  )
    malformed(
      'the CloudWatch payload needs messageType DATA_MESSAGE or CONTROL_MESSAGE and a logEvents array',
    );
  return p as CloudWatchPayload;
}

function addCloudWatch(out: ParsedBatch, data: string, limits: BatchLimits): void {
  const payload = decodeCloudWatch(data, limits.maxInflated);
  // CONTROL_MESSAGE is CloudWatch checking that the destination is reachable: nothing to store.
  if (payload.messageType === 'CONTROL_MESSAGE') return;
  for (const logEvent of payload.logEvents) {
    const message = typeof logEvent?.message === 'string' ? logEvent.message : '';
    const fromLine = eventFromLine(message, {
      function: functionOfLogGroup(payload.logGroup),
      environment: payload.logStream,
    });
    if (fromLine === 'ignored') out.ignored++;
    else if (fromLine === 'invalid') out.invalid++;
    else out.events.push(fromLine);
    if (out.events.length > limits.maxEvents)
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_TOO_LARGE',
        `the log payload holds more than ${limits.maxEvents} events; accepted: at most ${limits.maxEvents} per request`,
      );
  }
}

function firehose(o: Record<string, unknown>, limits: BatchLimits): ParsedBatch {
  const out: ParsedBatch = {
    events: [],
    ignored: 0,
    invalid: 0,
    source: 'firehose',
    firehoseRequestId: o.requestId as string,
  };
  (o.records as unknown[]).forEach((record, i) => {
    addCloudWatch(out, cloudWatchData(record, `records[${i}]`), limits);
  });
  return out;
}

/** `/aws/lambda/payments` → `payments`. */
function functionOfLogGroup(group: string | undefined): string {
  if (typeof group !== 'string' || group.length === 0) return 'unknown';
  const i = group.lastIndexOf('/');
  return i >= 0 ? group.slice(i + 1) || group : group;
}

/** Where a log line came from (the lab's log stream, or a CloudWatch log group and stream). */
export interface LineOrigin {
  function: string;
  environment: string;
}

/**
 * A log line → a stored event: a guard event line (possibly prefixed, as the Node runtime's
 * console format would), or an API Gateway JSON access-log line (→ an `invocation` event, see
 * docs/correlator.md). Anything else is `ignored`; a guard line that fails the schema is `invalid`.
 */
export function eventFromLine(line: string, origin: LineOrigin): StoredEvent | 'ignored' | 'invalid' {
  const start = guardEventStart(line);
  if (start >= 0) {
    const json = line.slice(start).trim();
    try {
      return toStoredEvent(JSON.parse(json), `log line of ${origin.function}`, json);
    } catch {
      return 'invalid';
    }
  }
  if (line.includes('"requestId"') && (line.includes('"ip"') || line.includes('"sourceIp"'))) {
    const access = accessRecord(line, origin);
    if (access) return access;
  }
  return 'ignored';
}

/**
 * An API Gateway JSON access-log line, e.g. the format
 * `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTimeEpoch":$context.requestTimeEpoch,
 *   "routeKey":"$context.routeKey","status":"$context.status","requestLength":"$context.requestLength?"}`.
 * Becomes an `invocation` event with a derived stable id.
 */
function accessRecord(line: string, origin: LineOrigin): StoredEvent | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const requestId = typeof o.requestId === 'string' ? o.requestId : undefined;
  const ip = typeof o.ip === 'string' ? o.ip : typeof o.sourceIp === 'string' ? o.sourceIp : undefined;
  const epoch = Number(o.requestTimeEpoch);
  const time = Number.isFinite(epoch) && epoch > 0 ? epoch : Date.parse(String(o.requestTime ?? ''));
  if (!requestId || !ip || !Number.isFinite(time)) return undefined;
  const lengthText = o.requestLength ?? o.contentLength ?? o.bytes;
  const bytes = lengthText === undefined || lengthText === '-' ? null : Number(lengthText);
  const fn = typeof o.functionName === 'string' ? o.functionName : origin.function;
  const record = {
    ephemera: 1 as const,
    id: derivedId('access', requestId, ip, time),
    type: 'invocation' as const,
    time: new Date(time).toISOString(),
    function: fn,
    env: 'api-gateway',
    requestId,
    invocation: 0,
    ageMs: 0,
    control: 'access-log',
    action: null,
    detail: { sourceIp: ip, bytes: Number.isFinite(bytes) ? bytes : null, route: o.routeKey ?? null },
  };
  try {
    return toStoredEvent(record, 'access line');
  } catch {
    return undefined;
  }
}
