// Report service (direct invocation from a scheduler or a back office). To keep cold starts short it
// loads nothing heavy at INIT: each report builder (./reports/*.js, CommonJS), each output formatter
// (./formatters/*.mjs, ES modules through import()) and the libraries they use (lodash, zod) are
// loaded on the first invocation that needs them, so require.cache and the ESM module map keep
// growing for a while after INIT. Built reports are memoised in a module-scope Map.
const path = require('node:path');

const REPORTS = new Set(['sales', 'inventory', 'customers']);
const FORMATS = new Set(['json', 'csv', 'markdown']);

/** name → loaded module (a builder or a formatter), filled on first use. */
const modules = new Map();
/** "report|format|period|region" → rendered output; grows with every new combination. */
const rendered = new Map();
const MAX_RENDERED = 5_000;
let validator;

function builder(name) {
  let mod = modules.get(`report:${name}`);
  if (!mod) {
    mod = require(path.join(__dirname, 'reports', `${name}.js`));
    modules.set(`report:${name}`, mod);
  }
  return mod;
}

async function formatter(name) {
  let mod = modules.get(`format:${name}`);
  if (!mod) {
    mod = await import(`./formatters/${name}.mjs`);
    modules.set(`format:${name}`, mod);
  }
  return mod;
}

/** The request schema, built with zod the first time a request has to be validated. */
function validate(event) {
  if (!validator) {
    const { z } = require('zod');
    validator = z.object({
      report: z.enum([...REPORTS]),
      format: z.enum([...FORMATS]).default('json'),
      period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
      region: z.enum(['eu', 'us', 'apac']).default('eu'),
      top: z.number().int().min(1).max(50).default(10),
    });
  }
  return validator.safeParse(event);
}

exports.handler = async (event) => {
  const parsed = validate(event);
  // A bad request is answered, not retried: the caller gets the problems back.
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  }
  const request = parsed.data;
  const key = `${request.report}|${request.format}|${request.period}|${request.region}|${request.top}`;
  let output = rendered.get(key);
  const cached = output !== undefined;
  if (!cached) {
    const rows = builder(request.report).build(request);
    output = (await formatter(request.format)).render(rows, { title: `${request.report} ${request.period}` });
    if (rendered.size >= MAX_RENDERED) rendered.delete(rendered.keys().next().value);
    rendered.set(key, output);
  }
  return { ok: true, key, cached, rows: output.rows, contentType: output.contentType, body: output.body };
};
