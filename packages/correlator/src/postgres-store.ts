import pg, { type Pool, type PoolClient } from 'pg';
import { CorrelatorError } from './errors.js';
import type { GuardEventRecord, StoredEvent } from './event-schema.js';
import {
  continues,
  type IncidentCandidate,
  type IncidentFilter,
  type IncidentRow,
  MAX_EVIDENCE,
  mergeRow,
  newRow,
  rowToIncident,
} from './incident.js';
import { MIGRATIONS } from './schema.js';
import { incidentWhere } from './sqlite-store.js';
import { EVENT_COLUMNS, rowToEvent, type Store, type WindowQuery } from './store.js';

/** `?` placeholders → `$1, $2, …`. */
function numbered(sql: string, offset = 0): string {
  let n = offset;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function storeError(err: unknown): CorrelatorError {
  return err instanceof CorrelatorError
    ? err
    : new CorrelatorError('EPHEMERA_ERR_CORRELATOR_STORE', `PostgreSQL: ${(err as Error).message}`, {
        cause: err,
      });
}

/**
 * PostgreSQL store, for several correlators sharing state. Same schema and semantics as SQLite;
 * incident upserts take a transaction-scoped advisory lock on (rule, key), so two correlators that
 * see the same campaign merge into one incident instead of racing to open two.
 * `schema` (a PostgreSQL schema name) isolates one deployment or one test run.
 */
export async function openPostgresStore(
  url: string,
  options: { schema?: string; max?: number } = {},
): Promise<Store> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_CONFIG',
      `schema is ${JSON.stringify(schema)}; accepted: a lower-case SQL identifier ([a-z_][a-z0-9_]*)`,
    );
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 8,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's connection failing must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end().catch(() => {});
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_STORE',
      `cannot open PostgreSQL database ${redact(url)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let closed = false;
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new CorrelatorError('EPHEMERA_ERR_CORRELATOR_CLOSED', 'the store is closed');
    try {
      return await fn();
    } catch (err) {
      throw storeError(err);
    }
  };
  const tx = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };

  return {
    kind: 'postgres',
    insertEvents: (events, received) =>
      run(async () => {
        if (events.length === 0) return [];
        // One statement per batch: unnest of column arrays; RETURNING names the rows that were new.
        const cols = {
          id: [] as string[],
          type: [] as string[],
          time: [] as number[],
          fn: [] as string[],
          env: [] as string[],
          req: [] as (string | null)[],
          control: [] as (string | null)[],
          action: [] as (string | null)[],
          ip: [] as (string | null)[],
          fp: [] as (string | null)[],
          bytes: [] as (number | null)[],
          reason: [] as (string | null)[],
          raw: [] as string[],
        };
        for (const e of events) {
          cols.id.push(e.id);
          cols.type.push(e.type);
          cols.time.push(e.time);
          cols.fn.push(e.function);
          cols.env.push(e.env);
          cols.req.push(e.requestId);
          cols.control.push(e.control);
          cols.action.push(e.action);
          cols.ip.push(e.sourceIp);
          cols.fp.push(e.fingerprint);
          cols.bytes.push(e.bytes);
          cols.reason.push(e.reason);
          cols.raw.push(e.raw);
        }
        const result = await pool.query(
          `INSERT INTO events (id, type, time, received, function, env, request_id, control, action, source_ip, fingerprint, bytes, reason, raw)
           SELECT u.id, u.type, u.time, $14, u.fn, u.env, u.req, u.control, u.action, u.ip, u.fp, u.bytes, u.reason, u.raw
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::float8[], $12::text[], $13::text[])
             AS u(id, type, time, fn, env, req, control, action, ip, fp, bytes, reason, raw)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [
            cols.id,
            cols.type,
            cols.time,
            cols.fn,
            cols.env,
            cols.req,
            cols.control,
            cols.action,
            cols.ip,
            cols.fp,
            cols.bytes,
            cols.reason,
            cols.raw,
            received,
          ],
        );
        const fresh = new Set(result.rows.map((r) => String(r.id)));
        // A batch may repeat an id: the first occurrence is the stored one.
        const out: StoredEvent[] = [];
        for (const e of events) {
          if (fresh.delete(e.id)) out.push(e);
        }
        return out;
      }),
    windowEvents: (q: WindowQuery) =>
      run(async () => {
        const types = q.types.map(() => '?').join(', ');
        const sql = numbered(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE ${q.column} = ? AND type IN (${types}) AND time >= ? AND time <= ? ORDER BY time LIMIT ?`,
        );
        const result = await pool.query(sql, [q.value, ...q.types, q.from, q.to, q.limit]);
        return result.rows.map(rowToEvent);
      }),
    requestEvents: (requestIds, kind) =>
      run(async () => {
        if (requestIds.length === 0) return [];
        const where = kind === 'detection' ? "type = 'detection'" : 'fingerprint IS NOT NULL';
        const result = await pool.query(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where} AND request_id = ANY($1::text[]) ORDER BY time`,
          [requestIds],
        );
        return result.rows.map(rowToEvent);
      }),
    sourcesWith: (sources, types, from, to) =>
      run(async () => {
        if (sources.length === 0) return new Set<string>();
        const result = await pool.query(
          'SELECT DISTINCT source_ip FROM events WHERE source_ip = ANY($1::text[]) AND type = ANY($2::text[]) AND time >= $3 AND time <= $4',
          [sources, types, from, to],
        );
        return new Set(result.rows.map((r) => String(r.source_ip)));
      }),
    upsertIncident: (c: IncidentCandidate, quietMs: number, now: number) =>
      run(() =>
        tx(async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${c.rule}\n${c.key}`]);
          const found = await client.query(
            'SELECT * FROM incidents WHERE rule = $1 AND group_key = $2 ORDER BY generation DESC LIMIT 1',
            [c.rule, c.key],
          );
          const row = found.rows[0] as IncidentRow | undefined;
          let change: 'created' | 'updated' | 'unchanged';
          let current: IncidentRow;
          if (row && continues(row, c, quietMs)) {
            const merged = mergeRow(row, c, now);
            current = merged.row;
            change = merged.changed ? 'updated' : 'unchanged';
            if (merged.changed)
              await client.query(
                `UPDATE incidents SET title = $2, first_seen = $3, last_seen = $4, updated_at = $5, sources = $6,
                   environments = $7, functions = $8, request_ids = $9 WHERE id = $1`,
                [
                  current.id,
                  current.title,
                  current.first_seen,
                  current.last_seen,
                  current.updated_at,
                  current.sources,
                  current.environments,
                  current.functions,
                  current.request_ids,
                ],
              );
          } else {
            current = newRow(c, (row ? Number(row.generation) : 0) + 1, now);
            await client.query(
              `INSERT INTO incidents (id, rule, group_key, generation, severity, title, first_seen, last_seen, updated_at,
                 sources, environments, functions, request_ids, event_count)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
              [
                current.id,
                current.rule,
                current.group_key,
                current.generation,
                current.severity,
                current.title,
                current.first_seen,
                current.last_seen,
                current.updated_at,
                current.sources,
                current.environments,
                current.functions,
                current.request_ids,
                current.event_count,
              ],
            );
            change = 'created';
          }
          const room = MAX_EVIDENCE - Number(current.event_count);
          const ids = c.eventIds.slice(0, Math.max(0, room));
          if (ids.length > 0) {
            const linked = await client.query(
              `INSERT INTO incident_events (incident_id, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
              [current.id, ids],
            );
            if ((linked.rowCount ?? 0) > 0) {
              const counted = await client.query(
                'UPDATE incidents SET event_count = (SELECT COUNT(*) FROM incident_events WHERE incident_id = $1), updated_at = $2 WHERE id = $1 RETURNING event_count',
                [current.id, now],
              );
              current.event_count = Number(counted.rows[0]?.event_count);
              current.updated_at = now;
              if (change === 'unchanged') change = 'updated';
            }
          }
          return { incident: rowToIncident(current), change };
        }),
      ),
    listIncidents: (filter: IncidentFilter) =>
      run(async () => {
        const { where, params } = incidentWhere(filter);
        const result = await pool.query(
          numbered(`SELECT * FROM incidents ${where} ORDER BY updated_at DESC, id LIMIT ?`),
          [...params, Math.min(filter.limit ?? 100, 1000)],
        );
        return (result.rows as unknown as IncidentRow[]).map(rowToIncident);
      }),
    getIncident: (id) =>
      run(async () => {
        const result = await pool.query('SELECT * FROM incidents WHERE id = $1', [id]);
        const row = result.rows[0] as IncidentRow | undefined;
        return row ? rowToIncident(row) : undefined;
      }),
    evidence: (id, limit) =>
      run(async () => {
        const result = await pool.query(
          'SELECT e.raw FROM incident_events i JOIN events e ON e.id = i.event_id WHERE i.incident_id = $1 ORDER BY e.time, e.id LIMIT $2',
          [id, limit],
        );
        return result.rows.map((r) => JSON.parse(String(r.raw)) as GuardEventRecord);
      }),
    countEvents: () =>
      run(async () => Number((await pool.query('SELECT COUNT(*) AS n FROM events')).rows[0]?.n ?? 0)),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** Drop a schema a test created (and everything in it). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function migrate(pool: Pool, schema: string | undefined): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Two correlators starting together: one migrates, the other waits and finds it done.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('ephemera-correlator-migrate'))");
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set(
      (await client.query('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      for (const s of m.statements) await client.query(s);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        m.version,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
