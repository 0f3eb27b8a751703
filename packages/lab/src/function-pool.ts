import type { ClockTimer } from './clock.js';
import {
  type EnvironmentContext,
  ExecutionEnvironment,
  type InvocationRequest,
  type InvokeResult,
} from './environment.js';
import { LabError } from './errors.js';
import type { ResolvedFunction } from './function-definition.js';

/** Which idle environment gets the next invocation. AWS does not document its choice. */
export type ReusePolicy = 'mru' | 'lru' | 'random';

export interface PoolOptions {
  reuse: ReusePolicy;
  /** Idle time (lab ms) after which an environment is reaped. */
  idleTimeoutMs: number;
  /** Provider maximum lifetime (lab ms): Lambda recycles even busy environments every few hours. */
  maxLifetimeMs: number;
  /** Account-level concurrency limit, shared by every function when reservedConcurrency is unset. */
  accountConcurrency: number;
  /** How long (real ms) a request waits for an environment that has answered but not yet called /next. */
  reuseGraceMs: number;
}

/**
 * The scheduler of one function: one in-flight invocation per environment, a new environment when
 * none is available, 429 beyond the concurrency limit, idle reaping and provider lifetime.
 */
export class FunctionPool {
  readonly environments = new Set<ExecutionEnvironment>();
  private readonly reapTimers = new Map<ExecutionEnvironment, ClockTimer>();
  private readonly lifetimeTimers = new Map<ExecutionEnvironment, ClockTimer>();
  private closed = false;

  constructor(
    readonly fn: ResolvedFunction,
    private readonly ctx: Omit<EnvironmentContext, 'onAvailable' | 'onGone'>,
    private readonly options: PoolOptions,
  ) {}

  /** Pre-warm the provisioned environments; resolves when their INIT has finished. */
  async provision(): Promise<void> {
    const envs: ExecutionEnvironment[] = [];
    for (let i = 0; i < this.fn.provisionedConcurrency; i += 1) envs.push(await this.create(true));
    await Promise.all(envs.map((env) => env.whenInitialized()));
  }

  /** Run one invocation; throws EPHEMERA_ERR_LAB_THROTTLED when the concurrency limit is reached. */
  async invoke(request: InvocationRequest): Promise<InvokeResult> {
    if (this.closed) throw new LabError('EPHEMERA_ERR_LAB_CLOSED', 'the lab is closed');
    const env = this.pick();
    if (!env && this.options.reuseGraceMs > 0 && this.list().some((e) => e.finishing)) {
      // On AWS the runtime asks for its next invocation within microseconds of responding, long
      // before the caller's next request arrives over the network. Locally the caller can be
      // faster than the runtime; waiting briefly for an environment that has already answered
      // keeps back-to-back requests warm, as they would be on Lambda.
      const handed = await this.waitForAvailable(this.options.reuseGraceMs, request);
      if (handed) return handed;
    }
    if (env) {
      this.cancelReap(env);
      return env.invoke(request);
    }
    const fresh = await this.createOrThrottle();
    this.cancelReap(fresh);
    return fresh.invoke(request);
  }
  /** Environments alive now (not gone). */
  list(): ExecutionEnvironment[] {
    return [...this.environments];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.reapTimers.values(), ...this.lifetimeTimers.values()]) t.cancel();
    await Promise.all([...this.environments].map((env) => env.shutdown('shutdown')));
  }

  private pick(): ExecutionEnvironment | undefined {
    const idle = [...this.environments].filter((env) => env.available);
    if (idle.length === 0) return undefined;
    // A warm environment first; a reset one (pays a suppressed init) only when no warm one is idle.
    const warm = idle.filter((env) => env.state === 'idle');
    const candidates = warm.length > 0 ? warm : idle;
    switch (this.options.reuse) {
      case 'mru':
        return candidates.reduce((a, b) => (b.lastUsedAt > a.lastUsedAt ? b : a));
      case 'lru':
        return candidates.reduce((a, b) => (b.lastUsedAt < a.lastUsedAt ? b : a));
      case 'random':
        return candidates[Math.floor(Math.random() * candidates.length)];
    }
  }

  private async createOrThrottle(): Promise<ExecutionEnvironment> {
    const limit = this.fn.reservedConcurrency ?? this.options.accountConcurrency;
    if (this.environments.size >= limit) {
      this.ctx.events.emitEvent({
        type: 'throttled',
        time: this.ctx.clock.now(),
        realTime: Date.now(),
        function: this.fn.name,
        detail: { limit, environments: this.environments.size },
      });
      throw new LabError(
        'EPHEMERA_ERR_LAB_THROTTLED',
        `Rate Exceeded: function ${this.fn.name} has ${this.environments.size} busy environments and a concurrency limit of ${limit}`,
      );
    }
    return this.create(false);
  }

  private async create(provisioned: boolean): Promise<ExecutionEnvironment> {
    const env = new ExecutionEnvironment(
      this.fn,
      {
        ...this.ctx,
        onAvailable: (e) => this.onAvailable(e),
        onGone: (e) => this.onGone(e),
      },
      { provisioned },
    );
    this.environments.add(env);
    await env.start();
    if (this.options.maxLifetimeMs > 0) {
      this.lifetimeTimers.set(
        env,
        this.ctx.clock.setTimeout(() => this.retire(env), this.options.maxLifetimeMs),
      );
    }
    return env;
  }

  private retire(env: ExecutionEnvironment): void {
    this.lifetimeTimers.delete(env);
    env.retiring = 'lifetime';
    // A busy environment finishes its invocation first (it shuts down at its next /next).
    if (env.state === 'idle' || env.state === 'reset') void env.shutdown('retired');
  }

  /** Requests waiting for an environment to become available; each takes one synchronously. */
  private readonly waiters = new Set<(env: ExecutionEnvironment) => boolean>();

  /** Run `request` on the first environment that becomes available within `ms`, else undefined. */
  private waitForAvailable(ms: number, request: InvocationRequest): Promise<InvokeResult | undefined> {
    return new Promise((resolve) => {
      const take = (env: ExecutionEnvironment): boolean => {
        if (!env.available) return false;
        clearTimeout(timer);
        this.waiters.delete(take);
        this.cancelReap(env);
        // Claimed synchronously: no other waiter or request can take this environment first.
        resolve(env.invoke(request));
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(take);
        resolve(undefined);
      }, ms);
      this.waiters.add(take);
    });
  }

  private onAvailable(env: ExecutionEnvironment): void {
    // A waiting request takes the environment before the reaper is armed.
    for (const take of this.waiters) if (take(env)) return;
    // Provisioned environments are kept initialised; on-demand ones are reaped when idle too long.
    if (this.closed || env.initializationType === 'provisioned-concurrency') return;
    this.cancelReap(env);
    this.reapTimers.set(
      env,
      this.ctx.clock.setTimeout(() => {
        this.reapTimers.delete(env);
        if (env.available) void env.shutdown('reaped');
      }, this.options.idleTimeoutMs),
    );
  }

  private onGone(env: ExecutionEnvironment): void {
    this.environments.delete(env);
    this.cancelReap(env);
    this.lifetimeTimers.get(env)?.cancel();
    this.lifetimeTimers.delete(env);
  }

  private cancelReap(env: ExecutionEnvironment): void {
    this.reapTimers.get(env)?.cancel();
    this.reapTimers.delete(env);
  }
}
