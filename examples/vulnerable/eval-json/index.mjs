// Parses the request body with eval: code in the body runs.
export const handler = async (event) => {
  // biome-ignore lint/security/noGlobalEval: the vulnerability under test
  const input = eval(`(${event.body})`);
  return { statusCode: 200, body: JSON.stringify({ ok: true, input }) };
};
