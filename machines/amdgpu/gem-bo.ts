/**
 * amdgpu_bo as a GEM object (drm_gem.c, drm_prime.c, amdgpu_gem.c, amdgpu_dma_buf.c;
 * spec §1, §7.2, §8.2, §11.4).
 *
 * One machine for every GEM object, whoever created it: GEM_CREATE / GEM_USERPTR on a
 * render node, an import of a dma-buf of another device (PRIME_FD_TO_HANDLE), or a KFD
 * allocation (amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu). Its data (size, domains, mmap
 * offset, content) is the world's `gems` record of the same id; the machine holds what
 * keeps the object alive:
 *  - `handles`: handles in render-node files (drm_file.object_idr), per file;
 *  - `kfd`: kgd_mem objects using it (each holds a handle in the KFD client file);
 *  - `export`: the dma-buf exported from it. `exported` = obj->dma_buf is set (the
 *    object holds a reference of the dma-buf while it has handles); `orphaned` = the
 *    last handle went (drm_gem_object_exported_dma_buf_free), but the dma-buf, still
 *    open somewhere, keeps the object alive; importing that dma-buf again re-attaches it.
 * The object is freed (final state) when nothing of the above is left and no leaked
 * reference exists. Immutable attributes (`userptr`, `import_attach`, `flags`) are input.
 */
import { produce } from 'immer';
import { assign, setup } from 'xstate';
import { contextSchema, INT_MAX, listRefs, nullableRef, numberRef, type SchemaKit } from '../context-schema.js';

/** AMDGPU_GEM_CREATE_NO_CPU_ACCESS (amdgpu_drm.h). */
const NO_CPU_ACCESS = 1 << 1;

export interface GemBoContext {
  /** Actual gpu_id of the device the object belongs to. */
  gpu_id: number;
  size: bigint;
  /** bo->flags (AMDGPU_GEM_CREATE_*) at creation. */
  flags: number;
  /** A userptr BO (amdgpu_ttm_tt_get_usermm): no mmap, no export, no placement change. */
  userptr: boolean;
  /** tbo.base.import_attach: the dma-buf (of another device) this object imports; null if created here. */
  import_attach: string | null;
  /** Handles in render-node files: drm file id → handles (ascending). */
  handles: Record<string, number[]>;
  /** Number of render-node handles (the sum over `handles`). */
  handle_count: number;
  /** kgd_mem objects referring to it. */
  kgd_mems: string[];
  /** obj->dma_buf (exported) or the dma-buf that still references the object (orphaned). */
  dmabuf: string | null;
  /** References taken by kernel code that never drops them (a modelled defect, e.g. amdgpu_criu.c:341). */
  leaked_refs: number;
}

/** A GEM handle: idr_alloc(&file_priv->object_idr, NULL, 1, 0) gives 1..INT_MAX. */
const gemHandle = (z: SchemaKit['z']) => z.number().int().min(1).max(INT_MAX);

/** Whether each number of a list is above the one before it (ascending, no repeats). */
const ascending = (list: readonly number[]) => list.every((h, i) => i === 0 || h > list[i - 1]!);

/** GemBoContext read back from a snapshot (machines/context-schema.ts). */
export const gemBoContextSpec = contextSchema<GemBoContext>()(
  ({ z, u32, u64, worldId }) =>
    z
      .strictObject({
        gpu_id: u32,
        size: u64,
        flags: u32,
        userptr: z.boolean(),
        import_attach: worldId.nullable(),
        // A file's list goes with its last handle (removeHandle), and addHandle / moveHandle sort it.
        handles: z.record(
          worldId,
          z
            .array(gemHandle(z))
            .refine((hs) => hs.length > 0 && ascending(hs), 'one or more handles, ascending, each once'),
        ),
        handle_count: u32,
        // Each KFD_REF names a kgd_mem just created: never twice.
        kgd_mems: z.array(worldId).refine((ids) => new Set(ids).size === ids.length, 'kgd_mem ids, each once'),
        dmabuf: worldId.nullable(),
        leaked_refs: u32,
      })
      .refine((c) => c.handle_count === Object.values(c.handles).reduce((n, hs) => n + hs.length, 0), {
        path: ['handle_count'],
        message: 'the number of handles in `handles`',
      }),
  // Every id here names a live member: a drm file's handles go before the file does
  // (releaseFile → releaseDrmFile), a kgd_mem sends KFD_UNREF before it is dropped, an import
  // holds a reference of its dma-buf until the object is freed, and the dma-buf of an exported
  // object is held by a prime entry or a kgd_mem of each of its handles (when the last goes,
  // the object is orphaned and DMABUF_RELEASED clears `dmabuf` at the file's release).
  (c) => [
    numberRef('gpu_id', c.gpu_id, 'gpus'),
    ...nullableRef('import_attach', c.import_attach, 'files'),
    ...Object.keys(c.handles).map((file) => ({ path: `handles.${file}`, store: 'files' as const, id: file })),
    ...listRefs('kgd_mems', c.kgd_mems, 'objects', 'kfd.bo'),
    ...nullableRef('dmabuf', c.dmabuf, 'files'),
  ],
);

export type GemBoInput = Pick<GemBoContext, 'gpu_id' | 'size' | 'flags' | 'userptr' | 'import_attach'>;

export type GemBoEvent =
  | { type: 'HANDLE_CREATE'; file: string; handle: number }
  | { type: 'HANDLE_DELETE'; file: string; handle: number }
  | { type: 'HANDLE_MOVE'; file: string; handle: number; new_handle: number }
  | { type: 'KFD_REF'; mem: string }
  | { type: 'KFD_UNREF'; mem: string }
  | { type: 'EXPORT'; dmabuf: string }
  | { type: 'DMABUF_ATTACH'; dmabuf: string }
  | { type: 'DMABUF_RELEASED'; dmabuf: string }
  | { type: 'MMAP' }
  | { type: 'SET_PLACEMENT' }
  | { type: 'LEAK_REF' }
  | { type: 'FREE' };

function has(c: GemBoContext, file: string, handle: number): boolean {
  return c.handles[file]?.includes(handle) === true;
}

export const gemBoMachine = setup({
  types: {} as { context: GemBoContext; events: GemBoEvent; input: GemBoInput },
  guards: {
    /** drm_gem_handle_create_tail: idr_alloc gives a free handle. */
    handleFree: ({ context, event }) => event.type === 'HANDLE_CREATE' && !has(context, event.file, event.handle),
    /** drm_gem_handle_delete of the file's handle (idr_replace found the object). */
    hasHandle: ({ context, event }) => event.type === 'HANDLE_DELETE' && has(context, event.file, event.handle),
    /** The last render-node handle goes. */
    lastRenderHandle: ({ context, event }) =>
      event.type === 'HANDLE_DELETE' && has(context, event.file, event.handle) && context.handle_count === 1,
    /** handle_count drops to 0 (render-node and KFD client handles): drm_gem_object_exported_dma_buf_free. */
    lastHandleOfObject: ({ context, event }) =>
      (event.type === 'HANDLE_DELETE' &&
        has(context, event.file, event.handle) &&
        context.handle_count === 1 &&
        context.kgd_mems.length === 0) ||
      (event.type === 'KFD_UNREF' &&
        context.kgd_mems.length === 1 &&
        context.kgd_mems[0] === event.mem &&
        context.handle_count === 0),
    /** GEM_CHANGE_HANDLE: the old handle is the object's, the new one is not. */
    canMove: ({ context, event }) =>
      event.type === 'HANDLE_MOVE' &&
      has(context, event.file, event.handle) &&
      !has(context, event.file, event.new_handle),
    hasKfdRef: ({ context, event }) => event.type === 'KFD_UNREF' && context.kgd_mems.includes(event.mem),
    lastKfdRef: ({ context, event }) =>
      event.type === 'KFD_UNREF' && context.kgd_mems.length === 1 && context.kgd_mems[0] === event.mem,
    /** amdgpu_gem_prime_export: not a userptr; an import object re-exports its original dma-buf instead. */
    exportable: ({ context }) => !context.userptr && context.import_attach === null,
    /** The dma-buf being released is the one that keeps the orphaned object alive. */
    isOwnDmabuf: ({ context, event }) =>
      (event.type === 'DMABUF_RELEASED' || event.type === 'DMABUF_ATTACH') && context.dmabuf === event.dmabuf,
    /** amdgpu_mode_dumb_mmap: userptr or NO_CPU_ACCESS → -EPERM. */
    cpuMappable: ({ context }) => !context.userptr && (context.flags & NO_CPU_ACCESS) === 0,
    /** amdgpu_gem_op_ioctl SET_PLACEMENT: userptr → -EPERM. */
    notUserptr: ({ context }) => !context.userptr,
    /** Nothing refers to the object any more: drm_gem_object_free. */
    unreferenced: ({ context }) =>
      context.handle_count === 0 &&
      context.kgd_mems.length === 0 &&
      context.dmabuf === null &&
      context.leaked_refs === 0,
  },
  actions: {
    addHandle: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'HANDLE_CREATE') return;
        const list = [...(d.handles[event.file] ?? []), event.handle].sort((a, b) => a - b);
        d.handles[event.file] = list;
        d.handle_count += 1;
      }),
    ),
    removeHandle: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'HANDLE_DELETE') return;
        const list = (d.handles[event.file] ?? []).filter((h) => h !== event.handle);
        if (list.length === 0) delete d.handles[event.file];
        else d.handles[event.file] = list;
        d.handle_count -= 1;
      }),
    ),
    moveHandle: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'HANDLE_MOVE') return;
        const list = (d.handles[event.file] ?? []).filter((h) => h !== event.handle);
        d.handles[event.file] = [...list, event.new_handle].sort((a, b) => a - b);
      }),
    ),
    addKfdRef: assign(({ context, event }) =>
      event.type === 'KFD_REF' ? { kgd_mems: [...context.kgd_mems, event.mem] } : {},
    ),
    removeKfdRef: assign(({ context, event }) =>
      event.type === 'KFD_UNREF' ? { kgd_mems: context.kgd_mems.filter((m) => m !== event.mem) } : {},
    ),
    setDmabuf: assign(({ event }) =>
      event.type === 'EXPORT' || event.type === 'DMABUF_ATTACH' ? { dmabuf: event.dmabuf } : {},
    ),
    clearDmabuf: assign({ dmabuf: null }),
    leakRef: assign(({ context }) => ({ leaked_refs: context.leaked_refs + 1 })),
  },
}).createMachine({
  id: 'amdgpu_gem_bo',
  initial: 'live',
  context: ({ input }) => ({
    gpu_id: input.gpu_id,
    size: input.size,
    flags: input.flags,
    userptr: input.userptr,
    import_attach: input.import_attach,
    handles: {},
    handle_count: 0,
    kgd_mems: [],
    dmabuf: null,
    leaked_refs: 0,
  }),
  states: {
    live: {
      type: 'parallel',
      on: {
        MMAP: { guard: 'cpuMappable' },
        SET_PLACEMENT: { guard: 'notUserptr' },
        LEAK_REF: { actions: 'leakRef' },
        FREE: { guard: 'unreferenced', target: '#amdgpu_gem_bo.freed' },
      },
      states: {
        handles: {
          initial: 'none',
          states: {
            none: { on: { HANDLE_CREATE: { guard: 'handleFree', target: 'open', actions: 'addHandle' } } },
            open: {
              on: {
                HANDLE_CREATE: { guard: 'handleFree', actions: 'addHandle' },
                HANDLE_DELETE: [
                  { guard: 'lastRenderHandle', target: 'none', actions: 'removeHandle' },
                  { guard: 'hasHandle', actions: 'removeHandle' },
                ],
                HANDLE_MOVE: { guard: 'canMove', actions: 'moveHandle' },
              },
            },
          },
        },
        kfd: {
          initial: 'none',
          states: {
            none: { on: { KFD_REF: { target: 'referenced', actions: 'addKfdRef' } } },
            referenced: {
              on: {
                KFD_REF: { actions: 'addKfdRef' },
                KFD_UNREF: [
                  { guard: 'lastKfdRef', target: 'none', actions: 'removeKfdRef' },
                  { guard: 'hasKfdRef', actions: 'removeKfdRef' },
                ],
              },
            },
          },
        },
        export: {
          initial: 'none',
          states: {
            none: { on: { EXPORT: { guard: 'exportable', target: 'exported', actions: 'setDmabuf' } } },
            exported: {
              on: {
                HANDLE_DELETE: { guard: 'lastHandleOfObject', target: 'orphaned' },
                KFD_UNREF: { guard: 'lastHandleOfObject', target: 'orphaned' },
              },
            },
            orphaned: {
              on: {
                DMABUF_ATTACH: { guard: 'isOwnDmabuf', target: 'exported' },
                DMABUF_RELEASED: { guard: 'isOwnDmabuf', target: 'none', actions: 'clearDmabuf' },
              },
            },
          },
        },
      },
    },
    freed: { type: 'final' },
  },
});
