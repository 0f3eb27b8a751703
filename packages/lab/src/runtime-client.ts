import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LabError } from './errors.js';

/** Where AWS's runtime interface client lives: Lambda's /var/runtime. */
export interface RuntimeClient {
  /** The package directory (stands in for /var/runtime). */
  dir: string;
  /** Its entry point, run as `node index.mjs` exactly as Lambda's bootstrap runs it. */
  entry: string;
}

/** Locate the installed aws-lambda-ric and check that its native client was built. */
export function findRuntimeClient(): RuntimeClient {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('aws-lambda-ric/package.json');
  } catch (cause) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_RIC_MISSING',
      'aws-lambda-ric is not installed; run `npm ci` in the project root (it builds the native client, ~75 s)',
      { cause },
    );
  }
  const dir = dirname(pkg);
  const entry = join(dir, 'index.mjs');
  if (!existsSync(entry) || !existsSync(join(dir, 'rapid-client.node'))) {
    throw new LabError(
      'EPHEMERA_ERR_LAB_RIC_MISSING',
      `aws-lambda-ric at ${dir} has no native build (rapid-client.node); its install script did not run. ` +
        'Allow it (package.json "allowScripts") and reinstall: `npm rebuild aws-lambda-ric`',
    );
  }
  return { dir, entry };
}
