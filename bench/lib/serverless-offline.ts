import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELLO_FILE, PROBE_DIR } from './hello.js';
import { freePort } from './http.js';

export interface SlsInstall {
  /** Directory whose node_modules holds serverless and serverless-offline. */
  root: string;
  bin: string;
  serverlessVersion: string;
  offlineVersion: string;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Find serverless + serverless-offline: the project's own node_modules first (if they were added as
 * devDependencies), else the directory named by BENCH_SLS_DIR (a scratch install outside the project).
 */
export function locateServerless(): SlsInstall | { missing: string } {
  const roots = [PROJECT_ROOT, process.env.BENCH_SLS_DIR].filter(
    (r): r is string => typeof r === 'string' && r !== '',
  );
  for (const root of roots) {
    // Looked up by path: serverless's package "exports" do not expose package.json to require.resolve.
    const pkg = (name: string) => join(root, 'node_modules', name, 'package.json');
    if (!existsSync(pkg('serverless')) || !existsSync(pkg('serverless-offline'))) continue;
    const version = (name: string) =>
      (JSON.parse(readFileSync(pkg(name), 'utf8')) as { version: string }).version;
    return {
      root,
      bin: join(root, 'node_modules', 'serverless', 'bin', 'serverless.js'),
      serverlessVersion: version('serverless'),
      offlineVersion: version('serverless-offline'),
    };
  }
  return {
    missing:
      'serverless and serverless-offline are not installed in the project; set BENCH_SLS_DIR to a directory where ' +
      '`npm i serverless@3 serverless-offline@13` was run (see docs/benchmarks.md)',
  };
}

const SERVICE = 'hello-bench';

/** serverless.yml for the same hello handler plus the semantics probes. */
function serviceYaml(): string {
  return `service: ${SERVICE}
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
plugins:
  - serverless-offline
functions:
  hello:
    handler: index.handler
    events:
      - httpApi:
          method: GET
          path: /hello
  probe:
    handler: probe/index.handler
    timeout: 1
  probeReset:
    handler: probe/index.handler
    timeout: 1
  probeCrash:
    handler: probe/index.handler
    timeout: 1
  slowInit:
    handler: probe/slow-init.handler
    timeout: 1
    environment:
      PROBE_INIT_MS: '2000'
`;
}

export interface SlsOffline {
  pid: number;
  helloUrl: string;
  startupMs: number;
  /** Lambda Invoke API URL of one of the service's functions. */
  invokeUrl(fn: 'hello' | 'probe' | 'probeReset' | 'probeCrash' | 'slowInit'): string;
  close(): Promise<void>;
}

/** Start `serverless offline` in a scratch service directory, with no AWS credentials and an empty HOME. */
export async function startServerlessOffline(
  install: SlsInstall,
  terminateIdleSeconds: number,
): Promise<SlsOffline> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-sls-'));
  const home = join(dir, 'home');
  const svc = join(dir, 'svc');
  for (const d of [home, join(svc, 'probe')]) mkdirSync(d, { recursive: true });
  // The handler is copied byte for byte: serverless resolves handlers relative to its service dir.
  copyFileSync(HELLO_FILE, join(svc, 'index.mjs'));
  for (const f of ['index.mjs', 'slow-init.mjs']) copyFileSync(join(PROBE_DIR, f), join(svc, 'probe', f));
  writeFileSync(join(svc, 'serverless.yml'), serviceYaml());
  const [httpPort, lambdaPort, wsPort, albPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  // No AWS_* variable and a fresh HOME: whatever runs here runs without any AWS account.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    HOME: home,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
  });
  const args = [
    install.bin,
    'offline',
    '--host',
    '127.0.0.1',
    '--httpPort',
    String(httpPort),
    '--lambdaPort',
    String(lambdaPort),
  ];
  args.push(
    '--websocketPort',
    String(wsPort),
    '--albPort',
    String(albPort),
    '--terminateIdleLambdaTime',
    String(terminateIdleSeconds),
  );
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: svc,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => killGroup(child);
  process.once('exit', kill);
  try {
    await waitForReady(child, 90_000);
  } catch (err) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const startupMs = performance.now() - started;
  return {
    pid: child.pid ?? 0,
    helloUrl: `http://127.0.0.1:${httpPort}/hello`,
    startupMs,
    invokeUrl: (fn) => `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${SERVICE}-dev-${fn}/invocations`,
    close: async () => {
      process.off('exit', kill);
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolve once serverless-offline prints "Server ready"; reject with its output if it exits first.
 * Afterwards its output (a few lines per request) is discarded but still drained, so the pipe never
 * fills up and blocks it, and the harness does no per-request work on its behalf.
 */
function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const streams = [child.stdout, child.stderr].filter((s) => s !== null);
    const done = () => {
      clearTimeout(timer);
      for (const s of streams) {
        s.off('data', onData);
        s.resume();
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`serverless offline not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      output += c.toString();
      if (output.includes('Server ready')) {
        done();
        resolve();
      }
    };
    for (const s of streams) s.on('data', onData);
    child.once('exit', (code, signal) => {
      done();
      reject(
        new Error(
          `serverless offline exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`,
        ),
      );
    });
    child.once('error', reject);
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM the process group, SIGKILL it if it lingers; resolves when the process has exited. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(hard);
      // Worker threads die with the process, but anything it spawned shares its group: make sure.
      killGroup(child, 'SIGKILL');
      resolve();
    });
    killGroup(child, 'SIGTERM');
  });
}
