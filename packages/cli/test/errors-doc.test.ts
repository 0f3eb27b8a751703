import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CorrelatorErrorCodes } from '../../correlator/src/errors.js';
import { GuardErrorCodes } from '../../guard/src/errors.js';
import { LabErrorCodes } from '../../lab/src/errors.js';
import { CliErrorCodes } from '../src/errors.js';

const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...DOC.matchAll(/^## (EPHEMERA_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1]));
const registries: Record<string, Record<string, string>> = {
  guard: GuardErrorCodes,
  lab: LabErrorCodes,
  correlator: CorrelatorErrorCodes,
  cli: CliErrorCodes,
};

describe('error codes and docs/errors.md', () => {
  for (const [name, registry] of Object.entries(registries)) {
    it(`documents every ${name} error code with a mitigation`, () => {
      for (const code of Object.keys(registry)) {
        assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
        const section = DOC.split(`## ${code}\n`)[1]?.split('\n## ')[0] ?? '';
        assert.match(section, /\*\*Mitigation:\*\*/, `${code} has no mitigation`);
      }
    });
  }

  it('documents no code that no registry defines', () => {
    const known = new Set<string>(Object.values(registries).flatMap((r) => Object.keys(r)));
    for (const code of documented)
      assert.ok(known.has(code as string), `${code} is documented but defined nowhere`);
  });
});
