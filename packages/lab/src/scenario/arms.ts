import { fileURLToPath } from 'node:url';

/** The demo's arms, in the order they run and appear in reports. */
export const DEMO_ARMS = ['unprotected', 'lifecycle', 'detect-evict', 'full', 'ses', 'no-codegen'] as const;
export type DemoArm = (typeof DEMO_ARMS)[number];

export interface ArmSpec {
  readonly id: DemoArm;
  readonly label: string;
  /** One sentence: what this arm deploys. */
  readonly setup: string;
  /** Whether the guard's layer and exec wrapper are installed. */
  readonly guarded: boolean;
}

export const ARM_SPECS: Readonly<Record<DemoArm, ArmSpec>> = {
  unprotected: {
    id: 'unprotected',
    label: 'Unprotected',
    setup: 'the function as deployed today: no guard',
    guarded: false,
  },
  lifecycle: {
    id: 'lifecycle',
    label: 'Lifecycle only',
    setup: 'guard layer with only lifecycle.maxAgeSeconds recycling (every other control off)',
    guarded: true,
  },
  'detect-evict': {
    id: 'detect-evict',
    label: 'Detect + evict',
    setup:
      'guard layer with integrity: recycle and nothing that prevents (codegen, firewall, sinks off); per-request events on for the correlator',
    guarded: true,
  },
  full: {
    id: 'full',
    label: 'Full guard',
    setup: 'guard layer with its default policy (no configuration)',
    guarded: true,
  },
  ses: {
    id: 'ses',
    label: 'SES lockdown()',
    setup: 'no guard; SES lockdown() preloaded through NODE_OPTIONS',
    guarded: false,
  },
  'no-codegen': {
    id: 'no-codegen',
    label: 'Node --disallow-code-generation-from-strings',
    setup: 'no guard; NODE_OPTIONS=--disallow-code-generation-from-strings',
    guarded: false,
  },
};

/** The preload that runs SES lockdown() (compiled next to this file). */
export const SES_PRELOAD = fileURLToPath(new URL('./ses-lockdown.cjs', import.meta.url));

/**
 * The function's extra environment variables for an arm. `maxAgeSeconds` is in real seconds: the
 * guard inside the function measures its age with the real clock, while the lab's clock is scaled.
 */
export function armEnvironment(arm: DemoArm, maxAgeSeconds: number): Record<string, string> {
  const wrapper = { AWS_LAMBDA_EXEC_WRAPPER: '/opt/ephemera-exec-wrapper' };
  switch (arm) {
    case 'unprotected':
      return {};
    case 'lifecycle':
      return {
        ...wrapper,
        EPHEMERA_POLICY: JSON.stringify({
          mode: 'off',
          nodePermissions: false,
          lifecycle: { maxAgeSeconds, maxInvocations: null },
        }),
      };
    case 'detect-evict':
      return {
        ...wrapper,
        EPHEMERA_POLICY: JSON.stringify({ mode: 'off', integrity: 'recycle', nodePermissions: false }),
        // Per-request events for the correlator's keep-warm rule (off by default in the guard).
        EPHEMERA_TELEMETRY_INVOCATIONS: 'true',
      };
    case 'full':
      return wrapper;
    case 'ses':
      return { NODE_OPTIONS: `--require ${SES_PRELOAD}` };
    case 'no-codegen':
      return { NODE_OPTIONS: '--disallow-code-generation-from-strings' };
  }
}
