import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, type Lab } from '@ephemera/lab';
import { collectLogs, eventually, fixture, REGISTER } from './helpers.mjs';

/**
 * End to end with the real runtime client: invocation N injects an implant through the function's
 * eval (code generation is off, so prevention does not stop it: this is the detect + evict arm);
 * invocation N+1 is a victim with a distinct card number. The victim must be served by a clean
 * environment and its card must never reach the implant.
 */
const EXFIL_DIR = mkdtempSync(join(tmpdir(), 'ephemera-exfil-'));
const EXFIL = join(EXFIL_DIR, 'stolen.log');
const steal = `require('node:fs').appendFileSync(${JSON.stringify(EXFIL)}, JSON.stringify(x) + '\\n')`;

/** Each technique is the body of a function expression the injection runs once. */
const TECHNIQUES: Record<string, string> = {
  'wrap JSON.parse': `const o = JSON.parse; JSON.parse = function (s) { const x = o.apply(this, arguments); ${steal}; return x; }`,
  'wrap JSON.stringify': `const o = JSON.stringify; JSON.stringify = function (x) { try { ${steal} } catch {} return o.apply(this, arguments); }`,
  'Object.prototype.toJSON': `let busy = false; Object.prototype.toJSON = function () { if (!busy && this && this.card) { busy = true; const x = String(this.card); try { ${steal} } finally { busy = false; } } return this; }`,
  'patch https.request': `const h = require('node:https'); const o = h.request; h.request = function () { const x = 'req'; ${steal}; return o.apply(this, arguments); }`,
  'process listener': `process.on('payment', (x) => { ${steal} })`,
  'EventEmitter.prototype.emit': `const E = require('node:events'); const o = E.prototype.emit; E.prototype.emit = function (n, x) { if (n === 'payment') { ${steal} } return o.apply(this, arguments); }`,
  'setInterval beacon': `setInterval(() => { const x = 'beacon'; ${steal} }, 50).unref()`,
  'replace a cached module export': `const p = require.resolve('node:path'); const m = require('node:path'); const o = m.join; m.join = function () { const x = [...arguments]; ${steal}; return o.apply(this, arguments); }`,
  'script dropped in /tmp': `require('node:fs').writeFileSync(require('node:path').join(require('node:os').tmpdir(), 'stage2.js'), 'module.exports = 1')`,
  'NODE_OPTIONS for children': `process.env.NODE_OPTIONS = '--require /tmp/stage2.js'`,
  'AWS endpoint redirect': `process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'`,
  'Promise.prototype.then': `const o = Promise.prototype.then; Promise.prototype.then = function (a, b) { return o.call(this, (x) => { try { if (x && x.card) { ${steal} } } catch {} return a ? a(x) : x; }, b); }`,
};

describe('implants planted in a warm environment are evicted before the next user (lab, real RIC)', () => {
  let lab: Lab;
  let logs: ReturnType<typeof collectLogs>;
  before(async () => {
    lab = await createLab({
      functions: Object.keys(TECHNIQUES).map((_, i) => ({
        name: `victim-${i}`,
        codeDir: fixture('implantable'),
        handler: 'index.handler',
        environment: {
          NODE_OPTIONS: `--require ${REGISTER}`,
          EPHEMERA_CODEGEN: 'off',
          EPHEMERA_INTEGRITY: 'recycle',
          EPHEMERA_MAX_INVOCATIONS: 'off',
          EPHEMERA_MAX_AGE_SECONDS: 'off',
        },
      })),
    });
    logs = collectLogs(lab);
  });
  after(() => lab.close());

  Object.entries(TECHNIQUES).forEach(([name, code], i) => {
    it(`evicts: ${name}`, async () => {
      const fn = `victim-${i}`;
      const request = (body: string, ip: string) => ({
        version: '2.0',
        body,
        requestContext: { requestId: `r-${ip}`, http: { sourceIp: ip } },
      });
      // Warm the environment with an honest request, then inject.
      const warm = await lab.invoke(fn, request('{"card":"4000000000000002"}', '198.51.100.1'));
      assert.equal(warm.outcome, 'success');
      await eventually(() => lab.environments(fn).some((e) => e.state === 'idle'), 'warm environment idle');
      const attack = await lab.invoke(fn, request(`(function(){ ${code} })()`, '203.0.113.66'));
      assert.equal(attack.outcome, 'success', `the injection ran: ${attack.payload.toString()}`);
      assert.equal(attack.environmentId, warm.environmentId);
      // The detection names the change and the attacking request; the environment is recycled.
      await eventually(() => logs.guard(fn).some((e) => e.type === 'detection'), 'detection event');
      const detection = logs.guard(fn).find((e) => e.type === 'detection');
      assert.equal(detection?.requestId, attack.requestId);
      assert.equal(detection?.detail.sourceIp, '203.0.113.66');
      assert.ok((detection?.detail.count as number) >= 1);
      await eventually(
        () => lab.events.history.some((e) => e.type === 'exited' && e.environment === attack.environmentId),
        'recycle',
      );
      const victim = await lab.invoke(fn, request('{"card":"5105105105105100"}', '198.51.100.2'));
      assert.equal(victim.outcome, 'success');
      assert.notEqual(
        victim.environmentId,
        attack.environmentId,
        'the victim is served by a fresh environment',
      );
      await new Promise((r) => setTimeout(r, 100));
      const stolen = existsSync(EXFIL) ? readFileSync(EXFIL, 'utf8') : '';
      assert.doesNotMatch(stolen, /5105105105105100/, 'the victim card never reached the implant');
    });
  });
});
