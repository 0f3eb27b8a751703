// Build the guard's Lambda layer (see src/layer-build.ts for the layout).
// Usage: node --import tsx scripts/build-layer.mts [OUT_DIR]   (default: packages/guard/layer-build)
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLayer } from '../src/layer-build.js';

export { buildLayer };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = buildLayer(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`layer directory: ${out.dir}\nlayer zip:       ${out.zip}`);
}
