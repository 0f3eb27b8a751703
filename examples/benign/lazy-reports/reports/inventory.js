// Stock positions below their reorder point.
const sortBy = require('lodash/sortBy');
const { seeded } = require('./sample-data');

exports.build = ({ period, region, top }) => {
  const random = seeded(`inventory:${period}:${region}`);
  const items = Array.from({ length: 60 }, (_, i) => {
    const reorderPoint = 10 + Math.floor(random() * 40);
    return { sku: `SKU-${i + 1}`, onHand: Math.floor(random() * 80), reorderPoint };
  });
  const low = items.filter((item) => item.onHand < item.reorderPoint);
  return sortBy(low, (item) => item.onHand - item.reorderPoint)
    .slice(0, top)
    .map((item) => ({ ...item, shortfall: item.reorderPoint - item.onHand }));
};
