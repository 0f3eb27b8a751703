import {
  createLab,
  type FunctionDefinition,
  type Lab,
  type LabEventType,
  type LabOptions,
} from '../../packages/lab/src/index.js';
import { track } from './cleanup.js';
import { HELLO_DIR } from './hello.js';

/** examples/hello behind an HTTP API route, as `GET /hello`. */
export function helloFunction(extra: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name: 'hello',
    codeDir: HELLO_DIR,
    handler: 'index.handler',
    routes: [{ api: 'http', method: 'GET', path: '/hello' }],
    ...extra,
  };
}

export interface TrackedLab {
  lab: Lab;
  close(): Promise<void>;
}

/** createLab, registered for cleanup so no environment outlives the harness. */
export async function startLab(options: LabOptions): Promise<TrackedLab> {
  const lab = await createLab(options);
  return { lab, close: track(() => lab.close()) };
}

/** Shut every environment down so the next invocation is a cold start. */
export async function shutdownAll(lab: Lab): Promise<void> {
  for (const env of lab.environments()) await env.shutdown('shutdown');
}

/** How many events of a type the lab has recorded so far (to diff before/after a measurement). */
export function countEvents(lab: Lab, type: LabEventType): number {
  return lab.events.ofType(type).length;
}
