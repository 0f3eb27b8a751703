import { createHash } from 'node:crypto';
import { CorrelatorError } from './errors.js';

/**
 * The guard event schema (docs/events.md) as the correlator accepts it. `invocation` is the
 * per-request record (source IP, request size) the keep-warm rule needs: the guard emits it when
 * `telemetry.invocations` is on, and API Gateway access-log lines are translated into it.
 * `learn` (egress learn mode) is stored as evidence; no rule reads it.
 */
export const EVENT_TYPES = [
  'init',
  'recycle',
  'block',
  'alert',
  'detection',
  'error',
  'dropped',
  'invocation',
  'learn',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One guard event as it arrives (docs/events.md). */
export interface GuardEventRecord {
  ephemera: 1;
  id: string;
  type: EventType;
  time: string;
  function: string;
  env: string;
  requestId: string | null;
  invocation: number;
  ageMs: number;
  control: string | null;
  action: string | null;
  detail: Record<string, unknown>;
}

/** An event as the store keeps it: the columns rules query, and the original record. */
export interface StoredEvent {
  id: string;
  type: EventType;
  /** Event time, epoch ms (the guard's `time`). */
  time: number;
  function: string;
  env: string;
  requestId: string | null;
  control: string | null;
  action: string | null;
  sourceIp: string | null;
  fingerprint: string | null;
  /** Request size in bytes (`invocation` events), else null. */
  bytes: number | null;
  /** `detail.reason` (recycle events), else null. */
  reason: string | null;
  /** The record as received, JSON. */
  raw: string;
}

const MAX_ID = 128;
const MAX_NAME = 256;
const MAX_FIELD = 512;
const TYPES = new Set<string>(EVENT_TYPES);
const KEY_LIST = [
  'ephemera',
  'id',
  'type',
  'time',
  'function',
  'env',
  'requestId',
  'invocation',
  'ageMs',
  'control',
  'action',
  'detail',
];
const KEYS = new Set(KEY_LIST);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function fail(where: string, message: string): never {
  throw new CorrelatorError('EPHEMERA_ERR_CORRELATOR_SCHEMA', `${where}: ${message}`);
}

function str(where: string, key: string, value: unknown, max: number, nullable: boolean): string | null {
  if (value === null && nullable) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    fail(
      where,
      `${key} is ${describe(value)}; accepted: a non-empty string of at most ${max} characters${nullable ? ' or null' : ''}`,
    );
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function optionalString(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;
}

/**
 * Validate one record against the schema; `where` names it in errors (e.g. "event 3").
 * @example toStoredEvent(JSON.parse(line), 'line 1') // throws EPHEMERA_ERR_CORRELATOR_SCHEMA if bad
 */
export function toStoredEvent(input: unknown, where: string, raw?: string): StoredEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail(where, `is ${describe(input)}; accepted: a guard event object (docs/events.md)`);
  const e = input as Record<string, unknown>;
  if (e.ephemera !== 1) fail(where, `ephemera is ${describe(e.ephemera)}; accepted: 1`);
  for (const key in e)
    if (!KEYS.has(key)) fail(where, `unknown key ${JSON.stringify(key)}; accepted: ${KEY_LIST.join(', ')}`);
  const id = str(where, 'id', e.id, MAX_ID, false) as string;
  if (typeof e.type !== 'string' || !TYPES.has(e.type))
    fail(where, `type is ${describe(e.type)}; accepted: ${EVENT_TYPES.join(', ')}`);
  const timeText = e.time;
  const time = typeof timeText === 'string' && ISO.test(timeText) ? Date.parse(timeText) : Number.NaN;
  if (!Number.isFinite(time))
    fail(
      where,
      `time is ${describe(timeText)}; accepted: an ISO 8601 date-time such as 2026-11-30T04:01:02.345Z`,
    );
  const fn = str(where, 'function', e.function, MAX_NAME, false) as string;
  const env = str(where, 'env', e.env, MAX_ID, false) as string;
  const requestId = str(where, 'requestId', e.requestId, MAX_ID, true);
  for (const key of ['invocation', 'ageMs'] as const) {
    const n = e[key];
    if (!(typeof n === 'number' && Number.isSafeInteger(n) && n >= 0))
      fail(where, `${key} is ${describe(n)}; accepted: an integer >= 0`);
  }
  const control = str(where, 'control', e.control, MAX_NAME, true);
  const action = str(where, 'action', e.action, MAX_NAME, true);
  const detail = e.detail;
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail))
    fail(where, `detail is ${describe(detail)}; accepted: an object`);
  const d = detail as Record<string, unknown>;
  const bytes = typeof d.bytes === 'number' && Number.isFinite(d.bytes) && d.bytes >= 0 ? d.bytes : null;
  return {
    id,
    type: e.type as EventType,
    time,
    function: fn,
    env,
    requestId,
    control,
    action,
    sourceIp: optionalString(d.sourceIp, MAX_FIELD),
    fingerprint: optionalString(d.fingerprint, MAX_FIELD),
    bytes,
    reason: optionalString(d.reason, MAX_NAME),
    raw: raw ?? JSON.stringify(input),
  };
}

/**
 * A stable id for records that carry none (API Gateway access lines): the same record always maps
 * to the same id, so a redelivered log batch stores nothing twice.
 */
export function derivedId(prefix: string, ...parts: (string | number | null)[]): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;
}

/** Where a guard event starts in a log line (CloudWatch may prefix it), or -1. */
export function guardEventStart(line: string): number {
  return line.indexOf('{"ephemera":1');
}
