/**
 * `integrity.harden`: prevention at the end of INIT, before the integrity baseline.
 *
 *   "off"       nothing is frozen (detection only).
 *   "builtins"  harden-builtins.ts: the intrinsics (with the override-mistake fix), the built-in
 *               modules' exports, the global bindings.
 *   "ses"       SES lockdown() for the intrinsics (harden-ses.ts), then the built-in modules' exports
 *               and global bindings as in "builtins" (lockdown leaves those mutable).
 *
 * Two phases, so that a function that cannot be hardened refuses to start instead of running
 * unhardened: `prepareHarden` runs when the guard is created (while the handler module loads) and
 * throws EPHEMERA_ERR_HARDEN if the setting cannot work (ses missing, already locked down, Node
 * started with --frozen-intrinsics for "ses"); `apply` runs at the end of INIT.
 */
import { GuardError } from '../errors.js';
import type { HardenSetting } from '../policy.js';
import { hardenBuiltins } from './harden-builtins.js';

/** A hardening ready to apply at the end of INIT. */
export interface PreparedHarden {
  readonly setting: HardenSetting;
  /** Apply it; throws GuardError EPHEMERA_ERR_HARDEN on failure. Returns facts for the init event. */
  apply(): Record<string, unknown>;
}

const hrtime = process.hrtime.bigint;

function elapsedMs(from: bigint): number {
  return Math.round(Number(hrtime() - from) / 1e4) / 100;
}

function hardenError(setting: HardenSetting, what: string, cause?: unknown): GuardError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new GuardError(
    'EPHEMERA_ERR_HARDEN',
    `integrity.harden "${setting}" ${what}${reason} (accepted settings: "off", "builtins", "ses")`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Check that `setting` can be applied and load what it needs (ses). Throws EPHEMERA_ERR_HARDEN.
 * @example const harden = prepareHarden('builtins'); … at the end of INIT: harden.apply();
 */
export function prepareHarden(setting: HardenSetting): PreparedHarden {
  if (setting === 'off') return { setting, apply: () => ({ setting }) };
  if (setting === 'builtins') {
    return {
      setting,
      apply() {
        const start = hrtime();
        try {
          const report = hardenBuiltins();
          return { setting, ms: elapsedMs(start), ...report, overrides: report.overrides.length };
        } catch (error) {
          throw hardenError(setting, 'could not be applied', error);
        }
      },
    };
  }
  if (setting !== 'ses') throw hardenError(setting, 'is not a known setting');
  if (process.execArgv.includes('--frozen-intrinsics')) {
    throw hardenError(
      setting,
      'cannot run under node --frozen-intrinsics (lockdown needs to repair the intrinsics first)',
    );
  }
  // Loaded lazily: only a function that asks for ses pays for this module.
  const { loadSes, lockdownWithSes } = require('./harden-ses.js') as typeof import('./harden-ses.js');
  let ses: ReturnType<typeof loadSes>;
  try {
    ses = loadSes();
  } catch (error) {
    throw hardenError(setting, 'could not load ses', error);
  }
  return {
    setting,
    apply() {
      const start = hrtime();
      try {
        lockdownWithSes(ses);
      } catch (error) {
        throw hardenError(setting, 'lockdown() failed', error);
      }
      const lockdownMs = elapsedMs(start);
      try {
        const report = hardenBuiltins({ intrinsics: false });
        return {
          setting,
          ms: elapsedMs(start),
          lockdownMs,
          ses: ses.version ?? null,
          modules: report.modules,
          globalsLocked: report.globalsLocked,
          globalsLeftLazy: report.globalsLeftLazy,
        };
      } catch (error) {
        throw hardenError(setting, 'could not freeze the built-in modules after lockdown()', error);
      }
    },
  };
}
