import { Agent, request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';

export interface HttpReply {
  status: number;
  body: Buffer;
}

/**
 * A keep-alive HTTP client. Reusing connections matters: a fresh TCP connection per request would
 * add a connect (and the server's accept) to every sample and hide the cost we want to see.
 */
export class KeepAliveClient {
  readonly agent: Agent;
  constructor(sockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  request(url: string, method = 'GET', body?: Buffer, timeoutMs = 30_000): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body) req.setHeader('content-type', 'application/json');
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A free loopback port (tiny race between close and reuse, acceptable for a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
