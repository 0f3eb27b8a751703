import { packageFromStack } from './attribution.js';
import type { CodegenDecision } from './codegen.js';
import type { GuardControl, GuardServices } from './control.js';
import type { HardenSetting, Policy } from './policy.js';

/**
 * The controls a policy turns on, in the order their INIT work must run: code-generation hooks
 * first, so the integrity baseline (taken last) includes them.
 */
export function buildControls(policy: Readonly<Policy>): GuardControl[] {
  const controls: GuardControl[] = [];
  // Before any control is built: what changed so far is the runtime client's setup.
  const initPatches = initPatchesControl(policy);
  // First: its verdict runs before the other controls' beforeInvoke, its hooks before the baseline.
  if (policy.firewall.action !== 'off') controls.push(firewallControl(policy.firewall.action));
  if (policy.codegen.action !== 'off') controls.push(codegenControl(policy.codegen.action));
  if (policy.egress.action !== 'off') controls.push(egressControl(policy));
  if (policy.fs.action !== 'off') controls.push(fsControl(policy.fs as FsPolicy));
  if (policy.childProcess.action !== 'off') {
    controls.push(childProcessControl(policy.childProcess as ChildProcessPolicy));
  }
  if (policy.internals.action !== 'off') controls.push(internalsControl(policy.internals.action));
  if (policy.integrity.action !== 'off' || policy.integrity.harden !== 'off')
    controls.push(integrityControl(policy.integrity.action, policy.integrity.harden));
  // Last: its `init` attributes every other control's hooks to the guard.
  if (initPatches) controls.push(initPatches);
  return controls;
}

/**
 * `integrity.initPatches`: the init-time patch inventory (see integrity/init-inventory.ts), recorded
 * from register until the handler module has loaded (in register and exec-wrapper modes the guard is
 * created before that, so its own hooks are attributed to it at `init`). Ends the recording whatever
 * the setting; in protect/middy modes nothing was recorded and nothing is loaded. `block` throws
 * EPHEMERA_ERR_INIT_PATCH from `handlerLoaded`, which the engine lets through (guard.ts), so the
 * function fails its INIT naming the package; the block event carrying the inventory is reported
 * first. Allowed patches are part of the integrity baseline taken at the end of INIT.
 */
function initPatchesControl(policy: Readonly<Policy>): GuardControl | undefined {
  let modulePath: string;
  try {
    modulePath = require.resolve('./integrity/init-inventory.js');
  } catch {
    return undefined;
  }
  if (require.cache[modulePath] === undefined) return undefined; // register did not start recording
  const { finishInitInventory, beginGuardInstall, endGuardInstall, describePatch } = require(
    modulePath,
  ) as typeof import('./integrity/init-inventory.js');
  const { packageMatcher } = require('./attribution.js') as typeof import('./attribution.js');
  const action = policy.integrity.initPatches;
  if (action === 'off') {
    finishInitInventory();
    return undefined;
  }
  beginGuardInstall();
  const allowed = packageMatcher(policy.integrity.initPatchesAllow);
  // Trusted: the runtime client's own setup and the guard (SECURITY.md), and the function's own code.
  // What a package does while it loads is judged, and so is what it does when the function's code
  // calls it at INIT (`AWSXRay.captureHTTPsGlobal(https)`, a poisoned package's `init()`): the
  // inventory attributes such a patch to the package that wrote the new function (init-inventory.ts).
  const trusted = (pkg: string) =>
    pkg === 'runtime' || pkg === '@ephemera/guard' || pkg === 'function code' || allowed(pkg);
  let services: GuardServices | undefined;
  let info: Record<string, unknown> = { action, recorded: false };
  return {
    name: 'initPatches',
    init(s) {
      services = s;
      // This control comes last: every other control has installed its hooks (since buildControls
      // began them). They are the guard's, not the function's, and are not listed.
      endGuardInstall();
    },
    handlerLoaded() {
      const inventory = finishInitInventory();
      if (!inventory.recorded) return;
      const refused = inventory.patches.filter((p) => !trusted(p.package));
      info = {
        action,
        patches: inventory.patches.map(describePatch),
        allowed: inventory.patches.filter((p) => trusted(p.package)).length,
        refused: [...new Set(refused.map((p) => p.package))],
        modules: inventory.modules,
        comparisons: inventory.comparisons,
        costMs: Math.round(inventory.costMs * 100) / 100,
      };
      if (refused.length === 0) return;
      const detail = {
        packages: info.refused,
        patches: refused.map((p) => ({
          package: p.package,
          path: p.path,
          kind: p.kind,
          ...(p.calledFrom !== undefined ? { calledFrom: p.calledFrom } : {}),
        })),
        inventory: info.patches,
      };
      services?.report({ type: action, control: 'initPatches', action, detail });
      if (action !== 'block') return;
      const { GuardError } = require('./errors.js') as typeof import('./errors.js');
      const first = refused[0] as (typeof refused)[number];
      const others =
        refused.length > 1
          ? ` (and ${refused.length - 1} more: ${refused.slice(1, 6).map(describePatch).join(', ')})`
          : '';
      throw new GuardError(
        'EPHEMERA_ERR_INIT_PATCH',
        `${describePatch(first)} while the function initialised${others}; packages not allowed by integrity.initPatchesAllow: ${(info.refused as string[]).join(', ')}`,
      );
    },
    describe() {
      return info;
    },
  };
}

/** `firewall`: hostile event input, before the handler and at the sinks (see firewall/firewall.ts). */
function firewallControl(action: 'block' | 'alert'): GuardControl {
  // Loaded only when the control is on.
  const { createFirewallControl } =
    require('./firewall/firewall.js') as typeof import('./firewall/firewall.js');
  return createFirewallControl({ action });
}

type FsPolicy = Policy['fs'] & { readonly action: 'block' | 'alert' };
type ChildProcessPolicy = Policy['childProcess'] & { readonly action: 'block' | 'alert' };

/** The lifecycle every sink control (fs, childProcess, internals) shares. */
type SinkControl = import('./sinks/refusal.js').SinkLifecycle;

/** Adapts a sink control: hooks at init, judged from the end of INIT, reports per invocation. */
function sinkControl(
  name: string,
  create: (report: (type: 'block' | 'alert', detail: Record<string, unknown>) => void) => SinkControl,
): GuardControl {
  let services: GuardServices | undefined;
  let info: Record<string, unknown> = {};
  const control = create((type, detail) => {
    services?.report({
      type,
      control: name,
      action: type,
      detail: { ...detail, sourceIp: services?.current()?.sourceIp ?? null },
    });
  });
  return {
    name,
    init(s) {
      services = s;
      const installed = control.install();
      info = { hooked: installed.hooked.length, unavailable: installed.unavailable };
    },
    endOfInit() {
      control.endOfInit();
    },
    describe() {
      return info;
    },
    beforeInvoke() {
      control.beginInvocation();
    },
  };
}

/** `fs`: reads and writes outside the allow-lists (see sinks/fs.ts). */
function fsControl(policy: FsPolicy): GuardControl {
  const { createFsControl } = require('./sinks/fs.js') as typeof import('./sinks/fs.js');
  return sinkControl('fs', (report) =>
    createFsControl({
      action: policy.action,
      read: policy.read,
      write: policy.write,
      readSource: policy.readSource,
      onDecision: (d) =>
        report(d.action, {
          op: d.op,
          path: d.path,
          access: d.access,
          reason: d.reason,
          phase: d.phase,
          // The stack is read only here, on a refused or reported call: never on the hot path.
          package: packageFromStack(),
        }),
    }),
  );
}

/** `childProcess`: programs started after INIT outside the allow-list (see sinks/child-process.ts). */
function childProcessControl(policy: ChildProcessPolicy): GuardControl {
  const { createChildProcessControl } =
    require('./sinks/child-process.js') as typeof import('./sinks/child-process.js');
  return sinkControl('childProcess', (report) =>
    createChildProcessControl({
      action: policy.action,
      allow: policy.allow,
      packages: policy.packages,
      onDecision: (d) =>
        report(d.action, {
          api: d.api,
          executable: d.executable,
          shell: d.shell,
          reason: d.reason,
          package: packageFromStack(),
        }),
    }),
  );
}

/** `internals`: inspector, eval workers, addons and process.binding after INIT (see sinks/internals.ts). */
function internalsControl(action: 'block' | 'alert'): GuardControl {
  const { createInternalsControl } = require('./sinks/internals.js') as typeof import('./sinks/internals.js');
  return sinkControl('internals', (report) =>
    createInternalsControl({
      action,
      onDecision: (d) => report(d.action, { sink: d.sink, target: d.target }),
    }),
  );
}

/** `egress`: outbound connections and DNS queries against egress.allow (see egress/egress.ts). */
function egressControl(policy: Readonly<Policy>): GuardControl {
  // Loaded only when the control is on; a bad egress.allow entry throws EPHEMERA_ERR_POLICY here.
  const { createEgressGuardControl } = require('./egress/egress.js') as typeof import('./egress/egress.js');
  return createEgressGuardControl(policy, process.env);
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
 * `integrity`: harden, then baseline, at the end of INIT; after every response (before the next
 * invocation is accepted) compare, and on drift report a `detection` naming what changed and the
 * invocation it appeared in (its request id and source IP: the attacking request). `recycle` then
 * ends the environment so the next request is served by a clean one; `alert` reports each change once.
 *
 * Hardening (`harden`, see integrity/harden.ts) is prepared here, when the guard is created: a setting
 * that cannot work (ses not installed) throws EPHEMERA_ERR_HARDEN out of the guard's creation, so the
 * function fails its INIT instead of running unhardened. It is applied at the end of INIT, after the
 * detectors' sentinels are installed and before any surface is recorded, so the frozen state is the
 * baseline. Controls that wrap built-in module functions (egress, fs, childProcess sinks) must have
 * installed their hooks by then — in `init`, or in an `endOfInit` that runs before this one.
 * If applying fails at the end of INIT (rare: a library made an intrinsic unfreezable), an `error`
 * event carries EPHEMERA_ERR_HARDEN and the environment is recycled after its first response.
 */
function integrityControl(action: 'recycle' | 'alert' | 'off', harden: HardenSetting): GuardControl {
  const { prepareHarden } = require('./integrity/harden.js') as typeof import('./integrity/harden.js');
  // Throws EPHEMERA_ERR_HARDEN at INIT: the function refuses to start.
  const prepared = prepareHarden(harden);
  const detect = action !== 'off';
  const { createIntegrityChecker, reportableDrifts } =
    require('./integrity/integrity-checker.js') as typeof import('./integrity/integrity-checker.js');
  const checker = detect ? createIntegrityChecker() : undefined;
  let services: GuardServices | undefined;
  const reported = new Set<string>();
  let baselined = false;
  const applyHarden = () => {
    if (harden === 'off') return;
    try {
      prepared.apply();
    } catch (error) {
      const err = error as { code?: unknown; message?: unknown };
      services?.report({
        type: 'error',
        control: 'integrity',
        action: 'harden-failed',
        detail: { code: err.code ?? 'EPHEMERA_ERR_HARDEN', message: String(err.message), setting: harden },
      });
      services?.recycle('harden-failed');
    }
  };
  return {
    name: 'integrity',
    init(s) {
      services = s;
    },
    endOfInit() {
      if (checker) {
        checker.baseline(applyHarden);
        baselined = true;
      } else applyHarden();
    },
    describe() {
      // The init event is emitted before the end of INIT: it names the setting; a failure to apply
      // it is an `error` event of its own.
      return { detectors: checker?.detectors ?? [], harden };
    },
    afterResponse(record) {
      if (!baselined || !checker || action === 'off') return undefined;
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
