import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '@ephemera/lab';
import { type Correlator, createCorrelator } from '../src/index.js';

/**
 * End to end with the real runtime client: a guarded function (integrity: recycle, code generation
 * off so the injection lands) is attacked from one source in several environments at once; its
 * stdout event lines flow from the lab's log streams into the correlator, which must raise exactly
 * one fan-out and one infection incident naming the attacker and the infected environments — and
 * nothing for the honest traffic around it.
 */
const REGISTER = fileURLToPath(new URL('../../guard/dist/register.js', import.meta.url));
const ATTACKER = '203.0.113.66';
const IMPLANT =
  '(function(){ const o = JSON.parse; JSON.parse = function () { return o.apply(this, arguments); }; })()';

const request = (body: string, ip: string, id: string) => ({
  version: '2.0',
  routeKey: 'POST /pay',
  rawPath: '/pay',
  body,
  requestContext: { requestId: id, http: { method: 'POST', path: '/pay', sourceIp: ip } },
});

async function guardedLab(extraEnv: Record<string, string> = {}): Promise<Lab> {
  return createLab({
    functions: [
      {
        name: 'payments',
        codeDir: fileURLToPath(new URL('./fixtures/eval-victim', import.meta.url)),
        handler: 'index.handler',
        environment: {
          NODE_OPTIONS: `--require ${REGISTER}`,
          EPHEMERA_CODEGEN: 'off',
          EPHEMERA_INTEGRITY: 'recycle',
          EPHEMERA_MAX_INVOCATIONS: 'off',
          EPHEMERA_MAX_AGE_SECONDS: 'off',
          ...extraEnv,
        },
      },
    ],
    reuseGraceMs: 0,
  });
}

/** Honest traffic, then one attacker injecting into four environments at once, then more honest traffic. */
async function attackAndCheck(lab: Lab, correlator: Correlator, flush: () => Promise<void>): Promise<void> {
  const honest = (i: number) =>
    lab.invoke('payments', request(`{"card":"40000000000000${10 + i}"}`, `198.51.100.${i}`, `ok-${i}`));
  // Warm four environments with honest traffic, then attack all four at once.
  const warm = await Promise.all([0, 1, 2, 3].map(honest));
  assert.ok(warm.every((r) => r.outcome === 'success'));
  const attacks = await Promise.all(
    [0, 1, 2, 3].map((i) => lab.invoke('payments', request(IMPLANT, ATTACKER, `attack-${i}`))),
  );
  assert.ok(
    attacks.every((r) => r.outcome === 'success'),
    'the injections ran',
  );
  const attacked = new Set(attacks.map((r) => r.environmentId));
  assert.ok(attacked.size >= 3, `the attack reached ${attacked.size} environments; the fan-out needs 3`);
  // Honest traffic after the attack (served by clean environments).
  await Promise.all([4, 5, 6, 7, 8, 9].map(honest));

  const deadline = Date.now() + 15_000;
  let incidents = await correlator.incidents();
  while (incidents.length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    await flush();
    incidents = await correlator.incidents();
  }
  await new Promise((r) => setTimeout(r, 300));
  await flush();
  incidents = await correlator.incidents();
  assert.deepEqual(
    incidents.map((i) => i.rule).sort(),
    ['fanOut', 'infection'],
    JSON.stringify(incidents, null, 2),
  );
  const infection = incidents.find((i) => i.rule === 'infection');
  const fanOut = incidents.find((i) => i.rule === 'fanOut');
  assert.deepEqual(infection?.sources, [ATTACKER]);
  assert.deepEqual(fanOut?.sources, [ATTACKER]);
  assert.equal(fanOut?.key, 'detections:payments');
  // Environment ids are the guard's own (the `env` of its events), one per attacked environment.
  const detections = (await correlator.incident(infection?.id as string))?.evidence ?? [];
  assert.equal(detections.length, attacked.size);
  assert.ok(
    detections.every(
      (e) => e.type === 'detection' && (e.detail as { sourceIp: string }).sourceIp === ATTACKER,
    ),
  );
  assert.deepEqual(infection?.environments, [...new Set(detections.map((e) => e.env))].sort());
  assert.equal(infection?.environments.length, attacked.size);
  assert.deepEqual(infection?.requestIds, detections.map((e) => e.requestId as string).sort());
  assert.deepEqual(infection?.functions, ['payments']);
}

describe('an attack in the lab becomes one fan-out and one infection incident', () => {
  it('through the log streams (the CloudWatch transport)', async () => {
    const lab = await guardedLab();
    const correlator = await createCorrelator({ db: ':memory:' });
    const feed = correlator.attachLab(lab);
    try {
      await attackAndCheck(lab, correlator, feed.flush);
    } finally {
      await feed.detach();
      await lab.close();
      await correlator.close();
    }
  });

  it("through the guard's HTTP sink (telemetry.endpoint → POST /v1/events with the bearer token)", async () => {
    const token = 'lab-sink-token-0123';
    const correlator = await createCorrelator({ db: ':memory:', token });
    const url = await correlator.listen(0);
    const lab = await guardedLab({ EPHEMERA_TELEMETRY_ENDPOINT: url, EPHEMERA_TELEMETRY_TOKEN: token });
    try {
      await attackAndCheck(lab, correlator, async () => {});
    } finally {
      await lab.close();
      await correlator.close();
    }
  });
});
