/**
 * The KFD invariants (design "Invariants"; docs/invariants.md). Each is a function
 * of the world alone, so replay --check and the explorer run them after any event.
 *
 * This module is their table: name, description and registration order. The checks
 * live next to it, one module per kind of rule:
 *  - kfd-handles.ts: handle namespaces of a process (pdds, idr slots, queue and event ids);
 *  - kfd-references.ts: the reference graph (no leaks, no use after free);
 *  - kfd-files.ts: file reference counts and the KFD holders of file references;
 *  - kfd-vram.ts: a pdd's VRAM accounting;
 *  - kfd-restore-queues.ts: queues of a process between CRIU RESTORE and the userptr worker;
 *  - kfd-world.ts: the read-only views of the world they share.
 */
import { boDmabufs, fileRefs, pddDrmFiles } from './kfd-files.js';
import { handlesUnique } from './kfd-handles.js';
import { noLeaks, refsLive } from './kfd-references.js';
import { restoreQueuesWait } from './kfd-restore-queues.js';
import { vramUsage } from './kfd-vram.js';
import { registerFileReferences, registerInvariant } from './index.js';

registerInvariant(
  'kfd.handles-unique',
  'handles are unique per namespace: a BO sits in one idr slot of one pdd, a process has one pdd per GPU and distinct user gpu_ids, queue and event ids match their table keys',
  handlesUnique,
);

registerInvariant(
  'kfd.no-leaks',
  "every object is reachable from a live handle or a kernel reference: a kfd_process from its task, a pdd from p->pdds, a BO from an idr slot or the pdd's kernel BOs, queues, events and SVM ranges from their tables, a GEM object from a kgd_mem or a dma-buf",
  noLeaks,
);

registerFileReferences('kfd.pdd drm_file', pddDrmFiles);
registerFileReferences('kfd.bo dmabuf', boDmabufs);

registerInvariant(
  'kfd.file-refs',
  "every open file's reference count equals its fd-table entries plus the kernel references that can be counted (a pdd's drm_file, a kgd_mem's dma-buf, and those other drivers register)",
  fileRefs,
);

registerInvariant(
  'kfd.refs-live',
  'every reference points to a live object of the right kind (no use after free): task tables, pdd idr slots and the alloc_idr index itself, drm files and queue lists, BO GEM objects and dma-bufs, GEM back-references, dma-buf files',
  refsLive,
);

registerInvariant(
  'kfd.vram-usage',
  "each pdd's vram_usage equals the sum, over the BOs in its alloc_idr allocated with the VRAM flag and not imported, of amdgpu_bo_size (spec §7.3)",
  vramUsage,
);

registerInvariant(
  'kfd.restore-queues-wait',
  'the queues of a restored process do not run before RESUME and the userptr restore worker: while its kfd_process is between RESTORE and the worker, every queue is evicted and every pdd holds an eviction (spec §5.4 step 1, §5.5 step 4)',
  restoreQueuesWait,
);
