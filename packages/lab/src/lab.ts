import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabClock } from './clock.js';
import type { ExecutionEnvironment, InvokeResult } from './environment.js';
import { LabError } from './errors.js';
import { type FunctionDefinition, type ResolvedFunction, resolveFunction } from './function-definition.js';
import { FunctionPool, type ReusePolicy } from './function-pool.js';
import { HttpFront } from './http-front.js';
import { LabEvents } from './lab-events.js';
import { claimSandbox, sweepOrphans } from './orphan-sweeper.js';
import { findRuntimeClient } from './runtime-client.js';

/** Options of `createLab`. Times marked "lab" run on the lab clock (scaled by `clockScale`). */
export interface LabOptions {
  functions: FunctionDefinition[];
  /** Port of the HTTP front (API Gateway routes and the Invoke API). 0 (default) picks a free one. */
  port?: number;
  /** Lab seconds per real second for lifecycle timers. Default 1. */
  clockScale?: number;
  /** Idle time before an environment is reaped, in lab seconds. Default 600 (10 minutes). */
  idleTimeoutSeconds?: number;
  /** Provider maximum lifetime of an environment, in lab seconds. Default 7200 (2 h); 0 disables it. */
  maxLifetimeSeconds?: number;
  /** Which idle environment takes the next invocation. Default `mru`. */
  reuse?: ReusePolicy;
  /** Freeze (SIGSTOP) environments between invocations, as Lambda does. Default true. */
  freeze?: boolean;
  /** INIT limit in real milliseconds. Default 10 000 (Lambda's 10 s). */
  initTimeoutMs?: number;
  /** Concurrency limit shared by functions without reserved concurrency. Default 1000. */
  accountConcurrency?: number;
  region?: string;
  /** Resolve relative code and layer directories against this. Default: the current directory. */
  baseDir?: string;
  /** Where sandboxes live. Default: a new directory under the OS temp dir, removed on close. */
  sandboxRoot?: string;
  /** Node binary that runs the runtime client. Default: this process's. */
  nodePath?: string;
  /** API Gateway integration timeout in real ms (504/503 to the client). Default 29 000 REST, 30 000 HTTP. */
  apiTimeoutMs?: number;
  /**
   * How long (real ms) a request waits for an environment that has answered but not yet asked for
   * its next invocation, before starting a new one. Default 25: on AWS the network makes that wait
   * invisible; 0 starts a new environment at once.
   */
  reuseGraceMs?: number;
}

/** A running lab. */
export interface Lab {
  /** Base URL of the HTTP front, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly events: LabEvents;
  readonly clock: LabClock;
  readonly functions: readonly ResolvedFunction[];
  /** Invoke a function synchronously (RequestResponse). `event` is JSON-encoded unless it is a Buffer. */
  invoke(functionName: string, event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  /** Environments alive now, optionally of one function. */
  environments(functionName?: string): ExecutionEnvironment[];
  /** Shut every environment down (no orphan process remains) and stop the front. */
  close(): Promise<void>;
}

export interface InvokeOptions {
  clientContext?: string;
  cognitoIdentity?: string;
  onChunk?: (chunk: Buffer) => void;
}

const SANDBOX_PREFIX = 'ephemera-lab-';

/** Lambda's limit on a synchronous invocation's request payload. */
export const REQUEST_PAYLOAD_LIMIT = 6 * 1024 * 1024;

const liveLabs = new Set<{ pids(): number[] }>();
let exitHookInstalled = false;

/** If the host process dies without close(), still leave no runtime process behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) {
      for (const pid of lab.pids()) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Start a lab serving `options.functions` with the real aws-lambda-ric. */
export async function createLab(options: LabOptions): Promise<Lab> {
  if (!Array.isArray(options.functions) || options.functions.length === 0) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CONFIG',
      'createLab: functions must be a non-empty array of function definitions',
    );
  }
  const base = options.baseDir ?? process.cwd();
  const functions = options.functions.map((def) => resolveFunction(def, base));
  const names = new Set<string>();
  for (const fn of functions) {
    if (names.has(fn.name))
      throw new LabError(
        'EPHEMERA_ERR_LAB_CONFIG',
        `function name ${JSON.stringify(fn.name)} is defined twice; names must be unique`,
      );
    names.add(fn.name);
  }
  const reuse = options.reuse ?? 'mru';
  if (!['mru', 'lru', 'random'].includes(reuse)) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_CONFIG',
      `reuse is ${JSON.stringify(reuse)}; accepted: "mru", "lru", "random"`,
    );
  }
  for (const key of [
    'clockScale',
    'idleTimeoutSeconds',
    'maxLifetimeSeconds',
    'initTimeoutMs',
    'accountConcurrency',
    'apiTimeoutMs',
    'reuseGraceMs',
  ] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_CONFIG',
        `${key} is ${JSON.stringify(value)}; accepted: a finite number >= 0`,
      );
    }
  }
  const ric = findRuntimeClient();
  // Runtimes of labs whose host died without close() would stay frozen forever: end them now.
  sweepOrphans(tmpdir(), SANDBOX_PREFIX);
  const ownSandbox = options.sandboxRoot === undefined;
  const sandboxRoot = options.sandboxRoot ?? mkdtempSync(join(tmpdir(), SANDBOX_PREFIX));
  mkdirSync(sandboxRoot, { recursive: true });
  claimSandbox(sandboxRoot);
  const clock = new LabClock({ scale: options.clockScale ?? 1 });
  const events = new LabEvents();
  const pools = new Map<string, FunctionPool>();
  for (const fn of functions) {
    pools.set(
      fn.name,
      new FunctionPool(
        fn,
        {
          clock,
          events,
          ricEntry: ric.entry,
          runtimeDir: ric.dir,
          optDir: mergeLayers(fn, sandboxRoot),
          region: options.region ?? 'us-east-1',
          accountId: '123456789012',
          nodePath: options.nodePath ?? process.execPath,
          freeze: options.freeze ?? true,
          initTimeoutMs: options.initTimeoutMs ?? 10_000,
          sandboxRoot,
        },
        {
          reuse,
          idleTimeoutMs: (options.idleTimeoutSeconds ?? 600) * 1000,
          maxLifetimeMs: (options.maxLifetimeSeconds ?? 7200) * 1000,
          accountConcurrency: options.accountConcurrency ?? 1000,
          reuseGraceMs: options.reuseGraceMs ?? 25,
        },
      ),
    );
  }
  const tracker = {
    pids: () => [...pools.values()].flatMap((p) => p.list().map((e) => e.pid ?? 0)).filter((p) => p > 0),
  };
  liveLabs.add(tracker);
  installExitHook();

  let closed = false;
  const invoke = async (
    functionName: string,
    event: unknown,
    invokeOptions: InvokeOptions = {},
  ): Promise<InvokeResult> => {
    if (closed) throw new LabError('EPHEMERA_ERR_LAB_CLOSED', 'the lab is closed');
    const pool = pools.get(functionName);
    if (!pool) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_UNKNOWN_FUNCTION',
        `Function not found: ${functionName}; this lab serves ${[...pools.keys()].join(', ')}`,
      );
    }
    const payload = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event ?? null));
    if (payload.length > REQUEST_PAYLOAD_LIMIT) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_PAYLOAD_TOO_LARGE',
        `Request must be smaller than ${REQUEST_PAYLOAD_LIMIT} bytes for the InvokeFunction operation (got ${payload.length})`,
      );
    }
    return pool.invoke({ payload, ...invokeOptions });
  };

  const front = new HttpFront(
    functions,
    invoke,
    options.apiTimeoutMs === undefined
      ? undefined
      : { rest: options.apiTimeoutMs, http: options.apiTimeoutMs },
  );
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    await front.close();
    await Promise.all([...pools.values()].map((p) => p.close()));
    clock.stop();
    liveLabs.delete(tracker);
    if (ownSandbox) rmSync(sandboxRoot, { recursive: true, force: true });
  };
  let url: string;
  try {
    // Provisioned concurrency is initialised before the lab reports itself ready.
    await Promise.all([...pools.values()].map((p) => p.provision()));
    url = await front.listen(options.port ?? 0);
  } catch (err) {
    await shutdown();
    throw err;
  }
  return {
    url,
    events,
    clock,
    functions,
    invoke,
    environments: (name) =>
      [...pools.values()].filter((p) => name === undefined || p.fn.name === name).flatMap((p) => p.list()),
    close: shutdown,
  };
}

/** Merge a function's layers, in order, into one directory that stands in for /opt. */
function mergeLayers(fn: ResolvedFunction, sandboxRoot: string): string | undefined {
  if (fn.layers.length === 0) return undefined;
  const opt = join(sandboxRoot, `opt-${fn.name}`);
  mkdirSync(opt, { recursive: true });
  // Later layers overwrite earlier ones, as Lambda extracts them in order.
  for (const layer of fn.layers) cpSync(layer, opt, { recursive: true, force: true, dereference: true });
  return opt;
}
