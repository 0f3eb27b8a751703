// Ledger service on PostgreSQL with `pg`: a Pool at module scope (connections are opened on first
// use and kept across warm invocations), parameterised INSERT/SELECT, one transaction per posting.
// Connection settings come from the standard libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD and
// PGDATABASE, which `pg` reads itself.
import pg from 'pg';

// BIGINT sums come back as strings by default; amounts here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

const pool = new pg.Pool({
  max: 2,
  idleTimeoutMillis: 60_000,
  connectionTimeoutMillis: 3_000,
  statement_timeout: 3_000,
  application_name: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'pg-ledger',
});
// A connection dropped by the server while the environment was frozen is reported here; the pool
// replaces it on the next checkout.
pool.on('error', (error) => console.error(JSON.stringify({ level: 'warn', poolError: error.message })));

let schemaReady;

/** Create the table once per environment (cold start); the advisory lock serialises concurrent cold starts. */
function ensureSchema() {
  schemaReady ??= (async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('benign_ledger_entries'))");
      await client.query(`CREATE TABLE IF NOT EXISTS benign_ledger_entries (
        id BIGSERIAL PRIMARY KEY,
        account TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        memo TEXT,
        booked_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      await client.query(
        'CREATE INDEX IF NOT EXISTS benign_ledger_entries_account ON benign_ledger_entries (account)',
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      schemaReady = undefined;
      throw error;
    } finally {
      client.release();
    }
  })();
  return schemaReady;
}

async function post({ account, amountCents, memo }) {
  if (typeof account !== 'string' || !Number.isInteger(amountCents)) {
    throw new TypeError('post needs an account (string) and amountCents (integer)');
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      'INSERT INTO benign_ledger_entries (account, amount_cents, memo) VALUES ($1, $2, $3) RETURNING id, booked_at',
      [account, amountCents, memo ?? null],
    );
    const balance = await client.query(
      'SELECT COALESCE(SUM(amount_cents), 0)::bigint AS balance FROM benign_ledger_entries WHERE account = $1',
      [account],
    );
    await client.query('COMMIT');
    const row = inserted.rows[0];
    return {
      id: Number(row.id),
      bookedAt: row.booked_at.toISOString(),
      balanceCents: balance.rows[0].balance,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function statement({ account, limit = 10 }) {
  const { rows } = await pool.query({
    // A named statement: prepared once per connection, reused by later invocations.
    name: 'benign-ledger-statement',
    text: `SELECT id, amount_cents, memo, booked_at FROM benign_ledger_entries
           WHERE account = $1 ORDER BY id DESC LIMIT $2`,
    values: [account, Math.min(Number(limit) || 10, 50)],
  });
  return {
    account,
    entries: rows.map((r) => ({
      id: Number(r.id),
      amountCents: r.amount_cents,
      memo: r.memo,
      bookedAt: r.booked_at.toISOString(),
    })),
  };
}

export const handler = async (event) => {
  await ensureSchema();
  switch (event?.action) {
    case 'post':
      return post(event);
    case 'statement':
      return statement(event);
    case 'ping': {
      const { rows } = await pool.query('SELECT current_user AS "user", current_database() AS database');
      return rows[0];
    }
    default:
      throw new Error(`unsupported action: ${event?.action}`);
  }
};
