import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildHttpEvent,
  buildRestEvent,
  type EventContext,
  type FrontFailure,
  type FrontRequest,
  type FrontRoute,
  failureReply,
  formatRequestTime,
  type HttpReply,
  mapHttpResponse,
  mapRestResponse,
  matchRoute,
  type RouteMatch,
} from '../src/api-gateway.js';

const NOW = Date.UTC(2024, 2, 5, 7, 8, 9, 123);

const ctx: EventContext = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  apiId: 'abc123defg',
  accountId: '123456789012',
  stage: 'dev',
  domainName: 'abc123defg.execute-api.localhost',
  nowMs: NOW,
};

function route(api: 'rest' | 'http', method: string, path: string, functionName = 'fn'): FrontRoute {
  return { api, method, path, functionName };
}

function request(overrides: Partial<FrontRequest> = {}): FrontRequest {
  return {
    method: 'GET',
    url: '/',
    rawHeaders: ['Host', 'localhost:3000'],
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    protocol: 'HTTP/1.1',
    ...overrides,
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function text(reply: HttpReply): string {
  return reply.body.toString('utf8');
}

const REST_502: HttpReply = {
  statusCode: 502,
  headers: [
    ['content-type', 'application/json'],
    ['x-amzn-ErrorType', 'InternalServerErrorException'],
  ],
  body: Buffer.from('{"message": "Internal server error"}'),
};

const HTTP_500: HttpReply = {
  statusCode: 500,
  headers: [['content-type', 'application/json']],
  body: Buffer.from('{"message":"Internal Server Error"}'),
};

describe('matchRoute', () => {
  const routes = [
    route('rest', 'ANY', '/{proxy+}', 'catch-all'),
    route('rest', 'GET', '/items/{id}', 'item'),
    route('rest', 'GET', '/items/special', 'special'),
    route('rest', 'ANY', '/api/{proxy+}', 'api'),
  ];

  it('prefers an exact path over a {param} path over a greedy path', () => {
    assert.equal(matchRoute(routes, 'GET', '/items/special')?.route.functionName, 'special');
    assert.deepEqual(matchRoute(routes, 'GET', '/items/42'), {
      route: routes[1],
      pathParameters: { id: '42' },
    });
    assert.deepEqual(matchRoute(routes, 'GET', '/other/x/y'), {
      route: routes[0],
      pathParameters: { proxy: 'other/x/y' },
    });
  });

  it('prefers the greedy route with the longer literal prefix', () => {
    assert.deepEqual(matchRoute(routes, 'DELETE', '/api/v1/users'), {
      route: routes[3],
      pathParameters: { proxy: 'v1/users' },
    });
  });

  it('falls back to a greedy ANY route when the specific route does not accept the method', () => {
    assert.deepEqual(matchRoute(routes, 'POST', '/items/42'), {
      route: routes[0],
      pathParameters: { proxy: 'items/42' },
    });
  });

  it('prefers a specific method over ANY on the same path', () => {
    const both = [route('http', 'ANY', '/items', 'any'), route('http', 'POST', '/items', 'post')];
    assert.equal(matchRoute(both, 'POST', '/items')?.route.functionName, 'post');
    assert.equal(matchRoute(both, 'get', '/items')?.route.functionName, 'any');
  });

  it('ranks a path with {param} segments above a greedy route even when the greedy route says the method', () => {
    const mixed = [
      route('http', 'GET', '/{proxy+}', 'greedy-get'),
      route('http', 'ANY', '/users/{id}', 'param-any'),
    ];
    assert.equal(matchRoute(mixed, 'GET', '/users/7')?.route.functionName, 'param-any');
  });

  it('does not let {proxy+} match the root path', () => {
    assert.equal(matchRoute([route('rest', 'ANY', '/{proxy+}')], 'GET', '/'), undefined);
  });

  it('uses $default last, for whatever no other HTTP API route matches', () => {
    const httpRoutes = [
      route('http', 'ANY', '$default', 'default'),
      route('http', 'ANY', '/{proxy+}', 'proxy'),
      route('http', 'GET', '/health', 'health'),
    ];
    assert.deepEqual(matchRoute(httpRoutes, 'GET', '/'), { route: httpRoutes[0], pathParameters: null });
    assert.equal(matchRoute(httpRoutes, 'GET', '/health')?.route.functionName, 'health');
    assert.equal(matchRoute(httpRoutes, 'PATCH', '/a/b')?.route.functionName, 'proxy');
  });

  it('returns undefined when no route matches the method and path', () => {
    const only = [route('rest', 'GET', '/items')];
    assert.equal(matchRoute(only, 'POST', '/items'), undefined);
    assert.equal(matchRoute(only, 'GET', '/items/1'), undefined);
    assert.equal(matchRoute(only, 'GET', '/item'), undefined);
  });

  it('ignores a trailing slash and any query string', () => {
    const r = [route('rest', 'GET', '/items/{id}')];
    assert.deepEqual(matchRoute(r, 'GET', '/items/42/'), { route: r[0], pathParameters: { id: '42' } });
    assert.deepEqual(matchRoute(r, 'GET', '/items/42?x=1'), { route: r[0], pathParameters: { id: '42' } });
  });

  it('URL-decodes HTTP API path parameters, greedy ones segment by segment', () => {
    const r = [route('http', 'GET', '/files/{name}'), route('http', 'GET', '/docs/{path+}')];
    assert.deepEqual(matchRoute(r, 'GET', '/files/a%20b%2Fc')?.pathParameters, { name: 'a b/c' });
    assert.deepEqual(matchRoute(r, 'GET', '/docs/caf%C3%A9/x%2By')?.pathParameters, { path: 'café/x+y' });
  });

  it('passes REST path parameters through exactly as the client encoded them', () => {
    const r = [route('rest', 'GET', '/files/{name}')];
    assert.deepEqual(matchRoute(r, 'GET', '/files/test%2Balias@example.com')?.pathParameters, {
      name: 'test%2Balias@example.com',
    });
  });

  it('keeps a malformed escape as it came instead of failing', () => {
    const r = [route('http', 'GET', '/files/{name}')];
    assert.deepEqual(matchRoute(r, 'GET', '/files/100%')?.pathParameters, { name: '100%' });
  });
});

describe('formatRequestTime', () => {
  it("uses API Gateway's dd/MMM/yyyy:HH:mm:ss +0000 format in UTC", () => {
    assert.equal(formatRequestTime(NOW), '05/Mar/2024:07:08:09 +0000');
    assert.equal(formatRequestTime(Date.UTC(1999, 11, 31, 23, 59, 59, 999)), '31/Dec/1999:23:59:59 +0000');
  });
});

// A GET with a repeated query parameter, a header repeated under two spellings and cookies.
const getRequest = request({
  url: '/items/42?tag=a&tag=b&q=hello%20world+again&flag',
  rawHeaders: [
    'Host',
    'localhost:3000',
    'User-Agent',
    'curl/8.5.0',
    'X-Trace',
    'one',
    'x-trace',
    'two',
    'Cookie',
    'session=abc; theme=dark',
    'Cookie',
    'lang=en',
    'Connection',
    'keep-alive',
  ],
});

describe('buildRestEvent', () => {
  const itemRoute = route('rest', 'GET', '/items/{id}');
  const match: RouteMatch = { route: itemRoute, pathParameters: { id: '42' } };

  it('builds the payload 1.0 event of a GET with repeated query parameters, headers and cookies', () => {
    const event = buildRestEvent(getRequest, match, ctx);
    const { requestContext, ...rest } = event;
    assert.deepEqual(rest, {
      resource: '/items/{id}',
      path: '/items/42',
      httpMethod: 'GET',
      headers: {
        Host: 'localhost:3000',
        'User-Agent': 'curl/8.5.0',
        'X-Trace': 'two',
        Cookie: 'lang=en',
      },
      multiValueHeaders: {
        Host: ['localhost:3000'],
        'User-Agent': ['curl/8.5.0'],
        'X-Trace': ['one', 'two'],
        Cookie: ['session=abc; theme=dark', 'lang=en'],
      },
      queryStringParameters: { tag: 'b', q: 'hello world again', flag: '' },
      multiValueQueryStringParameters: { tag: ['a', 'b'], q: ['hello world again'], flag: [''] },
      pathParameters: { id: '42' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
    });
    const { extendedRequestId, resourceId, ...context } = requestContext as typeof requestContext & {
      deploymentId?: string;
    };
    const { deploymentId, ...stable } = context as typeof context & { deploymentId?: string };
    assert.deepEqual(stable, {
      accountId: '123456789012',
      apiId: 'abc123defg',
      domainName: 'abc123defg.execute-api.localhost',
      domainPrefix: 'abc123defg',
      httpMethod: 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: 'curl/8.5.0',
        userArn: null,
      },
      path: '/dev/items/42',
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTime: '05/Mar/2024:07:08:09 +0000',
      requestTimeEpoch: NOW,
      resourcePath: '/items/{id}',
      stage: 'dev',
    });
    assert.match(extendedRequestId ?? '', /^[A-Za-z0-9+/]{15}=$/);
    assert.match(resourceId, /^[0-9a-z]{6}$/);
    assert.match(deploymentId ?? '', /^[0-9a-z]{6}$/);
    assert.equal('authorizer' in requestContext, false);
  });

  it('derives the AWS-shaped ids deterministically from the request id and route', () => {
    const again = buildRestEvent(getRequest, match, ctx).requestContext;
    const other = buildRestEvent(getRequest, match, { ...ctx, requestId: 'another' }).requestContext;
    const first = buildRestEvent(getRequest, match, ctx).requestContext;
    assert.equal(again.extendedRequestId, first.extendedRequestId);
    assert.notEqual(other.extendedRequestId, first.extendedRequestId);
    assert.equal(other.resourceId, first.resourceId);
  });

  it('sets query parameters to null when the URL has none, and keeps a trailing slash in path', () => {
    const event = buildRestEvent(request({ url: '/items/42/' }), match, ctx);
    assert.equal(event.queryStringParameters, null);
    assert.equal(event.multiValueQueryStringParameters, null);
    assert.equal(event.path, '/items/42/');
    assert.equal(event.requestContext.path, '/dev/items/42/');
  });

  it('sets pathParameters to null for a route without variables, and userAgent to null without the header', () => {
    const event = buildRestEvent(
      request({ url: '/health' }),
      { route: route('rest', 'GET', '/health'), pathParameters: null },
      ctx,
    );
    assert.equal(event.pathParameters, null);
    assert.equal(event.requestContext.identity.userAgent, null);
  });

  it('passes a JSON POST body as text and drops the framing headers', () => {
    const body = '{"name":"widget","tags":["a","b"]}';
    const event = buildRestEvent(
      request({
        method: 'POST',
        url: '/items',
        rawHeaders: [
          'Content-Type',
          'application/json; charset=utf-8',
          'Content-Length',
          String(body.length),
        ],
        body: Buffer.from(body),
      }),
      { route: route('rest', 'POST', '/items'), pathParameters: null },
      ctx,
    );
    assert.equal(event.body, body);
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.httpMethod, 'POST');
    assert.deepEqual(event.headers, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  it('base64-encodes an image/png body so the bytes round-trip exactly', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);
    const event = buildRestEvent(
      request({ method: 'PUT', rawHeaders: ['Content-Type', 'image/png'], body: png }),
      { route: route('rest', 'PUT', '/'), pathParameters: null },
      ctx,
    );
    assert.equal(event.isBase64Encoded, true);
    assert.equal(event.body, 'iVBORw0KGgoA//4=');
    assert.deepEqual(Buffer.from(event.body ?? '', 'base64'), png);
  });
});

describe('buildHttpEvent', () => {
  const itemRoute = route('http', 'GET', '/items/{id}');
  const match: RouteMatch = { route: itemRoute, pathParameters: { id: '42' } };

  it('builds the payload 2.0 event of a GET with repeated query parameters, headers and cookies', () => {
    assert.deepEqual(buildHttpEvent(getRequest, match, ctx), {
      version: '2.0',
      routeKey: 'GET /items/{id}',
      rawPath: '/items/42',
      rawQueryString: 'tag=a&tag=b&q=hello%20world+again&flag',
      cookies: ['session=abc', 'theme=dark', 'lang=en'],
      headers: { host: 'localhost:3000', 'user-agent': 'curl/8.5.0', 'x-trace': 'one,two' },
      queryStringParameters: { tag: 'a,b', q: 'hello world again', flag: '' },
      requestContext: {
        accountId: '123456789012',
        apiId: 'abc123defg',
        domainName: 'abc123defg.execute-api.localhost',
        domainPrefix: 'abc123defg',
        http: {
          method: 'GET',
          path: '/items/42',
          protocol: 'HTTP/1.1',
          sourceIp: '203.0.113.7',
          userAgent: 'curl/8.5.0',
        },
        requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
        routeKey: 'GET /items/{id}',
        stage: '$default',
        time: '05/Mar/2024:07:08:09 +0000',
        timeEpoch: NOW,
      },
      pathParameters: { id: '42' },
      isBase64Encoded: false,
    });
  });

  it('omits cookies, query parameters, path parameters and body when there are none', () => {
    const event = buildHttpEvent(
      request({ url: '/' }),
      { route: route('http', 'ANY', '$default'), pathParameters: null },
      ctx,
    );
    assert.equal(event.routeKey, '$default');
    assert.equal(event.requestContext.routeKey, '$default');
    assert.equal(event.rawQueryString, '');
    assert.equal(event.requestContext.http.userAgent, '');
    for (const key of ['cookies', 'queryStringParameters', 'pathParameters', 'body', 'stageVariables']) {
      assert.equal(key in event, false, key);
    }
    assert.deepEqual(event.headers, { host: 'localhost:3000' });
  });

  it('uses ANY in the route key of a greedy route and hands over a decoded rawPath', () => {
    const greedy = route('http', 'ANY', '/{proxy+}');
    const event = buildHttpEvent(
      request({ method: 'DELETE', url: '/a%2Fb/c%20d?x=%2F' }),
      { route: greedy, pathParameters: { proxy: 'a/b/c d' } },
      ctx,
    );
    assert.equal(event.routeKey, 'ANY /{proxy+}');
    assert.equal(event.rawPath, '/a/b/c d');
    assert.equal(event.requestContext.http.path, '/a/b/c d');
    assert.equal(event.rawQueryString, 'x=%2F');
    assert.deepEqual(event.queryStringParameters, { x: '/' });
    assert.equal(event.requestContext.http.method, 'DELETE');
  });

  it('passes a JSON POST body as text and keeps content-length', () => {
    const body = '{"name":"widget"}';
    const event = buildHttpEvent(
      request({
        method: 'POST',
        rawHeaders: ['Content-Type', 'application/vnd.api+json', 'Content-Length', String(body.length)],
        body: Buffer.from(body),
      }),
      { route: route('http', 'POST', '/items'), pathParameters: null },
      ctx,
    );
    assert.equal(event.body, body);
    assert.equal(event.isBase64Encoded, false);
    assert.deepEqual(event.headers, { 'content-type': 'application/vnd.api+json', 'content-length': '17' });
  });

  it('base64-encodes an image/png body so the bytes round-trip exactly', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const event = buildHttpEvent(
      request({ method: 'POST', rawHeaders: ['content-type', 'image/png'], body: png }),
      { route: route('http', 'POST', '/upload'), pathParameters: null },
      ctx,
    );
    assert.equal(event.isBase64Encoded, true);
    assert.equal(event.body, 'iVBORwD/');
    assert.deepEqual(Buffer.from(event.body ?? '', 'base64'), png);
  });

  it('base64-encodes a body that comes without a content type', () => {
    const event = buildHttpEvent(
      request({ method: 'POST', rawHeaders: [], body: Buffer.from('plain') }),
      { route: route('http', 'POST', '/upload'), pathParameters: null },
      ctx,
    );
    assert.equal(event.isBase64Encoded, true);
    assert.equal(event.body, Buffer.from('plain').toString('base64'));
  });

  it('treats text/*, form, xml and graphql bodies as text', () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/atom+xml',
      'application/graphql',
    ]) {
      const event = buildHttpEvent(
        request({ method: 'POST', rawHeaders: ['Content-Type', type], body: Buffer.from('a=1') }),
        { route: route('http', 'POST', '/x'), pathParameters: null },
        ctx,
      );
      assert.equal(event.isBase64Encoded, false, type);
      assert.equal(event.body, 'a=1', type);
    }
  });
});

describe('mapRestResponse', () => {
  it('maps statusCode, headers and a text body, labelling the body JSON when no type is set', () => {
    assert.deepEqual(mapRestResponse(json({ statusCode: 201, headers: { 'X-Id': '7' }, body: 'created' })), {
      statusCode: 201,
      headers: [
        ['X-Id', '7'],
        ['content-type', 'application/json'],
      ],
      body: Buffer.from('created'),
    });
  });

  it('keeps the function content type and stringifies number and boolean header values', () => {
    const reply = mapRestResponse(
      json({
        statusCode: 200,
        headers: { 'Content-Type': 'text/html', 'X-Count': 3, 'X-Flag': true },
        body: '<p>',
      }),
    );
    assert.deepEqual(reply.headers, [
      ['Content-Type', 'text/html'],
      ['X-Count', '3'],
      ['X-Flag', 'true'],
    ]);
  });

  it('merges multiValueHeaders over headers, one set-cookie header per value', () => {
    const reply = mapRestResponse(
      json({
        statusCode: 200,
        headers: { 'Set-Cookie': 'dropped=1', 'X-One': '1' },
        multiValueHeaders: { 'set-cookie': ['a=1; Path=/', 'b=2'], 'X-Many': ['x', 'y'] },
        body: '',
      }),
    );
    assert.deepEqual(reply.headers, [
      ['X-One', '1'],
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2'],
      ['X-Many', 'x'],
      ['X-Many', 'y'],
      ['content-type', 'application/json'],
    ]);
  });

  it('decodes a base64 body when isBase64Encoded is true', () => {
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const reply = mapRestResponse(
      json({
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      }),
    );
    assert.deepEqual(reply.body, bytes);
  });

  it('accepts a numeric-string statusCode and defaults a missing one to 200, as AWS does', () => {
    assert.equal(mapRestResponse(json({ statusCode: '201' })).statusCode, 201);
    const reply = mapRestResponse(json({ headers: { 'x-a': 'b' } }));
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.body.length, 0);
  });

  it('drops framing headers the front computes itself', () => {
    const reply = mapRestResponse(
      json({ statusCode: 200, headers: { 'Content-Length': '999', Connection: 'close' }, body: 'ok' }),
    );
    assert.deepEqual(reply.headers, [['content-type', 'application/json']]);
  });

  it('answers 502 for results that are not of the documented shape', () => {
    const malformed: Array<[string, Buffer]> = [
      ['not JSON', Buffer.from('{oops')],
      ['a bare string', json('just a string')],
      ['an array', json([1, 2])],
      ['null', json(null)],
      ['an unknown key', json({ statusCode: 200, body: 'x', ok: true })],
      ['a non-numeric statusCode', json({ statusCode: 'abc' })],
      ['an out-of-range statusCode', json({ statusCode: 99 })],
      ['a fractional statusCode', json({ statusCode: 200.5 })],
      ['an object body', json({ statusCode: 200, body: { a: 1 } })],
      ['a string isBase64Encoded', json({ statusCode: 200, body: 'x', isBase64Encoded: 'true' })],
      ['an object header value', json({ statusCode: 200, headers: { a: { b: 1 } } })],
      [
        'a multiValueHeaders value that is not an array',
        json({ statusCode: 200, multiValueHeaders: { a: 'b' } }),
      ],
    ];
    for (const [what, payload] of malformed) assert.deepEqual(mapRestResponse(payload), REST_502, what);
  });
});

describe('mapHttpResponse', () => {
  it('wraps an object without statusCode as a 200 JSON body, verbatim', () => {
    assert.deepEqual(mapHttpResponse(Buffer.from('{ "message": "Hello from Lambda!" }')), {
      statusCode: 200,
      headers: [['content-type', 'application/json']],
      body: Buffer.from('{ "message": "Hello from Lambda!" }'),
    });
  });

  it('sends a returned string as the body itself, without JSON quotes', () => {
    const reply = mapHttpResponse(json('Hello from Lambda!'));
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.headers, [['content-type', 'application/json']]);
    assert.equal(text(reply), 'Hello from Lambda!');
  });

  it('sends other JSON values as their JSON text, and nothing as null', () => {
    assert.equal(text(mapHttpResponse(json(42))), '42');
    assert.equal(text(mapHttpResponse(json([1, 'a']))), '[1,"a"]');
    assert.equal(text(mapHttpResponse(Buffer.alloc(0))), 'null');
  });

  it('maps a structured result, each cookie becoming a set-cookie header', () => {
    assert.deepEqual(
      mapHttpResponse(
        json({
          statusCode: 302,
          headers: { Location: '/next', 'x-n': 1 },
          cookies: ['a=1; Path=/; HttpOnly', 'b=2'],
          body: 'moved',
        }),
      ),
      {
        statusCode: 302,
        headers: [
          ['Location', '/next'],
          ['x-n', '1'],
          ['set-cookie', 'a=1; Path=/; HttpOnly'],
          ['set-cookie', 'b=2'],
        ],
        body: Buffer.from('moved'),
      },
    );
  });

  it('decodes a base64 body when isBase64Encoded is true', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    const reply = mapHttpResponse(
      json({ statusCode: 200, body: bytes.toString('base64'), isBase64Encoded: true }),
    );
    assert.deepEqual(reply.body, bytes);
    assert.deepEqual(reply.headers, []);
  });

  it('answers 500 for malformed results', () => {
    const malformed: Array<[string, Buffer]> = [
      ['not JSON', Buffer.from('<html>')],
      ['a non-numeric statusCode', json({ statusCode: 'abc' })],
      ['a null statusCode', json({ statusCode: null })],
      ['a zero statusCode', json({ statusCode: 0 })],
      ['an object body', json({ statusCode: 200, body: { a: 1 } })],
      ['cookies that are not strings', json({ statusCode: 200, cookies: [1] })],
      ['headers that are not an object', json({ statusCode: 200, headers: 'x' })],
    ];
    for (const [what, payload] of malformed) assert.deepEqual(mapHttpResponse(payload), HTTP_500, what);
  });
});

describe('failureReply', () => {
  const expected: Array<['rest' | 'http', FrontFailure, number, string, string | undefined]> = [
    ['rest', 'function-error', 502, '{"message": "Internal server error"}', 'InternalServerErrorException'],
    [
      'rest',
      'malformed-response',
      502,
      '{"message": "Internal server error"}',
      'InternalServerErrorException',
    ],
    ['rest', 'timeout', 504, '{"message": "Endpoint request timed out"}', undefined],
    ['rest', 'throttled', 429, '{"message": "Too Many Requests"}', 'TooManyRequestsException'],
    ['rest', 'payload-too-large', 413, '{"message": "Request Entity Too Large"}', undefined],
    [
      'rest',
      'not-found',
      403,
      '{"message":"Missing Authentication Token"}',
      'MissingAuthenticationTokenException',
    ],
    ['http', 'function-error', 500, '{"message":"Internal Server Error"}', undefined],
    ['http', 'malformed-response', 500, '{"message":"Internal Server Error"}', undefined],
    ['http', 'timeout', 503, '{"message":"Service Unavailable"}', undefined],
    ['http', 'throttled', 429, '{"message":"Too Many Requests"}', undefined],
    ['http', 'payload-too-large', 413, '{"message":"Request Entity Too Large"}', undefined],
    ['http', 'not-found', 404, '{"message":"Not Found"}', undefined],
  ];
  for (const [api, failure, statusCode, body, errorType] of expected) {
    it(`answers ${api} ${failure} with ${statusCode}`, () => {
      const headers: Array<[string, string]> = [['content-type', 'application/json']];
      if (errorType !== undefined) headers.push(['x-amzn-ErrorType', errorType]);
      assert.deepEqual(failureReply(api, failure), { statusCode, headers, body: Buffer.from(body) });
    });
  }
});
