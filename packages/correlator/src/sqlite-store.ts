import Database from 'better-sqlite3';
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
import { EVENT_COLUMNS, rowToEvent, type Store, type WindowQuery } from './store.js';

/**
 * SQLite store: one file in WAL mode. `synchronous = NORMAL` with WAL makes every committed
 * transaction survive the process being killed (the WAL is written before commit returns); only
 * an OS crash or power loss can lose the last transactions, which `durability: 'full'` also covers.
 */
export function openSqliteStore(file: string, options: { durability?: 'normal' | 'full' } = {}): Store {
  let db: Database;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // A larger page cache and fewer, larger checkpoints: index pages of the events table stay in
    // memory and the WAL is copied back in bulk (measured in bench/correlator.bench.ts).
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 4000');
    migrate(db);
  } catch (err) {
    if (err instanceof CorrelatorError) throw err;
    throw new CorrelatorError(
      'EPHEMERA_ERR_CORRELATOR_STORE',
      `cannot open SQLite database ${JSON.stringify(file)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const insert = db.prepare(
    `INSERT INTO events (id, type, time, received, function, env, request_id, control, action, source_ip, fingerprint, bytes, reason, raw)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const insertMany = db.transaction((events: readonly StoredEvent[], received: number) => {
    const fresh: StoredEvent[] = [];
    for (const e of events) {
      const r = insert.run(
        e.id,
        e.type,
        e.time,
        received,
        e.function,
        e.env,
        e.requestId,
        e.control,
        e.action,
        e.sourceIp,
        e.fingerprint,
        e.bytes,
        e.reason,
        e.raw,
      );
      if (r.changes === 1) fresh.push(e);
    }
    return fresh;
  });
  const windowStatements = new Map<string, ReturnType<Database['prepare']>>();
  const latest = db.prepare(
    'SELECT * FROM incidents WHERE rule = ? AND group_key = ? ORDER BY generation DESC LIMIT 1',
  );
  const insertIncident = db.prepare(
    `INSERT INTO incidents (id, rule, group_key, generation, severity, title, first_seen, last_seen, updated_at,
       sources, environments, functions, request_ids, event_count)
     VALUES (@id, @rule, @group_key, @generation, @severity, @title, @first_seen, @last_seen, @updated_at,
       @sources, @environments, @functions, @request_ids, @event_count)`,
  );
  const updateIncident = db.prepare(
    `UPDATE incidents SET title = @title, first_seen = @first_seen, last_seen = @last_seen, updated_at = @updated_at,
       sources = @sources, environments = @environments, functions = @functions, request_ids = @request_ids
     WHERE id = @id`,
  );
  const linkEvidence = db.prepare(
    'INSERT INTO incident_events (incident_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const countEvidence = db.prepare('SELECT COUNT(*) AS n FROM incident_events WHERE incident_id = ?');
  const setCount = db.prepare('UPDATE incidents SET event_count = ? WHERE id = ?');
  const byId = db.prepare('SELECT * FROM incidents WHERE id = ?');

  const upsert = db.transaction((c: IncidentCandidate, quietMs: number, now: number) => {
    const row = latest.get(c.rule, c.key) as IncidentRow | undefined;
    let change: 'created' | 'updated' | 'unchanged';
    let current: IncidentRow;
    if (row && continues(row, c, quietMs)) {
      const merged = mergeRow(row, c, now);
      current = merged.row;
      change = merged.changed ? 'updated' : 'unchanged';
      if (merged.changed) updateIncident.run(current);
    } else {
      current = newRow(c, (row ? Number(row.generation) : 0) + 1, now);
      insertIncident.run(current);
      change = 'created';
    }
    let count = Number(current.event_count);
    let linked = 0;
    for (const id of c.eventIds) {
      if (count + linked >= MAX_EVIDENCE) break;
      linked += linkEvidence.run(current.id, id).changes;
    }
    if (linked > 0) {
      count = Number((countEvidence.get(current.id) as { n: number }).n);
      setCount.run(count, current.id);
      if (change === 'unchanged') {
        change = 'updated';
        db.prepare('UPDATE incidents SET updated_at = ? WHERE id = ?').run(now, current.id);
        current.updated_at = now;
      }
    }
    current.event_count = count;
    return { incident: rowToIncident(current), change };
  });

  let closed = false;
  const guard = <T>(fn: () => T): Promise<T> => {
    if (closed)
      return Promise.reject(new CorrelatorError('EPHEMERA_ERR_CORRELATOR_CLOSED', 'the store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(
        err instanceof CorrelatorError
          ? err
          : new CorrelatorError('EPHEMERA_ERR_CORRELATOR_STORE', `SQLite: ${(err as Error).message}`, {
              cause: err,
            }),
      );
    }
  };

  return {
    kind: 'sqlite',
    insertEvents: (events, received) => guard(() => insertMany(events, received)),
    windowEvents: (q: WindowQuery) =>
      guard(() => {
        const types = q.types.map(() => '?').join(', ');
        const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${q.column} = ? AND type IN (${types}) AND time >= ? AND time <= ? ORDER BY time LIMIT ?`;
        let stmt = windowStatements.get(sql);
        if (!stmt) {
          stmt = db.prepare(sql);
          windowStatements.set(sql, stmt);
        }
        return (stmt.all(q.value, ...q.types, q.from, q.to, q.limit) as Record<string, unknown>[]).map(
          rowToEvent,
        );
      }),
    requestEvents: (requestIds, kind) =>
      guard(() => {
        const out: StoredEvent[] = [];
        const where = kind === 'detection' ? "type = 'detection'" : 'fingerprint IS NOT NULL';
        for (let i = 0; i < requestIds.length; i += 500) {
          const chunk = requestIds.slice(i, i + 500);
          const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where} AND request_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY time`;
          for (const r of db.prepare(sql).all(...chunk) as Record<string, unknown>[]) out.push(rowToEvent(r));
        }
        return out;
      }),
    sourcesWith: (sources, types, from, to) =>
      guard(() => {
        const found = new Set<string>();
        // Chunked: SQLite's default limit is 32 766 bound parameters.
        for (let i = 0; i < sources.length; i += 500) {
          const chunk = sources.slice(i, i + 500);
          const sql = `SELECT DISTINCT source_ip FROM events WHERE source_ip IN (${chunk.map(() => '?').join(', ')}) AND type IN (${types.map(() => '?').join(', ')}) AND time >= ? AND time <= ?`;
          for (const r of db.prepare(sql).all(...chunk, ...types, from, to) as { source_ip: string }[])
            found.add(r.source_ip);
        }
        return found;
      }),
    upsertIncident: (c, quietMs, now) => guard(() => upsert.immediate(c, quietMs, now)),
    listIncidents: (filter: IncidentFilter) =>
      guard(() => {
        const { where, params } = incidentWhere(filter);
        const rows = db
          .prepare(`SELECT * FROM incidents ${where} ORDER BY updated_at DESC, id LIMIT ?`)
          .all(...params, Math.min(filter.limit ?? 100, 1000)) as IncidentRow[];
        return rows.map(rowToIncident);
      }),
    getIncident: (id) =>
      guard(() => {
        const row = byId.get(id) as IncidentRow | undefined;
        return row ? rowToIncident(row) : undefined;
      }),
    evidence: (id, limit) =>
      guard(() =>
        (
          db
            .prepare(
              'SELECT e.raw FROM incident_events i JOIN events e ON e.id = i.event_id WHERE i.incident_id = ? ORDER BY e.time, e.id LIMIT ?',
            )
            .all(id, limit) as { raw: string }[]
        ).map((r) => JSON.parse(r.raw) as GuardEventRecord),
      ),
    countEvents: () =>
      guard(() => Number((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n)),
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** WHERE clause of an incident filter, with `?` placeholders (PostgreSQL renumbers them). */
export function incidentWhere(filter: IncidentFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.rule !== undefined) {
    clauses.push('rule = ?');
    params.push(filter.rule);
  }
  if (filter.function !== undefined) {
    // functions is a sorted JSON array of strings: match the quoted element.
    clauses.push("functions LIKE ? ESCAPE '\\'");
    params.push(`%${JSON.stringify(filter.function).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (filter.since !== undefined) {
    clauses.push('last_seen >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push('first_seen <= ?');
    params.push(filter.until);
  }
  if (filter.updatedAfter !== undefined) {
    clauses.push('updated_at > ?');
    params.push(filter.updatedAfter);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function migrate(db: Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      for (const s of m.statements) db.exec(s);
      db.prepare(
        'INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ).run(m.version, Date.now());
    }).immediate();
  }
}
