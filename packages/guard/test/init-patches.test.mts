/**
 * The init-time patch inventory end to end: real runtime processes (aws-lambda-ric) in the lab, the
 * guard installed through NODE_OPTIONS=--require (register mode, so it loads before the function's
 * code). The poisoned fixture's dependency (evil-telemetry) patches https.request and JSON.stringify
 * when required and ships copies to a collector on loopback from a timer; a second function uses a
 * real tracing package (aws-xray-sdk-core) that patches https at INIT on purpose.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '@ephemera/lab';
import { collectLogs, eventually, fixture, type GuardLine, REGISTER, sleep } from './helpers.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A function that traces outgoing HTTPS calls with X-Ray, set up at INIT as its docs say. */
function writeXrayFunction(dir: string): void {
  writeFileSync(
    join(dir, 'index.js'),
    `const { createRequire } = require('node:module');
const requireFromRepo = createRequire(${JSON.stringify(join(REPO_ROOT, 'package.json'))});
const AWSXRay = requireFromRepo('aws-xray-sdk-core');
AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
AWSXRay.captureHTTPsGlobal(require('https'));
exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ traced: true }) });
`,
  );
}

interface InitPatchesInfo {
  action: string;
  patches: string[];
  refused: string[];
  allowed: number;
}

describe('init-time patches in the lab with the real aws-lambda-ric (register mode)', () => {
  let lab: Lab;
  let logs: ReturnType<typeof collectLogs>;
  let collector: Server;
  const received: string[] = [];

  const initInfo = (fn: string): InitPatchesInfo => {
    const init = logs.guard(fn).find((e) => e.type === 'init');
    assert.ok(init, `an init event from ${fn}`);
    const info = (init.detail.controlInfo as Record<string, unknown>).initPatches as InitPatchesInfo;
    assert.ok(info, `initPatches in the init event of ${fn}`);
    return info;
  };

  before(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const port = (collector.address() as AddressInfo).port;
    const poisoned = (name: string, environment: Record<string, string>) => ({
      name,
      codeDir: fixture('poisoned-dep'),
      handler: 'index.handler',
      timeoutSeconds: 10,
      environment: {
        NODE_OPTIONS: `--require ${REGISTER}`,
        EVIL_COLLECTOR_PORT: String(port),
        EPHEMERA_MAX_INVOCATIONS: 'off',
        EPHEMERA_MAX_AGE_SECONDS: 'off',
        ...environment,
      },
    });
    const xrayDir = mkdtempSync(join(tmpdir(), 'ephemera-xray-fn-'));
    writeXrayFunction(xrayDir);
    lab = await createLab({
      // The fixture ships its copies from a timer: environments are not frozen between invocations.
      freeze: false,
      functions: [
        poisoned('poisoned-alert', {}),
        poisoned('poisoned-block', { EPHEMERA_INIT_PATCHES: 'block' }),
        // Without the egress control the exfiltration works: the fixture is a real one.
        poisoned('poisoned-open', { EPHEMERA_EGRESS: 'off' }),
        // The collector's address is an allowed destination here; only egress.packages stops it.
        poisoned('poisoned-packages', {
          EPHEMERA_EGRESS_ALLOW: `*.amazonaws.com,127.0.0.1:${port}`,
          EPHEMERA_EGRESS_PACKAGES: '@aws-sdk/*,@smithy/*',
        }),
        {
          name: 'xray',
          codeDir: xrayDir,
          handler: 'index.handler',
          timeoutSeconds: 10,
          environment: {
            NODE_OPTIONS: `--require ${REGISTER}`,
            EPHEMERA_INIT_PATCHES: 'block',
            EPHEMERA_MAX_INVOCATIONS: 'off',
            EPHEMERA_MAX_AGE_SECONDS: 'off',
          },
        },
      ],
    });
    logs = collectLogs(lab);
  });

  after(async () => {
    await lab?.close();
    collector.closeAllConnections();
    collector.close();
  });

  it("lists the poisoned dependency's patches in the init event, attributed to it (alert)", async () => {
    const result = await lab.invoke('poisoned-alert', { pathParameters: { id: '7' } });
    assert.equal(result.outcome, 'success', result.error?.errorMessage);
    const info = initInfo('poisoned-alert');
    assert.equal(info.action, 'alert');
    assert.ok(
      info.patches.includes('node_modules/evil-telemetry patched https.request'),
      info.patches.join('\n'),
    );
    assert.ok(
      info.patches.includes('node_modules/evil-telemetry patched JSON.stringify'),
      info.patches.join('\n'),
    );
    // Made by evil-telemetry's init() when the function's code called it: still the package's.
    assert.ok(
      info.patches.includes('node_modules/evil-telemetry patched http.get (called from function code)'),
      info.patches.join('\n'),
    );
    assert.deepEqual(info.refused, ['evil-telemetry']);
    const alert = logs.guard('poisoned-alert').find((e) => e.type === 'alert' && e.control === 'initPatches');
    assert.ok(alert, 'an initPatches alert');
    assert.deepEqual(alert.detail.packages, ['evil-telemetry']);
  });

  it('refuses to start the function with EPHEMERA_ERR_INIT_PATCH naming the package (block)', async () => {
    const result = await lab.invoke('poisoned-block', {});
    assert.equal(result.outcome, 'init-error');
    assert.equal(result.error?.errorType, 'EPHEMERA_ERR_INIT_PATCH');
    assert.match(
      result.error?.errorMessage ?? '',
      /node_modules\/evil-telemetry patched (https\.request|JSON\.stringify)/,
    );
    assert.match(result.error?.errorMessage ?? '', /evil-telemetry/);
    const block = logs.guard('poisoned-block').find((e) => e.type === 'block' && e.control === 'initPatches');
    assert.ok(block, 'a block event carrying the inventory');
  });

  it("blocks the dependency's exfiltration and names the package in the egress event", async () => {
    const before = received.length;
    const open = await lab.invoke('poisoned-open', { pathParameters: { id: '9' } });
    assert.equal(open.outcome, 'success', open.error?.errorMessage);
    await eventually(
      () => received.slice(before).some((b) => b.includes('4111-1111-1111-1111')),
      'the collector receives the copies',
      5000,
    );
    assert.ok(
      received.some((b) => b.includes('4111-1111-1111-1111')),
      `the fixture really exfiltrates: ${received.join(' | ')}`,
    );

    const count = received.length;
    const result = await lab.invoke('poisoned-alert', { pathParameters: { id: '8' } });
    assert.equal(result.outcome, 'success', result.error?.errorMessage);
    let blocked: GuardLine | undefined;
    await eventually(() => {
      blocked = logs.guard('poisoned-alert').find((e) => e.type === 'block' && e.control === 'egress');
      return blocked !== undefined;
    }, 'an egress block event');
    assert.equal(blocked?.detail.package, 'evil-telemetry');
    assert.equal((blocked?.detail.destination as { host?: string } | undefined)?.host, '127.0.0.1');
    await sleep(600); // two more flushes of the fixture's timer
    assert.equal(received.length, count, 'nothing reached the collector from the guarded function');
  });

  it('judges a connection a dependency opens while it loads: blocked at INIT, naming the package', async () => {
    // Unguarded egress: the beacon is real and reaches the collector during INIT.
    await eventually(
      () => received.includes('beacon from poisoned-open'),
      "the unguarded function's beacon reaches the collector",
      5000,
    );
    const result = await lab.invoke('poisoned-alert', { pathParameters: { id: '6' } });
    assert.equal(result.outcome, 'success', result.error?.errorMessage);
    const blocked = logs
      .guard('poisoned-alert')
      .find((e) => e.type === 'block' && e.control === 'egress' && e.detail.phase === 'init');
    assert.ok(blocked, 'an egress block event at INIT');
    assert.equal(blocked.detail.package, 'evil-telemetry');
    assert.equal(blocked.invocation, 0, 'before any invocation');
    assert.ok(!received.includes('beacon from poisoned-alert'), 'the guarded beacon never arrived');
  });

  it('refuses connections from packages not in egress.packages, whatever the destination', async () => {
    const count = received.length;
    const result = await lab.invoke('poisoned-packages', { pathParameters: { id: '5' } });
    assert.equal(result.outcome, 'success', result.error?.errorMessage);
    let blocked: GuardLine | undefined;
    await eventually(() => {
      blocked = logs.guard('poisoned-packages').find((e) => e.type === 'block' && e.control === 'egress');
      return blocked !== undefined;
    }, 'an egress block event');
    assert.equal(blocked?.detail.reason, 'package-not-allowed');
    assert.equal(blocked?.detail.package, 'evil-telemetry');
    await sleep(600);
    assert.equal(received.length, count, 'nothing reached the collector');
  });

  it("lists and allows a tracing agent's patches made when the function calls it, with no detection at invoke time", async () => {
    for (let i = 0; i < 3; i++) {
      const result = await lab.invoke('xray', {});
      assert.equal(result.outcome, 'success', `${result.error?.errorType}: ${result.error?.errorMessage}`);
    }
    const info = initInfo('xray');
    // captureHTTPsGlobal() patches when the function's own code calls it, while the function's module
    // body runs: the patch is still X-Ray's (its source wrote the wrapper), allowed by the default list.
    assert.ok(
      info.patches.includes(
        'node_modules/aws-xray-sdk-core patched https.request (called from function code)',
      ),
      info.patches.join('\n'),
    );
    // What X-Ray set aside (`https.__request`, the original) is a function already there: nothing new
    // was written, so it stays the function code's. No replacement is the function code's.
    assert.ok(!info.patches.some((p) => p.startsWith('function code patched')), info.patches.join('\n'));
    assert.deepEqual(info.refused, []);
    const events = logs.guard('xray');
    assert.equal(
      events.filter((e) => e.type === 'detection').length,
      0,
      JSON.stringify(events.filter((e) => e.type === 'detection')),
    );
    assert.equal(events.filter((e) => e.control === 'initPatches' && e.type !== 'init').length, 0);
  });
});
