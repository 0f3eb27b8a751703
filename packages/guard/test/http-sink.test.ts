import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { HttpSink, type HttpSinkOptions } from '../src/http-sink.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Array<Record<string, unknown>>;
}

/** How the test server answers a request: a status code, or 'hang' to never answer. */
type Answer = number | 'hang';

interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly received: Received[];
  /** Answers, in order; the last one repeats. */
  answers: Answer[];
  close(): Promise<void>;
}

const servers = new Set<Server>();

after(async () => {
  await Promise.all([...servers].map(stop));
});

function stop(server: Server): Promise<void> {
  servers.delete(server);
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A real HTTP server on 127.0.0.1 recording every request; `port` 0 picks a free one. */
async function startServer(answers: Answer[] = [200], port = 0): Promise<TestServer> {
  const received: Received[] = [];
  const state = { answers };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const answer = state.answers[Math.min(received.length, state.answers.length) - 1] ?? 200;
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
    });
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    received,
    get answers() {
      return state.answers;
    },
    set answers(next: Answer[]) {
      state.answers = next;
    },
    close: () => stop(server),
  };
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let sequence = 0;
/** A guard-shaped event with a fresh id. */
function event(detail: Record<string, unknown> = {}): { id: string; [key: string]: unknown } {
  sequence += 1;
  return {
    ephemera: 1,
    id: randomUUID(),
    type: 'detection',
    time: new Date().toISOString(),
    function: 'orders',
    env: 'env-1',
    requestId: `req-${sequence}`,
    invocation: sequence,
    ageMs: 10,
    control: 'egress',
    action: 'block',
    detail,
  };
}

function sink(endpoint: string, options: Partial<HttpSinkOptions> = {}): HttpSink {
  return new HttpSink({ endpoint, maxBuffer: 100, batchSize: 10, timeoutMs: 500, ...options });
}

const ids = (records: Array<Record<string, unknown>>): unknown[] => records.map((r) => r.id);

describe('HttpSink delivery', () => {
  it('posts JSON arrays of at most batchSize events, in order, with the bearer token', async () => {
    const server = await startServer();
    const s = sink(server.url, { token: 'sekret-token', batchSize: 2 });
    const events = Array.from({ length: 5 }, () => event());
    for (const e of events) s.push(e);
    assert.equal(s.buffered, 5);

    await s.flush();

    assert.deepEqual(
      server.received.map((r) => r.body.length),
      [2, 2, 1],
    );
    for (const r of server.received) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/v1/events');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers.authorization, 'Bearer sekret-token');
      assert.ok(Array.isArray(r.body));
    }
    // The events arrive unchanged: the ids the receiver deduplicates on are the guard's own.
    assert.deepEqual(
      server.received.flatMap((r) => r.body),
      events,
    );
    assert.equal(s.buffered, 0);
    assert.equal(s.dropped, 0);
  });

  it('sends no authorization header without a token, and nothing when empty', async () => {
    const server = await startServer();
    const s = sink(server.url, { token: null });
    await s.flush();
    assert.equal(server.received.length, 0);
    s.push(event());
    await s.flush();
    assert.equal(server.received.length, 1);
    assert.equal(server.received[0]?.headers.authorization, undefined);
  });

  it('appends the ingest path to a base path, and keeps an endpoint that already names it', async () => {
    const server = await startServer();
    const prefixed = sink(`${server.url}/prod/`);
    prefixed.push(event());
    await prefixed.flush();
    const full = sink(`${server.url}/v1/events`);
    full.push(event());
    await full.flush();
    assert.deepEqual(
      server.received.map((r) => r.url),
      ['/prod/v1/events', '/v1/events'],
    );
  });

  it('sends the event as it was when pushed', async () => {
    const server = await startServer();
    const s = sink(server.url);
    const e = event({ step: 1 });
    s.push(e);
    e.detail = { step: 2 };
    await s.flush();
    assert.deepEqual(server.received[0]?.body[0]?.detail, { step: 1 });
  });

  it('uses the injected request function', async () => {
    const server = await startServer();
    let calls = 0;
    const request = ((...args: Parameters<typeof httpRequest>) => {
      calls += 1;
      return httpRequest(...args);
    }) as typeof httpRequest;
    const s = sink(server.url, { request });
    s.push(event());
    await s.flush();
    assert.equal(calls, 1);
    assert.equal(server.received.length, 1);
  });

  it('delivers events pushed while a flush is in flight', async () => {
    const server = await startServer();
    const s = sink(server.url, { batchSize: 1 });
    const first = event();
    const second = event();
    s.push(first);
    const flushing = s.flush();
    s.push(second);
    await flushing;
    assert.deepEqual(
      server.received.flatMap((r) => ids(r.body)),
      [first.id, second.id],
    );
  });

  it('runs one flush at a time: a second call returns the same promise', async () => {
    const server = await startServer();
    const s = sink(server.url);
    s.push(event());
    const a = s.flush();
    const b = s.flush();
    assert.equal(a, b);
    await a;
    assert.equal(server.received.length, 1);
    assert.notEqual(s.flush(), a);
  });
});

describe('HttpSink bounds and losses', () => {
  it('drops the oldest events beyond maxBuffer and announces the loss first at the next flush', async () => {
    const server = await startServer();
    const drops: number[] = [];
    const s = sink(server.url, { maxBuffer: 3, onDrop: (n) => drops.push(n) });
    const events = Array.from({ length: 5 }, () => event());
    for (const e of events) s.push(e);
    assert.equal(s.buffered, 3);
    assert.equal(s.dropped, 2);
    assert.deepEqual(drops, [1, 1]);

    await s.flush();

    const body = server.received[0]?.body ?? [];
    const [notice, ...rest] = body;
    assert.equal(notice?.type, 'dropped');
    assert.equal(notice?.ephemera, 1);
    assert.match(String(notice?.id), /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(String(notice?.time))));
    assert.deepEqual(notice?.detail, { dropped: 2 });
    assert.deepEqual(ids(rest), ids(events.slice(2)));

    // The loss is announced once.
    s.push(event());
    await s.flush();
    assert.equal(server.received[1]?.body.length, 1);
    assert.equal(server.received[1]?.body[0]?.type, 'detection');
    assert.equal(s.dropped, 2);
  });

  it('builds the announcement with droppedRecord', async () => {
    const server = await startServer();
    const s = sink(server.url, {
      maxBuffer: 1,
      droppedRecord: (n) => ({
        id: 'notice-1',
        type: 'dropped',
        function: 'orders',
        env: 'env-1',
        detail: { n },
      }),
    });
    s.push(event());
    s.push(event());
    await s.flush();
    assert.deepEqual(server.received[0]?.body[0], {
      id: 'notice-1',
      type: 'dropped',
      function: 'orders',
      env: 'env-1',
      detail: { n: 1 },
    });
  });

  it('counts an event that cannot be serialised instead of throwing', async () => {
    const server = await startServer();
    const s = sink(server.url);
    const circular: Record<string, unknown> = { id: 'c' };
    circular.self = circular;
    assert.doesNotThrow(() => s.push(circular));
    assert.doesNotThrow(() => s.push({ id: 'b', n: 1n }));
    assert.equal(s.dropped, 2);
    assert.equal(s.buffered, 0);
    await s.flush();
    assert.deepEqual(server.received[0]?.body[0]?.detail, { dropped: 2 });
  });

  it('survives a throwing onDrop and a throwing droppedRecord', async () => {
    const server = await startServer();
    const s = sink(server.url, {
      maxBuffer: 1,
      onDrop: () => {
        throw new Error('observer bug');
      },
      droppedRecord: () => {
        throw new Error('builder bug');
      },
    });
    s.push(event());
    assert.doesNotThrow(() => s.push(event()));
    await s.flush();
    // The default announcement replaces the broken one.
    assert.deepEqual(server.received[0]?.body[0]?.detail, { dropped: 1 });
  });
});

describe('HttpSink failures', () => {
  it('keeps the events when the endpoint refuses connections, and delivers them once it is up', async () => {
    const port = await closedPort();
    const s = sink(`http://127.0.0.1:${port}`);
    const events = [event(), event()];
    for (const e of events) s.push(e);

    await s.flush();
    assert.equal(s.buffered, 2);
    assert.equal(s.dropped, 0);

    const server = await startServer([200], port);
    await s.flush();
    assert.deepEqual(ids(server.received[0]?.body ?? []), ids(events));
    assert.equal(s.buffered, 0);
  });

  it('gives up on a server that never answers within the deadline, keeping the events', async () => {
    const server = await startServer(['hang', 200]);
    const timeoutMs = 300;
    const s = sink(server.url, { timeoutMs });
    const e = event();
    s.push(e);

    const started = performance.now();
    await s.flush();
    const elapsed = performance.now() - started;

    assert.ok(elapsed < timeoutMs + 1000, `flush took ${elapsed} ms`);
    assert.equal(s.buffered, 1);
    await s.flush();
    // The retry carries the same id, so a receiver that did process the first attempt can deduplicate.
    assert.deepEqual(
      server.received.map((r) => ids(r.body)),
      [[e.id], [e.id]],
    );
    assert.equal(s.buffered, 0);
  });

  it('drops a batch rejected with 400 and counts it', async () => {
    const server = await startServer([400, 200]);
    const s = sink(server.url, { batchSize: 2 });
    for (let i = 0; i < 3; i++) s.push(event());

    await s.flush();
    // The rejected batch is gone; a failed request ends the flush.
    assert.equal(server.received.length, 1);
    assert.equal(s.dropped, 2);
    assert.equal(s.buffered, 1);

    await s.flush();
    const body = server.received[1]?.body ?? [];
    assert.equal(body[0]?.type, 'dropped');
    assert.deepEqual(body[0]?.detail, { dropped: 2 });
    assert.equal(body.length, 2);
  });

  for (const status of [503, 500, 429, 408]) {
    it(`keeps a batch answered with ${status} and resends it with the same ids`, async () => {
      const server = await startServer([status, 200]);
      const s = sink(server.url);
      const events = [event(), event()];
      for (const e of events) s.push(e);

      await s.flush();
      assert.equal(s.buffered, 2);
      assert.equal(s.dropped, 0);

      await s.flush();
      assert.deepEqual(ids(server.received[1]?.body ?? []), ids(events));
      assert.equal(s.buffered, 0);
    });
  }

  it('stays bounded while failing: requeued events are the oldest and go first', async () => {
    const server = await startServer([503, 200]);
    const s = sink(server.url, { maxBuffer: 3, batchSize: 2 });
    const events = Array.from({ length: 3 }, () => event());
    for (const e of events) s.push(e);

    const flushing = s.flush();
    // Pushed while the first batch is in flight.
    const late = [event(), event()];
    for (const e of late) s.push(e);
    await flushing;

    // Five held, three allowed: the two oldest (the failed batch's first) are dropped.
    assert.equal(s.buffered, 3);
    assert.equal(s.dropped, 2);
    await s.flush();
    const delivered = server.received.slice(1).flatMap((r) => r.body);
    assert.deepEqual(delivered[0]?.detail, { dropped: 2 });
    assert.deepEqual(ids(delivered.slice(1)), [events[2]?.id, ...late.map((e) => e.id)]);
  });

  it('resends an undelivered announcement unchanged, and announces later losses separately', async () => {
    const server = await startServer([503, 200]);
    const s = sink(server.url, { maxBuffer: 1, batchSize: 10 });
    s.push(event());
    s.push(event()); // the first is dropped
    await s.flush(); // fails: the announcement of 1 is kept as it is
    s.push(event()); // the requeued event is dropped
    await s.flush();
    const [failed, retried, later] = server.received.map((r) => r.body);
    // Same id and count: a receiver that saw the failed attempt deduplicates the retry.
    assert.deepEqual(failed?.[0], retried?.[0]);
    assert.deepEqual(retried?.[0]?.detail, { dropped: 1 });
    // The second loss gets its own announcement, in the same flush.
    assert.equal(later?.length, 1);
    assert.deepEqual(later?.[0]?.detail, { dropped: 1 });
    assert.notEqual(later?.[0]?.id, retried?.[0]?.id);
    assert.equal(s.dropped, 2);
    assert.equal(s.buffered, 0);
  });

  it('refuses invalid options at construction', () => {
    const ok = { endpoint: 'http://127.0.0.1:1', maxBuffer: 1, batchSize: 1 };
    assert.throws(() => new HttpSink({ ...ok, endpoint: 'not a url' }), TypeError);
    assert.throws(() => new HttpSink({ ...ok, endpoint: 'ftp://host' }), TypeError);
    assert.throws(() => new HttpSink({ ...ok, maxBuffer: 0 }), TypeError);
    assert.throws(() => new HttpSink({ ...ok, batchSize: 1.5 }), TypeError);
    assert.throws(() => new HttpSink({ ...ok, timeoutMs: -1 }), TypeError);
    assert.throws(() => new HttpSink({ ...ok, token: 'a\r\nx-injected: 1' }), TypeError);
  });
});
