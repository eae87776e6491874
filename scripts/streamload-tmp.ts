import { readFileSync } from 'node:fs';
import { createLogClient } from '../client/log-client.js';
import { entry } from './bench/stats.js';

const [address, dir, n] = process.argv.slice(2);
const c = createLogClient({ address: address!, verifierKey: readFileSync(`${dir}/log.vkey`, 'utf8').trim() });
const t = performance.now();
await Promise.all(
  [0, 1, 2, 3].map((s) =>
    c.appendMany(
      (function* () {
        for (let i = 0; i < Number(n) / 4; i++) yield entry(i, 500 + s);
      })(),
      { chunkSize: 1000, inFlight: 4 },
    ),
  ),
);
console.log('streamed', Math.round(Number(n) / ((performance.now() - t) / 1000)), '/s');
c.close();
