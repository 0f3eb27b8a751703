import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LabErrorCodes } from '../src/errors.js';

const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...DOC.matchAll(/^## (EPHEMERA_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1]));

describe('error codes and docs/errors.md', () => {
  it('documents every lab error code with a mitigation', () => {
    for (const code of Object.keys(LabErrorCodes)) {
      assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
      const section = DOC.split(`## ${code}\n`)[1]?.split('\n## ')[0] ?? '';
      assert.match(section, /\*\*Mitigation:\*\*/, `${code} has no mitigation`);
    }
  });

  it('documents no code that no registry defines', () => {
    const known = new Set<string>(Object.keys(LabErrorCodes));
    for (const code of documented)
      assert.ok(known.has(code as string), `${code} is documented but defined nowhere`);
  });
});
