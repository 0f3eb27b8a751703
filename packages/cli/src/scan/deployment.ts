/**
 * The layout of a deployment directory: the function's own JavaScript files, and every package under
 * `node_modules` (scoped and nested too) with its manifest and files. Symbolic links are followed (a
 * workspace or pnpm layout links packages in); a package reached twice through links is listed once.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, type Stats, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { SourceKind } from './analyse-file.js';

export interface SourceFile {
  /** Absolute path as reached from the root (links not resolved). */
  readonly path: string;
  /** Relative to the deployment root, with `/` separators. */
  readonly rel: string;
  readonly kind: SourceKind;
}

export interface PackageDir {
  readonly name: string;
  readonly version: string;
  readonly rel: string;
  readonly path: string;
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly manifestText: string;
  readonly native: boolean;
  readonly files: SourceFile[];
}

export interface Deployment {
  readonly root: string;
  readonly own: SourceFile[];
  readonly packages: PackageDir[];
}

const SOURCE_EXTENSIONS = /\.(?:js|cjs|mjs)$/;

/** Lists the deployment at `root` (an existing directory). */
export function readDeployment(root: string): Deployment {
  const deployment: Deployment = { root, own: [], packages: [] };
  const seenPackages = new Set<string>();
  const seenDirs = new Set<string>();
  const rootKind = kindOf(root, 'commonjs');

  const relPath = (path: string): string => relative(root, path).split(sep).join('/');

  function walk(dir: string, files: SourceFile[], kind: SourceKind): void {
    const real = safeRealpath(dir);
    if (real === null || seenDirs.has(real)) return; // link loops
    seenDirs.add(real);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (name === 'node_modules') {
        walkNodeModules(path);
        continue;
      }
      const stats = safeStat(path);
      if (stats === null) continue;
      if (stats.isDirectory()) walk(path, files, kindOf(path, kind));
      else if (stats.isFile() && SOURCE_EXTENSIONS.test(name)) {
        const fileKind: SourceKind = name.endsWith('.mjs')
          ? 'module'
          : name.endsWith('.cjs')
            ? 'commonjs'
            : kind;
        files.push({ path, rel: relPath(path), kind: fileKind });
      }
    }
  }

  function walkNodeModules(dir: string): void {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      if (name.startsWith('.')) continue; // .bin, .package-lock.json, .cache
      const path = join(dir, name);
      if (name.startsWith('@')) {
        let scoped: string[] = [];
        try {
          scoped = readdirSync(path);
        } catch {}
        for (const inner of scoped.sort()) if (!inner.startsWith('.')) addPackage(join(path, inner));
      } else {
        addPackage(path);
      }
    }
  }

  function addPackage(path: string): void {
    const real = safeRealpath(path);
    if (real === null || seenPackages.has(real)) return;
    seenPackages.add(real);
    let manifestText: string;
    let manifest: Record<string, unknown>;
    try {
      manifestText = readFileSync(join(path, 'package.json'), 'utf8');
      const parsed: unknown = JSON.parse(manifestText);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      manifest = parsed as Record<string, unknown>;
    } catch {
      return; // not a package (or an unreadable one): nothing npm would load from here
    }
    const pkg: PackageDir = {
      name: typeof manifest.name === 'string' ? manifest.name : relPath(path),
      version: typeof manifest.version === 'string' ? manifest.version : '0.0.0',
      rel: relPath(path),
      path,
      manifest,
      manifestText,
      native: manifest.gypfile === true || existsSync(join(path, 'binding.gyp')),
      files: [],
    };
    deployment.packages.push(pkg);
    walk(path, pkg.files, manifest.type === 'module' ? 'module' : 'commonjs');
  }

  walk(root, deployment.own, rootKind);
  return deployment;
}

/** A directory's module kind: its own package.json "type" if it has one, else the parent's. */
function kindOf(dir: string, inherited: SourceKind): SourceKind {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return inherited;
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown };
    return parsed.type === 'module' ? 'module' : parsed.type === 'commonjs' ? 'commonjs' : inherited;
  } catch {
    return inherited;
  }
}

function safeRealpath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function safeStat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
