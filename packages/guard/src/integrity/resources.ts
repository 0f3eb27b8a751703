/**
 * The 'resources' detector: what an implant leaves running so that it outlives the invocation that
 * planted it — a server or UDP socket waiting for the attacker, a child process or worker thread, a
 * timer beacon.
 *
 * Evidence, per kind:
 * - Servers, UDP sockets, child processes, workers: Node publishes each creation on a diagnostics
 *   channel (`tracing:net.server.listen:asyncStart`, `udp.socket`, `child_process`,
 *   `worker_threads`); this detector subscribes when it loads and keeps what is created after its
 *   baseline,
 *   with the creating call's origin. At a check, each one still alive (listening, bound, running) is
 *   drift unless the deployment created it (`OriginJudge`: a lazily launched headless browser, a
 *   StatsD client's socket). Unref'd handles are seen too: they are invisible to
 *   `process.getActiveResourcesInfo()`.
 * - As a backstop for creation paths that skip those channels (Node internals reached directly),
 *   `process.getActiveResourcesInfo()` is counted per type at the baseline and at each check: more
 *   `COUNTED_RESOURCE_TYPES` than the baseline plus the tracked live ones is drift. The types in
 *   `BENIGN_RESOURCE_TYPES` are what ordinary functions leave (keep-alive sockets above all).
 * - Timers: `setTimeout`/`setInterval` (the global and `node:timers`, one wrapper each, so
 *   `globalThis.setTimeout === require('timers').setTimeout` still holds) are wrapped at the baseline;
 *   the wrapper calls through and remembers the timers created after it. THE TIMER RULE: a timer
 *   created after the baseline and still pending at a check is drift when it is
 *     (a) an interval, ref'd or not; or
 *     (b) a timeout of `LONG_TIMEOUT_MS` or more; or
 *     (c) a timeout armed from the callback of a timer created after the baseline (a re-arming chain,
 *         any delay);
 *   unless the deployment created it (`OriginJudge`: every frame of the creating call in the
 *   deployment or Node, and the callback's source text found in a deployment file on that stack).
 *   Short timeouts that are not chained are never drift: they are request deadlines, retries, sleeps
 *   and `Promise.race` guards, and they fire within a second of the check. Node's own callers
 *   with callbacks of their own (`NODE_OWN_CALLERS`: undici behind `fetch`, http.Server,
 *   child_process.exec) are benign. A tracked timer whose callback (`_onTimeout`) was swapped after creation is drift whoever
 *   created it. Ref'd timers created without the wrappers (`timers/promises.setInterval`) are caught
 *   by the 'Timeout' count when the excess is there at two consecutive checks.
 *
 * Ordering: baseline() this detector before the object-surface detectors (the timer wrappers replace
 * `globalThis.setTimeout`, `timers.setTimeout`…; those detectors must baseline the wrappers). Its
 * channel subscriptions are made when this module loads, so its order relative to 'process-hooks'
 * does not matter.
 *
 * Not seen: a process that double-forks and detaches (the direct child exits), a socket the implant
 * keeps open to its server (indistinguishable by type from a keep-alive socket: the egress control's
 * job), short `await`-driven loops (`for (;;) { await sleep(500) }`: each timeout is short and not
 * armed from a timer callback), `setImmediate` loops, an existing timer's callback hijacked when the
 * timer predates the baseline, unref'd timers created without the wrappers.
 */
import asyncHooks from 'node:async_hooks';
import dgram from 'node:dgram';
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import timers from 'node:timers';
import workerThreads from 'node:worker_threads';
import type { DeploymentFacts, Detector, Drift } from './detector.js';
import * as objectSurfaces from './object-surfaces.js';
import { primordials } from './primordials.js';
import * as processHooks from './process-hooks.js';

// Copied into module-local constants at load (see primordials.ts).
const {
  ReflectApply,
  ReflectOwnKeys,
  ReflectGetOwnPropertyDescriptor,
  ReflectGetPrototypeOf,
  ObjectCreate,
  ObjectFreeze,
  ObjectHasOwn,
  ArrayIsArray,
  Map: SafeMap,
  Set: SafeSet,
  mapGet,
  mapSet,
  mapHas,
  mapDelete,
  mapForEach,
  mapSize,
  setAdd,
  setHas,
  setDelete,
  setForEach,
  setSize,
  appendItem,
  newList,
  uncurryThis,
  processGetActiveResourcesInfo,
} = primordials;
const { makeDrift, printable } = objectSurfaces;
const { captureOrigin, createOriginJudge, ownData, replaceFunction, syncBuiltinExports } = processHooks;
type CallOrigin = processHooks.CallOrigin;
type OriginJudge = processHooks.OriginJudge;

// Captured here because primordials.ts does not carry them (yet).
const executionAsyncResource = asyncHooks.executionAsyncResource;
const dcChannel = diagnosticsChannel.channel as (name: string) => object;
const globalObject = globalThis;
const timersModule = timers as unknown as object;
const listeningGetter = ReflectGetOwnPropertyDescriptor(net.Server.prototype, 'listening')?.get;
const serverAddress = net.Server.prototype.address;
const udpAddress = dgram.Socket.prototype.address;
/** `Worker#threadId` is an accessor on the prototype; -1 once the thread exited. */
const workerThreadIdGetter = ReflectGetOwnPropertyDescriptor(workerThreads.Worker.prototype, 'threadId')?.get;
/** `Timeout.prototype.hasRef`, from a probe timer (the class is not exported). */
const timeoutHasRef: ((timer: object) => unknown) | undefined = (() => {
  try {
    const probe = setTimeout(() => undefined, 1);
    clearTimeout(probe);
    const proto = ReflectGetPrototypeOf(probe);
    const hasRef = proto === null ? undefined : ownData(proto, 'hasRef');
    return typeof hasRef === 'function'
      ? (uncurryThis(hasRef as () => boolean) as (timer: object) => unknown)
      : undefined;
  } catch {
    return undefined;
  }
})();

type AnyFunction = (...args: never[]) => unknown;

const DETECTOR = 'resources';

// ---------------------------------------------------------------------------------------------
// Policy data

/** Timeouts this long or longer, still pending at a check, are judged (rule (b)). */
export const LONG_TIMEOUT_MS = 1000;

/**
 * Timers remembered between two checks; beyond this the oldest that already fired are dropped, and
 * if all are still pending the overflow itself is reported (an implant could otherwise flood the list
 * to hide its beacon). A function has this many pending timers at once only when something is wrong.
 */
export const MAX_TRACKED_TIMERS = 4096;

/**
 * `process.getActiveResourcesInfo()` types that legitimate functions leave behind or have in flight
 * at a check. Never drift: only `COUNTED_RESOURCE_TYPES` are. "Observed" marks names seen on Node
 * 20.20 and 24.22 (http.Agent keep-alive, fetch/undici and the AWS SDK v3 against a local endpoint,
 * fs, fs.promises, dns, net); the others are Node's names for the same kind of request in flight.
 */
export const BENIGN_RESOURCE_TYPES: Readonly<Record<string, string>> = ObjectFreeze({
  TCPSocketWrap:
    'observed: a keep-alive socket. http.Agent({ keepAlive }) — one per endpoint for the AWS SDK v3 — and undici (fetch) keep it open after the response',
  PipeWrap:
    "observed: a pipe or Unix socket — a child's stdio (the child itself is judged), a Unix-socket client; a Unix-socket server is judged through the listen channel",
  Immediate: 'observed: a setImmediate in flight (the runtime client and streams use them)',
  ConnectWrap: 'observed: an outgoing connection being established',
  SimpleShutdownWrap: 'observed: a socket half-close in flight',
  FSReqCallback: 'observed: an fs operation in flight',
  FSReqPromise: 'observed: an fs.promises operation in flight',
  CloseReq: 'observed: an fs.promises FileHandle being closed',
  GetAddrInfoReqWrap: 'observed: a DNS lookup in flight',
  TTYWrap: 'stdio on a terminal (local runs)',
  MessagePort: 'a worker or BroadcastChannel port (the worker itself is judged)',
  GetNameInfoReqWrap: 'a reverse DNS lookup in flight',
  QueryReqWrap: 'a c-ares DNS query in flight',
  PipeConnectWrap: 'a Unix-socket connection being established',
  ShutdownWrap: 'a socket half-close in flight',
  WriteWrap: 'a socket write in flight',
  SendWrap: 'a UDP send in flight',
});

/**
 * Types whose count above the baseline (and above what this detector tracks) is drift: each is a
 * listener for the attacker or code running beside the function.
 */
export const COUNTED_RESOURCE_TYPES: Readonly<Record<string, string>> = ObjectFreeze({
  TCPServerWrap: 'a TCP server listening (a bind shell, a local proxy)',
  UDPWrap: 'a UDP socket (a covert channel)',
  ProcessWrap: 'a child process still running',
  FSEventWrap: 'an fs.watch watcher (waits for files the function writes)',
  StatWatcher: 'an fs.watchFile poller',
  Timeout:
    'ref’d timers not created through setTimeout/setInterval (timers/promises); needs two checks in a row',
});

// ---------------------------------------------------------------------------------------------
// Timer tracking (installed once per process, at the first baseline)

const KIND_TIMEOUT = 0;
const KIND_INTERVAL = 1;
const KIND_NAMES = ['setTimeout', 'setInterval'] as const;

/** A timer the rule judges: an interval, a long timeout, or a link of a re-arming chain. */
interface JudgedTimer {
  readonly timer: object;
  readonly kind: number;
  readonly callback: unknown;
  readonly delay: number;
  readonly chained: boolean;
  /** Read when the timer is created (a structured stack: tens of µs, so only for judged timers). */
  readonly origin: CallOrigin;
  /** 0 not judged yet, 1 the deployment's, 2 not. */
  verdict: number;
}

/**
 * Timers created since the baseline. Sets and Maps (captured methods), not arrays: adding is one
 * call on the hot path, and no `Array.prototype[n]` setter an implant plants can swallow an entry.
 * Fired and cleared timers are dropped at each check (and when the cap is reached).
 */
const timerState = {
  installed: false,
  armed: false,
  /** Judged timers, by timer. */
  judged: new SafeMap<object, JudgedTimer>(),
  /** Every other timer (short timeouts): counted for the 'Timeout' backstop, and chain parents. */
  short: new SafeSet<object>(),
  /** Timers created while the cap was reached by pending ones (reported). */
  overflow: 0,
  /** Faults inside the wrapper (never thrown into the caller; reported). */
  faults: 0,
};

function isPending(timer: object): boolean {
  // `_destroyed` is Node's own flag (20–24): set when a timeout fired or any timer was cleared, reset
  // by refresh(). Read as an own data property: an implant that deletes it to let a prototype getter
  // answer "destroyed" gets "pending" instead.
  return ownData(timer, '_destroyed') !== true;
}

function hasRef(timer: object): boolean {
  if (timeoutHasRef === undefined) return true;
  try {
    return timeoutHasRef(timer) !== false;
  } catch {
    return true;
  }
}

function compactTimers(): void {
  mapForEach(timerState.judged, (_entry, timer) => {
    if (!isPending(timer)) mapDelete(timerState.judged, timer);
  });
  setForEach(timerState.short, (timer) => {
    if (!isPending(timer)) setDelete(timerState.short, timer);
  });
}

function trackedTimers(): number {
  return mapSize(timerState.judged) + setSize(timerState.short);
}

function trackTimer(timer: unknown, kind: number, callback: unknown, wrapper: AnyFunction): void {
  if (typeof timer !== 'object' || timer === null) return;
  if (trackedTimers() >= MAX_TRACKED_TIMERS) compactTimers();
  if (trackedTimers() >= MAX_TRACKED_TIMERS) {
    timerState.overflow++;
    return;
  }
  // Node's own normalised delay, an own data property its constructor just wrote.
  const idle = (timer as { _idleTimeout?: unknown })._idleTimeout;
  const delay = typeof idle === 'number' ? idle : 0;
  // Inside a timer callback the execution resource is that timer: armed from a tracked timer's
  // callback means a re-arming chain.
  const parent = executionAsyncResource();
  const chained =
    typeof parent === 'object' &&
    parent !== null &&
    (setHas(timerState.short, parent) || mapHas(timerState.judged, parent));
  if (kind === KIND_INTERVAL || delay >= LONG_TIMEOUT_MS || chained) {
    mapSet(timerState.judged, timer, {
      timer,
      kind,
      callback,
      delay,
      chained,
      origin: captureOrigin(wrapper),
      verdict: 0,
    });
  } else {
    setAdd(timerState.short, timer);
  }
}

function wrapTimerFunction(original: AnyFunction, kind: number): AnyFunction {
  // A plain function like the original (callable with `new`, has a prototype); mirrorFunction gives
  // it the original's name, length and util.promisify.custom.
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const timer = ReflectApply(original, this, args);
    if (timerState.armed) {
      try {
        trackTimer(timer, kind, args[0], wrapper as AnyFunction);
      } catch {
        timerState.faults++;
      }
    }
    return timer;
  };
  return wrapper as AnyFunction;
}

function installTimerWrappers(): void {
  if (timerState.installed) return;
  timerState.installed = true;
  const names = KIND_NAMES;
  const targets = [globalObject, timersModule];
  for (let kind = KIND_TIMEOUT; kind <= KIND_INTERVAL; kind++) {
    const name = names[kind] as string;
    // One wrapper per distinct original: where the global and the module hold the same function, they
    // hold the same wrapper afterwards.
    const wrappers = new SafeMap<unknown, AnyFunction>();
    for (let i = 0; i < targets.length; i++) {
      replaceFunction(targets[i] as object, name, (original) => {
        const existing = mapGet(wrappers, original);
        if (existing !== undefined) return existing;
        const wrapper = wrapTimerFunction(original, kind);
        mapSet(wrappers, original, wrapper);
        return wrapper;
      });
    }
  }
  syncBuiltinExports();
}

// ---------------------------------------------------------------------------------------------
// Creation channels (subscribed once per process, when this module loads)

const OBJECT_SERVER = 0;
const OBJECT_UDP = 1;
const OBJECT_CHILD = 2;
const OBJECT_WORKER = 3;

/** Drift path per tracked object kind. */
const OBJECT_PATHS = [
  'net.Server.listen',
  'dgram.Socket.bind',
  'child_process.spawn',
  'worker_threads.Worker',
] as const;

interface ObjectRecord {
  readonly kind: number;
  readonly target: object;
  readonly origin: CallOrigin;
  verdict: number;
}

/** Channel name, payload key, kind. */
const CREATION_CHANNELS: readonly (readonly [string, string, number])[] = ObjectFreeze([
  ObjectFreeze(['tracing:net.server.listen:asyncStart', 'server', OBJECT_SERVER] as const),
  ObjectFreeze(['udp.socket', 'socket', OBJECT_UDP] as const),
  ObjectFreeze(['child_process', 'process', OBJECT_CHILD] as const),
  ObjectFreeze(['worker_threads', 'worker', OBJECT_WORKER] as const),
]);

const objectState = {
  subscribed: false,
  armed: false,
  tracked: newList<ObjectRecord>(),
  overflow: 0,
  /** [channel, our subscriber] pairs, checked for tampering. */
  subscriptions: newList<readonly [object, AnyFunction, string]>(),
};

/** More created-and-alive objects than this between checks is itself reported. */
const MAX_TRACKED_OBJECTS = 1024;

/** State of a tracked object: 0 gone, 1 alive but harmless (an unbound UDP socket), 2 alive. */
function aliveness(entry: ObjectRecord): number {
  const target = entry.target;
  switch (entry.kind) {
    case OBJECT_SERVER:
      return listeningGetter !== undefined && ReflectApply(listeningGetter, target, []) === true ? 2 : 0;
    case OBJECT_UDP:
      try {
        ReflectApply(udpAddress, target, []);
        return 2;
      } catch (error) {
        // EBADF: created, not bound (harmless); ERR_SOCKET_DGRAM_NOT_RUNNING: closed.
        const code = typeof error === 'object' && error !== null ? ownData(error, 'code') : undefined;
        return code === 'ERR_SOCKET_DGRAM_NOT_RUNNING' ? 0 : 1;
      }
    case OBJECT_CHILD: {
      const pid = ownData(target, 'pid');
      const exited = ownData(target, 'exitCode');
      const signalled = ownData(target, 'signalCode');
      return typeof pid === 'number' &&
        (exited === null || exited === undefined) &&
        (signalled === null || signalled === undefined)
        ? 2
        : 0;
    }
    case OBJECT_WORKER: {
      const threadId = workerThreadId(target);
      return threadId === undefined || threadId >= 0 ? 2 : 0;
    }
    default:
      return 0;
  }
}

function workerThreadId(target: object): number | undefined {
  if (workerThreadIdGetter === undefined) return undefined;
  const threadId = ReflectApply(workerThreadIdGetter, target, []);
  return typeof threadId === 'number' ? threadId : undefined;
}

function compactObjects(): void {
  const kept = newList<ObjectRecord>();
  const list = objectState.tracked;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i] as ObjectRecord;
    let alive = 2;
    try {
      alive = aliveness(entry);
    } catch {
      alive = 2;
    }
    if (alive !== 0) appendItem(kept, entry);
  }
  objectState.tracked = kept;
}

function subscribeCreations(): void {
  if (objectState.subscribed) return;
  objectState.subscribed = true;
  for (let i = 0; i < CREATION_CHANNELS.length; i++) {
    const spec = CREATION_CHANNELS[i] as readonly [string, string, number];
    const name = spec[0];
    const key = spec[1];
    const kind = spec[2];
    // A subscriber that throws would surface as an uncaught exception in the function: never throw.
    const subscriber = (message: unknown): void => {
      if (!objectState.armed) return;
      try {
        const target = typeof message === 'object' && message !== null ? ownData(message, key) : undefined;
        if (typeof target !== 'object' || target === null) return;
        if (objectState.tracked.length >= MAX_TRACKED_OBJECTS) compactObjects();
        if (objectState.tracked.length >= MAX_TRACKED_OBJECTS) {
          objectState.overflow++;
          return;
        }
        appendItem(objectState.tracked, { kind, target, origin: captureOrigin(subscriber), verdict: 0 });
      } catch {
        objectState.overflow++;
      }
    };
    try {
      const channel = dcChannel(name) as { subscribe(fn: (message: unknown) => void): void };
      channel.subscribe(subscriber);
      appendItem(
        objectState.subscriptions,
        ObjectFreeze([channel, subscriber as AnyFunction, name] as const),
      );
    } catch {
      // A Node without this channel: the count backstop still covers the ref'd handles.
    }
  }
}

// Subscribed when this module loads, before any detector's baseline: the subscriptions are then part
// of every baseline (the process-hooks detector's included, in whatever order the composer calls
// them), and the subscribers stay inert until the first baseline arms them.
subscribeCreations();

// ---------------------------------------------------------------------------------------------
// The detector

function tally(types: readonly string[]): Record<string, number> {
  const counts = ObjectCreate(null) as Record<string, number>;
  for (let i = 0; i < types.length; i++) {
    const type = types[i] as string;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function activeCounts(): Record<string, number> {
  const info = processGetActiveResourcesInfo();
  return tally(ArrayIsArray(info) ? info : newList<string>());
}

function countOf(counts: Record<string, number>, type: string): number {
  return ObjectHasOwn(counts, type) ? (counts[type] as number) : 0;
}

function serverDetail(target: object): Record<string, string | number | boolean | null> {
  try {
    const address = ReflectApply(serverAddress, target, []);
    if (typeof address === 'string') return { type: 'pipe' };
    if (typeof address === 'object' && address !== null) {
      const port = ownData(address, 'port');
      return { type: 'tcp', port: typeof port === 'number' ? port : null };
    }
  } catch {
    // Fall through: the kind is all the drift needs.
  }
  return { type: 'unknown' };
}

function childDetail(target: object): Record<string, string | number | boolean | null> {
  const pid = ownData(target, 'pid');
  const file = ownData(target, 'spawnfile');
  return {
    pid: typeof pid === 'number' ? pid : null,
    file: typeof file === 'string' ? printable(file) : null,
  };
}

/** Create the 'resources' detector. Its first baseline installs the timer wrappers and channel subscriptions. */
export function createResourcesDetector(facts: DeploymentFacts): Detector {
  const judge: OriginJudge = createOriginJudge(facts);
  let baseCounts = ObjectCreate(null) as Record<string, number>;
  let untrackedTimersBefore = false;

  const judgeTimer = (entry: JudgedTimer): boolean => {
    if (entry.verdict === 0) entry.verdict = judge.isDeployment(entry.origin, [entry.callback]) ? 1 : 2;
    return entry.verdict === 1;
  };

  /** Returns the number of pending ref'd tracked timers (for the 'Timeout' backstop). */
  const checkTimers = (out: Drift[]): number => {
    compactTimers();
    let refd = 0;
    setForEach(timerState.short, (timer) => {
      if (hasRef(timer)) refd++;
    });
    mapForEach(timerState.judged, (entry) => {
      const ref = hasRef(entry.timer);
      if (ref) refd++;
      const kindName = KIND_NAMES[entry.kind] as string;
      // Whoever created it: a callback swapped after creation is an implant riding a timer.
      const current = ownData(entry.timer, '_onTimeout');
      if (current !== entry.callback) {
        appendItem(
          out,
          makeDrift(`${kindName}()._onTimeout`, 'replaced', DETECTOR, { delayMs: entry.delay, ref }),
        );
        return;
      }
      if (judgeTimer(entry)) return;
      appendItem(
        out,
        makeDrift(kindName, 'resource', DETECTOR, {
          delayMs: entry.delay,
          ref,
          chained: entry.chained,
          site: entry.origin.site,
        }),
      );
    });
    if (timerState.overflow > 0 || timerState.faults > 0) {
      appendItem(
        out,
        makeDrift('setTimeout', 'fault', DETECTOR, {
          untracked: timerState.overflow,
          faults: timerState.faults,
        }),
      );
    }
    return refd;
  };

  /** Returns live tracked objects per kind (for the count backstop). */
  const checkObjects = (out: Drift[]): number[] => {
    compactObjects();
    const live = [0, 0, 0, 0];
    const list = objectState.tracked;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i] as ObjectRecord;
      let state = 2;
      try {
        state = aliveness(entry);
      } catch {
        state = 2;
      }
      if (state === 0) continue;
      live[entry.kind] = (live[entry.kind] as number) + 1;
      if (state !== 2) continue;
      if (entry.verdict === 0) entry.verdict = judge.isDeployment(entry.origin) ? 1 : 2;
      if (entry.verdict === 1) continue;
      const detail =
        entry.kind === OBJECT_SERVER
          ? serverDetail(entry.target)
          : entry.kind === OBJECT_CHILD
            ? childDetail(entry.target)
            : entry.kind === OBJECT_WORKER
              ? { threadId: workerThreadId(entry.target) ?? null }
              : {};
      detail.site = entry.origin.site;
      appendItem(out, makeDrift(OBJECT_PATHS[entry.kind] as string, 'resource', DETECTOR, detail));
    }
    if (objectState.overflow > 0) {
      appendItem(out, makeDrift(DETECTOR, 'fault', DETECTOR, { untracked: objectState.overflow }));
    }
    // Our own subscriptions are how these objects are seen: one gone is tampering.
    for (let i = 0; i < objectState.subscriptions.length; i++) {
      const subscription = objectState.subscriptions[i] as readonly [object, AnyFunction, string];
      const channel = subscription[0];
      const subscriber = subscription[1];
      const name = subscription[2];
      const subscribers = ownData(channel, '_subscribers');
      if (!ArrayIsArray(subscribers)) continue;
      let present = false;
      for (let j = 0; j < subscribers.length && !present; j++) present = subscribers[j] === subscriber;
      if (!present) {
        appendItem(
          out,
          makeDrift(`diagnostics_channel.channel('${name}').subscribe`, 'removed', DETECTOR, { guard: true }),
        );
      }
    }
    return live;
  };

  const checkCounts = (out: Drift[], liveObjects: number[], refdTimers: number): void => {
    const now = activeCounts();
    // What this detector tracks itself (and judges above) is not counted twice.
    const tracked = ObjectCreate(null) as Record<string, number>;
    tracked.TCPServerWrap = liveObjects[OBJECT_SERVER] as number;
    tracked.UDPWrap = liveObjects[OBJECT_UDP] as number;
    tracked.ProcessWrap = liveObjects[OBJECT_CHILD] as number;
    tracked.Timeout = refdTimers;
    let untrackedTimers = false;
    const types = ReflectOwnKeys(COUNTED_RESOURCE_TYPES);
    for (let i = 0; i < types.length; i++) {
      const type = types[i] as string;
      const baseline = countOf(baseCounts, type);
      const current = countOf(now, type);
      const allowed = countOf(tracked, type);
      if (current <= baseline + allowed) continue;
      if (type === 'Timeout') {
        untrackedTimers = true;
        // A transient (a child_process.exec deadline, the guard's own drain timer) is gone by the next
        // check; a beacon is not.
        if (!untrackedTimersBefore) continue;
      }
      appendItem(
        out,
        makeDrift(`process.getActiveResourcesInfo(${type})`, 'resource', DETECTOR, {
          baseline,
          now: current,
          tracked: allowed,
          untracked: true,
        }),
      );
    }
    untrackedTimersBefore = untrackedTimers;
  };

  return ObjectFreeze({
    name: DETECTOR,
    baseline(): void {
      subscribeCreations();
      installTimerWrappers();
      // Re-baselining forgets what was tracked: it is part of the new baseline.
      timerState.judged = new SafeMap<object, JudgedTimer>();
      timerState.short = new SafeSet<object>();
      timerState.overflow = 0;
      timerState.faults = 0;
      timerState.armed = true;
      objectState.tracked = newList<ObjectRecord>();
      objectState.overflow = 0;
      objectState.armed = true;
      untrackedTimersBefore = false;
      baseCounts = activeCounts();
    },
    check(): Drift[] {
      const out = newList<Drift>();
      let refd = 0;
      let live = [0, 0, 0, 0];
      try {
        refd = checkTimers(out);
      } catch {
        appendItem(out, makeDrift(DETECTOR, 'fault', DETECTOR, { stage: 'timers' }));
      }
      try {
        live = checkObjects(out);
      } catch {
        appendItem(out, makeDrift(DETECTOR, 'fault', DETECTOR, { stage: 'objects' }));
      }
      try {
        checkCounts(out, live, refd);
      } catch {
        appendItem(out, makeDrift(DETECTOR, 'fault', DETECTOR, { stage: 'counts' }));
      }
      return out;
    },
  });
}
