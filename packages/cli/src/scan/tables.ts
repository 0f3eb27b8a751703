/**
 * What the analysis knows, as data: which modules give which capability, which calls are sinks,
 * which globals are built-ins (and which of those an implant would replace to read or redirect data),
 * and which writable built-ins are configuration rather than patches. analyse-file.ts reads these.
 */

export const NETWORK_MODULES = new Set(['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns']);
export const FS_MODULES = new Set(['fs']);
export const PROCESS_MODULES = new Set(['child_process', 'worker_threads', 'cluster']);
export const UNSAFE_DESERIALIZERS = new Set(['node-serialize', 'serialize-to-js', 'funcster', 'cryo']);
export const VM_CALLS = new Set([
  'runInNewContext',
  'runInThisContext',
  'runInContext',
  'compileFunction',
  'Script',
  'SourceTextModule',
]);
export const SHELL_CALLS = new Set(['exec', 'execSync']);
export const SPAWN_CALLS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']);
export const DEEP_WRITES = new Set(['merge', 'mergewith', 'defaultsdeep', 'set', 'setwith', 'zipobjectdeep']);
export const REQUEST_NAMES = ['event', 'evt', 'req', 'request'];
/** Built-in globals whose replacement is reported (anything else assigned on `global` is a new name). */
export const GLOBALS = new Set([
  'JSON',
  'Object',
  'Array',
  'Function',
  'String',
  'Number',
  'Boolean',
  'Symbol',
  'Promise',
  'Reflect',
  'Proxy',
  'Math',
  'Date',
  'RegExp',
  'Error',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'ArrayBuffer',
  'Uint8Array',
  'DataView',
  'Buffer',
  'process',
  'console',
  'fetch',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'Intl',
  'BigInt',
  'WebAssembly',
  'AbortController',
  'Headers',
  'Request',
  'Response',
  'WebSocket',
  'crypto',
  'structuredClone',
  'eval',
  'require',
  'atob',
  'btoa',
]);
/** Globals whose replacement lets an implant read or redirect data: always high. */
export const CRITICAL_GLOBALS = new Set([
  'JSON',
  'Object',
  'Function',
  'Reflect',
  'fetch',
  'eval',
  'Proxy',
  'WebSocket',
]);
export const GLOBAL_OBJECT_NAMES = new Set(['global', 'globalThis']);
/** Parameters of CommonJS-style wrappers: still the module system's own objects. */
export const MODULE_WRAPPER_NAMES = new Set(['require', 'module', 'exports']);
/** Writable knobs that are configuration, not patches. */
export const CONFIG_KNOBS = new Set([
  'process.env',
  'process.exitCode',
  'process.title',
  'process.noDeprecation',
  'process.throwDeprecation',
  'process.traceDeprecation',
  'Error.stackTraceLimit',
  'Buffer.poolSize',
]);
