/**
 * Adapters for amdgpu.gem_bo (machines/amdgpu/gem-bo.ts), three model instances:
 *
 *  - a render-node object (GEM_CREATE in F1) shared through its dma-buf with a second file
 *    of the same GPU (F2) and with KFD (IMPORT_DMABUF gives a kgd_mem of the same object):
 *      HANDLE_CREATE {F1,1}     ← GEM_CREATE; PRIME_FD_TO_HANDLE into F1 or F2 (a file without
 *                                 a handle of it: the lowest free handle, 1)
 *      HANDLE_DELETE {file,h}   ← GEM_CLOSE
 *      HANDLE_MOVE {F1,1↔2}     ← GEM_CHANGE_HANDLE
 *      KFD_REF / KFD_UNREF      ← AMDKFD_IOC_IMPORT_DMABUF / FREE_MEMORY_OF_GPU of the import
 *      EXPORT                   ← the first PRIME_HANDLE_TO_FD
 *      DMABUF_ATTACH            ← importing the dma-buf of an orphaned object (fd_to_handle
 *                                 sets obj->dma_buf again)
 *      DMABUF_RELEASED          ← the dma-buf's last reference goes (close of the last fd, or
 *                                 the prime entry / kgd_mem of the object's last handle)
 *      MMAP, SET_PLACEMENT      ← GEM_MMAP, GEM_OP SET_PLACEMENT
 *      FREE                     ← the last reference of any kind goes
 *  - an import of another GPU's dma-buf (PRIME_FD_TO_HANDLE into FB: a new object with
 *    import_attach, which never exports itself);
 *  - an object the proposal's CRIU_OP RESTORE creates (criu-ioctl-v3): LEAK_REF
 *    (amdgpu_criu.c:341), and the object outlives its handle and its dma-buf.
 * The model's labels: files F1, F2, FB; the dma-buf D; kgd_mems M1, M2.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type GemBoContext, type GemBoEvent, gemBoMachine } from '../../../machines/amdgpu/gem-bo.js';
import { encodeCriuV3Priv } from '../../../src/ioctls/amdgpu/criu-v3.js';
import { AMDGPU_GEM_CREATE } from '../../../src/ioctls/amdgpu/uapi.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { AmdgpuWorld, F1, F2, FB, GPU_A, GPU_B, KFD_FD, PAGE } from './amdgpu-world.js';

const ctx = (s: AnyMachineSnapshot) => s.context as GemBoContext;
const handlesIn = (s: AnyMachineSnapshot, f: string) => ctx(s).handles[f] ?? [];
const exportOf = (s: AnyMachineSnapshot) => (s.value as { live: { export: string } }).live.export;
/** Render-node handles plus kgd_mems: handle_count as the kernel counts it. */
const refs = (s: AnyMachineSnapshot) => ctx(s).handle_count + ctx(s).kgd_mems.length;

const SIZE = 3n * PAGE;
const FD_OF: Record<string, number> = { F1, F2, FB };

class GemWorld extends AmdgpuWorld {
  /** The application's fd of the object's dma-buf, while it holds one. */
  dmabufFd: number | undefined;
  /** KFD handles of the imports (M1, M2). */
  kfd: bigint[] = [];
}

interface Env {
  created: boolean;
  /** The application holds an fd of the dma-buf. */
  fd: boolean;
  /** kgd_mems importing the object (0..2). */
  kfd: number;
}

const events: GemBoEvent[] = [
  { type: 'HANDLE_CREATE', file: 'F1', handle: 1 },
  { type: 'HANDLE_CREATE', file: 'F2', handle: 1 },
  { type: 'HANDLE_DELETE', file: 'F1', handle: 1 },
  { type: 'HANDLE_DELETE', file: 'F1', handle: 2 },
  { type: 'HANDLE_DELETE', file: 'F2', handle: 1 },
  { type: 'HANDLE_MOVE', file: 'F1', handle: 1, new_handle: 2 },
  { type: 'HANDLE_MOVE', file: 'F1', handle: 2, new_handle: 1 },
  { type: 'KFD_REF', mem: 'M1' },
  { type: 'KFD_REF', mem: 'M2' },
  { type: 'KFD_UNREF', mem: 'M1' },
  { type: 'KFD_UNREF', mem: 'M2' },
  { type: 'EXPORT', dmabuf: 'D' },
  { type: 'DMABUF_ATTACH', dmabuf: 'D' },
  { type: 'DMABUF_RELEASED', dmabuf: 'D' },
  { type: 'MMAP' },
  { type: 'SET_PLACEMENT' },
  { type: 'LEAK_REF' },
  { type: 'FREE' },
];

const abstract = (c: GemBoContext) => ({
  handles: c.handles,
  kgd_mems: c.kgd_mems,
  dmabuf: c.dmabuf !== null,
  leaked: c.leaked_refs,
});

/** What must agree between the world object and the model (labels of files and kgd_mems differ). */
const project = (c: GemBoContext) => ({
  gpu_id: c.gpu_id,
  size: c.size,
  flags: c.flags,
  userptr: c.userptr,
  import: c.import_attach !== null,
  handle_count: c.handle_count,
  handles: Object.values(c.handles)
    .flat()
    .sort((a, b) => a - b),
  kgd_mems: c.kgd_mems.length,
  dmabuf: c.dmabuf !== null,
  leaked_refs: c.leaked_refs,
});

/** A file of the application that has a handle of the object, and that handle. */
function someHandle(s: AnyMachineSnapshot): { fd: number; handle: number } {
  for (const f of ['F1', 'F2', 'FB']) {
    const h = handlesIn(s, f);
    if (h.length) return { fd: FD_OF[f]!, handle: h[0]! };
  }
  throw new Error('the object has no render-node handle');
}

const hasHandle = (s: AnyMachineSnapshot) => ctx(s).handle_count > 0;

/** GEM_CLOSE of one handle, one macro per outcome of the last-reference rules. */
function closeMacros(file: string, handle: number): Macro<GemWorld, Env>[] {
  const has = (s: AnyMachineSnapshot) => handlesIn(s, file).includes(handle);
  const del = { type: 'HANDLE_DELETE', file, handle };
  const run = (w: GemWorld) => w.ioctl('DRM_IOCTL_GEM_CLOSE', FD_OF[file]!, { handle });
  return [
    {
      name: `GEM_CLOSE ${file}:${handle} (other references remain)`,
      effect: [del],
      when: (_, s) => has(s) && refs(s) > 1,
      run,
    },
    {
      name: `GEM_CLOSE ${file}:${handle} (last reference, never exported)`,
      effect: [del, 'FREE'],
      when: (_, s) => has(s) && refs(s) === 1 && exportOf(s) === 'none',
      run,
    },
    {
      name: `GEM_CLOSE ${file}:${handle} (last handle, the dma-buf fd still open)`,
      effect: [del],
      when: (env, s) => has(s) && refs(s) === 1 && exportOf(s) === 'exported' && env.fd,
      run,
    },
    {
      name: `GEM_CLOSE ${file}:${handle} (last handle, its prime entry was the dma-buf's last reference)`,
      effect: [del, 'DMABUF_RELEASED', 'FREE'],
      when: (env, s) => has(s) && refs(s) === 1 && exportOf(s) === 'exported' && !env.fd,
      run,
    },
  ];
}

/** PRIME_FD_TO_HANDLE of the dma-buf into a file where the object has no handle. */
function importMacros(file: string): Macro<GemWorld, Env>[] {
  const create = { type: 'HANDLE_CREATE', file, handle: 1 };
  const run = (w: GemWorld) => {
    const out = w.ioctl('DRM_IOCTL_PRIME_FD_TO_HANDLE', FD_OF[file]!, { fd: w.dmabufFd });
    if (out.handle !== 1) throw new Error(`PRIME_FD_TO_HANDLE into ${file} gave handle ${String(out.handle)}`);
  };
  const empty = (s: AnyMachineSnapshot) => handlesIn(s, file).length === 0;
  return [
    {
      name: `PRIME_FD_TO_HANDLE into ${file}`,
      effect: [create],
      when: (env, s) => env.fd && empty(s) && exportOf(s) === 'exported',
      run,
    },
    {
      name: `PRIME_FD_TO_HANDLE into ${file} (orphaned object: obj->dma_buf set again)`,
      effect: ['DMABUF_ATTACH', create],
      when: (env, s) => env.fd && empty(s) && exportOf(s) === 'orphaned',
      run,
    },
  ];
}

function kfdImport(n: 1 | 2): Macro<GemWorld, Env>[] {
  const ref = { type: 'KFD_REF', mem: `M${n}` };
  const run = (w: GemWorld) => {
    const out = w.ioctl('AMDKFD_IOC_IMPORT_DMABUF', KFD_FD, {
      va_addr: 0x7f0000000000n + BigInt(n) * 0x100000n,
      gpu_id: GPU_A,
      dmabuf_fd: w.dmabufFd,
    });
    w.kfd.push(out.handle as bigint);
  };
  const next = (env: Env) => ({ ...env, kfd: env.kfd + 1 });
  return [
    {
      name: `IMPORT_DMABUF #${n}`,
      effect: [ref],
      when: (env, s) => env.fd && env.kfd === n - 1 && exportOf(s) === 'exported',
      next,
      run,
    },
    {
      name: `IMPORT_DMABUF #${n} (orphaned object)`,
      effect: ['DMABUF_ATTACH', ref],
      when: (env, s) => env.fd && env.kfd === n - 1 && exportOf(s) === 'orphaned',
      next,
      run,
    },
  ];
}

function kfdFree(n: 1 | 2): Macro<GemWorld, Env>[] {
  const unref = { type: 'KFD_UNREF', mem: `M${n}` };
  const run = (w: GemWorld) => w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', KFD_FD, { handle: w.kfd.pop() });
  const next = (env: Env) => ({ ...env, kfd: env.kfd - 1 });
  const mine = (env: Env) => env.kfd === n;
  return [
    {
      name: `FREE_MEMORY_OF_GPU import #${n} (other references remain)`,
      effect: [unref],
      when: (env, s) => mine(env) && refs(s) > 1,
      next,
      run,
    },
    {
      name: `FREE_MEMORY_OF_GPU import #${n} (last reference, the dma-buf fd still open)`,
      effect: [unref],
      when: (env, s) => mine(env) && refs(s) === 1 && env.fd,
      next,
      run,
    },
    {
      name: `FREE_MEMORY_OF_GPU import #${n} (last reference, its dma-buf reference the last)`,
      effect: [unref, 'DMABUF_RELEASED', 'FREE'],
      when: (env, s) => mine(env) && refs(s) === 1 && !env.fd,
      next,
      run,
    },
  ];
}

export const gemBoCreatedAdapter: Adapter<GemWorld, Env> = {
  name: 'amdgpu_gem_bo (GEM_CREATE)',
  machine: gemBoMachine,
  // GEM_CREATE adds VRAM_CLEARED to every object ("always clear VRAM").
  input: { gpu_id: GPU_A, size: SIZE, flags: AMDGPU_GEM_CREATE.VRAM_CLEARED, userptr: false, import_attach: null },
  events,
  abstract,
  project,
  initialEnv: { created: false, fd: false, kfd: 0 },
  setup: () => {
    const w = new GemWorld();
    w.acquireVm();
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    {
      name: 'GEM_CREATE in F1',
      effect: [{ type: 'HANDLE_CREATE', file: 'F1', handle: 1 }],
      when: (env) => !env.created,
      next: (env) => ({ ...env, created: true }),
      run: (w) => {
        const out = w.ioctl('DRM_IOCTL_AMDGPU_GEM_CREATE', F1, { bo_size: SIZE, domains: ['GTT'] });
        w.subject = w.gemObject(F1, out.handle as number);
      },
    },
    {
      name: 'GEM_MMAP',
      effect: ['MMAP'],
      when: (_, s) => hasHandle(s),
      run: (w, m) => {
        const { fd, handle } = someHandle(m.before);
        w.ioctl('DRM_IOCTL_AMDGPU_GEM_MMAP', fd, { handle });
      },
    },
    {
      name: 'GEM_OP SET_PLACEMENT (VRAM | GTT)',
      effect: ['SET_PLACEMENT'],
      when: (_, s) => hasHandle(s),
      run: (w, m) => {
        const { fd, handle } = someHandle(m.before);
        w.ioctl('DRM_IOCTL_AMDGPU_GEM_OP', fd, { handle, op: 'SET_PLACEMENT', value: 6 });
      },
    },
    {
      name: 'PRIME_HANDLE_TO_FD (first export)',
      effect: [{ type: 'EXPORT' }],
      when: (env, s) => !env.fd && hasHandle(s) && exportOf(s) === 'none',
      next: (env) => ({ ...env, fd: true }),
      run: (w, m) => {
        const { fd, handle } = someHandle(m.before);
        w.dmabufFd = w.ioctl('DRM_IOCTL_PRIME_HANDLE_TO_FD', fd, { handle, flags: 0 }).fd as number;
      },
    },
    {
      name: 'PRIME_HANDLE_TO_FD (the same dma-buf again)',
      effect: [],
      when: (env, s) => !env.fd && hasHandle(s) && exportOf(s) === 'exported',
      next: (env) => ({ ...env, fd: true }),
      run: (w, m) => {
        const { fd, handle } = someHandle(m.before);
        w.dmabufFd = w.ioctl('DRM_IOCTL_PRIME_HANDLE_TO_FD', fd, { handle, flags: 0 }).fd as number;
      },
    },
    {
      name: 'close(dma-buf fd) (the object still holds it)',
      effect: [],
      when: (env, s) => env.fd && exportOf(s) === 'exported',
      next: (env) => ({ ...env, fd: false }),
      run: (w) => w.call(100, 'close', { fd: w.dmabufFd }),
    },
    {
      name: 'close(dma-buf fd) of an orphaned object (its last reference)',
      effect: ['DMABUF_RELEASED', 'FREE'],
      when: (env, s) => env.fd && exportOf(s) === 'orphaned',
      next: (env) => ({ ...env, fd: false }),
      run: (w) => w.call(100, 'close', { fd: w.dmabufFd }),
    },
    ...importMacros('F1'),
    ...importMacros('F2'),
    {
      name: 'GEM_CHANGE_HANDLE F1 1 → 2',
      effect: [{ type: 'HANDLE_MOVE', file: 'F1', handle: 1, new_handle: 2 }],
      when: (_, s) => handlesIn(s, 'F1').join() === '1',
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CHANGE_HANDLE', F1, { handle: 1, new_handle: 2 }),
    },
    {
      name: 'GEM_CHANGE_HANDLE F1 2 → 1',
      effect: [{ type: 'HANDLE_MOVE', file: 'F1', handle: 2, new_handle: 1 }],
      when: (_, s) => handlesIn(s, 'F1').join() === '2',
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CHANGE_HANDLE', F1, { handle: 2, new_handle: 1 }),
    },
    ...closeMacros('F1', 1),
    ...closeMacros('F1', 2),
    // F2 only gets a handle by importing the dma-buf: never "never exported".
    ...closeMacros('F2', 1).filter((m) => !m.name.includes('never exported')),
    ...kfdImport(1),
    // A second import needs the first: the object is never orphaned then, nor is #2 its last reference.
    ...kfdImport(2).filter((m) => !m.name.includes('orphaned')),
    ...kfdFree(1),
    ...kfdFree(2).filter((m) => m.name.includes('other references remain')),
  ],
};

/** An object of GPU A exported from F1, imported into GPU B's render node (FB): the subject is the import. */
export const gemBoImportAdapter: Adapter<GemWorld, { imported: boolean }> = {
  name: 'amdgpu_gem_bo (import of another GPU’s dma-buf)',
  machine: gemBoMachine,
  input: { gpu_id: GPU_B, size: SIZE, flags: 0, userptr: false, import_attach: 'D' },
  events: [
    { type: 'HANDLE_CREATE', file: 'FB', handle: 1 },
    { type: 'HANDLE_DELETE', file: 'FB', handle: 1 },
    { type: 'MMAP' },
    { type: 'SET_PLACEMENT' },
    { type: 'EXPORT', dmabuf: 'D' },
    { type: 'FREE' },
  ],
  abstract,
  project,
  initialEnv: { imported: false },
  setup: () => {
    const w = new GemWorld();
    const out = w.ioctl('DRM_IOCTL_AMDGPU_GEM_CREATE', F1, { bo_size: SIZE, domains: ['VRAM'] });
    w.dmabufFd = w.ioctl('DRM_IOCTL_PRIME_HANDLE_TO_FD', F1, { handle: out.handle, flags: 0 }).fd as number;
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    {
      name: 'PRIME_FD_TO_HANDLE into FB (GPU B)',
      effect: [{ type: 'HANDLE_CREATE', file: 'FB', handle: 1 }],
      when: (env) => !env.imported,
      next: () => ({ imported: true }),
      run: (w) => {
        const out = w.ioctl('DRM_IOCTL_PRIME_FD_TO_HANDLE', FB, { fd: w.dmabufFd });
        w.subject = w.gemObject(FB, out.handle as number);
      },
    },
    {
      name: 'GEM_MMAP (FB)',
      effect: ['MMAP'],
      when: (_, s) => hasHandle(s),
      run: (w) => w.ioctl('DRM_IOCTL_AMDGPU_GEM_MMAP', FB, { handle: 1 }),
    },
    {
      name: 'GEM_OP SET_PLACEMENT GTT (FB)',
      effect: ['SET_PLACEMENT'],
      when: (_, s) => hasHandle(s),
      run: (w) => w.ioctl('DRM_IOCTL_AMDGPU_GEM_OP', FB, { handle: 1, op: 'SET_PLACEMENT', value: 2 }),
    },
    {
      name: 'GEM_CLOSE FB:1 (the import goes with its last handle)',
      effect: [{ type: 'HANDLE_DELETE', file: 'FB', handle: 1 }, 'FREE'],
      when: (_, s) => hasHandle(s),
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CLOSE', FB, { handle: 1 }),
    },
  ],
};

/** One bucket restored by the proposal's CRIU_OP RESTORE into a fresh file F2 (GPU A). */
export const gemBoProposalAdapter: Adapter<GemWorld, { restored: boolean; fd: boolean }> = {
  name: 'amdgpu_gem_bo (criu-ioctl-v3 RESTORE)',
  machine: gemBoMachine,
  input: { gpu_id: GPU_A, size: PAGE, flags: 0, userptr: false, import_attach: null },
  events: [
    { type: 'HANDLE_CREATE', file: 'F2', handle: 1 },
    { type: 'HANDLE_DELETE', file: 'F2', handle: 1 },
    { type: 'LEAK_REF' },
    { type: 'EXPORT', dmabuf: 'D' },
    { type: 'DMABUF_RELEASED', dmabuf: 'D' },
    { type: 'MMAP' },
    { type: 'FREE' },
  ],
  abstract,
  project,
  initialEnv: { restored: false, fd: false },
  setup: () => new GemWorld({ 'amdgpu-criu': 'criu-ioctl-v3' }),
  subject: (w) => w.subject,
  macros: [
    {
      // amdgpu_criu.c:334-351: created, handle 1 (= its saved handle by luck), the creation
      // reference leaked, the saved handle exported to an fd of the caller.
      name: 'CRIU_OP RESTORE of one bucket (saved handle 1)',
      effect: [{ type: 'HANDLE_CREATE', file: 'F2', handle: 1 }, 'LEAK_REF', { type: 'EXPORT' }],
      when: (env) => !env.restored,
      next: () => ({ restored: true, fd: true }),
      run: (w) => {
        const out = w.ioctl('DRM_IOCTL_AMDGPU_CRIU_OP', F2, {
          op: 'RESTORE',
          bos: [{ size: PAGE, preferred_domains: ['GTT'] }],
          priv_data: Buffer.from(encodeCriuV3Priv([{ idr_handle: 1 }], [])).toString('hex'),
          num_objs: 0,
        });
        w.subject = w.gemObject(F2, 1);
        w.dmabufFd = (out.bos as { dmabuf_fd: number }[])[0]!.dmabuf_fd;
      },
    },
    {
      name: 'GEM_MMAP (F2)',
      effect: ['MMAP'],
      when: (_, s) => hasHandle(s),
      run: (w) => w.ioctl('DRM_IOCTL_AMDGPU_GEM_MMAP', F2, { handle: 1 }),
    },
    {
      name: 'GEM_CLOSE F2:1 (the leaked reference keeps the object)',
      effect: [{ type: 'HANDLE_DELETE', file: 'F2', handle: 1 }],
      when: (env, s) => hasHandle(s) && env.fd,
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CLOSE', F2, { handle: 1 }),
    },
    {
      name: 'GEM_CLOSE F2:1 after the dma-buf fd was closed',
      effect: [{ type: 'HANDLE_DELETE', file: 'F2', handle: 1 }, 'DMABUF_RELEASED'],
      when: (env, s) => hasHandle(s) && !env.fd,
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CLOSE', F2, { handle: 1 }),
    },
    {
      name: 'close(dma-buf fd) while the handle lives',
      effect: [],
      when: (env, s) => env.fd && hasHandle(s),
      next: (env) => ({ ...env, fd: false }),
      run: (w) => w.call(100, 'close', { fd: w.dmabufFd }),
    },
    {
      name: 'close(dma-buf fd) after the handle went: the object stays (leaked)',
      effect: ['DMABUF_RELEASED'],
      when: (env, s) => env.fd && !hasHandle(s),
      next: (env) => ({ ...env, fd: false }),
      run: (w) => w.call(100, 'close', { fd: w.dmabufFd }),
    },
  ],
};
