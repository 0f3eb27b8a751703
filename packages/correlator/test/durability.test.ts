import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCorrelator } from '../src/index.js';
import { detection, envId, event, T0 } from './synthetic.js';

const TOKEN = 'durability-token-123';
const dir = mkdtempSync(join(tmpdir(), 'ephemera-correlator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('durable once acknowledged (a real process, killed with SIGKILL mid-ingest)', () => {
  it('every acknowledged event and incident is in the database after kill -9', async () => {
    const db = join(dir, 'kill.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url)), db, TOKEN],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`correlator exited early (${code})`)));
    });
    const acked = new Set<string>();
    let attacked = false;
    let stop = false;
    let batchNo = 0;
    const sender = async () => {
      while (!stop) {
        const n = batchNo++;
        const batch = Array.from({ length: 200 }, (_, i) =>
          event('alert', T0 + n * 1000 + i, { env: envId(i % 7) }),
        );
        // One batch carries a campaign: its incident must survive too.
        if (n === 3) {
          batch.push(detection(T0, envId(1), '203.0.113.66'), detection(T0 + 1, envId(2), '203.0.113.66'));
          attacked = true;
        }
        try {
          const res = await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}` },
            body: JSON.stringify(batch),
          });
          if (res.status === 200) for (const e of batch) acked.add(e.id);
        } catch {
          return; // the server died under this request: not acknowledged
        }
      }
    };
    const senders = [sender(), sender(), sender()];
    while (acked.size < 3000) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(senders);
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
    assert.equal(child.signalCode, 'SIGKILL');
    assert.ok(attacked);

    const c = await createCorrelator({ db });
    const stored = await c.store.countEvents();
    const missing: string[] = [];
    // Check every acknowledged id, one by one.
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(db, { readonly: true });
    const has = raw.prepare('SELECT 1 FROM events WHERE id = ?');
    for (const id of acked) if (!has.get(id)) missing.push(id);
    raw.close();
    assert.deepEqual(missing, [], `${missing.length} acknowledged events lost`);
    assert.ok(stored >= acked.size, `${stored} stored >= ${acked.size} acknowledged`);
    const incidents = await c.incidents({ rule: 'infection' });
    assert.equal(incidents.length, 1, 'the incident acknowledged with its batch survived');
    await c.close();
  });
});
