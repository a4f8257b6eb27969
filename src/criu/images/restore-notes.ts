/**
 * What a restore of a valid image directory will meet (spec §9.5, §9.8), found from the images
 * alone and reported by `gpucr images` (format.ts), not refused: the plugin's dump writes such
 * directories. GEM handles a restore looks up that no image publishes (it waits for ever) or that
 * several publish (it may get another BO), render-node GEM_VA mappings that KFD RESTORE has
 * already mapped in the same VM (the GEM_VA MAP fails), KFD BOs that KFD RESTORE cannot map over
 * one mapped before them (the RESTORE fails), and render-node images that one task restores into
 * one file (handle numbers they share come back once). `restoreNotes` gathers them all.
 */
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../../uapi/index.js';
import type { ImageDir } from './dir-layout.js';
import { decodeKfdPriv, type KfdImageOptions } from './messages.js';
import { dmabufImageName, kfdImageName, NO_GEM_HANDLE, renderDImageName } from './types.js';

/** An imported render-node BO or a dma-buf image: what a restore looks up by GEM handle number. */
export interface HandleLookup {
  file: string;
  field: string;
  handle: number;
}

/** A lookup whose handle number several images publish, and those images. */
export interface AmbiguousHandle extends HandleLookup {
  publishers: string[];
}

/**
 * The restore's table of published dma-bufs (spec §9.8, store_dmabuf_fd): GEM handle number →
 * the images that publish under it, a KFD image for each of its BOs with a handle and a
 * render-node image for each of its BOs that is not an import, each image once per number.
 */
function publishers(dir: ImageDir): Map<number, string[]> {
  const table = new Map<number, string[]>();
  const publish = (h: number, file: string) => {
    const list = table.get(h) ?? [];
    if (!list.includes(file)) list.push(file);
    table.set(h, list);
  };
  for (const s of dir.kfd)
    for (const b of s.kfd.bo_entries) if (b.handle !== NO_GEM_HANDLE) publish(b.handle, kfdImageName(s.id));
  for (const s of dir.renderD)
    for (const b of s.renderD.bo_entries) if (b.is_import === 0) publish(b.handle, renderDImageName(s.id));
  return table;
}

/** A lookup and the CRIU file id of the image that makes it. */
interface Fetch extends HandleLookup {
  id: number;
}

/** What a restore fetches from that table: imported render-node BOs and dma-buf images. */
function fetches(dir: ImageDir): Fetch[] {
  const out: Fetch[] = [];
  for (const s of dir.renderD)
    s.renderD.bo_entries.forEach((b, i) => {
      if (b.is_import === 1)
        out.push({ id: s.id, file: renderDImageName(s.id), field: `bo_entries[${i}].handle`, handle: b.handle });
    });
  for (const s of dir.dmabuf)
    out.push({ id: s.id, file: dmabufImageName(s.id), field: 'gem_handle', handle: s.dmabuf.gem_handle });
  return out;
}

const lookupOf = ({ id: _, ...l }: Fetch): HandleLookup => l;

/** The GEM handles image `id` fetches (its imports, or a dma-buf image's BO): what a restore of it waits for. */
export function handlesFetchedBy(dir: ImageDir, id: number): number[] {
  return fetches(dir)
    .filter((f) => f.id === id)
    .map((f) => f.handle);
}

/**
 * Imports and dma-bufs that a restore of the directory waits for in vain (spec §9.8): the table
 * of published dma-bufs is keyed by GEM handle number alone, and one whose number nothing
 * publishes is retried until CRIU gives up (no progress). The plugin's dump writes such a
 * directory, for instance for a BO imported on a second GPU under another handle number than its
 * exporter's (test/criu/unpublished-import.test.ts), so it is a valid directory that cannot be
 * restored, not a bad one: `gpucr images` reports it.
 */
export function unpublishedHandles(dir: ImageDir): HandleLookup[] {
  const table = publishers(dir);
  return fetches(dir)
    .filter((l) => !table.has(l.handle))
    .map(lookupOf);
}

/**
 * Imports and dma-bufs whose handle number several images publish (spec §9.8 observations: two
 * render-node files with equal handle numbers collide, and store_dmabuf_fd keeps the first): the
 * BO a restore gives them depends on which image is restored first, so it may be another BO than
 * the one dumped (test/criu/roundtrip-tree-fc.test.ts leaves such histories out of its
 * both-orders property). `gpucr images` reports them.
 */
export function ambiguousHandles(dir: ImageDir): AmbiguousHandle[] {
  const table = publishers(dir);
  return fetches(dir).flatMap((f) => {
    const by = table.get(f.handle) ?? [];
    return by.length > 1 ? [{ ...lookupOf(f), publishers: by }] : [];
  });
}

/** A render-node GEM_VA mapping that overlaps a KFD BO mapped on the same GPU. */
export interface VaConflict {
  file: string;
  /** `bo_entries[i].vm_entries[j]` */
  field: string;
  addr: bigint;
  size: bigint;
  /** The KFD BO: `amdgpu-kfd-<id>.img: bo_entries[k]`. */
  kfd: string;
}

/**
 * Render-node GEM_VA mappings that a restore cannot make (docs/checkpoint-restore.md, the
 * issue 3 finding): the render-node restore maps each VM entry with GEM_VA MAP in the render
 * fd the KFD restore used for that GPU, whose VM KFD RESTORE has already filled with the KFD BOs
 * mapped on that GPU (priv_data's mapped_gpuids); an entry overlapping one of them is -EINVAL,
 * and the restore fails. A KFD mapping of a render-node BO in its own render node's VM is
 * dumped both ways, as a KFD BO and as a VM entry of the render-node BO.
 */
export function vaConflicts(dir: ImageDir, opts: KfdImageOptions = {}): VaConflict[] {
  const kfd = kfdMappings(dir, opts).map((m) => ({
    ...m,
    // an AQL queue BO is mapped twice, back to back (kfd_mem_attach)
    end: m.addr + m.size * (m.aql ? 2n : 1n),
    at: `${m.file}: bo_entries[${m.index}]`,
  }));
  const out: VaConflict[] = [];
  for (const s of dir.renderD)
    s.renderD.bo_entries.forEach((b, i) =>
      b.vm_entries.forEach((e, j) => {
        const hit = kfd.find((k) => k.gpus.includes(s.renderD.gpu_id) && e.addr < k.end && k.addr < e.addr + e.size);
        if (hit)
          out.push({
            file: renderDImageName(s.id),
            field: `bo_entries[${i}].vm_entries[${j}]`,
            addr: e.addr,
            size: e.size,
            kfd: hit.at,
          });
      }),
    );
  return out;
}

/** A KFD BO of an image as KFD RESTORE maps it: its bucket's range and the GPUs of its mapped_gpuids. */
interface KfdMapping {
  /** `amdgpu-kfd-<id>.img` */
  file: string;
  /** Its index in bo_entries (the bucket order KFD RESTORE follows). */
  index: number;
  /** User gpu_ids. */
  gpus: number[];
  addr: bigint;
  size: bigint;
  /** AQL_QUEUE_MEM: attached twice per VM, back to back. */
  aql: boolean;
}

/** Every KFD BO of the directory's kfd images, in bucket order per image, with the GPUs it is mapped on. */
function kfdMappings(dir: ImageDir, opts: KfdImageOptions): KfdMapping[] {
  return dir.kfd.flatMap((k) => {
    const file = kfdImageName(k.id);
    const priv = decodeKfdPriv(k.kfd, file, opts);
    return k.kfd.bo_entries.map((b, index) => ({
      file,
      index,
      gpus: priv.bos[index]?.mapped_gpuids ?? [],
      addr: b.addr,
      size: b.size,
      aql: (b.alloc_flags & KFD_IOC_ALLOC_MEM_FLAGS.AQL_QUEUE_MEM) !== 0,
    }));
  });
}

/** Two KFD BOs of one image that KFD RESTORE cannot both map on a GPU. */
export interface KfdMapConflict {
  /** `amdgpu-kfd-<id>.img` */
  file: string;
  /** The BO whose map fails: `bo_entries[j]`. */
  field: string;
  /** The BO mapped before it there: `bo_entries[i]`, i < j. */
  mapped_first: string;
  /** The user gpu_id of the VM. */
  gpu: number;
  addr: bigint;
  size: bigint;
}

/**
 * KFD BOs whose mapping KFD RESTORE cannot make (docs/conformance.md "Kernel findings" 2): it
 * maps each BO on every GPU of its `mapped_gpuids`, in bucket order, and a map over a range a BO
 * before it maps in that VM is -EINVAL, which fails the whole RESTORE. Only the range from `addr`
 * to `addr + size` is compared: an AQL BO restores over more (twice that under
 * kfd-restore-aql=checkpointed-size), but that much it covers under every variant. A dump of a
 * live process has such a pair only when a MAP left an AQL BO half mapped.
 */
export function kfdMapConflicts(dir: ImageDir, opts: KfdImageOptions = {}): KfdMapConflict[] {
  const bos = kfdMappings(dir, opts);
  // per image and GPU, the BOs mapped there by address; an overlapping pair is found by a sweep
  // (a dump holds a BO per allocation, so comparing every pair would be quadratic)
  const vms = new Map<string, KfdMapping[]>();
  for (const b of bos)
    for (const gpu of b.gpus) {
      const key = `${b.file} ${gpu}`;
      const list = vms.get(key);
      if (list) list.push(b);
      else vms.set(key, [b]);
    }
  /** `${file} ${gpu} ${index}` → the first BO in bucket order that maps over it there. */
  const firstOver = new Map<string, KfdMapping>();
  for (const [key, list] of vms) {
    let active: KfdMapping[] = [];
    for (const b of list.sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : x.index - y.index))) {
      active = active.filter((a) => a.addr + a.size > b.addr);
      for (const a of active) {
        if (!(a.addr < b.addr + b.size && b.addr < a.addr + a.size)) continue;
        const [early, late] = a.index < b.index ? [a, b] : [b, a];
        const at = `${key} ${late.index}`;
        if ((firstOver.get(at)?.index ?? Infinity) > early.index) firstOver.set(at, early);
      }
      active.push(b);
    }
  }
  const out: KfdMapConflict[] = [];
  for (const b of bos)
    for (const gpu of b.gpus) {
      const first = firstOver.get(`${b.file} ${gpu} ${b.index}`);
      if (first)
        out.push({
          file: b.file,
          field: `bo_entries[${b.index}]`,
          mapped_first: `bo_entries[${first.index}]`,
          gpu,
          addr: b.addr,
          size: b.size,
        });
    }
  return out;
}

/** The tasks of a dump and the CRIU file ids they hold (gpucr-core.json's `tasks`). */
export type FileHolders = readonly { pid: number; fds: readonly { id: number }[] }[];

/** Render-node images of one GPU that one task restores into one file. */
export interface MergedRenderFiles {
  /** The task (0 when the directory says none: a one-task dump). */
  pid: number;
  drm_render_minor: number;
  files: string[];
  /** Handle numbers more than one of them holds: the restore brings one BO back per number. */
  shared_handles: number[];
}

/**
 * Render-node images of one GPU in one task (docs/checkpoint-restore.md "Two render-node files
 * of one GPU in one task"): the plugin restores every such image into the one render fd
 * node_get_drm_render_device gives the task for that GPU, and marks a BO done by its saved
 * handle and render minor (work_already_completed, spec §9.8), so a handle number that two of
 * them hold is restored once and the other BO is lost, while the restore succeeds. `tasks`
 * (gpucr-core.json) says which task holds which image; without it the dump is one task's.
 */
export function mergedRenderFiles(dir: ImageDir, tasks?: FileHolders): MergedRenderFiles[] {
  const holder = (id: number) => tasks?.find((t) => t.fds.some((f) => f.id === id))?.pid ?? 0;
  const groups = new Map<string, { pid: number; minor: number; images: ImageDir['renderD'] }>();
  for (const s of dir.renderD) {
    const pid = holder(s.id);
    const key = `${pid}:${s.renderD.drm_render_minor}`;
    const g = groups.get(key) ?? { pid, minor: s.renderD.drm_render_minor, images: [] };
    g.images.push(s);
    groups.set(key, g);
  }
  const out: MergedRenderFiles[] = [];
  for (const g of groups.values()) {
    if (g.images.length < 2) continue;
    const holders = new Map<number, number>();
    for (const s of g.images)
      for (const h of new Set(s.renderD.bo_entries.map((b) => b.handle))) holders.set(h, (holders.get(h) ?? 0) + 1);
    out.push({
      pid: g.pid,
      drm_render_minor: g.minor,
      files: g.images.map((s) => renderDImageName(s.id)),
      shared_handles: [...holders]
        .filter(([, n]) => n > 1)
        .map(([h]) => h)
        .sort((a, b) => a - b),
    });
  }
  return out;
}

/** Everything a restore of the directory will meet, under the names `gpucr images --json` gives them. */
export interface RestoreNotes {
  unpublished: HandleLookup[];
  ambiguous: AmbiguousHandle[];
  va_conflicts: VaConflict[];
  kfd_map_conflicts: KfdMapConflict[];
  merged_render_files: MergedRenderFiles[];
}

/** The five reports above, each computed once (`tasks`: gpucr-core.json's, for mergedRenderFiles). */
export function restoreNotes(dir: ImageDir, opts: KfdImageOptions = {}, tasks?: FileHolders): RestoreNotes {
  return {
    unpublished: unpublishedHandles(dir),
    ambiguous: ambiguousHandles(dir),
    va_conflicts: vaConflicts(dir, opts),
    kfd_map_conflicts: kfdMapConflicts(dir, opts),
    merged_render_files: mergedRenderFiles(dir, tasks),
  };
}
