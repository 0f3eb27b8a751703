/**
 * Batched delivery of guard events to the correlator's ingest (`POST /v1/events`, a JSON array).
 *
 * The sink runs inside the customer's function, so its failures must never become the function's
 * failures: `push` never throws, `flush` never rejects, every request is bounded by a deadline, and
 * memory is bounded by `maxBuffer` (plus the one batch in flight). Loss is never silent: dropped
 * events are counted and announced to the receiver by a synthetic `dropped` record.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';

/** Path of the correlator's ingest, appended to the endpoint unless the endpoint already ends with it. */
export const INGEST_PATH = '/v1/events';

type RequestFn = typeof http.request;

// Captured when this module loads, before the guard (or the customer's code, or an APM agent)
// can wrap `http.request`: the sink's own traffic must not pass through the guard's egress
// control (it would be reported or blocked, and could recurse) nor through anything else.
const originalHttpRequest: RequestFn = http.request;
const originalHttpsRequest: RequestFn = https.request;

/** Options of `HttpSink`. */
export interface HttpSinkOptions {
  /** Base URL of the correlator (`https://host[/prefix]`); events go to `<endpoint>/v1/events`. */
  endpoint: string;
  /** Sent as `authorization: Bearer <token>`; none when null, undefined or empty. */
  token?: string | null;
  /** Most events held while waiting for delivery; the oldest are dropped beyond it. */
  maxBuffer: number;
  /** Most records per request (a `dropped` record takes one slot). */
  batchSize: number;
  /** Deadline of one request, from connecting to the response status; default 2000 ms. */
  timeoutMs?: number;
  /** Replaces the captured `http.request`/`https.request` for every protocol (tests). */
  request?: RequestFn;
  /** Told how many events were just lost (overflow, rejection, unserialisable). */
  onDrop?: (dropped: number) => void;
  /** Builds the record announcing `n` lost events; default `{ephemera:1,id,type:'dropped',time,detail:{dropped:n}}`. */
  droppedRecord?: (n: number) => object;
}

/** What became of one request. */
type Outcome = 'delivered' | 'rejected' | 'retry';

/** A serialised record; `announces` is set on the synthetic record and counts the losses it reports. */
interface Entry {
  readonly json: string;
  readonly announces?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;
/** Node fires a longer `setTimeout` after 1 ms instead: the deadline would silently vanish. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** RFC 6750 `b64token`: anything else could smuggle header syntax or make `request` throw. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The default announcement of lost events. */
export function defaultDroppedRecord(n: number): object {
  return {
    ephemera: 1,
    id: randomUUID(),
    type: 'dropped',
    time: new Date().toISOString(),
    detail: { dropped: n },
  };
}

/** Bounded, batched, never-throwing delivery of events to the correlator. */
export class HttpSink {
  private readonly url: URL;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly maxBuffer: number;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly request: RequestFn;
  private readonly onDrop: ((dropped: number) => void) | undefined;
  private readonly droppedRecord: (n: number) => object;

  /** Events waiting, oldest first; never longer than maxBuffer. */
  private queue: Entry[] = [];
  /** The batch of the request in flight, taken out of the queue so pushes cannot evict under it. */
  private inflight: Entry[] = [];
  /** The announcement waiting for delivery; keeps its id (and count) across retries. */
  private notice: Entry | null = null;
  /** Losses not yet covered by an announcement. */
  private unannounced = 0;
  private droppedTotal = 0;
  private running: Promise<void> | null = null;

  /** Throws a TypeError on invalid options: a misconfiguration should surface at init, not per event. */
  constructor(options: HttpSinkOptions) {
    this.url = ingestUrl(options.endpoint);
    this.maxBuffer = positiveInteger(options.maxBuffer, 'maxBuffer');
    this.batchSize = positiveInteger(options.batchSize, 'batchSize');
    this.timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', MAX_TIMER_MS);
    this.headers = requestHeaders(options.token);
    this.request =
      options.request ?? (this.url.protocol === 'https:' ? originalHttpsRequest : originalHttpRequest);
    this.onDrop = options.onDrop;
    this.droppedRecord = options.droppedRecord ?? defaultDroppedRecord;
  }

  /** Events held: waiting, plus the batch in flight. */
  get buffered(): number {
    return this.queue.length + this.inflight.length;
  }

  /** Events lost since creation: dropped when the buffer was full, rejected by the receiver, or unserialisable. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Queues an event (serialised now, so later mutation does not change what is sent). Never throws. */
  push(event: object): void {
    let json: string | undefined;
    try {
      json = JSON.stringify(event);
    } catch {
      // Circular structure, BigInt, a throwing toJSON: a guard bug must not break the function.
    }
    if (typeof json !== 'string') {
      this.drop(1);
      return;
    }
    this.queue.push({ json });
    this.trim();
  }

  /** Sends everything held, `batchSize` records per request, until empty or a request fails. Never rejects. */
  flush(): Promise<void> {
    // One flush at a time: two concurrent loops would send the same events twice.
    if (this.running === null) {
      this.running = this.drain()
        .catch(() => undefined)
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.prepareNotice();
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      const outcome = await this.send(batch);
      this.inflight = [];
      if (outcome === 'delivered') continue;
      if (outcome === 'rejected') this.reject(batch);
      else this.requeue(batch);
      // A failed request ends this flush: the next one retries, so a dead receiver costs one
      // deadline per flush rather than one per batch.
      return;
    }
  }

  /** Freezes the pending loss count into one announcement, unless one is still undelivered. */
  private prepareNotice(): void {
    // A notice that may already have reached the receiver must be resent unchanged (same id, same
    // count) so the receiver can deduplicate it; later losses wait for the next notice.
    if (this.notice !== null || this.unannounced === 0) return;
    const n = this.unannounced;
    this.unannounced = 0;
    let json: string | undefined;
    try {
      json = JSON.stringify(this.droppedRecord(n));
    } catch {
      // A throwing custom builder must not lose the announcement.
    }
    this.notice = { json: json ?? JSON.stringify(defaultDroppedRecord(n)), announces: n };
  }

  /** Moves the next batch out of the queue into `inflight`; the notice goes first. */
  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    if (this.notice !== null) {
      batch.push(this.notice);
      this.notice = null;
    }
    const events = this.queue.splice(0, this.batchSize - batch.length);
    this.inflight = events;
    batch.push(...events);
    return batch;
  }

  /** The receiver refused the batch for good (4xx): retrying would never succeed. */
  private reject(batch: Entry[]): void {
    const events = batch.filter((e) => e.announces === undefined).length;
    if (events > 0) this.drop(events);
  }

  /** Puts a failed batch back in front (it is older than anything pushed meanwhile), still bounded. */
  private requeue(batch: Entry[]): void {
    for (const entry of batch) {
      if (entry.announces !== undefined) this.notice = entry;
    }
    this.queue = [...batch.filter((e) => e.announces === undefined), ...this.queue];
    this.trim();
  }

  /** Drops the oldest events beyond maxBuffer. */
  private trim(): void {
    const excess = this.queue.length - this.maxBuffer;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    this.drop(excess);
  }

  private drop(n: number): void {
    this.droppedTotal += n;
    this.unannounced += n;
    if (this.onDrop === undefined) return;
    try {
      this.onDrop(n);
    } catch {
      // The callback is observability; its failure must not reach `push`.
    }
  }

  /** One POST of the batch; resolves with its outcome, never rejects, settles within timeoutMs. */
  private send(batch: Entry[]): Promise<Outcome> {
    const body = `[${batch.map((e) => e.json).join(',')}]`;
    return new Promise<Outcome>((resolve) => {
      let req: http.ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        // Nothing may outlive the request: no socket left open, no pending timer. An environment
        // frozen mid-request resumes the request and its deadline at thaw, so the flush still
        // settles; events without a 2xx stay queued and go again with the same ids.
        req?.destroy();
        resolve(outcome);
      };
      try {
        req = this.request(this.url, {
          method: 'POST',
          headers: { ...this.headers, 'content-length': String(Buffer.byteLength(body)) },
          // agent: false — a fresh connection per request, closed after the response. A keep-alive
          // socket would survive the freeze between invocations (minutes, hours); meanwhile the
          // server, a load balancer or a NAT gateway times it out, usually without telling the
          // frozen client. At thaw the pool hands out the dead socket: the write ends in
          // ECONNRESET/EPIPE, or, when the peer vanished silently, in a wait for the whole
          // deadline, and a request the server closed mid-way is ambiguous. A handshake per batch
          // is cheap next to that, and with no pooled socket nothing is left behind between flushes.
          agent: false,
          // Socket inactivity; the overall deadline below also covers DNS and a slow drip.
          timeout: this.timeoutMs,
        });
      } catch {
        settle('retry');
        return;
      }
      // The deadline's timer and the socket stay referenced while the request runs (at most
      // timeoutMs): if they were unref'd and the guard awaited the flush with nothing else pending,
      // Node would exit mid-request, failing the invocation. Both are gone once the request settles.
      timer = setTimeout(() => settle('retry'), this.timeoutMs);
      req.on('timeout', () => settle('retry'));
      req.on('error', () => settle('retry'));
      req.on('response', (res) => {
        res.on('error', () => undefined);
        // The status is all we need: do not wait for (or buffer) a body a hostile server may drip.
        res.resume();
        settle(classify(res.statusCode ?? 0));
      });
      req.end(body);
    });
  }
}

/** 2xx delivered; 408/429 and everything else (5xx, 3xx) retried; other 4xx refused for good. */
function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'rejected';
  return 'retry';
}

function ingestUrl(endpoint: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(endpoint));
  } catch {
    throw new TypeError(`HttpSink: endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`HttpSink: endpoint must use http: or https:, got ${url.protocol}`);
  }
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = base.endsWith(INGEST_PATH) ? base : `${base}${INGEST_PATH}`;
  url.hash = '';
  return url;
}

function positiveInteger(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new TypeError(`HttpSink: ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

function requestHeaders(token: string | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'ephemera-guard',
  };
  if (token === undefined || token === null || token === '') return headers;
  if (typeof token !== 'string' || !BEARER_TOKEN.test(token)) {
    throw new TypeError(
      'HttpSink: token must be a bearer token (letters, digits and -._~+/ then optional =)',
    );
  }
  headers.authorization = `Bearer ${token}`;
  return headers;
}
