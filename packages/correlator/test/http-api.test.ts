import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  type Correlator,
  CorrelatorError,
  createCorrelator,
  type Incident,
  parseBatch,
} from '../src/index.js';
import { codegen, detection, envId, event, T0 } from './synthetic.js';

const TOKEN = 'test-token-0123456789';

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

/** What the API answers, loosely (each test reads the fields its route returns). */
interface ApiBody {
  accepted: number;
  duplicates: number;
  ignored: number;
  invalid: number;
  incidents: (string & Incident)[];
  evidence: unknown[];
  sources: string[];
  error: { code: string; message: string };
}

/** A CloudWatch Logs subscription delivery, encoded exactly as CloudWatch sends it. */
function awslogs(messages: string[], messageType = 'DATA_MESSAGE', logGroup = '/aws/lambda/payments') {
  const payload = {
    messageType,
    owner: '123456789012',
    logGroup,
    logStream: '2026/11/30/[$LATEST]0123456789abcdef',
    subscriptionFilters: ['ephemera'],
    logEvents: messages.map((message, i) => ({ id: `3${i}`.padEnd(56, '0'), timestamp: T0 + i, message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}

describe('POST /v1/events', () => {
  let c: Correlator;
  let url: string;
  before(async () => {
    c = await createCorrelator({
      db: ':memory:',
      token: TOKEN,
      maxBodyBytes: 64 * 1024,
      maxBatchEvents: 100,
    });
    url = await c.listen(0);
  });
  after(() => c.close());

  it('refuses a batch without the bearer token, or with the wrong one (401, nothing stored)', async () => {
    const before = await c.store.countEvents();
    for (const headers of [
      { authorization: '' },
      { authorization: 'Bearer wrong-token-0000000' },
      { authorization: `Basic ${TOKEN}` },
    ]) {
      const r = await post(url, JSON.stringify([event('init', T0)]), headers);
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'EPHEMERA_ERR_CORRELATOR_UNAUTHORIZED');
      assert.match(r.body.error.message, /bearer token/);
    }
    assert.equal(await c.store.countEvents(), before);
  });

  it('stores a JSON array, and a retried batch stores nothing twice', async () => {
    const batch = [event('init', T0, { requestId: null }), codegen(T0 + 1, envId(1), '203.0.113.5', 'fp-a')];
    const first = await post(url, JSON.stringify(batch));
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.accepted, first.body.duplicates], [2, 0]);
    const retry = await post(url, JSON.stringify(batch));
    assert.deepEqual([retry.body.accepted, retry.body.duplicates], [0, 2]);
  });

  it('stores JSON lines', async () => {
    const lines = [event('init', T0), event('recycle', T0 + 5)].map((e) => JSON.stringify(e)).join('\n');
    const r = await post(url, `${lines}\n`, { 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 2);
  });

  it('refuses malformed JSON lines naming the line; nothing of the batch is stored', async () => {
    const before = await c.store.countEvents();
    const body = `${JSON.stringify(event('init', T0))}\n{"ephemera":1,"id":\n`;
    const r = await post(url, body);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'EPHEMERA_ERR_CORRELATOR_MALFORMED');
    assert.match(r.body.error.message, /^line 2 is not JSON/);
    assert.equal(await c.store.countEvents(), before);
  });

  it('refuses a schema violation naming the event and the key; nothing of the batch is stored', async () => {
    const before = await c.store.countEvents();
    const bad = { ...event('alert', T0), type: 'exfiltrate' };
    const r = await post(url, JSON.stringify([event('init', T0), bad]));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'EPHEMERA_ERR_CORRELATOR_SCHEMA');
    assert.match(r.body.error.message, /^event 1: type is "exfiltrate"; accepted: init, recycle/);
    const extra = await post(url, JSON.stringify({ ...event('init', T0), admin: true }));
    assert.match(extra.body.error.message, /unknown key "admin"/);
    assert.equal(await c.store.countEvents(), before);
  });

  it('refuses an oversized body (413) and a batch with too many events', async () => {
    const big = JSON.stringify(
      Array.from({ length: 400 }, () => event('init', T0, { detail: { pad: 'x'.repeat(200) } })),
    );
    const r = await post(url, big);
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'EPHEMERA_ERR_CORRELATOR_TOO_LARGE');
    assert.match(r.body.error.message, /larger than 65536 bytes/);
    const many = await post(url, JSON.stringify(Array.from({ length: 101 }, () => event('init', T0))));
    assert.equal(many.status, 413);
    assert.match(many.body.error.message, /holds 101 events; accepted: at most 100/);
  });

  it('refuses an oversized body sent without Content-Length (chunked)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${url}/v1/events`);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('[');
      for (let i = 0; i < 100; i++)
        req.write(`${JSON.stringify(event('init', T0, { detail: { pad: 'y'.repeat(1000) } }))},`);
      req.end('null]');
    });
    assert.equal(status, 413);
  });

  it('decodes a CloudWatch Logs subscription payload: guard lines stored, other output ignored', async () => {
    const e1 = detection(T0, envId(7), '203.0.113.9');
    const e2 = event('init', T0, { requestId: null });
    const body = awslogs([
      'START RequestId: 1 Version: $LATEST',
      JSON.stringify(e1),
      `2026-11-30T04:00:00.000Z\tabc\tINFO\t${JSON.stringify(e2)}`,
      '{"ephemera":1,"broken":true}',
      'END RequestId: 1',
    ]);
    const r = await post(url, JSON.stringify(body));
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.accepted, r.body.ignored, r.body.invalid], [2, 2, 1]);
    const again = await post(url, JSON.stringify(body));
    assert.deepEqual(
      [again.body.accepted, again.body.duplicates],
      [0, 2],
      'CloudWatch redelivery is idempotent',
    );
    const control = await post(
      url,
      JSON.stringify(awslogs(['CWL CONTROL MESSAGE: Checking health of destination'], 'CONTROL_MESSAGE')),
    );
    assert.equal(control.status, 200);
    assert.equal(control.body.accepted, 0);
  });

  it('turns API Gateway JSON access-log lines into invocation records with stable ids', async () => {
    const line = JSON.stringify({
      requestId: 'apigw-1',
      ip: '203.0.113.77',
      requestTimeEpoch: T0,
      routeKey: 'POST /pay',
      status: '200',
      requestLength: '2',
    });
    const body = JSON.stringify(awslogs([line], 'DATA_MESSAGE', 'API-Gateway-Execution-Logs/payments'));
    assert.equal((await post(url, body)).body.accepted, 1);
    assert.equal((await post(url, body)).body.duplicates, 1);
  });

  it('refuses a CloudWatch payload that is not base64 gzip, or a gzip bomb', async () => {
    const r = await post(url, JSON.stringify({ awslogs: { data: 'bm90IGd6aXA=' } }));
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /awslogs\.data is not base64 of gzip data/);
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20));
    const b = await post(url, JSON.stringify({ awslogs: { data: bomb.toString('base64') } }));
    assert.equal(b.status, 413);
    assert.match(b.body.error.message, /inflates beyond/);
  });

  it('answers a Firehose HTTP endpoint request the way Firehose expects', async () => {
    const record = { data: awslogs([JSON.stringify(event('init', T0))]).awslogs.data };
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'x-amz-firehose-access-key': TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: 'fh-1', timestamp: T0, records: [record] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { requestId: string; timestamp: number };
    assert.equal(body.requestId, 'fh-1');
    assert.equal(typeof body.timestamp, 'number');
  });

  it('serves incidents with filters, one incident with its evidence, and clear 4xx', async () => {
    const attack = [1, 2, 3].map((i) => codegen(T0 + i, envId(20 + i), '203.0.113.66', 'fp-fan'));
    const r = await post(url, JSON.stringify(attack));
    assert.equal(r.body.incidents.length, 1);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = (await (
      await fetch(`${url}/v1/incidents?rule=fanOut&function=payments`, { headers: auth })
    ).json()) as ApiBody;
    assert.equal(list.incidents.length, 1);
    const one = (await (
      await fetch(`${url}/v1/incidents/${list.incidents[0]?.id}`, { headers: auth })
    ).json()) as ApiBody;
    assert.equal(one.evidence.length, 3);
    assert.deepEqual(one.sources, ['203.0.113.66']);
    const none = await fetch(`${url}/v1/incidents?rule=fanOut&since=2030-01-01T00:00:00Z`, { headers: auth });
    assert.equal(((await none.json()) as ApiBody).incidents.length, 0);
    const missing = await fetch(`${url}/v1/incidents/inc_nope`, { headers: auth });
    assert.equal(missing.status, 404);
    const badQuery = await fetch(`${url}/v1/incidents?since=yesterday`, { headers: auth });
    assert.equal(badQuery.status, 400);
    assert.match(
      ((await badQuery.json()) as ApiBody).error.message,
      /since is "yesterday"; accepted: an ISO 8601/,
    );
    const unknown = await fetch(`${url}/v1/incidents?severity=high`, { headers: auth });
    assert.equal(unknown.status, 400);
    assert.equal((await fetch(`${url}/v1/incidents`)).status, 401, 'reads need the token too');
    assert.equal((await fetch(`${url}/v1/events`, { headers: auth })).status, 405);
  });
});

describe('webhook', () => {
  it('posts new and changed incidents, retrying with backoff, without blocking ingest', async () => {
    const received: { auth: string | undefined; body: { event: string; incident: Incident } }[] = [];
    let calls = 0;
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls++;
        // The first two deliveries fail: the webhook must retry.
        if (calls <= 2) {
          res.writeHead(503).end();
          return;
        }
        received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    const c = await createCorrelator({
      db: ':memory:',
      webhook: { url: `http://127.0.0.1:${port}/hook`, token: 'hook-secret', backoffMs: 20 },
    });
    const started = Date.now();
    await c.ingest([detection(T0, envId(1), '203.0.113.66'), detection(T0 + 1, envId(2), '203.0.113.66')]);
    assert.ok(Date.now() - started < 1000, 'ingest does not wait for the webhook');
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received.length, 1);
    assert.equal(received[0]?.auth, 'Bearer hook-secret');
    assert.equal(received[0]?.body.event, 'incident.created');
    assert.equal(received[0]?.body.incident.rule, 'infection');
    assert.ok(calls >= 3);
    await c.close();
    hook.close();
  });

  it('an unreachable webhook never fails or slows an ingest', async () => {
    const c = await createCorrelator({
      db: ':memory:',
      webhook: { url: 'http://127.0.0.1:9/', backoffMs: 10, attempts: 3 },
    });
    const r = await c.ingest([
      detection(T0, envId(1), '203.0.113.66'),
      detection(T0 + 1, envId(2), '203.0.113.66'),
    ]);
    assert.equal(r.incidents.length, 1);
    await c.close();
  });
});

describe('parseBatch (fuzzed)', () => {
  it('either parses or throws a CorrelatorError with a 4xx code, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify([v])),
        ),
        (body) => {
          try {
            parseBatch(body, { maxEvents: 100, maxInflated: 1 << 20 });
          } catch (err) {
            assert.ok(err instanceof CorrelatorError, String(err));
            assert.match(err.code, /MALFORMED|SCHEMA|TOO_LARGE/);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
