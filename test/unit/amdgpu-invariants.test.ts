/**
 * The invariants (src/invariants/, design "Invariants") hold on the render-node worlds of the
 * design comparison, and the render-node ones report the proposal's defects: an oops
 * (amdgpu.no-oops) and a GEM object kept only by a leaked reference (amdgpu.no-leaked-gem).
 */
import { describe, expect, it } from 'vitest';
import { buildScenario, compareDesigns, designLog } from '../../src/criu/amdgpu-compare.js';
import { encodeCriuV3Priv } from '../../src/ioctls/amdgpu/criu-v3.js';
import { checkInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { referencedLines } from '../../src/log/refs.js';
import { Replayer } from '../../src/log/replay.js';
import { Drm, PAGE, RA2 } from '../conformance/amdgpu-helpers.js';

const names = (v: { invariant: string }[]) => [...new Set(v.map((x) => x.invariant))].sort();

describe('invariants on render-node worlds', () => {
  it('design "Invariants": the scenario world (KFD and render-node BOs, a shared one) breaks none', () => {
    expect(checkInvariants(buildScenario({}).world)).toEqual([]);
  });

  it('design "Invariants": every step of the upstream dump and restore keeps them; the proposal’s restore breaks amdgpu.no-oops only', () => {
    const [upstream, , v3] = compareDesigns();
    const text = designLog(upstream!);
    const { header, events } = readLog(text, 'upstream');
    const rp = new Replayer(header, 'upstream', new Set(referencedLines(events)));
    for (const ev of events) {
      expect(rp.feed(ev)).toBeUndefined();
      expect(checkInvariants(rp.world), `after line ${ev.line} ${ev.call}`).toEqual([]);
    }
    expect(names(checkInvariants(v3!.restore.world))).toEqual(['amdgpu.no-oops']);
  });

  it('spec §8.1 (amdgpu_criu.c:341): a BO the proposal restored, its handle and dma-buf gone, is a leak', () => {
    const h = new Drm({ variants: { 'amdgpu-criu': 'criu-ioctl-v3' } });
    const r = h.call(100, 'DRM_IOCTL_AMDGPU_CRIU_OP', RA2, {
      op: 'RESTORE',
      bos: [{ size: PAGE, preferred_domains: ['GTT'] }],
      priv_data: Buffer.from(encodeCriuV3Priv([{ idr_handle: 1 }], [])).toString('hex'),
    });
    expect(checkInvariants(h.w)).toEqual([]);
    h.must(h.drm('GEM_CLOSE', { handle: 1 }, RA2));
    h.must(h.call(100, 'close', undefined, { fd: (r.out.bos as { dmabuf_fd: number }[])[0]!.dmabuf_fd }));
    expect(names(checkInvariants(h.w))).toContain('amdgpu.no-leaked-gem');
  });
});
