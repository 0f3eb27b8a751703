/**
 * Everything the harness starts registers its closer here, so Ctrl-C (or a failing section) still
 * leaves no runtime process behind: SIGINT would otherwise end the process without 'exit' hooks.
 */
const closers = new Set<() => Promise<void>>();

export function track(close: () => Promise<void>): () => Promise<void> {
  closers.add(close);
  return async () => {
    closers.delete(close);
    await close();
  };
}

export async function closeAll(): Promise<void> {
  const pending = [...closers];
  closers.clear();
  await Promise.allSettled(pending.map((close) => close()));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: closing every lab and server before exiting\n`);
    void closeAll().finally(() => process.exit(130));
  });
}
