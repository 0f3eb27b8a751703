/**
 * `NODE_OPTIONS="--require @ephemera/guard/register"`: install the guard with no code change.
 * Loaded before the runtime client reads its configuration, it captures the built-ins the guard
 * relies on and points Lambda's handler at the guard's shim, keeping the original handler in
 * EPHEMERA_ORIGINAL_HANDLER. The shim loads that handler (Lambda's CommonJS/ESM rules) at INIT and
 * protects it. Processes the function starts inherit NODE_OPTIONS; outside a Lambda runtime this
 * module only captures built-ins.
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
}
