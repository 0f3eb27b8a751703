/**
 * The event firewall in process: extraction per event shape, the input and sink detectors, the
 * verdict through protect() and the Middy middleware, and the pg hook against the real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GuardServices } from '../src/control.js';
import {
  execFinding,
  jsMarkerFinding,
  keyFinding,
  pathFinding,
  shellFinding,
  sqlFinding,
  urlFinding,
} from '../src/firewall/detectors.js';
import { eventKind, extractInputs, type Input } from '../src/firewall/extract.js';
import { createFirewallControl, payloadFingerprint } from '../src/firewall/firewall.js';
import type { InvocationRecord } from '../src/guard.js';
import { resetSharedGuardForTests } from '../src/guard.js';
import { guardMiddleware, protect } from '../src/index.js';
import { inspectSink, setSinkInspector } from '../src/sink-inspector.js';

const at = (value: string, location = 'query.x'): Input[] => [{ location, value }];
const locations = (event: unknown) => extractInputs(event).inputs.map((i) => i.location);

function v2(over: Record<string, unknown> = {}) {
  return {
    version: '2.0',
    rawPath: '/items',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'user-agent': 'ua/1' },
    requestContext: { http: { method: 'POST', path: '/items', sourceIp: '203.0.113.9' } },
    isBase64Encoded: false,
    ...over,
  };
}
function v1(over: Record<string, unknown> = {}) {
  return {
    httpMethod: 'POST',
    path: '/items',
    headers: { 'Content-Type': 'application/json' },
    requestContext: { identity: { sourceIp: '198.51.100.1' } },
    ...over,
  };
}
const sqs = (body: string) => ({ Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body }] });

describe('event extraction', () => {
  it('names every input of an HTTP API v2 event by location', () => {
    const event = v2({
      queryStringParameters: { q: 'chairs' },
      pathParameters: { id: '42' },
      cookies: ['session=abc', 'theme=dark'],
      body: '{"card":{"number":"4111 1111"},"items":[{"sku":"A-1"}]}',
    });
    assert.equal(eventKind(event), 'apigateway-v2');
    const locs = locations(event);
    for (const l of [
      'headers.user-agent',
      'query.q',
      'path.id',
      'cookies.session',
      'body',
      'body.card.number',
      'body.items[0].sku',
    ])
      assert.ok(locs.includes(l), `${l} in ${locs.join(', ')}`);
    assert.ok(!locs.some((l) => l.startsWith('requestContext')), 'the gateway context is not caller input');
  });

  it('reads REST v1 form and base64 bodies and the cookie header', () => {
    const form = v1({
      headers: { 'content-type': 'application/x-www-form-urlencoded', Cookie: 'sid=xyz' },
      body: Buffer.from('name=O%27Reilly&city=Z%C3%BCrich&user[$ne]=1').toString('base64'),
      isBase64Encoded: true,
    });
    assert.equal(eventKind(form), 'apigateway-v1');
    const x = extractInputs(form);
    const byLoc = Object.fromEntries(x.inputs.map((i) => [i.location, i.value]));
    assert.equal(byLoc['body.name'], "O'Reilly");
    assert.equal(byLoc['body.city'], 'Zürich');
    assert.equal(byLoc['cookies.sid'], 'xyz');
    assert.deepEqual(
      x.keys.map((k) => k.key),
      ['$ne'],
    );
  });

  it('reads ALB (percent-encoded query), SQS, SNS, S3, EventBridge and DynamoDB stream events', () => {
    const alb = {
      requestContext: { elb: {} },
      httpMethod: 'GET',
      path: '/a',
      headers: {},
      queryStringParameters: { q: 'a%20b' },
    };
    assert.deepEqual(extractInputs(alb).inputs.find((i) => i.location === 'query.q')?.value, 'a b');
    assert.ok(locations(sqs('{"x":{"y":"z"}}')).includes('Records[0].body.x.y'));
    const sns = { Records: [{ EventSource: 'aws:sns', Sns: { Message: '{"order":"1"}', Subject: 'hi' } }] };
    assert.ok(locations(sns).includes('Records[0].Sns.Message.order'));
    const s3 = {
      Records: [{ eventSource: 'aws:s3', s3: { object: { key: 'uploads/my+file%281%29.txt' } } }],
    };
    assert.equal(extractInputs(s3).inputs[0]?.value, 'uploads/my file(1).txt');
    const eb = { 'detail-type': 'OrderPlaced', source: 'shop', detail: { customer: { name: 'Ann' } } };
    assert.ok(locations(eb).includes('detail.customer.name'));
    const ddb = {
      Records: [{ eventSource: 'aws:dynamodb', dynamodb: { NewImage: { note: { S: 'hello' } } } }],
    };
    assert.ok(locations(ddb).includes('Records[0].dynamodb.NewImage.note.S'));
    assert.ok(
      locations({ action: 'post', account: 'a1' }).includes('account'),
      'a direct invoke is walked from its root',
    );
  });

  it('finds pollution keys at any depth and NoSQL operators, and only those', () => {
    const body = JSON.stringify({
      a: { b: [{ c: { __proto__: { x: 1 } } }] },
      d: { constructor: { prototype: { y: 1 } } },
      u: { $gt: '' },
    });
    // JSON.stringify drops an own __proto__ written as a literal key above: build the text by hand.
    const text = body.replace('"c":{}', '"c":{"__proto__":{"x":1}}');
    const x = extractInputs(v2({ body: text }));
    const findings = x.keys.map(keyFinding).filter((f) => f !== undefined);
    assert.deepEqual(
      findings.map((f) => `${f.detector} ${f.location}`).sort(),
      [
        'nosql-injection body.u.$gt',
        'prototype-pollution body.a.b[0].c.__proto__',
        'prototype-pollution body.d.constructor',
      ].sort(),
    );
    const benign = extractInputs(
      v2({ body: '{"$schema":"https://x","constructor":"Acme","prototype":"v2"}' }),
    );
    assert.deepEqual(benign.keys.map(keyFinding).filter(Boolean), []);
  });
});

describe('input detectors', () => {
  it('recognises node-serialize, constructor.constructor and process.mainModule payloads', () => {
    for (const payload of [
      "_$$ND_FUNC$$_function(){require('child_process').exec('id')}()",
      "this.constructor['constructor']('return process')()",
      'x = global.process.mainModule.require("fs")',
      "[].constructor?.constructor('return 1')()",
    ])
      assert.equal(
        jsMarkerFinding({ location: 'body.x', value: payload })?.detector,
        'js-injection',
        payload,
      );
    for (const prose of [
      'class Foo { constructor() { this.x = 1; } }',
      'the constructor constructor pattern in Java',
      "const fs = require('fs');",
      'process module documentation',
    ])
      assert.equal(jsMarkerFinding({ location: 'body.x', value: prose }), undefined, prose);
  });

  it('fingerprints the normalised payload, not its digits, case or spacing', () => {
    assert.equal(payloadFingerprint("' OR 1=1 --"), payloadFingerprint("' or 7=7   --"));
    assert.notEqual(payloadFingerprint("' OR 1=1 --"), payloadFingerprint('hello'));
    assert.match(payloadFingerprint('x'), /^[0-9a-f]{16}$/);
  });
});

describe('sink detectors', () => {
  it('shell: refuses input that leaves its quotes or brings operators and substitutions', () => {
    const cmd = (u: string) => `curl --silent -o /dev/null "${u}"`;
    for (const u of [
      'https://x/"; id; echo "',
      'https://x/$(id)',
      'https://x/`id`',
      'x" -o /tmp/x "',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion is the payload
      '${HOME}',
    ])
      assert.equal(shellFinding(cmd(u), at(u))?.detector, 'command-injection', u);
    for (const u of ['https://x.example.com/a?b=1&c=2;d', 'https://x/a|b', "O'Reilly & sons > 3"])
      assert.equal(shellFinding(cmd(u), at(u)), undefined, u);
    // Unquoted: operators are structure.
    assert.equal(shellFinding('ls /data/x; id', at('x; id'))?.location, 'query.x');
    assert.equal(shellFinding('ls /data/report.pdf', at('report.pdf')), undefined);
  });

  it('exec: an argument the caller chose whole that starts with - is an option', () => {
    assert.equal(
      execFinding('/usr/bin/curl -o/var/task/x https://a', at('-o/var/task/x'))?.detector,
      'command-injection',
    );
    assert.equal(execFinding('/usr/bin/curl https://a', at('https://a')), undefined);
  });

  it('sql: input inside one literal is data; input that shapes the statement is refused', () => {
    const q = (s: string) => `SELECT id FROM t WHERE private = false AND title ILIKE '%${s}%' ORDER BY id`;
    for (const s of [
      "' OR 1=1 --",
      "x' OR 'a'='a",
      "'; DROP TABLE t --",
      "' UNION SELECT password FROM users --",
      "')||pg_sleep(5)--",
    ])
      assert.equal(sqlFinding(q(s), at(s), 'postgres')?.detector, 'sql-injection', s);
    for (const s of [
      "O'Reilly",
      "Don't stop, won't stop",
      'select the best chair',
      'drop shipping -- fast',
      "Rock 'n' roll; jazz & blues",
    ])
      assert.equal(sqlFinding(q(s), at(s), 'postgres'), undefined, s);
    assert.equal(sqlFinding('SELECT * FROM t ORDER BY title DESC', at('title DESC'), 'postgres'), undefined);
    // After an operator, a closed string followed by a bare word is a syntax error even with a `;`
    // later; in a select list the same word is an alias, and what follows the `;` would run.
    const prose = "it's fine; he's here";
    assert.equal(sqlFinding(q(prose), at(prose), 'postgres'), undefined);
    const alias = "x' foo; DROP TABLE t; --";
    assert.equal(sqlFinding(`SELECT '${alias}' AS label`, at(alias), 'postgres')?.detector, 'sql-injection');
    assert.equal(
      sqlFinding('SELECT * FROM t ORDER BY id UNION SELECT 1', at('id UNION SELECT 1'), 'postgres')?.detector,
      'sql-injection',
    );
    assert.equal(
      sqlFinding("SELECT * FROM t WHERE a = '' OR 1=1 #'", at("' OR 1=1 #"), 'mysql')?.detector,
      'sql-injection',
    );
    // MySQL's backslash escape keeps this one string literal: data.
    assert.equal(
      sqlFinding("SELECT * FROM t WHERE a = 'x\\' OR 1=1 -- '", at("x\\' OR 1=1 -- "), 'mysql'),
      undefined,
    );
    assert.equal(
      sqlFinding('SELECT * FROM t WHERE a = $1', at("' OR 1=1 --"), 'postgres'),
      undefined,
      'parameters never match',
    );
  });

  it('path: refuses input that climbs out of its directory or names a sensitive root', () => {
    assert.equal(
      pathFinding('/var/task/files/../secret.txt', at('../secret.txt'))?.detector,
      'path-traversal',
    );
    assert.equal(
      pathFinding('/etc/passwd', at('../../../../etc/passwd'))?.detector,
      'path-traversal',
      'joined and normalised',
    );
    assert.equal(pathFinding('/etc/passwd', at('/etc/passwd'))?.detector, 'path-traversal');
    assert.equal(pathFinding('/var/task/files/report.pdf', at('report.pdf')), undefined);
    assert.equal(pathFinding('/var/task/files/data..backup.csv', at('data..backup.csv')), undefined);
    assert.equal(
      pathFinding('/tmp/up/a/../b.txt', at('a/../b.txt'), '/tmp/up'),
      undefined,
      'stays under base',
    );
  });

  it('url: refuses input that chooses an internal host or changes the host', () => {
    for (const u of [
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:8080/',
      'http://[::1]/',
      'file:///etc/passwd',
    ])
      assert.equal(urlFinding(u, at(u))?.detector, 'ssrf', u);
    assert.equal(urlFinding('http://127.0.0.1/', at('http://2130706433/'))?.detector, 'ssrf', 'decimal IPv4');
    assert.equal(urlFinding('https://api.example.com@evil.net/x', at('@evil.net/x'))?.detector, 'ssrf');
    assert.equal(urlFinding('https://www.example.org/a?b=1', at('https://www.example.org/a?b=1')), undefined);
    assert.equal(urlFinding('https://api.example.com/items/42', at('42')), undefined);
    // A connection as the egress hooks describe it.
    assert.equal(urlFinding('tcp://127.0.0.1:9000', at('http://0x7f000001:9000/x'))?.detector, 'ssrf');
    assert.equal(urlFinding('tcp://93.184.216.34:443', at('https://example.com/')), undefined);
  });
});

// ---------------------------------------------------------------------------------------------------
// The control, protect() and middy
// ---------------------------------------------------------------------------------------------------

function fakeServices() {
  const events: Array<Record<string, unknown>> = [];
  const services: GuardServices = {
    report: (e) => events.push(e as unknown as Record<string, unknown>),
    recycle: () => undefined,
    current: () => ({ requestId: 'r1', number: 1, startedAt: 0, sourceIp: '203.0.113.9' }),
  };
  return { events, services };
}
const RECORD: InvocationRecord = { requestId: 'r1', number: 1, startedAt: 0, sourceIp: '203.0.113.9' };
const POLLUTED = '{"a":1,"__proto__":{"isAdmin":true}}';

describe('firewall control', () => {
  after(() => setSinkInspector(undefined));

  it('block: 403 in the event shape before the handler, EPHEMERA_ERR_BLOCKED for other events; reports without values', () => {
    const { events, services } = fakeServices();
    const control = createFirewallControl({ action: 'block' });
    control.init?.(services);
    const r2 = control.beforeInvoke?.(RECORD, v2({ body: POLLUTED })) as {
      response: Record<string, unknown>;
    };
    assert.equal(r2.response.statusCode, 403);
    assert.equal(r2.response.body, '{"message":"Forbidden"}');
    const r1 = control.beforeInvoke?.(RECORD, v1({ body: POLLUTED })) as {
      response: Record<string, unknown>;
    };
    assert.equal(r1.response.statusCode, 403);
    const alb = control.beforeInvoke?.(RECORD, {
      requestContext: { elb: {} },
      httpMethod: 'POST',
      path: '/',
      headers: {},
      body: POLLUTED,
    }) as {
      response: Record<string, unknown>;
    };
    assert.equal(alb.response.statusDescription, '403 Forbidden');
    const q = control.beforeInvoke?.(RECORD, sqs(POLLUTED)) as unknown as { error: Error & { code: string } };
    assert.equal(q.error.code, 'EPHEMERA_ERR_BLOCKED');
    assert.match(q.error.message, /prototype-pollution in Records\[0\]\.body\.__proto__/);
    assert.equal(control.beforeInvoke?.(RECORD, v2({ body: '{"name":"O\'Reilly"}' })), undefined);
    const e = events[0] as { type: string; control: string; detail: Record<string, unknown> };
    assert.equal(e.type, 'block');
    assert.equal(e.control, 'firewall');
    assert.deepEqual(Object.keys(e.detail).sort(), [
      'detector',
      'eventKind',
      'fingerprint',
      'location',
      'phase',
      'sink',
      'sourceIp',
    ]);
    assert.equal(e.detail.sourceIp, '203.0.113.9');
    assert.ok(!JSON.stringify(events).includes('isAdmin'), 'no value from the event in any report');
  });

  it('sink checks use the current event; alert mode reports and lets the call run', () => {
    const { events, services } = fakeServices();
    const control = createFirewallControl({ action: 'alert' });
    control.init?.(services);
    assert.equal(control.beforeInvoke?.(RECORD, v2({ body: POLLUTED })), undefined, 'alert never refuses');
    control.beforeInvoke?.(RECORD, v2({ queryStringParameters: { f: '../../etc/passwd' } }));
    assert.equal(inspectSink('path', '/etc/passwd', { sink: 'fs.readFile' }), undefined);
    const last = events.at(-1) as { type: string; detail: Record<string, unknown> };
    assert.equal(last.type, 'alert');
    assert.equal(last.detail.detector, 'path-traversal');
    assert.equal(last.detail.location, 'query.f');
    assert.equal(last.detail.sink, 'fs.readFile');
    const block = createFirewallControl({ action: 'block' });
    block.init?.(fakeServices().services);
    block.beforeInvoke?.(RECORD, v2({ queryStringParameters: { f: '../../etc/passwd' } }));
    const refusal = inspectSink('path', '/etc/passwd', { sink: 'fs.readFile' }) as Error & { code: string };
    assert.equal(refusal.code, 'EPHEMERA_ERR_BLOCKED');
    assert.equal(inspectSink('path', '/var/task/files/a.txt', { sink: 'fs.readFile' }), undefined);
  });
});

describe('adapters honour the verdict', () => {
  const policy = { mode: 'off', firewall: 'block', telemetry: 'off', lifecycle: 'off' } as const;
  before(() => resetSharedGuardForTests());
  after(() => {
    resetSharedGuardForTests();
    setSinkInspector(undefined);
  });

  it('protect(): the handler does not run for a refused event; good events and handler errors are untouched', async () => {
    let calls = 0;
    const handler = protect(async (event: Record<string, unknown>, _context: unknown) => {
      calls++;
      if (event.body === '{"fail":true}') throw new Error('handler failed');
      return { statusCode: 200, body: 'ok' };
    }, policy);
    const blocked = (await handler(v2({ body: POLLUTED }), {})) as { statusCode: number };
    assert.equal(blocked.statusCode, 403);
    assert.equal(calls, 0);
    await assert.rejects(handler(sqs('{"u":{"$ne":""}}') as never, {}), { code: 'EPHEMERA_ERR_BLOCKED' });
    assert.equal(calls, 0);
    assert.deepEqual(await handler(v2({ body: '{"name":"O\'Reilly"}' }), {}), {
      statusCode: 200,
      body: 'ok',
    });
    await assert.rejects(handler(v2({ body: '{"fail":true}' }), {}), /handler failed/);
    assert.equal(calls, 2);
  });

  it('protect(): a sink the firewall refused inside the handler becomes the same 403', async () => {
    const handler = protect(async (_event: unknown, _context: unknown) => {
      const refusal = inspectSink('path', '/etc/passwd', { sink: 'fs.readFile' });
      if (refusal) throw refusal;
      return { statusCode: 200 };
    }, policy);
    const r = (await handler(v2({ queryStringParameters: { f: '../../../etc/passwd' } }), {})) as {
      statusCode: number;
    };
    assert.equal(r.statusCode, 403);
  });

  it('middy: before returns the 403 early, onError turns a sink refusal into it', async () => {
    type Loose = ((event: unknown, context: unknown) => Promise<unknown>) & { use(m: unknown): Loose };
    const middy = (await import('@middy/core')).default as unknown as (
      h: (e: never) => Promise<unknown>,
    ) => Loose;
    let calls = 0;
    const handler = middy(async (event: { queryStringParameters?: { f?: string } }) => {
      calls++;
      const refusal = event.queryStringParameters?.f
        ? inspectSink('path', '/etc/passwd', { sink: 'fs.readFile' })
        : undefined;
      if (refusal) throw refusal;
      return { statusCode: 200 };
    }).use(guardMiddleware(policy));
    const early = (await handler(v2({ body: POLLUTED }) as never, {} as never)) as { statusCode: number };
    assert.equal(early.statusCode, 403);
    assert.equal(calls, 0);
    const sink = (await handler(
      v2({ queryStringParameters: { f: '../../../etc/passwd' } }) as never,
      {} as never,
    )) as {
      statusCode: number;
    };
    assert.equal(sink.statusCode, 403);
    assert.deepEqual(await handler(v2() as never, {} as never), { statusCode: 200 });
  });
});

describe('pg hook against the real PostgreSQL', () => {
  const config = {
    host: process.env.PGHOST ?? '127.0.0.1',
    user: process.env.PGUSER ?? 'ephemera',
    password: process.env.PGPASSWORD ?? 'ephemera',
    database: process.env.PGDATABASE ?? 'ephemera',
  };
  after(() => setSinkInspector(undefined));

  it('refuses an injected statement before it reaches the server; parameters and benign text pass', async () => {
    const control = createFirewallControl({ action: 'block' });
    const { services, events } = fakeServices();
    control.init?.(services);
    interface PgResult {
      rows: Array<Record<string, unknown>>;
    }
    interface PgClient {
      connect(): Promise<void>;
      end(): Promise<void>;
      query(text: string, values?: unknown): Promise<PgResult>;
      query(text: string, callback: (err: Error | null) => void): void;
    }
    const pg = require('pg') as {
      Client: new (c: object) => PgClient;
      Pool: new (c: object) => { query(text: string): Promise<PgResult>; end(): Promise<void> };
    };
    const client = new pg.Client(config);
    await client.connect();
    try {
      control.beforeInvoke?.(RECORD, v2({ queryStringParameters: { q: "' OR 1=1 --" } }));
      const q = "' OR 1=1 --";
      await assert.rejects(client.query(`SELECT 1 AS x WHERE 'a' = '${q}'`), {
        code: 'EPHEMERA_ERR_BLOCKED',
      });
      const viaCallback = await new Promise<Error | null>((resolve) =>
        client.query(`SELECT 1 AS x WHERE 'a' = '${q}'`, (err: Error | null) => resolve(err)),
      );
      assert.equal((viaCallback as Error & { code: string }).code, 'EPHEMERA_ERR_BLOCKED');
      const safe = await client.query('SELECT $1::text AS x', [q]);
      assert.equal(safe.rows[0]?.x, q);
      const pool = new pg.Pool(config);
      await assert.rejects(pool.query(`SELECT 1 WHERE 'a' = '${q}'`), { code: 'EPHEMERA_ERR_BLOCKED' });
      await pool.end();
      control.beforeInvoke?.(RECORD, v2({ queryStringParameters: { q: "O'Reilly" } }));
      const oreilly = "O''Reilly";
      const ok = await client.query(`SELECT '${oreilly}' AS x`);
      assert.equal(ok.rows[0]?.x, "O'Reilly");
      assert.ok(events.some((e) => (e.detail as Record<string, unknown>).sink === 'pg.Client.query'));
      assert.ok(control.describe?.().sqlHooked);
    } finally {
      await client.end();
    }
  });
});

describe('mysql2 hook (no MySQL server here: the refusal happens before the driver sends anything)', () => {
  after(() => setSinkInspector(undefined));

  it('refuses an injected statement through Connection#query; benign statements reach the driver', async () => {
    const control = createFirewallControl({ action: 'block' });
    control.init?.(fakeServices().services);
    type Cb = (err: (Error & { code?: string }) | null) => void;
    interface Conn {
      query(sql: string, cb: Cb): unknown;
      on(event: string, fn: (e: Error) => void): void;
      destroy(): void;
    }
    const mysql = require('mysql2') as {
      createConnection(c: object): Conn;
    };
    const hooked = (control.describe?.().sqlHooked ?? []) as string[];
    assert.ok(hooked.includes('mysql2.Connection.query'), hooked.join());
    control.beforeInvoke?.(RECORD, v2({ queryStringParameters: { q: "' OR 1=1 #" } }));
    const statement = "SELECT * FROM t WHERE a = '' OR 1=1 #'";
    const config = { host: '127.0.0.1', port: 1, connectTimeout: 500 };
    const conn = mysql.createConnection(config);
    conn.on('error', () => undefined);
    const viaCallback = await new Promise<(Error & { code?: string }) | null>((resolve) =>
      conn.query(statement, resolve),
    );
    assert.equal(viaCallback?.code, 'EPHEMERA_ERR_BLOCKED');
    // A benign statement reaches the driver (and fails there: no server).
    const benign = await new Promise<(Error & { code?: string }) | null>((resolve) =>
      conn.query('SELECT 1', resolve),
    );
    assert.notEqual(benign?.code, 'EPHEMERA_ERR_BLOCKED');
    conn.destroy();
    // Pools (callback and promise) check out a connection first, which needs a server; their queries
    // go through the same Connection#query once they have one (not exercised here).
  });
});
