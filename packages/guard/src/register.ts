/**
 * `NODE_OPTIONS="--require @ephemera/guard/register"`: install the guard with no code change.
 * Loaded before the runtime client reads its configuration, it captures the built-ins the guard
 * relies on and points Lambda's handler at the guard's shim, keeping the original handler in
 * EPHEMERA_ORIGINAL_HANDLER. The shim loads that handler (Lambda's CommonJS/ESM rules) at INIT and
 * protects it. Processes the function starts inherit NODE_OPTIONS; outside a Lambda runtime this
 * module only captures built-ins.
 *
 * Loaded first, it also starts the init-time patch inventory (integrity/init-inventory.ts): what
 * the function's dependencies change while they load, and which package did, read by the guard when
 * it is created. `EPHEMERA_INIT_PATCHES=off` skips it (the only policy source readable this early).
 */
import path from 'node:path';
import './intrinsics.js';

const handler = process.env._HANDLER;
const shim = path.join(__dirname, 'shim.handler');
if (
  process.env.AWS_LAMBDA_RUNTIME_API &&
  handler &&
  handler !== shim &&
  !process.env.EPHEMERA_ORIGINAL_HANDLER
) {
  process.env.EPHEMERA_ORIGINAL_HANDLER = handler;
  process.env._HANDLER = shim;
  // Only in the runtime's own process: processes it starts inherit EPHEMERA_ORIGINAL_HANDLER and
  // never create a guard that would end the recording.
  // Loaded only when recording: with EPHEMERA_INIT_PATCHES=off the inventory costs nothing.
  if (process.env.EPHEMERA_INIT_PATCHES !== 'off') {
    const { startInitInventory } =
      require('./integrity/init-inventory.js') as typeof import('./integrity/init-inventory.js');
    startInitInventory();
  }
}
