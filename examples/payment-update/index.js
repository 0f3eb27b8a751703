'use strict';
// The demo's victim: update a user's payment information. Behind API Gateway (HTTP API), it
// parses the request body with eval — the classic mistake this whole demo is about — validates
// it, and inserts one row. Its permissions are "perfect": all it can do is insert a row.
// Deployed unmodified in every arm of the demo; the guard, when present, comes from the layer.
const Database = require('better-sqlite3');
const checks = require('./lib/checks');

const db = new Database(process.env.PAYMENTS_DB || '/tmp/payments.db');
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
db.exec(`CREATE TABLE IF NOT EXISTS payment_methods (
  id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  card_last4 TEXT NOT NULL,
  card_number TEXT NOT NULL,
  expiry TEXT NOT NULL,
  updated_at TEXT NOT NULL
)`);
const insert = db.prepare(
  'INSERT INTO payment_methods (user_id, name, card_last4, card_number, expiry, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
);

const reply = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

exports.handler = async (event) => {
  let update;
  try {
    // The vulnerability: the body is evaluated as JavaScript, not parsed as JSON.
    // biome-ignore lint/security/noGlobalEval: the demo's deliberate injection point
    update = eval('(' + event.body + ')');
  } catch {
    return reply(400, { error: 'the body is not valid' });
  }
  if (update && update.warm === true) return reply(200, { warm: true });
  const problems = checks.validate(update);
  if (problems.length > 0) return reply(400, { error: problems.join('; ') });
  const last4 = update.cardNumber.slice(-4);
  insert.run(update.userId, update.name, last4, update.cardNumber, update.expiry, new Date().toISOString());
  return reply(200, { updated: true, userId: update.userId, last4 });
};
