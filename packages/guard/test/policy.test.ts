import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GuardError } from '../src/errors.js';
import {
  DEFAULT_POLICY,
  IMPLEMENTED_CONTROLS,
  OTHER_ENV_VARIABLES,
  POLICY_ENV_VARIABLES,
  POLICY_SCHEMA,
  type Policy,
  type PolicyInput,
  resolvePolicy,
  summarisePolicy,
  unimplementedControls,
} from '../src/policy.js';

const EXPECTED_DEFAULT: Policy = {
  mode: 'block',
  codegen: { action: 'block', nodeFlag: false },
  integrity: {
    action: 'recycle',
    harden: 'off',
    initPatches: 'alert',
    initPatchesAllow: [
      'dd-trace',
      'aws-xray-sdk-core',
      'aws-xray-sdk',
      '@opentelemetry/*',
      '@aws-lambda-powertools/*',
      'newrelic',
      'elastic-apm-node',
      '@sentry/*',
      '@datadog/*',
    ],
  },
  lifecycle: { maxAgeSeconds: 1800, maxInvocations: 10000, jitter: 0.1, cleanTmp: true },
  egress: { action: 'block', allow: ['*.amazonaws.com'], packages: ['*'] },
  fs: { action: 'block', read: ['/'], write: ['/tmp'], readSource: false },
  childProcess: { action: 'block', allow: [], packages: ['*'] },
  internals: { action: 'block' },
  firewall: { action: 'block' },
  telemetry: {
    stdout: true,
    emf: false,
    endpoint: null,
    token: null,
    maxBuffer: 1000,
    batchSize: 100,
    invocations: false,
  },
  failClosed: false,
  nodePermissions: true,
};

/** Resolves with an explicit input and an environment (never process.env). */
function resolve(explicit: unknown, env: NodeJS.ProcessEnv = {}): Readonly<Policy> {
  return resolvePolicy(explicit, env);
}

function throwsPolicyError(run: () => unknown, message: string): GuardError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GuardError, `expected a GuardError, got ${String(caught)}`);
  assert.equal(caught.code, 'EPHEMERA_ERR_POLICY');
  assert.equal(caught.message, message);
  return caught;
}

// Class bodies are strict-mode code whatever module format tsx compiles this file to, so writing to a
// frozen object here throws instead of failing silently.
const strict = new (class {
  assign(target: object, key: string, value: unknown): void {
    (target as Record<string, unknown>)[key] = value;
  }
  push(target: readonly unknown[], value: unknown): void {
    (target as unknown[]).push(value);
  }
})();

describe('policy defaults', () => {
  it('blocks with every control when nothing is configured', () => {
    assert.deepEqual(DEFAULT_POLICY, EXPECTED_DEFAULT);
    assert.deepEqual(resolve(undefined), EXPECTED_DEFAULT);
    assert.deepEqual(resolve({}), EXPECTED_DEFAULT);
  });

  it('accepts a resolved policy as input and resolves it to itself', () => {
    const custom = resolve({ mode: 'alert', egress: { allow: ['example.com:443'] }, lifecycle: 'off' });
    assert.deepEqual(resolve(custom), custom);
    assert.deepEqual(resolve(DEFAULT_POLICY), EXPECTED_DEFAULT);
  });

  it('treats an undefined value as absent', () => {
    const input: PolicyInput = { mode: undefined, lifecycle: { maxAgeSeconds: undefined, jitter: 0 } };
    assert.deepEqual(resolve(input), {
      ...EXPECTED_DEFAULT,
      lifecycle: { ...EXPECTED_DEFAULT.lifecycle, jitter: 0 },
    });
  });
});

describe('mode cascades to controls not given an action', () => {
  it('alert makes every control alert (integrity included)', () => {
    const p = resolve({ mode: 'alert' });
    assert.equal(p.mode, 'alert');
    for (const control of [
      'codegen',
      'integrity',
      'egress',
      'fs',
      'childProcess',
      'internals',
      'firewall',
    ] as const) {
      assert.equal(p[control].action, 'alert', control);
    }
  });

  it('off turns every control off but leaves lifecycle and telemetry as they are', () => {
    const p = resolve({ mode: 'off' });
    for (const control of [
      'codegen',
      'integrity',
      'egress',
      'fs',
      'childProcess',
      'internals',
      'firewall',
    ] as const) {
      assert.equal(p[control].action, 'off', control);
    }
    assert.deepEqual(p.lifecycle, EXPECTED_DEFAULT.lifecycle);
    assert.deepEqual(p.telemetry, EXPECTED_DEFAULT.telemetry);
  });

  it('block means recycle for integrity', () => {
    assert.equal(resolve({ mode: 'block' }).integrity.action, 'recycle');
  });

  it('an action given in any layer beats mode from any layer', () => {
    const p = resolve({ mode: 'off', fs: 'block' }, { EPHEMERA_EGRESS: 'alert' });
    assert.equal(p.fs.action, 'block');
    assert.equal(p.egress.action, 'alert');
    assert.equal(p.codegen.action, 'off');
    assert.equal(p.integrity.action, 'off');
  });

  it('an object without an action takes the action from mode', () => {
    const p = resolve({ mode: 'alert', egress: { allow: ['api.example.com'] } });
    assert.deepEqual(p.egress, { action: 'alert', allow: ['api.example.com'], packages: ['*'] });
  });
});

describe('"off" and shorthand forms', () => {
  it('a bare action string is shorthand for { action }', () => {
    const p = resolve({ fs: 'alert', codegen: { action: 'alert' }, egress: 'learn', integrity: 'alert' });
    assert.deepEqual(p.fs, { ...EXPECTED_DEFAULT.fs, action: 'alert' });
    assert.deepEqual(p.codegen, { action: 'alert', nodeFlag: false });
    assert.deepEqual(p.egress, { action: 'learn', allow: ['*.amazonaws.com'], packages: ['*'] });
    assert.deepEqual(p.integrity, { ...EXPECTED_DEFAULT.integrity, action: 'alert' });
  });

  it('"off" turns an action control off and keeps its other fields', () => {
    const p = resolve({ egress: 'off', firewall: 'off' });
    assert.deepEqual(p.egress, { action: 'off', allow: ['*.amazonaws.com'], packages: ['*'] });
    assert.deepEqual(p.firewall, { action: 'off' });
  });

  it('childProcess takes an action string or an object with an allow-list', () => {
    assert.deepEqual(resolve({ childProcess: 'alert' }).childProcess, {
      action: 'alert',
      allow: [],
      packages: ['*'],
    });
    assert.deepEqual(resolve({ childProcess: { allow: ['/usr/bin/convert'] } }).childProcess, {
      action: 'block',
      allow: ['/usr/bin/convert'],
      packages: ['*'],
    });
  });

  it('"lifecycle": "off" removes both limits and keeps jitter and cleanTmp', () => {
    assert.deepEqual(resolve({ lifecycle: 'off' }).lifecycle, {
      maxAgeSeconds: null,
      maxInvocations: null,
      jitter: 0.1,
      cleanTmp: true,
    });
    assert.deepEqual(
      resolve({ lifecycle: { cleanTmp: false } }, { EPHEMERA_POLICY: '{"lifecycle":"off"}' }).lifecycle,
      { maxAgeSeconds: null, maxInvocations: null, jitter: 0.1, cleanTmp: false },
    );
  });

  it('null removes one lifecycle limit', () => {
    assert.deepEqual(resolve({ lifecycle: { maxAgeSeconds: null } }).lifecycle, {
      maxAgeSeconds: null,
      maxInvocations: 10000,
      jitter: 0.1,
      cleanTmp: true,
    });
  });

  it('"telemetry": "off" turns every sink off', () => {
    assert.deepEqual(
      resolve({ telemetry: 'off' }, { EPHEMERA_TELEMETRY_ENDPOINT: 'https://c.example/events' }).telemetry,
      {
        stdout: false,
        emf: false,
        endpoint: null,
        token: null,
        maxBuffer: 1000,
        batchSize: 100,
        invocations: false,
      },
    );
  });
});

describe('precedence: explicit > per-key variable > EPHEMERA_POLICY > default', () => {
  it('takes each layer in turn for the same key', () => {
    const env = { EPHEMERA_POLICY: '{"mode":"off"}', EPHEMERA_MODE: 'alert' };
    assert.equal(resolve(undefined, { EPHEMERA_POLICY: '{"mode":"off"}' }).mode, 'off');
    assert.equal(resolve(undefined, env).mode, 'alert');
    assert.equal(resolve({ mode: 'block' }, env).mode, 'block');
  });

  it('merges objects key by key across layers', () => {
    const p = resolve(
      { lifecycle: { jitter: 0 } },
      {
        EPHEMERA_POLICY: '{"lifecycle":{"maxAgeSeconds":60,"jitter":0.2},"telemetry":{"emf":true}}',
        EPHEMERA_MAX_INVOCATIONS: '50',
        EPHEMERA_TELEMETRY_TOKEN: 's3cret',
      },
    );
    assert.deepEqual(p.lifecycle, { maxAgeSeconds: 60, maxInvocations: 50, jitter: 0, cleanTmp: true });
    assert.deepEqual(p.telemetry, {
      stdout: true,
      emf: true,
      endpoint: null,
      token: 's3cret',
      maxBuffer: 1000,
      batchSize: 100,
      invocations: false,
    });
  });

  it('replaces arrays instead of merging them', () => {
    const env = { EPHEMERA_POLICY: '{"egress":{"action":"alert","allow":["a.example","b.example"]}}' };
    assert.deepEqual(resolve(undefined, env).egress, {
      action: 'alert',
      allow: ['a.example', 'b.example'],
      packages: ['*'],
    });
    assert.deepEqual(
      resolve(undefined, { ...env, EPHEMERA_EGRESS_ALLOW: ' c.example , *.d.example ' }).egress,
      {
        action: 'alert',
        allow: ['c.example', '*.d.example'],
        packages: ['*'],
      },
    );
    assert.deepEqual(resolve({ egress: { allow: [] } }, env).egress, {
      action: 'alert',
      allow: [],
      packages: ['*'],
    });
  });

  it('sets the documented path from every per-key variable', () => {
    const samples: Record<string, [string, string, unknown]> = {
      EPHEMERA_MODE: ['alert', 'mode', 'alert'],
      EPHEMERA_CODEGEN: ['off', 'codegen.action', 'off'],
      EPHEMERA_INTEGRITY: ['alert', 'integrity.action', 'alert'],
      EPHEMERA_MAX_AGE_SECONDS: ['900', 'lifecycle.maxAgeSeconds', 900],
      EPHEMERA_MAX_INVOCATIONS: ['off', 'lifecycle.maxInvocations', null],
      EPHEMERA_JITTER: ['0.25', 'lifecycle.jitter', 0.25],
      EPHEMERA_CLEAN_TMP: ['0', 'lifecycle.cleanTmp', false],
      EPHEMERA_EGRESS: ['learn', 'egress.action', 'learn'],
      EPHEMERA_EGRESS_ALLOW: [
        '10.0.0.0/8,api.example.com:443',
        'egress.allow',
        ['10.0.0.0/8', 'api.example.com:443'],
      ],
      EPHEMERA_FS: ['alert', 'fs.action', 'alert'],
      EPHEMERA_FS_READ: ['/var/task,/tmp', 'fs.read', ['/var/task', '/tmp']],
      EPHEMERA_FS_WRITE: ['/tmp,/mnt/efs', 'fs.write', ['/tmp', '/mnt/efs']],
      EPHEMERA_CHILD_PROCESS: ['off', 'childProcess.action', 'off'],
      EPHEMERA_CHILD_PROCESS_ALLOW: ['/usr/bin/convert', 'childProcess.allow', ['/usr/bin/convert']],
      EPHEMERA_CHILD_PROCESS_PACKAGES: ['sharp,@img/*', 'childProcess.packages', ['sharp', '@img/*']],
      EPHEMERA_INTERNALS: ['alert', 'internals.action', 'alert'],
      EPHEMERA_CODEGEN_NODE_FLAG: ['true', 'codegen.nodeFlag', true],
      EPHEMERA_HARDEN: ['builtins', 'integrity.harden', 'builtins'],
      EPHEMERA_INIT_PATCHES: ['block', 'integrity.initPatches', 'block'],
      EPHEMERA_INIT_PATCHES_ALLOW: [
        'dd-trace,@acme/*',
        'integrity.initPatchesAllow',
        ['dd-trace', '@acme/*'],
      ],
      EPHEMERA_EGRESS_PACKAGES: ['pg,@aws-sdk/*', 'egress.packages', ['pg', '@aws-sdk/*']],
      EPHEMERA_NODE_PERMISSIONS: ['0', 'nodePermissions', false],
      EPHEMERA_FIREWALL: ['alert', 'firewall.action', 'alert'],
      EPHEMERA_TELEMETRY_STDOUT: ['false', 'telemetry.stdout', false],
      EPHEMERA_TELEMETRY_EMF: ['1', 'telemetry.emf', true],
      EPHEMERA_TELEMETRY_ENDPOINT: [
        'https://c.example/events',
        'telemetry.endpoint',
        'https://c.example/events',
      ],
      EPHEMERA_TELEMETRY_TOKEN: ['t0ken', 'telemetry.token', 't0ken'],
      EPHEMERA_TELEMETRY_INVOCATIONS: ['1', 'telemetry.invocations', true],
      EPHEMERA_FAIL_CLOSED: ['true', 'failClosed', true],
    };
    const perKey = POLICY_ENV_VARIABLES.filter((entry) => entry.path !== null);
    assert.deepEqual(perKey.map((entry) => entry.variable).sort(), Object.keys(samples).sort());
    for (const entry of perKey) {
      const [text, path, expected] = samples[entry.variable] ?? ['', '', undefined];
      assert.equal(entry.path, path, entry.variable);
      const p = resolve(undefined, { [entry.variable]: text }) as unknown as Record<string, unknown>;
      const [key = '', field] = path.split('.');
      const value = field === undefined ? p[key] : (p[key] as Record<string, unknown>)[field];
      assert.deepEqual(value, expected, entry.variable);
    }
  });

  it('reads "off" and "none" as no limit, no endpoint and an empty allow-list', () => {
    const p = resolve(undefined, {
      EPHEMERA_POLICY: '{"telemetry":{"endpoint":"https://c.example"}}',
      EPHEMERA_MAX_AGE_SECONDS: 'off',
      EPHEMERA_TELEMETRY_ENDPOINT: 'none',
      EPHEMERA_EGRESS_ALLOW: 'none',
    });
    assert.equal(p.lifecycle.maxAgeSeconds, null);
    assert.equal(p.telemetry.endpoint, null);
    assert.deepEqual(p.egress.allow, []);
  });

  it('treats an empty or blank variable as unset', () => {
    assert.deepEqual(
      resolve(undefined, { EPHEMERA_MODE: '', EPHEMERA_JITTER: '  ', EPHEMERA_POLICY: '' }),
      EXPECTED_DEFAULT,
    );
  });

  it('accepts the variables other guard modules own', () => {
    assert.deepEqual(
      resolve(undefined, { EPHEMERA_ORIGINAL_HANDLER: 'index.handler', EPHEMERA_LAYER_DIR: '/opt/ephemera' }),
      EXPECTED_DEFAULT,
    );
  });
});

describe('EPHEMERA_POLICY', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-policy-'));
    writeFileSync(join(dir, 'policy.json'), '{ "mode": "alert", "lifecycle": { "maxInvocations": 7 } }\n');
    writeFileSync(join(dir, 'bom.json'), '\uFEFF{ "failClosed": true }');
    writeFileSync(join(dir, 'broken.json'), '{ "mode": "alert", }');
    writeFileSync(join(dir, 'array.json'), '["alert"]');
    writeFileSync(join(dir, 'typo.json'), '{ "lifecycle": { "maxInvocation": 5 } }');
    mkdirSync(join(dir, 'a-directory.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads inline JSON (leading whitespace allowed)', () => {
    const p = resolve(undefined, { EPHEMERA_POLICY: '  \n{"egress":"alert","failClosed":true}' });
    assert.equal(p.egress.action, 'alert');
    assert.equal(p.failClosed, true);
  });

  it('reads a file by absolute path', () => {
    const p = resolve(undefined, { EPHEMERA_POLICY: join(dir, 'policy.json') });
    assert.equal(p.mode, 'alert');
    assert.equal(p.lifecycle.maxInvocations, 7);
  });

  it('reads a relative path against LAMBDA_TASK_ROOT', () => {
    const p = resolve(undefined, { EPHEMERA_POLICY: 'policy.json', LAMBDA_TASK_ROOT: dir });
    assert.equal(p.lifecycle.maxInvocations, 7);
  });

  it('reads a relative path against the current directory without LAMBDA_TASK_ROOT', () => {
    const p = resolve(undefined, { EPHEMERA_POLICY: relative(process.cwd(), join(dir, 'policy.json')) });
    assert.equal(p.lifecycle.maxInvocations, 7);
  });

  it('ignores a UTF-8 byte order mark', () => {
    assert.equal(resolve(undefined, { EPHEMERA_POLICY: join(dir, 'bom.json') }).failClosed, true);
  });

  it('refuses a missing file, naming the variable and the path', () => {
    const file = join(dir, 'missing.json');
    const error = throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: 'missing.json', LAMBDA_TASK_ROOT: dir }),
      `EPHEMERA_POLICY names the file ${JSON.stringify(file)}, which cannot be read (ENOENT); accepted: ` +
        'inline JSON starting with "{", or the path of a readable JSON file (relative paths resolve against ' +
        'LAMBDA_TASK_ROOT, else the current directory)',
    );
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });

  it('refuses a path that is not a readable file', () => {
    const file = join(dir, 'a-directory.json');
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: file }),
      `EPHEMERA_POLICY names the file ${JSON.stringify(file)}, which cannot be read (EISDIR); accepted: ` +
        'inline JSON starting with "{", or the path of a readable JSON file (relative paths resolve against ' +
        'LAMBDA_TASK_ROOT, else the current directory)',
    );
  });

  it('refuses a file of invalid JSON, keeping the parse error as cause', () => {
    const file = join(dir, 'broken.json');
    const error = throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: file }),
      expectedJsonError(file),
    );
    assert.ok(error.cause instanceof SyntaxError);
  });

  it('refuses invalid inline JSON without echoing its text', () => {
    const error = throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: '{"telemetry":{"token": hunter2secret}}' }),
      `EPHEMERA_POLICY (inline JSON) is not valid JSON (${parseDetail('{"telemetry":{"token": hunter2secret}}')}); accepted: a JSON object of policy keys`,
    );
    assert.doesNotMatch(error.message, /hunter2/);
    assert.ok(error.cause instanceof SyntaxError);
  });

  it('refuses JSON that is not an object', () => {
    const file = join(dir, 'array.json');
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: file }),
      `EPHEMERA_POLICY (file ${JSON.stringify(file)}): the policy is ["alert"]; accepted: an object with the keys ` +
        '"mode", "codegen", "integrity", "lifecycle", "egress", "fs", "childProcess", "internals", "firewall", "telemetry", "failClosed", "nodePermissions"',
    );
  });

  it('names the variable and file when a key inside is wrong', () => {
    const file = join(dir, 'typo.json');
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: file }),
      `EPHEMERA_POLICY (file ${JSON.stringify(file)}): lifecycle.maxInvocation is not a known key ` +
        '(did you mean "maxInvocations"?); accepted keys: "maxAgeSeconds", "maxInvocations", "jitter", "cleanTmp"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_POLICY: '{"lifecycle":{"jitter":2}}' }),
      'EPHEMERA_POLICY: lifecycle.jitter is 2; accepted: a number from 0 (inclusive) to 1 (exclusive)',
    );
  });

  function expectedJsonError(file: string): string {
    return `EPHEMERA_POLICY (file ${JSON.stringify(file)}) is not valid JSON (${parseDetail(readFileSync(file, 'utf8'))}); accepted: a JSON object of policy keys`;
  }
});

/** V8's own message for `text`, with the quoted excerpt of the input cut (its wording varies by Node version). */
function parseDetail(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message
      .replace(/,? ?"[\s\S]*"(?:\.\.\.)?/, '')
      .replace(/ is not valid JSON$/, '');
  }
  throw new Error('expected invalid JSON');
}

describe('invalid policies are refused with EPHEMERA_ERR_POLICY naming the key', () => {
  const TOP_KEYS =
    '"mode", "codegen", "integrity", "lifecycle", "egress", "fs", "childProcess", "internals", "firewall", "telemetry", "failClosed", "nodePermissions"';

  it('names an unknown key, its path and the closest accepted key', () => {
    throwsPolicyError(
      () => resolve({ lifecycle: { maxAge: 60 } }),
      'policy: lifecycle.maxAge is not a known key (did you mean "maxAgeSeconds"?); accepted keys: ' +
        '"maxAgeSeconds", "maxInvocations", "jitter", "cleanTmp"',
    );
    throwsPolicyError(
      () => resolve({ egres: 'off' }),
      `policy: egres is not a known key (did you mean "egress"?); accepted keys: ${TOP_KEYS}`,
    );
    throwsPolicyError(
      () => resolve({ childProcess: { allowed: [] } }),
      'policy: childProcess.allowed is not a known key (did you mean "allow"?); accepted keys: "action", "allow", "packages"',
    );
  });

  it('names an unknown key without a suggestion when none is close', () => {
    throwsPolicyError(
      () => resolve({ telemetry: { sampling: 1 } }),
      'policy: telemetry.sampling is not a known key; accepted keys: "stdout", "emf", "endpoint", "token", ' +
        '"maxBuffer", "batchSize", "invocations"',
    );
    throwsPolicyError(
      () => resolve({ __proto__: null, constructor: 1 }),
      `policy: constructor is not a known key; accepted keys: ${TOP_KEYS}`,
    );
    throwsPolicyError(
      () => resolve({ fs: { 'bad key\n': 1 } }),
      'policy: fs["bad key\\n"] is not a known key; accepted keys: "action", "read", "write", "readSource"',
    );
  });

  it('refuses a wrong type', () => {
    throwsPolicyError(
      () => resolve({ failClosed: 'yes' }),
      'policy: failClosed is "yes"; accepted: true or false',
    );
    throwsPolicyError(
      () => resolve({ lifecycle: 5 }),
      'policy: lifecycle is 5; accepted: "off", or an object with the keys "maxAgeSeconds", "maxInvocations", ' +
        '"jitter", "cleanTmp"',
    );
    throwsPolicyError(
      () => resolve({ egress: { allow: '*.example.com' } }),
      'policy: egress.allow is "*.example.com"; accepted: an array of non-empty strings without whitespace ' +
        '(each a host, *.suffix wildcard, IP or CIDR, optionally with :port)',
    );
    throwsPolicyError(
      () => resolve({ egress: { allow: ['ok.example', 'not ok'] } }),
      'policy: egress.allow[1] is "not ok"; accepted: a non-empty string without whitespace ' +
        '(a host, *.suffix wildcard, IP or CIDR, optionally with :port)',
    );
    throwsPolicyError(
      () => resolve({ childProcess: { allow: [''] } }),
      'policy: childProcess.allow[0] is ""; accepted: a non-empty string (an executable path)',
    );
    throwsPolicyError(
      () => resolve({ telemetry: { endpoint: 'ftp://c.example' } }),
      'policy: telemetry.endpoint is "ftp://c.example"; accepted: an http:// or https:// URL, or null',
    );
    throwsPolicyError(
      () => resolve({ lifecycle: { maxAgeSeconds: '60' } }),
      'policy: lifecycle.maxAgeSeconds is "60"; accepted: an integer of at least 1, or null (no age limit)',
    );
    throwsPolicyError(
      () => resolve({ lifecycle: { cleanTmp: () => true } }),
      'policy: lifecycle.cleanTmp is a function; accepted: true or false',
    );
  });

  it('refuses a policy that is not an object', () => {
    throwsPolicyError(
      () => resolve('block'),
      `policy: the policy is "block"; accepted: an object with the keys ${TOP_KEYS}`,
    );
    throwsPolicyError(
      () => resolve(null),
      `policy: the policy is null; accepted: an object with the keys ${TOP_KEYS}`,
    );
    throwsPolicyError(
      () => resolve(new Map()),
      `policy: the policy is an instance of Map; accepted: an object with the keys ${TOP_KEYS}`,
    );
  });

  it('never shows the token in a message', () => {
    throwsPolicyError(
      () => resolve({ telemetry: { token: 12345678 } }),
      'policy: telemetry.token is a number (value not shown); accepted: a non-empty string, or null',
    );
  });

  it('refuses a value outside the enum', () => {
    throwsPolicyError(
      () => resolve({ mode: 'blokc' }),
      'policy: mode is "blokc"; accepted: "block", "alert", "off"',
    );
    throwsPolicyError(
      () => resolve({ integrity: 'block' }),
      'policy: integrity is "block"; accepted: "recycle", "alert", "off", or an object with the keys "action", "harden", "initPatches", "initPatchesAllow"',
    );
    throwsPolicyError(
      () => resolve({ fs: { action: 'learn' } }),
      'policy: fs.action is "learn"; accepted: "block", "alert", "off"',
    );
    throwsPolicyError(
      () => resolve({ egress: 'allow' }),
      'policy: egress is "allow"; accepted: "block", "alert", "learn", "off", or an object with the keys ' +
        '"action", "allow", "packages"',
    );
    throwsPolicyError(
      () => resolve({ integrity: { initPatchesAllow: ['dd-trace', 'Bad Name'] } }),
      'policy: integrity.initPatchesAllow[1] is "Bad Name"; accepted: an npm package name or glob ' +
        '(`name`, `@scope/name`, `@scope/*`, `*`)',
    );
  });

  it('refuses a value out of range', () => {
    throwsPolicyError(
      () => resolve({ lifecycle: { jitter: 1.5 } }),
      'policy: lifecycle.jitter is 1.5; accepted: a number from 0 (inclusive) to 1 (exclusive)',
    );
    throwsPolicyError(
      () => resolve({ lifecycle: { jitter: Number.NaN } }),
      'policy: lifecycle.jitter is NaN; accepted: a number from 0 (inclusive) to 1 (exclusive)',
    );
    throwsPolicyError(
      () => resolve({ lifecycle: { maxInvocations: 0 } }),
      'policy: lifecycle.maxInvocations is 0; accepted: an integer of at least 1, or null (no invocation limit)',
    );
    throwsPolicyError(
      () => resolve({ telemetry: { maxBuffer: 100001 } }),
      'policy: telemetry.maxBuffer is 100001; accepted: an integer from 1 to 100000',
    );
    throwsPolicyError(
      () => resolve({ telemetry: { batchSize: 1.5 } }),
      'policy: telemetry.batchSize is 1.5; accepted: an integer from 1 to 10000',
    );
    throwsPolicyError(
      () => resolve({ telemetry: { batchSize: null } }),
      'policy: telemetry.batchSize is null; accepted: an integer from 1 to 10000',
    );
  });

  it('names the variable, the value and what is accepted for a bad variable', () => {
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_MODE: 'blokc' }),
      'EPHEMERA_MODE is "blokc"; accepted: "block", "alert", "off"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_INTEGRITY: 'block' }),
      'EPHEMERA_INTEGRITY is "block"; accepted: "recycle", "alert", "off"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_MAX_AGE_SECONDS: '30m' }),
      'EPHEMERA_MAX_AGE_SECONDS is "30m"; accepted: an integer of at least 1, or "off" (no limit)',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_MAX_INVOCATIONS: '0' }),
      'EPHEMERA_MAX_INVOCATIONS is "0"; accepted: an integer of at least 1, or "off" (no limit)',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_JITTER: '1' }),
      'EPHEMERA_JITTER is "1"; accepted: a number from 0 (inclusive) to 1 (exclusive)',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_CLEAN_TMP: 'yes' }),
      'EPHEMERA_CLEAN_TMP is "yes"; accepted: "true", "false", "1" or "0"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_EGRESS_ALLOW: 'a.example,,b.example' }),
      'EPHEMERA_EGRESS_ALLOW is "a.example,,b.example"; accepted: a comma-separated list of entries without ' +
        'whitespace (each a host, *.suffix wildcard, IP or CIDR, optionally with :port), or "none" (empty list)',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_TELEMETRY_ENDPOINT: 'collector:8080' }),
      'EPHEMERA_TELEMETRY_ENDPOINT is "collector:8080"; accepted: an http:// or https:// URL, or "none"',
    );
  });

  it('refuses an unknown EPHEMERA_ variable, naming the closest known one', () => {
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_MODEE: 'block' }),
      'EPHEMERA_MODEE is not a variable Ephemera reads (did you mean EPHEMERA_MODE?); every EPHEMERA_* ' +
        'variable is listed in docs/configuration.md, "Environment variables"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_EGRESS_ALLOWED: '*.example.com' }),
      'EPHEMERA_EGRESS_ALLOWED is not a variable Ephemera reads (did you mean EPHEMERA_EGRESS_ALLOW?); every ' +
        'EPHEMERA_* variable is listed in docs/configuration.md, "Environment variables"',
    );
    throwsPolicyError(
      () => resolve({ mode: 'block' }, { EPHEMERA_TELEMETRY_ENDPIONT: 'https://c.example' }),
      'EPHEMERA_TELEMETRY_ENDPIONT is not a variable Ephemera reads (did you mean EPHEMERA_TELEMETRY_ENDPOINT?); ' +
        'every EPHEMERA_* variable is listed in docs/configuration.md, "Environment variables"',
    );
    throwsPolicyError(
      () => resolve(undefined, { EPHEMERA_DEBUG: '' }),
      'EPHEMERA_DEBUG is not a variable Ephemera reads (did you mean EPHEMERA_MODE?); every ' +
        'EPHEMERA_* variable is listed in docs/configuration.md, "Environment variables"',
    );
  });
});

describe('the resolved policy is deep-frozen', () => {
  it('freezes the policy and every nested object and array', () => {
    const p = resolve({ egress: { allow: ['a.example'] } }, { EPHEMERA_MODE: 'alert' });
    for (const value of [p, p.codegen, p.integrity, p.lifecycle, p.egress, p.egress.allow, p.fs]) {
      assert.ok(Object.isFrozen(value));
    }
    for (const value of [p.childProcess, p.childProcess.allow, p.firewall, p.telemetry]) {
      assert.ok(Object.isFrozen(value));
    }
    assert.throws(() => strict.assign(p, 'mode', 'off'), TypeError);
    assert.throws(() => strict.assign(p.lifecycle, 'maxInvocations', null), TypeError);
    assert.throws(() => strict.assign(p.egress, 'action', 'off'), TypeError);
    assert.throws(() => strict.push(p.egress.allow, '*'), TypeError);
    assert.equal(p.lifecycle.maxInvocations, 10000);
    assert.deepEqual(p.egress.allow, ['a.example']);
  });

  it('freezes DEFAULT_POLICY and the schema tables', () => {
    assert.throws(() => strict.assign(DEFAULT_POLICY.telemetry, 'stdout', false), TypeError);
    assert.throws(() => strict.push(DEFAULT_POLICY.egress.allow, '*'), TypeError);
    assert.ok(Object.isFrozen(POLICY_SCHEMA));
    assert.ok(Object.isFrozen(POLICY_SCHEMA.lifecycle));
    assert.ok(Object.isFrozen(POLICY_ENV_VARIABLES));
    assert.ok(Object.isFrozen(POLICY_ENV_VARIABLES[0]));
  });

  it("copies the caller's arrays instead of freezing or sharing them", () => {
    const allow = ['a.example'];
    const p = resolve({ egress: { allow } });
    assert.equal(Object.isFrozen(allow), false);
    allow.push('evil.example');
    assert.deepEqual(p.egress.allow, ['a.example']);
  });
});

describe('summarisePolicy', () => {
  it('gives one action per control and the lifecycle and telemetry settings', () => {
    assert.deepEqual(summarisePolicy(DEFAULT_POLICY), {
      mode: 'block',
      codegen: 'block',
      codegenNodeFlag: false,
      integrity: 'recycle',
      harden: 'off',
      initPatches: 'alert',
      initPatchesAllow: EXPECTED_DEFAULT.integrity.initPatchesAllow,
      lifecycle: { maxAgeSeconds: 1800, maxInvocations: 10000, jitter: 0.1, cleanTmp: true },
      egress: 'block',
      egressAllow: ['*.amazonaws.com'],
      egressPackages: ['*'],
      fs: 'block',
      fsRead: ['/'],
      fsWrite: ['/tmp'],
      fsReadSource: false,
      childProcess: 'block',
      childProcessAllow: [],
      childProcessPackages: ['*'],
      internals: 'block',
      firewall: 'block',
      telemetry: {
        stdout: true,
        emf: false,
        endpoint: null,
        tokenSet: false,
        maxBuffer: 1000,
        batchSize: 100,
        invocations: false,
      },
      failClosed: false,
      nodePermissions: true,
    });
  });

  it('says whether a token is set without showing it, and drops credentials from the endpoint', () => {
    const p = resolve({
      telemetry: { endpoint: 'https://user:pw@c.example:8443/ingest?key=abc#x', token: 'tok-123' },
    });
    const summary = summarisePolicy(p);
    assert.deepEqual(summary.telemetry, {
      stdout: true,
      emf: false,
      endpoint: 'https://c.example:8443/ingest',
      tokenSet: true,
      maxBuffer: 1000,
      batchSize: 100,
      invocations: false,
    });
    const json = JSON.stringify(summary);
    for (const secret of ['tok-123', 'pw', 'abc']) assert.doesNotMatch(json, new RegExp(secret));
  });
});

describe('unimplementedControls', () => {
  const CONTROLS = ['codegen', 'integrity', 'egress', 'fs', 'childProcess', 'internals', 'firewall'] as const;
  const implemented: readonly string[] = IMPLEMENTED_CONTROLS;
  const pending = CONTROLS.filter((c) => !implemented.includes(c));

  it('names every control asked for that the guard does not enforce yet', () => {
    for (const c of ['lifecycle', 'telemetry', 'codegen', 'integrity']) assert.ok(implemented.includes(c), c);
    assert.deepEqual(unimplementedControls(DEFAULT_POLICY), pending);
  });

  it('leaves out controls that are off', () => {
    assert.deepEqual(unimplementedControls(resolve({ mode: 'off' })), []);
    const on = { mode: 'off', egress: 'learn', fs: 'alert', internals: 'alert' };
    assert.deepEqual(
      unimplementedControls(resolve(on)),
      pending.filter((c) => c === 'egress' || c === 'fs' || c === 'internals'),
    );
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
  const section = (title: string): string => doc.split(`\n## ${title}\n`)[1]?.split('\n## ')[0] ?? '';

  it('lists every EPHEMERA_* variable in "Environment variables", and no other', () => {
    const envSection = section('Environment variables');
    const known = [...POLICY_ENV_VARIABLES.map((entry) => entry.variable), ...OTHER_ENV_VARIABLES];
    for (const variable of known)
      assert.ok(envSection.includes(`| \`${variable}\` |`), `${variable} is not documented`);
    for (const [variable] of envSection.matchAll(/EPHEMERA_[A-Z0-9_]+/g)) {
      assert.ok(known.includes(variable), `${variable} is documented but not in POLICY_ENV_VARIABLES`);
    }
  });

  it('documents every policy key in "Guard policy"', () => {
    const policySection = section('Guard policy');
    for (const [key, spec] of Object.entries(POLICY_SCHEMA)) {
      assert.ok(policySection.includes(`| \`${key}\``), `${key} is not documented`);
      if (spec.kind === 'setting') continue;
      for (const field of Object.keys(spec.fields)) {
        assert.ok(policySection.includes(`\`${key}.${field}\``), `${key}.${field} is not documented`);
      }
    }
  });
});
