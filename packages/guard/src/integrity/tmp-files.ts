/**
 * The 'tmp' detector: code an implant drops into the temp directory to load or run later. The temp
 * directory is the only writable place in a Lambda sandbox, and it survives not only invocations but
 * environment resets; the function's own code is read-only.
 *
 * Rule: an entry of the temp directory that is new since the baseline, or changed (other inode, size,
 * mtime or mode), is drift when it is
 * - a file with any execute bit (a dropped binary, a script made runnable), or
 * - a file or symlink whose name ends with one of `SCRIPT_EXTENSIONS` (loadable code), or
 * - a symlink to an executable file, or
 * - a directory named `node_modules` (a package tree to `require` from).
 * Data files (JSON, CSV, images, archives) are not drift: functions write those to /tmp all the time.
 *
 * Scope and cost: the top level and ONE level below it (`/tmp/x.js`, `/tmp/dir/x.js`; not
 * `/tmp/a/b/x.js`): one readdir per directory and one lstat per entry. The work is bounded: at most
 * `baseline entries + maxEntries` entries are examined per check. A temp directory that grew past that
 * is reported as a 'fault' drift (`reason: 'scan-limit'`): an implant could otherwise flood the
 * directory to push its file out of view, and a function that legitimately keeps more than
 * `maxEntries` new files at the top two levels is rare enough to configure `maxEntries`.
 *
 * Not seen: files deeper than one level, code hidden in a data-named file (`/tmp/cache.json` later
 * loaded with `vm`), files written and removed again before the check, other writable directories
 * (none on Lambda). Functions that unpack a binary to /tmp at invoke time (a headless browser, ffmpeg)
 * are reported; unpack during INIT, or list the names in `allow`.
 */
import fs from 'node:fs';
import type { DeploymentFacts, Detector, Drift } from './detector.js';
import * as objectSurfaces from './object-surfaces.js';
import { primordials } from './primordials.js';

// Copied into module-local constants at load (see primordials.ts).
const {
  ObjectFreeze,
  Map: SafeMap,
  mapGet,
  mapSet,
  mapSize,
  ArrayIsArray,
  appendItem,
  newList,
  stringEndsWith,
  stringStartsWith,
  stringToUpperCase,
  stringSlice,
  uncurryThis,
  fsLstatSync,
  fsStatSync,
  fsReaddirSync,
  pathSep,
} = primordials;
const { makeDrift, printable } = objectSurfaces;

// Captured here because primordials.ts does not carry them: an implant could make every Stats say
// "not a file" by replacing these on the shared prototype.
const statsIsFile = uncurryThis(fs.Stats.prototype.isFile) as (stat: object) => boolean;
const statsIsDirectory = uncurryThis(fs.Stats.prototype.isDirectory) as (stat: object) => boolean;
const statsIsSymbolicLink = uncurryThis(fs.Stats.prototype.isSymbolicLink) as (stat: object) => boolean;

const DETECTOR = 'tmp';

/** Default for `maxEntries`: entries examined per check beyond those present at the baseline. */
export const TMP_SCAN_LIMIT = 1000;

/** Entries examined when the baseline itself is taken (a temp directory INIT filled is still bounded). */
const BASELINE_SCAN_LIMIT = 20000;

/**
 * Names that are code, compared case-insensitively. Each is something Node (or a shell on the
 * sandbox) loads or runs.
 */
export const SCRIPT_EXTENSIONS: readonly string[] = ObjectFreeze([
  '.js', // require()/import of a dropped module
  '.mjs', // the same, as ESM
  '.cjs', // the same, as CommonJS
  '.node', // a native addon: process.dlopen, full native code execution
  '.so', // a shared library: LD_PRELOAD for the next child process, or dlopen
  '.sh', // a shell script for child_process
  '.py', // a Python script (a layer or the image may carry an interpreter)
  '.ts', // Node 22.6+/24 strip types and run .ts directly
  '.mts', // the same, as ESM
  '.cts', // the same, as CommonJS
  '.wasm', // a WebAssembly module loaded with fs + WebAssembly.instantiate
]);

/** A versioned shared library name: `libx.so.1`, `libx.so.1.2`. */
function isVersionedSharedLibrary(upperName: string): boolean {
  const marker = '.SO.';
  for (let i = 0; i + marker.length <= upperName.length; i++) {
    let match = true;
    for (let j = 0; j < marker.length && match; j++) match = upperName[i + j] === marker[j];
    if (!match) continue;
    // Everything after the marker is digits and dots.
    for (let k = i + marker.length; k < upperName.length; k++) {
      const c = upperName[k] as string;
      if (c !== '.' && (c < '0' || c > '9')) return false;
    }
    return true;
  }
  return false;
}

const UPPER_EXTENSIONS: readonly string[] = (() => {
  const out = newList<string>();
  for (let i = 0; i < SCRIPT_EXTENSIONS.length; i++)
    appendItem(out, stringToUpperCase(SCRIPT_EXTENSIONS[i] as string));
  return ObjectFreeze(out);
})();

function isScriptName(name: string): boolean {
  const upper = stringToUpperCase(name);
  for (let i = 0; i < UPPER_EXTENSIONS.length; i++)
    if (stringEndsWith(upper, UPPER_EXTENSIONS[i] as string)) return true;
  return isVersionedSharedLibrary(upper);
}

const EXECUTE_BITS = 0o111;
const NODE_MODULES = 'node_modules';

export interface TmpFilesOptions {
  /** Entries examined per check beyond the baseline's (default `TMP_SCAN_LIMIT`). */
  readonly maxEntries?: number;
  /**
   * Paths relative to the temp directory that the deployment drops on purpose: an exact name
   * (`chromium`) or a directory prefix ending with `/` (`al2023/`).
   */
  readonly allow?: readonly string[];
}

interface Entry {
  readonly rel: string;
  readonly signature: string;
}

interface Scan {
  readonly entries: readonly Entry[];
  readonly complete: boolean;
  readonly examined: number;
}

interface StatLike {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

const KIND_FILE = 'f';
const KIND_DIR = 'd';
const KIND_LINK = 'l';
const KIND_OTHER = 'o';

function kindOf(stat: StatLike): string {
  if (statsIsSymbolicLink(stat)) return KIND_LINK;
  if (statsIsDirectory(stat)) return KIND_DIR;
  if (statsIsFile(stat)) return KIND_FILE;
  return KIND_OTHER;
}

/** `rel`'s last path segment. */
function baseName(rel: string): string {
  for (let i = rel.length - 1; i >= 0; i--) if (rel[i] === '/') return stringSlice(rel, i + 1);
  return rel;
}

/** Permission bits as octal digits (`755`), without Number.prototype.toString. */
function octal(mode: number): string {
  let bits = mode & 0o7777;
  let out = '';
  do {
    out = `${bits & 7}${out}`;
    bits >>= 3;
  } while (bits > 0);
  return out;
}

/** What identifies an entry's content cheaply; a directory is itself (its mtime moves with its files). */
function signatureOf(kind: string, stat: StatLike): string {
  if (kind === KIND_DIR) return `${kind}:${stat.ino}`;
  return `${kind}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.mode}`;
}

function listDir(dir: string): string[] | undefined {
  try {
    const names = fsReaddirSync(dir) as unknown;
    return ArrayIsArray(names) ? (names as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Create the 'tmp' detector for `facts.tmpDir`. */
export function createTmpFilesDetector(facts: DeploymentFacts, options: TmpFilesOptions = {}): Detector {
  const root = stringEndsWith(facts.tmpDir, pathSep) ? facts.tmpDir : facts.tmpDir + pathSep;
  const maxEntries = options.maxEntries ?? TMP_SCAN_LIMIT;
  const allow = options.allow ?? newList<string>();
  let baseline = new SafeMap<string, string>();
  let baselineReadable = false;

  const allowed = (rel: string): boolean => {
    for (let i = 0; i < allow.length; i++) {
      const entry = allow[i] as string;
      if (rel === entry) return true;
      if (stringEndsWith(entry, '/') && stringStartsWith(rel, entry)) return true;
    }
    return false;
  };

  /** Top level and one level down; stats are kept only as signatures. */
  const scan = (
    limit: number,
    visit: ((rel: string, kind: string, stat: StatLike) => void) | undefined,
  ): Scan | undefined => {
    const top = listDir(root);
    if (top === undefined) return undefined;
    const entries = newList<Entry>();
    let examined = 0;
    let complete = true;
    const look = (rel: string, depth: number): void => {
      if (examined >= limit) {
        complete = false;
        return;
      }
      examined++;
      let stat: StatLike;
      try {
        stat = fsLstatSync(root + rel) as unknown as StatLike;
      } catch {
        return; // Gone between readdir and lstat.
      }
      const kind = kindOf(stat);
      appendItem(entries, { rel, signature: signatureOf(kind, stat) });
      if (visit !== undefined) visit(rel, kind, stat);
      if (kind === KIND_DIR && depth === 0) {
        const children = listDir(root + rel);
        if (children === undefined) return;
        for (let i = 0; i < children.length && complete; i++) look(`${rel}/${children[i] as string}`, 1);
      }
    };
    for (let i = 0; i < top.length && complete; i++) look(top[i] as string, 0);
    return { entries, complete, examined };
  };

  const judge = (rel: string, kind: string, stat: StatLike, out: Drift[]): void => {
    const known = mapGet(baseline, rel);
    const signature = signatureOf(kind, stat);
    if (known === signature) return;
    if (allowed(rel)) return;
    const name = baseName(rel);
    const path = `${root}${printable(rel)}`;
    const changed = known !== undefined;
    if (kind === KIND_DIR) {
      if (name === NODE_MODULES && !changed) {
        appendItem(out, makeDrift(path, 'file', DETECTOR, { reason: 'node_modules' }));
      }
      return;
    }
    let executable = false;
    if (kind === KIND_FILE) executable = (stat.mode & EXECUTE_BITS) !== 0;
    else if (kind === KIND_LINK) {
      try {
        const target = fsStatSync(root + rel) as unknown as StatLike;
        executable = statsIsFile(target) && (target.mode & EXECUTE_BITS) !== 0;
      } catch {
        executable = false; // A dangling link runs nothing.
      }
    } else return;
    const script = isScriptName(name);
    if (!executable && !script) return;
    appendItem(
      out,
      makeDrift(path, 'file', DETECTOR, {
        reason: executable && script ? 'executable-script' : executable ? 'executable' : 'script',
        symlink: kind === KIND_LINK,
        changed,
        mode: octal(stat.mode),
      }),
    );
  };

  return ObjectFreeze({
    name: DETECTOR,
    baseline(): void {
      baseline = new SafeMap<string, string>();
      const result = scan(BASELINE_SCAN_LIMIT, undefined);
      baselineReadable = result !== undefined;
      if (result === undefined) return;
      for (let i = 0; i < result.entries.length; i++) {
        const entry = result.entries[i] as Entry;
        mapSet(baseline, entry.rel, entry.signature);
      }
    },
    check(): Drift[] {
      const out = newList<Drift>();
      try {
        const result = scan(mapSize(baseline) + maxEntries, (rel, kind, stat) => judge(rel, kind, stat, out));
        if (result === undefined) {
          // Unreadable now but readable at the baseline: someone changed its permissions or replaced it.
          if (baselineReadable) appendItem(out, makeDrift(root, 'fault', DETECTOR, { reason: 'unreadable' }));
          return out;
        }
        if (!result.complete) {
          appendItem(
            out,
            makeDrift(root, 'fault', DETECTOR, {
              reason: 'scan-limit',
              limit: mapSize(baseline) + maxEntries,
            }),
          );
        }
      } catch {
        appendItem(out, makeDrift(root, 'fault', DETECTOR, { reason: 'error' }));
      }
      return out;
    },
  });
}
