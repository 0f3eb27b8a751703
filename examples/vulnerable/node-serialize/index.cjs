// DVSA-style order parsing: node-serialize's unserialize evaluates `_$$ND_FUNC$$_` functions.
const serialize = require('node-serialize');

exports.handler = async (event) => {
  const order = serialize.unserialize(event.body);
  const fields = {};
  for (const [key, value] of Object.entries(order ?? {}))
    fields[key] = typeof value === 'function' ? 'function' : value;
  return { statusCode: 200, body: JSON.stringify({ ok: true, order: fields }) };
};
