import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** The function every tool runs: examples/hello, unmodified. */
export const HELLO_DIR = fileURLToPath(new URL('../../examples/hello/', import.meta.url));
export const HELLO_FILE = `${HELLO_DIR}index.mjs`;
export const PROBE_DIR = fileURLToPath(new URL('../fixtures/probe/', import.meta.url));

export type HelloHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Import the handler into this process, as an in-process baseline (and lambda-local's lambdaFunc). */
export async function loadHello(): Promise<{ handler: HelloHandler }> {
  return (await import(pathToFileURL(HELLO_FILE).href)) as { handler: HelloHandler };
}

/** An HTTP API (payload 2.0) event shaped like the one the lab's front builds for GET /hello. */
export function sampleHttpEvent(): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'GET /hello',
    rawPath: '/hello',
    rawQueryString: '',
    headers: { host: '127.0.0.1:3000', 'user-agent': 'bench' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'benchapi01',
      domainName: '127.0.0.1:3000',
      domainPrefix: '127',
      http: {
        method: 'GET',
        path: '/hello',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
      requestId: randomUUID(),
      routeKey: 'GET /hello',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
}

/** The minimum Context a handler may rely on; the in-process baseline pays nothing for it. */
export function fakeContext(): Context {
  const deadline = Date.now() + 3000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'hello',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:hello',
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/hello',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The HTTP floor: a bare node:http server in this process that calls the handler directly. It pays
 * the same loopback HTTP round trip as the lab's front but no Lambda machinery, so "front − floor"
 * is what the lab itself adds on top of any HTTP hop.
 */
export async function startHttpFloor(
  handler: HelloHandler,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      handler(sampleHttpEvent(), fakeContext()).then(
        (result) => {
          const body = typeof result.body === 'string' ? result.body : '';
          res.writeHead(result.statusCode ?? 200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hello`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
