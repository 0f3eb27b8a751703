// User preferences merged into defaults with lodash.merge and with a hand-written deep merge (the
// one many codebases carry): `__proto__` / `constructor.prototype` keys pollute Object.prototype.
import _ from 'lodash';

function deepMerge(target, source) {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value && typeof value === 'object') {
      if (!target[key] || typeof target[key] !== 'object') target[key] = {};
      deepMerge(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

export const handler = async (event) => {
  const body = JSON.parse(event.body ?? '{}');
  const merged = _.merge({ theme: 'light', locale: 'en' }, body);
  const settings = deepMerge({ notifications: { email: true } }, body);
  const probe = {};
  return {
    statusCode: 200,
    body: JSON.stringify({
      theme: merged.theme,
      keys: Object.keys(settings).length,
      role: probe.role ?? 'user',
    }),
  };
};
