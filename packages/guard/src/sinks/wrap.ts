/**
 * How the sink hooks replace a built-in: the wrapper keeps the original's name, length and statics
 * (`fs.realpath.native`, `util.promisify.custom`), and the property keeps its attributes.
 */
const { defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;

// biome-ignore lint/suspicious/noExplicitAny: the wrapped built-ins take any arguments
export type AnyFunction = (...args: any[]) => unknown;

/** Makes `wrapper` look like `original` (name, length, own statics); returns it. */
export function mimic(wrapper: AnyFunction, original: AnyFunction): AnyFunction {
  defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  for (const key of ownKeys(original)) {
    if (key === 'name' || key === 'length' || key === 'prototype') continue;
    const descriptor = getOwnPropertyDescriptor(original, key);
    if (descriptor !== undefined) defineProperty(wrapper, key, descriptor);
  }
  return wrapper;
}

/** Redefines a data property keeping its attributes; throws (naming it) when it cannot. */
export function replaceProperty(target: object, key: string, value: unknown): void {
  const descriptor = getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !('value' in descriptor)) throw new Error(`${key} is not a data property`);
  if (!descriptor.configurable && !descriptor.writable) throw new Error(`${key} cannot be redefined`);
  defineProperty(target, key, { ...descriptor, value });
}
