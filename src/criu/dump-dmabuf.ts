/**
 * The amdgpu plugin's dump of dma-buf fds (spec §9.8; amdgpu_plugin_dmabuf.c): a dma-buf fd
 * names its BO by the GEM handle of the render-node file that exports it, so one whose exporter
 * is not dumped yet waits in `dmabuf_list` and is retried after every render-node file
 * (`try_dump_dmabuf_list`); DUMP_DEVICES_LATE fails if one is still waiting.
 */
import { send } from '../world/objects.js';
import type { OpenFile } from '../world/types.js';
import type { TreeDump } from './dump-state.js';

/** amdgpu_plugin_dmabuf_dump: matched to a dumped render-node file, else deferred (spec §9.8). */
export function dumpDmabuf(d: TreeDump, id: number, file: Extract<OpenFile, { kind: 'dmabuf' }>): null {
  const h = d.shared.get(file.gem);
  if (h === undefined) {
    d.deferred.push({ id, gem: file.gem });
    send(d.w, d.obj, { type: 'DMABUF_DEFERRED' });
  } else {
    d.images.dmabuf.push({ id, dmabuf: { gem_handle: h } });
    send(d.w, d.obj, { type: 'DMABUF_DUMPED' });
  }
  return null;
}

/** try_dump_dmabuf_list: dumps the deferred fds whose BO a render-node file now names; how many. */
export function tryDumpDmabufList(d: TreeDump): number {
  let n = 0;
  for (let i = d.deferred.length - 1; i >= 0; i--) {
    const def = d.deferred[i]!;
    const h = d.shared.get(def.gem);
    if (h === undefined) continue;
    d.images.dmabuf.push({ id: def.id, dmabuf: { gem_handle: h } });
    d.deferred.splice(i, 1);
    n++;
  }
  return n;
}
