// Product page backend (API Gateway HTTP API): reads a product and its stock from an internal
// catalog service with the global `fetch`. Node creates fetch's connection pool (undici's global
// dispatcher) on the first call — inside the first invocation, after INIT — and keeps its
// keep-alive connections for later invocations.
//
// CATALOG_URL: the catalog service's base URL.
const CATALOG_URL = new URL(process.env.CATALOG_URL ?? 'http://127.0.0.1:8080/');

// Product documents change rarely: cache them per environment for a short while.
const productCache = new Map();
const PRODUCT_TTL_MS = 2_000;

async function getJson(path, requestId) {
  const response = await fetch(new URL(path, CATALOG_URL), {
    headers: { accept: 'application/json', 'x-request-id': requestId },
    signal: AbortSignal.timeout(2_000),
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`catalog answered ${response.status} for ${path}`);
  return response.json();
}

async function product(sku, requestId) {
  const cached = productCache.get(sku);
  if (cached && cached.expires > Date.now()) return cached.value;
  const value = await getJson(`products/${encodeURIComponent(sku)}`, requestId);
  productCache.set(sku, { value, expires: Date.now() + PRODUCT_TTL_MS });
  return value;
}

const reply = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'max-age=5' },
  body: JSON.stringify(body),
});

export const handler = async (event, context) => {
  const sku = event.pathParameters?.sku;
  if (!sku) return reply(400, { error: 'sku is required' });
  const [item, stock] = await Promise.all([
    product(sku, context.awsRequestId),
    getJson(
      `stock/${encodeURIComponent(sku)}?warehouse=${event.queryStringParameters?.warehouse ?? 'main'}`,
      context.awsRequestId,
    ),
  ]);
  if (item === undefined) return reply(404, { error: `no product ${sku}` });
  return reply(200, { ...item, stock: stock?.available ?? 0, requestId: context.awsRequestId });
};
