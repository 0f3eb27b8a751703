/**
 * The seam between the sink hooks (egress, fs, child processes, code generation, SQL drivers) and
 * the event firewall's sink-aware detectors. A hook calls `inspectSink` with what is about to run
 * or be reached; the firewall (when on) checks whether the current event's input changes its
 * structure (a shell command's tokens, a SQL statement's, a path escaping its directory, a URL's
 * host) and reports. A returned error means "refuse": the hook raises it the way the sink fails
 * (throw, callback, rejected promise, 'error' event). With the firewall off this is one call to a
 * function that returns `undefined`.
 */
export type SinkKind = 'shell' | 'exec' | 'path' | 'url' | 'sql' | 'code';

export interface SinkContext {
  /** The hooked API, e.g. `child_process.exec`, `fs.readFile`, `pg.Client.query`. */
  readonly sink: string;
  /** For `path`: the directory the path is expected to stay in, when the hook knows one. */
  readonly base?: string;
}

export type SinkInspector = (kind: SinkKind, value: string, context: SinkContext) => Error | undefined;

let inspector: SinkInspector | undefined;

/** The firewall installs its inspector at init (one per process; a later call replaces it). */
export function setSinkInspector(fn: SinkInspector | undefined): void {
  inspector = fn;
}

/** Ask the firewall about a value reaching a sink; an Error means the call must be refused. */
export function inspectSink(kind: SinkKind, value: string, context: SinkContext): Error | undefined {
  return inspector === undefined ? undefined : inspector(kind, value, context);
}
