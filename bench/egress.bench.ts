/**
 * Egress control cost per hooked outbound operation, against the same operation unguarded.
 *
 *   node --import tsx bench/egress.bench.ts            full run (≈40 s on 2 cores)
 *   node --import tsx bench/egress.bench.ts --quick    smoke run
 *
 * The hooks are process-wide and stay once installed, but the control they consult can be switched
 * off (`deactivate()`: the wrapper then returns after one variable check). So one child process
 * (`--child`) times three series on the same sockets and servers, alternating batch by batch in a
 * rotating order so all see the same machine noise: `plain` (no control active), `block` (a
 * control allowing every destination used: the common path) and `alert` (a control allowing none:
 * every connection judged and reported to a no-op sink). A sample is `batch` sequential operations
 * timed with one pair of `process.hrtime.bigint()` reads; the parent runs `rounds` children and
 * reports medians of the per-operation means; "added" is the series' median minus plain's.
 *
 * Operations (all against 127.0.0.1 servers of the parent process, new connection every time):
 * net.connect to an IP literal, net.connect to `localhost` (name: judged, then its lookup result),
 * http.get with `agent: false`, dgram.send to an IP, dns.lookup('localhost'), and the decision alone
 * (`net.Socket#connect` on a destination refused in block mode: no socket work at all).
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, renderText, type Table } from './lib/table.js';

const FILE = fileURLToPath(import.meta.url);
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 2 : 6;
const SAMPLES = QUICK ? 5 : 15;
const BATCH = 40;
const MARK = 'EGRESS_BENCH ';

type Variant = 'plain' | 'block' | 'alert';
const OPS = [
  'connect() call, IP',
  'connect() call, name',
  'net.connect IP',
  'net.connect name',
  'http.get',
  'dgram.send',
  'dns.lookup',
  'refused (decision only)',
] as const;
type Op = (typeof OPS)[number];

// ---------------------------------------------------------------------------------------------------
// Child: time each operation
// ---------------------------------------------------------------------------------------------------

async function child(tcpPort: number, httpPort: number, udpPort: number): Promise<void> {
  const { createEgressControl } = await import('../packages/guard/src/egress/egress.js');
  const controls = {
    block: createEgressControl({
      action: 'block',
      allow: [`127.0.0.1:${tcpPort}`, `127.0.0.1:${httpPort}`, `127.0.0.1:${udpPort}`, 'localhost'],
      env: {},
      onDecision: () => {},
    }),
    alert: createEgressControl({
      action: 'alert',
      allow: ['*.amazonaws.com'],
      env: {},
      onDecision: () => {},
    }),
  };
  /** Only the synchronous `socket.connect()` call (where the hook's work happens), sockets then destroyed. */
  const syncConnect = (host: string) => async () => {
    const socket = new net.Socket();
    socket.on('error', () => {});
    const start = process.hrtime.bigint();
    socket.connect({ port: tcpPort, host, family: 4 });
    const spent = process.hrtime.bigint() - start;
    socket.destroy();
    return Number(spent);
  };
  const once: Record<Op, () => Promise<unknown>> = {
    'connect() call, IP': syncConnect('127.0.0.1'),
    'connect() call, name': syncConnect('localhost'),
    'net.connect IP': () =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect(tcpPort, '127.0.0.1', () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      }),
    'net.connect name': () =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect({ port: tcpPort, host: 'localhost', family: 4 }, () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      }),
    'http.get': () =>
      new Promise<void>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: httpPort, agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      }),
    'dgram.send': (() => {
      const socket = dgram.createSocket('udp4');
      socket.unref();
      return () =>
        new Promise<void>((resolve, reject) =>
          socket.send('x', udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
        );
    })(),
    'dns.lookup': () =>
      new Promise<void>((resolve, reject) =>
        dns.lookup('localhost', { family: 4 }, (e) => (e ? reject(e) : resolve())),
      ),
    // Port 9 of loopback: refused by the list in block mode; unguarded, nothing listens (ECONNREFUSED).
    'refused (decision only)': () =>
      new Promise<void>((resolve) => {
        const s = net.connect(9, '127.0.0.1');
        s.on('error', () => resolve());
        s.on('connect', () => {
          s.destroy();
          resolve();
        });
      }),
  };
  // Hooks in place for every series (they stay for the life of the process); `plain` = none active.
  controls.block.install();
  controls.block.deactivate();
  const select = (variant: Variant) => {
    if (variant === 'plain') {
      controls.block.deactivate();
      controls.alert.deactivate();
      return;
    }
    controls[variant].install();
    // A new invocation per batch: alert reports once per invocation, so the report path is in every batch.
    controls[variant].setInvocation({ active: true, event: {} });
  };
  const result: Record<string, number[]> = {};
  const variants: Variant[] = ['plain', 'block', 'alert'];
  for (const op of OPS) {
    for (const variant of variants) {
      select(variant);
      for (let i = 0; i < 5; i++) await once[op](); // warm-up
    }
    for (let s = 0; s < SAMPLES; s++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(s + k) % variants.length] as Variant;
        if (op === 'refused (decision only)' && variant === 'alert') continue;
        select(variant);
        const start = process.hrtime.bigint();
        let measured = 0;
        for (let i = 0; i < BATCH; i++) {
          const spent = await once[op]();
          if (typeof spent === 'number') measured += spent;
        }
        const key = `${variant} ${op}`;
        const total = measured > 0 ? measured : Number(process.hrtime.bigint() - start);
        const list = result[key] ?? [];
        list.push(total / BATCH);
        result[key] = list;
      }
    }
  }
  process.stdout.write(`${MARK}${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------------

function runChild(ports: number[]): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, FILE, '--child', ...ports.map(String), ...(QUICK ? ['--quick'] : [])],
      { maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`child: ${error.message}\n${stderr}`));
        const line = stdout.split('\n').find((l) => l.startsWith(MARK));
        if (!line) return reject(new Error(`child: no result\n${stdout}\n${stderr}`));
        resolve(JSON.parse(line.slice(MARK.length)));
      },
    );
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
const signedUs = (ns: number) => `${ns >= 0 ? '+' : '−'}${(Math.abs(ns) / 1000).toFixed(2)} µs`;

async function parent(): Promise<void> {
  const tcp = net.createServer((s) => s.destroy());
  const web = http.createServer((_q, r) => r.end('ok'));
  const udp = dgram.createSocket('udp4', () => {});
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const ports = [
    (tcp.address() as net.AddressInfo).port,
    (web.address() as net.AddressInfo).port,
    udp.address().port,
  ];
  const samples: Record<Variant, Record<string, number[]>> = { plain: {}, block: {}, alert: {} };
  const started = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    const result = await runChild(ports);
    for (const [key, values] of Object.entries(result)) {
      const variant = key.slice(0, key.indexOf(' ')) as Variant;
      const op = key.slice(key.indexOf(' ') + 1);
      samples[variant][op] = [...(samples[variant][op] ?? []), ...values];
    }
  }
  tcp.close();
  web.closeAllConnections();
  web.close();
  udp.close();
  const rows: string[][] = [];
  for (const op of OPS) {
    const base = median(samples.plain[op] ?? [0]);
    const block = samples.block[op] ? median(samples.block[op]) : Number.NaN;
    const alert = samples.alert[op] ? median(samples.alert[op]) : Number.NaN;
    rows.push([
      op,
      us(base),
      us(block),
      signedUs(block - base),
      Number.isNaN(alert) ? '—' : us(alert),
      Number.isNaN(alert) ? '—' : signedUs(alert - base),
    ]);
  }
  const table: Table = {
    title: `Egress: cost per outbound operation (${ROUNDS} rounds × ${SAMPLES} samples × ${BATCH} ops, Node ${process.version})`,
    headers: ['operation', 'unguarded p50', 'block (allowed) p50', 'added', 'alert (reported) p50', 'added'],
    rows,
    notes: [
      'median of per-operation batch means; in each child process the three series alternate batch by batch (rotating order) on the same sockets and servers',
      'unguarded = hooks installed but no control active (the wrapper returns after one variable check, a few ns); block = a control allowing every destination used; alert = a control allowing none (each connection judged, reported once per invocation, a new invocation per batch)',
      "\"connect() call\": only the synchronous part of `socket.connect()` (Node's handle creation and lookup start, plus the hook's decision, derived options and lookup closure), timed around the call; the least noisy measure of the hook's own work",
      '"refused": unguarded = a connect to a closed loopback port (ECONNREFUSED from the kernel), block = the same destination refused by the list before any socket work (error object and its stack included)',
      `machine: ${availableParallelism()} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ${Math.round((Date.now() - started) / 1000)} s`,
    ],
  };
  process.stdout.write(`${renderText(table)}\n\n${renderMarkdown(table)}\n`);
}

const at = process.argv.indexOf('--child');
const main =
  at >= 0
    ? () => {
        const [tcpPort, httpPort, udpPort] = process.argv.slice(at + 1, at + 4).map(Number);
        return child(tcpPort as number, httpPort as number, udpPort as number);
      }
    : parent;
main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
