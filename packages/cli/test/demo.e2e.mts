/**
 * `ephemera demo` end to end: the real CLI process runs every arm on fresh labs with the real
 * runtime client (the guard through its layer and exec wrapper), writes the JSON results and the
 * HTML report; the report is rendered in headless Chromium. One run is shared by all the checks.
 * Named `.e2e.mts`: `npm test` runs it after the other test files, alone, because its arms compress
 * two lab hours into seconds of real time and their outcome depends on the machine keeping up (under
 * a load average near 20 the unprotected arm stole 33 % and the lab front reset victims'
 * connections).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArmResult, ScenarioResult } from '@ephemera/lab';
import { ATTACKER_ADDRESS, buildPlan, DEMO_ARMS, luhnValid } from '@ephemera/lab';
import { chromium } from 'playwright-core';
import { DemoUsageError, parseDemoFlags, parseDuration } from '../src/demo.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('ephemera demo flags', () => {
  it('parses durations and refuses bad values naming the flag and what is accepted', () => {
    assert.equal(parseDuration('2h'), 7200);
    assert.equal(parseDuration('90m'), 5400);
    assert.equal(parseDuration('3600s'), 3600);
    assert.equal(parseDuration('600'), 600);
    assert.throws(() => parseDuration('2 days'), /--duration is "2 days"; accepted: .*2h, 90m, 3600s/);
    assert.throws(() => parseDuration('10s'), DemoUsageError);
    assert.throws(
      () => parseDemoFlags({ arms: 'unprotected,bogus' }),
      /--arms names "bogus"; accepted: all, or/,
    );
    assert.throws(() => parseDemoFlags({ victims: '-3' }), /--victims is "-3"; accepted: an integer from 1/);
    assert.throws(() => parseDemoFlags({ 'time-scale': '0' }), /--time-scale is "0"; accepted/);
    const o = parseDemoFlags({ arms: 'full,unprotected,full', seed: '9' });
    assert.deepEqual(o.arms, ['full', 'unprotected']);
    assert.equal(o.seed, 9);
    assert.deepEqual(parseDemoFlags({}).arms, [...DEMO_ARMS]);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const r = await run(['demo', '--arms', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--arms names "nope"/);
    assert.match(r.stderr, /usage: ephemera/);
  });
});

describe('the demo traffic plan', () => {
  const options = {
    seed: 3,
    victims: 500,
    durationSeconds: 7200,
    attackAtSeconds: 900,
    attackRequests: 200,
    attackWaves: 4,
    keepWarmEverySeconds: 300,
  };

  it('is the same for the same seed and differs for another', () => {
    assert.deepEqual(buildPlan(options), buildPlan(options));
    assert.notDeepEqual(buildPlan(options).victims, buildPlan({ ...options, seed: 4 }).victims);
  });

  it('gives every victim a distinct Luhn-valid test card, in time order, within the period', () => {
    const plan = buildPlan(options);
    assert.equal(plan.victims.length, 500);
    assert.equal(new Set(plan.victims.map((v) => v.cardNumber)).size, 500);
    for (const v of plan.victims) {
      assert.ok(luhnValid(v.cardNumber), v.cardNumber);
      assert.match(v.cardNumber, /^400000[0-9]{10}$/);
      assert.ok(v.at >= 0 && v.at < 7200);
    }
    for (let i = 1; i < plan.victims.length; i += 1)
      assert.ok((plan.victims[i]?.at ?? 0) >= (plan.victims[i - 1]?.at ?? 0));
    assert.ok(!luhnValid('4000000000000003'));
  });

  it('fans the attack out over every variant, then only keeps environments warm', () => {
    const plan = buildPlan(options);
    const variants = plan.waves.flatMap((w) => w.variants);
    assert.equal(variants.length, 200);
    assert.equal(new Set(variants).size, 4);
    assert.ok(plan.keepWarm.every((t) => t > (plan.waves.at(-1)?.at ?? 0)));
  });
});

describe('ephemera demo (every arm, real runtime client, real browser)', () => {
  let out: string;
  let result: ScenarioResult;
  let stdout: string;
  const arm = (id: string): ArmResult => {
    const a = result.arms.find((x) => x.arm === id);
    assert.ok(a, `arm ${id} ran`);
    return a;
  };

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'ephemera-demo-test-'));
    const r = await run(['demo', '--victims', '240', '--seed', '7', '--out', out]);
    stdout = r.stdout;
    assert.equal(r.code, 0, `demo failed:\n${r.stderr}\n${r.stdout}`);
    result = JSON.parse(readFileSync(join(out, 'ephemera-results.json'), 'utf8')) as ScenarioResult;
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('prints the table with every arm and writes the results', () => {
    assert.deepEqual(
      result.arms.map((a) => a.arm),
      [...DEMO_ARMS],
    );
    assert.match(stdout, /^arm\s+envs\s+infected\s+cards stolen/m);
    for (const a of result.arms) assert.ok(stdout.includes(a.label), `table row for ${a.label}`);
    for (const a of result.arms) assert.equal(a.victims.total, 240, `${a.arm}: every victim was sent`);
  });

  it('unprotected: the implants steal at least 90% of the cards sent after the infection', () => {
    const a = arm('unprotected');
    assert.ok(a.environments.infected >= 1);
    // 90–100% on a quiet machine (this test runs alone for that reason); the rest are served by
    // environments created after the fan-out, never infected.
    assert.ok(a.stolen.shareAfterAttack >= 0.9, `share ${a.stolen.shareAfterAttack}`);
    assert.equal(a.victims.failed, 0);
    // Every variant works on its own surface: each delivered cards.
    for (const [variant, n] of Object.entries(a.stolen.byVariant))
      assert.ok(n > 0, `${variant} stole nothing`);
  });

  it('lifecycle only: theft in each environment stops within maxAgeSeconds (+ jitter) of its start', () => {
    const a = arm('lifecycle');
    assert.equal(a.victims.failed, 0, a.victims.failureSamples.join('\n'));
    assert.ok((a.recycles['max-age'] ?? 0) >= 1, 'environments were recycled for age');
    const limit = result.maxAgeRealSeconds * result.timeScale * 1.1;
    // The guard measures age from its own start (the end of INIT) in real time; allow one real
    // second of scheduling slack on this shared machine, in lab seconds.
    const slack = result.timeScale;
    let checked = 0;
    for (const lane of a.lanes) {
      if (lane.stolen.length === 0) continue;
      checked += 1;
      const start = lane.initialized ?? lane.created;
      const last = Math.max(...lane.stolen);
      assert.ok(last - start <= limit + slack, `lane ${lane.id}: theft ${last - start} s after its start`);
      assert.ok(lane.end !== null, `lane ${lane.id} that stole ended`);
    }
    assert.ok(a.theftWindow === null || checked > 0);
    assert.ok(a.stolen.cards < arm('unprotected').stolen.cards, 'recycling bounds the theft');
  });

  it('detect + evict: 0 cards stolen, 0 failed victims, every infection detected and evicted', () => {
    const a = arm('detect-evict');
    assert.equal(a.stolen.cards, 0);
    assert.equal(a.victims.failed, 0, a.victims.failureSamples.join('\n'));
    assert.ok((a.recycles['integrity-drift'] ?? 0) >= 1);
    assert.ok((a.guardEvents['detection:integrity'] ?? 0) >= 1);
    assert.ok(
      a.attack.accepted >= 1,
      `the injection is not prevented in this arm: ${JSON.stringify(a.attack)}`,
    );
  });

  it('full guard: the attack is refused, 0 cards stolen, 0 failed victims', () => {
    const a = arm('full');
    assert.equal(a.stolen.cards, 0);
    assert.equal(a.environments.infected, 0);
    assert.equal(a.victims.failed, 0, a.victims.failureSamples.join('\n'));
    const attack = JSON.stringify(a.attack);
    assert.equal(a.attack.accepted, 0, attack);
    assert.ok(a.attack.refused >= 1, `no attack request was refused: ${attack}`);
    const blocks = Object.entries(a.guardEvents)
      .filter(([k]) => k.startsWith('block:'))
      .reduce((n, [, v]) => n + v, 0);
    assert.ok(blocks >= a.attack.refused, 'each refused attack request is a block event');
  });

  it('the correlator watching the guarded arms sees the campaign and names only the attacker', () => {
    const evict = arm('detect-evict');
    assert.ok(evict.observed, 'a correlator watched the detect + evict arm');
    const rules = new Set(evict.observed.incidents.map((i) => i.rule));
    assert.ok(rules.has('fanOut'), `fan-out incident (got ${[...rules].join(', ')})`);
    assert.ok(rules.has('infection'), `infection incident (got ${[...rules].join(', ')})`);
    // The attacker's keep-warm rounds may also raise a keep-warm incident, but not reliably here:
    // rounds 5 lab minutes apart are 0.8 real seconds apart, and on a loaded machine their real
    // spacing varies past the rule's jitter bound (the rule itself is tested in rules.test.ts).
    // Any incident, that one included, names only the attacker (checked below).
    const infection = evict.observed.incidents.filter((i) => i.rule === 'infection');
    assert.equal(infection.length, 1, 'one infection campaign, updated rather than reopened');
    assert.deepEqual(infection[0]?.sources, [ATTACKER_ADDRESS]);
    assert.ok(
      (infection[0]?.environments ?? 0) >= 2,
      `infection across environments: ${JSON.stringify(infection[0])}`,
    );
    for (const id of ['detect-evict', 'full', 'lifecycle']) {
      for (const incident of arm(id).observed?.incidents ?? []) {
        for (const source of incident.sources)
          assert.equal(source, ATTACKER_ADDRESS, `${id}: ${incident.rule} names ${source}, not the attacker`);
      }
    }
    const full = arm('full');
    assert.ok(
      (full.observed?.incidents.length ?? 0) >= 1,
      `the refused fan-out is still seen (attack ${JSON.stringify(full.attack)}, guard events ${JSON.stringify(full.guardEvents)})`,
    );
    assert.equal(arm('unprotected').observed, null);
  });

  it('the alternatives are measured: Node’s flag refuses the victim’s own eval, so every victim fails', () => {
    const flag = arm('no-codegen');
    assert.equal(flag.stolen.cards, 0);
    assert.equal(flag.victims.failed, flag.victims.total);
    const ses = arm('ses');
    assert.equal(ses.victims.total, 240);
  });

  it('renders the HTML report in headless Chromium with every arm, its lanes and no errors', {
    skip: CHROMIUM ? false : 'chromium is not installed (.ci/run installs it)',
  }, async () => {
    const html = join(out, 'ephemera-report.html');
    const source = readFileSync(html, 'utf8');
    assert.doesNotMatch(
      source,
      /<script|https?:\/\/(?!www\.w3\.org)/,
      'self-contained: no script, no network',
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      await page.goto(pathToFileURL(html).href);
      assert.equal(await page.title(), 'Ephemera demo — the warm-container attack, arm by arm');
      for (const a of result.arms) {
        const section = page.locator(`section.arm[data-arm="${a.arm}"]`);
        assert.equal(await section.count(), 1, `section for ${a.arm}`);
        assert.equal(await section.locator('h2').innerText(), a.label);
        assert.equal(await section.locator('g.lane').count(), a.lanes.length, `${a.arm} lanes`);
        assert.equal(
          await section.locator('circle.card').count(),
          a.stolen.cards,
          `${a.arm} stolen cards drawn`,
        );
        const headline = await section.locator('.headline').innerText();
        assert.match(
          headline,
          a.stolen.cards === 0 ? /0 cards stolen/ : new RegExp(`${a.stolen.cards} cards stolen`),
        );
        const box = await section.locator('svg.timeline').boundingBox();
        assert.ok(box && box.width > 600 && box.height > 60, `${a.arm} timeline is visible`);
      }
      assert.equal(await page.locator('table.results tbody tr').count(), result.arms.length);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
