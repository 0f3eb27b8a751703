import type { CodegenDecision } from './codegen.js';
import type { GuardControl, GuardServices } from './control.js';
import type { Policy } from './policy.js';

/**
 * The controls a policy turns on, in the order their INIT work must run: code-generation hooks
 * first, so the integrity baseline (taken last) includes them.
 */
export function buildControls(policy: Readonly<Policy>): GuardControl[] {
  const controls: GuardControl[] = [];
  if (policy.codegen.action !== 'off') controls.push(codegenControl(policy.codegen.action));
  if (policy.integrity.action !== 'off') controls.push(integrityControl(policy.integrity.action));
  return controls;
}

/** `codegen`: string-to-code during invocations (see codegen.ts for the sinks and the rule). */
function codegenControl(action: 'block' | 'alert'): GuardControl {
  // Loaded only when the control is on: a function that turns it off does not pay its INIT cost.
  const { createCodegenControl } = require('./codegen.js') as typeof import('./codegen.js');
  let services: GuardServices | undefined;
  let info: Record<string, unknown> = {};
  const control = createCodegenControl({
    action,
    onDecision: (decision: CodegenDecision) => {
      services?.report({
        type: decision.action === 'block' ? 'block' : 'alert',
        control: 'codegen',
        action: decision.action,
        detail: {
          sink: decision.sink,
          reason: decision.reason,
          containsEventInput: decision.containsEventInput,
          fingerprint: decision.fingerprint,
          phase: decision.phase,
          length: decision.length,
          sourceIp: services?.current()?.sourceIp ?? null,
        },
      });
    },
  });
  return {
    name: 'codegen',
    init(s) {
      services = s;
      const installed = control.install();
      info = {
        hooked: [...installed.hooked].map(String),
        unavailable: installed.unavailable.map((u) => `${u.sink}: ${u.reason}`),
      };
    },
    describe() {
      return info;
    },
    beforeInvoke(_record, event) {
      control.setInvocation({ active: true, event });
    },
    afterInvoke() {
      control.setInvocation({ active: false });
    },
  };
}

/**
 * `integrity`: baseline at the end of INIT; after every response (before the next invocation is
 * accepted) compare, and on drift report a `detection` naming what changed and the invocation it
 * appeared in (its request id and source IP: the attacking request). `recycle` then ends the
 * environment so the next request is served by a clean one; `alert` reports each change once.
 */
function integrityControl(action: 'recycle' | 'alert'): GuardControl {
  const { createIntegrityChecker, reportableDrifts } =
    require('./integrity/integrity-checker.js') as typeof import('./integrity/integrity-checker.js');
  const checker = createIntegrityChecker();
  let services: GuardServices | undefined;
  const reported = new Set<string>();
  let baselined = false;
  return {
    name: 'integrity',
    init(s) {
      services = s;
    },
    endOfInit() {
      checker.baseline();
      baselined = true;
    },
    describe() {
      return { detectors: checker.detectors };
    },
    afterResponse(record) {
      if (!baselined) return undefined;
      const drifts = checker.check();
      if (drifts.length === 0) return undefined;
      const fresh = action === 'alert' ? drifts.filter((d) => !reported.has(`${d.kind} ${d.path}`)) : drifts;
      for (const d of fresh) reported.add(`${d.kind} ${d.path}`);
      if (fresh.length > 0) {
        services?.report({
          type: 'detection',
          requestId: record?.requestId ?? null,
          control: 'integrity',
          action,
          detail: {
            count: fresh.length,
            drifts: reportableDrifts(fresh),
            sourceIp: record?.sourceIp ?? null,
            appearedIn: record?.requestId ?? null,
          },
        });
      }
      return action === 'recycle' ? 'integrity-drift' : undefined;
    },
  };
}
