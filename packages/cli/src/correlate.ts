import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type Correlator,
  CorrelatorError,
  createCorrelator,
  type Incident,
  type RulesInput,
} from '@ephemera/correlator';

/** `ephemera correlate …` usage, also shown by `ephemera help`. */
export const CORRELATE_USAGE = `  correlate serve [options]          run the correlator (POST /v1/events, GET /v1/incidents)
      --db FILE|postgres://URL       SQLite file (default ./ephemera-correlator.db) or PostgreSQL
      --schema NAME                  PostgreSQL schema for the tables (default: the search_path)
      --port N --host H              where to listen (default 4747 on 127.0.0.1)
      --token T                      bearer token senders and readers must present (or EPHEMERA_CORRELATOR_TOKEN)
      --webhook URL                  POST incidents here when they open or change
      --rules FILE                   JSON thresholds overriding the defaults (docs/correlator.md)
  correlate incidents [options]      list incidents (--url of a running correlator, or --db directly)
      --function F --rule R          filter (rule: fanOut, infection, keepWarm, lowAndSlow, recycleStorm)
      --since T --until T            ISO 8601 times or epoch milliseconds
      --id ID                        one incident with its evidence events
      --json                         JSON instead of a table
  correlate tail [options]           print incidents as JSON lines as they open or change (--url, --interval MS)`;

/** A mistake on the command line: printed with the usage, exit code 2. */
export class CorrelateUsageError extends Error {}

const DEFAULT_URL = 'http://127.0.0.1:4747';

/** Run `ephemera correlate <sub> …`; resolves with the exit code. */
export async function runCorrelate(
  argv: string[],
  out: (line: string) => void = (l) => console.log(l),
  err: (line: string) => void = (l) => console.error(l),
): Promise<number> {
  try {
    const [sub, ...rest] = argv;
    if (sub === 'serve') return await serve(rest, out);
    if (sub === 'incidents') return await incidents(rest, out);
    if (sub === 'tail') return await tail(rest, out);
    throw new CorrelateUsageError(
      `correlate needs a subcommand: serve, incidents or tail (got ${sub === undefined ? 'nothing' : JSON.stringify(sub)})`,
    );
  } catch (e) {
    if (
      e instanceof CorrelateUsageError ||
      (e instanceof TypeError && String((e as { code?: string }).code).startsWith('ERR_PARSE_ARGS'))
    ) {
      err(`ephemera: ${(e as Error).message}\n\nusage:\n${CORRELATE_USAGE}`);
      return 2;
    }
    if (e instanceof CorrelatorError) {
      err(`ephemera: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function intFlag(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= min && n <= max))
    throw new CorrelateUsageError(
      `--${name} is ${JSON.stringify(text)}; accepted: an integer from ${min} to ${max}`,
    );
  return n;
}

function timeFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t))
    throw new CorrelateUsageError(
      `--${name} is ${JSON.stringify(text)}; accepted: an ISO 8601 time or epoch milliseconds`,
    );
  return t;
}

function readRules(file: string | undefined): RulesInput | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CorrelateUsageError(`--rules ${file}: cannot read it (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as RulesInput;
  } catch (e) {
    throw new CorrelateUsageError(`--rules ${file}: not JSON (${(e as Error).message})`);
  }
}

async function serve(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      schema: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      webhook: { type: 'string' },
      rules: { type: 'string' },
    },
  });
  if (positionals.length > 0)
    throw new CorrelateUsageError(`correlate serve takes no arguments (got ${positionals.join(' ')})`);
  const token = values.token ?? env('EPHEMERA_CORRELATOR_TOKEN');
  if (!token)
    throw new CorrelateUsageError(
      'correlate serve needs a token: --token T or EPHEMERA_CORRELATOR_TOKEN (ingest is authenticated)',
    );
  const port = intFlag('port', values.port, 4747, 0, 65535);
  const db = values.db ?? env('EPHEMERA_CORRELATOR_DB') ?? 'ephemera-correlator.db';
  const rules = readRules(values.rules);
  const correlator = await createCorrelator({
    db,
    token,
    ...(values.schema ? { schema: values.schema } : {}),
    ...(rules ? { rules } : {}),
    ...(values.webhook ? { webhook: values.webhook } : {}),
    onIncident: (change, incident) => out(JSON.stringify({ change, incident })),
  });
  let url: string;
  try {
    url = await correlator.listen(port, values.host ?? '127.0.0.1');
  } catch (e) {
    await correlator.close();
    throw e;
  }
  out(
    `correlator listening on ${url} (store: ${correlator.store.kind}${correlator.store.kind === 'sqlite' ? ` ${db}` : ''})`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await correlator.close();
  out('correlator stopped');
  return 0;
}

const FILTER_OPTIONS = {
  url: { type: 'string' },
  db: { type: 'string' },
  schema: { type: 'string' },
  token: { type: 'string' },
  function: { type: 'string' },
  rule: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const;

/** GET from a running correlator; its error body becomes a CorrelatorError-like message. */
async function get(base: string, path: string, token: string | undefined): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw new CorrelateUsageError(
      `cannot reach the correlator at ${base} (${(e as Error).cause ?? (e as Error).message}); start it with "ephemera correlate serve" or pass --url`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) {
    const code = (body.error?.code ?? 'EPHEMERA_ERR_CORRELATOR_STORE') as CorrelatorError['code'];
    throw new CorrelatorError(code, `${res.status} from ${base}: ${body.error?.message ?? res.statusText}`);
  }
  return body;
}

function query(
  values: { function?: string; rule?: string; since?: string; until?: string },
  extra: Record<string, string> = {},
): string {
  const q = new URLSearchParams(extra);
  if (values.function) q.set('function', values.function);
  if (values.rule) q.set('rule', values.rule);
  const since = timeFlag('since', values.since);
  if (since !== undefined) q.set('since', String(since));
  const until = timeFlag('until', values.until);
  if (until !== undefined) q.set('until', String(until));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function incidents(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...FILTER_OPTIONS, id: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 0)
    throw new CorrelateUsageError(`correlate incidents takes no arguments (got ${positionals.join(' ')})`);
  if (values.url && values.db)
    throw new CorrelateUsageError('--url and --db are exclusive: read a running correlator or a database');
  const token = values.token ?? env('EPHEMERA_CORRELATOR_TOKEN');
  let list: Incident[];
  let one: unknown;
  const db = values.db ?? (values.url ? undefined : env('EPHEMERA_CORRELATOR_DB'));
  if (db) {
    let c: Correlator | undefined;
    try {
      c = await createCorrelator({ db, ...(values.schema ? { schema: values.schema } : {}) });
      const since = timeFlag('since', values.since);
      const until = timeFlag('until', values.until);
      if (values.id) one = await c.incident(values.id);
      list = await c.incidents({
        ...(values.function ? { function: values.function } : {}),
        ...(values.rule ? { rule: values.rule } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        limit: 1000,
      });
    } finally {
      await c?.close();
    }
    if (values.id && !one)
      throw new CorrelatorError(
        'EPHEMERA_ERR_CORRELATOR_NOT_FOUND',
        `no incident ${JSON.stringify(values.id)}`,
      );
  } else {
    const base = values.url ?? env('EPHEMERA_CORRELATOR_URL') ?? DEFAULT_URL;
    if (values.id) one = await get(base, `/v1/incidents/${encodeURIComponent(values.id)}`, token);
    list = values.id
      ? []
      : (
          (await get(base, `/v1/incidents${query(values, { limit: '1000' })}`, token)) as {
            incidents: Incident[];
          }
        ).incidents;
  }
  if (values.id) {
    out(JSON.stringify(one, null, 2));
    return 0;
  }
  if (values.json) {
    out(JSON.stringify(list, null, 2));
    return 0;
  }
  if (list.length === 0) {
    out('no incidents');
    return 0;
  }
  out(['id', 'rule', 'severity', 'first seen', 'last seen', 'envs', 'sources', 'title'].join('\t'));
  for (const i of list)
    out(
      [
        i.id,
        i.rule,
        i.severity,
        i.firstSeen,
        i.lastSeen,
        i.environments.length,
        i.sources.join(',') || '-',
        i.title,
      ].join('\t'),
    );
  return 0;
}

async function tail(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...FILTER_OPTIONS, interval: { type: 'string' } },
  });
  if (positionals.length > 0)
    throw new CorrelateUsageError(`correlate tail takes no arguments (got ${positionals.join(' ')})`);
  if (values.db)
    throw new CorrelateUsageError('correlate tail reads a running correlator: pass --url, not --db');
  const interval = intFlag('interval', values.interval, 1000, 50, 3_600_000);
  const base = values.url ?? env('EPHEMERA_CORRELATOR_URL') ?? DEFAULT_URL;
  const token = values.token ?? env('EPHEMERA_CORRELATOR_TOKEN');
  const seen = new Map<string, string>();
  let after = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      const { incidents: list } = (await get(
        base,
        `/v1/incidents${query(values, { limit: '1000', ...(after > 0 ? { updatedAfter: String(after - 1) } : {}) })}`,
        token,
      )) as { incidents: Incident[] };
      for (const i of [...list].reverse()) {
        if (seen.get(i.id) === i.updatedAt) continue;
        out(JSON.stringify({ change: seen.has(i.id) ? 'updated' : 'created', incident: i }));
        seen.set(i.id, i.updatedAt);
        after = Math.max(after, Date.parse(i.updatedAt));
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
