/**
 * Syntax helpers over meriyah's ESTree: the child keys of each node type (the walkers' table),
 * an expression walker that stops at nested functions, and the few questions the analysis asks
 * of a node (its property name, whether it is a string known without running anything).
 */
import type { ESTree } from 'meriyah';

type Node = ESTree.Node;

const FUNCTION_KEYS = ['id', 'params', 'body'];
const CLASS_KEYS = ['decorators', 'id', 'superClass', 'body'];
const MEMBER_KEYS = ['decorators', 'key', 'value'];
const ARGUMENT = ['argument'];
const LEFT_RIGHT = ['left', 'right'];
const TEST_BRANCHES = ['test', 'consequent', 'alternate'];
const CALL_KEYS = ['callee', 'arguments'];
const BODY = ['body'];
const NONE: string[] = [];

/** Child keys per ESTree node type, in source order. */
export const CHILD_KEYS: Readonly<Record<string, readonly string[]>> = {
  Program: BODY,
  ExpressionStatement: ['expression'],
  BlockStatement: BODY,
  StaticBlock: BODY,
  EmptyStatement: NONE,
  DebuggerStatement: NONE,
  WithStatement: ['object', 'body'],
  ReturnStatement: ARGUMENT,
  LabeledStatement: ['label', 'body'],
  BreakStatement: ['label'],
  ContinueStatement: ['label'],
  IfStatement: TEST_BRANCHES,
  SwitchStatement: ['discriminant', 'cases'],
  SwitchCase: ['test', 'consequent'],
  ThrowStatement: ARGUMENT,
  TryStatement: ['block', 'handler', 'finalizer'],
  CatchClause: ['param', 'body'],
  WhileStatement: ['test', 'body'],
  DoWhileStatement: ['body', 'test'],
  ForStatement: ['init', 'test', 'update', 'body'],
  ForInStatement: ['left', 'right', 'body'],
  ForOfStatement: ['left', 'right', 'body'],
  FunctionDeclaration: FUNCTION_KEYS,
  FunctionExpression: FUNCTION_KEYS,
  ArrowFunctionExpression: FUNCTION_KEYS,
  VariableDeclaration: ['declarations'],
  VariableDeclarator: ['id', 'init'],
  ClassDeclaration: CLASS_KEYS,
  ClassExpression: CLASS_KEYS,
  ClassBody: BODY,
  MethodDefinition: MEMBER_KEYS,
  PropertyDefinition: MEMBER_KEYS,
  AccessorProperty: MEMBER_KEYS,
  ThisExpression: NONE,
  Super: NONE,
  Identifier: NONE,
  PrivateIdentifier: NONE,
  Literal: NONE,
  MetaProperty: NONE,
  TemplateElement: NONE,
  ArrayExpression: ['elements'],
  ArrayPattern: ['elements'],
  ObjectExpression: ['properties'],
  ObjectPattern: ['properties'],
  Property: ['key', 'value'],
  UnaryExpression: ARGUMENT,
  UpdateExpression: ARGUMENT,
  AwaitExpression: ARGUMENT,
  SpreadElement: ARGUMENT,
  RestElement: ARGUMENT,
  YieldExpression: ARGUMENT,
  BinaryExpression: LEFT_RIGHT,
  LogicalExpression: LEFT_RIGHT,
  AssignmentExpression: LEFT_RIGHT,
  AssignmentPattern: LEFT_RIGHT,
  MemberExpression: ['object', 'property'],
  ConditionalExpression: TEST_BRANCHES,
  CallExpression: CALL_KEYS,
  NewExpression: CALL_KEYS,
  SequenceExpression: ['expressions'],
  TemplateLiteral: ['quasis', 'expressions'],
  TaggedTemplateExpression: ['tag', 'quasi'],
  ChainExpression: ['expression'],
  ParenthesizedExpression: ['expression'],
  ImportExpression: ['source', 'options'],
  ImportDeclaration: ['specifiers', 'source', 'attributes'],
  ImportSpecifier: ['imported', 'local'],
  ImportDefaultSpecifier: ['local'],
  ImportNamespaceSpecifier: ['local'],
  ImportAttribute: ['key', 'value'],
  ExportNamedDeclaration: ['declaration', 'specifiers', 'source', 'attributes'],
  ExportDefaultDeclaration: ['declaration'],
  ExportAllDeclaration: ['exported', 'source', 'attributes'],
  ExportSpecifier: ['local', 'exported'],
  Decorator: ['expression'],
};

export function ownKeys(node: Record<string, unknown>): string[] {
  return Object.keys(node).filter(
    (key) => key !== 'type' && key !== 'start' && key !== 'end' && key !== 'range' && key !== 'loc',
  );
}

export function propertyName(node: ESTree.MemberExpression): string | null {
  if (!node.computed) return node.property.type === 'Identifier' ? node.property.name : null;
  return isStringLiteral(node.property) ? node.property.value : null;
}

export function keyName(key: Node): string | null {
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value;
  return null;
}

export function isStringLiteral(node: Node | null | undefined): node is ESTree.StringLiteral {
  return node?.type === 'Literal' && typeof node.value === 'string';
}

/** A string known without running anything: a literal, a template without `${}`, or a concatenation of those. */
export function staticString(node: Node): string | null {
  if (isStringLiteral(node)) return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0)
    return node.quasis[0]?.value.cooked ?? null;
  if (node.type === 'BinaryExpression' && node.operator === '+') {
    const left = staticString(node.left as Node);
    const right = left === null ? null : staticString(node.right);
    return left !== null && right !== null ? left + right : null;
  }
  return null;
}

export function isStaticString(node: Node): boolean {
  return staticString(node) !== null;
}

export function isFunction(node: Node | null | undefined): boolean {
  return (
    node?.type === 'FunctionExpression' ||
    node?.type === 'ArrowFunctionExpression' ||
    node?.type === 'FunctionDeclaration'
  );
}

/** Visits an expression's nodes, not descending into nested functions. */
export function walkExpression(root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root];
  let budget = 2000; // a pathological expression is not worth more
  while (stack.length > 0 && budget-- > 0) {
    const node = stack.pop() as Node;
    visit(node);
    if (isFunction(node)) continue;
    const record = node as unknown as Record<string, unknown>;
    for (const key of CHILD_KEYS[node.type] ?? ownKeys(record)) {
      const value = record[key];
      if (value === null || value === undefined || typeof value !== 'object') continue;
      if (Array.isArray(value)) {
        for (const item of value) if (item && typeof item.type === 'string') stack.push(item as Node);
      } else if (typeof (value as { type?: unknown }).type === 'string') stack.push(value as Node);
    }
  }
}
