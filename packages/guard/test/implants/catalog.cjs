'use strict';
// The implant catalog: each technique is what an attacker's code, run once inside a warm
// environment, would do to see later requests — or to blind the detectors before doing so.
//
//   name: {
//     expect(ctx) → the exact drift paths the detectors must report (sorted comparison, no extras);
//                   called after apply(),
//     setup?(ctx)  → runs during INIT, before the baseline (legitimate state the implant targets),
//     apply(ctx)   → the implant, run after the baseline (may be async),
//     state?       → values ctx.state must hold afterwards (e.g. a planted getter never fired),
//     sensitive?   → every drift must carry detail.sensitive = true (environment variables),
//   }
//
// ctx: { taskRoot, tmpDir, optDirs, handlerModule, state, boundary() } — boundary() runs every
// detector's check as the end of an invocation would (its drifts are counted in state.boundaryDrifts).
//
// Techniques are applied in a fresh process each (run-implant.cjs), never in the test's own.
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const Module = require('node:module');

/** A forwarding wrapper, as a real implant would install (it keeps the function working). */
function wrap(original, onCall) {
  return function wrapped(...args) {
    if (onCall) onCall(args);
    return Reflect.apply(original, this, args);
  };
}

/** A local HTTP server (127.0.0.1, ephemeral port); resolves to its base URL. */
function localServer() {
  return new Promise((resolve) => {
    const server = http.createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${server.address().port}/`);
    });
  });
}

async function fetchOnce() {
  const url = await localServer();
  const response = await fetch(url);
  await response.text();
}

const DISPATCHER_1 = Symbol.for('undici.globalDispatcher.1');
const DISPATCHER_PATH_1 = 'globalThis[Symbol.for(undici.globalDispatcher.1)]';

const greeterFile = (ctx) => path.join(ctx.taskRoot, 'lib', 'greeter.js');

const techniques = {
  // ---- JavaScript intrinsics -------------------------------------------------------------
  'json-parse-wrap': {
    expect: () => ['JSON.parse'],
    apply: () => {
      JSON.parse = wrap(JSON.parse);
    },
  },
  'object-prototype-tojson': {
    expect: () => ['Object.prototype.toJSON'],
    apply: () => {
      Object.prototype.toJSON = function toJSON() {
        return this;
      };
    },
  },
  'promise-then-wrap': {
    expect: () => ['Promise.prototype.then'],
    apply: () => {
      const then = 'then';
      Promise.prototype[then] = wrap(Promise.prototype[then]);
    },
  },
  'array-symbol-iterator': {
    expect: () => ['Array.prototype[Symbol.iterator]'],
    apply: () => {
      Array.prototype[Symbol.iterator] = wrap(Array.prototype[Symbol.iterator]);
    },
  },
  'array-iterator-next': {
    expect: () => ['ArrayIterator.prototype.next'],
    apply: () => {
      const proto = Object.getPrototypeOf([][Symbol.iterator]());
      proto.next = wrap(proto.next);
    },
  },
  'error-prepare-stack-trace': {
    expect: () => ['Error.prepareStackTrace'],
    apply: () => {
      Error.prepareStackTrace = (error, frames) => `${error}\n${frames.join('\n')}`;
    },
  },
  'reflect-apply-wrap': {
    expect: () => ['Reflect.apply'],
    apply: () => {
      const original = Reflect.apply;
      Reflect.apply = (fn, self, args) => original(fn, self, args);
    },
  },
  'string-replace-wrap': {
    expect: () => ['String.prototype.replace'],
    apply: () => {
      String.prototype.replace = wrap(String.prototype.replace);
    },
  },
  'array-map-wrap': {
    expect: () => ['Array.prototype.map'],
    apply: () => {
      Array.prototype.map = wrap(Array.prototype.map);
    },
  },
  'intrinsic-hooks-batch': {
    // Several hooks at once, as a thorough implant installs them: a stack hook, a species getter
    // (which constructor then() builds), and a method planted on %AsyncFunction.prototype%.
    expect: () => ['Error.captureStackTrace', 'Promise[Symbol.species]', 'AsyncFunction.prototype.hook'],
    apply: () => {
      Error.captureStackTrace = wrap(Error.captureStackTrace);
      const species = Object.getOwnPropertyDescriptor(Promise, Symbol.species);
      Object.defineProperty(Promise, Symbol.species, { ...species, get: wrap(species.get) });
      Object.getPrototypeOf(async () => {}).hook = () => {};
    },
  },
  'array-prototype-proxy': {
    // A Proxy inserted between Array.prototype and Object.prototype sees every missing-key lookup.
    expect: () => ['[[Prototype]] of Array.prototype'],
    apply: () => {
      Object.setPrototypeOf(Array.prototype, new Proxy(Object.prototype, {}));
    },
  },

  // ---- globals ---------------------------------------------------------------------------
  'global-fetch-getter': {
    // The getter must never fire: the detectors read descriptors only.
    expect: () => ['globalThis.fetch'],
    state: { getterFired: false },
    apply: (ctx) => {
      ctx.state.getterFired = false;
      const original = globalThis.fetch;
      Object.defineProperty(globalThis, 'fetch', {
        configurable: true,
        enumerable: true,
        get() {
          ctx.state.getterFired = true;
          return wrap(original);
        },
      });
    },
  },
  'global-prototype-chain-proxy': {
    expect: () => ['[[Prototype]] of Object.getPrototypeOf(globalThis)'],
    apply: () => {
      const holder = Object.getPrototypeOf(globalThis);
      Object.setPrototypeOf(holder, new Proxy(Object.getPrototypeOf(holder), {}));
    },
  },
  'global-chain-revoked-proxy': {
    // A revoked Proxy throws on every trap: the detector must report, not crash.
    expect: () => ['[[Prototype]] of Object.getPrototypeOf(globalThis)'],
    apply: () => {
      const holder = Object.getPrototypeOf(globalThis);
      const { proxy, revoke } = Proxy.revocable(Object.getPrototypeOf(holder), {});
      Object.setPrototypeOf(holder, proxy);
      revoke();
    },
  },
  'console-log-wrap': {
    expect: () => ['console.log'],
    apply: () => {
      console.log = wrap(console.log);
    },
  },
  'global-hooks-batch': {
    // A new global a library probes for, a Buffer factory, a URL getter, WebCrypto's verify (`jose`
    // verifies tokens with it: a patched verify is a persistent auth bypass), and a web global
    // assigned through Node's lazy setter (Node 20: an accessor that turns into a data property).
    expect: () => [
      'globalThis.XMLHttpRequest',
      'Buffer.from',
      'URL.prototype.href',
      'SubtleCrypto.prototype.verify',
      'globalThis.CompressionStream',
    ],
    apply: () => {
      globalThis.XMLHttpRequest = function XMLHttpRequest() {};
      Buffer.from = wrap(Buffer.from);
      const href = Object.getOwnPropertyDescriptor(URL.prototype, 'href');
      Object.defineProperty(URL.prototype, 'href', { ...href, get: wrap(href.get) });
      Object.getPrototypeOf(globalThis.crypto.subtle).verify = async () => true;
      globalThis.CompressionStream = class CompressionStream {};
    },
  },
  'undici-dispatcher-replace': {
    // Invocation 1 uses fetch (dispatcher created: benign, adopted); invocation 2 replaces it.
    expect: () => [DISPATCHER_PATH_1],
    state: { boundaryDrifts: 0 },
    apply: async (ctx) => {
      await fetchOnce();
      ctx.boundary();
      const real = globalThis[DISPATCHER_1];
      globalThis[DISPATCHER_1] = Object.create(real, { dispatch: { value: wrap(real.dispatch) } });
    },
  },
  'undici-dispatch-prototype-wrap': {
    // The function used fetch at INIT: the dispatcher and its prototypes are in the baseline.
    expect: () => ['undici.DispatcherBase.prototype.dispatch'],
    setup: fetchOnce,
    apply: () => {
      const base = Object.getPrototypeOf(Object.getPrototypeOf(globalThis[DISPATCHER_1]));
      base.dispatch = wrap(base.dispatch);
    },
  },

  // ---- built-in modules ------------------------------------------------------------------
  'https-request-replace': {
    expect: () => ['https.request'],
    apply: () => {
      https.request = wrap(https.request);
    },
  },
  'http-client-request-write-wrap': {
    expect: () => ['http.ClientRequest.prototype.write'],
    apply: () => {
      http.ClientRequest.prototype.write = wrap(http.ClientRequest.prototype.write);
    },
  },
  'builtin-hooks-batch': {
    // One wrapper per sink an implant reads or redirects through: TLS, DNS, files, processes,
    // streams, diagnostics, promise hooks, signatures, response bodies, process events and bindings.
    expect: () => [
      'tls.connect',
      'dns.lookup',
      'fs.readFileSync',
      'child_process.spawn',
      'stream.Readable.prototype.push',
      'diagnostics_channel.Channel.prototype.publish',
      'v8.promiseHooks.onInit',
      'crypto.Verify.prototype.verify',
      'http.OutgoingMessage.prototype.end',
      'process.emit',
      'process.binding',
    ],
    apply: () => {
      const tls = require('node:tls');
      tls.connect = wrap(tls.connect);
      const dns = require('node:dns');
      dns.lookup = wrap(dns.lookup);
      fs.readFileSync = wrap(fs.readFileSync);
      const childProcess = require('node:child_process');
      childProcess.spawn = wrap(childProcess.spawn);
      const { Readable } = require('node:stream');
      Readable.prototype.push = wrap(Readable.prototype.push);
      const { Channel } = require('node:diagnostics_channel');
      Channel.prototype.publish = wrap(Channel.prototype.publish);
      require('node:v8').promiseHooks.onInit = () => () => {};
      Object.getPrototypeOf(require('node:crypto').createVerify('sha256')).verify = () => true;
      http.OutgoingMessage.prototype.end = wrap(http.OutgoingMessage.prototype.end);
      process.emit = wrap(process.emit);
      process.binding = wrap(process.binding);
    },
  },
  'agent-hooks-batch': {
    // The global agents: http's replaced through Node's setter (no descriptor changes, only the
    // value behind it), a socket factory and DNS lookups planted on the live instances.
    expect: () => [
      'http.globalAgent',
      'https.globalAgent.createConnection',
      'https.globalAgent.options.lookup',
      'http.globalAgent.options.lookup',
    ],
    apply: () => {
      const original = http.globalAgent;
      http.globalAgent = new http.Agent({ keepAlive: true });
      https.globalAgent.createConnection = wrap(https.Agent.prototype.createConnection);
      https.globalAgent.options.lookup = wrap(require('node:dns').lookup);
      original.options.lookup = wrap(require('node:dns').lookup);
    },
  },
  'net-socket-write-wrap': {
    expect: () => ['net.Socket.prototype.write'],
    apply: () => {
      const net = require('node:net');
      net.Socket.prototype.write = wrap(net.Socket.prototype.write);
    },
  },
  'crypto-create-hash-wrap': {
    expect: () => ['crypto.createHash'],
    apply: () => {
      const crypto = require('node:crypto');
      crypto.createHash = wrap(crypto.createHash);
    },
  },
  'event-emitter-emit-wrap': {
    expect: () => ['EventEmitter.prototype.emit'],
    apply: () => {
      const { EventEmitter } = require('node:events');
      EventEmitter.prototype.emit = wrap(EventEmitter.prototype.emit);
    },
  },
  'process-stdout-write-wrap': {
    expect: () => ['process.stdout.write'],
    apply: () => {
      process.stdout.write = wrap(process.stdout.write);
    },
  },
  // ---- require.cache and the loader ------------------------------------------------------
  'module-compile-patch': {
    expect: () => ['Module.prototype._compile'],
    apply: () => {
      Module.prototype._compile = wrap(Module.prototype._compile);
    },
  },
  'module-loader-batch': {
    // The loader's other entry points, and a lookup path the implant controls.
    expect: () => [
      'Module._load',
      'Module._extensions[.js]',
      'Module.globalPaths.length',
      // expect() runs after apply(): the pushed element is the last one.
      `Module.globalPaths[${Module.globalPaths.length - 1}]`,
    ],
    apply: (ctx) => {
      Module._load = wrap(Module._load);
      Module._extensions['.js'] = wrap(Module._extensions['.js']);
      Module.globalPaths.push(path.join(ctx.tmpDir, 'evil_modules'));
    },
  },
  'require-cache-seed-tmp': {
    // Pre-seeded: no file on disk, outside the deployment.
    expect: (ctx) => [`require.cache[${path.join(ctx.tmpDir, 'x.js')}]`],
    apply: (ctx) => {
      const file = path.join(ctx.tmpDir, 'x.js');
      const fake = new Module(file);
      fake.filename = file;
      fake.loaded = true;
      fake.exports = { hook: () => {} };
      require.cache[file] = fake;
    },
  },
  'require-tmp-file-and-resolver-poison': {
    // The implant's own module loaded from /tmp (the resolver memo points there too), and a memo
    // entry planted so that the next require('left-pad') from the task root loads the implant.
    expect: (ctx) => {
      const file = path.join(ctx.tmpDir, `ephemera-implant-${process.pid}.js`);
      return [
        `require.cache[${file}]`,
        `Module._pathCache[${file}\\u0000]`,
        `Module._pathCache[left-pad\\u0000${ctx.taskRoot}]`,
      ];
    },
    apply: (ctx) => {
      const file = path.join(ctx.tmpDir, `ephemera-implant-${process.pid}.js`);
      fs.writeFileSync(file, 'exports.hook = () => {};\n');
      try {
        require(file);
      } finally {
        fs.rmSync(file, { force: true });
      }
      Module._pathCache[`left-pad\u0000${ctx.taskRoot}`] = path.join(ctx.tmpDir, 'left-pad.js');
    },
  },
  'require-cache-preseed-deployment': {
    // Inside the deployment's directory: a Module for a file that does not exist, and a plain object
    // for a real file nobody loaded yet — both waiting for a later require().
    expect: (ctx) => [
      `require.cache[${path.join(ctx.taskRoot, 'lib', 'not-there.js')}]`,
      `require.cache[${path.join(ctx.taskRoot, 'lib', 'never-loaded.js')}]`,
    ],
    apply: (ctx) => {
      const missing = path.join(ctx.taskRoot, 'lib', 'not-there.js');
      const fake = new Module(missing);
      fake.filename = missing;
      fake.loaded = true;
      fake.exports = {};
      require.cache[missing] = fake;
      const real = path.join(ctx.taskRoot, 'lib', 'never-loaded.js');
      require.cache[real] = { id: real, filename: real, loaded: true, exports: { secret: () => 'implant' } };
    },
  },
  'require-cache-exports-replace': {
    expect: (ctx) => [`require.cache[${greeterFile(ctx)}].exports`],
    apply: (ctx) => {
      require.cache[greeterFile(ctx)].exports = { greet: () => 'implant' };
    },
  },
  'require-cache-export-function-replace': {
    // One function on a cached module's exports, and one method of a class a module exports (where
    // an implant wraps an SDK client's send()).
    expect: (ctx) => [
      `require.cache[${greeterFile(ctx)}].exports.greet`,
      `require.cache[${path.join(ctx.taskRoot, 'lib', 'client.js')}].exports.Client.prototype.send`,
    ],
    apply: (ctx) => {
      const greeter = require(greeterFile(ctx));
      greeter.greet = wrap(greeter.greet);
      const { Client } = require(path.join(ctx.taskRoot, 'lib', 'client.js'));
      Client.prototype.send = wrap(Client.prototype.send);
    },
  },
  'require-cache-module-replace': {
    expect: (ctx) => [`require.cache[${greeterFile(ctx)}]`],
    apply: (ctx) => {
      const file = greeterFile(ctx);
      const fake = new Module(file);
      fake.filename = file;
      fake.loaded = true;
      fake.exports = { greet: () => 'implant' };
      require.cache[file] = fake;
    },
  },
  'require-cache-delete': {
    expect: (ctx) => [`require.cache[${greeterFile(ctx)}]`],
    apply: (ctx) => {
      delete require.cache[greeterFile(ctx)];
    },
  },
  // ---- the environment ---------------------------------------------------------------------
  'env-aws-endpoint-url': {
    sensitive: true,
    expect: () => ['process.env.AWS_ENDPOINT_URL'],
    apply: () => {
      process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9/';
    },
  },
  'env-node-options': {
    sensitive: true,
    expect: () => ['process.env.NODE_OPTIONS'],
    apply: () => {
      process.env.NODE_OPTIONS = `--require ${path.join(require('node:os').tmpdir(), 'x.js')}`;
    },
  },
  'env-credentials-proxy-tls-batch': {
    // Credentials set at INIT (as Lambda does) swapped by the implant — the drift names the variable,
    // never a value — plus a proxy, TLS verification off, and a preload for every child process.
    sensitive: true,
    expect: () => [
      'process.env.AWS_SECRET_ACCESS_KEY',
      'process.env.https_proxy',
      'process.env.NODE_TLS_REJECT_UNAUTHORIZED',
      'process.env.LD_PRELOAD',
    ],
    setup: () => {
      process.env.AWS_SECRET_ACCESS_KEY = 'baseline-secret-value-0000';
    },
    apply: () => {
      process.env.AWS_SECRET_ACCESS_KEY = 'implant-secret-value-1111';
      process.env.https_proxy = 'http://127.0.0.1:9';
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      process.env.LD_PRELOAD = '/tmp/x.so';
    },
  },
  'env-object-replace': {
    sensitive: true,
    expect: () => ['process.env'],
    apply: () => {
      process.env = { ...process.env, AWS_REGION: 'attacker-1' };
    },
  },

  // ---- evasion: blind the detectors first, then make the change that matters --------------
  'evade-reflect-own-keys': {
    expect: () => ['Reflect.ownKeys', 'Object.keys', 'Object.getOwnPropertyNames', 'Object.prototype.toJSON'],
    apply: () => {
      const hide = (keys) => keys.filter((k) => k !== 'toJSON');
      const ownKeys = Reflect.ownKeys;
      const keys = Object.keys;
      const names = Object.getOwnPropertyNames;
      Reflect.ownKeys = (o) => hide(ownKeys(o));
      Object.keys = (o) => hide(keys(o));
      Object.getOwnPropertyNames = (o) => hide(names(o));
      Object.prototype.toJSON = function toJSON() {
        return this;
      };
    },
  },
  'evade-get-own-property-descriptor': {
    expect: () => [
      'Reflect.getOwnPropertyDescriptor',
      'Object.getOwnPropertyDescriptor',
      'Object.getOwnPropertyDescriptors',
      'https.request',
    ],
    apply: () => {
      const originalRequest = https.request;
      const reflectGopd = Reflect.getOwnPropertyDescriptor;
      const objectGopd = Object.getOwnPropertyDescriptor;
      const objectGopds = Object.getOwnPropertyDescriptors;
      const lie = (gopd) => (o, k) => {
        const d = gopd(o, k);
        return o === https && k === 'request' ? { ...d, value: originalRequest } : d;
      };
      Reflect.getOwnPropertyDescriptor = lie(reflectGopd);
      Object.getOwnPropertyDescriptor = lie(objectGopd);
      Object.getOwnPropertyDescriptors = (o) => {
        const all = objectGopds(o);
        if (o === https) all.request = { ...all.request, value: originalRequest };
        return all;
      };
      https.request = wrap(originalRequest);
    },
  },
  'evade-map-methods': {
    // Against a checker that keeps its baseline in a Map: "nothing is new, nothing changed".
    expect: () => ['Map.prototype.get', 'Map.prototype.has', 'Set.prototype.has', 'globalThis.fetch'],
    apply: () => {
      const get = Map.prototype.get;
      Map.prototype.get = function (key) {
        return get.call(this, key);
      };
      Map.prototype.has = () => true;
      Set.prototype.has = () => true;
      globalThis.fetch = wrap(globalThis.fetch);
    },
  },
  'evade-function-to-string': {
    // Make a wrapper look native to a checker that compares source text.
    expect: () => ['Function.prototype.toString', 'JSON.stringify'],
    apply: () => {
      const originalToString = Function.prototype.toString;
      const originalStringify = JSON.stringify;
      const fake = wrap(originalStringify);
      const lie = function () {
        return Reflect.apply(originalToString, this === fake ? originalStringify : this, []);
      };
      Object.defineProperty(lie, 'name', { value: 'toString' });
      Function.prototype.toString = lie;
      JSON.stringify = fake;
    },
  },
  'evade-define-property': {
    // Break a checker that defines its results, then hook fetch.
    expect: () => ['Object.defineProperty', 'Reflect.defineProperty', 'globalThis.fetch'],
    apply: () => {
      const define = Object.defineProperty;
      Object.defineProperty = (o, k, d) => (Array.isArray(o) ? o : define(o, k, d));
      Reflect.defineProperty = () => true;
      globalThis.fetch = wrap(globalThis.fetch);
    },
  },
  'evade-result-arrays': {
    // Against a checker that collects results with push() or result[n] = drift: push drops items,
    // accessors planted on Array.prototype[0] and [1] swallow writes.
    expect: () => [
      'Array.prototype.push',
      'Array.prototype[0]',
      'Array.prototype[1]',
      // Array.prototype is an array: its length grows to 2 as well.
      'Array.prototype.length',
      'http.request',
      'https.get',
    ],
    apply: () => {
      Array.prototype.push = function push() {
        return this.length;
      };
      for (const index of ['0', '1']) {
        Object.defineProperty(Array.prototype, index, { set() {}, get() {}, configurable: true });
      }
      http.request = wrap(http.request);
      https.get = wrap(https.get);
    },
  },
  'evade-iteration-and-symbols': {
    // Every for…of over an array ends at once; symbols' descriptions throw (a checker printing a
    // planted symbol key must neither crash nor skip it).
    expect: () => [
      'ArrayIterator.prototype.next',
      'Symbol.prototype.description',
      'Object.prototype[Symbol(implant)]',
    ],
    apply: () => {
      const proto = Object.getPrototypeOf([][Symbol.iterator]());
      proto.next = () => ({ done: true, value: undefined });
      Object.defineProperty(Symbol.prototype, 'description', {
        get() {
          throw new Error('no');
        },
        configurable: true,
      });
      Object.prototype[Symbol('implant')] = () => {};
    },
  },
  'evade-descriptor-poisoning': {
    // Getters planted on Object.prototype fire when a descriptor lacks that field; these throw.
    expect: () => [
      'Object.prototype.get',
      'Object.prototype.set',
      'Object.prototype.value',
      'crypto.randomUUID',
    ],
    apply: () => {
      for (const key of ['get', 'set', 'value']) {
        // Null-prototype descriptor: the getters planted so far would fire on this one too.
        Object.defineProperty(Object.prototype, key, {
          __proto__: null,
          get() {
            throw new Error(`descriptor poisoning: ${key}`);
          },
          configurable: true,
        });
      }
      const crypto = require('node:crypto');
      crypto.randomUUID = () => '00000000-0000-4000-8000-000000000000';
    },
  },
  'evade-process-env-keys': {
    // Hide an env change from a checker that enumerates process.env with Object.keys.
    expect: () => ['Object.keys', 'Object.entries', 'process.env.AWS_ENDPOINT_URL_S3'],
    apply: () => {
      const keys = Object.keys;
      const entries = Object.entries;
      Object.keys = (o) => keys(o).filter((k) => k !== 'AWS_ENDPOINT_URL_S3');
      Object.entries = (o) => entries(o).filter(([k]) => k !== 'AWS_ENDPOINT_URL_S3');
      process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9';
    },
  },
};

module.exports = { techniques };
