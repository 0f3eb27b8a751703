import { randomUUID } from 'node:crypto';
import type { EventType, GuardEventRecord } from '../src/event-schema.js';

/** Epoch of the synthetic streams (event times are what rules window on). */
export const T0 = Date.parse('2026-11-30T04:00:00.000Z');

/** One guard event as the guard would emit it (docs/events.md), with overridable fields. */
export function event(
  type: EventType,
  at: number,
  opts: {
    fn?: string;
    env?: string;
    requestId?: string | null;
    control?: string | null;
    action?: string | null;
    detail?: Record<string, unknown>;
    id?: string;
  } = {},
): GuardEventRecord {
  return {
    ephemera: 1,
    id: opts.id ?? randomUUID(),
    type,
    time: new Date(at).toISOString(),
    function: opts.fn ?? 'payments',
    env: opts.env ?? 'aaaaaaaaaaaa',
    requestId: opts.requestId === undefined ? randomUUID() : opts.requestId,
    invocation: 1,
    ageMs: 1000,
    control: opts.control === undefined ? null : opts.control,
    action: opts.action === undefined ? null : opts.action,
    detail: opts.detail ?? {},
  };
}

export const envId = (i: number) => i.toString(16).padStart(12, '0');

export function detection(
  at: number,
  env: string,
  sourceIp: string,
  fn = 'payments',
  requestId: string = randomUUID(),
): GuardEventRecord {
  return event('detection', at, {
    fn,
    env,
    requestId,
    control: 'integrity',
    action: 'recycle',
    detail: { count: 1, drifts: [{ path: 'JSON.parse', kind: 'replaced' }], sourceIp, appearedIn: requestId },
  });
}

export function codegen(
  at: number,
  env: string,
  sourceIp: string,
  fingerprint: string,
  type: 'block' | 'alert' = 'block',
  requestId: string = randomUUID(),
) {
  return event(type, at, {
    env,
    requestId,
    control: 'codegen',
    action: type,
    detail: {
      sink: 'eval',
      reason: 'executable',
      containsEventInput: true,
      fingerprint,
      phase: 'invoke',
      length: 90,
      sourceIp,
    },
  });
}

export function invocation(at: number, env: string, sourceIp: string, bytes: number, fn = 'payments') {
  return event('invocation', at, { fn, env, control: 'access-log', detail: { sourceIp, bytes } });
}

export function recycle(at: number, env: string, reason: string, fn = 'payments') {
  return event('recycle', at, {
    fn,
    env,
    control: reason === 'integrity-drift' ? 'integrity' : 'lifecycle',
    action: 'recycle',
    detail: { reason, invocations: 3, tmpRemoved: [] },
  });
}

/**
 * Busy legitimate traffic: many sources, many environments, every kind of routine event the guard
 * emits for healthy functions (init, policy recycles, occasional isolated alerts from distinct
 * sources, small requests at irregular times).
 */
export function busyLegitimateTraffic(n: number, seed = 7): GuardEventRecord[] {
  let x = seed;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const out: GuardEventRecord[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rand() * 200);
    const env = envId(Math.floor(rand() * 40));
    const ip = `198.51.100.${Math.floor(rand() * 250)}`;
    const r = rand();
    if (r < 0.02) out.push(event('init', t, { env, requestId: null, control: 'lifecycle', detail: {} }));
    else if (r < 0.06) out.push(recycle(t, env, rand() < 0.5 ? 'max-invocations' : 'max-age'));
    else if (r < 0.065) out.push(codegen(t, env, ip, `fp-${i}`, 'alert'));
    else out.push(invocation(t, env, ip, Math.floor(50 + rand() * 2000)));
  }
  return out;
}
