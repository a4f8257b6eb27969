/**
 * amdgpu_bo_va: one GEM object in one VM (amdgpu_vm.c; spec §1, §8.2 "Model note", §11.4).
 *
 * Created by amdgpu_vm_bo_add when a render-node handle of the object is opened in the
 * file (amdgpu_gem_object_open) or a KFD BO is attached to the VM (kfd_mem_attach, which
 * shares the bo_va a handle already created: `amdgpu_vm_bo_find`, `++ref_count`); removed
 * by amdgpu_vm_bo_del when the last of those goes (`removed`, final), taking its mappings
 * with it. The PRT bo_va of a file (fpriv->prt_va) has no object.
 *
 * Mappings are `{start, last}` in GPU pages (4 KiB), `offset` in bytes into the object and
 * the mapping flags. A new mapping goes to the head of `invalids` (amdgpu_vm_bo_insert_map:
 * `list_add`); amdgpu_vm_bo_update writes the page tables and splices `invalids` in front
 * of `valids` (`list_splice_init`); with nothing pending that changes nothing, so UPDATE is
 * an event of `pending` only. The state says where the mappings are:
 *   unmapped (none) → pending (some in invalids) → valid (all in valids).
 * MAP adds one; UNMAP removes the one starting at a page (amdgpu_vm_bo_unmap); CLEAR cuts
 * `[start, last]` out of every mapping, the pieces left before and after becoming new
 * invalid mappings (amdgpu_vm_bo_clear_mappings); REPLACE is CLEAR of the new range then
 * MAP (amdgpu_vm_bo_replace_map). Conflicts with other bo_vas of the VM are the handler's
 * question (it owns the VM's mapping index, src/world/vm.ts); the guards here see only
 * this bo_va.
 */
import { assign, setup } from 'xstate';
import { contextSchema, nullableRef, type SchemaKit } from '../context-schema.js';

/** AMDGPU_GPU_PAGE_SIZE */
const GPU_PAGE = 4096n;

export interface BoVaMapping {
  /** First and last GPU page, inclusive. */
  start: bigint;
  last: bigint;
  /** Byte offset into the object. */
  offset: bigint;
  /** Mapping flags (AMDGPU_VM_PAGE_* and MTYPE, spec §12 q7). */
  flags: number;
  /** The kgd_mem whose MAP_MEMORY_TO_GPU made it (null: a GEM_VA mapping). */
  kfd: string | null;
}

export interface BoVaContext {
  /** The GEM object (null: the file's PRT bo_va). */
  gem: string | null;
  /** The VM: the render-node file id. */
  vm: string;
  /** bo_va->ref_count: open handles in the VM's file plus KFD attachments. */
  ref_count: number;
  /** bo_va->valids and bo_va->invalids, head first. */
  valids: BoVaMapping[];
  invalids: BoVaMapping[];
}

const boVaMapping = ({ z, u32, u64, worldId }: SchemaKit) =>
  z
    .strictObject({
      start: u64,
      last: u64,
      offset: u64,
      flags: u32,
      // Not a ref: a GEM_VA CLEAR or REPLACE over a KFD mapping leaves pieces that keep its kgd_mem's
      // id at addresses the KFD unmap and detach do not look at, so they outlive the kgd_mem (the id
      // is only compared, never looked up).
      kfd: worldId.nullable(),
    })
    .refine((m) => m.start <= m.last, { path: ['last'], message: 'a page ≥ start' });

/** BoVaContext read back from a snapshot (machines/context-schema.ts). */
export const boVaContextSpec = contextSchema<BoVaContext>()(
  (kit) =>
    kit.z.strictObject({
      gem: kit.worldId.nullable(),
      vm: kit.worldId,
      // A live bo_va has a reference: the last UNREF removes it (boVaPut drops the object at once).
      ref_count: kit.u32.min(1),
      valids: kit.z.array(boVaMapping(kit)),
      invalids: kit.z.array(boVaMapping(kit)),
    }),
  // The bo_va goes before its object (the handle's or attachment's reference is put first) and
  // before its VM's file (releaseDrmFile puts every handle's bo_va and the PRT one; a pdd holds
  // the file of KFD attachments).
  (c) => [...nullableRef('gem', c.gem, 'gems'), { path: 'vm', store: 'files', id: c.vm }],
);

export type BoVaInput = Pick<BoVaContext, 'gem' | 'vm'>;

export type BoVaEvent =
  | { type: 'REF' }
  | { type: 'UNREF' }
  | { type: 'MAP'; mapping: BoVaMapping }
  | { type: 'UNMAP'; start: bigint }
  | { type: 'CLEAR'; start: bigint; last: bigint }
  | { type: 'REPLACE'; mapping: BoVaMapping }
  | { type: 'UPDATE' };

/** The mapping lists after amdgpu_vm_bo_unmap of the mapping starting at `start` (valids searched first). */
function afterUnmap(c: BoVaContext, start: bigint): { valids: BoVaMapping[]; invalids: BoVaMapping[] } | null {
  const v = c.valids.findIndex((m) => m.start === start);
  if (v >= 0) return { valids: c.valids.filter((_, i) => i !== v), invalids: c.invalids };
  const i = c.invalids.findIndex((m) => m.start === start);
  if (i >= 0) return { valids: c.valids, invalids: c.invalids.filter((_, j) => j !== i) };
  return null;
}

/**
 * The mapping lists after amdgpu_vm_bo_clear_mappings cut `[start, last]`: overlapping
 * mappings go; the part of one before `start` and the part of one after `last` are new
 * mappings added to the head of invalids (the "before" one first, so "after" ends up in front).
 */
export function afterClear(
  c: Pick<BoVaContext, 'valids' | 'invalids'>,
  start: bigint,
  last: bigint,
): { valids: BoVaMapping[]; invalids: BoVaMapping[] } {
  const hit = (m: BoVaMapping) => m.start <= last && m.last >= start;
  const cut = [...c.valids, ...c.invalids].filter(hit).sort((a, b) => (a.start < b.start ? -1 : 1));
  const fresh: BoVaMapping[] = [];
  for (const m of cut) {
    if (m.start < start) fresh.unshift({ ...m, last: start - 1n });
    if (m.last > last) fresh.unshift({ ...m, start: last + 1n, offset: m.offset + (last + 1n - m.start) * GPU_PAGE });
  }
  return { valids: c.valids.filter((m) => !hit(m)), invalids: [...fresh, ...c.invalids.filter((m) => !hit(m))] };
}

type Lists = { valids: BoVaMapping[]; invalids: BoVaMapping[] } | null;

function listsAfter(c: BoVaContext, e: BoVaEvent): Lists {
  if (e.type === 'UNMAP') return afterUnmap(c, e.start);
  if (e.type === 'CLEAR') return afterClear(c, e.start, e.last);
  return null;
}

const empties = (l: Lists) => l !== null && l.valids.length === 0 && l.invalids.length === 0;
const leavesInvalid = (l: Lists) => l !== null && l.invalids.length > 0;
const leavesOnlyValid = (l: Lists) => l !== null && l.invalids.length === 0 && l.valids.length > 0;

export const boVaMachine = setup({
  types: {} as { context: BoVaContext; events: BoVaEvent; input: BoVaInput },
  guards: {
    /** amdgpu_gem_object_close / kfd_mem_detach: `--bo_va->ref_count == 0` → amdgpu_vm_bo_del. */
    lastRef: ({ context }) => context.ref_count === 1,
    /** UNMAP / CLEAR leave no mapping at all. */
    leavesNone: ({ context, event }) => empties(listsAfter(context, event)),
    /** UNMAP / CLEAR leave a mapping in invalids (pending). */
    leavesInvalid: ({ context, event }) => leavesInvalid(listsAfter(context, event)),
    /** UNMAP / CLEAR leave mappings, all of them valid. */
    leavesOnlyValid: ({ context, event }) => leavesOnlyValid(listsAfter(context, event)),
  },
  actions: {
    ref: assign(({ context }) => ({ ref_count: context.ref_count + 1 })),
    unref: assign(({ context }) => ({ ref_count: context.ref_count - 1 })),
    /** amdgpu_vm_bo_del: the mappings go with the bo_va. */
    deleteAll: assign({ ref_count: 0, valids: [], invalids: [] }),
    // list_add(&mapping->list, &bo_va->invalids): at the head (a copy of the list, no immer draft: every map runs it).
    insertMapping: assign(({ context, event }) =>
      event.type === 'MAP' ? { invalids: [event.mapping, ...context.invalids] } : {},
    ),
    unmap: assign(({ context, event }) => (event.type === 'UNMAP' ? (afterUnmap(context, event.start) ?? {}) : {})),
    clear: assign(({ context, event }) => (event.type === 'CLEAR' ? afterClear(context, event.start, event.last) : {})),
    replace: assign(({ context, event }) => {
      if (event.type !== 'REPLACE') return {};
      const cut = afterClear(context, event.mapping.start, event.mapping.last);
      return { valids: cut.valids, invalids: [event.mapping, ...cut.invalids] };
    }),
    /** amdgpu_vm_bo_update: page tables written, `list_splice_init(&invalids, &valids)`. */
    update: assign(({ context }) => ({ valids: [...context.invalids, ...context.valids], invalids: [] })),
  },
}).createMachine({
  id: 'amdgpu_bo_va',
  initial: 'live',
  context: ({ input }) => ({ gem: input.gem, vm: input.vm, ref_count: 1, valids: [], invalids: [] }),
  states: {
    live: {
      initial: 'unmapped',
      on: {
        REF: { actions: 'ref' },
        UNREF: [{ guard: 'lastRef', target: '#amdgpu_bo_va.removed', actions: 'deleteAll' }, { actions: 'unref' }],
        REPLACE: { target: '.pending', actions: 'replace' },
      },
      states: {
        unmapped: {
          on: {
            MAP: { target: 'pending', actions: 'insertMapping' },
          },
        },
        pending: {
          on: {
            MAP: { actions: 'insertMapping' },
            UPDATE: { target: 'valid', actions: 'update' },
            UNMAP: [
              { guard: 'leavesNone', target: 'unmapped', actions: 'unmap' },
              { guard: 'leavesInvalid', actions: 'unmap' },
              { guard: 'leavesOnlyValid', target: 'valid', actions: 'unmap' },
            ],
            CLEAR: [
              { guard: 'leavesNone', target: 'unmapped', actions: 'clear' },
              { guard: 'leavesInvalid', actions: 'clear' },
              { guard: 'leavesOnlyValid', target: 'valid', actions: 'clear' },
            ],
          },
        },
        valid: {
          on: {
            MAP: { target: 'pending', actions: 'insertMapping' },
            UNMAP: [
              { guard: 'leavesNone', target: 'unmapped', actions: 'unmap' },
              { guard: 'leavesOnlyValid', actions: 'unmap' },
            ],
            CLEAR: [
              { guard: 'leavesNone', target: 'unmapped', actions: 'clear' },
              { guard: 'leavesInvalid', target: 'pending', actions: 'clear' },
              { guard: 'leavesOnlyValid', actions: 'clear' },
            ],
          },
        },
      },
    },
    removed: { type: 'final' },
  },
});
