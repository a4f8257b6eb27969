/**
 * The order of the KFD RESTORE and the render-node files in the two render-node designs
 * (src/criu/amdgpu-upstream.ts, src/criu/amdgpu-criu-ioctl-v3.ts, their `kfdFirst` option).
 * A render-node BO that imports a KFD BO needs the dma-buf the KFD RESTORE returns:
 *  - upstream (spec §9.5 step 3, §9.8): CRIU restores /dev/kfd first (spec §11.5); a render
 *    file restored before it must wait for the dma-buf and be retried (the plugin's retry of
 *    RESTORE_EXT_FILE);
 *  - the 2025 proposal (spec §8.1): stage 1 SKIPs the KFD imports, the KFD RESTORE runs, and
 *    stage 2 (RESTORE_RETRY) restores them; with the KFD RESTORE first, one stage does all.
 * The scenario is the design comparison's (src/criu/amdgpu-compare.ts), where neither design
 * restores cleanly (test/unit/amdgpu-designs.test.ts says why): the order must not change
 * how each ends, nor what the restored render-node file holds.
 */
import { describe, expect, it } from 'vitest';
import type { IssuedCall } from '../../src/criu/amdgpu-calls.js';
import { buildScenario, fileState, SCENARIO as S } from '../../src/criu/amdgpu-compare.js';
import { dumpV3, restoreV3 } from '../../src/criu/amdgpu-criu-ioctl-v3.js';
import { dumpUpstream, restoreUpstream } from '../../src/criu/amdgpu-upstream.js';
import { AMDGPU_CRIU_BO_FLAG } from '../../src/uapi/amdgpu-criu-proposal.js';

const DUMP = { criu: S.criu, app: S.app, kfdFd: S.kfdFd, drmFds: [{ gpu_id: S.gpu_id, fd: S.drmFd }] };

/** The calls' names (with the CRIU op), in order. */
const names = (calls: IssuedCall[]) =>
  calls.map((c) => `${c.call}${typeof c.args.op === 'string' ? `(${c.args.op})` : ''}`);
const kfdRestoreAt = (calls: IssuedCall[]) => names(calls).indexOf('AMDKFD_IOC_CRIU_OP(RESTORE)');

describe('the KFD RESTORE before or after the render-node files', () => {
  it('spec §9.5, §11.5: upstream, render file first — the import waits a pass for the KFD dma-buf, and the file ends as dumped', () => {
    const { world } = buildScenario({ 'amdgpu-criu': 'upstream' });
    const dumped = fileState(world, S.app, S.drmFd);
    const d = dumpUpstream(world, DUMP);
    expect(d.dump).not.toBeNull();
    const kfdFirst = restoreUpstream(structuredClone(d.world), d.dump!, { pid: S.restored });
    const drmFirst = restoreUpstream(structuredClone(d.world), d.dump!, { pid: S.restored, kfdFirst: false });
    for (const r of [kfdFirst, drmFirst]) {
      // [DERIVED, spec §1 + §8.2] the shared BO's saved mapping is the KFD mapping the KFD RESTORE
      // re-creates: its GEM_VA conflicts, in either order, and the file holds every handle anyway.
      expect(r.failure).toMatch(/^GEM_VA MAP of handle 3 at 0x7f0000200000 returned -22$/);
      expect(fileState(r.world, S.restored, r.drmFds[S.gpu_id]!)).toEqual(dumped);
    }
    // KFD first: no render-node call comes before the KFD RESTORE but the files' opening.
    expect(
      names(kfdFirst.calls)
        .slice(0, kfdRestoreAt(kfdFirst.calls))
        .every((n) => n === 'open'),
    ).toBe(true);
    // Render file first: its own BOs are created before the KFD RESTORE, the import after it.
    const at = kfdRestoreAt(drmFirst.calls);
    expect(names(drmFirst.calls).slice(0, at)).toContain('DRM_IOCTL_AMDGPU_GEM_CREATE');
    expect(names(drmFirst.calls).slice(0, at)).not.toContain('DRM_IOCTL_PRIME_FD_TO_HANDLE');
    expect(names(drmFirst.calls).slice(at)).toContain('DRM_IOCTL_PRIME_FD_TO_HANDLE');
  });

  it('spec §8.1: the proposal, KFD RESTORE first — one stage, without SKIP or RESTORE_RETRY, meets the same defect of the posted code', () => {
    const { world } = buildScenario({ 'amdgpu-criu': 'criu-ioctl-v3' });
    const d = dumpV3(world, DUMP);
    expect(d.dump).not.toBeNull();
    const staged = restoreV3(structuredClone(d.world), d.dump!, { pid: S.restored });
    const kfdFirst = restoreV3(structuredClone(d.world), d.dump!, { pid: S.restored, kfdFirst: true });
    const stages = (calls: IssuedCall[]) =>
      names(calls).filter((n) => n.startsWith('DRM_IOCTL_AMDGPU_CRIU_OP') || n === 'AMDKFD_IOC_CRIU_OP(RESTORE)');
    expect(stages(staged.calls)).toEqual([
      'DRM_IOCTL_AMDGPU_CRIU_OP(RESTORE)',
      'AMDKFD_IOC_CRIU_OP(RESTORE)',
      'DRM_IOCTL_AMDGPU_CRIU_OP(RESTORE_RETRY)',
      'DRM_IOCTL_AMDGPU_CRIU_OP(RESTORE)',
    ]);
    expect(stages(kfdFirst.calls)).toEqual(['AMDKFD_IOC_CRIU_OP(RESTORE)', 'DRM_IOCTL_AMDGPU_CRIU_OP(RESTORE)']);
    // Stage 1 of the staged order SKIPs the KFD import; the one stage gives every bucket at once.
    const skipped = (r: typeof staged) =>
      (r.calls.find((c) => c.call === 'DRM_IOCTL_AMDGPU_CRIU_OP')!.args.bos as { flags: number }[]).filter(
        (b) => (Number(b.flags) & AMDGPU_CRIU_BO_FLAG.SKIP) !== 0,
      ).length;
    expect(skipped(staged)).toBe(1);
    expect(skipped(kfdFirst)).toBe(0);
    // The import of the KFD BO oopses in amdgpu_criu_restore whichever stage reaches it (spec §8.1 defect).
    for (const r of [staged, kfdFirst])
      expect(r.failure).toMatch(/^kernel oops: amdgpu_criu\.c:358 amdgpu_criu_restore/);
    expect(fileState(kfdFirst.world, S.restored, kfdFirst.drmFds[S.gpu_id]!)).toEqual(
      fileState(staged.world, S.restored, staged.drmFds[S.gpu_id]!),
    );
  });
});
