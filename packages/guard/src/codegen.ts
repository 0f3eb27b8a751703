/**
 * The codegen control: refuses code generation from strings after INIT when the string carries
 * executable structure, and lets pure data literals through (data-literal.ts decides which is which).
 *
 * Threat. A warm function that evaluates request data — `eval('(' + event.body + ')')` (the seed's
 * victim function), node-serialize's `unserialize` (it evaluates `_$$ND_FUNC$$_function(){…}()`),
 * `new Function(userString)`, `vm.runInThisContext(expr)` — runs an attacker's payload once, and the
 * payload implants a hook that watches every later invocation. The refusal point is the sink.
 *
 * Contract.
 * - INIT (until the guard's first `setInvocation({ active: true })`): everything is allowed, nothing
 *   is reported. Libraries compile templates, validators and serialisers there.
 * - After INIT — during an invocation and between invocations (pending timers and promises resume
 *   there; INIT never comes back) — a string that is not a pure data literal is:
 *   `block`: refused with CodegenBlockedError (an EvalError, code EPHEMERA_ERR_CODEGEN_BLOCKED), the
 *            code is never compiled; `alert`: compiled and run, and reported. A pure data literal
 *            (and an empty source, and `Function('return this')`) is compiled and run as usual.
 * - `off`: no hook is installed at all.
 * - Every refusal or alert is reported once per invocation and fingerprint to `onDecision` (never the
 *   code itself: a fingerprint of its shape, its length, and whether it contains event input).
 *
 * Sinks hooked (from JavaScript only, no native code):
 *   global `eval`; `Function`, `AsyncFunction`, `GeneratorFunction`, `AsyncGeneratorFunction` (the
 *   global and each prototype's `constructor`, so `(function(){}).constructor('…')` is covered; call
 *   and `new` forms; `instanceof` keeps working because each wrapper's `prototype` is the original);
 *   `vm.Script`, `vm.createScript`, `vm.runInThisContext`, `vm.runInNewContext`, `vm.runInContext`,
 *   `vm.compileFunction`, `vm.SourceTextModule` (when --experimental-vm-modules exposes it);
 *   `new Worker(code, { eval: true })` and `new Worker(new URL('data:…'))`;
 *   `Module.prototype._compile` outside a module load (`require-from-string` style); and
 *   `import('data:…')` through `module.registerHooks` where Node has it (22.15+, 23.5+).
 *
 * Not hooked, and why:
 * - `import('data:…')` on Node 20: `module.registerHooks` does not exist; the off-thread
 *   `module.register` hooks can refuse data: URLs but cost ~140–220 ms at INIT and ~0.5–0.8 ms per
 *   later `import()` (measured here), too much to impose by default.
 * - References taken before `install()`: `const { runInThisContext } = require('vm')` or lodash's
 *   `context.Function` captured at load keep the originals (ESM named imports of `node:vm` and
 *   `node:worker_threads` are re-synced and do see the hooks). Only V8's code-generation callback sees
 *   every path; Node exposes it only as `--disallow-code-generation-from-strings`, which is
 *   all-or-nothing, cannot be set after startup, and leaves vm, workers and `_compile` open.
 * - `setTimeout('code')`/`setInterval('code')`: Node throws ERR_INVALID_ARG_TYPE already.
 * - Paths only code that already runs can take (`process.binding('contextify')`, the inspector's
 *   `Runtime.evaluate`, WebAssembly): they are not injection sinks; the other controls own them.
 *
 * Direct eval. Replacing `globalThis.eval` turns every later *direct* `eval(x)` into an indirect one:
 * the string is evaluated in global scope, sloppy mode, without the caller's local variables. The
 * wrapper calls the original eval indirectly, on purpose. Consequences: (1) a pure data literal — the
 * victim idiom — evaluates to the same value either way (a literal reads no scope); (2) in `block`
 * mode nothing else is evaluated after INIT, so nothing else can observe the difference; (3) in
 * `alert` mode, code evaluated after INIT that reads local variables or module-scoped `require`
 * (`eval('require')`) throws a ReferenceError or sees globals instead. INIT-time evals are untouched
 * because the hooks are installed at the end of INIT. A sloppy global eval also accepts legacy octal
 * (`017`) that a strict caller's direct eval would reject: a difference in the permissive direction only.
 *
 * Everything the hooks call is captured when this module loads (Reflect, Object, string and Buffer
 * methods, crypto) and the state they read is module-private: code that runs later cannot make the
 * hooks consult a replaced built-in. The wrapped originals are read at `install()`, so an APM agent
 * that wrapped `vm` during INIT keeps its wrapper under ours.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import Module from 'node:module';
import vm from 'node:vm';
import workerThreads from 'node:worker_threads';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, describeCode, isDataLiteral } from './data-literal.js';

// ---------------------------------------------------------------------------------------------------
// Captured at load
// ---------------------------------------------------------------------------------------------------

const { apply, construct, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, setPrototypeOf } =
  Reflect;
const { freeze, keys: objectKeys, create: objectCreate } = Object;
const URLIntrinsic = URL;
const mathMin = Math.min;
const isArray = Array.isArray;
const jsonParse = JSON.parse;
const bufferFrom = Buffer.from;
const call = Function.prototype.call;
const bind = Function.prototype.bind;
function uncurry<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R;
}
const stringIncludes = uncurry(String.prototype.includes as (this: string, search: string) => boolean);
const stringSlice = uncurry(String.prototype.slice as (this: string, start?: number, end?: number) => string);
const stringTrim = uncurry(String.prototype.trim as (this: string) => string);
const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, search: string) => number);
const stringToLowerCase = uncurry(String.prototype.toLowerCase as (this: string) => string);
const charCodeAt = uncurry(String.prototype.charCodeAt as (this: string, index: number) => number);
const arrayJoin = uncurry(Array.prototype.join as (this: unknown[], separator?: string) => string);
const arrayPush = uncurry(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number);
const bufferToString = uncurry(
  Buffer.prototype.toString as (this: Buffer, encoding?: BufferEncoding) => string,
);
const decodeUri = decodeURIComponent;
const EvalErrorIntrinsic = EvalError;
const BufferIntrinsic = Buffer;
const createHashIntrinsic = createHash;
// Imported bindings compile to property reads on the other module's exports object, which later code
// could overwrite; the recogniser is read once, here.
const isData = isDataLiteral;
const describe = describeCode;
// A sample hash gives the Hash methods; calling them uncurried never looks them up again.
const sampleHash = createHashIntrinsic('sha256');
const hashProto = getPrototypeOf(sampleHash) as { update: unknown; digest: unknown };
const hashUpdate = uncurry(hashProto.update as (this: unknown, data: string) => unknown);
const hashDigest = uncurry(hashProto.digest as (this: unknown, encoding: 'hex') => string);

/** The prototypes of the four function kinds, reached by syntax (nothing can substitute them). */
const FUNCTION_PROTOTYPES = [
  { sink: 'Function', prototype: getPrototypeOf(() => undefined) as object },
  { sink: 'AsyncFunction', prototype: getPrototypeOf(async () => undefined) as object },
  { sink: 'GeneratorFunction', prototype: getPrototypeOf(function* () {}) as object },
  { sink: 'AsyncGeneratorFunction', prototype: getPrototypeOf(async function* () {}) as object },
] as const;

interface ModuleInternals {
  _compile(this: unknown, content: unknown, filename: unknown, ...rest: unknown[]): unknown;
  load(this: unknown, filename: unknown): unknown;
}
const moduleProto = Module.prototype as unknown as ModuleInternals;
type RegisterHooks = (hooks: { resolve: ResolveHook }) => unknown;
type ResolveHook = (
  specifier: string,
  context: unknown,
  nextResolve: (specifier: string, context?: unknown) => { url?: unknown },
) => { url?: unknown };
const registerHooks = (Module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
const syncBuiltinESMExports = Module.syncBuiltinESMExports;

// ---------------------------------------------------------------------------------------------------
// Public surface
// ---------------------------------------------------------------------------------------------------

/** Stable error code of a refused code generation (docs/errors.md). */
export const CODEGEN_BLOCKED = 'EPHEMERA_ERR_CODEGEN_BLOCKED';

/** Where code was generated from a string. */
export type CodegenSink =
  | 'eval'
  | 'Function'
  | 'AsyncFunction'
  | 'GeneratorFunction'
  | 'AsyncGeneratorFunction'
  | 'vm.Script'
  | 'vm.createScript'
  | 'vm.runInThisContext'
  | 'vm.runInNewContext'
  | 'vm.runInContext'
  | 'vm.compileFunction'
  | 'vm.SourceTextModule'
  | 'Worker'
  | 'Module._compile'
  | 'import';

/** One decision, as reported to the guard. Never carries the code or any string from it. */
export interface CodegenDecision {
  readonly sink: CodegenSink;
  /** `block`: refused; `alert`: run and reported; `allow`: a data literal (only with `reportAllowed`). */
  readonly action: 'block' | 'alert' | 'allow';
  /** Why it is code (`identifier "require" at 14`), or `pure data literal`. */
  readonly reason: string;
  /** Whether the code contains one of the current event's input strings, or was cut out of one. */
  readonly containsEventInput: boolean;
  /** 16 hex digits: a hash of the code's token shape (strings and numbers blanked, whitespace dropped). */
  readonly fingerprint: string;
  /** After INIT, inside an invocation or between two (a timer or promise left by one). */
  readonly phase: 'invocation' | 'between-invocations';
  /** Length of the code in UTF-16 code units. */
  readonly length: number;
}

export interface CodegenOptions {
  /** The policy's `codegen.action`. */
  readonly action: 'block' | 'alert' | 'off';
  /** Receives every refusal and alert; must not throw (a throw is swallowed). */
  readonly onDecision?: (decision: CodegenDecision) => void;
  /** Also report data literals let through after INIT (default false: the victim idiom is per request). */
  readonly reportAllowed?: boolean;
  /** Limits of the data-literal recogniser (defaults: 6 MiB, 256). */
  readonly maxLength?: number;
  readonly maxDepth?: number;
}

/** What the guard tells the control at `beforeInvoke` and `afterInvoke`. */
export interface InvocationContext {
  /** true from `beforeInvoke`, false from `afterInvoke`. The first `true` ends INIT. */
  readonly active: boolean;
  /** The event's input strings, if the guard has them (otherwise `event` is read lazily). */
  readonly inputs?: readonly string[];
  /** The event; its strings are collected only if a decision is reported (`eventInputStrings`). */
  readonly event?: unknown;
}

/** What `install()` did, for the guard's init event. */
export interface CodegenInstallReport {
  readonly action: 'block' | 'alert' | 'off';
  readonly hooked: readonly CodegenSink[];
  readonly unavailable: readonly { readonly sink: CodegenSink; readonly reason: string }[];
}

/** The control as the guard drives it. */
export interface CodegenControl {
  readonly action: 'block' | 'alert' | 'off';
  /** Installs the hooks (once per process); call at the end of INIT, before the integrity baseline. */
  install(): CodegenInstallReport;
  /** Marks an invocation's start (`active: true`, with its event) or end (`active: false`). */
  setInvocation(ctx: InvocationContext): void;
}

/** The error a refused code generation throws: an EvalError, as V8's own refusal is. */
export class CodegenBlockedError extends EvalErrorIntrinsic {
  readonly code = CODEGEN_BLOCKED;
  readonly sink: CodegenSink;
  readonly reason: string;
  constructor(sink: CodegenSink, reason: string) {
    super(
      `Ephemera refused code generation from a string after INIT (${sink}): ${reason}; only pure data ` +
        `literals may be evaluated once the function is serving (${CODEGEN_BLOCKED})`,
    );
    this.name = CODEGEN_BLOCKED; // like GuardError: Lambda reports the name as the errorType
    this.sink = sink;
    this.reason = reason;
  }
}

/**
 * Creates the control. The hooks are process-wide and installed once; the control whose `install()`
 * ran last is the one they consult.
 *
 * @example const codegen = createCodegenControl({ action: policy.codegen.action, onDecision: emit }); codegen.install();
 */
export function createCodegenControl(options: CodegenOptions): CodegenControl {
  const action = options.action;
  if (action !== 'block' && action !== 'alert' && action !== 'off') {
    throw new TypeError(`codegen action is ${String(action)}; accepted: "block", "alert", "off"`);
  }
  const state: ControlState = {
    action: action === 'off' ? 'alert' : action,
    onDecision: options.onDecision,
    reportAllowed: options.reportAllowed === true,
    limits: freeze({
      maxLength: options.maxLength ?? DEFAULT_MAX_LENGTH,
      maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    }),
    phase: PHASE_INIT,
    inputs: undefined,
    event: undefined,
    reported: create(),
    reports: 0,
    reporting: false,
  };
  return freeze({
    action,
    install(): CodegenInstallReport {
      if (action === 'off') {
        current = undefined;
        return freeze({ action, hooked: freeze([]), unavailable: freeze([]) });
      }
      const installed = installHooks();
      current = state;
      return freeze({ action, hooked: installed.hooked, unavailable: installed.unavailable });
    },
    setInvocation(ctx: InvocationContext): void {
      if (ctx.active) {
        state.phase = PHASE_INVOCATION;
        state.inputs = ctx.inputs;
        state.event = ctx.event;
      } else {
        if (state.phase === PHASE_INIT) return; // an afterInvoke without beforeInvoke: still INIT
        state.phase = PHASE_BETWEEN;
        // The last event stays: code run between invocations was left by that invocation, so its
        // input is what taints it. The next invocation replaces it.
      }
      state.reported = create();
      state.reports = 0;
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------------------------------

const PHASE_INIT = 0;
const PHASE_INVOCATION = 1;
const PHASE_BETWEEN = 2;

interface ControlState {
  readonly action: 'block' | 'alert';
  readonly onDecision: ((decision: CodegenDecision) => void) | undefined;
  readonly reportAllowed: boolean;
  readonly limits: { readonly maxLength: number; readonly maxDepth: number };
  phase: number;
  inputs: readonly string[] | undefined;
  event: unknown;
  reported: Record<string, true>;
  reports: number;
  reporting: boolean;
}

/** The state the hooks consult; module-private, so no later code can reach or swap it. */
let current: ControlState | undefined;

/** At most this many decisions are reported per invocation; blocking never stops at a cap. */
const MAX_REPORTS_PER_INVOCATION = 32;

/**
 * Function bodies that generate no behaviour worth refusing, compared after trimming: the
 * global-object lookup that lodash, core-js and protobufjs do lazily (`Function('return this')()`).
 */
const BENIGN_FUNCTION_BODIES: readonly string[] = freeze(['return this', 'return this;']);

function create(): Record<string, true> {
  return objectCreate(null) as Record<string, true>;
}

function isBenignBody(trimmed: string): boolean {
  for (let i = 0; i < BENIGN_FUNCTION_BODIES.length; i++)
    if (BENIGN_FUNCTION_BODIES[i] === trimmed) return true;
  return false;
}

/** A source string: data (let through), or code (refused in block mode, reported in alert mode). */
function checkSource(sink: CodegenSink, source: string): void {
  const state = current;
  if (state === undefined || state.phase === PHASE_INIT) return;
  if (isData(source, state.limits) || isBlank(source)) {
    if (state.reportAllowed) decide(state, sink, 'pure data literal', source, [source], true);
    return;
  }
  decide(state, sink, describe(source, state.limits).reason, source, [source], false);
}

/**
 * The arguments of a Function constructor (`p1, …, pn, body`), already converted to strings. Data
 * means no parameters and a body that is blank, a data literal or a benign idiom.
 */
function checkFunctionParts(sink: CodegenSink, params: readonly string[], body: string): void {
  const state = current;
  if (state === undefined || state.phase === PHASE_INIT) return;
  let paramsBlank = true;
  for (let i = 0; i < params.length; i++) if (!isBlank(params[i] as string)) paramsBlank = false;
  const code = `function anonymous(${arrayJoin(params as string[], ',')}\n) {\n${body}\n}`;
  const pieces: string[] = [];
  for (let i = 0; i < params.length; i++) arrayPush(pieces, params[i]);
  arrayPush(pieces, body);
  const trimmed = stringTrim(body);
  if (paramsBlank && (trimmed === '' || isBenignBody(trimmed) || isData(body, state.limits))) {
    if (state.reportAllowed) decide(state, sink, 'pure data literal', code, pieces, true);
    return;
  }
  const reason = paramsBlank
    ? `function body: ${describe(body, state.limits).reason}`
    : `function with parameters; body: ${describe(body, state.limits).reason}`;
  decide(state, sink, reason, code, pieces, false);
}

/** A `data:` URL module (import or Worker): a JSON module is data; JavaScript must be a data literal. */
function checkDataUrl(sink: CodegenSink, url: string): void {
  const state = current;
  if (state === undefined || state.phase === PHASE_INIT) return;
  const { mime, text } = decodeDataUrl(url);
  if (mime === 'application/json' || isData(text, state.limits)) {
    if (state.reportAllowed) decide(state, sink, 'pure data literal', text, [text], true);
    return;
  }
  decide(
    state,
    sink,
    `data: URL module (${mime}): ${describe(text, state.limits).reason}`,
    text,
    [text],
    false,
  );
}

/** Reports (once per invocation and fingerprint), then throws in block mode. */
function decide(
  state: ControlState,
  sink: CodegenSink,
  initialReason: string,
  code: string,
  pieces: readonly string[],
  data: boolean,
): void {
  let reason = initialReason;
  let action: 'block' | 'alert' | 'allow' = data ? 'allow' : state.action;
  // Sink-aware: block mode refuses generated code that carries the event's input. Code a library
  // generates from its own strings (zod and ajv compile validators on first use, often inside an
  // invocation) is reported, not refused: refusing it would fail legitimate requests, and it is not
  // the injection. An implant planted by other means is the integrity control's to evict.
  if (action === 'block' && !containsEventInput(state, code, pieces)) {
    action = 'alert';
    reason = `${reason} (no event input in the generated code: reported, not refused)`;
  }
  report(state, sink, action, reason, code, pieces);
  if (action === 'block') throw new CodegenBlockedError(sink, reason);
}

function report(
  state: ControlState,
  sink: CodegenSink,
  action: 'block' | 'alert' | 'allow',
  reason: string,
  code: string,
  pieces: readonly string[],
): void {
  const onDecision = state.onDecision;
  // Re-entrant: the reporter itself generated code. The decision stands; it is not reported twice.
  if (onDecision === undefined || state.reporting || state.reports >= MAX_REPORTS_PER_INVOCATION) return;
  state.reporting = true;
  try {
    const fingerprint = fingerprintOf(code);
    const key = `${sink} ${action} ${fingerprint}`;
    if (state.reported[key] === true) return;
    state.reported[key] = true;
    state.reports++;
    onDecision(
      freeze({
        sink,
        action,
        reason,
        containsEventInput: containsEventInput(state, code, pieces),
        fingerprint,
        phase: state.phase === PHASE_INVOCATION ? 'invocation' : 'between-invocations',
        length: code.length,
      }),
    );
  } catch {
    // Reporting must never break the function (nor turn an alert into a failure).
  } finally {
    state.reporting = false;
  }
}

function isBlank(source: string): boolean {
  return stringTrim(source) === '';
}

// ---------------------------------------------------------------------------------------------------
// Event input
// ---------------------------------------------------------------------------------------------------

/** Input strings shorter than this are not matched: `GET` or `443` appear in innocent code. */
const MIN_INPUT_LENGTH = 8;
const MAX_INPUT_STRINGS = 256;
const MAX_INPUT_NODES = 4096;
const MAX_INPUT_DEPTH = 12;
/** JSON-looking strings up to this length are parsed, so their string leaves count as input too. */
const MAX_PARSED_INPUT = 1024 * 1024;

/**
 * The strings of an event worth matching against generated code: every string leaf of at least 8
 * characters, and the leaves of string fields that are JSON (a body) or base64 (`isBase64Encoded`).
 * Bounded: at most 256 strings, 4096 nodes, depth 12. Never throws.
 *
 * @example eventInputStrings({ body: '{"rce":"_$$ND_FUNC$$_function(){…}()"}' }) // [body, '_$$ND_FUNC$$_function(){…}()']
 */
export function eventInputStrings(event: unknown): string[] {
  const out: string[] = [];
  const stack: { value: unknown; depth: number }[] = [{ value: event, depth: 0 }];
  let nodes = 0;
  try {
    while (stack.length > 0 && out.length < MAX_INPUT_STRINGS && nodes < MAX_INPUT_NODES) {
      const item = stack.pop();
      if (item === undefined) break;
      nodes++;
      const { value, depth } = item;
      if (typeof value === 'string') {
        if (value.length >= MIN_INPUT_LENGTH) arrayPush(out, value);
        const parsed = parseJsonInput(value);
        if (parsed !== undefined && depth < MAX_INPUT_DEPTH)
          arrayPush(stack, { value: parsed, depth: depth + 1 });
        continue;
      }
      if (typeof value !== 'object' || value === null || depth >= MAX_INPUT_DEPTH) continue;
      if (isArray(value)) {
        for (let i = 0; i < value.length && i < MAX_INPUT_NODES; i++) {
          arrayPush(stack, { value: (value as unknown[])[i], depth: depth + 1 });
        }
        continue;
      }
      const record = value as Record<string, unknown>;
      const base64 = record.isBase64Encoded === true && typeof record.body === 'string';
      const names = objectKeys(record);
      for (let i = 0; i < names.length && i < MAX_INPUT_NODES; i++) {
        const key = names[i] as string;
        let field = record[key];
        if (base64 && key === 'body') field = decodeBase64(field as string);
        arrayPush(stack, { value: field, depth: depth + 1 });
      }
    }
  } catch {
    // An exotic event (a throwing getter): match what was collected.
  }
  return out;
}

function parseJsonInput(value: string): unknown {
  if (value.length < 2 || value.length > MAX_PARSED_INPUT) return undefined;
  const first = charCodeAt(stringTrim(stringSlice(value, 0, 64)), 0);
  if (first !== 0x7b && first !== 0x5b) return undefined; // { or [
  try {
    return jsonParse(value) as unknown;
  } catch {
    return undefined;
  }
}

function decodeBase64(value: string): string {
  if (value.length > MAX_PARSED_INPUT) return value;
  return bufferToString(apply(bufferFrom, BufferIntrinsic, [value, 'base64']) as Buffer, 'utf8');
}

function containsEventInput(state: ControlState, code: string, pieces: readonly string[]): boolean {
  let inputs = state.inputs;
  if (inputs === undefined) {
    inputs = state.event === undefined ? [] : eventInputStrings(state.event);
    state.inputs = inputs;
  }
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as string;
    if (input.length >= MIN_INPUT_LENGTH && stringIncludes(code, input)) return true;
  }
  // Code cut out of an input (node-serialize evaluates a substring of a JSON field).
  for (let p = 0; p < pieces.length; p++) {
    const core = stripIdiom(pieces[p] as string);
    if (core.length < MIN_INPUT_LENGTH) continue;
    for (let i = 0; i < inputs.length; i++) if (stringIncludes(inputs[i] as string, core)) return true;
  }
  return false;
}

/** Trimmed, without one pair of wrapping parentheses (the `'(' + body + ')'` idiom). */
function stripIdiom(source: string): string {
  const trimmed = stringTrim(source);
  if (
    trimmed.length >= 2 &&
    charCodeAt(trimmed, 0) === 0x28 &&
    charCodeAt(trimmed, trimmed.length - 1) === 0x29
  ) {
    return stringTrim(stringSlice(trimmed, 1, -1));
  }
  return trimmed;
}

// ---------------------------------------------------------------------------------------------------
// Fingerprint: the code's token shape, hashed. Strings, templates and numbers are blanked (they may be
// secrets, and an attacker varies them between attempts); identifiers and punctuation are kept.
// ---------------------------------------------------------------------------------------------------

/** Only the first 256 KiB of a source shape its fingerprint (its length is reported separately). */
const MAX_FINGERPRINT_SOURCE = 256 * 1024;

/** @example fingerprintOf("require('fs')") === fingerprintOf('require ( "child_process" )') */
export function fingerprintOf(code: string): string {
  const source = stripIdiom(
    code.length > MAX_FINGERPRINT_SOURCE ? stringSlice(code, 0, MAX_FINGERPRINT_SOURCE) : code,
  );
  const hash = createHashIntrinsic('sha256');
  hashUpdate(hash, codeShape(source));
  return stringSlice(hashDigest(hash, 'hex'), 0, 16);
}

/**
 * A lenient one-pass tokenizer over any source: tokens separated by one space; strings become `S`,
 * templates `T`, numbers `0`; comments and whitespace vanish. Regular expressions are not recognised
 * (their characters become punctuation tokens): the shape only has to be deterministic.
 */
export function codeShape(source: string): string {
  const tokens: string[] = [];
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = charCodeAt(source, i);
    if (c <= 0x20 || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029) {
      i++;
    } else if (c === 0x2f && i + 1 < n && charCodeAt(source, i + 1) === 0x2f) {
      while (i < n && charCodeAt(source, i) !== 0x0a && charCodeAt(source, i) !== 0x0d) i++;
    } else if (c === 0x2f && i + 1 < n && charCodeAt(source, i + 1) === 0x2a) {
      const close = stringIndexOf(stringSlice(source, i + 2), '*/');
      i = close < 0 ? n : i + 2 + close + 2;
    } else if (c === 0x22 || c === 0x27 || c === 0x60) {
      i++;
      while (i < n && charCodeAt(source, i) !== c) i += charCodeAt(source, i) === 0x5c ? 2 : 1;
      i++;
      arrayPush(tokens, c === 0x60 ? 'T' : 'S');
    } else if ((c >= 0x30 && c <= 0x39) || (c === 0x2e && i + 1 < n && isDigit(charCodeAt(source, i + 1)))) {
      // A number: digits, letters, `.`, and a sign right after an exponent's `e` (2.5e+3, 0x1F, 10n).
      i++;
      while (i < n) {
        const d = charCodeAt(source, i);
        const signedExponent = (d === 0x2b || d === 0x2d) && (charCodeAt(source, i - 1) | 0x20) === 0x65;
        if (!isWordChar(d) && d !== 0x2e && !signedExponent) break;
        i++;
      }
      arrayPush(tokens, '0');
    } else if (isWordChar(c) || c === 0x5c) {
      const start = i;
      while (i < n && (isWordChar(charCodeAt(source, i)) || charCodeAt(source, i) === 0x5c)) i++;
      arrayPush(tokens, stringSlice(source, start, mathMin(i, start + 64)));
    } else {
      arrayPush(tokens, stringSlice(source, i, i + 1));
      i++;
    }
  }
  return arrayJoin(tokens, ' ');
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isWordChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x24 ||
    c === 0x5f ||
    (c >= 0x80 && c !== 0xa0 && c !== 0xfeff && c !== 0x2028 && c !== 0x2029)
  );
}

function decodeDataUrl(url: string): { mime: string; text: string } {
  const comma = stringIndexOf(url, ',');
  const meta = comma < 0 ? '' : stringToLowerCase(stringSlice(url, 5, comma));
  const semicolon = stringIndexOf(meta, ';');
  const rawMime = stringTrim(semicolon < 0 ? meta : stringSlice(meta, 0, semicolon));
  const base64 = meta.length >= 7 && stringSlice(meta, -7) === ';base64';
  let text = comma < 0 ? '' : stringSlice(url, comma + 1);
  try {
    text = decodeUri(text);
  } catch {
    // Not percent-encoded as URI text: judged as written.
  }
  if (base64) text = decodeBase64(text);
  return { mime: sanitiseMime(rawMime === '' ? 'text/plain' : rawMime), text };
}

/** A MIME type safe to put in a reason: the attacker wrote it. */
function sanitiseMime(mime: string): string {
  let out = '';
  for (let i = 0; i < mime.length && i < 40; i++) {
    const c = charCodeAt(mime, i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2f ||
      c === 0x2b ||
      c === 0x2e ||
      c === 0x2d;
    out += ok ? stringSlice(mime, i, i + 1) : '?';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Installing the hooks
// ---------------------------------------------------------------------------------------------------

interface Installed {
  readonly hooked: readonly CodegenSink[];
  readonly unavailable: readonly { readonly sink: CodegenSink; readonly reason: string }[];
}

let installed: Installed | undefined;

// biome-ignore lint/suspicious/noExplicitAny: the wrapped built-ins take any arguments
type AnyFunction = (...args: any[]) => unknown;

/** Installs every hook once per process; returns what was hooked and what could not be. */
function installHooks(): Installed {
  if (installed !== undefined) return installed;
  const hooked: CodegenSink[] = [];
  const unavailable: { sink: CodegenSink; reason: string }[] = [];
  const attempt = (sink: CodegenSink, install: () => string | undefined) => {
    try {
      const why = install();
      if (why === undefined) arrayPush(hooked, sink);
      else arrayPush(unavailable, { sink, reason: why });
    } catch (error) {
      arrayPush(unavailable, { sink, reason: error instanceof Error ? error.message : String(error) });
    }
  };

  attempt('eval', installEval);
  let functionWrapper: AnyFunction | undefined;
  for (const { sink, prototype } of FUNCTION_PROTOTYPES) {
    attempt(sink, () => {
      const wrapper = installFunctionConstructor(sink, prototype, functionWrapper);
      if (sink === 'Function') functionWrapper = wrapper;
      return undefined;
    });
  }
  const vmExports = vm as unknown as Record<string, unknown>;
  attempt('vm.Script', () =>
    replaceExport(vmExports, 'Script', (f) => wrapScriptConstructor(f, 'vm.Script')),
  );
  attempt('vm.createScript', () =>
    replaceExport(vmExports, 'createScript', (f) =>
      wrapFunction(f, (args) => codeArgument('vm.createScript', args)),
    ),
  );
  for (const name of ['runInThisContext', 'runInNewContext', 'runInContext'] as const) {
    const sink: CodegenSink = `vm.${name}`;
    attempt(sink, () =>
      replaceExport(vmExports, name, (f) => wrapFunction(f, (args) => codeArgument(sink, args))),
    );
  }
  attempt('vm.compileFunction', () =>
    replaceExport(vmExports, 'compileFunction', (f) => wrapFunction(f, compileFunctionArguments)),
  );
  if (typeof vmExports.SourceTextModule === 'function') {
    attempt('vm.SourceTextModule', () =>
      replaceExport(vmExports, 'SourceTextModule', (f) => wrapScriptConstructor(f, 'vm.SourceTextModule')),
    );
  }
  attempt('Worker', () =>
    replaceExport(workerThreads as unknown as Record<string, unknown>, 'Worker', wrapWorker),
  );
  attempt('Module._compile', installModuleCompile);
  attempt('import', installImportHook);
  try {
    syncBuiltinESMExports(); // ESM `import { runInThisContext } from 'node:vm'` now sees the hook
  } catch {
    // Nothing imported node:vm as ESM yet.
  }
  installed = freeze({ hooked: freeze(hooked), unavailable: freeze(unavailable) });
  return installed;
}

/** Copies `name` and `length` so wrappers look like what they replace. */
function mimic(wrapper: AnyFunction, original: AnyFunction): void {
  defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  defineProperty(wrapper, 'length', { value: original.length, configurable: true });
}

/** Redefines a data property keeping its attributes. */
function redefine(target: object, key: string, value: unknown): void {
  const descriptor = getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !('value' in descriptor)) {
    throw new Error(`${key} is not a data property`);
  }
  if (!descriptor.configurable && !descriptor.writable) throw new Error(`${key} cannot be redefined`);
  defineProperty(target, key, { ...descriptor, value });
}

function installEval(): undefined {
  const originalEval = getOwnPropertyDescriptor(globalThis, 'eval')?.value as (source: unknown) => unknown;
  if (typeof originalEval !== 'function') throw new Error('globalThis.eval is not a function');
  // A method keeps the intrinsic's shape: named `eval`, length 1, no `prototype`, not a constructor.
  // It calls the original indirectly (see "Direct eval" at the top of this file).
  const wrapper = {
    eval(source: unknown): unknown {
      if (typeof source === 'string') checkSource('eval', source);
      return apply(originalEval, undefined, [source]);
    },
  }.eval;
  redefine(globalThis, 'eval', wrapper);
  return undefined;
}

/**
 * Replaces `prototype.constructor` (and the global, for `Function`) with a wrapper that converts the
 * arguments to strings once — as the original does; a second conversion could read a different
 * `toString()` — checks them, and forwards call and `new` forms. `new.target` is passed through, so
 * subclasses (`class X extends Function`) still construct instances of themselves.
 */
function installFunctionConstructor(
  sink: CodegenSink,
  prototype: object,
  functionWrapper: AnyFunction | undefined,
): AnyFunction {
  const original = (prototype as { constructor: AnyFunction }).constructor;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const strings: string[] = [];
    for (let i = 0; i < args.length; i++) arrayPush(strings, `${args[i] as string}`);
    const params: string[] = [];
    for (let i = 0; i < strings.length - 1; i++) arrayPush(params, strings[i]);
    checkFunctionParts(sink, params, strings.length === 0 ? '' : (strings[strings.length - 1] as string));
    return new.target === undefined
      ? apply(original, undefined, strings)
      : construct(original, strings, new.target);
  };
  mimic(wrapper, original);
  defineProperty(wrapper, 'prototype', {
    value: prototype,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  // AsyncFunction and its kin inherit from Function; so do their wrappers, from Function's wrapper.
  if (functionWrapper !== undefined) setPrototypeOf(wrapper, functionWrapper);
  redefine(prototype, 'constructor', wrapper);
  if (sink === 'Function') redefine(globalThis, 'Function', wrapper);
  return wrapper;
}

/** Replaces `exports[name]` by `wrap(original)`; reports why not when it is missing. */
function replaceExport(
  exports: Record<string, unknown>,
  name: string,
  wrap: (original: AnyFunction) => AnyFunction,
): string | undefined {
  const original = exports[name];
  if (typeof original !== 'function') return `${name} is not a function here`;
  redefine(exports, name, wrap(original as AnyFunction));
  return undefined;
}

/** A plain function wrapper: `inspect` throws to refuse; the original sees the same arguments. */
function wrapFunction(original: AnyFunction, inspect: (args: unknown[]) => void): AnyFunction {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    inspect(args);
    return apply(original, this, args);
  };
  mimic(wrapper, original);
  return wrapper;
}

/** A class wrapper (vm.Script, Worker): same prototype (so `instanceof` holds), same statics. */
function wrapClass(original: AnyFunction, inspect: (args: unknown[]) => void): AnyFunction {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    // Without `new` the original throws its own TypeError; nothing is compiled.
    if (new.target === undefined) return apply(original, this, args);
    inspect(args);
    return construct(original, args, new.target);
  };
  mimic(wrapper, original);
  const prototype = (original as { prototype: object }).prototype;
  defineProperty(wrapper, 'prototype', {
    value: prototype,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  setPrototypeOf(wrapper, original);
  redefine(prototype, 'constructor', wrapper);
  return wrapper;
}

function wrapScriptConstructor(original: AnyFunction, sink: CodegenSink): AnyFunction {
  return wrapClass(original, (args) => codeArgument(sink, args));
}

/** vm functions and Script take the code as their first argument; non-strings are the original's to reject. */
function codeArgument(sink: CodegenSink, args: unknown[]): void {
  const code = args[0];
  if (typeof code === 'string') checkSource(sink, code);
}

function compileFunctionArguments(args: unknown[]): void {
  const [code, params] = args;
  if (typeof code !== 'string') return;
  const names: string[] = [];
  if (isArray(params)) {
    for (let i = 0; i < params.length; i++) if (typeof params[i] === 'string') arrayPush(names, params[i]);
  }
  checkFunctionParts('vm.compileFunction', names, code);
}

function wrapWorker(original: AnyFunction): AnyFunction {
  return wrapClass(original, (args) => {
    const [filename, options] = args;
    const evaluates = typeof options === 'object' && options !== null && (options as { eval?: unknown }).eval;
    if (evaluates && typeof filename === 'string') {
      checkSource('Worker', filename);
      return;
    }
    if (filename instanceof URLIntrinsic && filename.protocol === 'data:')
      checkDataUrl('Worker', filename.href);
  });
}

/**
 * `Module.prototype._compile` is how every CommonJS file is compiled — lazily required modules
 * included, whatever extension handler (Node's, tsx's, Node 22+'s TypeScript) read and transformed it.
 * All of those run inside `Module.prototype.load`, so `load` hands a one-shot token to the module it
 * loads; `_compile` on that module consumes it and is allowed. `_compile` without the token — a string
 * compiled as a module (`require-from-string`, `new Module()._compile(code)`) — is judged like eval.
 */
function installModuleCompile(): undefined {
  const originalCompile = moduleProto._compile;
  const originalLoad = moduleProto.load;
  if (typeof originalCompile !== 'function' || typeof originalLoad !== 'function') {
    throw new Error('Module.prototype._compile or load is missing');
  }
  let loading: unknown;
  const compile = {
    _compile(this: unknown, ...args: unknown[]): unknown {
      if (loading !== undefined && loading === this) loading = undefined;
      else if (typeof args[0] === 'string') checkSource('Module._compile', args[0]);
      return apply(originalCompile, this, args);
    },
  }._compile;
  const load = {
    load(this: unknown, ...args: unknown[]): unknown {
      const previous = loading;
      loading = this;
      try {
        return apply(originalLoad, this, args);
      } finally {
        loading = previous;
      }
    },
  }.load;
  mimic(compile, originalCompile as AnyFunction);
  mimic(load, originalLoad as AnyFunction);
  redefine(moduleProto, '_compile', compile);
  redefine(moduleProto, 'load', load);
  return undefined;
}

/**
 * `import()` is syntax: no JavaScript function to wrap. Node's in-thread module hooks
 * (`module.registerHooks`, Node 22.15+/23.5+) see every resolution; a resolved `data:` URL is
 * judged like the code it carries. The check runs on the resolved URL, so `DATA:` and leading
 * whitespace do not slip past a prefix test.
 */
function installImportHook(): string | undefined {
  if (typeof registerHooks !== 'function') {
    return (
      `module.registerHooks is missing on Node ${process.versions.node} (22.15+ has it); ` +
      'off-thread module.register hooks cost ~200 ms at INIT and are not installed'
    );
  }
  apply(registerHooks, Module, [
    {
      resolve(specifier: string, context: unknown, nextResolve: Parameters<ResolveHook>[2]) {
        const result = nextResolve(specifier, context);
        const url = result?.url;
        if (
          typeof url === 'string' &&
          url.length > 5 &&
          stringToLowerCase(stringSlice(url, 0, 5)) === 'data:' &&
          current !== undefined &&
          current.phase !== PHASE_INIT
        ) {
          checkDataUrl('import', url);
        }
        return result;
      },
    },
  ]);
  return undefined;
}
