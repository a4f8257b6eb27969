/**
 * kgd_mem: a KFD buffer object (amdgpu_amdkfd_gpuvm.c, spec §1, §7.2, §11.3).
 *
 * Regions of a live BO:
 *  - `mapping`: per-VM attachments (`kfd_mem_attachment.is_mapped`); the region is
 *    `mapped` while `mapped_to_gpu_memory` > 0, and FREE is refused then (-EBUSY). An
 *    attachment stays after a MAP that failed (kfd_mem_attach comes before the mapping) and
 *    after UNMAP, until FREE; an AQL queue BO's attachment can be half mapped (below);
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

/**
 * kfd_mem_attachment: the BO in one VM. An AQL queue BO has two kernel entries per VM, at
 * `va` and at `va + size`, one record here.
 */
export interface BoAttachment {
  /** The actual gpu_id of the VM. */
  vm: number;
  /** Some entry of the VM is mapped (amdgpu_amdkfd_bo_mapped_to_dev; UNMAP's `ctx.n_vms` > 0). */
  is_mapped: boolean;
  /**
   * Present (true) only on an AQL queue BO whose entry at `va + size` is mapped and whose entry
   * at `va` is not: kfd_mem_attach puts each entry at the head of `mem->attachments`, so
   * amdgpu_amdkfd_gpuvm_map_memory_to_gpu maps the one at `va + size` first, and a VA conflict
   * at `va` fails the call (-EINVAL) with that one mapped. A later MAP of the VM maps the rest.
   */
  half_mapped?: true;
}

/** KFD_IOC_ALLOC_MEM_FLAGS_AQL_QUEUE_MEM: the BO is attached twice per VM, back to back. */
const AQL_QUEUE_MEM = 1 << 27;

/** BoContext read back from a snapshot (machines/context-schema.ts). */
export const boContextSpec = contextSchema<BoContext>()(
  ({ z, u32, u64, worldId }) =>
    z
      .strictObject({
        pid: u32,
        gpu_id: u32,
        va: u64,
        size: u64,
        alloc_flags: u32,
        gem: worldId,
        user_addr: u64,
        is_imported: z.boolean(),
        internal: z.boolean(),
        attachments: z.array(
          z
            .strictObject({ vm: u32, is_mapped: z.boolean(), half_mapped: z.literal(true).optional() })
            .refine((a) => a.half_mapped === undefined || a.is_mapped, 'half_mapped only on a mapped attachment'),
        ),
        mapped_to_gpu_memory: u32,
        dmabuf: worldId.nullable(),
      })
      .refine((c) => (c.alloc_flags & AQL_QUEUE_MEM) !== 0 || c.attachments.every((a) => a.half_mapped === undefined), {
        path: ['attachments'],
        message: 'half_mapped only on an AQL_QUEUE_MEM BO',
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

/** Whether the BO is mapped in a VM: some entry of it is (kfd_mem_attachment.is_mapped). */
export function isMappedIn(c: Pick<BoContext, 'attachments'>, vm: number): boolean {
  return attachmentIn(c, vm)?.is_mapped === true;
}

/** Whether every entry of the BO in a VM is mapped (MAP of that VM then does nothing). */
export function isFullyMappedIn(c: Pick<BoContext, 'attachments'>, vm: number): boolean {
  const a = attachmentIn(c, vm);
  return a !== undefined && a.is_mapped && a.half_mapped === undefined;
}

/** The VMs (actual gpu_ids) the BO is mapped in, ascending. */
export function mappedVms(c: Pick<BoContext, 'attachments'>): number[] {
  const out: number[] = [];
  for (const a of c.attachments) if (a.is_mapped) out.push(a.vm);
  return out;
}

/**
 * The attachments with the one of `vm` set to `is_mapped`, half mapped or not (added in
 * gpu_id order if new). `half_mapped` is written only when set, so that the attachments of
 * every other BO keep their snapshot bytes.
 */
function withAttachment(list: BoAttachment[], vm: number, is_mapped: boolean, half = false): BoAttachment[] {
  const entry: BoAttachment = half ? { vm, is_mapped, half_mapped: true } : { vm, is_mapped };
  const out: BoAttachment[] = [];
  let placed = false;
  for (const a of list) {
    if (!placed && a.vm >= vm) {
      out.push(entry);
      placed = true;
      if (a.vm === vm) continue;
    }
    out.push(a);
  }
  if (!placed) out.push(entry);
  return out;
}

export type BoEvent =
  /** kfd_mem_attach's entries in a VM, none mapped: a first MAP there that mapped nothing (a VA conflict). */
  | { type: 'ATTACH'; vm: number }
  /** Entries of the VM mapped, attached first if need be; `half`: the AQL BO's entry at `va` is still not (a VA conflict). */
  | { type: 'MAP'; vm: number; half?: boolean }
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
    /** map_memory_to_gpu: `if (!kfd_mem_is_attached(avm, mem)) kfd_mem_attach(…)`. */
    notAttached: ({ context, event }) => event.type === 'ATTACH' && attachmentIn(context, event.vm) === undefined,
    /** map_memory_to_gpu skips mapped entries: MAP maps the VM's unmapped ones (the handler never sends MAP otherwise). */
    unmappedEntryInVm: ({ context, event }) => event.type === 'MAP' && !isFullyMappedIn(context, event.vm),
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
    attach: assign(({ context, event }) =>
      event.type === 'ATTACH' ? { attachments: withAttachment(context.attachments, event.vm, false) } : {},
    ),
    // mapped_to_gpu_memory counts the VMs mapped (the kernel counts entries, two per VM for an
    // AQL BO; only whether it is 0 is ever read), so mapping the rest of a half does not add.
    attachAndMap: assign(({ context, event }) =>
      event.type === 'MAP'
        ? {
            attachments: withAttachment(context.attachments, event.vm, true, event.half === true),
            mapped_to_gpu_memory: context.mapped_to_gpu_memory + (isMappedIn(context, event.vm) ? 0 : 1),
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
                ATTACH: { guard: 'notAttached', actions: 'attach' },
                MAP: { guard: 'unmappedEntryInVm', target: 'mapped', actions: 'attachAndMap' },
                FREE: { target: '#kfd_bo.freed' },
              },
            },
            mapped: {
              on: {
                ATTACH: { guard: 'notAttached', actions: 'attach' },
                MAP: { guard: 'unmappedEntryInVm', actions: 'attachAndMap' },
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
