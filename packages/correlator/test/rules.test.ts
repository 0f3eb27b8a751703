import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCorrelator } from '../src/index.js';
import {
  busyLegitimateTraffic,
  codegen,
  detection,
  envId,
  event,
  invocation,
  recycle,
  T0,
} from './synthetic.js';

const SEC = 1000;
const MIN = 60 * SEC;
const open = (rules = {}) => createCorrelator({ db: ':memory:', rules });

describe('rules over synthetic event streams', () => {
  it('fan-out: one payload fingerprint in ≥ K environments opens one incident naming them', async () => {
    const c = await open();
    const events = [0, 1, 2, 3].map((i) => codegen(T0 + i * SEC, envId(i), '203.0.113.66', 'fp-evil'));
    await c.ingest(events.slice(0, 2));
    assert.equal((await c.incidents()).length, 0, 'two environments are below the threshold (3)');
    const r = await c.ingest(events.slice(2));
    const incidents = await c.incidents({ rule: 'fanOut' });
    assert.equal(incidents.length, 1);
    const [inc] = incidents;
    assert.equal(inc?.key, 'fingerprint:fp-evil');
    assert.deepEqual(inc?.environments, [envId(0), envId(1), envId(2), envId(3)]);
    assert.deepEqual(inc?.sources, ['203.0.113.66']);
    assert.equal(inc?.severity, 'high');
    assert.equal(inc?.eventCount, 4);
    assert.equal(r.incidents.length, 1);
    const detail = await c.incident(inc?.id as string);
    assert.equal(detail?.evidence.length, 4);
    assert.deepEqual(detail?.evidence.map((e) => e.id).sort(), events.map((e) => e.id).sort());
    await c.close();
  });

  it('fan-out: the same fingerprint spread over more than the window raises nothing', async () => {
    const c = await open({ fanOut: { windowMs: MIN } });
    await c.ingest([0, 1, 2].map((i) => codegen(T0 + i * 2 * MIN, envId(i), '203.0.113.66', 'fp-slow')));
    assert.equal((await c.incidents({ rule: 'fanOut' })).length, 0);
    await c.close();
  });

  it('fan-out: integrity detections of one function in ≥ K environments', async () => {
    const c = await open();
    await c.ingest([0, 1, 2].map((i) => detection(T0 + i * SEC, envId(i), `203.0.113.${i}`)));
    const [inc] = await c.incidents({ rule: 'fanOut' });
    assert.equal(inc?.key, 'detections:payments');
    assert.equal(inc?.environments.length, 3);
    await c.close();
  });

  it('infection: detections in several environments from one source name the attacking requests', async () => {
    const c = await open();
    const d = [detection(T0, envId(1), '203.0.113.66'), detection(T0 + 10 * SEC, envId(2), '203.0.113.66')];
    await c.ingest(d);
    const incidents = await c.incidents({ rule: 'infection' });
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]?.key, 'ip:203.0.113.66');
    assert.equal(incidents[0]?.severity, 'critical');
    assert.deepEqual(incidents[0]?.requestIds, d.map((e) => e.requestId as string).sort());
    assert.deepEqual(incidents[0]?.environments, [envId(1), envId(2)]);
    await c.close();
  });

  it('infection: one detection per source (different sources) is no campaign', async () => {
    const c = await open();
    await c.ingest([detection(T0, envId(1), '203.0.113.1'), detection(T0 + SEC, envId(2), '203.0.113.2')]);
    assert.equal((await c.incidents({ rule: 'infection' })).length, 0);
    await c.close();
  });

  it('infection by payload: one fingerprint infecting environments from rotating sources', async () => {
    const c = await open();
    // codegen in alert mode lets each injection run: an alert naming the payload, then a detection
    // for the same request. Three sources, three environments; the detections arrive later.
    const requests = [0, 1, 2].map((i) => ({ id: `req-${i}`, ip: `198.18.0.${i}`, env: envId(40 + i) }));
    await c.ingest(requests.map((r, i) => codegen(T0 + i * MIN, r.env, r.ip, 'fp-rotating', 'alert', r.id)));
    await c.ingest(requests.map((r, i) => detection(T0 + i * MIN + 5, r.env, r.ip, 'payments', r.id)));
    const infections = await c.incidents({ rule: 'infection' });
    assert.equal(infections.length, 1, 'no per-IP campaign: each source infected one environment');
    assert.equal(infections[0]?.key, 'fingerprint:fp-rotating');
    assert.deepEqual(infections[0]?.sources, ['198.18.0.0', '198.18.0.1', '198.18.0.2']);
    assert.deepEqual(infections[0]?.requestIds, ['req-0', 'req-1', 'req-2']);
    assert.equal(infections[0]?.eventCount, 6);
    await c.close();
  });

  it('infection by payload is not raised twice for a campaign that keeps one address', async () => {
    const c = await open();
    const ip = '203.0.113.66';
    const events = [0, 1].flatMap((i) => [
      codegen(T0 + i * SEC, envId(50 + i), ip, 'fp-one', 'alert', `r-${i}`),
      detection(T0 + i * SEC + 5, envId(50 + i), ip, 'payments', `r-${i}`),
    ]);
    await c.ingest(events);
    const infections = await c.incidents({ rule: 'infection' });
    assert.deepEqual(
      infections.map((i) => i.key),
      [`ip:${ip}`],
    );
    await c.close();
  });

  it('fingerprinted alerts without detections are no infection', async () => {
    const c = await open();
    await c.ingest(
      [0, 1, 2].map((i) => codegen(T0 + i * SEC, envId(60 + i), `198.18.1.${i}`, 'fp-noisy', 'alert')),
    );
    assert.equal((await c.incidents({ rule: 'infection' })).length, 0);
    await c.close();
  });

  it('a continuing campaign updates its incident; after a quiet window it opens the next one', async () => {
    const c = await open({ infection: { windowMs: 10 * MIN } });
    const ip = '203.0.113.66';
    await c.ingest([detection(T0, envId(1), ip), detection(T0 + SEC, envId(2), ip)]);
    const first = await c.incidents({ rule: 'infection' });
    assert.equal(first.length, 1);
    const r = await c.ingest([detection(T0 + 2 * MIN, envId(3), ip)]);
    assert.equal(
      r.incidents.filter((i) => i.rule === 'infection').length,
      1,
      'the campaign changed its incident',
    );
    const updated = await c.incidents({ rule: 'infection' });
    assert.equal(updated.length, 1, 'no second incident for the same campaign');
    assert.equal(updated[0]?.id, first[0]?.id);
    assert.deepEqual(updated[0]?.environments, [envId(1), envId(2), envId(3)]);
    assert.equal(updated[0]?.lastSeen, new Date(T0 + 2 * MIN).toISOString());
    // An hour later (quiet for longer than the window): a new campaign, a new incident.
    await c.ingest([detection(T0 + 60 * MIN, envId(4), ip), detection(T0 + 61 * MIN, envId(5), ip)]);
    const all = await c.incidents({ rule: 'infection' });
    assert.equal(all.length, 2);
    assert.deepEqual(all.map((i) => i.generation).sort(), [1, 2]);
    await c.close();
  });

  it('keep-warm: small periodic requests from a source that caused a detection', async () => {
    const c = await open();
    const ip = '203.0.113.66';
    await c.ingest([detection(T0, envId(1), ip)]);
    const pings = [1, 2, 3, 4, 5].map((i) =>
      invocation(T0 + i * 5 * MIN + (i % 2) * 3 * SEC, envId(1), ip, 2),
    );
    await c.ingest(pings.slice(0, 3));
    assert.equal(
      (await c.incidents({ rule: 'keepWarm' })).length,
      0,
      'three pings are below minRequests (4)',
    );
    await c.ingest(pings.slice(3));
    const [inc] = await c.incidents({ rule: 'keepWarm' });
    assert.equal(inc?.key, `ip:${ip}`);
    assert.deepEqual(inc?.sources, [ip]);
    assert.equal(inc?.eventCount, 6, 'the earlier detection and the five pings');
    await c.close();
  });

  it('keep-warm: rounds of concurrent pings (one per environment) are periodic too', async () => {
    const c = await open();
    const ip = '203.0.113.67';
    await c.ingest([detection(T0, envId(1), ip)]);
    // Four rounds, 5 minutes apart, each of 6 pings within a few milliseconds to 6 environments.
    const rounds = [1, 2, 3, 4].flatMap((r) =>
      [0, 1, 2, 3, 4, 5].map((k) => invocation(T0 + r * 5 * MIN + k * 3, envId(k + 1), ip, 2)),
    );
    await c.ingest(rounds);
    const [inc] = await c.incidents({ rule: 'keepWarm' });
    assert.equal(inc?.key, `ip:${ip}`);
    // Irregular rounds from the same kind of source stay silent.
    const d = await open();
    const other = '203.0.113.68';
    await d.ingest([detection(T0, envId(1), other)]);
    await d.ingest(
      [1, 9, 11, 30].flatMap((m) =>
        [0, 1, 2].map((k) => invocation(T0 + m * MIN + k * 3, envId(k + 1), other, 2)),
      ),
    );
    assert.equal((await d.incidents({ rule: 'keepWarm' })).length, 0);
    await c.close();
    await d.close();
  });

  it('keep-warm: the same pings from a source with no earlier detection or block raise nothing', async () => {
    const c = await open();
    await c.ingest([1, 2, 3, 4, 5, 6].map((i) => invocation(T0 + i * 5 * MIN, envId(1), '198.51.100.9', 2)));
    assert.equal((await c.incidents()).length, 0, 'a health check is periodic and small too');
    await c.close();
  });

  it('keep-warm: irregular or large requests from a suspicious source raise nothing', async () => {
    const c = await open();
    const ip = '203.0.113.66';
    await c.ingest([detection(T0, envId(1), ip)]);
    const gaps = [1, 9, 11, 30, 31, 50];
    await c.ingest(gaps.map((m) => invocation(T0 + m * MIN, envId(1), ip, 2)));
    await c.ingest([1, 2, 3, 4, 5].map((i) => invocation(T0 + 55 * MIN + i * MIN, envId(1), ip, 4000)));
    assert.equal((await c.incidents({ rule: 'keepWarm' })).length, 0);
    await c.close();
  });

  it('low-and-slow: alerts from one source accumulate over hours past the threshold', async () => {
    const c = await open({ lowAndSlow: { alerts: 10 } });
    const ip = '203.0.113.7';
    for (let i = 0; i < 9; i++)
      await c.ingest([codegen(T0 + i * 40 * MIN, envId(i % 3), ip, `fp-${i}`, 'alert')]);
    assert.equal((await c.incidents({ rule: 'lowAndSlow' })).length, 0, 'nine alerts: below the threshold');
    await c.ingest([codegen(T0 + 9 * 40 * MIN, envId(0), ip, 'fp-9', 'alert')]);
    const [inc] = await c.incidents({ rule: 'lowAndSlow' });
    assert.equal(inc?.key, `ip:${ip}`);
    assert.equal(inc?.eventCount, 10);
    assert.equal(inc?.severity, 'medium');
    assert.equal((await c.incidents({ rule: 'fanOut' })).length, 0, 'each payload differed: no fan-out');
    await c.close();
  });

  it('recycle storm: many drift recycles of one function; policy recycles do not count', async () => {
    const c = await open({ recycleStorm: { recycles: 5 } });
    await c.ingest([0, 1, 2, 3, 4, 5, 6, 7].map((i) => recycle(T0 + i * SEC, envId(i), 'max-invocations')));
    assert.equal((await c.incidents()).length, 0);
    await c.ingest([0, 1, 2, 3, 4].map((i) => recycle(T0 + 10 * SEC + i * SEC, envId(i), 'integrity-drift')));
    const [inc] = await c.incidents({ rule: 'recycleStorm' });
    assert.equal(inc?.key, 'function:payments');
    assert.equal(inc?.eventCount, 5);
    await c.close();
  });

  it('busy legitimate traffic (20 000 events, 40 environments, 250 sources) raises nothing', async () => {
    const c = await open();
    const events = busyLegitimateTraffic(20_000);
    for (let i = 0; i < events.length; i += 1000) await c.ingest(events.slice(i, i + 1000));
    assert.equal(await c.store.countEvents(), 20_000);
    assert.deepEqual(await c.incidents(), []);
    await c.close();
  });

  it('filters incidents by function, rule and time', async () => {
    const c = await open();
    await c.ingest([0, 1, 2].map((i) => detection(T0 + i * SEC, envId(i), '203.0.113.66', 'orders_v2')));
    assert.equal((await c.incidents({ function: 'orders_v2' })).length, 2, 'fan-out and infection');
    assert.equal((await c.incidents({ function: 'orders' })).length, 0, 'no prefix match');
    assert.equal((await c.incidents({ function: 'orders%v2' })).length, 0, 'LIKE wildcards are escaped');
    assert.equal((await c.incidents({ rule: 'infection', function: 'orders_v2' })).length, 1);
    assert.equal((await c.incidents({ since: T0 + 10 * SEC })).length, 0);
    assert.equal((await c.incidents({ until: T0 - SEC })).length, 0);
    assert.equal((await c.incidents({ since: T0, until: T0 + 10 * SEC })).length, 2);
    await c.close();
  });

  it('refuses bad thresholds and unknown rules, naming the key', async () => {
    await assert.rejects(
      open({ fanOut: { environments: -1 } }),
      /rules\.fanOut\.environments is -1; accepted/,
    );
    await assert.rejects(open({ fanout: {} }), /rules\.fanout .*accepted: fanOut, infection/);
    await assert.rejects(
      open({ infection: { severity: 'urgent' } }),
      /accepted: low, medium, high, critical/,
    );
    await assert.rejects(open({ keepWarm: { windowMs: 0 } }), { code: 'EPHEMERA_ERR_CORRELATOR_CONFIG' });
  });

  it('refuses an invalid event and stores nothing of its batch', async () => {
    const c = await open();
    const good = event('init', T0, { requestId: null });
    const bad = { ...event('alert', T0), invocation: -1 };
    await assert.rejects(c.ingest([good, bad]), {
      code: 'EPHEMERA_ERR_CORRELATOR_SCHEMA',
      message: /event 1: invocation is -1; accepted: an integer >= 0/,
    });
    assert.equal(await c.store.countEvents(), 0);
    await c.close();
  });
});
