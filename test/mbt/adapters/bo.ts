/**
 * Adapters for kfd_bo (machines/kfd/bo.ts): a GTT BO and a userptr BO of the application
 * on GPU A (two model instances: the machine's input fixes alloc_flags, and the guards
 * read them).
 *
 *   ATTACH {vm}              ← a first MAP_MEMORY_TO_GPU of vm that maps nothing (a VA range another
 *                              BO maps there: -EINVAL), the entries of kfd_mem_attach staying
 *   MAP {vm}                 ← MAP_MEMORY_TO_GPU {device_ids: [vm]}; CRIU RESTORE of a BO whose
 *                              mapped_gpuids name vm (§5.4 step 4)
 *   UNMAP {vm}               ← UNMAP_MEMORY_FROM_GPU {device_ids: [vm]}; exit (kfd_process_device_free_bos)
 *   EXPORT                   ← EXPORT_DMABUF; CRIU CHECKPOINT of a VRAM/GTT BO (criu_get_prime_handle, §5.2.4)
 *   INVALIDATE_USERPTR       ← CRIU RESTORE of a userptr BO (criu_resume: pages not populated, §5.4)
 *   VALIDATE_USERPTR         ← kfd.restore_userptr_worker after RESUME (§5.5 step 4)
 *   FREE                     ← FREE_MEMORY_OF_GPU of an unmapped BO; exit
 *   (export stays `exported` until FREE: the kgd_mem caches mem->dmabuf and holds a reference)
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { BoContext, BoEvent } from '../../../machines/kfd/bo.js';
import { boMachine, mappedVms } from '../../../machines/kfd/bo.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import {
  SAMPLE_BO_SIZE as SIZE,
  SAMPLE_BO_VA as VA,
  SAMPLE_USER_ADDR as USER_ADDR,
  sampleBoEvents,
  userptrRestoreBo,
} from '../../../src/mbt/sample-bo.js';
import { APP, ERRNO, GPU_A, GPU_B, KfdWorld, MAKE_HANDLE, type Mmu, resumeAndWorkerMacros } from './world.js';

const HANDLE = MAKE_HANDLE(GPU_A, 0);
const GTT = 1 << 1;
const USERPTR = 1 << 2;
const WRITABLE = 1 << 31;
const O_RDWR_CLOEXEC = 0o2 | 0o2000000;

const ctx = (s: AnyMachineSnapshot) => s.context as BoContext;
const mappedOn = (c: BoContext) => mappedVms(c).sort((x, y) => x - y);
const attachedOn = (s: AnyMachineSnapshot, vm: number) => ctx(s).attachments.some((a) => a.vm === vm);
const gpuName = (vm: number) => (vm === GPU_A ? 'A' : 'B');

interface Env {
  /** The BO exists (created by ALLOC or by RESTORE). */
  created: boolean;
  /** The process's mmu region: RESTORE blocks, RESUME queues the userptr worker. */
  mmu: Mmu;
}

const events: BoEvent[] = sampleBoEvents(GPU_A, GPU_B, 'dmabuf');

function input(flags: number) {
  return {
    pid: APP,
    gpu_id: GPU_A,
    va: VA,
    size: SIZE,
    alloc_flags: (flags | WRITABLE) >>> 0,
    gem: 'gem',
    user_addr: flags & USERPTR ? USER_ADDR : 0n,
    is_imported: false,
    internal: false,
  };
}

const abstract = (c: BoContext) => ({
  attached: c.attachments.map((a) => a.vm),
  mapped: mappedOn(c),
  count: c.mapped_to_gpu_memory,
  exported: c.dmabuf !== null,
});
const project = (c: BoContext) => ({
  attached: c.attachments.map((a) => a.vm),
  mapped: mappedOn(c),
  mapped_to_gpu_memory: c.mapped_to_gpu_memory,
  exported: c.dmabuf !== null,
  va: c.va,
  size: c.size,
  alloc_flags: c.alloc_flags,
  user_addr: c.user_addr,
});

/** MAP / UNMAP / FREE / exit: the same calls for both kinds of BO. */
function commonMacros(): Macro<KfdWorld, Env>[] {
  const created = (env: Env) => env.created;
  const macros: Macro<KfdWorld, Env>[] = [];
  for (const [name, vm] of [
    ['A', GPU_A],
    ['B', GPU_B],
  ] as const) {
    macros.push({
      name: `MAP_MEMORY_TO_GPU [${name}]`,
      effect: [{ type: 'MAP', vm }],
      when: created,
      run: (w) => w.map(HANDLE, [vm]),
    });
    macros.push({
      name: `UNMAP_MEMORY_FROM_GPU [${name}]`,
      effect: [{ type: 'UNMAP', vm }],
      when: created,
      run: (w) => w.unmap(HANDLE, [vm]),
    });
  }
  macros.push({
    name: 'MAP_MEMORY_TO_GPU [A, B]',
    effect: [
      { type: 'MAP', vm: GPU_A },
      { type: 'MAP', vm: GPU_B },
    ],
    when: created,
    run: (w) => w.map(HANDLE, [GPU_A, GPU_B]),
  });
  // kfd_mem_attach comes before the mapping and is not undone when amdgpu_vm_bo_map refuses the
  // range (another BO maps it in that VM): the BO is attached, not mapped. The other BO goes again.
  macros.push({
    name: 'MAP_MEMORY_TO_GPU [B] over another BO mapped there (-EINVAL)',
    effect: [{ type: 'ATTACH', vm: GPU_B }],
    when: (env, s) => env.created && !attachedOn(s, GPU_B),
    run: (w) => {
      const other = w.alloc(GPU_B, VA, SIZE, ['GTT', 'WRITABLE']);
      w.map(other, [GPU_B]);
      w.map(HANDLE, [GPU_B], -ERRNO.EINVAL);
      w.unmap(other, [GPU_B]);
      w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: other });
    },
  });
  macros.push({
    name: 'FREE_MEMORY_OF_GPU',
    effect: ['FREE'],
    when: created,
    run: (w) => w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: HANDLE }),
  });
  // exit: kfd_process_device_free_bos unmaps the BO from every VM it is mapped in
  // (attachments in gpu_id order), then frees it.
  for (const vms of [[], [GPU_A], [GPU_B], [GPU_B, GPU_A]] as number[][])
    macros.push({
      name: `exit (mapped on ${vms.length ? vms.map(gpuName).join(', ') : 'none'})`,
      effect: [...vms.map((vm) => ({ type: 'UNMAP', vm })), 'FREE'],
      when: (env, s) => env.created && mappedOn(ctx(s)).join() === [...vms].sort((x, y) => x - y).join(),
      run: (w) => w.exit(),
    });
  return macros;
}

function checkpointDump(w: KfdWorld): void {
  const info = w.criu({ op: 'PROCESS_INFO' });
  w.criu({
    op: 'CHECKPOINT',
    devices: [],
    bos: [],
    priv_data: '',
    num_devices: info.num_devices,
    num_bos: info.num_bos,
    num_objects: info.num_objects,
    priv_data_size: info.priv_data_size,
  });
  w.criu({ op: 'UNPAUSE' });
}

export const boGttAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_bo (GTT)',
  machine: boMachine,
  input: input(GTT),
  events,
  abstract,
  project,
  initialEnv: { created: true, mmu: 'notifying' },
  setup: () => {
    const w = new KfdWorld();
    w.acquireVm(GPU_A);
    w.acquireVm(GPU_B);
    w.subject = w.boId(w.alloc(GPU_A, VA, SIZE, ['GTT', 'WRITABLE']));
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    ...commonMacros(),
    {
      name: 'EXPORT_DMABUF',
      effect: ['EXPORT'],
      run: (w) => w.ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: HANDLE, flags: O_RDWR_CLOEXEC }),
    },
    {
      name: 'CRIU_OP PROCESS_INFO + CHECKPOINT + UNPAUSE',
      effect: ['EXPORT'],
      run: (w) => checkpointDump(w),
    },
  ],
};

function restoreUserptr(w: KfdWorld, mapped: number[]): void {
  w.restore({ bos: [userptrRestoreBo(GPU_A, mapped)] });
  w.subject = w.boId(HANDLE);
}

export const boUserptrAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_bo (userptr)',
  machine: boMachine,
  input: input(USERPTR),
  events,
  abstract,
  project,
  initialEnv: { created: false, mmu: 'notifying' },
  setup: () => new KfdWorld(),
  subject: (w) => w.subject,
  macros: [
    {
      name: 'ACQUIRE_VM A, B + ALLOC_MEMORY_OF_GPU USERPTR on A',
      effect: [],
      when: (env) => !env.created,
      next: (env) => ({ ...env, created: true }),
      run: (w) => {
        w.acquireVm(GPU_A);
        w.acquireVm(GPU_B);
        w.subject = w.boId(w.alloc(GPU_A, VA, SIZE, ['USERPTR', 'WRITABLE'], USER_ADDR));
      },
    },
    {
      name: 'CRIU_OP RESTORE (userptr BO)',
      effect: ['INVALIDATE_USERPTR'],
      when: (env) => !env.created,
      next: (env) => ({ ...env, created: true, mmu: 'blocked' }),
      run: (w) => restoreUserptr(w, []),
    },
    {
      name: 'CRIU_OP RESTORE (userptr BO mapped on A)',
      effect: ['INVALIDATE_USERPTR', { type: 'MAP', vm: GPU_A }],
      when: (env) => !env.created,
      next: (env) => ({ ...env, created: true, mmu: 'blocked' }),
      run: (w) => restoreUserptr(w, [GPU_A]),
    },
    ...resumeAndWorkerMacros<Env>(['VALIDATE_USERPTR']),
    ...commonMacros(),
  ],
};
