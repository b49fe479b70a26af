// The bundled sample host (the `demo` command, and the examples of docs/): 2 nodes × 8 cores × 2
// threads, cpu i and i+16 siblings, node 0 = 0-7,16-23; cores 0 and 1 (CPUs 0,1,16,17) stay out
// of the pool for the host; each node has 512 free 2 MiB pages and 4 free 1 GiB pages.
import { fakeHost } from './host.js';

export const SAMPLE_HOST = fakeHost({
  nodes: 2,
  coresPerNode: 8,
  threads: 2,
  siblings: 'intel',
  pool: '2-15,18-31',
  hugepages: [0, 1].flatMap((node) => [
    { node, sizeKb: 2048, total: 512, free: 512 },
    { node, sizeKb: 1048576, total: 4, free: 4 },
  ]),
});
