/**
 * `kfd.file-refs` (docs/invariants.md): an open file's reference count is what can be
 * counted, its fd-table entries in live tasks plus the kernel references that drivers
 * register with registerFileReferences. The two KFD holders are here: a pdd's drm_file
 * (ACQUIRE_VM / RESTORE keep a reference) and a kgd_mem's cached dma-buf. A count above
 * the holders is a leaked fget; below them, a reference that will be put twice.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { World } from '../world/types.js';
import { fileReferenceCounters, type Violation } from './index.js';
import { liveTasks } from './kfd-world.js';
import { objectsOfKind } from '../world/objects-by-kind.js';

/** The reference a pdd holds on its render node. */
export function* pddDrmFiles(w: World) {
  for (const [id, rec] of objectsOfKind<PddContext>(w, 'kfd.pdd'))
    if (rec.context.drm_file) yield [rec.context.drm_file, `${id} drm_file`] as const;
}

/** The reference a kgd_mem holds on the dma-buf it exported or imported. */
export function* boDmabufs(w: World) {
  for (const [id, rec] of objectsOfKind<BoContext>(w, 'kfd.bo'))
    if (rec.context.dmabuf) yield [rec.context.dmabuf, `${id} dmabuf`] as const;
}

export function fileRefs(w: World): Violation[] {
  const holders = countedHolders(w);
  const out: Violation[] = [];
  for (const id of Object.keys(w.files)) {
    const f = w.files[id]!;
    const h = holders.get(id) ?? [];
    if (f.refs !== h.length)
      out.push({
        message: `${id} (${f.kind}) has ${f.refs} reference${f.refs === 1 ? '' : 's'} but ${h.length} can be counted${h.length ? ` (${h.join(', ')})` : ''}`,
        objects: [id],
      });
  }
  return out;
}

/** The holders of each file: fd-table entries first, then every registered counter by name. */
function countedHolders(w: World): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  const add = (file: string, holder: string) => {
    const l = holders.get(file);
    if (l) l.push(holder);
    else holders.set(file, [holder]);
  };
  for (const t of liveTasks(w)) for (const [fd, f] of Object.entries(t.fds)) add(f, `fd ${t.pid}:${fd}`);
  for (const [, count] of fileReferenceCounters()) for (const [f, holder] of count(w)) add(f, holder);
  return holders;
}
