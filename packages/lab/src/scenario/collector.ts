import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ExfilRecord, IMPLANT_VARIANTS } from './implants.js';

/** One record the collector received, stamped with lab time on arrival. */
export interface CollectedRecord extends ExfilRecord {
  /** Lab time (epoch ms) when it arrived. */
  time: number;
}

/**
 * The attacker's exfiltration collector: an HTTP server on loopback that records what implants
 * send it. It is the ground truth of the demo: a card counts as stolen only if it arrived here.
 */
export class ExfilCollector {
  readonly records: CollectedRecord[] = [];
  /** Bodies that were not valid implant records (counted, never trusted). */
  rejected = 0;
  private server: Server | undefined;

  constructor(private readonly now: () => number) {}

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      req.on('end', () => {
        const record = parseRecord(Buffer.concat(chunks).toString('utf8'));
        if (record) this.records.push({ ...record, time: this.now() });
        else this.rejected += 1;
        res.writeHead(204).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function parseRecord(text: string): ExfilRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  const variant = IMPLANT_VARIANTS.find((v) => v === r.variant);
  if ((r.kind !== 'infected' && r.kind !== 'card') || variant === undefined) return undefined;
  if (typeof r.stream !== 'string' || typeof r.pid !== 'number') return undefined;
  if (r.kind === 'card' && typeof r.card !== 'string') return undefined;
  return {
    kind: r.kind,
    variant,
    stream: r.stream,
    pid: r.pid,
    ...(typeof r.card === 'string' ? { card: r.card } : {}),
  };
}
