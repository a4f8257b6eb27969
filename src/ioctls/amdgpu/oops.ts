/**
 * Kernel crashes and other defects of modelled (posted, unmerged) kernel code, as results
 * (docs/design-variants.md, "How a defect shows").
 *
 * An oops is a result of its own, never a crash of gpucr: the call returns OOPS_RET, its
 * out carries `oops` ("<file>:<line> <function>: <what>"), and the world records it in
 * `oopses` — an invariant violation (amdgpuInvariants) for every later check. The real
 * kernel kills the calling task at that point; gpucr leaves the world as the code left it
 * up to the faulting line and models nothing after it.
 *
 * A defect that does not crash (an ignored error, a leaked reference, a wrong object) is
 * listed in the call's out `defects`, with the line it models, so that a result that looks
 * like a success says what went wrong.
 */
import type { BoVaContext } from '../../../machines/amdgpu/bo-va.js';
import type { GemBoContext } from '../../../machines/amdgpu/gem-bo.js';
import { registerFileReferences, registerInvariant, type Violation } from '../../invariants/index.js';
import { everyGem, objectsOfKind } from '../../world/objects-by-kind.js';
import type { Call, World } from '../../world/types.js';
import { vmBoVas, vmIndexEquals, vmMappingsOf } from '../../world/vm.js';

/**
 * The return value of a call that oopsed: -MAX_ERRNO, which no errno uses, so that a log
 * can assert it (a log's `ret` is 0 or -1..-4095). The task never sees it: it is killed.
 */
export const OOPS_RET = -4095;

export interface Defect {
  /** "<file>:<line> <function>" of the posted code. */
  where: string;
  what: string;
}

/** Record an oops of the call and return OOPS_RET. */
export function oops(w: World, call: Call, where: string, what: string): number {
  (w.oopses ??= []).push({ pid: call.pid ?? null, call: call.call, where, what });
  return OOPS_RET;
}

/** A GEM object kept alive only by references nobody will drop: no handle, kgd_mem or dma-buf. */
function heldOnlyByLeakedRefs(c: GemBoContext): boolean {
  return c.leaked_refs > 0 && c.handle_count === 0 && c.kgd_mems.length === 0 && c.dmabuf === null;
}

/**
 * What the render-node model's invariants say about a world: every oops, and every GEM
 * object kept alive only by a reference nobody will drop (a leak).
 */
export function amdgpuInvariants(w: World): string[] {
  const out: string[] = [];
  for (const o of w.oopses ?? []) out.push(`kernel oops in ${o.call} (pid ${o.pid ?? '-'}): ${o.where}: ${o.what}`);
  for (const [id, rec] of objectsOfKind<GemBoContext>(w, 'amdgpu.gem_bo')) {
    const c = rec.context;
    if (heldOnlyByLeakedRefs(c))
      out.push(`leak: ${id} has no handle, no kgd_mem and no dma-buf, but ${c.leaked_refs} leaked reference(s)`);
  }
  return out;
}

// ---- invariants (src/invariants/index.ts): registered here, where the render-node model lives ----

/** Prime entries hold a reference of their dma-buf; an import object holds the dma-buf it imports. */
registerFileReferences('amdgpu prime entries and imports', function* (w) {
  for (const [file, p] of Object.entries(w.drm ?? {}))
    for (const [h, dmabuf] of Object.entries(p.prime)) yield [dmabuf, `${file} prime handle ${h}`] as const;
  for (const [, g] of everyGem(w)) {
    const c = w.objects[g.object]?.context as GemBoContext | undefined;
    if (c?.import_attach) yield [c.import_attach, `${g.id} import_attach`] as const;
  }
});

registerInvariant('amdgpu.no-oops', 'no modelled kernel defect oopsed (docs/design-variants.md)', (w) =>
  (w.oopses ?? []).map((o) => ({ message: `kernel oops in ${o.call} (pid ${o.pid ?? '-'}): ${o.where}: ${o.what}` })),
);

registerInvariant(
  'amdgpu.no-leaked-gem',
  'every GEM object is held by a handle, a kgd_mem or a dma-buf (not only by a reference nobody drops)',
  (w) => {
    const out: Violation[] = [];
    for (const [, g] of everyGem(w)) {
      const c = w.objects[g.object]?.context as GemBoContext | undefined;
      if (!c || !heldOnlyByLeakedRefs(c)) continue;
      out.push({ message: `${g.id} is held only by ${c.leaked_refs} leaked reference(s)`, objects: [g.id, g.object] });
    }
    return out;
  },
);

registerInvariant(
  'amdgpu.handles',
  "a render-node file's handles and its objects' handle lists agree; every handle names a live GEM object",
  (w) => {
    const out: Violation[] = [];
    for (const [file, p] of Object.entries(w.drm ?? {}))
      for (const [h, gem] of Object.entries(p.object_idr)) {
        const g = w.gems[gem];
        const c = g ? (w.objects[g.object]?.context as GemBoContext | undefined) : undefined;
        if (!c)
          out.push({
            message: `${file} handle ${h} names ${gem}, which is not a live GEM object`,
            objects: [file, gem],
          });
        else if (!c.handles[file]?.includes(Number(h)))
          out.push({
            message: `${file} handle ${h} names ${gem}, whose handles do not include it`,
            objects: [file, gem],
          });
      }
    for (const [, g] of everyGem(w)) {
      const c = w.objects[g.object]?.context as GemBoContext | undefined;
      if (c === undefined) continue;
      for (const [file, hs] of Object.entries(c.handles))
        for (const h of hs)
          if (w.drm?.[file]?.object_idr[h] !== g.id)
            out.push({
              message: `${g.id} has handle ${h} in ${file}, which names something else`,
              objects: [g.id, file],
            });
    }
    return out;
  },
);

registerInvariant(
  'amdgpu.vm-index',
  "each VM's mappings (those of its live bo_vas, every one of which the VM lists) are disjoint, and the interval index the handlers search equals them",
  (w) => {
    const out: Violation[] = [];
    // The bo_vas of each VM, in one pass over them (not one per VM).
    const boVasOf = new Map<string, string[]>();
    for (const [id, rec] of objectsOfKind<BoVaContext>(w, 'amdgpu.bo_va')) {
      const list = boVasOf.get(rec.context.vm);
      if (list) list.push(id);
      else boVasOf.set(rec.context.vm, [id]);
    }
    for (const [file, p] of Object.entries(w.drm ?? {})) {
      const ids = vmBoVas(p.vm);
      const listed = new Set(ids);
      for (const id of boVasOf.get(file) ?? [])
        if (!listed.has(id))
          out.push({ message: `${file}: ${id} is a bo_va of this VM that the VM does not list`, objects: [file, id] });
      const ranges = vmMappingsOf(w, p.vm, ids);
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i]!;
        const prev = ranges[i - 1];
        if (r.last < r.start || (prev && prev.last >= r.start))
          out.push({ message: `${file}: VM mappings not disjoint at page ${r.start}`, objects: [file] });
      }
      if (vmIndexEquals(p.vm, ranges) === false)
        out.push({ message: `${file}: VM index ≠ the mappings of its bo_vas`, objects: [file] });
    }
    return out;
  },
);
