import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { createLab, type Lab } from '../src/index.js';
import { fixture, json } from './helpers.js';

describe('API Gateway front and Invoke API, end to end with the real aws-lambda-ric', () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab({
      functions: [
        {
          name: 'echo',
          codeDir: fixture('behaviours'),
          handler: 'index.handler',
          routes: [{ api: 'rest', method: 'GET', path: '/rest/items/{id}' }],
        },
        {
          name: 'web',
          codeDir: fixture('web'),
          handler: 'index.handler',
          routes: [
            { api: 'rest', method: 'ANY', path: '/v1/{proxy+}' },
            { api: 'http', method: 'ANY', path: '/v2/{proxy+}' },
          ],
        },
        {
          name: 'single',
          codeDir: fixture('behaviours'),
          handler: 'index.handler',
          reservedConcurrency: 1,
          routes: [{ api: 'http', method: 'POST', path: '/single' }],
        },
        {
          name: 'stream',
          codeDir: fixture('streaming'),
          handler: 'index.handler',
          routes: [{ api: 'http', method: 'GET', path: '/stream' }],
        },
      ],
    });
  });
  after(() => lab.close());

  it('delivers a REST (v1) proxy event with the source IP from the socket and maps the response', async () => {
    const res = await fetch(`${lab.url}/v1/orders/7?x=1&x=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
      body: '{"card":"4111"}',
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-amzn-requestid'));
    const event = (await res.json()) as APIGatewayProxyEvent;
    assert.equal(event.resource, '/v1/{proxy+}');
    assert.equal(event.path, '/v1/orders/7');
    assert.equal(event.httpMethod, 'POST');
    assert.deepEqual(event.pathParameters, { proxy: 'orders/7' });
    assert.deepEqual(event.multiValueQueryStringParameters, { x: ['1', '2'] });
    assert.equal(event.queryStringParameters?.x, '2');
    assert.equal(event.body, '{"card":"4111"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
    assert.equal(res.headers.get('x-api'), 'rest');
  });

  it('delivers an HTTP API (v2) event and maps cookies and the plain-JSON shorthand', async () => {
    const res = await fetch(`${lab.url}/v2/profile?a=1&a=2`, {
      headers: { cookie: 'session=s1; theme=dark' },
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('apigw-requestid'));
    const event = (await res.json()) as APIGatewayProxyEventV2;
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'ANY /v2/{proxy+}');
    assert.equal(event.rawPath, '/v2/profile');
    assert.equal(event.rawQueryString, 'a=1&a=2');
    assert.equal(event.queryStringParameters?.a, '1,2');
    assert.deepEqual(event.cookies, ['session=s1', 'theme=dark']);
    assert.equal(event.requestContext.http.sourceIp, '127.0.0.1');
    assert.equal(event.requestContext.http.method, 'GET');
    assert.deepEqual(res.headers.getSetCookie(), ['seen=1', 'lang=en']);

    const shorthand = await fetch(`${lab.url}/v2/shorthand`);
    assert.equal(shorthand.status, 200);
    assert.equal(shorthand.headers.get('content-type'), 'application/json');
    assert.deepEqual(await shorthand.json(), { plain: true });
  });

  it('maps function errors, malformed responses and unknown routes as API Gateway does', async () => {
    assert.equal((await fetch(`${lab.url}/v1/throw`)).status, 502);
    assert.equal((await fetch(`${lab.url}/v2/throw`)).status, 500);
    assert.equal((await fetch(`${lab.url}/v1/malformed`)).status, 502);
    assert.equal((await fetch(`${lab.url}/v2/malformed`)).status, 500);
    assert.equal((await fetch(`${lab.url}/rest/items/1`, { method: 'DELETE' })).status, 403);
    const echo = await fetch(`${lab.url}/rest/items/a%20b`);
    assert.equal(echo.status, 502, 'echo returns a non-proxy object: malformed for REST');
  });

  it('answers a function timeout as a function error, and its own integration timeout with 504/503', async () => {
    const routes = (prefix: string) => [
      { api: 'rest' as const, method: 'POST', path: `/${prefix}/rest` },
      { api: 'http' as const, method: 'POST', path: `/${prefix}/http` },
    ];
    const quick = await createLab({
      // Pre-warmed, so INIT time on a loaded machine cannot push the short timeout past the API's.
      apiTimeoutMs: 2500,
      functions: [
        {
          name: 'slow',
          codeDir: fixture('behaviours'),
          handler: 'index.handler',
          timeoutSeconds: 5,
          routes: routes('slow'),
          provisionedConcurrency: 2,
        },
        {
          name: 'short',
          codeDir: fixture('behaviours'),
          handler: 'index.handler',
          timeoutSeconds: 1,
          routes: routes('short'),
          provisionedConcurrency: 2,
        },
      ],
    });
    const post = (path: string, ms: number) =>
      fetch(`${quick.url}${path}`, { method: 'POST', body: JSON.stringify({ action: 'sleep', ms }) });
    try {
      const [gaveUpRest, gaveUpHttp, timedOutRest, timedOutHttp] = await Promise.all([
        post('/slow/rest', 4000),
        post('/slow/http', 4000),
        post('/short/rest', 1300),
        post('/short/http', 1300),
      ]);
      assert.equal(gaveUpRest.status, 504);
      assert.deepEqual(await gaveUpRest.json(), { message: 'Endpoint request timed out' });
      assert.equal(gaveUpHttp.status, 503);
      assert.equal(timedOutRest.status, 502, 'a function timeout is a function error for a REST API');
      assert.equal(timedOutHttp.status, 500, 'and for an HTTP API');
      assert.equal(quick.events.ofType('timeout', 'short').length, 2);
    } finally {
      await quick.close();
    }
  });

  it('answers 429 when reserved concurrency is exhausted', async () => {
    const slow = fetch(`${lab.url}/single`, {
      method: 'POST',
      body: JSON.stringify({ action: 'sleep', ms: 600 }),
    });
    await new Promise((r) => setTimeout(r, 250));
    const throttled = await fetch(`${lab.url}/single`, { method: 'POST', body: '{}' });
    assert.equal(throttled.status, 429);
    assert.equal((await slow).status, 200);
  });

  it('answers 413 for a payload over 6 MB', async () => {
    const res = await fetch(`${lab.url}/v2/big`, { method: 'POST', body: 'x'.repeat(6 * 1024 * 1024 + 10) });
    assert.equal(res.status, 413);
  });

  it('collects a streamed response chunk by chunk, and streamed errors from the trailers', async () => {
    const chunks: string[] = [];
    const result = await lab.invoke('stream', {}, { onChunk: (c) => chunks.push(c.toString()) });
    assert.equal(result.outcome, 'success');
    assert.equal(result.streamed, true);
    assert.equal(result.payload.toString(), 'chunk-0;chunk-1;chunk-2;');
    assert.ok(chunks.length >= 3, `chunks arrive as written (got ${chunks.length})`);
    const failed = await lab.invoke('stream', { fail: true });
    assert.equal(failed.outcome, 'function-error');
    assert.equal(failed.error?.errorType, 'RangeError');
    assert.equal(failed.error?.errorMessage, 'failed mid-stream');
  });

  it('maps a streamed HTTP response (prelude + body) through the front', async () => {
    const res = await fetch(`${lab.url}/stream`, { method: 'GET' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-streamed'), 'yes');
    assert.equal(await res.text(), 'chunk-0;chunk-1;chunk-2;');
  });

  it('is invoked by the real @aws-sdk/client-lambda through the Invoke API', async () => {
    const client = new LambdaClient({
      endpoint: lab.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIALAB', secretAccessKey: 'lab-secret' },
      maxAttempts: 1,
    });
    try {
      const ok = await client.send(
        new InvokeCommand({
          FunctionName: 'echo',
          Payload: Buffer.from(JSON.stringify({ action: 'log', message: 'via-sdk' })),
          LogType: 'Tail',
          ClientContext: Buffer.from(JSON.stringify({ custom: { who: 'sdk' } })).toString('base64'),
        }),
      );
      assert.equal(ok.StatusCode, 200);
      assert.equal(ok.FunctionError, undefined);
      assert.equal(ok.ExecutedVersion, '$LATEST');
      const reply = json(Buffer.from(ok.Payload ?? new Uint8Array()));
      assert.deepEqual((reply.clientContext as { custom: unknown }).custom, { who: 'sdk' });
      assert.match(Buffer.from(ok.LogResult ?? '', 'base64').toString(), /REPORT RequestId/);

      const failed = await client.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"action":"throw","message":"x"}') }),
      );
      assert.equal(failed.FunctionError, 'Unhandled');
      assert.equal(json(Buffer.from(failed.Payload ?? new Uint8Array())).errorType, 'TypeError');

      const queued = await client.send(
        new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from('{}') }),
      );
      assert.equal(queued.StatusCode, 202);

      await assert.rejects(
        client.send(new InvokeCommand({ FunctionName: 'nope', Payload: Buffer.from('{}') })),
        (err: Error) => err.name === 'ResourceNotFoundException',
      );
    } finally {
      client.destroy();
    }
  });
});
