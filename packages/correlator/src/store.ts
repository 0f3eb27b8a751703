import type { EventType, GuardEventRecord, StoredEvent } from './event-schema.js';
import type { Incident, IncidentCandidate, IncidentFilter } from './incident.js';

/** Columns a rule can group events on. */
export type GroupColumn = 'fingerprint' | 'source_ip' | 'function';

export interface WindowQuery {
  column: GroupColumn;
  value: string;
  types: readonly EventType[];
  from: number;
  to: number;
  limit: number;
}

/**
 * The correlator's persistence: SQLite (one file, WAL) or PostgreSQL. Both implement the same
 * schema (schema.ts) and the same semantics; every method resolves only once the change is durable.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Store the events in one transaction; those whose id was already stored are skipped.
   * Resolves with the events that were new. */
  insertEvents(events: readonly StoredEvent[], received: number): Promise<StoredEvent[]>;
  /** Events grouped on `column = value` of the given types with `from <= time <= to`, oldest first. */
  windowEvents(q: WindowQuery): Promise<StoredEvent[]>;
  /** Events of the given requests: their `detection` events, or their events carrying a fingerprint. */
  requestEvents(requestIds: readonly string[], kind: 'detection' | 'fingerprinted'): Promise<StoredEvent[]>;
  /** Which of `sources` have an event of `types` with `from <= time <= to` (one query for a batch). */
  sourcesWith(
    sources: readonly string[],
    types: readonly EventType[],
    from: number,
    to: number,
  ): Promise<Set<string>>;
  /** Merge the candidate into the open incident of its (rule, key) — open when its last event is at
   * most `quietMs` before the candidate's first — or open the next one. Atomic across correlators. */
  upsertIncident(
    c: IncidentCandidate,
    quietMs: number,
    now: number,
  ): Promise<{ incident: Incident; change: 'created' | 'updated' | 'unchanged' }>;
  listIncidents(filter: IncidentFilter): Promise<Incident[]>;
  getIncident(id: string): Promise<Incident | undefined>;
  /** The incident's evidence events, as received, oldest first. */
  evidence(id: string, limit: number): Promise<GuardEventRecord[]>;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}

/** Query rows → StoredEvent (without `raw`, which rules do not read). */
export function rowToEvent(r: Record<string, unknown>): StoredEvent {
  return {
    id: String(r.id),
    type: r.type as EventType,
    time: Number(r.time),
    function: String(r.function),
    env: String(r.env),
    requestId: (r.request_id as string | null) ?? null,
    control: (r.control as string | null) ?? null,
    action: (r.action as string | null) ?? null,
    sourceIp: (r.source_ip as string | null) ?? null,
    fingerprint: (r.fingerprint as string | null) ?? null,
    bytes: r.bytes === null || r.bytes === undefined ? null : Number(r.bytes),
    reason: (r.reason as string | null) ?? null,
    raw: '',
  };
}

export const EVENT_COLUMNS =
  'id, type, time, function, env, request_id, control, action, source_ip, fingerprint, bytes, reason';
