/**
 * The Node flags the layer's exec wrapper adds to the runtime's command line, computed from the
 * resolved policy so that the limits Node enforces itself match the guard's: Node's permission model
 * (`nodePermissions`, default true) and `--disallow-code-generation-from-strings` (`codegen.nodeFlag`).
 *
 * Run as a script by `ephemera-exec-wrapper` (`node dist/exec-flags.js`): it prints one flag per line
 * and exits 0, or prints why not on stderr and exits 2 (the wrapper then starts the runtime without
 * them and the guard refuses the bad policy at INIT with EPHEMERA_ERR_POLICY, loudly, as it always does).
 *
 * What Node enforces (the permission model mirrors the controls that *block*; an `alert` or `off`
 * control gets no Node limit, because Node cannot report, only refuse):
 * - fs `block`: writes only under `fs.write` and /tmp; reads only under `fs.read` (+ what the
 *   runtime needs to start: the task root, /opt, the runtime's directory, /var/lang, /etc, /usr, /tmp)
 *   unless `fs.read` contains `/` (the default), where reads are left to the hooks: the permission
 *   model is an allow-list and cannot refuse just /proc/self/environ or the function's code.
 * - childProcess `block` with an empty allow-list: no `--allow-child-process` (Node refuses every
 *   start, INIT included). Any allow-list, or `alert`, allows child processes (Node's flag is all or
 *   nothing; the hooks judge the executable).
 * - internals `block`: no `--allow-worker` (Node refuses every Worker, INIT included: a worker is a
 *   fresh isolate with unhooked built-ins). `process.binding`, the inspector and WASI are always
 *   refused by the permission model.
 * - `--allow-addons` always (Node 20.12+/21.6+): the runtime client itself (and drivers such as
 *   better-sqlite3) load native addons at INIT; native code is not restricted by the permission model.
 *   On older Node versions the permission model would refuse the runtime client's own addon, so no
 *   permission flag is added there (a warning on stderr says so).
 */
import path from 'node:path';
import { type Policy, resolvePolicy } from './policy.js';

/** What the flags depend on besides the policy. */
export interface ExecFlagsContext {
  /** `process.versions.node` of the Node that will run the runtime. */
  readonly nodeVersion: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ExecFlags {
  readonly flags: readonly string[];
  /** Why a limit could not be expressed (printed on stderr by the script). */
  readonly warnings: readonly string[];
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

/** `--permission` from 22.13/23.5 on, `--experimental-permission` before (20.x has only that one). */
export function permissionFlag(nodeVersion: string): string {
  const major = Number.parseInt(nodeVersion, 10);
  if (major >= 24) return '--permission';
  if (major === 23) return versionAtLeast(nodeVersion, 23, 5) ? '--permission' : '--experimental-permission';
  if (major === 22) return versionAtLeast(nodeVersion, 22, 13) ? '--permission' : '--experimental-permission';
  return '--experimental-permission';
}

/** Whether this Node has `--allow-addons` (20.12+, 21.6+). */
export function hasAllowAddons(nodeVersion: string): boolean {
  const major = Number.parseInt(nodeVersion, 10);
  if (major >= 22) return true;
  if (major === 21) return versionAtLeast(nodeVersion, 21, 6);
  return versionAtLeast(nodeVersion, 20, 12);
}

function unique(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const normal = path.resolve('/', p);
    if (!out.includes(normal)) out.push(normal);
  }
  return out;
}

/**
 * The flags for a resolved policy.
 *
 * @example execFlags(resolvePolicy(undefined), { nodeVersion: process.versions.node, env: process.env }).flags
 */
export function execFlags(policy: Readonly<Policy>, context: ExecFlagsContext): ExecFlags {
  const flags: string[] = [];
  const warnings: string[] = [];
  const { nodeVersion, env } = context;
  if (policy.nodePermissions) {
    if (!hasAllowAddons(nodeVersion)) {
      warnings.push(
        `Node ${nodeVersion} has no --allow-addons (20.12+/21.6+): the permission model would refuse the runtime client's own native addon; it is not enabled`,
      );
    } else {
      flags.push(permissionFlag(nodeVersion));
      const fsBlocks = policy.fs.action === 'block';
      const readAll = !fsBlocks || unique(policy.fs.read).includes('/');
      if (readAll) flags.push('--allow-fs-read=*');
      else {
        const runtime = [
          env.LAMBDA_TASK_ROOT,
          '/opt',
          env.EPHEMERA_LAYER_DIR,
          env.LAMBDA_RUNTIME_DIR,
          '/var/runtime',
          '/var/lang',
          '/etc',
          '/usr',
          '/tmp',
        ].filter((p): p is string => typeof p === 'string' && p !== '');
        for (const p of unique([...policy.fs.read, ...runtime])) flags.push(`--allow-fs-read=${p}`);
      }
      if (!fsBlocks) flags.push('--allow-fs-write=*');
      else for (const p of unique([...policy.fs.write, '/tmp'])) flags.push(`--allow-fs-write=${p}`);
      if (policy.childProcess.action !== 'block' || policy.childProcess.allow.length > 0) {
        flags.push('--allow-child-process');
      }
      if (policy.internals.action !== 'block') flags.push('--allow-worker');
      flags.push('--allow-addons');
    }
  }
  if (policy.codegen.nodeFlag) flags.push('--disallow-code-generation-from-strings');
  for (const flag of flags) {
    if (flag.includes('\n'))
      throw new Error(`a path in the policy contains a newline: ${JSON.stringify(flag)}`);
  }
  return { flags, warnings };
}

if (require.main === module) {
  try {
    const result = execFlags(resolvePolicy(undefined), {
      nodeVersion: process.versions.node,
      env: process.env,
    });
    for (const warning of result.warnings) process.stderr.write(`ephemera-exec-wrapper: ${warning}\n`);
    process.stdout.write(result.flags.length === 0 ? '' : `${result.flags.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(
      `ephemera-exec-wrapper: no Node flags added: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 2;
  }
}
