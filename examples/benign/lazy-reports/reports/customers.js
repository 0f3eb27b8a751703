// Customers by lifetime value, with their first and last order dates.
const maxBy = require('lodash/maxBy');
const minBy = require('lodash/minBy');
const { seeded } = require('./sample-data');

exports.build = ({ period, region, top }) => {
  const random = seeded(`customers:${period}:${region}`);
  const [year, month] = period.split('-').map(Number);
  const rows = Array.from({ length: 40 }, (_, i) => {
    const orders = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({
      at: new Date(Date.UTC(year, month - 1, 1 + Math.floor(random() * 28))),
      cents: 500 + Math.floor(random() * 20_000),
    }));
    return {
      customer: `C${String(i + 1).padStart(4, '0')}`,
      orders: orders.length,
      valueCents: orders.reduce((sum, o) => sum + o.cents, 0),
      firstOrder: minBy(orders, 'at').at.toISOString().slice(0, 10),
      lastOrder: maxBy(orders, 'at').at.toISOString().slice(0, 10),
    };
  });
  return rows.sort((a, b) => b.valueCents - a.valueCents).slice(0, top);
};
