// A small function for the lab's demo and tests: module state survives between warm invocations,
// exactly as it does on AWS Lambda.
let invocations = 0;
const startedAt = Date.now();
let ticks = 0;
setInterval(() => {
  ticks += 1;
}, 10).unref();

export const handler = async (event, context) => {
  invocations += 1;
  const body = typeof event?.body === 'string' ? event.body : undefined;
  const delayMs = Number(event?.queryStringParameters?.delayMs ?? event?.delayMs ?? 0);
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      pid: process.pid,
      invocations,
      ticks,
      ageMs: Date.now() - startedAt,
      requestId: context.awsRequestId,
      echo: body ?? null,
    }),
  };
};
