/**
 * One file's facts: parse it with meriyah, walk the tree once, and record what `ephemera scan` reports —
 * sinks (eval and friends, vm, child processes, dynamic require, unsafe deserializers, deep merge of
 * request data), patches of built-ins at load time, timers started at load time, obfuscation markers,
 * capabilities (network, fs, processes, code generation), literal hosts and executables.
 *
 * What the analysis assumes (and so where it can be wrong):
 * - Names are resolved syntactically, per file: `const https = require('https')`, `import { exec } from
 *   'node:child_process'`, destructuring and re-aliasing are followed; values flowing through functions,
 *   objects or other files are not. An implant that computes its target (`global[atob('SlNPTg==')]`) hides
 *   from this pass; the guard's runtime inventory is the control for that.
 * - "Load time" is module top level plus functions invoked where they are written (IIFEs, UMD factories).
 * - Request data (for the deep-merge and dynamic-require rules) is `event`/`req`/`request` and the
 *   parameters of exported handlers, followed through variable declarations in the same file.
 */
import { isBuiltin } from 'node:module';
import { type ESTree, parse } from 'meriyah';
import {
  CHILD_KEYS,
  isFunction,
  isStaticString,
  isStringLiteral,
  keyName,
  ownKeys,
  propertyName,
  staticString,
  walkExpression,
} from './estree.js';
import type { RuleId, Severity } from './rules.js';
import {
  CONFIG_KNOBS,
  CRITICAL_GLOBALS,
  DEEP_WRITES,
  FS_MODULES,
  GLOBAL_OBJECT_NAMES,
  GLOBALS,
  MODULE_WRAPPER_NAMES,
  NETWORK_MODULES,
  PROCESS_MODULES,
  REQUEST_NAMES,
  SHELL_CALLS,
  SPAWN_CALLS,
  UNSAFE_DESERIALIZERS,
  VM_CALLS,
} from './tables.js';

type Node = ESTree.Node;
type Expression = ESTree.Expression;

/** A sink found in the file. */
export interface Hit {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** An assignment to (or defineProperty of) a built-in at load time. */
export interface PatchHit {
  readonly target: string;
  readonly severity: Severity;
  readonly line: number;
  readonly column: number;
  readonly guarded: boolean;
  /** Found through a name the file binds more than once: the target may be something else. */
  readonly uncertain?: boolean;
}

/** A host name seen in the code; `strong` when it is the destination of a network call or a `host:` field. */
export interface HostHit {
  readonly host: string;
  readonly strong: boolean;
  readonly line: number;
}

export interface FileFacts {
  readonly modules: Set<string>;
  network: boolean;
  fs: boolean;
  process: boolean;
  codegen: number;
  readonly hits: Hit[];
  readonly patches: PatchHit[];
  readonly timers: { line: number; column: number }[];
  /** Outbound connections opened at load time (module body, not inside a function): a beacon. */
  readonly loadTimeRequests: { line: number; column: number; call: string }[];
  readonly hosts: HostHit[];
  readonly executables: { name: string; line: number }[];
  readonly obfuscation: string[];
}

export type SourceKind = 'module' | 'commonjs';

/** Thrown (as a normal Error) when the file is not JavaScript either way. */
export function analyseSource(source: string, kind: SourceKind, own: boolean): FileFacts {
  const program = parseEither(source, kind);
  return new FileAnalysis(source, own).run(program);
}

function parseEither(source: string, kind: SourceKind): ESTree.Program {
  // One parse in the likely mode; the other only when that fails (ESM in a "commonjs" package, e.g.
  // the AWS SDK's dist-es, fails on its first import, so the retry is cheap).
  const options = { next: true, ranges: true, webcompat: true, validateRegex: false } as const;
  try {
    return parse(source, { ...options, sourceType: kind });
  } catch (first) {
    try {
      return parse(source, { ...options, sourceType: kind === 'module' ? 'commonjs' : 'module' });
    } catch {
      throw first;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// References: what a name or member expression denotes, syntactically
// ---------------------------------------------------------------------------------------------------

/** `https.request` → {kind:'module', root:'https', props:['request']}; `JSON.parse` → global. */
interface Ref {
  readonly kind: 'module' | 'global';
  readonly root: string;
  readonly props: readonly string[];
  /** The identifier the expression starts from (its meaning is dropped if the file binds it twice). */
  readonly via?: string;
}

function refText(ref: Ref): string {
  return [ref.root, ...ref.props].join('.');
}

function normaliseSpecifier(spec: string): string {
  return spec.startsWith('node:') ? spec.slice(5) : spec;
}

function builtinRoot(spec: string): string | null {
  if (!isBuiltin(spec)) return null;
  return normaliseSpecifier(spec).split('/')[0] ?? null;
}

interface Context {
  readonly loadTime: boolean;
  /** Member paths tested by enclosing `if`/`&&`/`||`: an assignment to one of them is a guarded polyfill. */
  readonly guards: readonly string[];
}

interface Split {
  readonly key: string;
  readonly match: Context;
  readonly other: Context;
}

const TOP: Context = { loadTime: true, guards: [] };
const INNER: Context = { loadTime: false, guards: [] };

class FileAnalysis {
  private readonly aliases = new Map<string, Ref>();
  private readonly locals = new Set<string>();
  /** Names bound more than once in the file (minified code reuses `t`, `r`, `e` in every scope). */
  private readonly ambiguous = new Set<string>();
  private readonly bound = new Set<string>();
  /** Sinks and patches found through a name, kept until the end: the name may turn out ambiguous. */
  private readonly pendingVia: { via: string; list: 'hits' | 'patches'; item: Hit | PatchHit }[] = [];
  private readonly tainted = new Set<string>(REQUEST_NAMES);
  private readonly loadTimeFunctions = new Set<Node>();
  private readonly obfuscatedNames = new Set<string>();
  private escapedStrings = 0;
  private lineStarts: number[] | null = null;
  private readonly facts: FileFacts = {
    modules: new Set(),
    network: false,
    fs: false,
    process: false,
    codegen: 0,
    hits: [],
    patches: [],
    timers: [],
    loadTimeRequests: [],
    hosts: [],
    executables: [],
    obfuscation: [],
  };

  constructor(
    private readonly source: string,
    private readonly own: boolean,
  ) {}

  run(program: ESTree.Program): FileFacts {
    // Iterative walk in source order: deeply nested generated code must not overflow the stack.
    // Children are found through a table of child keys per node type (a `for…in` over every node's
    // keys cost more than the parse itself); types not in the table fall back to `for…in`.
    const nodes: Node[] = [program];
    const contexts: Context[] = [TOP];
    while (nodes.length > 0) {
      const node = nodes.pop() as Node;
      const context = contexts.pop() as Context;
      const split = this.visit(node, context);
      const record = node as unknown as Record<string, unknown>;
      const keys = CHILD_KEYS[node.type] ?? ownKeys(record);
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k] as string;
        const value = record[key];
        if (value === null || value === undefined || typeof value !== 'object') continue;
        const keyContext = split === null ? context : key === split.key ? split.match : split.other;
        if (Array.isArray(value)) {
          for (let i = value.length - 1; i >= 0; i--) {
            const item = value[i] as Node | null;
            if (item !== null && typeof item === 'object' && typeof item.type === 'string') {
              nodes.push(item);
              contexts.push(this.childContext(item, keyContext));
            }
          }
        } else if (typeof (value as { type?: unknown }).type === 'string') {
          nodes.push(value as Node);
          contexts.push(this.childContext(value as Node, keyContext));
        }
      }
    }
    this.finishObfuscation();
    for (const { via, list, item } of this.pendingVia) {
      if (!this.ambiguous.has(via)) {
        if (list === 'hits') this.facts.hits.push(item as Hit);
        else this.facts.patches.push(item as PatchHit);
      } else if (list === 'patches' && item.severity === 'high') {
        // Binding the name twice (`function noise(https) {}`) must not be a way to hide a patch of a
        // critical target; minified reuse of `t`/`e`/`r` never resolves to one, so this stays quiet.
        this.facts.patches.push({ ...(item as PatchHit), severity: 'medium', uncertain: true });
      }
    }
    return this.facts;
  }

  private childContext(child: Node, context: Context): Context {
    if (!isFunction(child) || this.loadTimeFunctions.has(child)) return context;
    return INNER;
  }

  /**
   * Records what the node says. Returns null when its children share its context, or the context of
   * the child under `key` and of the others (guards of `if`/`&&`/`||` apply to one side only).
   */
  private visit(node: Node, context: Context): Split | null {
    const same = null;
    switch (node.type) {
      case 'ImportDeclaration':
        this.importDeclaration(node);
        return same;
      case 'VariableDeclarator':
        this.bindPattern(node.id);
        this.declarator(node, context);
        return same;
      case 'CatchClause':
        if (node.param) this.bindPattern(node.param);
        return same;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.type === 'FunctionDeclaration' && node.id) this.bind(node.id.name);
        for (const param of node.params) this.bindPattern(param as Node);
        if (context.loadTime) {
          if (node.type === 'FunctionDeclaration' && node.id) this.locals.add(node.id.name);
          for (const param of node.params)
            if (param.type === 'Identifier' && !MODULE_WRAPPER_NAMES.has(param.name))
              this.locals.add(param.name);
        }
        return same;
      case 'ClassDeclaration':
        if (node.id) this.bind(node.id.name);
        if (node.id && context.loadTime) this.locals.add(node.id.name);
        return same;
      case 'CallExpression':
        this.markLoadTimeFunctions(node);
        if (context.loadTime) this.checkDefineProperty(node, context);
        this.call(node.callee, node.arguments, node, context, false);
        return same;
      case 'NewExpression':
        this.call(node.callee, node.arguments, node, context, true);
        return same;
      case 'ImportExpression':
        if (node.source.type === 'Literal' && typeof node.source.value === 'string') {
          this.facts.modules.add(normaliseSpecifier(node.source.value));
        } else if (!isStaticString(node.source)) {
          this.dynamicLoad(node, node.source, 'import()');
        }
        return same;
      case 'AssignmentExpression':
        if (context.loadTime) this.assignment(node, context);
        if (this.own && node.left.type === 'Identifier' && this.isTainted(node.right))
          this.tainted.add(node.left.name);
        return same;
      case 'ExpressionStatement':
        this.exportedHandler(node.expression);
        return same;
      case 'ExportNamedDeclaration':
        this.exportedHandlerDeclaration(node.declaration);
        return same;
      case 'IfStatement':
      case 'ConditionalExpression': {
        if (!context.loadTime) return same;
        const guards = memberPaths(node.test, this);
        if (guards.length === 0) return same;
        const guarded: Context = { loadTime: true, guards: [...context.guards, ...guards] };
        return { key: 'test', match: context, other: guarded };
      }
      case 'LogicalExpression': {
        if (!context.loadTime) return same;
        const guards = memberPaths(node.left, this);
        if (guards.length === 0) return same;
        const guarded: Context = { loadTime: true, guards: [...context.guards, ...guards] };
        return { key: 'right', match: guarded, other: context };
      }
      case 'Identifier':
        if (node.name.charCodeAt(0) === 95 && /^_0x[0-9a-f]{3,}$/i.test(node.name))
          this.obfuscatedNames.add(node.name);
        return same;
      case 'Literal':
        if (typeof node.value === 'string') this.stringLiteral(node as ESTree.StringLiteral);
        return same;
      case 'TemplateLiteral': {
        const head = node.quasis[0]?.value.cooked;
        if (head && node.expressions.length > 0) this.urlHost(head, node, false, true);
        return same;
      }
      case 'Property':
        this.hostProperty(node);
        return same;
      default:
        return same;
    }
  }

  // --- names ----------------------------------------------------------------------------------------

  /** What an expression denotes, if it is a module, a member of one, or a built-in global. */
  ref(node: Node | null | undefined): Ref | null {
    if (!node) return null;
    switch (node.type) {
      case 'Identifier': {
        // Ambiguity (a name bound twice) is judged at the end of the file, through `via`.
        const alias = this.aliases.get(node.name);
        if (alias) return { ...alias, via: node.name };
        if (this.locals.has(node.name)) return null;
        return GLOBALS.has(node.name) || GLOBAL_OBJECT_NAMES.has(node.name)
          ? { kind: 'global', root: node.name, props: [], via: node.name }
          : null;
      }
      case 'MemberExpression': {
        const name = propertyName(node);
        if (name === null) return null;
        const base = this.ref(node.object);
        if (base === null) return null;
        if (base.kind === 'global' && GLOBAL_OBJECT_NAMES.has(base.root) && base.props.length === 0) {
          if (GLOBAL_OBJECT_NAMES.has(name)) return base;
          return GLOBALS.has(name)
            ? { kind: 'global', root: name, props: [], via: base.via }
            : { kind: 'global', root: base.root, props: [name], via: base.via };
        }
        return { kind: base.kind, root: base.root, props: [...base.props, name], via: base.via };
      }
      case 'CallExpression': {
        const spec = requireSpecifier(node, this);
        return spec === null ? null : { kind: 'module', root: spec, props: [] };
      }
      case 'ChainExpression':
        return this.ref(node.expression);
      case 'AwaitExpression':
        return node.argument.type === 'ImportExpression' && isStringLiteral(node.argument.source)
          ? { kind: 'module', root: normaliseSpecifier(node.argument.source.value), props: [] }
          : null;
      default:
        return null;
    }
  }

  private bind(name: string): void {
    if (this.bound.has(name)) this.ambiguous.add(name);
    else this.bound.add(name);
  }

  private bindPattern(pattern: Node): void {
    switch (pattern.type) {
      case 'Identifier':
        this.bind(pattern.name);
        return;
      case 'AssignmentPattern':
        this.bindPattern(pattern.left as Node);
        return;
      case 'RestElement':
        this.bindPattern(pattern.argument as Node);
        return;
      case 'ArrayPattern':
        for (const element of pattern.elements) if (element) this.bindPattern(element as Node);
        return;
      case 'ObjectPattern':
        for (const property of pattern.properties)
          this.bindPattern(property.type === 'Property' ? (property.value as Node) : (property as Node));
        return;
      default:
        return;
    }
  }

  private importDeclaration(node: ESTree.ImportDeclaration): void {
    const spec = normaliseSpecifier(String(node.source.value));
    this.module(spec, node);
    for (const specifier of node.specifiers) {
      if (specifier.type === 'ImportSpecifier') {
        const imported =
          specifier.imported.type === 'Identifier'
            ? specifier.imported.name
            : String(specifier.imported.value);
        this.aliases.set(specifier.local.name, {
          kind: 'module',
          root: spec,
          props: imported === 'default' ? [] : [imported],
        });
      } else {
        this.aliases.set(specifier.local.name, { kind: 'module', root: spec, props: [] });
      }
    }
  }

  private declarator(node: ESTree.VariableDeclarator, context: Context): void {
    const init = node.init;
    const ref = init ? this.ref(init) : null;
    if (node.id.type === 'Identifier') {
      if (ref) this.aliases.set(node.id.name, ref);
      else if (context.loadTime) this.locals.add(node.id.name);
      if (this.own && init && this.isTainted(init)) this.tainted.add(node.id.name);
      return;
    }
    if (node.id.type === 'ObjectPattern') {
      const taint = this.own && init !== null && this.isTainted(init);
      for (const property of node.id.properties) {
        if (property.type !== 'Property') continue;
        const key = property.computed ? null : keyName(property.key);
        const value = property.value.type === 'AssignmentPattern' ? property.value.left : property.value;
        if (value.type !== 'Identifier') continue;
        if (ref && key !== null) this.aliases.set(value.name, { ...ref, props: [...ref.props, key] });
        else if (context.loadTime) this.locals.add(value.name);
        if (taint) this.tainted.add(value.name);
      }
    }
  }

  private module(spec: string, at: Node): void {
    this.facts.modules.add(spec);
    const builtin = builtinRoot(spec);
    if (builtin !== null) {
      if (NETWORK_MODULES.has(builtin)) this.facts.network = true;
      if (FS_MODULES.has(builtin)) this.facts.fs = true;
      if (PROCESS_MODULES.has(builtin)) this.facts.process = true;
    }
    if (UNSAFE_DESERIALIZERS.has(spec))
      this.hit(
        'unsafe-deserializer',
        'high',
        at,
        `loads ${spec}, which runs functions embedded in the data it deserializes`,
      );
  }

  // --- calls ----------------------------------------------------------------------------------------

  private markLoadTimeFunctions(node: ESTree.CallExpression): void {
    const callee = node.callee;
    if (isFunction(callee as Node)) {
      this.loadTimeFunctions.add(callee as Node);
      // UMD: (function (root, factory) { … factory() … })(this, function () { … })
      for (const argument of node.arguments)
        if (isFunction(argument as Node)) this.loadTimeFunctions.add(argument);
    } else if (
      callee.type === 'MemberExpression' &&
      isFunction(callee.object as Node) &&
      (propertyName(callee) === 'call' || propertyName(callee) === 'apply')
    ) {
      this.loadTimeFunctions.add(callee.object as Node);
    }
  }

  private call(
    callee: Expression | ESTree.Super,
    args: readonly (Expression | ESTree.SpreadElement)[],
    node: Node,
    context: Context,
    isNew: boolean,
  ): void {
    if (callee.type === 'Identifier' && callee.name === 'require' && !this.aliases.has('require')) {
      const first = args[0];
      if (first && isStringLiteral(first)) this.module(normaliseSpecifier(first.value), node);
      else if (first && !isStaticString(first)) this.dynamicLoad(node, first, 'require()');
      return;
    }
    const ref = this.ref(callee as Node);
    if (ref === null) {
      if (this.own && callee.type === 'MemberExpression' && propertyName(callee) === 'unserialize') {
        // `serialize.unserialize(x)` where `serialize` came from node-serialize is caught by the ref below;
        // this catches the same call on an object whose origin the syntactic pass lost.
        const object = this.ref(callee.object);
        if (object && UNSAFE_DESERIALIZERS.has(object.root))
          this.hit('unsafe-deserializer', 'high', node, `${refText(object)}.unserialize() of data`);
      }
      return;
    }
    const text = refText(ref);
    const first = args[0];
    if (ref.kind === 'global' && ref.props.length === 0) {
      switch (ref.root) {
        case 'eval':
          this.codegen('eval', node, args, 'eval');
          return;
        case 'Function':
          this.codegen('function-constructor', node, args, isNew ? 'new Function' : 'Function');
          return;
        case 'setTimeout':
        case 'setInterval':
          if (
            first &&
            (isStringLiteral(first) || first.type === 'TemplateLiteral' || first.type === 'BinaryExpression')
          )
            this.codegenHit('timer-string', node, `${ref.root} with a string: compiled like eval`, args);
          if (ref.root === 'setInterval' && context.loadTime) this.facts.timers.push(this.position(node));
          return;
        case 'fetch':
          this.facts.network = true;
          if (context.loadTime) this.facts.loadTimeRequests.push({ ...this.position(node), call: 'fetch' });
          if (first) this.destination(first, true);
          return;
        case 'WebSocket':
          this.facts.network = true;
          return;
      }
      return;
    }
    if (ref.kind !== 'module') return;
    const builtin = builtinRoot(ref.root);
    const member = ref.props[ref.props.length - 1] ?? '';
    if (builtin === 'vm' && VM_CALLS.has(member)) {
      this.codegen('vm', node, args, text);
      return;
    }
    if (builtin === 'child_process' && ref.props.length === 1) {
      this.facts.process = true;
      if (SHELL_CALLS.has(member)) this.shellCall(node, text, first);
      else if (SPAWN_CALLS.has(member)) this.spawnCall(node, text, member, args);
      return;
    }
    if (builtin !== null && NETWORK_MODULES.has(builtin) && ref.props.length === 1) {
      if (/^(?:request|get|connect|createConnection)$/.test(member)) {
        if (context.loadTime) this.facts.loadTimeRequests.push({ ...this.position(node), call: text });
        if (builtin === 'net' || builtin === 'tls') {
          const host = args.find((a) => isStringLiteral(a));
          if (host) this.destination(host, true);
        }
        if (first) this.destination(first, true);
      }
      return;
    }
    if (ref.root === 'undici' && (member === 'request' || member === 'fetch' || member === 'stream')) {
      if (first) this.destination(first, true);
      return;
    }
    if (UNSAFE_DESERIALIZERS.has(ref.root) && /^(?:unserialize|deserialize|parse)$/i.test(member)) {
      this.hit('unsafe-deserializer', 'high', node, `${text}() of ${this.describeInput(first)}`);
      return;
    }
    if (this.own) this.deepWrite(ref, node, args);
  }

  private codegen(
    rule: 'eval' | 'function-constructor' | 'vm',
    node: Node,
    args: readonly (Expression | ESTree.SpreadElement)[],
    name: string,
  ): void {
    this.facts.codegen++;
    const code = rule === 'function-constructor' ? args : args.slice(0, 1);
    const computed = code.some((a) => !isStaticString(a));
    if (code.some((a) => this.decodes(a))) {
      this.hit('decoded-eval', 'high', node, `${name} of decoded data (base64/hex/char codes)`);
      return;
    }
    if (rule === 'function-constructor' && code.length === 0) return; // `new Function()`: an empty function
    const severity: Severity = computed ? RULE_SEVERITY[rule] : 'low';
    const what = computed
      ? `${name} of ${this.describeInput(code.find((a) => !isStaticString(a)))}`
      : `${name} of a constant string`;
    this.hit(rule, severity, node, what);
  }

  private codegenHit(
    rule: 'timer-string',
    node: Node,
    message: string,
    args: readonly (Expression | ESTree.SpreadElement)[],
  ): void {
    this.facts.codegen++;
    if (args[0] && this.decodes(args[0]))
      this.hit('decoded-eval', 'high', node, `${message}, of decoded data`);
    else this.hit(rule, 'medium', node, message);
  }

  private shellCall(node: Node, name: string, command: Expression | ESTree.SpreadElement | undefined): void {
    if (command === undefined) return;
    const literal = staticString(command);
    if (literal !== null) {
      const executable = literal.trim().split(/\s+/)[0];
      if (executable) this.facts.executables.push({ name: executable, line: this.position(node).line });
      return;
    }
    const head = command.type === 'TemplateLiteral' ? command.quasis[0]?.value.cooked : null;
    const executable = head?.trim().split(/\s+/)[0];
    if (executable && /\s/.test(head ?? ''))
      this.facts.executables.push({ name: executable, line: this.position(node).line });
    this.hit(
      'child-process-shell',
      'high',
      node,
      `${name} of a shell command built from ${this.describeInput(command)}`,
    );
  }

  private spawnCall(
    node: Node,
    name: string,
    member: string,
    args: readonly (Expression | ESTree.SpreadElement)[],
  ): void {
    const [command, second, third] = args;
    if (command === undefined) return;
    const literal = staticString(command);
    if (literal !== null && member !== 'fork')
      this.facts.executables.push({ name: literal, line: this.position(node).line });
    const options = [second, third].find((a) => a?.type === 'ObjectExpression') as
      | ESTree.ObjectExpression
      | undefined;
    const shell = options?.properties.some(
      (p) =>
        p.type === 'Property' &&
        keyName(p.key) === 'shell' &&
        !(p.value.type === 'Literal' && p.value.value === false),
    );
    const computedArgs =
      second?.type === 'ArrayExpression' && second.elements.some((e) => e !== null && !isStaticString(e));
    if (shell && (literal === null || computedArgs)) {
      this.hit('child-process-shell', 'high', node, `${name} with shell: true and computed arguments`);
    } else if (literal === null) {
      this.hit(
        'child-process',
        'medium',
        node,
        `${name} of a computed executable (${this.describeInput(command)})`,
      );
    }
  }

  private dynamicLoad(node: Node, specifier: Expression | ESTree.SpreadElement, name: string): void {
    const tainted = this.own && this.isTainted(specifier);
    this.hit(
      'dynamic-require',
      tainted ? 'high' : 'medium',
      node,
      `${name} of ${this.describeInput(specifier)}`,
    );
  }

  private deepWrite(ref: Ref, node: Node, args: readonly (Expression | ESTree.SpreadElement)[]): void {
    let fn: string | undefined;
    if (ref.root === 'lodash' || ref.root === 'lodash-es' || ref.root === 'underscore') fn = ref.props[0];
    else {
      const match = /^lodash[./]([a-z]+)(?:\.js)?$/i.exec(ref.root);
      if (match && ref.props.length === 0) fn = match[1];
    }
    if (!fn || !DEEP_WRITES.has(fn.toLowerCase())) return;
    const input = args.find((a) => this.isTainted(a));
    if (input === undefined) return;
    this.hit(
      'prototype-pollution-sink',
      'high',
      node,
      `${refText(ref)}() with ${this.describeInput(input)}: request-controlled keys can reach __proto__`,
    );
  }

  // --- load-time patches ----------------------------------------------------------------------------

  private assignment(node: ESTree.AssignmentExpression, context: Context): void {
    if (node.left.type !== 'MemberExpression') return;
    const ref = this.ref(node.left);
    if (ref === null) return;
    const text = refText(ref);
    const selfDefault =
      node.right.type === 'LogicalExpression' &&
      node.right.operator !== '&&' &&
      refTextOf(this.ref(node.right.left)) === text;
    this.patch(ref, node, context.guards.includes(text) || selfDefault);
  }

  /** `Object.defineProperty(target, 'name', …)` and `Reflect.defineProperty` at load time. */
  private defineProperty(
    args: readonly (Expression | ESTree.SpreadElement)[],
    node: Node,
    context: Context,
  ): void {
    const [target, name] = args;
    const base = target ? this.ref(target) : null;
    if (base === null || !name || !isStringLiteral(name)) return;
    const ref = { ...base, props: [...base.props, name.value] };
    this.patch(ref, node, context.guards.includes(refText(ref)));
  }

  private patch(ref: Ref, node: Node, guarded: boolean): void {
    const severity = patchSeverity(ref);
    if (severity === null) return;
    const position = this.position(node);
    const item: PatchHit = {
      target: refText(ref),
      severity: guarded ? 'low' : severity,
      line: position.line,
      column: position.column,
      guarded,
    };
    if (ref.via === undefined) this.facts.patches.push(item);
    else this.pendingVia.push({ via: ref.via, list: 'patches', item });
  }

  // --- data -----------------------------------------------------------------------------------------

  private stringLiteral(node: ESTree.StringLiteral): void {
    const value = node.value;
    if (value.length > 8 && (value.charCodeAt(0) === 104 || value.charCodeAt(0) === 119))
      this.urlHost(value, node, false, false);
    if (value.length >= 16 && node.start !== undefined && node.end !== undefined) {
      const raw = this.source.slice(node.start, node.end);
      const escapes = raw.split('\\x').length - 1;
      if (escapes * 4 > raw.length * 0.6) this.escapedStrings++;
    }
  }

  private hostProperty(node: ESTree.Property): void {
    if (node.computed || node.value.type !== 'Literal' || typeof node.value.value !== 'string') return;
    const key = keyName(node.key);
    if (key === 'host' || key === 'hostname') this.addHost(node.value.value, true, node);
  }

  /** The literal destination of a network call: a URL string, a template's constant head, or {host}. */
  private destination(node: Expression | ESTree.SpreadElement, strong: boolean): void {
    if (isStringLiteral(node)) {
      if (!this.urlHost(node.value, node, strong, false) && /^[\w.-]+$/.test(node.value))
        this.addHost(node.value, strong, node);
    } else if (node.type === 'TemplateLiteral') {
      const head = node.quasis[0]?.value.cooked;
      if (head) this.urlHost(head, node, strong, node.expressions.length > 0);
    } else if (node.type === 'ObjectExpression') {
      for (const property of node.properties) if (property.type === 'Property') this.hostProperty(property);
    }
  }

  private urlHost(text: string, node: Node, strong: boolean, openEnded: boolean): boolean {
    const match = /^(?:https?|wss?):\/\/([^/:?#\s'"`@]+)([/:?#]|$)/.exec(text);
    if (!match?.[1]) return false;
    if (openEnded && match[2] === '' && text.length === match[0].length) return false; // host continues in ${…}
    this.addHost(match[1], strong, node);
    return true;
  }

  private addHost(host: string, strong: boolean, node: Node): void {
    const lower = host.toLowerCase();
    if (!isHostName(lower)) return;
    this.facts.hosts.push({ host: lower, strong, line: this.position(node).line });
  }

  /** Does the expression decode data before it is compiled (base64, hex, char codes)? */
  private decodes(node: Node): boolean {
    let found = false;
    walkExpression(node, (n) => {
      if (found || (n.type !== 'CallExpression' && n.type !== 'NewExpression')) return;
      const ref = this.ref(n.callee as Node);
      const text = ref ? refText(ref) : '';
      if (
        text === 'atob' ||
        text === 'String.fromCharCode' ||
        text === 'unescape' ||
        text === 'decodeURIComponent'
      )
        found = true;
      else if (text === 'Buffer.from' || text.endsWith('.Buffer.from')) {
        const encoding = n.arguments[1];
        if (encoding && isStringLiteral(encoding) && /^(?:base64|base64url|hex)$/i.test(encoding.value))
          found = true;
      }
    });
    return found;
  }

  private isTainted(node: Node): boolean {
    let found = false;
    walkExpression(node, (n) => {
      if (!found && n.type === 'Identifier' && this.tainted.has(n.name)) found = true;
    });
    return found;
  }

  private describeInput(node: Node | undefined): string {
    if (node === undefined) return 'nothing';
    if (this.own && this.isTainted(node)) return 'request data';
    if (node.type === 'TemplateLiteral') return 'a template string';
    if (node.type === 'BinaryExpression') return 'a concatenated string';
    if (node.type === 'Identifier') return `a variable (${node.name})`;
    return 'a computed value';
  }

  private exportedHandler(expression: Expression): void {
    if (!this.own || expression.type !== 'AssignmentExpression') return;
    const left = expression.left;
    if (left.type !== 'MemberExpression' || propertyName(left) !== 'handler') return;
    this.taintParams(expression.right);
  }

  private exportedHandlerDeclaration(declaration: ESTree.ExportNamedDeclaration['declaration']): void {
    if (!this.own || !declaration) return;
    if (declaration.type === 'FunctionDeclaration' && declaration.id?.name === 'handler')
      this.taintParams(declaration);
    if (declaration.type === 'VariableDeclaration')
      for (const d of declaration.declarations)
        if (d.id.type === 'Identifier' && d.id.name === 'handler' && d.init) this.taintParams(d.init);
  }

  private taintParams(fn: Node): void {
    if (
      fn.type !== 'FunctionExpression' &&
      fn.type !== 'ArrowFunctionExpression' &&
      fn.type !== 'FunctionDeclaration'
    )
      return;
    const first = fn.params[0];
    if (first?.type === 'Identifier') this.tainted.add(first.name);
  }

  // --- positions and results -----------------------------------------------------------------------

  private hit(rule: RuleId, severity: Severity, node: Node, message: string, via?: string): void {
    const { line, column } = this.position(node);
    const item: Hit = { rule, severity, line, column, message };
    if (via === undefined) this.facts.hits.push(item);
    else this.pendingVia.push({ via, list: 'hits', item });
  }

  position(node: Node): { line: number; column: number } {
    const offset = node.start ?? 0;
    if (this.lineStarts === null) {
      const starts = [0];
      for (let i = this.source.indexOf('\n'); i !== -1; i = this.source.indexOf('\n', i + 1))
        starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
  }

  private finishObfuscation(): void {
    if (this.obfuscatedNames.size >= 10)
      this.facts.obfuscation.push(`${this.obfuscatedNames.size} _0x… identifiers (obfuscator.io style)`);
    if (this.escapedStrings >= 20)
      this.facts.obfuscation.push(`${this.escapedStrings} hex-escaped string literals`);
    if (/\[\]\[\(!\[\]\+\[\]\)|[[\]()!+]{200,}/.test(this.source))
      this.facts.obfuscation.push('JSFuck-style code');
  }

  /** Hook used by visit() for defineProperty calls (kept separate so call() stays about sinks). */
  checkDefineProperty(node: ESTree.CallExpression, context: Context): void {
    const ref = this.ref(node.callee as Node);
    if (ref?.kind !== 'global' || ref.props.length !== 1) return;
    const text = refText(ref);
    if (text === 'Object.defineProperty' || text === 'Reflect.defineProperty')
      this.defineProperty(node.arguments, node, context);
  }
}

const RULE_SEVERITY: Record<'eval' | 'function-constructor' | 'vm', Severity> = {
  eval: 'high',
  'function-constructor': 'high',
  vm: 'high',
};

/** How bad replacing this target at load time is; null when it is not a built-in or is a config knob. */
function patchSeverity(ref: Ref): Severity | null {
  const text = refText(ref);
  if (ref.kind === 'module') {
    if (builtinRoot(ref.root) === null || ref.props.length === 0) return null;
    const last = ref.props[ref.props.length - 1] ?? '';
    if (last === 'defaultMaxListeners' || last === 'captureRejections') return null;
    if (ref.props.includes('globalAgent')) return 'medium';
    return 'high';
  }
  if (GLOBAL_OBJECT_NAMES.has(ref.root)) return null; // a new global name, not a replaced built-in
  for (const knob of CONFIG_KNOBS) if (text === knob || text.startsWith(`${knob}.`)) return null;
  if (ref.props.length === 0) return CRITICAL_GLOBALS.has(ref.root) ? 'high' : 'medium';
  if (text === 'Error.prepareStackTrace') return 'low';
  if (CRITICAL_GLOBALS.has(ref.root)) return 'high';
  if (
    ref.root === 'process' &&
    /^(?:stdout|stderr|emit|binding|dlopen|_linkedBinding|reallyExit)$/.test(ref.props[0] ?? '')
  )
    return 'high';
  if (ref.root === 'require')
    return ref.props[0] === 'extensions' || ref.props[0] === 'cache' ? 'high' : null;
  return 'medium';
}

// ---------------------------------------------------------------------------------------------------
// Small helpers that need the analysis
// ---------------------------------------------------------------------------------------------------

function requireSpecifier(node: ESTree.CallExpression, analysis: FileAnalysis): string | null {
  const callee = node.callee;
  const first = node.arguments[0];
  if (callee.type !== 'Identifier' || callee.name !== 'require' || !isStringLiteral(first)) return null;
  const ref = analysis.ref(callee);
  return ref?.kind === 'global' && ref.root === 'require' ? normaliseSpecifier(first.value) : null;
}

function refTextOf(ref: Ref | null): string | null {
  return ref === null ? null : refText(ref);
}

/**
 * Member paths a polyfill guard tests (`!Array.prototype.at`, `typeof https.request != 'function'`,
 * `X.y === undefined`, `a && b`). Only the shapes guards take are looked into, a few levels deep: a
 * full walk of every `&&` chain's left side is quadratic in minified bundles.
 */
function memberPaths(test: Node, analysis: FileAnalysis, depth = 0): string[] {
  if (depth > 3) return [];
  switch (test.type) {
    case 'MemberExpression': {
      const ref = analysis.ref(test);
      return ref ? [refText(ref)] : [];
    }
    case 'UnaryExpression':
      return memberPaths(test.argument, analysis, depth + 1);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return [
        ...memberPaths(test.left as Node, analysis, depth + 1),
        ...memberPaths(test.right, analysis, depth + 1),
      ];
    default:
      return [];
  }
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const HOST = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** A concrete host name or IPv4 address (not a placeholder, a bare word or a file name). */
export function isHostName(host: string): boolean {
  if (host === 'localhost') return true;
  if (IPV4.test(host)) return host.split('.').every((part) => Number(part) <= 255);
  if (!HOST.test(host)) return false;
  return !/\.(?:js|json|ts|mjs|cjs|md|html|txt|png|node)$/.test(host);
}
