'use strict';
// Runs ONE library's typical use under ONE hardening setting, in this fresh process:
//   INIT     the library's init() (load, build clients), then the setting is applied (end of INIT)
//   invoke   the library's invoke(), twice (a warm environment's second request takes other paths)
// Prints `EPHEMERA-COMPAT-RESULT {"library","setting","node","ok","phase","error"}`.
//
//   node run-compat.cjs <library> <setting>
// settings: off | builtins | ses (the guard's integrity.harden), lockdown (SES lockdown() alone,
// its defaults but the error trapping the runtime client needs), and the node flags
// --frozen-intrinsics / --disallow-code-generation-from-strings, which the caller passes to node
// (setting names frozen-intrinsics / no-codegen: nothing is applied here).
const path = require('node:path');
const writeSync = require('node:fs').writeSync;
const stringify = JSON.stringify;
const exit = process.exit.bind(process);
const { libraries } = require('./libraries.cjs');

const [name, setting] = process.argv.slice(2);
const library = libraries[name];

function emit(result) {
  writeSync(
    1,
    `\nEPHEMERA-COMPAT-RESULT ${stringify({ library: name, setting, node: process.version, ...result })}\n`,
  );
  exit(0);
}

/** The first line of an error, without paths (stable across machines). */
function describe(error) {
  const text =
    error && typeof error === 'object' && 'message' in error
      ? `${error.name}: ${error.message}`
      : String(error);
  return text
    .split('\n')[0]
    .replace(/\/[^\s'"()]+\//g, '…/')
    .slice(0, 160);
}

function harden() {
  if (setting === 'off' || setting === 'frozen-intrinsics' || setting === 'no-codegen') return;
  if (setting === 'builtins' || setting === 'ses') {
    const { prepareHarden } = require('../../dist/integrity/harden.js');
    prepareHarden(setting).apply();
    return;
  }
  if (setting === 'lockdown') {
    require('ses');
    globalThis.lockdown({ errorTrapping: 'none', unhandledRejectionTrapping: 'none' });
    return;
  }
  throw new Error(`unknown setting ${setting}`);
}

async function main() {
  if (!library) return emit({ ok: false, phase: 'usage', error: `unknown library ${name}` });
  const skip = library.skip?.();
  if (skip) return emit({ ok: false, skipped: skip });
  let phase = 'init';
  process.on('uncaughtException', (error) =>
    emit({ ok: false, phase, error: `uncaught ${describe(error)}` }),
  );
  process.on('unhandledRejection', (error) =>
    emit({ ok: false, phase, error: `unhandled ${describe(error)}` }),
  );
  try {
    const state = await library.init();
    phase = 'harden';
    harden();
    phase = 'invoke';
    await library.invoke(state);
    await library.invoke(state);
    emit({ ok: true });
  } catch (error) {
    emit({ ok: false, phase, error: describe(error) });
  }
}

process.chdir(path.join(__dirname));
main();
