import { eventFromLine, type LineOrigin, parseBatch } from './batch.js';
import { CorrelatorError } from './errors.js';
import type { GuardEventRecord, StoredEvent } from './event-schema.js';
import { toStoredEvent } from './event-schema.js';
import type { Incident, IncidentFilter } from './incident.js';
import { openPostgresStore } from './postgres-store.js';
import { evaluateRules } from './rules.js';
import { type RulesConfig, type RulesInput, resolveRules } from './rules-config.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import { Webhook, type WebhookOptions } from './webhook.js';

/** Options of `createCorrelator`. */
export interface CorrelatorOptions {
  /** A SQLite file path (default `ephemera-correlator.db`), `:memory:`, or a `postgres://` URL. */
  db?: string;
  /** PostgreSQL only: a schema to keep the tables in (isolates deployments and test runs). */
  schema?: string;
  /** Bearer token `POST /v1/events` and the read API require. Required by `listen()`. */
  token?: string;
  /** Thresholds overriding the defaults (docs/correlator.md). */
  rules?: RulesInput;
  /** POST incidents here when they open or change. */
  webhook?: string | WebhookOptions;
  /** Largest request body, bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most events per batch. Default 10 000. */
  maxBatchEvents?: number;
  /** SQLite only: `full` also survives OS crashes (slower). Default `normal`: survives kill -9. */
  durability?: 'normal' | 'full';
  /** Called with every incident created or changed (after it was stored). */
  onIncident?: (change: 'created' | 'updated', incident: Incident) => void;
}

/** What one ingest did. */
export interface IngestResult {
  /** Events stored now. */
  accepted: number;
  /** Events whose id was already stored (a retried batch). */
  duplicates: number;
  /** Log lines that were not guard events (function output). */
  ignored: number;
  /** Guard-looking log lines that failed the schema (skipped). */
  invalid: number;
  /** Incidents this batch created or changed. */
  incidents: Incident[];
}

/** The structural part of a lab the correlator listens to (`@ephemera/lab`'s `Lab`). */
export interface LabLike {
  events: {
    on(
      event: 'log',
      listener: (line: { function: string; environment: string; line: string }) => void,
    ): unknown;
    off(
      event: 'log',
      listener: (line: { function: string; environment: string; line: string }) => void,
    ): unknown;
  };
}

export interface Correlator {
  readonly rules: Readonly<RulesConfig>;
  readonly store: Store;
  /** Validate all, then store (idempotent on `id`) and run the rules. Throws on any invalid event. */
  ingest(events: readonly unknown[]): Promise<IngestResult>;
  /** A `POST /v1/events` body (JSON array, JSON lines, CloudWatch or Firehose payload). */
  ingestBody(body: string): Promise<IngestResult & { source: string; firehoseRequestId?: string }>;
  /** One log line (a guard event line, or anything else, which is ignored). */
  ingestLogLine(line: string, origin: LineOrigin): Promise<IngestResult>;
  /** Feed every log line of a lab's environments to the correlator; returns the detach function.
   * Lines are batched (every `flushMs`, default 25 ms). */
  attachLab(
    lab: LabLike,
    options?: { flushMs?: number },
  ): { detach(): Promise<void>; flush(): Promise<void> };
  incidents(filter?: IncidentFilter): Promise<Incident[]>;
  incident(id: string): Promise<(Incident & { evidence: GuardEventRecord[] }) | undefined>;
  /** Serve the HTTP API (docs/correlator.md). Resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

const EMPTY: Omit<IngestResult, 'incidents'> = { accepted: 0, duplicates: 0, ignored: 0, invalid: 0 };

/**
 * Create a correlator over a SQLite file or a PostgreSQL database.
 * @example const c = await createCorrelator({ db: 'incidents.db', token: 's3cret' }); await c.listen(4747);
 */
export async function createCorrelator(options: CorrelatorOptions = {}): Promise<Correlator> {
  const rules = resolveRules(options.rules);
  const maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes, 1024 * 1024);
  const maxBatchEvents = positive('maxBatchEvents', options.maxBatchEvents, 10_000);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 8))
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_CONFIG',
      'token must be a string of at least 8 characters',
    );
  let webhook: Webhook | undefined;
  if (options.webhook !== undefined) {
    const wh = typeof options.webhook === 'string' ? { url: options.webhook } : options.webhook;
    try {
      webhook = new Webhook(wh);
    } catch {
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_CONFIG',
        `webhook is ${JSON.stringify(wh.url)}; accepted: an http:// or https:// URL`,
      );
    }
  }
  const db = options.db ?? 'ephemera-correlator.db';
  if (typeof db !== 'string' || db.length === 0)
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_CONFIG',
      'db must be a file path or a postgres:// URL',
    );
  const store = /^postgres(ql)?:\/\//.test(db)
    ? await openPostgresStore(db, options.schema === undefined ? {} : { schema: options.schema })
    : openSqliteStore(db, options.durability === undefined ? {} : { durability: options.durability });

  // Ingests run one at a time: each batch's rules see every earlier batch's events and incidents.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  let closed = false;

  const store_ = async (
    events: StoredEvent[],
    counts: { ignored: number; invalid: number },
  ): Promise<IngestResult> => {
    if (closed) throw new CorrelatorError('EPHEMERA_ERR_CORRELATOR_CLOSED', 'the correlator is closed');
    if (events.length === 0) return { ...EMPTY, ...counts, incidents: [] };
    return serial(async () => {
      const now = Date.now();
      const fresh = await store.insertEvents(events, now);
      const changed = new Map<string, Incident>();
      if (fresh.length > 0) {
        for (const finding of await evaluateRules(fresh, rules, store)) {
          const { incident, change } = await store.upsertIncident(
            finding.candidate,
            finding.quietMs,
            Date.now(),
          );
          if (change === 'unchanged') continue;
          changed.set(incident.id, incident);
          webhook?.notify(change, incident);
          try {
            options.onIncident?.(change, incident);
          } catch {
            // a listener's fault must not fail an ingest that is already stored
          }
        }
      }
      return {
        accepted: fresh.length,
        duplicates: events.length - fresh.length,
        ...counts,
        incidents: [...changed.values()],
      };
    });
  };

  const correlator: Correlator = {
    rules,
    store,
    ingest: (events) => {
      if (!Array.isArray(events))
        return Promise.reject(
          new CorrelatorError('EPHEMERA_ERR_CORRELATOR_SCHEMA', 'ingest() takes an array of guard events'),
        );
      if (events.length > maxBatchEvents)
        return Promise.reject(
          new CorrelatorError(
            'EPHEMERA_ERR_CORRELATOR_TOO_LARGE',
            `the batch holds ${events.length} events; accepted: at most ${maxBatchEvents}`,
          ),
        );
      let stored: StoredEvent[];
      try {
        stored = events.map((e, i) => toStoredEvent(e, `event ${i}`));
      } catch (err) {
        return Promise.reject(err);
      }
      return store_(stored, { ignored: 0, invalid: 0 });
    },
    ingestBody: async (body) => {
      const parsed = parseBatch(body, { maxEvents: maxBatchEvents, maxInflated: maxBodyBytes * 16 });
      const result = await store_(parsed.events, { ignored: parsed.ignored, invalid: parsed.invalid });
      return {
        ...result,
        source: parsed.source,
        ...(parsed.firehoseRequestId ? { firehoseRequestId: parsed.firehoseRequestId } : {}),
      };
    },
    ingestLogLine: (line, origin) => {
      const e = eventFromLine(line, origin);
      if (e === 'ignored') return Promise.resolve({ ...EMPTY, ignored: 1, incidents: [] });
      if (e === 'invalid') return Promise.resolve({ ...EMPTY, invalid: 1, incidents: [] });
      return store_([e], { ignored: 0, invalid: 0 });
    },
    attachLab: (lab, attachOptions = {}) => {
      const flushMs = attachOptions.flushMs ?? 25;
      let pending: StoredEvent[] = [];
      let timer: NodeJS.Timeout | undefined;
      let last: Promise<unknown> = Promise.resolve();
      const flush = (): Promise<void> => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        const batch = pending;
        pending = [];
        if (batch.length > 0 && !closed)
          last = store_(batch, { ignored: 0, invalid: 0 }).catch(() => undefined);
        return last.then(() => undefined);
      };
      const listener = (l: { function: string; environment: string; line: string }) => {
        if (!l.line.includes('{"ephemera":1')) return;
        const e = eventFromLine(l.line, { function: l.function, environment: l.environment });
        if (typeof e === 'string') return;
        pending.push(e);
        if (pending.length >= maxBatchEvents) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), flushMs);
      };
      lab.events.on('log', listener);
      return {
        flush,
        detach: () => {
          lab.events.off('log', listener);
          return flush();
        },
      };
    },
    incidents: (filter = {}) => store.listIncidents(filter),
    incident: async (id) => {
      const incident = await store.getIncident(id);
      if (!incident) return undefined;
      return { ...incident, evidence: await store.evidence(id, 1000) };
    },
    listen: async (port = 4747, host = '127.0.0.1') => {
      if (!options.token)
        throw new CorrelatorError(
          'EPHEMERA_ERR_CORRELATOR_CONFIG',
          'listen() needs a token (option token, or EPHEMERA_CORRELATOR_TOKEN for the CLI): ingest is authenticated',
        );
      const { startServer } = await import('./server.js');
      const server = await startServer(correlator, { token: options.token, maxBodyBytes, port, host });
      servers.push(server);
      return server.url;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(servers.map((s) => s.close()));
      await chain;
      webhook?.close();
      await store.close();
    },
  };
  const servers: { url: string; close(): Promise<void> }[] = [];
  return correlator;
}

function positive(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0))
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_CONFIG',
      `${key} is ${JSON.stringify(value)}; accepted: an integer > 0`,
    );
  return value;
}
