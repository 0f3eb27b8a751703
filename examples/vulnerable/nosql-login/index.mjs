// A login that builds a Mongo-style query from the body and matches it in memory with the
// operators Mongo has ($ne, $gt, $regex, $in, $where…): `{"password":{"$ne":""}}` logs anyone in.
const USERS = [
  { user: 'alice', password: 'correct horse battery staple', role: 'admin' },
  { user: 'bob', password: 'hunter2', role: 'user' },
];

function matches(doc, query) {
  return Object.entries(query).every(([field, cond]) => {
    const value = doc[field];
    if (cond && typeof cond === 'object') {
      return Object.entries(cond).every(([op, arg]) => {
        switch (op) {
          case '$ne':
            return value !== arg;
          case '$gt':
            return value > arg;
          case '$gte':
            return value >= arg;
          case '$lt':
            return value < arg;
          case '$in':
            return Array.isArray(arg) && arg.includes(value);
          case '$nin':
            return Array.isArray(arg) && !arg.includes(value);
          case '$regex':
            return new RegExp(String(arg)).test(String(value));
          case '$exists':
            return (value !== undefined) === Boolean(arg);
          case '$eq':
            return value === arg;
          default:
            return false;
        }
      });
    }
    return value === cond;
  });
}

export const handler = async (event) => {
  const { user, password } = JSON.parse(event.body ?? '{}');
  const found = USERS.find((u) => matches(u, { user, password }));
  return {
    statusCode: found ? 200 : 401,
    body: JSON.stringify(found ? { ok: true, role: found.role, marker: 'EPH-PWN' } : { ok: false }),
  };
};
