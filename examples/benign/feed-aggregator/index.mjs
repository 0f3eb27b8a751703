// Activity feed (API Gateway HTTP API): merges entries from several sources, caches rendered pages in
// a module-scope LRU, paginates with signed cursors, and gzips large responses. It exercises the
// everyday runtime work of a warm function: timers that fire within the invocation, Promise.all
// fan-out, hashing, zlib, Buffer/base64, JSON with dates and URL parsing.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const CURSOR_KEY = process.env.CURSOR_KEY ?? 'benign-cursor-key';
const SOURCES = ['orders', 'reviews', 'tickets', 'deploys', 'payments'];
const PAGE_SIZE = 20;

/** A small LRU: Map keeps insertion order, so re-inserting on hit makes the first key the oldest. */
class Lru {
  constructor(max) {
    this.max = max;
    this.map = new Map();
    this.hits = 0;
    this.misses = 0;
  }
  get(key) {
    const value = this.map.get(key);
    if (value === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }
  set(key, value) {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value);
  }
}

const pages = new Lru(200);
// Pages older than a minute are dropped by a sweep that runs while the environment is thawed; the
// timer is unref'd so it never keeps an invocation (or the process) alive.
const PAGE_TTL_MS = 60_000;
const pageBirth = new Map();
setInterval(() => {
  const cutoff = Date.now() - PAGE_TTL_MS;
  for (const [key, born] of pageBirth) {
    if (born >= cutoff) break;
    pages.map.delete(key);
    pageBirth.delete(key);
  }
}, 5_000).unref();

/** One source's entries since `since` — a stand-in for a backend call, with its latency. */
async function fetchSource(source, since, signal) {
  const seed = createHash('sha1').update(`${source}:${since.toISOString()}`).digest();
  await sleep(1 + (seed[0] % 3), undefined, { signal });
  return Array.from({ length: 4 + (seed[1] % 8) }, (_, i) => ({
    id: `${source}-${seed.readUInt32BE(2 + (i % 4)).toString(36)}-${i}`,
    source,
    at: new Date(since.getTime() + (seed[i % 20] + 1) * 60_000 * (i + 1)),
    title: `${source} event ${i + 1}`,
  }));
}

/** Ask every source at once; a source that is too slow is left out rather than failing the page. */
async function gather(sources, since) {
  const results = await Promise.all(
    sources.map(async (source) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 250);
      try {
        return await fetchSource(source, since, controller.signal);
      } catch {
        return [];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results.flat().sort((a, b) => b.at - a.at || a.id.localeCompare(b.id));
}

function signCursor(offset, key) {
  const payload = Buffer.from(JSON.stringify({ offset, key })).toString('base64url');
  return `${payload}.${createHmac('sha256', CURSOR_KEY).update(payload).digest('base64url')}`;
}

function readCursor(cursor, key) {
  const [payload, mac] = String(cursor).split('.');
  const expected = createHmac('sha256', CURSOR_KEY)
    .update(payload ?? '')
    .digest();
  const given = Buffer.from(mac ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  return parsed.key === key ? parsed.offset : undefined;
}

const reviveDates = (k, v) => (k === 'at' || k === 'generatedAt' ? new Date(v) : v);

const json = (statusCode, body, extra = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...extra },
  body: JSON.stringify(body),
});

export const handler = async (event) => {
  // Normalise the request into a cache key: same parameters in any order → same page.
  const url = new URL(
    `${event.rawPath}?${event.rawQueryString ?? ''}`,
    `https://${event.requestContext.domainName}`,
  );
  const sources = (url.searchParams.get('sources') ?? SOURCES.join(','))
    .split(',')
    .filter((s) => SOURCES.includes(s));
  const since = new Date(url.searchParams.get('since') ?? '2025-01-01T00:00:00Z');
  if (sources.length === 0 || Number.isNaN(since.getTime()))
    return json(400, { error: 'bad sources or since' });
  const key = `${[...new Set(sources)].sort().join(',')}@${since.toISOString()}`;

  let feed = pages.get(key);
  if (feed === undefined) {
    const entries = await gather(sources, since);
    // Stored as JSON text (a copy no caller can mutate), revived with real Dates on the way out.
    feed = JSON.stringify({ generatedAt: new Date(), entries });
    pages.set(key, feed);
    pageBirth.delete(key);
    pageBirth.set(key, Date.now());
  }
  const { generatedAt, entries } = JSON.parse(feed, reviveDates);
  const cursor = url.searchParams.get('cursor');
  const offset = cursor ? readCursor(cursor, key) : 0;
  if (offset === undefined) return json(400, { error: 'bad cursor' });
  const page = entries.slice(offset, offset + PAGE_SIZE);
  const body = JSON.stringify({
    generatedAt,
    count: page.length,
    entries: page,
    next: offset + PAGE_SIZE < entries.length ? signCursor(offset + PAGE_SIZE, key) : null,
    cache: { hits: pages.hits, misses: pages.misses },
  });
  const headers = {
    'content-type': 'application/json',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    'last-modified': generatedAt.toUTCString(),
  };
  if (/\bgzip\b/.test(event.headers?.['accept-encoding'] ?? '') && body.length > 512) {
    const zipped = await gzipAsync(body);
    return {
      statusCode: 200,
      headers: { ...headers, 'content-encoding': 'gzip', vary: 'accept-encoding' },
      body: zipped.toString('base64'),
      isBase64Encoded: true,
    };
  }
  return { statusCode: 200, headers, body };
};
