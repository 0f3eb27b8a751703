// A notes search on PostgreSQL whose SQL is built by string concatenation (the flaw), with a
// private row that a normal search can never return.
import pg from 'pg';

const pool = new pg.Pool({ max: 2, connectionTimeoutMillis: 3000, statement_timeout: 2000 });
let ready;

function schema() {
  ready ??= (async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('fw_notes'))");
      await client.query(
        'CREATE TABLE IF NOT EXISTS fw_notes (id SERIAL PRIMARY KEY, title TEXT NOT NULL, private BOOLEAN NOT NULL)',
      );
      const { rows } = await client.query('SELECT count(*)::int AS n FROM fw_notes');
      if (rows[0].n === 0) {
        await client.query(
          `INSERT INTO fw_notes (title, private) VALUES
           ('Quarterly report', false), ('O''Reilly books to order', false), ('Team offsite notes', false),
           ('How to select the best chair', false), ('EPH-PWN private payroll', true)`,
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      ready = undefined;
      throw error;
    } finally {
      client.release();
    }
  })();
  return ready;
}

export const handler = async (event) => {
  await schema();
  const q = event.queryStringParameters?.q ?? '';
  const sort = event.queryStringParameters?.sort ?? 'id';
  const sql = `SELECT id, title FROM fw_notes WHERE private = false AND title ILIKE '%${q}%' ORDER BY ${sort} LIMIT 20`;
  try {
    const { rows } = await pool.query(sql);
    return { statusCode: 200, body: JSON.stringify({ rows }) };
  } catch (error) {
    if (error?.code === 'EPHEMERA_ERR_BLOCKED') throw error;
    return { statusCode: 400, body: JSON.stringify({ error: 'bad query', sqlState: error?.code ?? null }) };
  }
};
