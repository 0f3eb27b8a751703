import type { Incident } from './incident.js';

export interface WebhookOptions {
  url: string;
  /** Sent as `authorization: Bearer <token>` when set. */
  token?: string;
  /** Attempts per delivery, first included. Default 6. */
  attempts?: number;
  /** First retry delay, doubled each attempt (with jitter). Default 500 ms. */
  backoffMs?: number;
  /** Deliveries waiting at most; beyond it the oldest is dropped and counted. Default 1000. */
  maxQueue?: number;
  timeoutMs?: number;
}

/**
 * Incident notifications: `POST url` with `{event: "incident.created"|"incident.updated", incident}`.
 * Off the ingest path: `notify()` only queues. A queued notification for an incident is replaced
 * by a newer one (the receiver gets the latest state, not every step). Failed posts (network error,
 * non-2xx) are retried with exponential backoff; after the last attempt the delivery is dropped.
 */
export class Webhook {
  private readonly queue = new Map<
    string,
    { change: string; incident: Incident; attempt: number; due: number }
  >();
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private closed = false;
  delivered = 0;
  failed = 0;
  dropped = 0;

  constructor(private readonly options: WebhookOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('webhook must be http(s)');
  }

  notify(change: 'created' | 'updated', incident: Incident): void {
    if (this.closed) return;
    const existing = this.queue.get(incident.id);
    if (!existing && this.queue.size >= (this.options.maxQueue ?? 1000)) {
      const oldest = this.queue.keys().next().value;
      if (oldest !== undefined) this.queue.delete(oldest);
      this.dropped++;
    }
    this.queue.set(incident.id, {
      change: existing?.change === 'created' ? 'created' : change,
      incident,
      attempt: 0,
      due: Date.now(),
    });
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
    this.timer.unref();
  }

  private pump(): void {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, item] of this.queue) {
      if (item.due > now) {
        next = Math.min(next, item.due);
        continue;
      }
      this.queue.delete(id);
      this.inflight++;
      void this.send(item).finally(() => {
        this.inflight--;
      });
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next - now);
  }

  private async send(item: {
    change: string;
    incident: Incident;
    attempt: number;
    due: number;
  }): Promise<void> {
    const body = JSON.stringify({ event: `incident.${item.change}`, incident: item.incident });
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.delivered++;
        return;
      }
    } catch {
      // retried below
    }
    const attempt = item.attempt + 1;
    if (attempt >= (this.options.attempts ?? 6) || this.closed) {
      this.failed++;
      return;
    }
    // A newer state of the same incident queued meanwhile supersedes this retry.
    if (this.queue.has(item.incident.id)) return;
    const delay = (this.options.backoffMs ?? 500) * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
    this.queue.set(item.incident.id, { ...item, attempt, due: Date.now() + delay });
    this.schedule(delay);
  }

  /** Deliveries queued or in flight. */
  get pending(): number {
    return this.queue.size + this.inflight;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
