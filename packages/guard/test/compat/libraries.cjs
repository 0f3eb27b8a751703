'use strict';
// The compatibility catalog: each library's real, typical use in a Lambda function.
//   init()        what the function's module does at INIT (load, build clients/apps); returns state
//   invoke(state) what one invocation does; throws or rejects when the library is broken
// Each runs in a fresh process (run-compat.cjs), hardened between init() and invoke().
const http = require('node:http');
const { execFileSync } = require('node:child_process');

/** A loopback HTTP server answering every request with `respond(req, body)` → [status, headers, body]. */
function loopback(respond) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const [status, headers, payload] = respond(req, body);
        res.writeHead(status, headers);
        res.end(payload);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
}

function check(condition, what) {
  if (!condition) throw new Error(`wrong result: ${what}`);
}

const context = { awsRequestId: 'req-1', functionName: 'compat', getRemainingTimeInMillis: () => 10000 };

const apiEvent = {
  version: '2.0',
  routeKey: 'POST /items',
  rawPath: '/items',
  rawQueryString: 'filter[kind]=a&toString=x',
  headers: { 'content-type': 'application/json', host: 'example.test' },
  requestContext: {
    http: { method: 'POST', path: '/items', sourceIp: '203.0.113.9', protocol: 'HTTP/1.1' },
    requestId: 'r1',
  },
  body: JSON.stringify({ name: 'widget', tags: ['a'] }),
  isBase64Encoded: false,
};

const libraries = {
  express: {
    what: 'POST with JSON body and a nested query string through serverless-http',
    init() {
      const express = require('express');
      const serverless = require('serverless-http');
      const app = express();
      app.set('query parser', 'extended'); // qs: nested keys, and keys named like Object.prototype's
      app.use(express.json());
      app.post('/items', (req, res) => {
        res.status(201).json({ got: req.body.name, filter: req.query.filter });
      });
      return { handler: serverless(app) };
    },
    async invoke({ handler }) {
      const response = await handler(apiEvent, context);
      check(response.statusCode === 201, `status ${response.statusCode} ${response.body}`);
      const body = JSON.parse(response.body);
      check(body.got === 'widget' && body.filter.kind === 'a', response.body);
    },
  },
  'aws-sdk': {
    what: 'DynamoDB DocumentClient put + get against a loopback endpoint',
    async init() {
      const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
      const { DynamoDBDocumentClient, GetCommand, PutCommand } = require('@aws-sdk/lib-dynamodb');
      const endpoint = await loopback((req) => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const payload = target.endsWith('GetItem') ? { Item: { id: { S: '1' }, n: { N: '42' } } } : {};
        return [200, { 'content-type': 'application/x-amz-json-1.0' }, JSON.stringify(payload)];
      });
      const client = new DynamoDBClient({
        endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      });
      return { doc: DynamoDBDocumentClient.from(client), GetCommand, PutCommand };
    },
    async invoke({ doc, GetCommand, PutCommand }) {
      await doc.send(new PutCommand({ TableName: 't', Item: { id: '1', n: 42 } }));
      const out = await doc.send(new GetCommand({ TableName: 't', Key: { id: '1' } }));
      check(out.Item && out.Item.n === 42, JSON.stringify(out.Item));
    },
  },
  axios: {
    what: 'GET to a loopback server, JSON response',
    async init() {
      const axios = require('axios');
      const url = await loopback(() => [200, { 'content-type': 'application/json' }, '{"ok":true}']);
      return { axios, url };
    },
    async invoke({ axios, url }) {
      const response = await axios.get(`${url}/x`, { params: { q: 1 } });
      check(response.data.ok === true, JSON.stringify(response.data));
    },
  },
  pg: {
    what: 'parameterised query on the real PostgreSQL at 127.0.0.1',
    skip() {
      try {
        execFileSync('pg_isready', ['-h', '127.0.0.1'], { stdio: 'ignore' });
        return undefined;
      } catch {
        return 'pg_isready -h 127.0.0.1 failed: no PostgreSQL to test against';
      }
    },
    init() {
      const { Client } = require('pg');
      return { Client };
    },
    async invoke({ Client }) {
      const client = new Client({
        host: '127.0.0.1',
        user: 'ephemera',
        password: 'ephemera',
        database: 'ephemera',
      });
      await client.connect();
      try {
        const result = await client.query('SELECT $1::int + 1 AS n, now() AS t', [41]);
        check(result.rows[0].n === 42 && result.rows[0].t instanceof Date, JSON.stringify(result.rows));
        let failed = false;
        try {
          await client.query('SELECT * FROM no_such_table_ephemera');
        } catch (error) {
          failed = error.code === '42P01';
        }
        check(failed, 'a query error must surface as a pg error');
      } finally {
        await client.end();
      }
    },
  },
  pino: {
    what: 'structured log lines (object, child logger, error) to a stream',
    init() {
      const pino = require('pino');
      const lines = [];
      const stream = { write: (line) => lines.push(line) };
      return { logger: pino({ level: 'info' }, stream), lines };
    },
    invoke({ logger, lines }) {
      lines.length = 0;
      logger.info({ user: 'u1' }, 'hello');
      logger.child({ requestId: 'r1' }).error(new Error('boom'), 'failed');
      check(lines.length === 2, `${lines.length} lines`);
      const second = JSON.parse(lines[1]);
      check(second.err && second.err.message === 'boom' && second.requestId === 'r1', lines[1]);
    },
  },
  undici: {
    what: 'request() to a loopback server, body as JSON',
    async init() {
      const undici = require('undici');
      const url = await loopback(() => [200, { 'content-type': 'application/json' }, '{"n":1}']);
      return { undici, url };
    },
    async invoke({ undici, url }) {
      const { statusCode, body } = await undici.request(`${url}/y`);
      const json = await body.json();
      check(statusCode === 200 && json.n === 1, JSON.stringify(json));
    },
  },
  lodash: {
    what: 'merge, set, cloneDeep and template',
    init() {
      return { _: require('lodash') };
    },
    invoke({ _ }) {
      const merged = _.merge({ a: { b: 1 } }, { a: { c: 2 } });
      check(merged.a.b === 1 && merged.a.c === 2, JSON.stringify(merged));
      const target = {};
      _.set(target, 'x.toString', 'v');
      check(target.x.toString === 'v', 'set x.toString');
      check(_.cloneDeep({ d: new Date(0) }).d.getTime() === 0, 'cloneDeep');
      const text = _.template('hello <%= name %>')({ name: 'x' });
      check(text === 'hello x', text);
    },
  },
  zod: {
    what: 'object schema parse and a failing safeParse',
    init() {
      const { z } = require('zod');
      return { schema: z.object({ id: z.string().uuid(), n: z.number().int().min(1) }) };
    },
    invoke({ schema }) {
      const ok = schema.parse({ id: '6f1c2b1e-8a4b-4c1e-9a55-1f0e8a6b9c1d', n: 2 });
      check(ok.n === 2, 'parse');
      const bad = schema.safeParse({ id: 'x', n: 0 });
      check(!bad.success && bad.error.issues.length === 2, 'safeParse issues');
    },
  },
  middy: {
    what: 'middy handler with before/after/onError middleware',
    async init() {
      const { default: middy } = await import('@middy/core');
      const handler = middy(async (event) => {
        if (event.fail) throw new Error('handler failed');
        return { statusCode: 200, body: JSON.stringify({ v: event.v }) };
      })
        .use({
          before: (request) => {
            request.event.v = 1;
          },
        })
        .use({
          after: (request) => {
            request.response.headers = { 'x-after': '1' };
          },
        })
        .use({
          onError: (request) => {
            request.response = { statusCode: 500, body: request.error.message };
          },
        });
      return { handler };
    },
    async invoke({ handler }) {
      const ok = await handler({}, context);
      check(ok.statusCode === 200 && ok.headers['x-after'] === '1', JSON.stringify(ok));
      const failed = await handler({ fail: true }, context);
      check(failed.statusCode === 500 && failed.body === 'handler failed', JSON.stringify(failed));
    },
  },
  powertools: {
    what: 'Logger with a request context, Metrics EMF flush',
    init() {
      const { Logger } = require('@aws-lambda-powertools/logger');
      const { Metrics, MetricUnit } = require('@aws-lambda-powertools/metrics');
      const logger = new Logger({ serviceName: 'compat' });
      const metrics = new Metrics({ namespace: 'compat', serviceName: 'compat' });
      return { logger, metrics, MetricUnit };
    },
    invoke({ logger, metrics, MetricUnit }) {
      logger.addContext(context);
      logger.info('hello', { n: 1 });
      logger.error('failed', new Error('boom'));
      metrics.addMetric('hits', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
  },
};

module.exports = { libraries };
