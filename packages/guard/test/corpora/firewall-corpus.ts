/**
 * Seeded generators of the event firewall's two corpora (data, not hand-typed lines):
 *
 * - `attackCorpus()`: 250+ attacks across the categories, each aimed at one of the deliberately
 *   vulnerable functions in examples/vulnerable/ and carrying a way to tell whether it worked
 *   (`succeeded(answer)`), so a run can show both that the attacks are real (they succeed with the
 *   guard off) and that the guard stops them.
 * - `benignCorpus(n)`: realistic requests for the same functions — names like O'Reilly, addresses,
 *   JSON with prose and code snippets in free-text fields, URLs, file names, SQL-looking search
 *   terms — none of which may be blocked.
 *
 * Same seed, same corpus: `mulberry32` below is the only source of randomness.
 */

/** A small, fast, seeded PRNG (public-domain mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export type VulnerableFunction =
  | 'eval-json'
  | 'node-serialize'
  | 'shell'
  | 'sql'
  | 'path-read'
  | 'fetch-url'
  | 'merge'
  | 'nosql-login';

export const VULNERABLE_FUNCTIONS: readonly VulnerableFunction[] = [
  'eval-json',
  'node-serialize',
  'shell',
  'sql',
  'path-read',
  'fetch-url',
  'merge',
  'nosql-login',
];

export type AttackCategory =
  | 'js-injection'
  | 'deserialization'
  | 'command-injection'
  | 'sql-injection'
  | 'path-traversal'
  | 'ssrf'
  | 'prototype-pollution'
  | 'nosql-injection';

/** The answer of an invocation as the corpus runner sees it. */
export interface Answer {
  outcome: string;
  /** API Gateway-style response (statusCode/body) when the function answered. */
  statusCode?: number;
  body?: string;
  errorType?: string;
}

export interface AttackCase {
  id: number;
  category: AttackCategory;
  fn: VulnerableFunction;
  event: Record<string, unknown>;
  /** Whether the answer shows the attack's effect. */
  succeeded(answer: Answer): boolean;
}

export interface BenignCase {
  id: number;
  fn: VulnerableFunction;
  event: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// API Gateway events
// ---------------------------------------------------------------------------------------------------

const CLIENT_IPS = ['203.0.113.7', '198.51.100.23', '192.0.2.99', '203.0.113.150'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
  'okhttp/4.12.0',
];

interface Request {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
  contentType?: string;
  cookies?: string[];
}

/** An API Gateway event, v1 (REST) or v2 (HTTP API), for one request. */
export function apiEvent(rng: Rng, version: 1 | 2, req: Request, id: number): Record<string, unknown> {
  const headers: Record<string, string> = {
    'user-agent': rng.pick(AGENTS),
    accept: 'application/json',
    host: 'api.example.com',
  };
  if (req.contentType) headers['content-type'] = req.contentType;
  const sourceIp = rng.pick(CLIENT_IPS);
  const query = req.query && Object.keys(req.query).length > 0 ? req.query : null;
  const rawQuery = query
    ? Object.entries(query)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&')
    : '';
  if (version === 2) {
    return {
      version: '2.0',
      routeKey: `${req.method} ${req.path}`,
      rawPath: req.path,
      rawQueryString: rawQuery,
      cookies: req.cookies,
      headers,
      queryStringParameters: query ?? undefined,
      requestContext: {
        accountId: '123456789012',
        apiId: 'fwlab',
        domainName: 'api.example.com',
        http: {
          method: req.method,
          path: req.path,
          protocol: 'HTTP/1.1',
          sourceIp,
          userAgent: headers['user-agent'],
        },
        requestId: `req-${id}`,
        routeKey: `${req.method} ${req.path}`,
        stage: '$default',
        timeEpoch: 1_764_460_800_000 + id,
      },
      body: req.body,
      isBase64Encoded: false,
    };
  }
  if (req.cookies) headers.cookie = req.cookies.join('; ');
  return {
    resource: req.path,
    path: req.path,
    httpMethod: req.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'fwlab',
      httpMethod: req.method,
      identity: { sourceIp, userAgent: headers['user-agent'] },
      path: `/prod${req.path}`,
      requestId: `req-${id}`,
      stage: 'prod',
    },
    body: req.body ?? null,
    isBase64Encoded: false,
  };
}

const MARK = 'EPH-PWN';
const bodyHas = (needle: string) => (a: Answer) => a.outcome === 'success' && (a.body ?? '').includes(needle);

// ---------------------------------------------------------------------------------------------------
// Attacks
// ---------------------------------------------------------------------------------------------------

/** Spellings of `'EPH-PWN'` as JavaScript expressions (an attacker varies them). */
const JS_MARK_EXPRESSIONS = [
  `'EPH-'+'PWN'`,
  `"EPH-" + "PWN"`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a JavaScript template literal is the payload
  '`EPH-${"PWN"}`',
  `['EPH','PWN'].join('-')`,
  `String.fromCharCode(69,80,72,45,80,87,78)`,
];

/** What the injected JavaScript does (each evaluates to the marker when it runs). */
const JS_EFFECTS = (mark: string) => [
  `(function(){ return ${mark}; })()`,
  `(() => ${mark})()`,
  `this.constructor.constructor('return ' + JSON.stringify(${mark}))()`,
  `[].constructor.constructor("return " + JSON.stringify(${mark}))()`,
  `Function('return ' + JSON.stringify(${mark}))()`,
  `(process.env.EPH_PWN = ${mark})`,
  `(globalThis.ephPwn = ${mark})`,
  `process.getBuiltinModule('child_process').execSync('echo ' + ${mark}).toString().trim()`,
  `(process.mainModule ? 'x' : ${mark})`,
];

function jsInjection(rng: Rng, next: () => number, out: AttackCase[]): void {
  // eval-json: the body is evaluated; the payload sits where a value belongs.
  for (const mark of JS_MARK_EXPRESSIONS) {
    for (const effect of JS_EFFECTS(mark)) {
      if (rng.chance(0.35)) continue;
      const key = rng.pick(['name', 'comment', 'a', 'order', 'data']);
      const body = rng.chance(0.5) ? `{"${key}": ${effect}}` : `{ ${key}: ${effect}, "qty": 2 }`;
      const id = next();
      out.push({
        id,
        category: 'js-injection',
        fn: 'eval-json',
        event: apiEvent(
          rng,
          rng.chance(0.5) ? 1 : 2,
          { method: 'POST', path: '/parse', body, contentType: 'application/json' },
          id,
        ),
        succeeded: bodyHas(MARK),
      });
    }
  }
}

function deserialization(rng: Rng, next: () => number, out: AttackCase[]): void {
  // DVSA's node-serialize RCE: an IIFE after the _$$ND_FUNC$$_ marker runs inside unserialize.
  for (const mark of JS_MARK_EXPRESSIONS) {
    for (const effect of [
      `function(){ return ${mark}; }()`,
      `function(){ process.env.EPH_PWN = ${mark}; return ${mark}; }()`,
      `function(){ return require('child_process').execSync('echo ' + ${mark}).toString().trim(); }()`,
      `function (){return ${mark}}()`,
      `function(){ const cp = require('child_process'); return cp.execSync('printf %s ' + ${mark}).toString(); }()`,
    ]) {
      const key = rng.pick(['rce', 'username', 'action', 'cart']);
      const payload = JSON.stringify({ [key]: `_$$ND_FUNC$$_${effect}`, id: rng.int(1000) });
      const id = next();
      out.push({
        id,
        category: 'deserialization',
        fn: 'node-serialize',
        event: apiEvent(
          rng,
          rng.chance(0.5) ? 1 : 2,
          { method: 'POST', path: '/order', body: payload, contentType: 'application/json' },
          id,
        ),
        succeeded: bodyHas(MARK),
      });
    }
  }
}

function commandInjection(rng: Rng, next: () => number, out: AttackCase[]): void {
  const bases = [
    'https://docs.example.com/report.doc',
    'http://files.example.net/a.pdf',
    'https://example.org/',
  ];
  const breakouts = [
    (b: string) => `${b}"; echo ${MARK}; echo "`,
    (b: string) => `${b}" ; echo ${MARK} #`,
    (b: string) => `${b}" && echo ${MARK} && echo "`,
    (b: string) => `${b}" || echo ${MARK} || "`,
    (b: string) => `${b}"|echo ${MARK}|"`,
    (b: string) => `${b}$(echo ${MARK})`,
    (b: string) => `${b}\`echo ${MARK}\``,
    (b: string) => `${b}"\necho ${MARK}\n"`,
    (b: string) => `${b}"; printf '%s' ${MARK}; "`,
    (b: string) => `${b}";echo\${IFS}${MARK};"`,
    (b: string) => `${b}" -o /dev/null; echo ${MARK}; echo "`,
    (b: string) => `${b}"&echo ${MARK}&"`,
    (b: string) => `${b}";$(printf 'echo ${MARK}');"`,
    (_b: string) => `x" -w "${MARK}`,
  ];
  for (const base of bases) {
    for (const breakout of breakouts) {
      const url = breakout(base);
      const id = next();
      out.push({
        id,
        category: 'command-injection',
        fn: 'shell',
        event: apiEvent(
          rng,
          rng.chance(0.5) ? 1 : 2,
          { method: 'GET', path: '/convert', query: { document_url: url } },
          id,
        ),
        succeeded: bodyHas(MARK),
      });
    }
  }
}

function sqlInjection(rng: Rng, next: () => number, out: AttackCase[]): void {
  const qs = [
    `' OR 1=1 --`,
    `' OR '1'='1`,
    `x' OR 'a'='a`,
    `' or 2>1 --`,
    `%' OR private --`,
    `%' OR private = true --`,
    `' OR true --`,
    `' UNION SELECT id, title FROM fw_notes WHERE private --`,
    `zzz' UNION ALL SELECT 1, 'EPH-PWN' --`,
    `'; SELECT 1 --`,
    `' OR 1=1/*`,
    `'||(SELECT title FROM fw_notes WHERE private)||'`,
    `' OR EXISTS(SELECT 1) --`,
    `%' OR title LIKE '%PWN%' --`,
    `' OR id > 0 --`,
    `'OR'1'='1`,
    `') OR ('1'='1`,
    `' OR 'x' ILIKE 'x`,
    `' OR private IS TRUE --`,
    `' OR NOT private IS NULL --`,
  ];
  for (const q of qs) {
    for (let v = 0; v < 2; v++) {
      const id = next();
      const spelled = v === 0 ? q : q.replace(/OR/g, 'oR').replace(/ --/, '-- x');
      out.push({
        id,
        category: 'sql-injection',
        fn: 'sql',
        event: apiEvent(rng, v === 0 ? 1 : 2, { method: 'GET', path: '/notes', query: { q: spelled } }, id),
        succeeded: bodyHas(MARK),
      });
    }
  }
  const sorts = [
    `id UNION SELECT id, title FROM fw_notes`,
    `(CASE WHEN private THEN 0 ELSE 1 END) LIMIT 50 --`,
    `id; SELECT 1`,
    `id LIMIT 0 UNION SELECT id, title FROM fw_notes --`,
    `1) --`,
    `id/**/UNION/**/SELECT/**/id,title/**/FROM/**/fw_notes`,
  ];
  for (const sort of sorts) {
    const id = next();
    out.push({
      id,
      category: 'sql-injection',
      fn: 'sql',
      event: apiEvent(
        rng,
        rng.chance(0.5) ? 1 : 2,
        { method: 'GET', path: '/notes', query: { q: '', sort } },
        id,
      ),
      succeeded: bodyHas(MARK),
    });
  }
}

function pathTraversal(rng: Rng, next: () => number, out: AttackCase[]): void {
  const names = [
    '../secret.txt',
    './../secret.txt',
    'readme.txt/../../secret.txt',
    '../../../../../../etc/passwd',
    '../../../../../../../etc/passwd',
    '../../../../../../proc/self/environ',
    '../../../../../../proc/self/cmdline',
    '..//secret.txt',
    '../../path-read/secret.txt',
    '../index.mjs',
    '../../../../../../etc/hostname',
    'files/../../secret.txt',
    '../../../../../../etc/passwd\u0000.txt',
    '../../../../../../etc/./passwd',
    '../../../../../../etc//passwd',
    '../../../../../../etc/group',
  ];
  const oks = (a: Answer) =>
    a.outcome === 'success' &&
    a.statusCode === 200 &&
    /EPH-PWN|root:|AWS_|export const handler|node|\S/.test(JSON.parse(a.body ?? '{}').content ?? '');
  for (const name of names) {
    for (let v = 0; v < 2; v++) {
      const id = next();
      out.push({
        id,
        category: 'path-traversal',
        fn: 'path-read',
        event: apiEvent(rng, v === 0 ? 1 : 2, { method: 'GET', path: '/files', query: { file: name } }, id),
        succeeded: oks,
      });
    }
  }
}

function ssrf(rng: Rng, next: () => number, out: AttackCase[], metadataPort: number): void {
  const p = metadataPort;
  const urls = [
    `http://127.0.0.1:${p}/latest/meta-data/iam/security-credentials/`,
    `http://localhost:${p}/latest/meta-data/`,
    `http://2130706433:${p}/latest/meta-data/`,
    `http://0x7f000001:${p}/latest/meta-data/`,
    `http://0177.0.0.1:${p}/latest/meta-data/`,
    `http://127.1:${p}/latest/meta-data/`,
    `http://127.0.0.1:${p}/latest/api/token`,
    `http://[::ffff:127.0.0.1]:${p}/latest/meta-data/`,
    `http://LOCALHOST:${p}/`,
    `http://127.0.0.1:${p}/2018-06-01/runtime/invocation/next`,
    `http://169.254.169.254/latest/meta-data/iam/security-credentials/`,
    `http://169.254.170.2/v2/credentials/`,
    `http://[fd00:ec2::254]/latest/meta-data/`,
    `http://user@127.0.0.1:${p}/latest/meta-data/`,
    `http://127.0.0.1.:${p}/latest/meta-data/`,
  ];
  for (const url of urls) {
    for (let v = 0; v < 2; v++) {
      const id = next();
      out.push({
        id,
        category: 'ssrf',
        fn: 'fetch-url',
        event: apiEvent(rng, v === 0 ? 1 : 2, { method: 'GET', path: '/preview', query: { url } }, id),
        succeeded: bodyHas(MARK),
      });
    }
  }
}

function prototypePollution(rng: Rng, next: () => number, out: AttackCase[]): void {
  const shapes = [
    (m: string) => `{"__proto__":{"role":"${m}"}}`,
    (m: string) => `{"constructor":{"prototype":{"role":"${m}"}}}`,
    (m: string) => `{"theme":"dark","__proto__":{"role":"${m}"}}`,
    (m: string) => `{"a":{"b":{"__proto__":{"role":"${m}"}}}}`,
    (m: string) => `{"list":[{"__proto__":{"role":"${m}"}}]}`,
    (m: string) => `{"x":{"constructor":{"prototype":{"role":"${m}"}}}}`,
    (m: string) => `{"__proto__":{"__proto__":{"role":"${m}"}}}`,
    (m: string) => `{"locale":"en","notifications":{"__proto__":{"role":"${m}"}}}`,
  ];
  for (const shape of shapes) {
    for (let v = 0; v < 4; v++) {
      const id = next();
      const mark = `${MARK}-${id}`;
      out.push({
        id,
        category: 'prototype-pollution',
        fn: 'merge',
        event: apiEvent(
          rng,
          v % 2 === 0 ? 1 : 2,
          { method: 'PUT', path: '/settings', body: shape(mark), contentType: 'application/json' },
          id,
        ),
        succeeded: (a) => a.outcome === 'success' && (a.body ?? '').includes(`"role":"${mark}"`),
      });
    }
  }
}

function nosqlInjection(rng: Rng, next: () => number, out: AttackCase[]): void {
  const bodies = [
    { user: 'alice', password: { $ne: '' } },
    { user: 'alice', password: { $ne: null } },
    { user: 'alice', password: { $gt: '' } },
    { user: { $gt: '' }, password: { $gt: '' } },
    { user: 'bob', password: { $regex: '.*' } },
    { user: 'bob', password: { $regex: '^h' } },
    { user: 'alice', password: { $exists: true } },
    { user: { $in: ['alice', 'bob'] }, password: { $ne: 'x' } },
    { user: 'alice', password: { $nin: ['a', 'b'] } },
    { user: { $ne: 'nobody' }, password: { $gte: '' } },
    { user: 'bob', password: { $lt: '~' } },
    { user: { $regex: 'a' }, password: { $ne: 1 } },
  ];
  for (const body of bodies) {
    for (let v = 0; v < 3; v++) {
      const id = next();
      out.push({
        id,
        category: 'nosql-injection',
        fn: 'nosql-login',
        event: apiEvent(
          rng,
          v % 2 === 0 ? 1 : 2,
          { method: 'POST', path: '/login', body: JSON.stringify(body), contentType: 'application/json' },
          id,
        ),
        succeeded: (a) => a.outcome === 'success' && a.statusCode === 200,
      });
    }
  }
}

/** The attack corpus (deterministic for a seed). `metadataPort` is the local metadata stand-in. */
export function attackCorpus(seed: number, metadataPort: number): AttackCase[] {
  const rng = new Rng(seed);
  const out: AttackCase[] = [];
  let n = 0;
  const next = () => n++;
  jsInjection(rng, next, out);
  deserialization(rng, next, out);
  commandInjection(rng, next, out);
  sqlInjection(rng, next, out);
  pathTraversal(rng, next, out);
  ssrf(rng, next, out, metadataPort);
  prototypePollution(rng, next, out);
  nosqlInjection(rng, next, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Benign requests
// ---------------------------------------------------------------------------------------------------

const FIRST = [
  'Ann',
  'Bob',
  'Chloé',
  'Dmitri',
  'Eóin',
  'Fatima',
  'Grace',
  'Hiroshi',
  'Ifeoma',
  'José',
  'Zoë',
  'Łukasz',
  "D'Arcy",
  'Mary-Jane',
];
const LAST = [
  "O'Reilly",
  "O'Brien",
  'Smith',
  'van der Berg',
  "D'Angelo",
  'Müller',
  'Nguyễn',
  'García-López',
  'Ó Súilleabháin',
  "N'Diaye",
  'Al-Hassan',
  'Brontë',
];
const STREETS = [
  'Main St',
  "King's Road",
  'Rue de l’Église',
  'Baker Street',
  '5th Ave',
  'Chemin des Écoliers',
];
const CITIES = ['Dublin', 'São Paulo', 'Zürich', "Val-d'Or", 'New York', 'Kraków', 'Besançon'];
const WORDS = [
  'select',
  'the',
  'best',
  'chair',
  'drop',
  'shipping',
  'union',
  'station',
  'table',
  'tennis',
  'order',
  'by',
  'date',
  'update',
  'my',
  'address',
  'where',
  'is',
  'delete',
  'account',
  'insert',
  'coin',
  'from',
  'group',
  'having',
  'fun',
  'and',
  'or',
  'not',
  'null',
  'values',
  'join',
  'us',
  'like',
  'exec',
  'summary',
  'script',
  'alert',
  'fetch',
  'constructor',
  'prototype',
  'process',
  'module',
  'require',
  'eval',
];
const SENTENCES = [
  "Don't stop, won't stop: it's the 90's mix.",
  "Rock 'n' roll is here to stay; so is jazz & blues.",
  'Please deliver after 5 pm -- the doorbell is broken.',
  'Use 1=1 as an example in the SQL tutorial (chapter 3).',
  'The price is $5 & shipping is free; total < $20.',
  'See the attached file ../notes/draft.txt from last week? No, the other one.',
  'Call me at +1 (555) 010-2040 or email ann@example.com.',
  'I typed `rm -rf node_modules && npm install` and it worked!',
  "My cat's name is Bobby; he's an xkcd fan (Little Bobby Tables!).",
  'Is 3 > 2 and 2 < 3? Yes | no | maybe.',
  'Question about __init__ methods in Python classes.',
  'Our motto: "measure twice; cut once".',
];
const CODE_SNIPPETS = [
  'function add(a, b) { return a + b; }',
  "const fs = require('fs');\nfs.readFileSync('./config.json');",
  'SELECT name FROM users WHERE id = 42; -- how do I index this?',
  'for (let i = 0; i < 10; i++) console.log(i);',
  "import { useState } from 'react';",
  'if (x > 0 && y < 0) { throw new Error("bad"); }',
  'curl -X POST https://api.example.com/v1/items -d \'{"a":1}\'',
  "obj.hasOwnProperty('key') ? obj.key : undefined",
  'class Foo { constructor() { this.x = 1; } }',
  'echo $HOME && ls -la | grep txt',
  'db.users.find({ age: { $gt: 21 } })',
  '<script>alert(1)</script> is the classic XSS example',
];
const DOMAINS = [
  'www.example.com',
  'docs.example.org',
  'shop.example.net',
  'blog.example.co.uk',
  'cdn.example.io',
  'news.example.com',
];
const FILES = [
  'readme.txt',
  'prices.txt',
  'report-2024.pdf',
  'photo (1).jpg',
  'Q3 summary.xlsx',
  'notes_v2.final.md',
  "O'Reilly invoice.pdf",
  'résumé.docx',
  'data..backup.csv',
  'archive.tar.gz',
  'my file #3.txt',
  '2024-05-01.log',
];

function words(rng: Rng, n: number): string {
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(' ');
}

function person(rng: Rng): string {
  return `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
}

function prose(rng: Rng): string {
  const parts = [rng.pick(SENTENCES)];
  if (rng.chance(0.5)) parts.push(rng.pick(SENTENCES));
  if (rng.chance(0.3)) parts.push(rng.pick(CODE_SNIPPETS));
  return parts.join(' ');
}

function url(rng: Rng): string {
  const path = Array.from({ length: 1 + rng.int(3) }, () =>
    rng.pick(['docs', 'a', 'report', 'items', '2024', 'Q3', 'file.pdf', 'index.html']),
  ).join('/');
  const query = rng.chance(0.5)
    ? `?q=${encodeURIComponent(words(rng, 2))}&page=${1 + rng.int(9)}&sort=asc`
    : '';
  const frag = rng.chance(0.1) ? '#section-2' : '';
  return `${rng.pick(['https', 'http'])}://${rng.pick(DOMAINS)}/${path}${query}${frag}`;
}

function jsonDoc(rng: Rng): Record<string, unknown> {
  return {
    name: person(rng),
    address: {
      street: `${1 + rng.int(200)} ${rng.pick(STREETS)}`,
      city: rng.pick(CITIES),
      zip: String(10000 + rng.int(89999)),
    },
    comment: prose(rng),
    tags: Array.from({ length: rng.int(4) }, () => rng.pick(WORDS)),
    snippet: rng.chance(0.4) ? rng.pick(CODE_SNIPPETS) : undefined,
    website: rng.chance(0.5) ? url(rng) : undefined,
    qty: 1 + rng.int(5),
    price: Math.round(rng.next() * 10000) / 100,
    $schema: rng.chance(0.1) ? 'https://json-schema.org/draft/2020-12/schema' : undefined,
  };
}

/** One benign request for `fn`. */
function benignFor(rng: Rng, fn: VulnerableFunction, id: number): Record<string, unknown> {
  const version = rng.chance(0.5) ? 1 : 2;
  switch (fn) {
    case 'eval-json':
    case 'node-serialize':
      return apiEvent(
        rng,
        version,
        {
          method: 'POST',
          path: '/parse',
          body: JSON.stringify(jsonDoc(rng)),
          contentType: 'application/json',
        },
        id,
      );
    case 'shell':
      return apiEvent(
        rng,
        version,
        { method: 'GET', path: '/convert', query: { document_url: url(rng) } },
        id,
      );
    case 'sql': {
      const q = rng.chance(0.35)
        ? person(rng)
        : rng.chance(0.5)
          ? words(rng, 1 + rng.int(4))
          : rng.pick(SENTENCES);
      const query: Record<string, string> = { q };
      if (rng.chance(0.3)) query.sort = rng.pick(['id', 'title', 'id DESC', 'title ASC']);
      return apiEvent(rng, version, { method: 'GET', path: '/notes', query }, id);
    }
    case 'path-read':
      return apiEvent(rng, version, { method: 'GET', path: '/files', query: { file: rng.pick(FILES) } }, id);
    case 'fetch-url':
      return apiEvent(rng, version, { method: 'GET', path: '/preview', query: { url: url(rng) } }, id);
    case 'merge': {
      const prefs: Record<string, unknown> = {
        theme: rng.pick(['dark', 'light', 'solarized']),
        locale: rng.pick(['en', 'fr-CA', 'pt-BR', 'de']),
        notifications: { email: rng.chance(0.5), digest: rng.pick(['daily', 'weekly']) },
        signature: prose(rng),
        displayName: person(rng),
      };
      if (rng.chance(0.2)) prefs.constructorName = 'Acme Builders'; // keys that merely mention the words
      if (rng.chance(0.2)) prefs.prototypeVersion = 'v2';
      return apiEvent(
        rng,
        version,
        { method: 'PUT', path: '/settings', body: JSON.stringify(prefs), contentType: 'application/json' },
        id,
      );
    }
    case 'nosql-login':
      return apiEvent(
        rng,
        version,
        {
          method: 'POST',
          path: '/login',
          body: JSON.stringify({
            user: rng.pick(['alice', 'bob', 'carol', "d'arcy"]),
            password: rng.pick([
              'hunter2',
              'correct horse battery staple',
              'P@ss w0rd!; $1',
              "it's-a-secret",
            ]),
          }),
          contentType: 'application/json',
        },
        id,
      );
  }
}

/** `n` benign requests spread evenly over the vulnerable functions (deterministic for a seed). */
export function benignCorpus(seed: number, n: number): BenignCase[] {
  const rng = new Rng(seed);
  const out: BenignCase[] = [];
  for (let i = 0; i < n; i++) {
    const fn = VULNERABLE_FUNCTIONS[i % VULNERABLE_FUNCTIONS.length] as VulnerableFunction;
    out.push({ id: i, fn, event: benignFor(rng, fn, i) });
  }
  return out;
}
