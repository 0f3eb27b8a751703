/**
 * Build the guard's Lambda layer: a directory and a zip with the layout Lambda extracts into /opt:
 *   /opt/ephemera-exec-wrapper
 *   /opt/nodejs/node_modules/@ephemera/guard/{package.json,dist/...}
 * Not loaded by the guard at run time: the CLI (`ephemera demo`), the build script
 * (`npm run build:layer`) and the tests use it through `@ephemera/guard/layer-build`.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

/** Fixed timestamps keep the zip reproducible: the same build gives the same bytes. */
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
/** The guard package's directory (this file runs from dist/). */
// From __filename, not __dirname: tsx (tests) sets only __filename when it loads this file from src/.
const PACKAGE_DIR = resolve(dirname(__filename), '..');

/** Assemble the layer directory and its zip; returns their paths. */
export function buildLayer(outDir: string = join(PACKAGE_DIR, 'layer-build')): { dir: string; zip: string } {
  const dist = join(PACKAGE_DIR, 'dist');
  if (!existsSync(join(dist, 'register.js')) || !existsSync(join(dist, 'shim.mjs'))) {
    throw new Error(`build-layer: ${dist} is not built; run \`npm run build\` first`);
  }
  const root = join(outDir, 'layer');
  rmSync(root, { recursive: true, force: true });
  const guardDir = join(root, 'nodejs', 'node_modules', '@ephemera', 'guard');
  mkdirSync(guardDir, { recursive: true });
  cpSync(join(PACKAGE_DIR, 'package.json'), join(guardDir, 'package.json'));
  // Declarations and source maps are not needed at run time; leave them out of the layer.
  cpSync(dist, join(guardDir, 'dist'), {
    recursive: true,
    filter: (src) => !/\.(d\.ts|d\.mts|map)$/.test(src),
  });
  cpSync(join(PACKAGE_DIR, 'layer', 'ephemera-exec-wrapper'), join(root, 'ephemera-exec-wrapper'));
  chmodSync(join(root, 'ephemera-exec-wrapper'), 0o755);
  const zipPath = join(outDir, 'ephemera-guard-layer.zip');
  writeFileSync(zipPath, zip(root));
  return { dir: root, zip: zipPath };
}

/** A minimal zip writer (deflate, Unix modes kept so the wrapper stays executable). */
function zip(root: string): Buffer {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(root);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(relative(root, file));
    const data = readFileSync(file);
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const mode = statSync(file).mode & 0o777;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(DOS_DATE_1980_01_01 << 16, 10); // time 00:00, date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(DOS_DATE_1980_01_01 << 16, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
