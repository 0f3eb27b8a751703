// A small notes API written as an ordinary express app: the same app runs under `app.listen()` locally
// and in Lambda through serverless-http (index.js). State lives in a module-scope Map, as many
// teams' caches do: it grows while the environment is warm.
const { randomUUID } = require('node:crypto');
const express = require('express');

const notes = new Map();
const TOKEN = process.env.NOTES_API_TOKEN ?? 'dev-token';

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);

// Request id and timing on every response.
app.use((req, res, next) => {
  const started = process.hrtime.bigint();
  req.id = req.get('x-request-id') ?? req.lambdaContext?.awsRequestId ?? randomUUID();
  res.set('x-request-id', req.id);
  const end = res.end;
  res.end = function endWithTiming(...args) {
    res.set('server-timing', `app;dur=${Number(process.hrtime.bigint() - started) / 1e6}`);
    return end.apply(this, args);
  };
  next();
});
app.use(express.json({ limit: '32kb' }));

function requireToken(req, _res, next) {
  if (req.get('authorization') !== `Bearer ${TOKEN}`) return next(new HttpError(401, 'missing or bad token'));
  next();
}

function validNote(body) {
  if (typeof body?.title !== 'string' || body.title.trim() === '' || body.title.length > 200) {
    throw new HttpError(400, 'title must be a non-empty string of at most 200 characters');
  }
  const tags = Array.isArray(body.tags) ? body.tags.filter((t) => typeof t === 'string').slice(0, 10) : [];
  return { title: body.title.trim(), text: typeof body.text === 'string' ? body.text : '', tags };
}

const router = express.Router();
router.get('/health', (_req, res) => res.json({ ok: true, notes: notes.size }));
router.get('/notes', (req, res) => {
  const tag = typeof req.query.tag === 'string' ? req.query.tag : undefined;
  const limit = Math.min(Number(req.query.limit ?? 20) || 20, 100);
  const list = [...notes.values()].filter((n) => tag === undefined || n.tags.includes(tag));
  res.json({ total: list.length, notes: list.slice(-limit).reverse() });
});
router.get('/notes/:id', (req, res, next) => {
  const note = notes.get(req.params.id);
  if (!note) return next(new HttpError(404, `note ${req.params.id} not found`));
  res.json(note);
});
router.post('/notes', requireToken, (req, res) => {
  const note = { id: randomUUID(), ...validNote(req.body), createdAt: new Date().toISOString() };
  notes.set(note.id, note);
  res.status(201).location(`/notes/${note.id}`).json(note);
});
router.put('/notes/:id', requireToken, (req, res, next) => {
  const existing = notes.get(req.params.id);
  if (!existing) return next(new HttpError(404, `note ${req.params.id} not found`));
  const note = { ...existing, ...validNote(req.body), updatedAt: new Date().toISOString() };
  notes.set(note.id, note);
  res.json(note);
});
router.delete('/notes/:id', requireToken, (req, res, next) => {
  if (!notes.delete(req.params.id)) return next(new HttpError(404, `note ${req.params.id} not found`));
  res.status(204).end();
});
// A route that fails: the error middleware below turns it into a 500 (the function still succeeds).
router.get('/reports/broken', () => {
  throw new Error('report backend unavailable');
});
app.use(router);

app.use((_req, _res, next) => next(new HttpError(404, 'no such route')));
// Express recognises an error handler by its four parameters.
app.use((err, req, res, _next) => {
  const status = err.status ?? err.statusCode ?? 500;
  if (status >= 500) console.error(JSON.stringify({ level: 'error', requestId: req.id, error: err.message }));
  res.status(status).json({ error: status >= 500 ? 'internal error' : err.message, requestId: req.id });
});

module.exports = { app };
