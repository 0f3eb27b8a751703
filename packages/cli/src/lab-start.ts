import { resolve } from 'node:path';
import { createLab, type FunctionDefinition, LabError, loadSamTemplate } from '@ephemera/lab';

export interface LabStartOptions {
  template?: string;
  functionDir?: string;
  handler?: string;
  port: number;
  api: 'rest' | 'http';
  clockScale?: number;
  freeze: boolean;
  events: boolean;
}

/** `ephemera lab start`: serve functions until Ctrl-C, then shut every environment down. */
export async function labStart(options: LabStartOptions, out: (line: string) => void): Promise<void> {
  let functions: FunctionDefinition[];
  if (options.template) {
    if (options.functionDir || options.handler) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_CONFIG',
        'give either --template or --function/--handler, not both',
      );
    }
    const loaded = loadSamTemplate(resolve(options.template));
    for (const warning of loaded.warnings) out(`warning: ${warning}`);
    functions = loaded.functions;
  } else {
    if (!options.functionDir || !options.handler) {
      throw new LabError(
        'EPHEMERA_ERR_LAB_CONFIG',
        'give --template FILE, or both --function DIR and --handler FILE.EXPORT',
      );
    }
    const dir = resolve(options.functionDir);
    const name =
      dir
        .split('/')
        .filter(Boolean)
        .pop()
        ?.replace(/[^A-Za-z0-9_-]/g, '-') || 'function';
    const routes =
      options.api === 'http'
        ? [{ api: 'http' as const, method: 'ANY', path: '$default' }]
        : [
            { api: 'rest' as const, method: 'ANY', path: '/' },
            { api: 'rest' as const, method: 'ANY', path: '/{proxy+}' },
          ];
    functions = [{ name, codeDir: dir, handler: options.handler, routes }];
  }
  const lab = await createLab({
    functions,
    port: options.port,
    ...(options.clockScale !== undefined ? { clockScale: options.clockScale } : {}),
    freeze: options.freeze,
  });
  if (options.events) lab.events.toJsonLines((line) => process.stdout.write(line));
  out(`Ephemera lab listening on ${lab.url}`);
  for (const fn of lab.functions) {
    out(
      `  function ${fn.name} (${fn.handler}, ${fn.runtime}, ${fn.memoryMb} MB, timeout ${fn.timeoutSeconds} s)`,
    );
    for (const r of fn.routes)
      out(
        `    ${r.api === 'rest' ? 'REST API ' : 'HTTP API '} ${r.method} ${lab.url}${r.path === '$default' ? '/*' : r.path}`,
      );
    out(`    Invoke API POST ${lab.url}/2015-03-31/functions/${fn.name}/invocations`);
  }
  out('Ctrl-C stops the lab.');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      out('\nstopping: shutting environments down');
      lab.close().then(done, done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
