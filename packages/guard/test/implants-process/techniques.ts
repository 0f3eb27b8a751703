/**
 * The techniques `run.ts` applies, one per fresh process, and what the detectors must report.
 *
 * An implant's code is a string run through `new Function` — eval'd code with no file, as it reaches
 * a warm environment through the seed's `eval(event.body)` — with `require` and a context in scope.
 * The benign workloads are ordinary functions in this file: deployment code (the runner makes this
 * directory the task root for them, and the repository's node_modules a layer).
 */
import type { Drift } from '../../src/integrity/detector.js';

export interface Expected {
  readonly detector: 'process-hooks' | 'resources' | 'tmp';
  /** The drift's path, exactly (string) or by pattern. */
  readonly path: string | RegExp;
  readonly kind?: Drift['kind'];
  /** May be absent (allowed, not required). */
  readonly optional?: boolean;
}

export interface Context {
  /** The temp directory the 'tmp' detector watches (a fresh one per run, not the real /tmp). */
  readonly tmpDir: string;
  /** The runner's require (resolves from this directory). */
  readonly require: NodeJS.Require;
  /** Handles to clean up after the check: children are killed, servers and sockets closed. */
  leave(handle: unknown): void;
  /** Shared between setup and the technique. */
  readonly state: Record<string, unknown>;
}

export interface Technique {
  /** Runs before the baseline, as INIT would (the runtime's own listeners, a server standing in for a remote API). */
  readonly setup?: (ctx: Context) => Promise<void> | void;
  /** The implant: run as eval'd code after the baseline. */
  readonly code?: string;
  /** Deployment code run after the baseline (benign workloads). */
  readonly run?: (ctx: Context) => Promise<void> | void;
  /** Make this directory the task root (deployment code lives here). */
  readonly deployment?: boolean;
  /** Checks to run, 50 ms apart (an invocation gap); the result is the last one's. */
  readonly checks?: number;
  /** Every drift must match one of these, and each of these must match a drift ([] = zero drift). */
  readonly expect: readonly Expected[];
}

const hooks = (path: string | RegExp, kind: Drift['kind'] = 'hook'): Expected => ({
  detector: 'process-hooks',
  path,
  kind,
});
const resource = (path: string | RegExp, kind: Drift['kind'] = 'resource'): Expected => ({
  detector: 'resources',
  path,
  kind,
});
const file = (path: RegExp): Expected => ({ detector: 'tmp', path, kind: 'file' });

/** Stands in for the runtime client's own handler, registered during INIT. */
function runtimeUncaughtHandler(): void {
  // The real runtime reports the error and exits; the test never throws.
}

export const TECHNIQUES: Readonly<Record<string, Technique>> = {
  // --- process listeners -------------------------------------------------------------------
  'process.on(beforeExit)': {
    code: `process.on('beforeExit', () => { /* runs when the loop drains: a last chance to beacon */ });`,
    expect: [hooks("process.listeners('beforeExit')[0]", 'added')],
  },
  'process.on(exit)': {
    code: `process.on('exit', () => {});`,
    expect: [hooks(/^process\.listeners\('exit'\)\[\d+\]$/, 'added')],
  },
  'process.on(message)': {
    code: `process.on('message', (m) => { globalThis.__c2 = m; });`,
    expect: [hooks("process.listeners('message')[0]", 'added')],
  },
  'process.on(warning)': {
    code: `process.on('warning', () => {});`,
    expect: [hooks(/^process\.listeners\('warning'\)\[\d+\]$/, 'added')],
  },
  'prependListener on the runtime’s uncaughtException': {
    setup: () => {
      process.on('uncaughtException', runtimeUncaughtHandler);
    },
    code: `process.prependListener('uncaughtException', (error) => { /* sees every crash first */ });`,
    expect: [hooks("process.listeners('uncaughtException')[0]", 'added')],
  },
  'removing the runtime’s uncaughtException listener': {
    setup: () => {
      process.on('uncaughtException', runtimeUncaughtHandler);
    },
    code: `process.removeListener('uncaughtException', process.listeners('uncaughtException')[0]);`,
    expect: [hooks("process.listeners('uncaughtException')[0]", 'removed')],
  },
  'replacing the runtime’s uncaughtException listener': {
    setup: () => {
      process.on('uncaughtException', runtimeUncaughtHandler);
    },
    code: `
      const original = process.listeners('uncaughtException')[0];
      process.removeListener('uncaughtException', original);
      process.on('uncaughtException', (error) => original(error));`,
    expect: [hooks("process.listeners('uncaughtException')[0]", 'replaced')],
  },
  'process.setUncaughtExceptionCaptureCallback': {
    code: `process.setUncaughtExceptionCaptureCallback(() => {});`,
    expect: [hooks('process.setUncaughtExceptionCaptureCallback')],
  },

  // --- hooks behind sentinels ------------------------------------------------------------------
  'async_hooks.createHook().enable()': {
    code: `require('node:async_hooks').createHook({ init() {} }).enable();`,
    expect: [hooks('async_hooks.createHook().enable')],
  },
  'v8.promiseHooks.onInit': {
    code: `require('node:v8').promiseHooks.onInit(() => {});`,
    expect: [hooks('v8.promiseHooks.onInit')],
  },
  'v8.promiseHooks.createHook': {
    code: `require('node:v8').promiseHooks.createHook({ before() {} });`,
    expect: [hooks('v8.promiseHooks.createHook')],
  },
  'inspector Session connect': {
    code: `
      const { Session } = require('node:inspector');
      const session = new Session();
      session.connect();
      ctx.leave(session);`,
    expect: [hooks('inspector.Session.prototype.connect')],
  },
  'inspector.open': {
    code: `
      const inspector = require('node:inspector');
      inspector.open(0, '127.0.0.1');
      ctx.leave({ close: () => inspector.close() });`,
    expect: [hooks('inspector.open')],
  },
  "diagnostics_channel.subscribe('http.client.request.start')": {
    code: `require('node:diagnostics_channel').subscribe('http.client.request.start', ({ request }) => {});`,
    expect: [hooks("diagnostics_channel.channel('http.client.request.start').subscribe")],
  },
  "diagnostics_channel.channel('undici:request:create').subscribe": {
    code: `require('node:diagnostics_channel').channel('undici:request:create').subscribe(({ request }) => {});`,
    expect: [hooks("diagnostics_channel.channel('undici:request:create').subscribe")],
  },
  'diagnostics_channel bindStore on http.server.request.start': {
    code: `
      const { AsyncLocalStorage } = require('node:async_hooks');
      require('node:diagnostics_channel').channel('http.server.request.start').bindStore(new AsyncLocalStorage(), (m) => m);`,
    expect: [hooks("diagnostics_channel.channel('http.server.request.start').bindStore")],
  },
  'a subscriber pushed into a watched channel without subscribe()': {
    code: `
      const dc = require('node:diagnostics_channel');
      // Borrow the active-channel prototype from a throwaway channel, then plant a subscriber directly.
      const probe = dc.channel('x-probe'); const noop = () => {};
      probe.subscribe(noop); const Active = Object.getPrototypeOf(probe); probe.unsubscribe(noop);
      const target = dc.channel('net.client.socket');
      Object.setPrototypeOf(target, Active);
      target._subscribers = [({ socket }) => {}];
      target._stores ??= new Map();`,
    expect: [hooks("diagnostics_channel.channel('net.client.socket')._subscribers[0]", 'added')],
  },

  // --- resources -------------------------------------------------------------------------------
  'an http server left listening on 127.0.0.1': {
    code: `
      const server = require('node:http').createServer((req, res) => res.end('shell'));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      ctx.leave(server);`,
    expect: [resource('net.Server.listen')],
  },
  "an unref'd server (invisible to getActiveResourcesInfo)": {
    code: `
      const server = require('node:net').createServer((socket) => socket.end());
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      server.unref();
      ctx.leave(server);`,
    expect: [resource('net.Server.listen')],
  },
  'a UDP socket bound': {
    code: `
      const socket = require('node:dgram').createSocket('udp4');
      await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
      ctx.leave(socket);`,
    expect: [resource('dgram.Socket.bind')],
  },
  'a child process left running (sleep 30)': {
    code: `
      const child = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' });
      ctx.leave(child);
      await new Promise((resolve) => child.once('spawn', resolve));`,
    expect: [resource('child_process.spawn')],
  },
  "a detached, unref'd child process": {
    code: `
      const child = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      child.unref();
      ctx.leave(child);
      await new Promise((resolve) => child.once('spawn', resolve));`,
    expect: [resource('child_process.spawn')],
  },
  'a worker thread left running': {
    code: `
      const { Worker } = require('node:worker_threads');
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
      ctx.leave(worker);
      await new Promise((resolve) => worker.once('online', resolve));`,
    expect: [resource('worker_threads.Worker')],
  },
  'a setInterval beacon': {
    code: `setInterval(() => { /* beacon */ }, 60_000);`,
    expect: [resource('setInterval')],
  },
  "an unref'd setInterval beacon": {
    code: `setInterval(() => {}, 60_000).unref();`,
    expect: [resource('setInterval')],
  },
  'require("timers").setInterval': {
    code: `require('node:timers').setInterval(() => {}, 30_000).unref();`,
    expect: [resource('setInterval')],
  },
  'a long setTimeout': {
    code: `setTimeout(() => { /* fires in a later invocation */ }, 60_000).unref();`,
    expect: [resource('setTimeout')],
  },
  'a short setTimeout chain that re-arms itself': {
    code: `
      let ticks = 0;
      await new Promise((resolve) => {
        (function tick() {
          ticks++;
          if (ticks === 3) resolve();
          setTimeout(tick, 10);
        })();
      });`,
    expect: [resource('setTimeout')],
  },
  'a timers/promises interval (no wrapper; the count backstop, two checks)': {
    code: `
      (async () => {
        for await (const _ of require('node:timers/promises').setInterval(1000)) { /* beacon */ }
      })();`,
    checks: 2,
    expect: [resource('process.getActiveResourcesInfo(Timeout)')],
  },
  'a beacon laundered through a deployment scheduler (bind trampoline)': {
    deployment: true,
    code: `
      const lib = require('./fixtures/pool-lib.cjs');
      const beacon = () => { /* the implant's code, not the library's */ };
      queueMicrotask(lib.every.bind(null, beacon, 5000));
      await null;`,
    expect: [resource('setInterval')],
  },
  'a beacon compiled with a deployment file name (vm filename spoof)': {
    deployment: true,
    code: `
      // The compiled function claims to be the library's file and runs from a microtask, so no eval
      // frame is below it; only its text, which the library's file does not contain, gives it away.
      const file = require.resolve('./fixtures/pool-lib.cjs');
      const start = require('node:vm').runInThisContext(
        '(function start() { setInterval(function beacon() { /* implant */ }, 5000); })',
        { filename: file },
      );
      queueMicrotask(start);
      await null;`,
    expect: [resource('setInterval')],
  },

  // --- temp directory --------------------------------------------------------------------------
  'writing tmp/x.js': {
    code: `require('node:fs').writeFileSync(ctx.tmpDir + '/x.js', 'module.exports = () => {};');`,
    expect: [file(/\/x\.js$/)],
  },
  'an executable tmp/run.sh': {
    code: `require('node:fs').writeFileSync(ctx.tmpDir + '/run.sh', '#!/bin/sh\\nexit 0\\n', { mode: 0o755 });`,
    expect: [file(/\/run\.sh$/)],
  },
  'an extension-less executable one level down': {
    code: `
      const fs = require('node:fs');
      fs.mkdirSync(ctx.tmpDir + '/.cache');
      fs.writeFileSync(ctx.tmpDir + '/.cache/agent', 'ELF', { mode: 0o700 });`,
    expect: [file(/\/\.cache\/agent$/)],
  },
  'overwriting a script INIT left in tmp': {
    setup: (ctx) => {
      // A template compiled to /tmp during INIT: baseline state.
      (ctx.require('node:fs') as typeof import('node:fs')).writeFileSync(
        `${ctx.tmpDir}/template.js`,
        'module.exports = 1;',
      );
    },
    code: `require('node:fs').writeFileSync(ctx.tmpDir + '/template.js', 'module.exports = require("child_process");');`,
    expect: [file(/\/template\.js$/)],
  },
  'flooding tmp past the scan limit to hide a file': {
    code: `
      const fs = require('node:fs');
      for (let i = 0; i < 1100; i++) fs.writeFileSync(ctx.tmpDir + '/f' + i + '.dat', '');
      fs.writeFileSync(ctx.tmpDir + '/zz-hidden.js', '');`,
    expect: [
      { detector: 'tmp', path: /ephemera-process-tmp-[^/]+\/$/, kind: 'fault' },
      // Seen or not, depending on whether readdir lists it before the limit.
      { ...file(/\/zz-hidden\.js$/), optional: true },
    ],
  },
  'a node_modules tree in tmp': {
    code: `
      const fs = require('node:fs');
      fs.mkdirSync(ctx.tmpDir + '/node_modules/evil', { recursive: true });
      fs.writeFileSync(ctx.tmpDir + '/node_modules/evil/index.json', '{}');`,
    expect: [file(/\/node_modules$/)],
  },

  'the callback of a deployment timer swapped (`_onTimeout`)': {
    deployment: true,
    run: (ctx) => {
      // The deployment's pool starts its reaper interval (benign on its own: see the next case).
      (ctx.require('./fixtures/pool-lib.cjs') as PoolLib).getPool();
    },
    code: `require('./fixtures/pool-lib.cjs').getPool().reaper._onTimeout = () => { /* beacon */ };`,
    expect: [resource('setInterval()._onTimeout', 'replaced')],
  },

  // --- benign ----------------------------------------------------------------------------------
  'typical legitimate work': {
    deployment: true,
    checks: 2,
    setup: benignSetup,
    run: benignWork,
    expect: [],
  },
  'hooks installed and removed again within the invocation': {
    deployment: true,
    setup: recordOriginals,
    run: sentinelsCallThrough,
    expect: [],
  },
  // Eval'd code that removes everything it installed before the check: nothing persists, nothing is
  // reported (each hook's liveness is tracked, not just its installation).
  'an implant that removes everything it installed': {
    code: `
      const dc = require('node:diagnostics_channel');
      const fn = () => {};
      dc.subscribe('http.client.request.start', fn);
      dc.unsubscribe('http.client.request.start', fn);
      const { AsyncLocalStorage, createHook } = require('node:async_hooks');
      const channel = dc.channel('undici:request:create');
      const store = new AsyncLocalStorage();
      channel.bindStore(store);
      channel.unbindStore(store);
      createHook({ init() {} }).enable().disable();
      require('node:v8').promiseHooks.onInit(() => {})();
      const { Session } = require('node:inspector');
      const session = new Session();
      session.connect();
      session.disconnect();
      clearInterval(setInterval(() => {}, 1000));
      clearTimeout(setTimeout(() => {}, 60_000));
      const listener = () => {};
      process.on('beforeExit', listener);
      process.off('beforeExit', listener);
      const server = require('node:http').createServer();
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      await new Promise((resolve) => server.close(resolve));
      const child = require('node:child_process').spawn('true', [], { stdio: 'ignore' });
      await new Promise((resolve) => child.on('close', resolve));
      const { Worker } = require('node:worker_threads');
      const worker = new Worker('0', { eval: true });
      await new Promise((resolve) => worker.on('exit', resolve));
      const fs = require('node:fs');
      fs.writeFileSync(ctx.tmpDir + '/stage.js', '');
      fs.unlinkSync(ctx.tmpDir + '/stage.js');`,
    expect: [],
  },
  // The control for the benign case: the same lazy library, judged as NOT part of the deployment
  // (the task root is elsewhere), is reported — the zero above comes from the origin rule.
  'the benign library outside the deployment (control)': {
    run: (ctx) => {
      (ctx.require('./fixtures/pool-lib.cjs') as PoolLib).getPool().remember('k', 1, 60_000);
    },
    expect: [
      resource('setInterval'),
      resource('setTimeout'),
      hooks("diagnostics_channel.channel('ephemera-test:pool-lib:query').subscribe"),
    ],
  },
};

interface PoolLib {
  getPool(): { remember(key: string, value: unknown, ttlMs: number): void; reaper: unknown };
}

/** What the wrapped functions look like before the sentinels (INIT). */
function recordOriginals(ctx: Context): void {
  const describe = (fn: unknown) => {
    const f = fn as { name: string; length: number };
    return `${f.name}/${f.length}`;
  };
  const dc = ctx.require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
  const inspector = ctx.require('node:inspector') as typeof import('node:inspector');
  const v8 = ctx.require('node:v8') as typeof import('node:v8');
  ctx.state.originals = {
    setTimeout: describe(setTimeout),
    setInterval: describe(setInterval),
    subscribe: describe(dc.Channel.prototype.subscribe),
    connect: describe(inspector.Session.prototype.connect),
    onInit: describe(v8.promiseHooks.onInit),
    open: describe(inspector.open),
  };
}

/**
 * The sentinels call through: same names and lengths, same results, same errors — and a hook that
 * the deployment installs and removes within the invocation is no drift (the liveness tracking).
 */
async function sentinelsCallThrough(ctx: Context): Promise<void> {
  const assert: typeof import('node:assert/strict') = ctx.require('node:assert/strict');
  const timers = ctx.require('node:timers') as typeof import('node:timers');
  const timersPromises = ctx.require('node:timers/promises') as typeof import('node:timers/promises');
  const util = ctx.require('node:util') as typeof import('node:util');
  const dc = ctx.require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
  const asyncHooks = ctx.require('node:async_hooks') as typeof import('node:async_hooks');
  const inspector = ctx.require('node:inspector') as typeof import('node:inspector');
  const v8 = ctx.require('node:v8') as typeof import('node:v8');
  const describe = (fn: unknown) => {
    const f = fn as { name: string; length: number };
    return `${f.name}/${f.length}`;
  };
  const originals = ctx.state.originals as Record<string, string>;

  // Timers: one wrapper shared by the global and the module, same shape, same behaviour.
  assert.equal(globalThis.setTimeout, timers.setTimeout);
  assert.equal(globalThis.setInterval, timers.setInterval);
  assert.equal(describe(setTimeout), originals.setTimeout);
  assert.equal(describe(setInterval), originals.setInterval);
  assert.equal(util.promisify(setTimeout), timersPromises.setTimeout);
  assert.equal(await util.promisify(setTimeout)(1, 'value'), 'value');
  assert.deepEqual(await new Promise((resolve) => setTimeout((a, b) => resolve([a, b]), 1, 'x', 'y')), [
    'x',
    'y',
  ]);
  let fired = false;
  const cleared = setTimeout(() => {
    fired = true;
  }, 5);
  assert.equal(typeof cleared.hasRef, 'function');
  clearTimeout(cleared);
  await new Promise((resolve) => setTimeout(resolve, 15));
  assert.equal(fired, false);
  assert.throws(() => setTimeout('1 + 1' as unknown as () => void, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  let ticks = 0;
  const interval = setInterval(() => {
    ticks++;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(interval);
  assert.ok(ticks > 0);

  // diagnostics_channel: subscribe → publish → unsubscribe, through the module and the channel.
  assert.equal(describe(dc.Channel.prototype.subscribe), originals.subscribe);
  const channel = dc.channel('ephemera-test:call-through');
  const seen: unknown[] = [];
  const onMessage = (message: unknown) => seen.push(message);
  assert.equal(channel.hasSubscribers, false);
  dc.subscribe('ephemera-test:call-through', onMessage);
  assert.equal(channel.hasSubscribers, true);
  channel.publish('one');
  assert.equal(dc.unsubscribe('ephemera-test:call-through', onMessage), true);
  assert.equal(channel.hasSubscribers, false);
  channel.publish('two');
  assert.deepEqual(seen, ['one']);
  const store = new asyncHooks.AsyncLocalStorage<string>();
  channel.bindStore(store, (message) => `bound:${String(message)}`);
  channel.runStores('three', () => assert.equal(store.getStore(), 'bound:three'));
  assert.equal(channel.unbindStore(store), true);

  // async_hooks: enable returns the hook, init is called, disable retires it.
  const types: string[] = [];
  const hook = asyncHooks.createHook({ init: (_id, type) => types.push(type) });
  assert.equal(hook.enable(), hook);
  await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(hook.disable(), hook);
  assert.ok(types.includes('Timeout'));

  // v8.promiseHooks: the hook runs until its stop function is called.
  assert.equal(describe(v8.promiseHooks.onInit), originals.onInit);
  let promises = 0;
  const stop = v8.promiseHooks.onInit(() => {
    promises++;
  });
  await Promise.resolve();
  stop();
  const counted = promises;
  await Promise.resolve();
  assert.ok(counted > 0);
  assert.equal(promises, counted);

  // inspector: a session connects, answers, disconnects; open() is the same function shape.
  assert.equal(describe(inspector.Session.prototype.connect), originals.connect);
  assert.equal(describe(inspector.open), originals.open);
  const session = new inspector.Session();
  session.connect();
  const answer = await new Promise((resolve, reject) =>
    session.post('Runtime.evaluate', { expression: '6 * 7' }, (error, result) =>
      error ? reject(error) : resolve(result.result.value),
    ),
  );
  assert.equal(answer, 42);
  session.disconnect();
}

interface BenignState {
  port: number;
  agent: import('node:http').Agent;
  sdk: { send(command: unknown): Promise<unknown> };
  ListFunctionsCommand: new (input: object) => unknown;
}

/** INIT: a local server standing in for a remote API, a keep-alive agent and an AWS SDK client at module scope. */
async function benignSetup(ctx: Context): Promise<void> {
  const http = ctx.require('node:http') as typeof import('node:http');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"Functions":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.leave(server);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const { LambdaClient, ListFunctionsCommand } = ctx.require(
    '@aws-sdk/client-lambda',
  ) as typeof import('@aws-sdk/client-lambda');
  const sdk = new LambdaClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
  });
  const state: BenignState = { port, agent: new http.Agent({ keepAlive: true }), sdk, ListFunctionsCommand };
  ctx.state.benign = state;
}

/** One invocation's worth of what ordinary functions do. */
async function benignWork(ctx: Context): Promise<void> {
  const state = ctx.state.benign as BenignState;
  const http = ctx.require('node:http') as typeof import('node:http');
  const fs = ctx.require('node:fs') as typeof import('node:fs');
  // A keep-alive request: the socket stays open (TCPSocketWrap) after the response.
  await new Promise<void>((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: state.port, agent: state.agent, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
  });
  // fetch: undici keeps its socket and arms its own timers through the global setTimeout.
  await (await fetch(`http://127.0.0.1:${state.port}/`)).text();
  // The AWS SDK v3 pattern: a client from INIT, a request with its keep-alive agent.
  await state.sdk.send(new state.ListFunctionsCommand({}));
  // Short timeouts, a completed one-shot, a cleared deadline, a fire-and-forget flush.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const deadline = setTimeout(() => undefined, 3000);
  await Promise.race([Promise.resolve('fast'), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  clearTimeout(deadline);
  setTimeout(() => undefined, 150);
  // Promise chains.
  await Promise.all([1, 2, 3].map(async (n) => (await Promise.resolve(n)) * 2)).then(
    (values) => values.length,
  );
  // AsyncLocalStorage first used during an invocation (Powertools, OpenTelemetry do this).
  const { AsyncLocalStorage } = ctx.require('node:async_hooks') as typeof import('node:async_hooks');
  const store = new AsyncLocalStorage<{ requestId: string }>();
  await store.run({ requestId: 'r-1' }, async () => store.getStore());
  // Data files in /tmp, one level deep too.
  fs.writeFileSync(`${ctx.tmpDir}/data.json`, '{"ok":true}');
  fs.writeFileSync(`${ctx.tmpDir}/chart.png`, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  fs.mkdirSync(`${ctx.tmpDir}/exports`, { recursive: true });
  fs.writeFileSync(`${ctx.tmpDir}/exports/report.csv`, 'a,b\n1,2\n');
  // Lazy requires: a built-in, and a deployment library that on first use starts a reaper interval,
  // a long TTL timeout and a diagnostics-channel subscription.
  (ctx.require('node:zlib') as typeof import('node:zlib')).gzipSync('payload');
  const lib = ctx.require('./fixtures/pool-lib.cjs') as {
    getPool(): { remember(k: string, v: unknown, ttl: number): void };
  };
  lib.getPool().remember('user:1', { name: 'a' }, 60_000);
  // A child process that finishes.
  await new Promise<void>((resolve) => {
    const child = (ctx.require('node:child_process') as typeof import('node:child_process')).spawn(
      'true',
      [],
      {
        stdio: 'ignore',
      },
    );
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
}
