/**
 * The schema, as numbered migrations shared by SQLite and PostgreSQL (the SQL below is valid in
 * both). Applied in order at open; `schema_migrations` records which ran.
 */
export const MIGRATIONS: readonly { version: number; statements: readonly string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE IF NOT EXISTS events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        time BIGINT NOT NULL,
        received BIGINT NOT NULL,
        function TEXT NOT NULL,
        env TEXT NOT NULL,
        request_id TEXT,
        control TEXT,
        action TEXT,
        source_ip TEXT,
        fingerprint TEXT,
        bytes DOUBLE PRECISION,
        reason TEXT,
        raw TEXT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS events_fingerprint ON events (fingerprint, time) WHERE fingerprint IS NOT NULL',
      'CREATE INDEX IF NOT EXISTS events_source_ip ON events (source_ip, type, time) WHERE source_ip IS NOT NULL',
      'CREATE INDEX IF NOT EXISTS events_function ON events (function, type, time)',
      // Partial, so the per-request traffic pays nothing: detections and fingerprinted decisions
      // are joined on the request that caused them (infection campaigns by payload).
      "CREATE INDEX IF NOT EXISTS events_detection_request ON events (request_id) WHERE type = 'detection'",
      'CREATE INDEX IF NOT EXISTS events_fingerprint_request ON events (request_id) WHERE fingerprint IS NOT NULL',
      `CREATE TABLE IF NOT EXISTS incidents (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,
        generation INTEGER NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        sources TEXT NOT NULL,
        environments TEXT NOT NULL,
        functions TEXT NOT NULL,
        request_ids TEXT NOT NULL,
        event_count INTEGER NOT NULL,
        UNIQUE (rule, group_key, generation)
      )`,
      'CREATE INDEX IF NOT EXISTS incidents_updated ON incidents (updated_at)',
      'CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen)',
      `CREATE TABLE IF NOT EXISTS incident_events (
        incident_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (incident_id, event_id)
      )`,
    ],
  },
];
