// Sales by product for one month and region.
const groupBy = require('lodash/groupBy');
const sumBy = require('lodash/sumBy');
const orderBy = require('lodash/orderBy');
const { seeded } = require('./sample-data');

exports.build = ({ period, region, top }) => {
  const random = seeded(`sales:${period}:${region}`);
  const sales = Array.from({ length: 120 }, (_, i) => ({
    sku: `SKU-${1 + Math.floor(random() * 30)}`,
    quantity: 1 + Math.floor(random() * 5),
    unitCents: 199 + Math.floor(random() * 9_800),
    day: 1 + (i % 28),
  }));
  const bySku = groupBy(sales, 'sku');
  const rows = Object.entries(bySku).map(([sku, list]) => ({
    sku,
    orders: list.length,
    units: sumBy(list, 'quantity'),
    revenueCents: sumBy(list, (s) => s.quantity * s.unitCents),
  }));
  return orderBy(rows, ['revenueCents', 'sku'], ['desc', 'asc']).slice(0, top);
};
