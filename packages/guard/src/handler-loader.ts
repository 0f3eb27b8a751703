import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GuardError } from './errors.js';

// biome-ignore lint/suspicious/noExplicitAny: the user's handler
type AnyHandler = (...args: any[]) => any;

/**
 * Load a handler with Lambda's Node.js rules, as the runtime client does: `dir/module.fn.nested`
 * relative to LAMBDA_TASK_ROOT (or absolute), extensions tried in the order '', .js, .mjs, .cjs
 * (ESM or CommonJS per the file and its package.json), then a package name resolved from the task
 * root; the function found at `fn.nested`, or under the module's default export.
 */
export async function loadHandler(handlerString: string, taskRoot: string): Promise<AnyHandler> {
  if (handlerString.includes('..')) {
    throw handlerError(`'${handlerString}' is not a valid handler name: ".." is not allowed`);
  }
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.slice(0, handlerString.length - base.length).replace(/\/$/, '');
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) {
    throw handlerError(
      `'${handlerString}' is not a valid handler name; accepted: FILE.EXPORT, e.g. index.handler`,
    );
  }
  const moduleName = base.slice(0, dot);
  const exportPath = base.slice(dot + 1);
  const file = path.resolve(taskRoot, moduleRoot, moduleName);
  let loaded: unknown;
  for (const extension of ['', '.js', '.mjs', '.cjs']) {
    const candidate = `${file}${extension}`;
    if (existsSync(candidate) && !candidate.endsWith('/')) {
      loaded = await import(pathToFileURL(candidate).href);
      break;
    }
  }
  if (loaded === undefined) {
    const require = createRequire(path.join(taskRoot, 'noop.js'));
    try {
      loaded = require(require.resolve(moduleName, { paths: [taskRoot, path.join(taskRoot, moduleRoot)] }));
    } catch (cause) {
      throw handlerError(
        `Cannot find module '${moduleName}' for handler '${handlerString}' under ${taskRoot}`,
        cause,
      );
    }
  }
  const handler =
    findIn(loaded, exportPath) ?? findIn((loaded as { default?: unknown })?.default, exportPath);
  if (handler === undefined) throw handlerError(`${handlerString} is undefined or not exported`);
  if (typeof handler !== 'function') throw handlerError(`${handlerString} is not a function`);
  return handler as AnyHandler;
}

function findIn(module: unknown, exportPath: string): unknown {
  let value = module;
  for (const key of exportPath.split('.')) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function handlerError(message: string, cause?: unknown): GuardError {
  const error = new GuardError('EPHEMERA_ERR_HANDLER', message, cause === undefined ? undefined : { cause });
  // Lambda reports a missing handler as Runtime.HandlerNotFound; keep that recognisable.
  error.name = 'Runtime.HandlerNotFound';
  return error;
}
