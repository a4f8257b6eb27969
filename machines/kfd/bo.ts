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
import { contextSchema, nullableRef, numberRef } from '../context-schema.js';
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
  /**
   * mem->attachments: one entry per VM (actual gpu_id) the BO is attached to, in gpu_id order,
   * and whether it is mapped. A list, not a record keyed by gpu_id: gpu_ids are integers above
   * 1024, which V8 keeps in a dictionary, and every MAP and UNMAP copies this field.
   */
  attachments: BoAttachment[];
  /** mem->mapped_to_gpu_memory */
  mapped_to_gpu_memory: number;
  /** World file id of the dma-buf, while exported. */
  dmabuf: string | null;
}

/** kfd_mem_attachment: the BO in one VM. */
export interface BoAttachment {
  /** The actual gpu_id of the VM. */
  vm: number;
  is_mapped: boolean;
}

/** BoContext read back from a snapshot (machines/context-schema.ts). */
export const boContextSpec = contextSchema<BoContext>()(
  ({ z, u32, u64, worldId }) =>
    z.strictObject({
      pid: u32,
      gpu_id: u32,
      va: u64,
      size: u64,
      alloc_flags: u32,
      gem: worldId,
      user_addr: u64,
      is_imported: z.boolean(),
      internal: z.boolean(),
      attachments: z.array(z.strictObject({ vm: u32, is_mapped: z.boolean() })),
      mapped_to_gpu_memory: u32,
      dmabuf: worldId.nullable(),
    }),
  (c) => [
    numberRef('pid', c.pid, 'tasks'),
    numberRef('gpu_id', c.gpu_id, 'gpus'),
    { path: 'gem', store: 'gems', id: c.gem },
    ...c.attachments.map((a, i) => numberRef(`attachments[${i}].vm`, a.vm, 'gpus')),
    ...nullableRef('dmabuf', c.dmabuf, 'files'),
  ],
);

/** The BO's attachment in a VM, if attached. */
export function attachmentIn(c: Pick<BoContext, 'attachments'>, vm: number): BoAttachment | undefined {
  for (const a of c.attachments) if (a.vm === vm) return a;
  return undefined;
}

/** Whether the BO is mapped in a VM (kfd_mem_attachment.is_mapped). */
export function isMappedIn(c: Pick<BoContext, 'attachments'>, vm: number): boolean {
  return attachmentIn(c, vm)?.is_mapped === true;
}

/** The VMs (actual gpu_ids) the BO is mapped in, ascending. */
export function mappedVms(c: Pick<BoContext, 'attachments'>): number[] {
  const out: number[] = [];
  for (const a of c.attachments) if (a.is_mapped) out.push(a.vm);
  return out;
}

/** The attachments with the one of `vm` set to `is_mapped` (added in gpu_id order if new). */
function withAttachment(list: BoAttachment[], vm: number, is_mapped: boolean): BoAttachment[] {
  const out: BoAttachment[] = [];
  let placed = false;
  for (const a of list) {
    if (!placed && a.vm >= vm) {
      out.push({ vm, is_mapped });
      placed = true;
      if (a.vm === vm) continue;
    }
    out.push(a);
  }
  if (!placed) out.push({ vm, is_mapped });
  return out;
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
    notMappedInVm: ({ context, event }) => event.type === 'MAP' && !isMappedIn(context, event.vm),
    /** unmap: `ctx.n_vms == 0` → -EINVAL when the BO is not mapped in that VM. */
    mappedInVm: ({ context, event }) => event.type === 'UNMAP' && isMappedIn(context, event.vm),
    lastMapping: ({ context, event }) =>
      event.type === 'UNMAP' && isMappedIn(context, event.vm) && context.mapped_to_gpu_memory === 1,
    isUserptr: ({ context }) => (context.alloc_flags & USERPTR) !== 0,
    notUserptr: ({ context }) => (context.alloc_flags & USERPTR) === 0,
  },
  actions: {
    // Every MAP and UNMAP of every BO runs these: plain copies of the two fields, not an
    // immer draft of the whole context (a third of the replay's time went to drafts, issue 4).
    attachAndMap: assign(({ context, event }) =>
      event.type === 'MAP'
        ? {
            attachments: withAttachment(context.attachments, event.vm, true),
            mapped_to_gpu_memory: context.mapped_to_gpu_memory + 1,
          }
        : {},
    ),
    unmapAttachment: assign(({ context, event }) =>
      event.type === 'UNMAP'
        ? {
            attachments: withAttachment(context.attachments, event.vm, false),
            mapped_to_gpu_memory: context.mapped_to_gpu_memory - 1,
          }
        : {},
    ),
    setDmabuf: assign(({ event }) => (event.type === 'EXPORT' ? { dmabuf: event.dmabuf } : {})),
  },
}).createMachine({
  id: 'kfd_bo',
  initial: 'live',
  // Field by field: `{ ...input, more }` takes V8's slow path (several µs) and every ALLOC pays it.
  context: ({ input }) => ({
    pid: input.pid,
    gpu_id: input.gpu_id,
    va: input.va,
    size: input.size,
    alloc_flags: input.alloc_flags,
    gem: input.gem,
    user_addr: input.user_addr,
    is_imported: input.is_imported,
    internal: input.internal,
    attachments: [],
    mapped_to_gpu_memory: 0,
    dmabuf: null,
  }),
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
