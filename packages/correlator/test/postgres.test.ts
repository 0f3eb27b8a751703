import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { type Correlator, createCorrelator, dropPostgresSchema, type Incident } from '../src/index.js';
import { codegen, detection, envId, event, invocation, T0 } from './synthetic.js';

/** The real PostgreSQL server (.ci/run starts it and exports PG*; these defaults match it). */
export const PG_URL = `postgres://${process.env.PGUSER ?? 'ephemera'}:${process.env.PGPASSWORD ?? 'ephemera'}@${
  process.env.PGHOST ?? '127.0.0.1'
}:${process.env.PGPORT ?? '5432'}/${process.env.PGDATABASE ?? 'ephemera'}`;

const schemas: string[] = [];
/** A fresh schema per test, dropped at the end. */
function freshSchema(): string {
  const s = `ephemera_test_${randomBytes(6).toString('hex')}`;
  schemas.push(s);
  return s;
}
after(async () => {
  for (const s of schemas) await dropPostgresSchema(PG_URL, s);
});

/** An attack: one payload fanned out to 4 environments, each infected, from one source, over two minutes. */
function attackStream() {
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.push(codegen(T0 + i * 30_000, envId(i), '203.0.113.66', 'fp-campaign', 'alert'));
    out.push(detection(T0 + i * 30_000 + 10, envId(i), '203.0.113.66'));
    out.push(invocation(T0 + i * 30_000 + 20, envId(i), '198.51.100.4', 900));
  }
  return out;
}

const shape = (list: Incident[]) =>
  list
    .map((i) => ({
      id: i.id,
      rule: i.rule,
      key: i.key,
      environments: i.environments,
      sources: i.sources,
      requestIds: i.requestIds,
      eventCount: i.eventCount,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

describe('PostgreSQL store (real server)', () => {
  it('applies the same schema and raises the same incidents as SQLite', async () => {
    const events = attackStream();
    const pg = await createCorrelator({ db: PG_URL, schema: freshSchema() });
    const lite = await createCorrelator({ db: ':memory:' });
    for (let i = 0; i < events.length; i += 3) {
      await pg.ingest(events.slice(i, i + 3));
      await lite.ingest(events.slice(i, i + 3));
    }
    const fromPg = await pg.incidents();
    assert.deepEqual(fromPg.map((i) => i.rule).sort(), ['fanOut', 'fanOut', 'infection']);
    assert.deepEqual(shape(fromPg), shape(await lite.incidents()));
    const detail = await pg.incident(fromPg.find((i) => i.rule === 'infection')?.id as string);
    assert.equal(detail?.evidence.length, 4);
    // Idempotent: the whole stream again stores nothing and changes no incident.
    const again = await pg.ingest(events);
    assert.deepEqual([again.accepted, again.duplicates, again.incidents.length], [0, events.length, 0]);
    assert.equal(await pg.store.countEvents(), events.length);
    assert.equal((await pg.incidents({ function: 'payments', rule: 'infection' })).length, 1);
    await pg.close();
    await lite.close();
  });

  it('two correlators on one database produce the same incidents, with no duplicates', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([
      createCorrelator({ db: PG_URL, schema }),
      createCorrelator({ db: PG_URL, schema }),
    ]);
    const events = [
      ...attackStream(),
      ...attackStream().map((e) => ({ ...e, env: e.env.replace(/^0/, 'f') })),
    ];
    // Both receive interleaved halves at the same time (as behind a load balancer), and each also
    // receives some of the other's batches again (a retrying sender).
    const batches: (typeof events)[] = [];
    for (let i = 0; i < events.length; i += 2) batches.push(events.slice(i, i + 2));
    await Promise.all([
      (async () => {
        for (const [i, batch] of batches.entries()) if (i % 2 === 0 || i % 5 === 0) await a.ingest(batch);
      })(),
      (async () => {
        for (const [i, batch] of batches.entries()) if (i % 2 === 1 || i % 5 === 0) await b.ingest(batch);
      })(),
    ]);
    const fromA = await a.incidents();
    const fromB = await b.incidents();
    assert.deepEqual(shape(fromA), shape(fromB));
    const keys = fromA.map((i) => `${i.rule} ${i.key}`);
    assert.equal(new Set(keys).size, keys.length, `no duplicate incidents: ${keys.join(', ')}`);
    const infection = fromA.find((i) => i.rule === 'infection');
    assert.equal(infection?.environments.length, 8, 'the incident merged what both correlators saw');
    // A single correlator fed everything agrees.
    const single = await createCorrelator({ db: ':memory:' });
    for (const batch of batches) await single.ingest(batch);
    assert.deepEqual(
      shape(fromA).map(({ rule, key, environments, sources }) => ({ rule, key, environments, sources })),
      shape(await single.incidents()).map(({ rule, key, environments, sources }) => ({
        rule,
        key,
        environments,
        sources,
      })),
    );
    await Promise.all([a.close(), b.close(), single.close()]);
  });

  it('names an unreachable database clearly', async () => {
    await assert.rejects(createCorrelator({ db: 'postgres://ephemera:wrong@127.0.0.1:1/ephemera' }), {
      code: 'EPHEMERA_ERR_CORRELATOR_STORE',
      message: /cannot open PostgreSQL database postgres:\/\/ephemera:\*\*\*@127\.0\.0\.1:1\/ephemera/,
    });
  });

  it('refuses an unsafe schema name', async () => {
    await assert.rejects(createCorrelator({ db: PG_URL, schema: 'x; DROP TABLE events' }), {
      code: 'EPHEMERA_ERR_CORRELATOR_CONFIG',
    });
  });
});

export type { Correlator };

void event;
