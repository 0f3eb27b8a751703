/**
 * Paths as the fs and child-process hooks judge them: one absolute, `..`-free string per argument,
 * and — because a symlink in /tmp can point anywhere — the same path with its links resolved.
 *
 * Everything here is captured when the module loads: an implant may later replace `path.resolve`,
 * `fs.realpathSync` or `process.cwd`, and the hooks must not consult its versions.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const { apply } = Reflect;
const resolvePath = path.resolve;
const dirnameOf = path.dirname;
const basenameOf = path.basename;
const joinPath = path.join;
const realpathNative = fs.realpathSync.native;
const cwd = process.cwd.bind(process);
const toFilePath = fileURLToPath;
const URLIntrinsic = URL;
const isBuffer = Buffer.isBuffer;
const Uint8ArrayIntrinsic = Uint8Array;
const bufferFrom = Buffer.from;
const bufferToString = Buffer.prototype.toString;
const stringStartsWith = String.prototype.startsWith;
const regexpExec = RegExp.prototype.exec;

/**
 * The text of a path argument as the API reads it: a string, a Buffer/Uint8Array (UTF-8), or a
 * `file:` URL. `undefined` for anything else (file descriptors are out of scope: what was opened
 * before the check cannot be judged by its path).
 */
export function pathText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isBuffer(value)) return apply(bufferToString, value, ['utf8']) as string;
  if (value instanceof Uint8ArrayIntrinsic) {
    return apply(bufferToString, bufferFrom(value.buffer, value.byteOffset, value.byteLength), [
      'utf8',
    ]) as string;
  }
  if (value instanceof URLIntrinsic) {
    try {
      return toFilePath(value);
    } catch {
      return undefined; // not a file: URL: the API refuses it itself
    }
  }
  return undefined;
}

/** Absolute and normalised (`.`/`..`/`//` removed) against the process's current directory. */
export function absolutePath(text: string): string {
  return resolvePath(cwd(), text);
}

/**
 * The path with every symlink resolved. A path that does not exist yet (a file about to be
 * created) resolves its deepest existing ancestor and keeps the rest as written.
 */
export function realPath(absolute: string): string {
  let head = absolute;
  let tail = '';
  for (let i = 0; i < 64; i++) {
    try {
      const real = realpathNative(head);
      return tail === '' ? real : joinPath(real, tail);
    } catch {
      const parent = dirnameOf(head);
      if (parent === head) return absolute;
      tail = tail === '' ? basenameOf(head) : joinPath(basenameOf(head), tail);
      head = parent;
    }
  }
  return absolute;
}

/** Whether `target` is `dir` or inside it (both absolute and normalised). */
export function isUnder(target: string, dir: string): boolean {
  if (dir === '/') return true;
  if (target === dir) return true;
  return apply(stringStartsWith, target, [dir[dir.length - 1] === '/' ? dir : `${dir}/`]) as boolean;
}

/** Whether `target` is inside any of `dirs`. */
export function isUnderAny(target: string, dirs: readonly string[]): boolean {
  for (let i = 0; i < dirs.length; i++) if (isUnder(target, dirs[i] as string)) return true;
  return false;
}

/**
 * A process's environment or memory: `/proc/{self,thread-self,<pid>}[/task/<tid>]/{environ,mem}`.
 * The environment holds the function's AWS credentials; writing `mem` rewrites the process under
 * every JavaScript hook.
 */
const PROC_SECRET = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/(?:\d+|self))?\/(?:environ|mem)$/;

export function isProcSecret(absolute: string): boolean {
  return apply(regexpExec, PROC_SECRET, [absolute]) !== null;
}

/** Normalises allow-list entries once (absolute, no trailing slash except `/`). */
export function normaliseDirs(entries: readonly string[]): readonly string[] {
  const out: string[] = [];
  for (const entry of entries) out.push(resolvePath('/', entry));
  return Object.freeze(out);
}
