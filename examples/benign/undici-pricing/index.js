// Price quote function (direct invocation from a checkout workflow): asks a pricing service for list
// prices and a tax service for rates, through an explicit undici Agent with its own keep-alive
// pool. Loading `undici` at INIT also installs its global dispatcher when none exists yet.
//
// PRICING_URL: base URL of the pricing and tax services.
const { Agent, request, fetch: undiciFetch } = require('undici');

const BASE = new URL(process.env.PRICING_URL ?? 'http://127.0.0.1:8080/');
const pricing = new Agent({
  connections: 4,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  headersTimeout: 2_000,
  bodyTimeout: 2_000,
});

async function listPrices(skus) {
  const url = new URL('prices', BASE);
  url.searchParams.set('skus', skus.join(','));
  const { statusCode, body } = await request(url, {
    dispatcher: pricing,
    headers: { accept: 'application/json' },
  });
  if (statusCode !== 200) {
    await body.dump();
    throw new Error(`pricing answered ${statusCode}`);
  }
  return body.json();
}

async function taxRate(country) {
  // undici's own fetch, on the same explicit pool.
  const response = await undiciFetch(new URL(`tax/${encodeURIComponent(country)}`, BASE), {
    dispatcher: pricing,
  });
  if (!response.ok) throw new Error(`tax service answered ${response.status}`);
  return (await response.json()).rate;
}

exports.handler = async (event) => {
  const lines = Array.isArray(event?.lines) ? event.lines : [];
  if (lines.length === 0) return { ok: false, error: 'no lines' };
  const [prices, rate] = await Promise.all([
    listPrices(lines.map((l) => l.sku)),
    taxRate(event.country ?? 'DE'),
  ]);
  let netCents = 0;
  const quoted = lines.map((line) => {
    const unitCents = prices[line.sku];
    if (unitCents === undefined) return { sku: line.sku, available: false };
    const lineCents = unitCents * line.quantity;
    netCents += lineCents;
    return { sku: line.sku, quantity: line.quantity, unitCents, lineCents, available: true };
  });
  const taxCents = Math.round(netCents * rate);
  return { ok: true, currency: 'EUR', lines: quoted, netCents, taxCents, grossCents: netCents + taxCents };
};
