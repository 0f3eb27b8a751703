import type { Readable } from 'node:stream';

/**
 * One environment's log stream, as CloudWatch Logs would hold it: the runtime's stdout and stderr
 * line by line, plus the platform's START/END/REPORT lines. Bounded, so a chatty function cannot
 * exhaust the lab's memory; listeners see every line.
 */
export class LogStream {
  readonly lines: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  dropped = 0;

  constructor(
    readonly name: string,
    private readonly limit = 20_000,
  ) {}

  /** Split the runtime's output streams into lines; `also` sees each line too (per-invocation capture). */
  attach(stdout: Readable | null, stderr: Readable | null, also: (line: string) => void): void {
    for (const stream of [stdout, stderr]) {
      if (!stream) continue;
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const parts = (rest + text).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) {
          this.write(line);
          also(line);
        }
      });
      stream.on('end', () => {
        if (rest) this.write(rest);
        rest = '';
      });
    }
  }

  write(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) {
      this.lines.shift();
      this.dropped += 1;
    }
    for (const fn of this.listeners) fn(line);
  }

  /** Follow new lines; returns the unsubscribe function. */
  follow(fn: (line: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
