/**
 * The benign-function corpus: real functions (examples/benign/*), protected by the guard without code
 * changes (register mode), each invoked 1,000+ times with realistic events at concurrency 4. Every
 * one of them changes its warm environment legitimately — SDK clients and keep-alive sockets, pools,
 * fetch's global dispatcher created on first use, lazy requires, module-scope caches, timers, tracer
 * and logger state — and the guard's integrity control must report none of it: zero `detection`
 * events, zero recycles, every invocation answered.
 *
 * The functions talk to real servers where one can run here: PostgreSQL (started by .ci/run), HTTP
 * services on 127.0.0.1 served by this file. AWS itself cannot exist here, so DynamoDB is the one
 * stand-in: a tiny local server answering the JSON 1.0 protocol for PutItem and GetItem.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createLab, type InvokeResult, type Lab } from '@ephemera/lab';
import { collectLogs, eventually, REGISTER, sleep, traffic } from './helpers.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INVOCATIONS = 1_000;
const CONCURRENCY = 4;

// Defaults match what .ci/run sets up.
const PG = {
  PGHOST: process.env.PGHOST ?? '127.0.0.1',
  PGPORT: process.env.PGPORT ?? '5432',
  PGUSER: process.env.PGUSER ?? 'ephemera',
  PGPASSWORD: process.env.PGPASSWORD ?? 'ephemera',
  PGDATABASE: process.env.PGDATABASE ?? 'ephemera',
};

// biome-ignore lint/suspicious/noExplicitAny: events and responses are checked field by field below
type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------------------
// Local servers
// ---------------------------------------------------------------------------------------------------

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

async function listen(server: Server): Promise<string> {
  // Longer than any pause between two invocations of one function, as a load balancer's idle timeout
  // is: a server closing idle keep-alive sockets races the client's reuse of them (ECONNRESET).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/**
 * A stand-in for DynamoDB — the only fake in this corpus, because AWS cannot run here. It answers
 * the JSON 1.0 protocol (`X-Amz-Target: DynamoDB_20120810.<Operation>`) for PutItem and GetItem on
 * the tables it is given, keeping items as the attribute-value JSON the SDK sends; anything else
 * gets DynamoDB's error shape.
 */
function fakeDynamoDb(tables: Record<string, string[]>) {
  const items = new Map<string, Map<string, unknown>>();
  const counts = { PutItem: 0, GetItem: 0, unsigned: 0 };
  const fail = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential='))
      counts.unsigned += 1;
    const operation = String(req.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
    const input = JSON.parse(body || '{}') as Json;
    const keyNames = tables[input.TableName];
    if (operation !== 'PutItem' && operation !== 'GetItem') {
      return fail(res, 400, 'UnknownOperationException', `operation ${operation} is not served here`);
    }
    if (!keyNames) return fail(res, 400, 'ResourceNotFoundException', 'Requested resource not found');
    const source = operation === 'PutItem' ? input.Item : input.Key;
    if (typeof source !== 'object' || keyNames.some((k) => source[k] === undefined)) {
      return fail(res, 400, 'ValidationException', 'The provided key element does not match the schema');
    }
    const key = JSON.stringify(keyNames.map((k) => source[k]));
    const table = items.get(input.TableName) ?? new Map<string, unknown>();
    items.set(input.TableName, table);
    counts[operation] += 1;
    let item: unknown;
    if (operation === 'PutItem') table.set(key, input.Item);
    else item = table.get(key);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(item === undefined ? {} : { Item: item }));
  });
  return { server, counts };
}

const SKUS = Array.from({ length: 40 }, (_, i) => `SKU-${i + 1}`);
const priceOf = (sku: string) => 100 + Number(sku.slice(4)) * 37;
const stockOf = (sku: string, warehouse: string) => (Number(sku.slice(4)) * 7 + warehouse.length) % 50;
const TAX: Record<string, number> = { DE: 0.19, FR: 0.2, NL: 0.21, IE: 0.23 };
const WEBHOOK_SECRET = 'corpus-webhook-secret';

/** The HTTP services the functions call: catalog and stock, pricing and tax, webhook receivers. */
function services() {
  const seen = { catalog: 0, prices: 0, tax: 0, hooks: 0, badSignatures: 0 };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://services');
    const [, kind, id] = url.pathname.split('/').map(decodeURIComponent);
    if (kind === 'products' && id) {
      seen.catalog += 1;
      if (!SKUS.includes(id)) return send(res, 404, { error: 'not found' });
      return send(res, 200, { sku: id, name: `Product ${id}`, priceCents: priceOf(id) });
    }
    if (kind === 'stock' && id) {
      seen.catalog += 1;
      return send(res, 200, { sku: id, available: stockOf(id, url.searchParams.get('warehouse') ?? 'main') });
    }
    if (kind === 'prices') {
      seen.prices += 1;
      const skus = (url.searchParams.get('skus') ?? '').split(',').filter((s) => SKUS.includes(s));
      return send(res, 200, Object.fromEntries(skus.map((s) => [s, priceOf(s)])));
    }
    if (kind === 'tax' && id) {
      seen.tax += 1;
      return TAX[id] === undefined ? send(res, 404, { error: 'no rate' }) : send(res, 200, { rate: TAX[id] });
    }
    if (kind === 'hooks' && id && req.method === 'POST') {
      seen.hooks += 1;
      const body = await readBody(req);
      const expected = createHmac('sha256', WEBHOOK_SECRET)
        .update(`${req.headers['webhook-timestamp']}.${body}`)
        .digest('hex');
      if (req.headers['webhook-signature'] !== `v1=${expected}`) seen.badSignatures += 1;
      return id === 'gone-away' ? send(res, 410, { error: 'subscription ended' }) : send(res, 202, {});
    }
    send(res, 404, { error: 'no such service' });
  });
  return { server, seen };
}

/** Fail with what is missing when PostgreSQL cannot be reached (the pg function needs a real one). */
async function assertPostgresReachable(): Promise<void> {
  const port = Number(PG.PGPORT);
  const reachable = await new Promise<string | true>((resolve) => {
    const socket = connect({ host: PG.PGHOST, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timed out');
    });
    socket.once('error', (error) => resolve(error.message));
  });
  assert.equal(
    reachable,
    true,
    `PostgreSQL is not reachable at ${PG.PGHOST}:${PG.PGPORT} (PGHOST/PGPORT): ${reachable}. ` +
      'The pg-ledger function needs a real server with role PGUSER/PGPASSWORD and database PGDATABASE ' +
      `(${PG.PGUSER}/${PG.PGDATABASE}); .ci/run installs and starts one (apt-get install postgresql, pg_ctlcluster).`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------

/** A small seeded PRNG: varied events, the same sequence on every run. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T,>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T,
  };
}

interface HttpRequest {
  method: string;
  path: string;
  routeKey?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  pathParameters?: Record<string, string>;
}

/** An API Gateway HTTP API (payload 2.0) event, shaped like the ones AWS delivers. */
function httpEvent(req: HttpRequest, i: number): Json {
  const rawQueryString = new URLSearchParams(req.query ?? {}).toString();
  const now = Date.now();
  const userAgent = i % 3 === 0 ? 'Mozilla/5.0 (X11; Linux x86_64)' : 'okhttp/4.12.0';
  return {
    version: '2.0',
    routeKey: req.routeKey ?? '$default',
    rawPath: req.path,
    rawQueryString,
    headers: {
      accept: 'application/json',
      'content-length': String(Buffer.byteLength(req.body ?? '')),
      host: 'api.example.test',
      'user-agent': userAgent,
      'x-amzn-trace-id': `Root=1-${Math.floor(now / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      'x-forwarded-for': `198.51.100.${i % 250}`,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
    },
    ...(rawQueryString ? { queryStringParameters: req.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'corpus01',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: req.method,
        path: req.path,
        protocol: 'HTTP/1.1',
        sourceIp: `198.51.100.${i % 250}`,
        userAgent,
      },
      requestId: `${randomUUID().slice(0, 8)}=`,
      routeKey: req.routeKey ?? '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(req.pathParameters ? { pathParameters: req.pathParameters } : {}),
    ...(req.body !== undefined ? { body: req.body } : {}),
    isBase64Encoded: false,
  };
}

function sqsEvent(bodies: string[], queue: string): Json {
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: 'not-checked',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`,
      awsRegion: 'us-east-1',
    })),
  };
}

/** One function of the corpus: how it is deployed, what it receives, what a right answer is. */
interface CorpusFunction {
  name: string;
  handler: string;
  environment?: Record<string, string>;
  event(i: number): Json;
  /** Throws (assert) when the response is not what this event should produce. */
  check(response: Json, event: Json, i: number): void;
}

const payloadOf = (r: InvokeResult) => JSON.parse(r.payload.toString('utf8')) as Json;
const bodyOf = (response: Json) =>
  JSON.parse(
    response.isBase64Encoded
      ? gunzipSync(Buffer.from(response.body, 'base64')).toString('utf8')
      : String(response.body),
  ) as Json;

// ---------------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------------

const runId = randomUUID().slice(0, 8);

function corpus(endpoints: { dynamodb: string; services: string }): CorpusFunction[] {
  const dynamoPut: string[] = [];
  const notes = prng(11);
  const catalog = prng(12);
  const feed = prng(13);
  const feedCursors: Json[] = [];
  const payments = prng(14);
  const orders = prng(15);
  const ledger = prng(16);
  const pricing = prng(17);
  const reports = prng(18);
  const audit = prng(19);
  const hooks = prng(20);
  const NOTES_TOKEN = 'corpus-notes-token';
  const SIGNING_KEY = 'corpus-payments-key';

  return [
    {
      name: 'express-notes',
      handler: 'examples/benign/express-notes/index.handler',
      environment: { NOTES_API_TOKEN: NOTES_TOKEN },
      event(i) {
        const auth = { authorization: `Bearer ${NOTES_TOKEN}` };
        const note = () =>
          JSON.stringify({
            title: `note ${i}`,
            text: 'x'.repeat(notes.int(400)),
            tags: [notes.pick(['a', 'b', 'c'])],
          });
        const requests: Array<[HttpRequest, number]> = [
          [{ method: 'GET', path: '/health' }, 200],
          [{ method: 'POST', path: '/notes', headers: auth, body: note() }, 201],
          [{ method: 'POST', path: '/notes', headers: auth, body: note() }, 201],
          [{ method: 'POST', path: '/notes', body: note() }, 401],
          [{ method: 'POST', path: '/notes', headers: auth, body: JSON.stringify({ title: '' }) }, 400],
          [{ method: 'GET', path: '/notes', query: { tag: notes.pick(['a', 'b', 'c']), limit: '5' } }, 200],
          [{ method: 'GET', path: `/notes/${randomUUID()}` }, 404],
          [{ method: 'PUT', path: `/notes/${randomUUID()}`, headers: auth, body: note() }, 404],
          [{ method: 'DELETE', path: `/notes/${randomUUID()}`, headers: auth }, 404],
          [{ method: 'GET', path: '/reports/broken' }, 500],
          [{ method: 'GET', path: '/no/such/route' }, 404],
        ];
        const [req, status] = requests[i % requests.length] as [HttpRequest, number];
        return { ...httpEvent(req, i), expect: status };
      },
      check(response, event) {
        assert.equal(response.statusCode, event.expect, response.body);
        const body = bodyOf(response);
        if (response.statusCode === 201) assert.match(body.id, /^[0-9a-f-]{36}$/);
        if (response.statusCode >= 400) assert.equal(typeof body.error, 'string');
        assert.ok(response.headers['x-request-id'], 'the middleware ran');
      },
    },
    {
      name: 'fetch-catalog',
      handler: 'examples/benign/fetch-catalog/index.handler',
      environment: { CATALOG_URL: endpoints.services },
      event(i) {
        const sku = i % 17 === 0 ? 'SKU-404' : catalog.pick(SKUS);
        return httpEvent(
          {
            method: 'GET',
            path: `/products/${sku}`,
            routeKey: 'GET /products/{sku}',
            pathParameters: { sku },
            ...(i % 2 ? { query: { warehouse: catalog.pick(['main', 'east', 'returns']) } } : {}),
          },
          i,
        );
      },
      check(response, event) {
        const sku = event.pathParameters.sku;
        if (sku === 'SKU-404') return assert.equal(response.statusCode, 404);
        assert.equal(response.statusCode, 200, response.body);
        const body = bodyOf(response);
        assert.equal(body.priceCents, priceOf(sku));
        assert.equal(body.stock, stockOf(sku, event.queryStringParameters?.warehouse ?? 'main'));
      },
    },
    {
      name: 'undici-pricing',
      handler: 'examples/benign/undici-pricing/index.handler',
      environment: { PRICING_URL: endpoints.services },
      event() {
        const lines = Array.from({ length: 1 + pricing.int(4) }, () => ({
          sku: pricing.next() < 0.1 ? 'SKU-RETIRED' : pricing.pick(SKUS),
          quantity: 1 + pricing.int(5),
        }));
        return { lines, country: pricing.pick(Object.keys(TAX)) };
      },
      check(response, event) {
        assert.equal(response.ok, true);
        const net = event.lines.reduce(
          (sum: number, l: Json) => sum + (SKUS.includes(l.sku) ? priceOf(l.sku) * l.quantity : 0),
          0,
        );
        assert.equal(response.netCents, net);
        assert.equal(response.taxCents, Math.round(net * (TAX[event.country] as number)));
      },
    },
    {
      name: 'feed-aggregator',
      handler: 'examples/benign/feed-aggregator/index.handler',
      environment: { CURSOR_KEY: 'corpus-cursor-key' },
      event(i) {
        const query: Record<string, string> = {};
        const follow = i % 5 === 4 ? feedCursors[feed.int(feedCursors.length)] : undefined;
        if (follow) Object.assign(query, follow);
        else {
          query.sources =
            ['orders', 'reviews', 'tickets', 'deploys', 'payments']
              .filter(() => feed.next() < 0.6)
              .join(',') || 'orders';
          query.since = new Date(Date.UTC(2025, feed.int(12), 1 + feed.int(28))).toISOString();
          if (i % 23 === 0) query.cursor = 'forged.cursor';
        }
        return httpEvent(
          {
            method: 'GET',
            path: '/feed',
            routeKey: 'GET /feed',
            query,
            ...(i % 2 ? { headers: { 'accept-encoding': 'gzip, deflate, br' } } : {}),
          },
          i,
        );
      },
      check(response, event) {
        if (event.queryStringParameters.cursor === 'forged.cursor')
          return assert.equal(response.statusCode, 400);
        assert.equal(response.statusCode, 200, response.body);
        const body = bodyOf(response);
        assert.ok(Array.isArray(body.entries) && body.count === body.entries.length);
        assert.ok(!Number.isNaN(Date.parse(body.generatedAt)));
        if (body.next) feedCursors.push({ ...event.queryStringParameters, cursor: body.next });
      },
    },
    {
      name: 'powertools-payments',
      handler: 'examples/benign/powertools-payments/index.handler',
      environment: {
        PAYMENTS_SIGNING_KEY: SIGNING_KEY,
        POWERTOOLS_SERVICE_NAME: 'payments',
        POWERTOOLS_METRICS_NAMESPACE: 'Ephemera/Benign',
        // Tracing stays on (see the function's header): no daemon here, so a missing context must not throw.
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      },
      event(i) {
        const body = JSON.stringify({
          merchant: payments.pick(['m-coffee', 'm-books', 'm-travel']),
          amountCents: payments.next() < 0.1 ? 900_00 : 100 + payments.int(40_000),
          currency: payments.pick(['EUR', 'USD']),
          card: `4111${String(payments.int(1e8)).padStart(8, '0')}`,
        });
        const signature = createHmac('sha256', i % 13 === 0 ? 'wrong-key' : SIGNING_KEY)
          .update(body)
          .digest('hex');
        return httpEvent(
          {
            method: 'POST',
            path: '/payments',
            routeKey: 'POST /payments',
            body,
            headers: { 'x-signature': signature },
          },
          i,
        );
      },
      check(response, _event, i) {
        if (i % 13 === 0) return assert.equal(response.statusCode, 401);
        assert.equal(response.statusCode, 200, response.body);
        assert.ok(['approved', 'declined'].includes(bodyOf(response).decision));
      },
    },
    {
      name: 'dynamodb-orders',
      handler: 'examples/benign/dynamodb-orders/index.handler',
      environment: { DYNAMODB_ENDPOINT: endpoints.dynamodb, ORDERS_TABLE: 'orders' },
      event(i) {
        // Every third event reads back an order that an earlier invocation has stored.
        if (i % 3 === 2 && dynamoPut.length > 0) {
          return { action: 'getOrder', orderId: dynamoPut[orders.int(dynamoPut.length)] };
        }
        const bodies = Array.from({ length: 1 + orders.int(3) }, (_, n) => {
          if (i % 29 === 0 && n === 0) return JSON.stringify({ note: 'no customer, no lines' });
          return JSON.stringify({
            orderId: `${runId}-${i}-${n}`,
            customerId: `cust-${orders.int(300)}`,
            lines: Array.from({ length: 1 + orders.int(4) }, () => ({
              sku: orders.pick(SKUS),
              quantity: 1 + orders.int(3),
              unitPrice: (199 + orders.int(5_000)) / 100,
            })),
            giftWrap: orders.next() < 0.2,
            note: orders.next() < 0.5 ? undefined : 'leave at the door',
          });
        });
        return sqsEvent(bodies, 'orders');
      },
      check(response, event, i) {
        if (event.action === 'getOrder') {
          assert.equal(response.found, true, `order ${event.orderId} was stored`);
          assert.equal(response.order.orderId, event.orderId);
          return;
        }
        const expectedFailures = i % 29 === 0 ? [event.Records[0].messageId] : [];
        assert.deepEqual(
          response.batchItemFailures.map((f: Json) => f.itemIdentifier),
          expectedFailures,
        );
        for (const record of event.Records) {
          const id = JSON.parse(record.body).orderId;
          if (id) dynamoPut.push(id);
        }
      },
    },
    {
      name: 'pg-ledger',
      handler: 'examples/benign/pg-ledger/index.handler',
      environment: { ...PG },
      event(i) {
        const account = `${runId}-acct-${ledger.int(25)}`;
        if (i % 4 === 3) return { action: 'statement', account, limit: 1 + ledger.int(20) };
        return {
          action: 'post',
          account,
          amountCents: ledger.int(20_000) - 5_000,
          memo: ledger.next() < 0.5 ? null : `invoice ${i}`,
        };
      },
      check(response, event) {
        if (event.action === 'statement') {
          assert.equal(response.account, event.account);
          assert.ok(response.entries.length <= event.limit);
          return;
        }
        assert.ok(Number.isInteger(response.id) && Number.isInteger(response.balanceCents));
      },
    },
    {
      name: 'lazy-reports',
      handler: 'examples/benign/lazy-reports/index.handler',
      event(i) {
        if (i % 31 === 0) return { report: 'sales', period: '2025-13' }; // invalid month: zod rejects it
        return {
          report: reports.pick(['sales', 'inventory', 'customers']),
          format: reports.pick(['json', 'csv', 'markdown']),
          period: `2025-${String(1 + reports.int(12)).padStart(2, '0')}`,
          region: reports.pick(['eu', 'us', 'apac']),
          top: 1 + reports.int(15),
        };
      },
      check(response, event, i) {
        if (i % 31 === 0) {
          assert.equal(response.ok, false);
          return assert.match(response.problems.join(), /period/);
        }
        assert.equal(response.ok, true);
        assert.ok(response.rows >= 0 && response.rows <= event.top);
        const type = { json: 'application/json', csv: 'text/csv', markdown: 'text/markdown' }[
          event.format as 'json'
        ];
        assert.equal(response.contentType, type);
      },
    },
    {
      name: 'pino-audit',
      handler: 'examples/benign/pino-audit/index.handler',
      event(i) {
        const type = audit.pick([
          'SignInFailed',
          'SignInSucceeded',
          'PasswordChanged',
          'ApiKeyUsed',
          'Heartbeat',
        ]);
        return {
          version: '0',
          id: randomUUID(),
          'detail-type': type,
          source: 'app.auth',
          account: '123456789012',
          time: new Date().toISOString(),
          region: 'us-east-1',
          resources: [],
          detail: {
            userId: `user-${audit.int(40)}`,
            sourceIp: `203.0.113.${i % 200}`,
            mfa: audit.next() < 0.5,
            ...(type === 'PasswordChanged' ? { password: 'hunter2' } : {}),
            ...(type === 'ApiKeyUsed' ? { apiKey: 'ak_live_123' } : {}),
          },
        };
      },
      check(response, event) {
        assert.equal(response.recorded, true);
        assert.equal(response.type, event['detail-type']);
      },
    },
    {
      name: 'axios-webhooks',
      handler: 'examples/benign/axios-webhooks/index.handler',
      environment: { WEBHOOK_BASE_URL: endpoints.services, WEBHOOK_SECRET },
      event(i) {
        const bodies = Array.from({ length: 1 + hooks.int(3) }, (_, n) =>
          JSON.stringify({
            subscriber:
              i % 19 === 0 && n === 0 ? 'Not Valid!' : hooks.pick(['acme-shop', 'globex', 'gone-away']),
            event: hooks.pick(['order.created', 'order.shipped', 'invoice.paid']),
            occurredAt: new Date().toISOString(),
            data: { orderId: `${runId}-${i}-${n}`, amountCents: hooks.int(10_000) },
          }),
        );
        return sqsEvent(bodies, 'webhooks');
      },
      check(response, event) {
        assert.deepEqual(response.batchItemFailures, []);
        const subscribers = event.Records.map((r: Json) => JSON.parse(r.body).subscriber);
        assert.deepEqual(
          response.outcomes,
          subscribers.map((s: string) => (s === 'Not Valid!' ? 'invalid' : s === 'gone-away' ? 410 : 202)),
        );
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------------

describe('benign corpus: real functions under the guard, 1,000+ warm invocations each', () => {
  let lab: Lab;
  let logs: ReturnType<typeof collectLogs>;
  let functions: CorpusFunction[];
  const dynamo = fakeDynamoDb({ orders: ['orderId'] });
  const upstream = services();

  before(async () => {
    const [dynamodb, servicesUrl] = await Promise.all([listen(dynamo.server), listen(upstream.server)]);
    functions = corpus({ dynamodb, services: servicesUrl });
    lab = await createLab({
      functions: functions.map((fn) => ({
        name: fn.name,
        // The repository root is the deployment package: node_modules sits inside LAMBDA_TASK_ROOT,
        // as it does in /var/task, and the handler names its file under examples/benign/.
        codeDir: REPO_ROOT,
        handler: fn.handler,
        timeoutSeconds: 10,
        memoryMb: 512,
        environment: {
          ...fn.environment,
          NODE_OPTIONS: `--require ${REGISTER}`,
          // Default policy, except the lifecycle limits (only integrity may recycle here) and the
          // egress allow-list, which names the loopback stand-ins for the functions' real upstreams
          // (DynamoDB, PostgreSQL, HTTP services) as a user names theirs.
          EPHEMERA_MAX_INVOCATIONS: 'off',
          EPHEMERA_MAX_AGE_SECONDS: 'off',
          EPHEMERA_EGRESS_ALLOW: '*.amazonaws.com,127.0.0.1',
        },
      })),
    });
    logs = collectLogs(lab);
  });

  after(async () => {
    await lab?.close();
    for (const server of [dynamo.server, upstream.server]) {
      server.closeAllConnections();
      server.close();
    }
  });

  /** Send the function its traffic and check every answer and the guard's silence. */
  async function run(name: string, t: TestContext): Promise<void> {
    const fn = functions.find((f) => f.name === name);
    assert.ok(fn, `${name} is in the corpus`);
    const started = Date.now();
    const failures: string[] = [];
    await traffic(INVOCATIONS, CONCURRENCY, async (i) => {
      const event = fn.event(i);
      const result = await lab.invoke(fn.name, event);
      try {
        assert.equal(result.outcome, 'success', `${result.error?.errorType}: ${result.error?.errorMessage}`);
        fn.check(payloadOf(result), event, i);
      } catch (error) {
        if (failures.length < 5) failures.push(`#${i}: ${(error as Error).message}`);
        else failures.push('');
      }
    });
    assert.deepEqual(
      failures.filter(Boolean),
      [],
      `${failures.length} of ${INVOCATIONS} invocations went wrong`,
    );
    // The guard's after-response checks run before an environment asks for its next event: wait until
    // every environment is idle again, and let their last stdout lines reach the log stream.
    await eventually(
      () => lab.environments(fn.name).every((e) => e.state === 'idle'),
      `${fn.name} environments idle`,
    );
    await sleep(250);
    const guard = logs.guard(fn.name);
    assert.ok(
      guard.some((e) => e.type === 'init'),
      'the guard initialised (register mode)',
    );
    const drift = guard.filter((e) => e.type === 'detection' || e.type === 'recycle');
    assert.deepEqual(
      drift.map((e) => ({ type: e.type, control: e.control, invocation: e.invocation, detail: e.detail })),
      [],
      'no detection and no recycle',
    );
    for (const type of ['exited', 'crashed', 'timeout', 'reset'] as const) {
      assert.equal(lab.events.ofType(type, fn.name).length, 0, `no environment ${type}`);
    }
    t.diagnostic(
      `${fn.name}: ${INVOCATIONS} invocations in ${Date.now() - started} ms on ${lab.environments(fn.name).length} environments`,
    );
  }

  it('express app through serverless-http (HTTP API events, middleware, JSON bodies, error route)', async (t) => {
    await run('express-notes', t);
  });
  it('global fetch with keep-alive; the global dispatcher is created on first use', async (t) => {
    await run('fetch-catalog', t);
  });
  it('undici: an explicit keep-alive Agent, request() and undici fetch', async (t) => {
    await run('undici-pricing', t);
  });
  it('module-scope LRU, timers within the invocation, fan-out, hashing, gzip, base64, dates, URL', async (t) => {
    await run('feed-aggregator', t);
  });
  it('Powertools Logger, Metrics (EMF) and Tracer with Middy', async (t) => {
    await run('powertools-payments', t);
    const emf = logs.lines.filter((l) => l.function === 'powertools-payments' && l.line.includes('"_aws"'));
    assert.ok(emf.length >= INVOCATIONS, `metrics flushed as EMF on every invocation (${emf.length})`);
  });
  it('AWS SDK v3 DynamoDB client and DocumentClient with keep-alive sockets', async (t) => {
    await run('dynamodb-orders', t);
    assert.equal(dynamo.counts.unsigned, 0, 'every request was SigV4-signed by the SDK');
    assert.ok(dynamo.counts.PutItem > INVOCATIONS / 2 && dynamo.counts.GetItem > INVOCATIONS / 2);
  });
  it('pg Pool against a real PostgreSQL (parameterised INSERT/SELECT in transactions)', async (t) => {
    await assertPostgresReachable();
    const ping = await lab.invoke('pg-ledger', { action: 'ping' });
    assert.equal(
      ping.outcome,
      'success',
      `pg-ledger cannot use PostgreSQL at ${PG.PGHOST}:${PG.PGPORT} as ${PG.PGUSER}/${PG.PGDATABASE}: ` +
        `${ping.error?.errorMessage}. Create the role and database (see .ci/run) or set PG* variables.`,
    );
    await run('pg-ledger', t);
  });
  it('lazy require()/import() of its own modules and node_modules, with a growing module-scope cache', async (t) => {
    await run('lazy-reports', t);
  });
  it('pino at module scope (sync stdout destination) with child loggers per request', async (t) => {
    await run('pino-audit', t);
    const lines = logs.lines.filter(
      (l) => l.function === 'pino-audit' && l.line.includes('"service":"audit"'),
    );
    assert.ok(lines.length > INVOCATIONS, `pino wrote its lines to stdout (${lines.length})`);
    assert.ok(
      lines.some((l) => l.line.includes('[redacted]')),
      'redaction ran',
    );
    assert.ok(!lines.some((l) => l.line.includes('hunter2')), 'no password reached the logs');
  });
  it('axios with keep-alive agents and zod validation', async (t) => {
    await run('axios-webhooks', t);
    assert.ok(upstream.seen.hooks > INVOCATIONS);
    assert.equal(upstream.seen.badSignatures, 0);
  });

  it('saw no detection and no recycle in any log line of any function', () => {
    const events = logs.guard();
    assert.ok(events.length >= functions.length, 'guard events were collected');
    assert.deepEqual(
      events
        .filter((e) => e.type === 'detection' || e.type === 'recycle')
        .map((e) => `${e.function}: ${e.type}`),
      [],
    );
  });

  // Without this, zero detections would prove nothing: every environment must have run integrity.
  it('ran every environment with the integrity control on', () => {
    for (const fn of functions) {
      const inits = logs.guard(fn.name).filter((e) => e.type === 'init');
      assert.ok(inits.length > 0, `${fn.name}: no guard init event`);
      for (const init of inits) {
        assert.ok(
          (init.detail.controls as string[]).includes('integrity'),
          `${fn.name}: guard init lists controls ${JSON.stringify(init.detail.controls)} without integrity`,
        );
      }
    }
  });
});
