import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the runtime learns about an invocation from `GET /runtime/invocation/next`. */
export interface NextInvocation {
  requestId: string;
  deadlineMs: number;
  functionArn: string;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
  payload: Buffer;
}

/** An error as a runtime reports it (the RIC sends `trace`, not `stackTrace`). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** A completed response as the runtime posted it. */
export interface PostedResponse {
  body: Buffer;
  streamed: boolean;
  contentType: string | undefined;
  /** Set when a streamed response ended with Lambda's error trailers. */
  error?: FunctionError;
}

/** The Runtime API's answer to a post: accepted, or one of Lambda's error statuses. */
export type Verdict = { status: 202 } | { status: 400 | 403 | 413; errorType: string; errorMessage: string };

/** The environment behind one Runtime API: it owns the state machine, this file only speaks HTTP. */
export interface RuntimeApiHost {
  /** The runtime asks for work; call `deliver` when there is some (possibly much later). */
  next(deliver: (invocation: NextInvocation) => void): Verdict | undefined;
  /** May a response or error for this id be posted now? Checked before the body is read. */
  check(requestId: string): Verdict | undefined;
  response(requestId: string, response: PostedResponse): Verdict;
  chunk(requestId: string, chunk: Buffer): void;
  error(requestId: string, error: FunctionError, raw: Buffer): Verdict;
  initError(error: FunctionError, raw: Buffer): Verdict;
}

/** Lambda's limits on what a runtime may post. */
export const BUFFERED_RESPONSE_LIMIT = 6_291_556;
export const STREAMED_RESPONSE_LIMIT = 20 * 1024 * 1024;
const ERROR_BODY_LIMIT = 1024 * 1024;

const PREFIX = '/2018-06-01/runtime';

/** Parse an error body leniently: runtimes send `{errorType, errorMessage, trace}`, or anything at all. */
export function parseFunctionError(raw: Buffer, headerType: string | undefined): FunctionError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const obj = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  const errorType = typeof obj.errorType === 'string' ? obj.errorType : (headerType ?? 'Unhandled');
  const errorMessage = typeof obj.errorMessage === 'string' ? obj.errorMessage : raw.toString('utf8');
  const trace = Array.isArray(obj.trace)
    ? obj.trace.map(String)
    : Array.isArray(obj.stackTrace)
      ? obj.stackTrace.map(String)
      : undefined;
  return trace ? { errorType, errorMessage, trace } : { errorType, errorMessage };
}

function send(res: ServerResponse, verdict: Verdict): void {
  if (verdict.status === 202) {
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    return;
  }
  const body = JSON.stringify({ errorMessage: verdict.errorMessage, errorType: verdict.errorType });
  res.writeHead(verdict.status, { 'content-type': 'application/json', connection: 'close' }).end(body);
}

/** Read a request body up to `limit` bytes; `undefined` when it is larger. */
function readBody(
  req: IncomingMessage,
  limit: number,
  onChunk?: (c: Buffer) => void,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (over) return; // keep draining so the runtime's write completes
      chunks.push(chunk);
      onChunk?.(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const tooLarge = (limit: number): Verdict => ({
  status: 413,
  errorType: 'RequestEntityTooLarge',
  errorMessage: `Exceeded maximum allowed payload size (${limit} bytes).`,
});

/**
 * One environment's Runtime API (`/2018-06-01`), on its own loopback port, so paths carry no
 * environment id, as on Lambda where each sandbox sees only its own API.
 */
export class RuntimeApiServer {
  private readonly server: Server;
  constructor(private readonly host: RuntimeApiHost) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    // The runtime's /next request legitimately waits for minutes (frozen) between invocations.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.keepAliveTimeout = 0;
  }

  /** Listen on an ephemeral loopback port; resolves to `127.0.0.1:port` (AWS_LAMBDA_RUNTIME_API). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) {
      const refused = this.host.next((inv) => {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'lambda-runtime-aws-request-id': inv.requestId,
          'lambda-runtime-deadline-ms': String(inv.deadlineMs),
          'lambda-runtime-invoked-function-arn': inv.functionArn,
          'lambda-runtime-trace-id': inv.traceId,
        };
        // Only headers with a value, as Lambda sends them.
        if (inv.clientContext) headers['lambda-runtime-client-context'] = inv.clientContext;
        if (inv.cognitoIdentity) headers['lambda-runtime-cognito-identity'] = inv.cognitoIdentity;
        res.writeHead(200, headers).end(inv.payload);
      });
      if (refused) send(res, refused);
      return;
    }
    if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
      const raw = (await readBody(req, ERROR_BODY_LIMIT)) ?? Buffer.alloc(0);
      send(
        res,
        this.host.initError(parseFunctionError(raw, header(req, 'lambda-runtime-function-error-type')), raw),
      );
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && match) {
      const requestId = decodeURIComponent(match[1] ?? '');
      const refused = this.host.check(requestId);
      if (refused) {
        req.resume();
        send(res, refused);
        return;
      }
      if (match[2] === 'error') {
        const raw = (await readBody(req, ERROR_BODY_LIMIT)) ?? Buffer.alloc(0);
        send(
          res,
          this.host.error(
            requestId,
            parseFunctionError(raw, header(req, 'lambda-runtime-function-error-type')),
            raw,
          ),
        );
        return;
      }
      const streamed =
        (header(req, 'lambda-runtime-function-response-mode') ?? '').toLowerCase() === 'streaming';
      const limit = streamed ? STREAMED_RESPONSE_LIMIT : BUFFERED_RESPONSE_LIMIT;
      const declared = Number(header(req, 'content-length') ?? Number.NaN);
      if (declared > limit) {
        req.resume();
        this.host.response(requestId, {
          body: Buffer.alloc(0),
          streamed,
          contentType: undefined,
          error: oversize(limit),
        });
        send(res, tooLarge(limit));
        return;
      }
      const body = await readBody(req, limit, streamed ? (c) => this.host.chunk(requestId, c) : undefined);
      const contentType = header(req, 'content-type');
      if (body === undefined) {
        this.host.response(requestId, {
          body: Buffer.alloc(0),
          streamed,
          contentType,
          error: oversize(limit),
        });
        send(res, tooLarge(limit));
        return;
      }
      const errorType = req.trailers['lambda-runtime-function-error-type'];
      const errorBody = req.trailers['lambda-runtime-function-error-body'];
      const error =
        streamed && errorType
          ? parseFunctionError(Buffer.from(errorBody ?? '', 'base64'), errorType)
          : undefined;
      send(
        res,
        this.host.response(
          requestId,
          error ? { body, streamed, contentType, error } : { body, streamed, contentType },
        ),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        errorMessage: `unknown Runtime API path ${req.method} ${path}`,
        errorType: 'NotFound',
      }),
    );
  }
}

function oversize(limit: number): FunctionError {
  return {
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
  };
}
