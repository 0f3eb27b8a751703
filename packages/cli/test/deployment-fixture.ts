/**
 * A real deployment built at test (and bench) time: a function using the AWS SDK v3 DynamoDB client,
 * express and pg, whose node_modules holds those packages and their whole dependency closure, resolved
 * from the repository's node_modules by reading package.json files the way Node's resolver walks
 * directories. Packages are linked (symlinks), not copied: the scan follows links like a bundler does.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export const REAL_DEPENDENCIES = ['@aws-sdk/client-dynamodb', 'express', 'pg'] as const;

/** The function's own code: ordinary, so the scan should find nothing high in it. */
const HANDLER = `'use strict';
const express = require('express');
const { Pool } = require('pg');
const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');

const ddb = new DynamoDBClient({});
const pool = new Pool({ host: process.env.PGHOST, user: 'orders', database: 'orders' });
const app = express();
app.use(express.json());

app.get('/orders/:id', async (req, res) => {
  const { rows } = await pool.query('SELECT id, total FROM orders WHERE id = $1', [req.params.id]);
  const flags = await ddb.send(new GetItemCommand({ TableName: 'flags', Key: { id: { S: 'orders' } } }));
  res.json({ order: rows[0] ?? null, flags: flags.Item ?? null });
});

app.post('/orders/:id/notify', async (req, res) => {
  const reply = await fetch('https://hooks.slack.example-corp.com/services/T000/B000', {
    method: 'POST',
    body: JSON.stringify({ text: 'order ' + req.params.id }),
  });
  res.status(reply.ok ? 204 : 502).end();
});

exports.app = app;
exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath }) });
`;

/** Directory of `name` as Node would find it from `fromDir` (walking up node_modules), or null. */
function findPackage(name: string, fromDir: string): string | null {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Every package directory the roots need at run time (dependencies and installed optionalDependencies). */
export function dependencyClosure(roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const root of roots) {
    const dir = findPackage(root, REPO);
    if (dir === null) throw new Error(`${root} is not installed in ${REPO}node_modules`);
    queue.push(dir);
  }
  while (queue.length > 0) {
    const dir = queue.pop() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const found = findPackage(name, dir);
      if (found !== null) queue.push(found);
      else if (!manifest.optionalDependencies?.[name])
        throw new Error(`${name} (needed by ${dir}) is not installed`);
    }
  }
  return [...seen].sort();
}

/**
 * Creates a function directory in a temp dir: index.js (the handler above) and node_modules linking the
 * closure of REAL_DEPENDENCIES. Returns the directory and the number of packages in the closure.
 */
export function buildRealDeployment(): { dir: string; packages: number } {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-scan-real-'));
  writeFileSync(join(dir, 'index.js'), HANDLER);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'orders', private: true }, null, 2)}\n`);
  const closure = dependencyClosure(REAL_DEPENDENCIES);
  const linked = new Set<string>();
  for (const pkg of closure) {
    // node_modules/a/node_modules/b comes with a's link; only top-level packages are linked.
    const rel = relative(REPO, pkg).split(sep);
    const top = rel[1]?.startsWith('@') ? rel.slice(0, 3) : rel.slice(0, 2);
    const key = top.join('/');
    if (linked.has(key)) continue;
    linked.add(key);
    const target = join(dir, ...top);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(REPO, ...top), target, 'dir');
  }
  return { dir, packages: closure.length };
}
