import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Correlator } from './correlator.js';
import { CorrelatorError, type CorrelatorErrorCode, HTTP_STATUS } from './errors.js';
import type { IncidentFilter } from './incident.js';

interface ServerOptions {
  token: string;
  maxBodyBytes: number;
  port: number;
  host: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The HTTP API: `POST /v1/events`, `GET /v1/incidents`, `GET /v1/incidents/{id}`, `GET /v1/health`.
 * Every route but health requires the bearer token (Firehose sends it as `x-amz-firehose-access-key`).
 * Errors are JSON `{error: {code, message}}` with a 4xx/5xx that matches the code.
 */
export async function startServer(
  correlator: Correlator,
  options: ServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const expected = digest(options.token);
  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    const firehose = req.headers['x-amz-firehose-access-key'];
    const given =
      typeof header === 'string' && header.startsWith('Bearer ')
        ? header.slice(7)
        : typeof firehose === 'string'
          ? firehose
          : undefined;
    // Compare digests in constant time: the token's length and prefix leak nothing.
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://correlator');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/v1/health') return send(res, 200, { ok: true, store: correlator.store.kind });
    const route =
      path === '/v1/events'
        ? 'events'
        : path === '/v1/incidents'
          ? 'list'
          : path.startsWith('/v1/incidents/')
            ? 'one'
            : undefined;
    if (!route)
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_NOT_FOUND',
        `no route ${req.method} ${path}; accepted: POST /v1/events, GET /v1/incidents, GET /v1/incidents/{id}`,
      );
    const method = route === 'events' ? 'POST' : 'GET';
    if (req.method !== method) {
      res.setHeader('allow', method);
      return send(res, 405, {
        error: { code: 'EPHEMERA_ERR_CORRELATOR_NOT_FOUND', message: `${path} accepts ${method} only` },
      });
    }
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer realm="ephemera-correlator"');
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_UNAUTHORIZED',
        'missing or wrong bearer token; send "authorization: Bearer <token>" (the correlator\'s token)',
      );
    }
    if (route === 'events') {
      const body = await readBody(req, options.maxBodyBytes);
      const result = await correlator.ingestBody(body);
      if (result.source === 'firehose')
        return send(res, 200, { requestId: result.firehoseRequestId, timestamp: Date.now() });
      return send(res, 200, {
        accepted: result.accepted,
        duplicates: result.duplicates,
        ignored: result.ignored,
        invalid: result.invalid,
        incidents: result.incidents.map((i) => i.id),
      });
    }
    if (route === 'list') return send(res, 200, { incidents: await correlator.incidents(filterOf(url)) });
    const id = decodeURIComponent(path.slice('/v1/incidents/'.length));
    const incident = await correlator.incident(id);
    if (!incident)
      throw new CorrelatorError('EPHEMERA_ERR_CORRELATOR_NOT_FOUND', `no incident ${JSON.stringify(id)}`);
    return send(res, 200, incident);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new CorrelatorError(
          'EPHEMERA_ERR_CORRELATOR_CONFIG',
          err.code === 'EADDRINUSE'
            ? `port ${options.port} is in use; pick another (0 for any free port)`
            : err.message,
          { cause: err },
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function filterOf(url: URL): IncidentFilter {
  const q = url.searchParams;
  const known = ['function', 'rule', 'since', 'until', 'updatedAfter', 'limit'];
  for (const key of q.keys())
    if (!known.includes(key))
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_MALFORMED',
        `unknown query parameter ${JSON.stringify(key)}; accepted: ${known.join(', ')}`,
      );
  const filter: IncidentFilter = {};
  const fn = q.get('function');
  if (fn) filter.function = fn;
  const rule = q.get('rule');
  if (rule) filter.rule = rule;
  for (const key of ['since', 'until', 'updatedAfter'] as const) {
    const text = q.get(key);
    if (text === null) continue;
    const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(t))
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_MALFORMED',
        `${key} is ${JSON.stringify(text)}; accepted: an ISO 8601 time or epoch milliseconds`,
      );
    filter[key] = t;
  }
  const limit = q.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1000))
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_MALFORMED',
        `limit is ${JSON.stringify(limit)}; accepted: an integer from 1 to 1000`,
      );
    filter.limit = n;
  }
  return filter;
}

/** The body as text; refuses (before reading it, when Content-Length says so) beyond `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const tooLarge = () =>
    new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_TOO_LARGE',
      `the body is larger than ${max} bytes; send smaller batches (the limit is the correlator's maxBodyBytes)`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof CorrelatorError) {
    const status = HTTP_STATUS[err.code as CorrelatorErrorCode] ?? 500;
    // A refused oversized body is not read further: close the connection after answering.
    if (err.code === 'EPHEMERA_ERR_CORRELATOR_TOO_LARGE') res.setHeader('connection', 'close');
    send(res, status, { error: { code: err.code, message: err.message } });
    return;
  }
  send(res, 500, { error: { code: 'EPHEMERA_ERR_CORRELATOR_STORE', message: 'internal error' } });
}
