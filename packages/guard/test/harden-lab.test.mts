import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { collectLogs, eventually, fixture, NODE24, REGISTER } from './helpers.mjs';

/**
 * integrity.harden with the real runtime client: the function starts, serves, and an implant's
 * writes to frozen built-ins have no effect — nothing drifts, nothing is recycled, the victim's
 * card never reaches the implant. A setting that cannot be applied fails the INIT.
 */
const EXFIL_DIR = mkdtempSync(join(tmpdir(), 'ephemera-harden-exfil-'));
const EXFIL = join(EXFIL_DIR, 'stolen.log');
const steal = `require('node:fs').appendFileSync(${JSON.stringify(EXFIL)}, JSON.stringify(x) + '\\n')`;

/**
 * Implants the hardening prevents. The function is an ES module, so its eval runs strict code: the
 * write to a frozen built-in throws a TypeError and the attacking request fails (in sloppy code the
 * write would fail silently); either way nothing changed.
 */
const PREVENTED: Record<string, string> = {
  'wrap JSON.parse': `const o = JSON.parse; JSON.parse = function (s) { const x = o.apply(this, arguments); ${steal}; return x; }`,
  'Object.prototype.toJSON': `Object.prototype.toJSON = function () { if (this && this.card) { const x = String(this.card); ${steal} } return this; }`,
  'patch https.request': `const h = require('node:https'); const o = h.request; h.request = function () { const x = 'req'; ${steal}; return o.apply(this, arguments); }`,
  'Promise.prototype.then': `const o = Promise.prototype.then; Promise.prototype.then = function (a, b) { return o.call(this, (x) => { try { if (x && x.card) { ${steal} } } catch {} return a ? a(x) : x; }, b); }`,
};

const SETTINGS = [
  { setting: 'builtins', node: undefined },
  { setting: 'ses', node: undefined },
  { setting: 'builtins', node: NODE24 },
] as const;

const request = (body: string, ip: string) => ({
  version: '2.0',
  body,
  requestContext: { requestId: `r-${ip}`, http: { sourceIp: ip } },
});

describe('integrity.harden in the lab with the real aws-lambda-ric', () => {
  let lab: Lab;
  let lab24: Lab;
  let logs: ReturnType<typeof collectLogs>;
  let logs24: ReturnType<typeof collectLogs>;
  // A copy of the function outside the repository: `ses` does not resolve from there.
  const noSesDir = mkdtempSync(join(tmpdir(), 'ephemera-no-ses-'));
  cpSync(fixture('implantable'), noSesDir, { recursive: true });
  const fnName = (s: (typeof SETTINGS)[number], technique: number) =>
    `${s.setting}${s.node ? '-node24' : ''}-${technique}`;

  before(async () => {
    const environment = (setting: string) => ({
      NODE_OPTIONS: `--require ${REGISTER}`,
      EPHEMERA_CODEGEN: 'off',
      EPHEMERA_INTEGRITY: 'recycle',
      EPHEMERA_HARDEN: setting,
      EPHEMERA_MAX_INVOCATIONS: 'off',
      EPHEMERA_MAX_AGE_SECONDS: 'off',
    });
    const functions = (node: string | undefined) =>
      SETTINGS.filter((s) => s.node === node).flatMap((s) =>
        Object.keys(PREVENTED).map((_, i) => ({
          name: fnName(s, i),
          codeDir: fixture('implantable'),
          handler: 'index.handler',
          environment: environment(s.setting),
        })),
      );
    lab = await createLab({
      functions: [
        ...functions(undefined),
        { name: 'no-ses', codeDir: noSesDir, handler: 'index.handler', environment: environment('ses') },
      ],
    });
    logs = collectLogs(lab);
    lab24 = await createLab({ nodePath: NODE24, functions: functions(NODE24) });
    logs24 = collectLogs(lab24);
  });
  after(async () => {
    await lab.close();
    await lab24.close();
  });

  for (const s of SETTINGS) {
    Object.entries(PREVENTED).forEach(([name, code], i) => {
      it(`${s.setting}${s.node ? ' (Node 24)' : ''}: prevents ${name}; the environment keeps serving`, async () => {
        const fn = fnName(s, i);
        const [useLab, useLogs] = s.node ? [lab24, logs24] : [lab, logs];
        const warm = await useLab.invoke(fn, request('{"card":"4000000000000002"}', '198.51.100.1'));
        assert.equal(warm.outcome, 'success', warm.payload.toString());
        const init = useLogs.guard(fn).find((e) => e.type === 'init');
        const info = (init?.detail.controlInfo as Record<string, { harden?: unknown }> | undefined)
          ?.integrity;
        assert.equal(info?.harden, s.setting);
        await eventually(
          () => useLab.environments(fn).some((e) => e.state === 'idle'),
          'warm environment idle',
        );
        const attack: InvokeResult = await useLab.invoke(
          fn,
          request(`(function(){ ${code} })()`, '203.0.113.66'),
        );
        assert.equal(
          attack.outcome,
          'function-error',
          `the injection was refused: ${attack.payload.toString()}`,
        );
        assert.match(
          attack.payload.toString(),
          /TypeError.*(read only|not extensible|Cannot (assign|add|define))/,
        );
        await eventually(
          () => useLab.environments(fn).some((e) => e.state === 'idle'),
          'environment idle again',
        );
        const victim = await useLab.invoke(fn, request('{"card":"5105105105105100"}', '198.51.100.2'));
        assert.equal(victim.outcome, 'success');
        // Prevented, not evicted: no change to detect, the same environment serves the victim.
        assert.equal(victim.environmentId, attack.environmentId);
        assert.deepEqual(
          useLogs.guard(fn).filter((e) => e.type === 'detection' || e.type === 'error'),
          [],
          'no drift and no guard error',
        );
        const stolen = existsSync(EXFIL) ? readFileSync(EXFIL, 'utf8') : '';
        assert.doesNotMatch(stolen, /5105105105105100/, 'the victim card never reached the implant');
      });
    });
  }

  for (const s of SETTINGS) {
    it(`${s.setting}${s.node ? ' (Node 24)' : ''}: a strict-mode write to a frozen built-in throws in the handler`, async () => {
      const fn = fnName(s, 0);
      const [useLab, useLogs] = s.node ? [lab24, logs24] : [lab, logs];
      for (const [target, code] of [
        ['JSON.parse', "'use strict'; JSON.parse = function () {}"],
        ['https.request', "'use strict'; require('node:https').request = function () {}"],
        ['globalThis.setTimeout', "'use strict'; globalThis.setTimeout = function () {}"],
      ] as const) {
        const refused = await useLab.invoke(fn, request(`(function(){ ${code} })()`, '203.0.113.67'));
        assert.equal(refused.outcome, 'function-error', `${target}: ${refused.payload.toString()}`);
        assert.match(refused.payload.toString(), /TypeError/, target);
      }
      // The overridable properties still override on instances (the override-mistake repair).
      const ok = await useLab.invoke(
        fn,
        request(
          "(function(){ 'use strict'; const e = new Error('a'); e.message = 'b'; e.name = 'C'; const o = {}; o.toString = () => 'x'; if (String(o) !== 'x' || e.message !== 'b') throw new Error('override'); })()",
          '198.51.100.4',
        ),
      );
      assert.equal(ok.outcome, 'success', ok.payload.toString());
      assert.deepEqual(
        useLogs.guard(fn).filter((e) => e.type === 'detection'),
        [],
      );
    });
  }

  it('ses not installed next to the function: the INIT fails with EPHEMERA_ERR_HARDEN', async () => {
    const result = await lab.invoke('no-ses', request('{"card":"1"}', '198.51.100.3'));
    assert.notEqual(result.outcome, 'success');
    const text = `${result.payload.toString()} ${result.logs.join('\n')}`;
    assert.match(text, /EPHEMERA_ERR_HARDEN/, text);
    assert.match(text, /ses/);
  });
});
