import { createHash } from 'node:crypto';
import type { RuleName, Severity } from './rules-config.js';

/** One incident as the API returns it. Times are ISO strings. */
export interface Incident {
  id: string;
  rule: RuleName;
  /** What the rule grouped on: `fingerprint:…`, `ip:…`, `function:…`. */
  key: string;
  /** 1 for the first incident of a key; a campaign that resumes after a quiet window opens the next. */
  generation: number;
  severity: Severity;
  title: string;
  firstSeen: string;
  lastSeen: string;
  updatedAt: string;
  sources: string[];
  environments: string[];
  functions: string[];
  requestIds: string[];
  /** How many evidence events are linked (at most MAX_EVIDENCE). */
  eventCount: number;
}

/** What one rule evaluation found; merged into the open incident of its key, or opens one. */
export interface IncidentCandidate {
  rule: RuleName;
  key: string;
  severity: Severity;
  title: string;
  firstSeen: number;
  lastSeen: number;
  sources: string[];
  environments: string[];
  functions: string[];
  requestIds: string[];
  eventIds: string[];
}

/** Row shape shared by both stores (arrays as JSON text, times as epoch ms). */
export interface IncidentRow {
  id: string;
  rule: string;
  group_key: string;
  generation: number;
  severity: string;
  title: string;
  first_seen: number;
  last_seen: number;
  updated_at: number;
  sources: string;
  environments: string;
  functions: string;
  request_ids: string;
  event_count: number;
}

/** Bounds: an attacker who floods one incident cannot grow it without limit. */
export const MAX_LIST = 500;
export const MAX_EVIDENCE = 1000;

/** Deterministic, so two correlators on one database name the same incident the same way. */
export function incidentId(rule: string, key: string, generation: number): string {
  return `inc_${createHash('sha256').update(`${rule}\n${key}\n${generation}`).digest('hex').slice(0, 24)}`;
}

function union(a: string[], b: string[]): string[] {
  const set = new Set(a);
  for (const x of b) {
    if (set.size >= MAX_LIST) break;
    set.add(x);
  }
  return [...set].sort();
}

/** The row a candidate creates (generation given). */
export function newRow(c: IncidentCandidate, generation: number, now: number): IncidentRow {
  return {
    id: incidentId(c.rule, c.key, generation),
    rule: c.rule,
    group_key: c.key,
    generation,
    severity: c.severity,
    title: c.title,
    first_seen: c.firstSeen,
    last_seen: c.lastSeen,
    updated_at: now,
    sources: JSON.stringify(union([], c.sources)),
    environments: JSON.stringify(union([], c.environments)),
    functions: JSON.stringify(union([], c.functions)),
    request_ids: JSON.stringify(union([], c.requestIds)),
    event_count: 0,
  };
}

/** The row after merging `c` into `row`, and whether anything changed. */
export function mergeRow(
  row: IncidentRow,
  c: IncidentCandidate,
  now: number,
): { row: IncidentRow; changed: boolean } {
  const merged: IncidentRow = {
    ...row,
    title: c.title,
    first_seen: Math.min(Number(row.first_seen), c.firstSeen),
    last_seen: Math.max(Number(row.last_seen), c.lastSeen),
    sources: JSON.stringify(union(JSON.parse(row.sources) as string[], c.sources)),
    environments: JSON.stringify(union(JSON.parse(row.environments) as string[], c.environments)),
    functions: JSON.stringify(union(JSON.parse(row.functions) as string[], c.functions)),
    request_ids: JSON.stringify(union(JSON.parse(row.request_ids) as string[], c.requestIds)),
  };
  const changed =
    merged.first_seen !== Number(row.first_seen) ||
    merged.last_seen !== Number(row.last_seen) ||
    merged.sources !== row.sources ||
    merged.environments !== row.environments ||
    merged.functions !== row.functions ||
    merged.request_ids !== row.request_ids ||
    merged.title !== row.title;
  if (changed) merged.updated_at = now;
  return { row: merged, changed };
}

/** Whether `c` continues the incident `row` (else it opens the next generation). */
export function continues(row: IncidentRow, c: IncidentCandidate, quietMs: number): boolean {
  return c.firstSeen <= Number(row.last_seen) + quietMs;
}

export function rowToIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    rule: row.rule as RuleName,
    key: row.group_key,
    generation: Number(row.generation),
    severity: row.severity as Severity,
    title: row.title,
    firstSeen: new Date(Number(row.first_seen)).toISOString(),
    lastSeen: new Date(Number(row.last_seen)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    sources: JSON.parse(row.sources) as string[],
    environments: JSON.parse(row.environments) as string[],
    functions: JSON.parse(row.functions) as string[],
    requestIds: JSON.parse(row.request_ids) as string[],
    eventCount: Number(row.event_count),
  };
}

/** Filter of `GET /v1/incidents`. Times are epoch ms. */
export interface IncidentFilter {
  function?: string;
  rule?: string;
  /** Incidents last seen at or after. */
  since?: number;
  /** Incidents first seen at or before. */
  until?: number;
  /** Incidents created or changed after (for `tail`). */
  updatedAfter?: number;
  limit?: number;
}
