/**
 * The event firewall control.
 *
 * Before the handler: the event's user input is extracted (extract.ts, bounded) and the input
 * checks run — prototype pollution keys, NoSQL operators, JavaScript payload markers. A finding in
 * `block` mode is a verdict: a 403 in the event's HTTP shape, or EPHEMERA_ERR_BLOCKED for other
 * events; the handler does not run. In `alert` mode the handler runs and the finding is reported.
 *
 * At the sinks: the firewall is the sink inspector (sink-inspector.ts). The egress, fs and
 * child-process hooks, and this control's own SQL driver hooks, ask it about each value about to
 * run; it answers with an error (block) when a piece of the current event's input changes the
 * value's structure (detectors.ts). The inputs of the last event stay current between invocations:
 * code left running by an invocation (a timer, a promise) acts on that invocation's input.
 *
 * Events: `block` or `alert`, control `firewall`, detail {detector, location, fingerprint,
 * sourceIp, phase: 'input'|'sink', sink?, eventKind}. Never a value from the event: the fingerprint
 * is a hash of the normalised payload so the correlator can group attempts.
 */
import { createHash } from 'node:crypto';
import type { GuardControl, GuardServices } from '../control.js';
import type { InvocationRecord } from '../guard.js';
import { type SinkContext, type SinkKind, setSinkInspector } from '../sink-inspector.js';
import {
  execFinding,
  type Finding,
  jsMarkerFinding,
  keyFinding,
  pathFinding,
  shellFinding,
  sqlFinding,
  urlFinding,
} from './detectors.js';
import { type Extracted, extractInputs, type Input } from './extract.js';
import { installSqlHooks, scanLoadedDrivers, sqlHookReport } from './sql-hooks.js';
import { blockedError, blockVerdict, type InvokeVerdict, markBlockError } from './verdict.js';

const { apply, getPrototypeOf } = Reflect;
const { create: objectCreate } = Object;
const createHashIntrinsic = createHash;
const sampleHash = createHashIntrinsic('sha256');
const hashProto = getPrototypeOf(sampleHash) as { update: unknown; digest: unknown };
const hashUpdate = hashProto.update as (this: unknown, data: string) => unknown;
const hashDigest = hashProto.digest as (this: unknown, enc: 'hex') => string;
const charCodeAt = String.prototype.charCodeAt;
const fromCharCode = String.fromCharCode;
const mathMin = Math.min;

/** At most this many firewall events per invocation (blocking never stops at the cap). */
const MAX_REPORTS_PER_INVOCATION = 16;
/** Only the first 4 KiB of a payload shape its fingerprint. */
const MAX_FINGERPRINT_INPUT = 4096;

/**
 * 16 hex digits identifying a payload's shape: lower-cased, digit runs as `0`, whitespace runs as
 * one space, first 4 KiB. `' OR 1=1 --` and `' or 2=2  --` share one fingerprint.
 *
 * @example payloadFingerprint("' OR 1=1 --") === payloadFingerprint("' or 7=7   --")
 */
export function payloadFingerprint(payload: string): string {
  const n = mathMin(payload.length, MAX_FINGERPRINT_INPUT);
  let out = '';
  let last = -1;
  for (let i = 0; i < n; i++) {
    let c = apply(charCodeAt, payload, [i]) as number;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c >= 0x30 && c <= 0x39) c = 0x30;
    if (c <= 0x20) c = 0x20;
    if ((c === 0x30 || c === 0x20) && c === last) continue;
    out += fromCharCode(c);
    last = c;
  }
  const hash = createHashIntrinsic('sha256');
  apply(hashUpdate, hash, [out]);
  return (apply(hashDigest, hash, ['hex']) as string).slice(0, 16);
}

interface State {
  extracted: Extracted | undefined;
  event: unknown;
  reported: Record<string, true>;
  reports: number;
}

export interface FirewallControlOptions {
  readonly action: 'block' | 'alert';
}

/** The firewall as a GuardControl (controls.ts builds it first, so its verdict precedes the others). */
export function createFirewallControl(options: FirewallControlOptions): GuardControl {
  const action = options.action;
  let services: GuardServices | undefined;
  const state: State = { extracted: undefined, event: undefined, reported: objectCreate(null), reports: 0 };

  const report = (finding: Finding, phase: 'input' | 'sink', sink?: string): void => {
    if (services === undefined || state.reports >= MAX_REPORTS_PER_INVOCATION) return;
    const key = `${finding.detector} ${finding.location} ${sink ?? ''}`;
    if (state.reported[key] === true) return;
    state.reported[key] = true;
    state.reports++;
    try {
      services.report({
        type: action === 'block' ? 'block' : 'alert',
        control: 'firewall',
        action,
        detail: {
          detector: finding.detector,
          location: finding.location,
          fingerprint: payloadFingerprint(finding.input),
          phase,
          sink: sink ?? null,
          eventKind: state.extracted?.kind ?? null,
          sourceIp: services.current()?.sourceIp ?? null,
        },
      });
    } catch {
      // reporting never breaks the function
    }
  };

  const inputsNow = (): readonly Input[] => {
    if (state.extracted === undefined) {
      if (state.event === undefined) return [];
      state.extracted = extractInputs(state.event);
    }
    return state.extracted.inputs;
  };

  const inspector = (kind: SinkKind, value: string, context: SinkContext): Error | undefined => {
    if (typeof value !== 'string') return undefined;
    const inputs = inputsNow();
    if (inputs.length === 0) return undefined;
    let finding: Finding | undefined;
    switch (kind) {
      case 'shell':
        finding = shellFinding(value, inputs);
        break;
      case 'exec':
        finding = execFinding(value, inputs);
        break;
      case 'sql':
        finding = sqlFinding(value, inputs, context.sink.startsWith('mysql') ? 'mysql' : 'postgres');
        break;
      case 'path':
        finding = pathFinding(value, inputs, context.base);
        break;
      case 'url':
        finding = urlFinding(value, inputs);
        break;
      default:
        // 'code': the codegen control refuses code that carries event input (codegen.ts).
        finding = undefined;
    }
    if (finding === undefined) return undefined;
    report(finding, 'sink', context.sink);
    if (action !== 'block') return undefined;
    return markBlockError(blockedError(finding.detector, finding.location, context.sink));
  };

  return {
    name: 'firewall',
    init(s) {
      services = s;
      setSinkInspector(inspector);
      installSqlHooks();
    },
    endOfInit() {
      // Drivers an ES module imported during INIT are in require.cache without having passed
      // Module._load: patched here, before the integrity baseline (this control comes first).
      scanLoadedDrivers();
    },
    describe() {
      return { action, sqlHooked: [...sqlHookReport().hooked] };
    },
    beforeInvoke(_record: InvocationRecord, event: unknown): InvokeVerdict | undefined {
      state.event = event;
      state.reported = objectCreate(null);
      state.reports = 0;
      const extracted = extractInputs(event);
      state.extracted = extracted;
      let first: Finding | undefined;
      for (let i = 0; i < extracted.keys.length; i++) {
        const f = keyFinding(extracted.keys[i] as (typeof extracted.keys)[number]);
        if (f !== undefined) {
          report(f, 'input');
          first ??= f;
        }
      }
      for (let i = 0; i < extracted.inputs.length; i++) {
        const f = jsMarkerFinding(extracted.inputs[i] as Input);
        if (f !== undefined) {
          report(f, 'input');
          first ??= f;
        }
      }
      if (first !== undefined && action === 'block')
        return blockVerdict(event, first.detector, first.location);
      return undefined;
    },
  };
}
