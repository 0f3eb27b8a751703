/**
 * The built-ins the guard relies on, captured once when the guard module loads — before the
 * function's own code runs in register/exec-wrapper mode, and at the latest when the handler module
 * imports the guard. An implant may later replace `JSON.stringify`, `Date.now`, `fs.writeSync` or
 * `process.kill`; the guard's hot path and its recycle path only use these captured references.
 * (Hardening the intrinsics themselves is the integrity control's job, not this module's.)
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const boundKill = process.kill.bind(process);

export const intrinsics = Object.freeze({
  apply: Reflect.apply,
  defineProperty: Object.defineProperty,
  freeze: Object.freeze,
  keys: Object.keys,
  jsonStringify: JSON.stringify,
  dateNow: Date.now,
  isoString: (ms: number) => new Date(ms).toISOString(),
  random: Math.random,
  writeSync: fs.writeSync,
  readdirSync: fs.readdirSync,
  rmSync: fs.rmSync,
  tmpdir: os.tmpdir,
  pathJoin: path.join,
  kill: boundKill,
  pid: process.pid,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  channel: diagnosticsChannel.channel('ephemera:event'),
  Promise: globalThis.Promise,
});

/** Write one line to stdout synchronously: it must reach the log even if the process ends next. */
export function writeLine(line: string): void {
  try {
    intrinsics.writeSync(1, `${line}\n`);
  } catch {
    // stdout closed (EPIPE/EAGAIN): telemetry must never throw into the handler.
  }
}
