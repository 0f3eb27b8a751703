import { type CodegenDecision, createCodegenControl } from './codegen.js';
import type { GuardControl, GuardServices } from './control.js';
import type { Policy } from './policy.js';

/**
 * The controls a policy turns on, in the order their INIT work must run: code-generation hooks
 * first, so the integrity baseline (taken last) includes them.
 */
export function buildControls(policy: Readonly<Policy>): GuardControl[] {
  const controls: GuardControl[] = [];
  if (policy.codegen.action !== 'off') controls.push(codegenControl(policy.codegen.action));
  return controls;
}

/** `codegen`: string-to-code during invocations (see codegen.ts for the sinks and the rule). */
function codegenControl(action: 'block' | 'alert'): GuardControl {
  let services: GuardServices | undefined;
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
      if (installed.unavailable.length > 0) {
        s.report({
          type: 'alert',
          requestId: null,
          control: 'codegen',
          action: 'unavailable',
          detail: { sinks: installed.unavailable.map((u) => `${u.sink}: ${u.reason}`) },
        });
      }
    },
    beforeInvoke(_record, event) {
      control.setInvocation({ active: true, event });
    },
    afterInvoke() {
      control.setInvocation({ active: false });
    },
  };
}
