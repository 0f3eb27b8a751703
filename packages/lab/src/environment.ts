import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabClock } from './clock.js';
import type { ResolvedFunction } from './function-definition.js';
import type { LabEvents, LabEventType } from './lab-events.js';
import { LogStream } from './log-stream.js';
import {
  type FunctionError,
  type NextInvocation,
  type PostedResponse,
  RuntimeApiServer,
  type Verdict,
} from './runtime-api.js';

/** How an invocation ended, from the caller's point of view. */
export type InvokeOutcome = 'success' | 'function-error' | 'timeout' | 'exit' | 'init-error';

/** What Lambda hands back to the caller of one invocation. */
export interface InvokeResult {
  requestId: string;
  functionName: string;
  environmentId: string;
  /** The invocation paid an init (a new environment, or a reset one re-initialised). */
  cold: boolean;
  outcome: InvokeOutcome;
  /** The response body, or for errors the error document Lambda returns (`{errorType, errorMessage, trace}`). */
  payload: Buffer;
  error?: FunctionError;
  streamed: boolean;
  contentType: string | undefined;
  durationMs: number;
  initDurationMs?: number;
  maxMemoryUsedMb?: number;
  /** This invocation's log lines (START … REPORT), as `X-Amz-Log-Type: Tail` returns them. */
  logs: string[];
}

/** An invocation request, as the scheduler hands it to an environment. */
export interface InvocationRequest {
  payload: Buffer;
  clientContext?: string;
  cognitoIdentity?: string;
  /** Streamed response bytes as the runtime sends them (the result still carries the whole body). */
  onChunk?: (chunk: Buffer) => void;
}

export type EnvironmentState = 'initializing' | 'idle' | 'busy' | 'reset' | 'gone';

/** Everything an environment needs from its lab, decided once per lab. */
export interface EnvironmentContext {
  clock: LabClock;
  events: LabEvents;
  /** Absolute path of aws-lambda-ric's index.mjs (Lambda's /var/runtime/index.mjs). */
  ricEntry: string;
  /** Directory standing in for /var/runtime. */
  runtimeDir: string;
  /** Merged layer directory standing in for /opt, or undefined without layers. */
  optDir: string | undefined;
  region: string;
  accountId: string;
  /** Node binary that runs the runtime client. */
  nodePath: string;
  freeze: boolean;
  initTimeoutMs: number;
  /** Where the environment's sandbox (and its TMPDIR) lives. */
  sandboxRoot: string;
  /** Called when the environment has called /next and has no work: it may be given another. */
  onAvailable(env: ExecutionEnvironment): void;
  /** Called once when the environment is gone for good. */
  onGone(env: ExecutionEnvironment): void;
}

interface Inflight {
  request: InvocationRequest;
  next: NextInvocation;
  cold: boolean;
  startedReal: number;
  initDurationMs: number | undefined;
  logs: string[];
  chunks: Buffer[];
  timer: NodeJS.Timeout | undefined;
  /** The response (or error) has been accepted: the caller has its answer. */
  settled: boolean;
  resolve(result: InvokeResult): void;
}

/**
 * One execution environment: an OS process group running AWS's runtime interface client against
 * this environment's own Runtime API. It mirrors Lambda's lifecycle: INIT until the first /next;
 * frozen (SIGSTOP) while waiting for work; thawed (SIGCONT) on dispatch; killed and reset after a
 * timeout or a crash (keeping its /tmp, as Lambda does); gone when its process exits between
 * invocations, is reaped, retires, or the lab shuts down.
 */
export class ExecutionEnvironment {
  readonly id: string;
  readonly logStream: LogStream;
  readonly sandboxDir: string;
  readonly tmpDir: string;
  readonly createdAt: number;
  state: EnvironmentState = 'initializing';
  frozen = false;
  invocations = 0;
  /** Lab time at which the environment last finished work (for reuse policies and reaping). */
  lastUsedAt: number;
  /** Retiring environments finish their current invocation and take no more. */
  retiring: string | undefined;
  readonly initializationType: 'on-demand' | 'provisioned-concurrency';

  private readonly api: RuntimeApiServer;
  private runtimeApiAddress = '';
  private child: ChildProcess | undefined;
  private pendingNext: ((inv: NextInvocation) => void) | undefined;
  private inflight: Inflight | undefined;
  private queued: { request: InvocationRequest; resolve: (r: InvokeResult) => void } | undefined;
  private initStartedReal = 0;
  private initTimer: NodeJS.Timeout | undefined;
  private initError: FunctionError | undefined;
  private initialized = false;
  private readonly exited: Set<() => void> = new Set();
  /** The lab is killing the runtime on purpose (reset, shutdown): the killer owns the state change. */
  private killing = false;

  constructor(
    readonly fn: ResolvedFunction,
    private readonly ctx: EnvironmentContext,
    options: { provisioned?: boolean } = {},
  ) {
    this.id = randomBytes(8).toString('hex');
    this.initializationType = options.provisioned ? 'provisioned-concurrency' : 'on-demand';
    this.createdAt = ctx.clock.now();
    this.lastUsedAt = this.createdAt;
    const day = new Date(this.createdAt).toISOString().slice(0, 10).replaceAll('-', '/');
    this.logStream = new LogStream(`${day}/[$LATEST]${randomBytes(16).toString('hex')}`);
    // Every line also goes to the lab's event stream as a 'log' event (as a subscription would).
    this.logStream.follow((line) =>
      ctx.events.emitLog({ function: fn.name, environment: this.id, stream: this.logStream.name, line }),
    );
    this.sandboxDir = join(ctx.sandboxRoot, `${fn.name}-${this.id}`);
    this.tmpDir = join(this.sandboxDir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true });
    this.api = new RuntimeApiServer({
      next: (deliver) => this.onNext(deliver),
      check: (id) => this.check(id),
      response: (id, response) => this.onResponse(id, response),
      chunk: (id, chunk) => this.onChunk(id, chunk),
      error: (id, error, raw) => this.onError(id, error, raw),
      initError: (error) => this.onInitError(error),
    });
  }

  /** Start the Runtime API and spawn the runtime (INIT begins). */
  async start(): Promise<void> {
    this.runtimeApiAddress = await this.api.listen();
    this.emit('environment-created', {
      initializationType: this.initializationType,
      sandbox: this.sandboxDir,
      logStream: this.logStream.name,
    });
    this.spawnRuntime();
  }

  /** Resolves once INIT has finished (first /next) or failed. */
  whenInitialized(): Promise<void> {
    if (this.initialized || this.state === 'gone') return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.initialized || this.state === 'gone' || this.state === 'reset') {
          this.ctx.events.off('event', listener);
          resolve();
        }
      };
      const listener = () => check();
      this.ctx.events.on('event', listener);
    });
  }

  /** The caller has its answer but the runtime has not asked for the next invocation yet. */
  get finishing(): boolean {
    return this.state === 'busy' && this.inflight?.settled === true && this.retiring === undefined;
  }

  /** Whether the scheduler may hand this environment an invocation right now. */
  get available(): boolean {
    return this.retiring === undefined && (this.state === 'idle' || this.state === 'reset');
  }

  /** Run one invocation here. The environment must be available or still in its first INIT. */
  invoke(request: InvocationRequest): Promise<InvokeResult> {
    return new Promise((resolve) => {
      if (this.queued || this.inflight || this.state === 'gone' || this.state === 'busy') {
        throw new Error(
          `lab scheduler bug: environment ${this.id} is ${this.state} and cannot take an invocation`,
        );
      }
      this.queued = { request, resolve };
      if (this.state === 'reset') {
        // Lambda re-initialises a reset environment inside the next invocation ("suppressed init").
        this.spawnRuntime();
      } else if (this.state === 'idle') {
        this.dispatch();
      }
      // initializing: dispatched at the first /next.
    });
  }

  /** Stop the environment for good (idle reaping, provider lifetime, lab close). */
  async shutdown(reason: 'reaped' | 'retired' | 'shutdown'): Promise<void> {
    if (this.state === 'gone') return;
    this.clearInitTimer();
    const wasRunning = this.child !== undefined;
    this.state = 'gone';
    if (wasRunning) await this.killGroup(true);
    this.failQueued('shutdown');
    this.emit(reason, {});
    await this.api.close();
    this.ctx.onGone(this);
  }

  /** This environment's Runtime API address (`127.0.0.1:port`), as AWS_LAMBDA_RUNTIME_API gives it. */
  get runtimeApi(): string {
    return this.runtimeApiAddress;
  }

  /** Pid of the runtime process (the process group id), while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawnRuntime(): void {
    const fn = this.fn;
    const env = this.buildEnvironment();
    const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
    const runtimeCommand = [this.ctx.nodePath, this.ctx.ricEntry];
    // Lambda's bootstrap runs `$AWS_LAMBDA_EXEC_WRAPPER <runtime command...>` when the variable is set.
    const [command, ...args] = wrapper ? [this.mapOpt(wrapper), ...runtimeCommand] : runtimeCommand;
    this.state = 'initializing';
    this.initialized = false;
    this.initError = undefined;
    this.initStartedReal = performance.now();
    const child = spawn(command as string, args, {
      cwd: fn.codeDir,
      env,
      detached: true, // its own process group, so freeze/kill reach every process it starts
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.logStream.attach(child.stdout, child.stderr, (line) => this.inflight?.logs.push(line));
    child.on('error', (err) => {
      this.initError = {
        errorType: 'Runtime.InvalidEntrypoint',
        errorMessage: `cannot start ${command}: ${err.message}`,
      };
    });
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    this.initTimer = setTimeout(() => this.onInitTimeout(), this.ctx.initTimeoutMs);
  }

  private buildEnvironment(): Record<string, string> {
    const fn = this.fn;
    const opt = this.ctx.optDir;
    const nodePath = [
      ...(opt
        ? [
            join(opt, 'nodejs', `node${process.versions.node.split('.')[0]}`, 'node_modules'),
            join(opt, 'nodejs', 'node_modules'),
          ]
        : []),
      join(this.ctx.runtimeDir, 'node_modules'),
      this.ctx.runtimeDir,
      fn.codeDir,
    ].join(':');
    const fake = (n: number) => randomBytes(n).toString('hex').toUpperCase();
    return {
      // The function's own variables first: reserved ones below always win (Lambda rejects them anyway).
      ...fn.environment,
      PATH: [opt ? join(opt, 'bin') : '', '/usr/local/bin', '/usr/bin', '/bin'].filter(Boolean).join(':'),
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      TMPDIR: this.tmpDir,
      NODE_PATH: nodePath,
      LD_LIBRARY_PATH: [opt ? join(opt, 'lib') : '', '/lib64', '/usr/lib64'].filter(Boolean).join(':'),
      _HANDLER: fn.handler,
      LAMBDA_TASK_ROOT: fn.codeDir,
      LAMBDA_RUNTIME_DIR: this.ctx.runtimeDir,
      AWS_LAMBDA_RUNTIME_API: this.runtimeApiAddress,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStream.name,
      AWS_LAMBDA_INITIALIZATION_TYPE: this.initializationType,
      AWS_REGION: this.ctx.region,
      AWS_DEFAULT_REGION: this.ctx.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      // Lab-only credentials: shaped like a role session's, valid nowhere.
      AWS_ACCESS_KEY_ID: `ASIA${fake(8)}`,
      AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
      AWS_SESSION_TOKEN: randomBytes(64).toString('base64'),
      ...(fn.environment.AWS_LAMBDA_EXEC_WRAPPER
        ? { AWS_LAMBDA_EXEC_WRAPPER: this.mapOpt(fn.environment.AWS_LAMBDA_EXEC_WRAPPER) }
        : {}),
    };
  }

  /** `/opt/...` on Lambda is the merged layer directory here. */
  private mapOpt(path: string): string {
    const opt = this.ctx.optDir;
    return opt && (path === '/opt' || path.startsWith('/opt/')) ? join(opt, path.slice(4)) : path;
  }

  // ---- Runtime API callbacks -------------------------------------------------------------

  private onNext(deliver: (inv: NextInvocation) => void): Verdict | undefined {
    if (this.state === 'gone' || this.state === 'reset') {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        errorMessage: 'environment is shutting down',
      };
    }
    if (this.inflight && !this.inflight.settled) {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        errorMessage: `State transition from Invoke to Next is not allowed before a response for ${this.inflight.next.requestId}`,
      };
    }
    if (this.pendingNext) {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        errorMessage: 'a /next request is already waiting',
      };
    }
    if (!this.initialized) {
      this.initialized = true;
      this.clearInitTimer();
      const initDurationMs = performance.now() - this.initStartedReal;
      // A provisioned environment's first INIT happens before any request: no invocation pays it.
      const prewarmed = this.initializationType === 'provisioned-concurrency' && this.invocations === 0;
      if (!prewarmed) this.lastInitDurationMs = initDurationMs;
      this.emit('initialized', { initDurationMs: round2(initDurationMs), pid: this.child?.pid });
    }
    if (this.inflight) this.finishInflight();
    this.pendingNext = deliver;
    if (this.retiring !== undefined && !this.queued) {
      void this.shutdown('retired');
      return undefined;
    }
    if (this.queued) {
      this.dispatch();
    } else {
      this.state = 'idle';
      this.lastUsedAt = this.ctx.clock.now();
      this.freeze();
      this.ctx.onAvailable(this);
    }
    return undefined;
  }

  private lastInitDurationMs: number | undefined;

  private check(requestId: string): Verdict | undefined {
    const inflight = this.inflight;
    if (!inflight || inflight.next.requestId !== requestId) {
      return { status: 400, errorType: 'InvalidRequestID', errorMessage: `Invalid request ID: ${requestId}` };
    }
    if (inflight.settled) {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        errorMessage: `a response or error was already posted for ${requestId}`,
      };
    }
    return undefined;
  }

  private onChunk(requestId: string, chunk: Buffer): void {
    const inflight = this.inflight;
    if (!inflight || inflight.next.requestId !== requestId) return;
    inflight.chunks.push(chunk);
    inflight.request.onChunk?.(chunk);
  }

  private onResponse(requestId: string, response: PostedResponse): Verdict {
    const refused = this.check(requestId);
    if (refused) return refused;
    if (response.error) {
      this.settle('function-error', Buffer.from(JSON.stringify(response.error)), response.error, response);
    } else {
      this.settle('success', response.body, undefined, response);
    }
    return { status: 202 };
  }

  private onError(requestId: string, error: FunctionError, raw: Buffer): Verdict {
    const refused = this.check(requestId);
    if (refused) return refused;
    this.settle('function-error', raw.length > 0 ? raw : Buffer.from(JSON.stringify(error)), error);
    return { status: 202 };
  }

  private onInitError(error: FunctionError): Verdict {
    if (this.initialized) {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        errorMessage: 'init/error after INIT completed',
      };
    }
    this.initError = error;
    // Lambda stops the runtime after an init error; the caller gets the error, the environment resets.
    queueMicrotask(() => void this.killGroup());
    return { status: 202 };
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private dispatch(): void {
    const queued = this.queued;
    const deliver = this.pendingNext;
    if (!queued || !deliver) return;
    this.queued = undefined;
    this.pendingNext = undefined;
    const cold = this.lastInitDurationMs !== undefined;
    const initDurationMs = this.lastInitDurationMs;
    this.lastInitDurationMs = undefined;
    this.invocations += 1;
    this.state = 'busy';
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const next: NextInvocation = {
      requestId: randomUUID(),
      deadlineMs: Date.now() + timeoutMs,
      functionArn: `arn:aws:lambda:${this.ctx.region}:${this.ctx.accountId}:function:${this.fn.name}`,
      traceId: traceId(),
      payload: queued.request.payload,
      ...(queued.request.clientContext ? { clientContext: queued.request.clientContext } : {}),
      ...(queued.request.cognitoIdentity ? { cognitoIdentity: queued.request.cognitoIdentity } : {}),
    };
    const inflight: Inflight = {
      request: queued.request,
      next,
      cold,
      startedReal: performance.now(),
      initDurationMs,
      logs: [],
      chunks: [],
      timer: undefined,
      settled: false,
      resolve: queued.resolve,
    };
    this.inflight = inflight;
    const start = `START RequestId: ${next.requestId} Version: $LATEST`;
    this.logStream.write(start);
    inflight.logs.push(start);
    this.thaw();
    this.emit('invoke-start', { cold }, next.requestId);
    inflight.timer = setTimeout(() => this.onTimeout(inflight), timeoutMs);
    deliver(next);
  }

  /** The caller gets its answer now; the environment stays busy until the runtime calls /next. */
  private settle(
    outcome: InvokeOutcome,
    payload: Buffer,
    error: FunctionError | undefined,
    response?: PostedResponse,
  ): void {
    const inflight = this.inflight;
    if (!inflight || inflight.settled) return;
    inflight.settled = true;
    if (inflight.timer) clearTimeout(inflight.timer);
    const durationMs = performance.now() - inflight.startedReal;
    const memory = this.maxMemoryUsedMb();
    const report = [
      `REPORT RequestId: ${inflight.next.requestId}`,
      `Duration: ${durationMs.toFixed(2)} ms`,
      `Billed Duration: ${Math.max(1, Math.ceil(durationMs))} ms`,
      `Memory Size: ${this.fn.memoryMb} MB`,
      `Max Memory Used: ${memory ?? 0} MB`,
      ...(inflight.initDurationMs !== undefined
        ? [`Init Duration: ${inflight.initDurationMs.toFixed(2)} ms`]
        : []),
      ...(outcome === 'timeout'
        ? ['Status: timeout']
        : outcome === 'exit'
          ? ['Status: error\tError Type: Runtime.ExitError']
          : []),
    ].join('\t');
    const end = `END RequestId: ${inflight.next.requestId}`;
    this.logStream.write(end);
    this.logStream.write(report);
    inflight.logs.push(end, report);
    this.emit('invoke-end', { outcome, durationMs: round2(durationMs) }, inflight.next.requestId);
    inflight.resolve({
      requestId: inflight.next.requestId,
      functionName: this.fn.name,
      environmentId: this.id,
      cold: inflight.cold,
      outcome,
      payload,
      ...(error ? { error } : {}),
      streamed: response?.streamed ?? false,
      contentType: response?.contentType,
      durationMs,
      ...(inflight.initDurationMs !== undefined ? { initDurationMs: inflight.initDurationMs } : {}),
      ...(memory !== undefined ? { maxMemoryUsedMb: memory } : {}),
      logs: inflight.logs,
    });
  }

  private finishInflight(): void {
    this.inflight = undefined;
  }

  private onTimeout(inflight: Inflight): void {
    if (this.inflight !== inflight || inflight.settled) return;
    const seconds = this.fn.timeoutSeconds.toFixed(2);
    const error: FunctionError = {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${inflight.next.requestId} Error: Task timed out after ${seconds} seconds`,
    };
    this.logStream.write(
      `${new Date().toISOString()} ${inflight.next.requestId} Task timed out after ${seconds} seconds`,
    );
    this.emit('timeout', { timeoutSeconds: this.fn.timeoutSeconds }, inflight.next.requestId);
    this.settle('timeout', Buffer.from(JSON.stringify(error)), error);
    void this.reset('timeout');
  }

  private onInitTimeout(): void {
    if (this.initialized || this.state === 'gone') return;
    this.initError = {
      errorType: 'Runtime.InitTimeout',
      errorMessage: `INIT did not finish within ${(this.ctx.initTimeoutMs / 1000).toFixed(2)} s: the runtime never called /runtime/invocation/next`,
    };
    void this.killGroup();
  }

  /** Kill the runtime; the environment is re-initialised on its next use, keeping its /tmp. */
  private async reset(reason: string): Promise<void> {
    await this.killGroup(true);
    if (this.state === 'gone') return;
    this.state = 'reset';
    this.inflight = undefined;
    this.pendingNext = undefined;
    this.emit('reset', { reason });
    if (this.retiring !== undefined) {
      void this.shutdown('retired');
      return;
    }
    this.ctx.onAvailable(this);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.frozen = false;
    this.clearInitTimer();
    this.pendingNext = undefined;
    for (const fn of this.exited) fn();
    this.exited.clear();
    if (this.killing) {
      this.killing = false;
      return;
    }
    const status = signal ? `signal: ${signal.toLowerCase()}` : `exit status ${code}`;
    if (this.state === 'gone' || this.state === 'reset') return;
    if (!this.initialized) {
      const error = this.initError ?? {
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with error: ${status}`,
      };
      this.emit('init-failed', { errorType: error.errorType, errorMessage: error.errorMessage });
      this.failQueued('init', error);
      this.state = 'reset';
      this.emit('reset', { reason: 'init-failed' });
      if (this.retiring !== undefined) void this.shutdown('retired');
      else this.ctx.onAvailable(this);
      return;
    }
    const inflight = this.inflight;
    if (inflight && !inflight.settled) {
      const error: FunctionError = {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${inflight.next.requestId} Error: Runtime exited with error: ${status}`,
      };
      this.emit('crashed', { status }, inflight.next.requestId);
      this.settle('exit', Buffer.from(JSON.stringify(error)), error);
      this.state = 'reset';
      this.inflight = undefined;
      this.emit('reset', { reason: 'exit' });
      if (this.retiring !== undefined) void this.shutdown('retired');
      else this.ctx.onAvailable(this);
      return;
    }
    // Exited between invocations (after its response was delivered): this environment is gone and
    // the next request cold-starts another. The guard's recycling relies on exactly this.
    this.state = 'gone';
    this.emit('exited', { status, after: this.invocations });
    this.failQueued('exit', {
      errorType: 'Runtime.ExitError',
      errorMessage: `Runtime exited with error: ${status}`,
    });
    void this.api.close();
    this.ctx.onGone(this);
  }

  private failQueued(kind: 'init' | 'exit' | 'shutdown', error?: FunctionError): void {
    const queued = this.queued;
    if (!queued) return;
    this.queued = undefined;
    const err = error ?? {
      errorType: 'Runtime.ExitError',
      errorMessage: 'environment shut down before the invocation ran',
    };
    queued.resolve({
      requestId: randomUUID(),
      functionName: this.fn.name,
      environmentId: this.id,
      cold: true,
      outcome: kind === 'init' ? 'init-error' : 'exit',
      payload: Buffer.from(JSON.stringify(err)),
      error: err,
      streamed: false,
      contentType: undefined,
      durationMs: 0,
      logs: [],
    });
  }

  private freeze(): void {
    if (!this.ctx.freeze || !this.child?.pid || this.frozen) return;
    signalGroup(this.child.pid, 'SIGSTOP');
    this.frozen = true;
    this.emit('frozen', {});
  }

  private thaw(): void {
    if (!this.frozen || !this.child?.pid) return;
    signalGroup(this.child.pid, 'SIGCONT');
    this.frozen = false;
    this.emit('thawed', {});
  }

  /** Kill the runtime's process group; `deliberate` when the caller handles the state change itself. */
  private killGroup(deliberate = false): Promise<void> {
    const child = this.child;
    if (!child?.pid) return Promise.resolve();
    if (deliberate) this.killing = true;
    const done = new Promise<void>((resolve) => this.exited.add(resolve));
    signalGroup(child.pid, 'SIGKILL');
    // A stopped group receives SIGKILL too; SIGCONT is not needed, but is harmless and documents intent.
    signalGroup(child.pid, 'SIGCONT');
    this.frozen = false;
    return done;
  }

  private clearInitTimer(): void {
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = undefined;
  }

  /** Peak resident memory of the runtime process (VmHWM), as REPORT's "Max Memory Used". */
  private maxMemoryUsedMb(): number | undefined {
    const pid = this.child?.pid;
    if (!pid) return undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
      return Number.isFinite(kb) ? Math.ceil(kb / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  private emit(type: LabEventType, detail: Record<string, unknown>, requestId?: string): void {
    this.ctx.events.emitEvent({
      type,
      time: this.ctx.clock.now(),
      realTime: Date.now(),
      function: this.fn.name,
      environment: this.id,
      ...(requestId ? { requestId } : {}),
      detail,
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function traceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0;Lineage=1:${randomBytes(4).toString('hex')}:0`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
