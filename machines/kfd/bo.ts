/**
 * kgd_mem: a KFD buffer object (amdgpu_amdkfd_gpuvm.c, spec §1, §7.2, §11.3).
 *
 * Regions of a live BO:
 *  - `mapping`: per-VM attachments (`kfd_mem_attachment.is_mapped`); the region is
 *    `mapped` while `mapped_to_gpu_memory` > 0, and FREE is refused then (-EBUSY);
 *  - `pages`: userptr validity (`kgd_mem.invalid`): an invalid userptr is not mapped
 *    into page tables until the restore worker revalidates it;
 *  - `export`: whether this kgd_mem holds a dma-buf (EXPORT_DMABUF, CRIU
 *    CHECKPOINT/RESTORE export); the reference is kept until the BO is freed.
 * `is_imported` and `internal` (IB/CWSR BOs below gpuvm_base) are fixed at creation.
 */
import { assign, setup } from 'xstate';

export interface BoContext {
  pid: number;
  /** Actual gpu_id of the pdd whose alloc_idr (or qpd) holds this BO. */
  gpu_id: number;
  /** kgd_mem->va: GPU virtual address, the same on every GPU it is mapped on. */
  va: bigint;
  /** amdgpu_bo_size(bo): bytes actually allocated (half the request for AQL_QUEUE_MEM). */
  size: bigint;
  /** KFD_IOC_ALLOC_MEM_FLAGS_* */
  alloc_flags: number;
  /** World id of the underlying amdgpu_bo (GEM object). */
  gem: string;
  /** User CPU address of a userptr BO (0 otherwise). */
  user_addr: bigint;
  is_imported: boolean;
  /** Kernel-allocated (IB, CWSR): never in alloc_idr, never checkpointed. */
  internal: boolean;
  /** VMs (by actual gpu_id) with an attachment, and whether it is mapped. */
  attachments: Record<number, { is_mapped: boolean }>;
  /** mem->mapped_to_gpu_memory */
  mapped_to_gpu_memory: number;
  /** World file id of the dma-buf, while exported. */
  dmabuf: string | null;
}

export type BoEvent =
  | { type: 'MAP'; vm: number }
  | { type: 'UNMAP'; vm: number }
  | { type: 'INVALIDATE_USERPTR' }
  | { type: 'VALIDATE_USERPTR' }
  | { type: 'EXPORT'; dmabuf: string }
  | { type: 'FREE' };

export type BoInput = Omit<BoContext, 'attachments' | 'mapped_to_gpu_memory' | 'dmabuf'>;

const USERPTR = 1 << 2;

export const boMachine = setup({
  types: {} as { context: BoContext; events: BoEvent; input: BoInput },
  guards: {
    /** An attachment already mapped in that VM: amdgpu_amdkfd_gpuvm_map_memory_to_gpu skips it (the handler never sends MAP then). */
    notMappedInVm: ({ context, event }) => event.type === 'MAP' && context.attachments[event.vm]?.is_mapped !== true,
    /** unmap: `ctx.n_vms == 0` → -EINVAL when the BO is not mapped in that VM. */
    mappedInVm: ({ context, event }) => event.type === 'UNMAP' && context.attachments[event.vm]?.is_mapped === true,
    lastMapping: ({ context, event }) =>
      event.type === 'UNMAP' && context.attachments[event.vm]?.is_mapped === true && context.mapped_to_gpu_memory === 1,
    isUserptr: ({ context }) => (context.alloc_flags & USERPTR) !== 0,
    notUserptr: ({ context }) => (context.alloc_flags & USERPTR) === 0,
  },
  actions: {
    // Every MAP and UNMAP of every BO runs these: plain copies of the two fields, not an
    // immer draft of the whole context (a third of the replay's time went to drafts, issue 4).
    attachAndMap: assign(({ context, event }) =>
      event.type === 'MAP'
        ? {
            attachments: { ...context.attachments, [event.vm]: { is_mapped: true } },
            mapped_to_gpu_memory: context.mapped_to_gpu_memory + 1,
          }
        : {},
    ),
    unmapAttachment: assign(({ context, event }) =>
      event.type === 'UNMAP'
        ? {
            attachments: { ...context.attachments, [event.vm]: { is_mapped: false } },
            mapped_to_gpu_memory: context.mapped_to_gpu_memory - 1,
          }
        : {},
    ),
    setDmabuf: assign(({ event }) => (event.type === 'EXPORT' ? { dmabuf: event.dmabuf } : {})),
  },
}).createMachine({
  id: 'kfd_bo',
  initial: 'live',
  context: ({ input }) => ({ ...input, attachments: {}, mapped_to_gpu_memory: 0, dmabuf: null }),
  states: {
    live: {
      type: 'parallel',
      states: {
        mapping: {
          initial: 'unmapped',
          states: {
            unmapped: {
              on: {
                MAP: { guard: 'notMappedInVm', target: 'mapped', actions: 'attachAndMap' },
                FREE: { target: '#kfd_bo.freed' },
              },
            },
            mapped: {
              on: {
                MAP: { guard: 'notMappedInVm', actions: 'attachAndMap' },
                UNMAP: [
                  { guard: 'lastMapping', target: 'unmapped', actions: 'unmapAttachment' },
                  { guard: 'mappedInVm', actions: 'unmapAttachment' },
                ],
              },
            },
          },
        },
        pages: {
          initial: 'valid',
          states: {
            valid: { on: { INVALIDATE_USERPTR: { guard: 'isUserptr', target: 'invalid' } } },
            /** kgd_mem.invalid: pages must be re-fetched before the mapping is live. */
            invalid: { on: { VALIDATE_USERPTR: { target: 'valid' } } },
          },
        },
        export: {
          initial: 'notExported',
          states: {
            /** amdgpu_gem_prime_export refuses userptr BOs (-EPERM). */
            notExported: { on: { EXPORT: { guard: 'notUserptr', target: 'exported', actions: 'setDmabuf' } } },
            /** kfd_mem_export_dmabuf caches mem->dmabuf until the BO is freed. */
            exported: {},
          },
        },
      },
    },
    freed: { type: 'final' },
  },
});
