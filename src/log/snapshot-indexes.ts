/**
 * The world's stores beside the machine objects, checked like contexts (snapshot-contexts.ts):
 * tasks, open files, GEM object records, the render-node files' GEM state (`drm`: object_idr, prime, the VM's
 * bo_vas), each pdd's `alloc_idr`, the `next` counters, `kfd_vram_used`, the armed faults and
 * the oopses. Each has a schema (exactly its type, as contextSchema requires) and the ids it
 * holds must name members of the world, so that no handler meets an index entry of nothing.
 * `saved` (the images a criu.dump keeps for a `criu.restore {dump}`) is snapshot-saved.ts's.
 */
import {
  type ContextRef,
  contextSchema,
  type ContextSpec,
  INT_MAX,
  listRefs,
  nullableRef,
  numberRef,
  recordRefs,
  schemaKit,
  type SchemaKit,
} from '../../machines/context-schema.js';
import { FAULT_SITE_NAMES } from '../world/faults.js';
import type { DrmFilePriv, Gem, Oops, OpenFile, Task } from '../world/types.js';
import { checkShape, type Stores, type WorldRefs } from './snapshot-contexts.js';

/** A handle of an IDR that allocates from 1 (drm_file.object_idr, the prime table keyed by it). */
const handle = (kit: SchemaKit) => kit.intKey(1, INT_MAX);
/** A fd, a queue id, an event id or an alloc_idr handle: from 0. */
const idKey = (kit: SchemaKit) => kit.intKey(0, INT_MAX);
/** A gpu_id as a key (next.mmap, kfd_vram_used). */
const gpuKey = (kit: SchemaKit) => kit.intKey(0, 2 ** 32 - 1);

/** A GEM object record (types.ts Gem); its `kgd_mems` and `dmabuf` copy its machine's. */
const gemSpec = contextSchema<Gem>()(
  (kit) =>
    kit.z.strictObject({
      id: kit.worldId,
      object: kit.worldId,
      gpu_id: kit.u32,
      size: kit.u64,
      domain: kit.z.enum(['VRAM', 'GTT', 'CPU']),
      preferred_domains: kit.u32,
      flags: kit.u32,
      page_alignment: kit.u32,
      alloc_flags: kit.u32,
      mmap_offset: kit.u64,
      content: kit.pageValues,
      kfd_vram: kit.u64,
      kgd_mems: kit.z.array(kit.worldId),
      dmabuf: kit.worldId.nullable(),
    }),
  (g) => [
    { path: 'object', store: 'objects', id: g.object, kind: 'amdgpu.gem_bo' },
    numberRef('gpu_id', g.gpu_id, 'gpus'),
    ...listRefs('kgd_mems', g.kgd_mems, 'objects', 'kfd.bo'),
    ...nullableRef('dmabuf', g.dmabuf, 'files', 'dmabuf'),
  ],
);

/**
 * An open file (types.ts OpenFile). No ref for a kfd file's `pid` or a drm file's
 * `compute_vm_pid`: a file can outlive the task that opened it (an fd passed on, a dump).
 */
const fileSpec = contextSchema<OpenFile>()(
  (kit) =>
    kit.z.discriminatedUnion('kind', [
      kit.z.strictObject({ id: kit.z.string(), kind: kit.z.literal('tty'), refs: kit.u32.min(1) }),
      kit.z.strictObject({ id: kit.z.string(), kind: kit.z.literal('kfd'), refs: kit.u32.min(1), pid: kit.u32 }),
      kit.z.strictObject({
        id: kit.z.string(),
        kind: kit.z.literal('drm'),
        refs: kit.u32.min(1),
        gpu_id: kit.u32,
        render_minor: kit.u32,
        compute_vm_pid: kit.u32.nullable(),
      }),
      kit.z.strictObject({
        id: kit.z.string(),
        kind: kit.z.literal('dmabuf'),
        refs: kit.u32.min(1),
        gem: kit.worldId,
        flags: kit.u32,
      }),
    ]),
  (f) =>
    f.kind === 'drm'
      ? [numberRef('gpu_id', f.gpu_id, 'gpus')]
      : f.kind === 'dmabuf'
        ? [{ path: 'gem', store: 'gems', id: f.gem }]
        : [],
);

/** A task (types.ts Task): its fd table and the kfd objects of its process. */
const taskSpec = contextSchema<Task>()(
  (kit) =>
    kit.z.strictObject({
      pid: kit.u32.min(1),
      caps: kit.z.array(kit.z.string()),
      ptrace_parent: kit.u32.min(1).nullable(),
      alive: kit.z.boolean(),
      fds: kit.z.record(idKey(kit), kit.z.string()),
      kfd_process: kit.worldId.nullable(),
      pdds: kit.z.array(kit.worldId),
      queues: kit.z.record(idKey(kit), kit.worldId),
      events: kit.z.record(idKey(kit), kit.worldId),
      svm_ranges: kit.z.array(kit.worldId),
    }),
  (t) => [
    ...recordRefs('fds', t.fds, 'files'),
    ...nullableRef('kfd_process', t.kfd_process, 'objects', 'kfd.process'),
    ...listRefs('pdds', t.pdds, 'objects', 'kfd.pdd'),
    ...recordRefs('queues', t.queues, 'objects', 'kfd.queue'),
    ...recordRefs('events', t.events, 'objects', 'kfd.event'),
    ...listRefs('svm_ranges', t.svm_ranges, 'objects', 'kfd.svm_range'),
  ],
);

/** A render-node file's GEM state (types.ts DrmFilePriv). */
const drmSpec = contextSchema<DrmFilePriv>()(
  (kit) =>
    kit.z.strictObject({
      object_idr: kit.z.record(handle(kit), kit.worldId),
      prime: kit.z.record(handle(kit), kit.worldId),
      vm: kit.z.strictObject({ bo_vas: kit.z.record(kit.worldId, kit.worldId), prt_va: kit.worldId.nullable() }),
    }),
  (d) => [
    ...recordRefs('object_idr', d.object_idr, 'gems'),
    ...recordRefs('prime', d.prime, 'files', 'dmabuf'),
    ...Object.entries(d.vm.bo_vas).flatMap(([gem, boVa]): ContextRef[] => [
      { path: `vm.bo_vas.${gem}`, store: 'gems', id: gem },
      { path: `vm.bo_vas.${gem}`, store: 'objects', id: boVa, kind: 'amdgpu.bo_va' },
    ]),
    ...nullableRef('vm.prt_va', d.vm.prt_va, 'objects', 'amdgpu.bo_va'),
  ],
);

const oopsSpec = contextSchema<Oops>()((kit) =>
  kit.z.strictObject({ pid: kit.u32.nullable(), call: kit.z.string(), where: kit.z.string(), what: kit.z.string() }),
);

/** The schemas of whole stores, built on first use (machines/context-schema.ts). */
let storesCache: ReturnType<typeof storeSchemas> | undefined;
function storeSchemas() {
  const kit = schemaKit();
  const { z, u32, u64, worldId } = kit;
  return {
    drmFiles: z.record(worldId, z.unknown()),
    /** Each pdd's alloc_idr: idr handle (from 0) → kfd.bo object id. */
    allocIdrs: z.record(worldId, z.record(idKey(kit), worldId)),
    vramUsed: z.record(gpuKey(kit), u64),
    faults: z.partialRecord(
      z.enum(FAULT_SITE_NAMES as [string, ...string[]]),
      z.strictObject({ errno: u32.min(1).max(4095), after: u32, count: u32.min(1) }),
    ),
    oopses: z.array(oopsSpec.schema),
  };
}

/** Each member of a store (`base.<id>`) against a spec: its shape, then the ids it holds. */
function checkEach<T>(store: object, spec: ContextSpec<T>, base: string, known: string, refs: WorldRefs): void {
  for (const [id, v] of Object.entries(store)) {
    const at = `${base}.${id}`;
    checkShape(spec.schema, v, at, known);
    if (spec.refs) refs.check(spec.refs(v as T), at);
  }
}

/** The stores of `raw` beside the machine objects (`where` is the world's place in the snapshot). */
export function checkIndexes(raw: Record<string, unknown>, stores: Stores, refs: WorldRefs, where: string): void {
  const schemas = (storesCache ??= storeSchemas());
  checkEach(stores.tasks, taskSpec, `${where}.tasks`, 'a field of a task', refs);
  checkEach(stores.files, fileSpec, `${where}.files`, 'a field of a file of its kind', refs);
  checkEach(stores.gems, gemSpec, `${where}.gems`, 'a field of a GEM object', refs);
  checkShape(schemas.drmFiles, raw.drm, `${where}.drm`, 'a drm file id');
  const drm = raw.drm as Record<string, unknown>;
  refs.check(
    Object.keys(drm).map((file) => ({ path: file, store: 'files', id: file, kind: 'drm' })),
    `${where}.drm`,
  );
  checkEach(drm, drmSpec, `${where}.drm`, 'one of object_idr, prime, vm', refs);
  checkShape(schemas.allocIdrs, raw.alloc_idr, `${where}.alloc_idr`, 'a pdd id');
  for (const [pdd, idr] of Object.entries(raw.alloc_idr as Record<string, Record<string, string>>))
    refs.check(
      [{ path: pdd, store: 'objects', id: pdd, kind: 'kfd.pdd' }, ...recordRefs(pdd, idr, 'objects', 'kfd.bo')],
      `${where}.alloc_idr`,
    );
  checkShape(schemas.vramUsed, raw.kfd_vram_used, `${where}.kfd_vram_used`, 'a gpu_id');
  refs.check(
    Object.keys(raw.kfd_vram_used as object).map((g) => numberRef(g, Number(g), 'gpus')),
    `${where}.kfd_vram_used`,
  );
  checkShape(schemas.faults, raw.faults, `${where}.faults`, `a fault site (${FAULT_SITE_NAMES.join(', ')})`);
  checkShape(schemas.oopses, raw.oopses, `${where}.oopses`, 'one of pid, call, where, what');
}
