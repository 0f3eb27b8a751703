/**
 * The handler Lambda runs when the guard is installed without code changes (`register` or the
 * layer's exec wrapper). It loads the function's original handler — named in
 * EPHEMERA_ORIGINAL_HANDLER — with Lambda's rules, during INIT, and exports it protected. The guard
 * is created before the handler loads.
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
const mode = process.env.EPHEMERA_LAYER_DIR ? 'layer' : 'register';
// The guard first: its sink hooks (egress, child processes, fs) judge what the function's
// dependencies do while they load, and the init-time inventory ends only once they have loaded.
guard.startGuard(mode);
const loaded = await guard.loadHandler(original, taskRoot);

export const handler = guard.protectAs(loaded, undefined, mode);
