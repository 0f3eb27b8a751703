import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildHttpEvent,
  buildRestEvent,
  type EventContext,
  type FrontRequest,
  failureReply,
  type HttpReply,
  mapHttpResponse,
  mapRestResponse,
  matchRoute,
} from './api-gateway.js';
import type { InvokeResult } from './environment.js';
import { LabError } from './errors.js';
import type { ResolvedFunction, RouteDefinition } from './function-definition.js';
import type { InvokeOptions } from './lab.js';

type Invoke = (name: string, event: unknown, options?: InvokeOptions) => Promise<InvokeResult>;

/** API Gateway accepts at most 10 MB; Lambda's 6 MB limit is checked by the invoke path. */
const FRONT_BODY_LIMIT = 10 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Content type of a streamed HTTP response: a JSON prelude, eight NUL bytes, then the body. */
const HTTP_INTEGRATION_STREAM = 'application/vnd.awslambda.http-integration-response';

/**
 * The lab's one HTTP server: API Gateway routes (REST v1 and HTTP API v2 proxy integrations) and
 * Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so `@aws-sdk/client-lambda`
 * works against the lab with an endpoint override.
 */
export class HttpFront {
  private readonly server: Server;
  private readonly routes: Array<RouteDefinition & { functionName: string }>;
  private readonly apiId = randomUUID().replaceAll('-', '').slice(0, 10);
  private port = 0;

  constructor(
    private readonly functions: readonly ResolvedFunction[],
    private readonly invoke: Invoke,
    /** API Gateway's integration timeouts: 29 s for REST APIs, 30 s for HTTP APIs. */
    private readonly apiTimeoutMs: { rest: number; http: number } = { rest: 29_000, http: 30_000 },
  ) {
    this.routes = functions.flatMap((fn) => fn.routes.map((route) => ({ ...route, functionName: fn.name })));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `lab front failure: ${(err as Error).message}` }));
        }
      });
    });
  }

  /** Listen on 127.0.0.1:`port`; resolves to the base URL. */
  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new LabError(
                'EPHEMERA_ERR_LAB_PORT_IN_USE',
                `port ${port} on 127.0.0.1 is in use; pick another with --port (or 0 for any free port)`,
              )
            : err,
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readLimited(req, FRONT_BODY_LIMIT);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const invokeMatch = INVOKE_PATH.exec(path);
    if (invokeMatch && req.method === 'POST') {
      await this.invokeApi(req, res, decodeURIComponent(invokeMatch[1] ?? ''), body);
      return;
    }
    const match = matchRoute(this.routes, req.method ?? 'GET', path);
    const api = match?.route.api ?? this.routes[0]?.api ?? 'http';
    if (!match) {
      write(res, failureReply(api, 'not-found'));
      return;
    }
    if (body === undefined) {
      write(res, failureReply(api, 'payload-too-large'));
      return;
    }
    const request: FrontRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: normaliseIp(req.socket.remoteAddress ?? '127.0.0.1'),
      protocol: `HTTP/${req.httpVersion}`,
    };
    const ctx: EventContext = {
      requestId: randomUUID(),
      apiId: this.apiId,
      accountId: '123456789012',
      stage: match.route.api === 'rest' ? 'Prod' : '$default',
      domainName: req.headers.host ?? `127.0.0.1:${this.port}`,
      nowMs: Date.now(),
    };
    const event =
      match.route.api === 'rest' ? buildRestEvent(request, match, ctx) : buildHttpEvent(request, match, ctx);
    const idHeader: [string, string] =
      match.route.api === 'rest' ? ['x-amzn-RequestId', ctx.requestId] : ['apigw-requestid', ctx.requestId];
    let result: InvokeResult | 'integration-timeout';
    try {
      // API Gateway stops waiting at its integration timeout; the function keeps running.
      const limitMs = this.apiTimeoutMs[match.route.api];
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'integration-timeout'>((resolve) => {
        timer = setTimeout(() => resolve('integration-timeout'), limitMs);
      });
      const invoked = this.invoke(match.route.functionName, event);
      invoked.catch(() => {}); // a late rejection after the timeout is not the client's concern
      result = await Promise.race([invoked, gaveUp]).finally(() => clearTimeout(timer));
    } catch (err) {
      if (err instanceof LabError && err.code === 'EPHEMERA_ERR_LAB_THROTTLED') {
        write(res, failureReply(match.route.api, 'throttled'), idHeader);
      } else if (err instanceof LabError && err.code === 'EPHEMERA_ERR_LAB_PAYLOAD_TOO_LARGE') {
        write(res, failureReply(match.route.api, 'payload-too-large'), idHeader);
      } else {
        throw err;
      }
      return;
    }
    if (result === 'integration-timeout') {
      write(res, failureReply(match.route.api, 'timeout'), idHeader);
      return;
    }
    // A function that hits its own timeout is a function error to API Gateway (502 REST, 500 HTTP).
    if (result.outcome !== 'success') {
      write(res, failureReply(match.route.api, 'function-error'), idHeader);
      return;
    }
    const payload =
      result.contentType === HTTP_INTEGRATION_STREAM ? preludeToResponse(result.payload) : result.payload;
    const reply = match.route.api === 'rest' ? mapRestResponse(payload) : mapHttpResponse(payload);
    write(res, reply, idHeader);
  }

  private async invokeApi(
    req: IncomingMessage,
    res: ServerResponse,
    nameOrArn: string,
    body: Buffer | undefined,
  ): Promise<void> {
    // The SDK may name the function by ARN; the lab serves $LATEST only.
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
    const fn = this.functions.find((f) => f.name === name);
    const awsError = (status: number, type: string, message: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-errortype': type,
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify({ Type: 'User', message, ...extra }));
    };
    if (!fn) {
      awsError(
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${name}`,
      );
      return;
    }
    if (body === undefined || body.length > 6 * 1024 * 1024) {
      awsError(
        413,
        'RequestTooLargeException',
        'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      );
      return;
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      awsError(
        400,
        'InvalidParameterValueException',
        `X-Amz-Invocation-Type is ${JSON.stringify(type)}; accepted: RequestResponse, Event, DryRun`,
      );
      return;
    }
    const payloadText = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(payloadText);
    } catch {
      awsError(
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json: the payload must be valid JSON',
      );
      return;
    }
    if (type === 'DryRun') {
      res.writeHead(204).end();
      return;
    }
    const clientContext = req.headers['x-amz-client-context'];
    const options: InvokeOptions =
      typeof clientContext === 'string'
        ? { clientContext: Buffer.from(clientContext, 'base64').toString('utf8') }
        : {};
    if (type === 'Event') {
      // Lambda queues asynchronous invocations and retries throttles; the lab retries with backoff.
      void this.invokeAsync(name, Buffer.from(payloadText), options);
      res.writeHead(202, { 'x-amzn-requestid': randomUUID(), 'content-length': '0' }).end();
      return;
    }
    let result: InvokeResult;
    try {
      result = await this.invoke(name, Buffer.from(payloadText), options);
    } catch (err) {
      if (err instanceof LabError && err.code === 'EPHEMERA_ERR_LAB_THROTTLED') {
        awsError(429, 'TooManyRequestsException', 'Rate Exceeded.', {
          Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        });
        return;
      }
      throw err;
    }
    const headers: Record<string, string> = {
      'content-type': result.contentType ?? 'application/json',
      'x-amzn-requestid': result.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (result.outcome !== 'success') headers['x-amz-function-error'] = 'Unhandled';
    if (req.headers['x-amz-log-type'] === 'Tail') {
      // Lambda returns the last 4 KB of the invocation's log, base64-encoded.
      const tail = Buffer.from(result.logs.join('\n'));
      headers['x-amz-log-result'] = tail.subarray(Math.max(0, tail.length - 4096)).toString('base64');
    }
    res.writeHead(200, headers).end(result.payload);
  }

  private async invokeAsync(name: string, payload: Buffer, options: InvokeOptions): Promise<void> {
    for (let attempt = 0, delay = 50; attempt < 20; attempt += 1, delay = Math.min(delay * 2, 2000)) {
      try {
        await this.invoke(name, payload, options);
        return;
      } catch (err) {
        if (!(err instanceof LabError && err.code === 'EPHEMERA_ERR_LAB_THROTTLED')) return;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** A streamed HTTP response (prelude + 8 NUL bytes + body) as the payload-2.0 response it stands for. */
function preludeToResponse(payload: Buffer): Buffer {
  const separator = payload.indexOf(Buffer.alloc(8));
  if (separator < 0) return payload;
  let prelude: Record<string, unknown>;
  try {
    prelude = JSON.parse(payload.subarray(0, separator).toString('utf8')) as Record<string, unknown>;
  } catch {
    return payload;
  }
  const body = payload.subarray(separator + 8);
  return Buffer.from(
    JSON.stringify({ statusCode: 200, ...prelude, body: body.toString('base64'), isBase64Encoded: true }),
  );
}

function write(res: ServerResponse, reply: HttpReply, extra?: [string, string]): void {
  const headers: Array<[string, string]> = [...reply.headers];
  if (extra) headers.push(extra);
  headers.push(['content-length', String(reply.body.length)]);
  res.writeHead(reply.statusCode, headers.flat());
  res.end(reply.body);
}

function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as API Gateway reports IPv4 sources. */
function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
