'use strict';
// Legitimate work a function does at invoke time, after the baseline. None of it may be reported as
// drift: run-implant.cjs --benign <name> must print zero drifts on every supported Node version.
//
// EPHEMERA_IMPLANT_TLS_KEY / EPHEMERA_IMPLANT_TLS_CERT (PEM files, optional): a self-signed pair for a
// local https server, so the TLS client path (https.request with a keep-alive agent, fetch over TLS
// is not possible without a trusted CA) is exercised too.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function request(mod, options, body) {
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function networkWork() {
  const handler = (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length }));
    });
  };
  const server = http.createServer(handler);
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;

  // fetch (undici's global dispatcher is created here: benign first appearance), twice on keep-alive.
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${base}/fetch/${i}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': String(i) },
      body: JSON.stringify({ i }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(response.status, 200);
    await response.json();
  }
  // Web streams body.
  const streamed = await fetch(`${base}/stream`);
  const reader = streamed.body.getReader();
  while (!(await reader.read()).done) {}

  // An AWS-SDK-like keep-alive agent (the SDK's NodeHttpHandler builds exactly this).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50, keepAliveMsecs: 1000 });
  for (let i = 0; i < 3; i++) {
    await request(
      http,
      { host: '127.0.0.1', port, path: `/agent/${i}`, method: 'PUT', agent },
      'x'.repeat(100),
    );
  }
  // The default global agent, http.get.
  await new Promise((resolve, reject) => {
    http
      .get(`${base}/get`, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });

  // https to a local TLS server with a keep-alive agent, when the test provided a key pair.
  const keyFile = process.env.EPHEMERA_IMPLANT_TLS_KEY;
  const certFile = process.env.EPHEMERA_IMPLANT_TLS_CERT;
  if (keyFile && certFile) {
    const cert = fs.readFileSync(certFile);
    const tlsServer = https.createServer({ key: fs.readFileSync(keyFile), cert }, handler);
    const tlsPort = await listen(tlsServer);
    const tlsAgent = new https.Agent({ keepAlive: true, ca: cert, maxSockets: 50 });
    for (let i = 0; i < 2; i++) {
      await request(
        https,
        { host: '127.0.0.1', port: tlsPort, path: `/tls/${i}`, method: 'POST', agent: tlsAgent },
        '{}',
      );
    }
    await request(https, {
      host: '127.0.0.1',
      port: tlsPort,
      path: '/tls/default',
      ca: cert,
      servername: 'localhost',
    });
    tlsAgent.destroy();
    tlsServer.closeAllConnections?.();
    tlsServer.close();
  }

  agent.destroy();
  server.closeAllConnections?.();
  server.close();

  // DNS.
  await new Promise((resolve, reject) =>
    require('node:dns').lookup('localhost', (e) => (e ? reject(e) : resolve())),
  );
  await require('node:dns/promises').lookup('localhost');
}

async function computeWork(ctx) {
  const crypto = require('node:crypto');
  crypto.randomUUID();
  crypto.randomBytes(32).toString('hex');
  crypto.createHash('sha256').update('payload').digest('base64');
  crypto.createHmac('sha256', 'key').update('payload').digest('hex');
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signature = crypto.sign('sha256', Buffer.from('jwt'), privateKey);
  assert.ok(crypto.verify('sha256', Buffer.from('jwt'), publicKey, signature));
  const key = crypto.randomBytes(32);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  Buffer.concat([cipher.update('secret'), cipher.final()]);
  crypto.timingSafeEqual(Buffer.alloc(4), Buffer.alloc(4));
  await crypto.webcrypto.subtle.digest('SHA-256', new TextEncoder().encode('x'));
  await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array([1, 2, 3]));
  globalThis.crypto.getRandomValues(new Uint8Array(8));

  const zlib = require('node:zlib');
  zlib.gunzipSync(zlib.gzipSync(Buffer.from('x'.repeat(1000))));
  zlib.brotliDecompressSync(zlib.brotliCompressSync('y'.repeat(1000)));
  await new Promise((resolve, reject) => zlib.deflate('z', (e) => (e ? reject(e) : resolve())));

  const buffer = Buffer.from('hello world', 'utf8');
  Buffer.concat([buffer, Buffer.alloc(10), Buffer.allocUnsafe(10)]).toString('base64');
  Buffer.from(buffer.toString('base64url'), 'base64url').equals(buffer);
  Buffer.byteLength('héllo');

  JSON.parse(JSON.stringify({ a: [1, 2, { b: new Date() }], c: 'ü' }, null, 2));
  structuredClone({ a: new Map([[1, 2]]), b: new Set([1]) });
  const url = new URL('https://example.com/a/b?x=1#h');
  url.searchParams.append('y', '2');
  String(url);
  new URLSearchParams('a=1&b=2').toString();
  new TextDecoder().decode(new TextEncoder().encode('ü'));
  atob(btoa('x'));
  const controller = new AbortController();
  controller.abort();
  new Intl.NumberFormat('en-US').format(1234.5);
  new Date().toLocaleString('en-US', { timeZone: 'UTC' });
  'a-b-c'
    .replace(/-(?<x>\w)/g, '$<x>')
    .split('')
    .map((c) => c.toUpperCase())
    .sort()
    .join(',');
  [...new Map([[1, 1]]).entries()].flat();
  Object.entries({ a: 1 }).reduce((n, [, v]) => n + v, 0);
  Math.max(...[1, 2, 3], Math.random());
  BigInt(2) ** 64n;
  new WeakRef({});
  new Blob(['x']);
  new Headers({ a: 'b' }).get('a');
  new Response('x').status;
  new Request('http://127.0.0.1/').method;
  await new Promise((resolve) => queueMicrotask(resolve));
  await Promise.allSettled([Promise.resolve(1), Promise.reject(new Error('x'))]);
  for await (const _ of (async function* () {
    yield 1;
  })()) {
  }

  // Errors and stacks.
  new Error('with stack').stack;
  const holder = {};
  Error.captureStackTrace(holder);
  holder.stack;
  try {
    null.x;
  } catch (error) {
    error.stack;
  }
  await (async () => {
    try {
      await Promise.reject(new TypeError('async'));
    } catch (error) {
      error.stack;
    }
  })();
  const util = require('node:util');
  util.inspect({ deep: { nested: [1, 2, 3] }, fn() {}, sym: Symbol('s') }, { depth: 5, colors: false });
  util.format('%s %d %j %o', 'a', 1, { b: 2 }, [3]);
  await util.promisify(setTimeout)(1);
  util.types.isPromise(Promise.resolve());
  util.isDeepStrictEqual({ a: 1 }, { a: 1 });

  // Timers.
  await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setImmediate(resolve));
  const interval = setInterval(() => {}, 1000);
  clearInterval(interval);
  clearTimeout(setTimeout(() => {}, 1000).unref());
  await require('node:timers/promises').setTimeout(1);

  // Streams.
  const { Readable, Transform, PassThrough, pipeline } = require('node:stream');
  const upper = new Transform({
    transform(chunk, _encoding, done) {
      done(null, chunk.toString().toUpperCase());
    },
  });
  const sink = new PassThrough();
  const collected = [];
  sink.on('data', (c) => collected.push(c));
  await new Promise((resolve, reject) =>
    pipeline(Readable.from(['a', 'b']), upper, sink, (e) => (e ? reject(e) : resolve())),
  );
  await require('node:stream/promises').pipeline(Readable.from(['x']), new PassThrough().resume());
  const web = new ReadableStream({
    start(c) {
      c.enqueue('w');
      c.close();
    },
  });
  for await (const _ of web) {
  }
  await Readable.fromWeb(new Blob(['blob']).stream()).toArray();

  // Events.
  const { EventEmitter, once } = require('node:events');
  const emitter = new EventEmitter();
  setImmediate(() => emitter.emit('ready', 1));
  await once(emitter, 'ready');
  const target = new EventTarget();
  target.addEventListener('x', () => {}, { once: true });
  target.dispatchEvent(new Event('x'));

  // Async context.
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  await als.run({ id: 1 }, async () => als.getStore());

  // Console (AWS's runtime client patched it before the baseline; using it changes nothing).
  console.log('benign: log', { a: 1 });
  console.info('benign: info');
  console.warn('benign: warn');
  console.error('benign: error', new Error('logged'));
  console.debug('benign: debug');
  console.dir({ a: { b: 1 } }, { depth: 0 });
  console.table([{ a: 1 }]);
  console.time('t');
  console.timeEnd('t');
  console.count('c');
  process.stdout.write('benign: stdout\n');
  process.stderr.write('benign: stderr\n');

  // Files: the deployment (read-only) and the temp dir.
  fs.readFileSync(path.join(ctx.taskRoot, 'lib', 'data.json'), 'utf8');
  const scratch = path.join(ctx.tmpDir, `ephemera-benign-${process.pid}.txt`);
  await fs.promises.writeFile(scratch, 'x');
  await require('node:fs/promises').readFile(scratch);
  fs.rmSync(scratch, { force: true });

  // The runtime client's per-invocation trace header.
  process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000000;Sampled=0';
  delete process.env._X_AMZN_TRACE_ID;
  process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000001;Sampled=1';

  // Module-scope state of the function's own modules (data, not hooks).
  require(path.join(ctx.taskRoot, 'lib', 'greeter.js')).bump();
  process.exitCode = undefined;
}

const workloads = {
  typical: {
    apply: async (ctx) => {
      // The handler's lazy require of its own files (lib/lazy.js → helper.js, data.json).
      const result = await ctx.handlerModule.handler({ name: 'benign' });
      assert.equal(result.lazy, '[lazy]');
      await computeWork(ctx);
      await networkWork();
    },
  },
  'aws-sdk': {
    // The real AWS SDK v3 (as a deployment bundles it), against a local endpoint with fake keys:
    // its lazy requires of credential providers, middleware and the keep-alive NodeHttpHandler.
    setup: (ctx) => {
      ctx.sdk = require(require.resolve('@aws-sdk/client-lambda', { paths: [ctx.taskRoot, __dirname] }));
    },
    apply: async (ctx) => {
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ Functions: [] }));
        });
      });
      const port = await listen(server);
      const client = new ctx.sdk.LambdaClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        maxAttempts: 1,
      });
      for (let i = 0; i < 2; i++) await client.send(new ctx.sdk.ListFunctionsCommand({}));
      client.destroy();
      server.closeAllConnections?.();
      server.close();
      await computeWork(ctx);
    },
  },
};

module.exports = { workloads };
