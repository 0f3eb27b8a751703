/**
 * The handler Lambda runs when the guard is installed without code changes (`register` or the
 * layer's exec wrapper). It loads the function's original handler — named in
 * EPHEMERA_ORIGINAL_HANDLER — with Lambda's rules, during INIT, and exports it protected.
 */
import guard from './index.js';

const original = process.env.EPHEMERA_ORIGINAL_HANDLER;
const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
if (!original) {
  throw new guard.GuardError(
    'EPHEMERA_ERR_HANDLER',
    'EPHEMERA_ORIGINAL_HANDLER is not set: the guard shim was named as the handler without register or the exec wrapper',
  );
}
const loaded = await guard.loadHandler(original, taskRoot);
const mode = process.env.EPHEMERA_LAYER_DIR ? 'layer' : 'register';

export const handler = guard.protectAs(loaded, undefined, mode);
