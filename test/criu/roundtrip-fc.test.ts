/**
 * Round trip of generated histories (fast-check, test/criu/history.ts): a process on two GPUs
 * with KFD BOs of every kind mapped on several GPUs, content, events, queues, SVM ranges,
 * render-node BOs with several mappings, and BOs shared between KFD and the render node both
 * ways. CRIU dumps it, the restore into a fresh world must look the same to the application
 * (spec §5.2, §5.4, §9.4, §9.5, §9.8), and the restore's calls, written as a log and replayed
 * from a fresh world, must give the same world again (docs/log-format.md).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkImageDir, kfdMapConflicts, vaConflicts } from '../../src/criu/images/index.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import type { World } from '../../src/world/types.js';
import { unexplained } from './design-differences.js';
import { APP, buildHistory, opArb, unmappedRenderContent } from './history.js';
import { replayRestore } from './replay-restore.js';

/**
 * spec §9.8 / §9.4 step 3: the dump fails ("Not all dma buffers have been dumped") exactly when
 * the task holds a dma-buf fd whose object none of its render-node files has a handle for.
 */
function unmatchedDmabuf(w: World, pid: number): boolean {
  const t = w.tasks[pid]!;
  const held = new Set<string>();
  for (const fid of Object.values(t.fds))
    if (w.files[fid]?.kind === 'drm') for (const g of Object.values(w.drm?.[fid]?.object_idr ?? {})) held.add(g);
  return Object.values(t.fds).some((fid) => {
    const f = w.files[fid];
    return f?.kind === 'dmabuf' && !held.has(f.gem);
  });
}

describe('criu round trip of generated histories', () => {
  it('spec §9.4/§9.5/§9.8: every generated history round-trips to an equivalent process, and its restore log replays to the same world', () => {
    const seen = {
      unmappedContent: 0,
      sdmaWrite: 0,
      content: 0,
      queue: 0,
      svm: 0,
      gemVa: 0,
      kfdToRender: 0,
      renderToKfd: 0,
      refused: 0,
    };
    fc.assert(
      fc.property(fc.array(opArb(false), { maxLength: 32 }), (ops) => {
        const h = buildHistory(ops);
        const unmatched = unmatchedDmabuf(h.world, APP);
        const r = roundtrip(h.world, APP);
        if (unmatched) {
          seen.refused++;
          expect(r.dump.failure).toBe('Not all dma buffers have been dumped');
          return;
        }
        expect(r.dump.failure).toBeNull();
        // what the dump makes, its writer writes: a directory of it passes every check of writeImageDir
        expect(() => checkImageDir(r.dump.images)).not.toThrow();
        expect(r.restore?.failure).toBeNull();
        // a restore that succeeds met no GEM_VA mapping KFD RESTORE had made, nor a KFD BO it could not map (no false report)
        expect(vaConflicts(r.dump.images)).toEqual([]);
        expect(kfdMapConflicts(r.dump.images)).toEqual([]);
        const [restored, replayed] = replayRestore(r);
        expect(replayed).toBe(restored);
        if (unmappedRenderContent(r.dump.images)) {
          // restore_bo_contents_drm skips a BO without GPU mappings: only contents differ
          seen.unmappedContent++;
          expect(r.differences.length).toBeGreaterThan(0);
          expect(unexplained(h.world, r.differences, APP).filter((d) => !d.includes('.content.'))).toEqual([]);
          return;
        }
        expect(unexplained(h.world, r.differences, APP)).toEqual([]);
        const calls = r.restore!.calls.map((c) => c.call);
        if (calls.includes('gpu_write')) seen.content++;
        if (calls.includes('sdma_write')) seen.sdmaWrite++;
        if (Object.keys(r.restored!.tasks[APP]!.queues).length) seen.queue++;
        if (r.restored!.tasks[APP]!.svm_ranges.length) seen.svm++;
        if (r.dump.images.renderD.some((d) => d.renderD.bo_entries.some((b) => b.num_of_vms > 1))) seen.gemVa++;
        if (calls.includes('DRM_IOCTL_PRIME_FD_TO_HANDLE')) seen.kfdToRender++;
        if (
          r.dump.images.renderD.some((d) => d.renderD.bo_entries.some((b) => b.is_import)) &&
          h.calls.some((c) => c.call === 'AMDKFD_IOC_IMPORT_DMABUF')
        )
          seen.renderToKfd++;
      }),
      { numRuns: 120, seed: 0x5eed },
    );
    // the generator is not vacuous: each feature reaches the images in several histories
    const { refused: _refused, ...features } = seen;
    for (const [k, n] of Object.entries(features)) expect(n, k).toBeGreaterThan(2);
  });
});
