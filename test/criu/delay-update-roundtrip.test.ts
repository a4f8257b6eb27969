/**
 * A render-node mapping made with AMDGPU_VM_DELAY_UPDATE across a dump and a restore
 * (spec §8.2 GEM_VA, §9.8 the plugin's GEM_VA replay, §12 q7). Since "rework how PTE flags are
 * generated" the mapping keeps the call's uapi flags, DELAY_UPDATE included; GET_MAPPING_INFO
 * hands them to the plugin, which maps again with exactly those flags, in the order
 * GET_MAPPING_INFO lists them (the bo_va's valids, then its invalids). A delayed mapping that a
 * later MAP of the same BO wrote to the page tables is listed after that MAP's mapping, so
 * the restore maps it last, delayed again: it stays pending (not in the page tables) where it
 * was valid at dump. [DERIVED from the kernel source and the plugin's restore sequence, not
 * observed on hardware.]
 */
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace } from '../../src/world/step.js';
import { APP, buildHistory } from './history.js';

const A = 0x500000000n;
const B = 0x500100000n;

/** One 4-page GTT render-node BO of GPU 0, mapped one page per call at `va`, delayed or not. */
function mapped(calls: { va: bigint; delay: boolean }[]) {
  const w = buildHistory([{ op: 'gem', p: 0, gpu: 0, pages: 4, domain: 'GTT' }]).world;
  const drm = Number(Object.entries(w.tasks[APP]!.fds).find(([, f]) => w.files[f]?.kind === 'drm')![0]);
  for (const [i, c] of calls.entries()) {
    const raw = {
      handle: 1,
      operation: 'MAP',
      flags: c.delay ? ['PAGE_READABLE', 'DELAY_UPDATE'] : ['PAGE_READABLE'],
      va_address: c.va,
      offset_in_bo: i * 4096,
      map_size: 4096,
    };
    const args = decodeArgs(callDef('DRM_IOCTL_AMDGPU_GEM_VA')!.args, raw, 'args');
    expect(applyInPlace(w, { pid: APP, call: 'DRM_IOCTL_AMDGPU_GEM_VA', fd: drm, args }).ret).toBe(0);
  }
  return w;
}

const vaCalls = (r: ReturnType<typeof roundtrip>) =>
  r.restore!.calls.filter((c) => c.call === 'DRM_IOCTL_AMDGPU_GEM_VA').map((c) => [c.args.va_address, c.args.flags]);

describe('DELAY_UPDATE across a CRIU round trip', () => {
  it('spec §9.8, §12 q7: a delayed mapping that a later MAP of the same BO made valid comes back pending', () => {
    const r = roundtrip(
      mapped([
        { va: A, delay: true },
        { va: B, delay: false },
      ]),
      APP,
    );
    expect(r.restore?.failure).toBeNull();
    // GET_MAPPING_INFO listed B first (the update spliced both to the valids, B at the head).
    expect(vaCalls(r)).toEqual([
      [B, 2],
      [A, 3],
    ]);
    expect(r.differences).toHaveLength(1);
    expect(r.differences[0]).toMatch(/^render 1001 handles\.1\.mappings: /);
    expect(r.differences[0]).toContain('"start":"0x500000","last":"0x500000","offset":"0x0","flags":3,"pending":true');
  });

  it('spec §9.8, §12 q7: a delayed mapping still pending at dump comes back pending: no difference', () => {
    const r = roundtrip(
      mapped([
        { va: A, delay: false },
        { va: B, delay: true },
      ]),
      APP,
    );
    expect(vaCalls(r)).toEqual([
      [A, 2],
      [B, 3],
    ]);
    expect(r.differences).toEqual([]);
  });
});
