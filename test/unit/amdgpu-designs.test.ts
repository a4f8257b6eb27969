/**
 * The two render-node CRIU designs on one scenario (docs/design-variants.md, "amdgpu-criu"):
 * a process with KFD and render-node BOs, a KFD BO shared with the render node, a render-node
 * BO with three mappings; dumped and restored by each design's sequence of ioctls
 * (src/criu/amdgpu-upstream.ts, src/criu/amdgpu-criu-ioctl-v3.ts). Expected results come from
 * the spec: §11.4 (the upstream restore events), §8.2 (GEM_CHANGE_HANDLE disabled → restore
 * fails), §8.1 (the proposal's stages, and the defects of its posted code).
 *
 * With GPUCR_WRITE_DOCS=1 the generated parts (the comparison block of docs/design-variants.md
 * and docs/examples/amdgpu-*-restore.jsonl) are rewritten instead of compared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCall } from '../../src/criu/amdgpu-calls.js';
import {
  compareDesigns,
  comparisonMarkdown,
  type DesignRun,
  designLogFiles,
  SCENARIO,
} from '../../src/criu/amdgpu-compare.js';
import { extractBlock, replaceBlock } from '../../src/docs/diagram.js';
import { OOPS_RET } from '../../src/ioctls/amdgpu/oops.js';
import { ERRNO } from '../../src/uapi/errno.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE = join(ROOT, 'docs/design-variants.md');
const EXAMPLES = join(ROOT, 'docs/examples');
const MARKER = 'amdgpu-criu-comparison';
const WRITE = process.env.GPUCR_WRITE_DOCS === '1';

const runs = compareDesigns();
const [upstream, disabled, v3] = runs as [DesignRun, DesignRun, DesignRun];

/** The render-node part of a restore: its calls as `NAME=ret` (KFD RESTORE kept for the order). */
const drmCalls = (r: DesignRun) =>
  r.restore.calls
    .filter((c) => c.call !== 'open')
    .map((c) => `${c.call.replace(/^DRM_IOCTL_(AMDGPU_)?|^AMDKFD_IOC_/, '')}${op(c)}=${c.ret}`);
const op = (c: IssuedCall) => (typeof c.args.op === 'string' ? `(${c.args.op})` : '');

describe('spec §11.4, §9.8: the upstream design restores through the creating ioctls', () => {
  it('spec §11.4: GEM_CREATE | PRIME_FD_TO_HANDLE → GEM_CHANGE_HANDLE → GEM_MMAP → GEM_VA(MAP) × n, after the KFD RESTORE', () => {
    const E = -ERRNO.EINVAL;
    expect(drmCalls(upstream)).toEqual([
      'CRIU_OP(RESTORE)=0',
      // the BO with three mappings: created (handle 1), then moved to its saved handle 2
      'GEM_CREATE=0',
      'PRIME_HANDLE_TO_FD=0',
      'GEM_CHANGE_HANDLE=0',
      'GEM_MMAP=0',
      'GEM_VA=0',
      'GEM_VA=0',
      'GEM_VA=0',
      // the KFD BO shared with the render node: imported from the KFD RESTORE's dma-buf, moved to handle 3
      'PRIME_FD_TO_HANDLE=0',
      'GEM_CHANGE_HANDLE=0',
      'GEM_MMAP=0',
      // [DERIVED, spec §1 + §8.2] its saved mapping is the KFD mapping (one bo_va in the compute VM),
      // which the KFD RESTORE re-created already: amdgpu_vm_bo_map conflict
      `GEM_VA=${E}`,
    ]);
    const change = upstream.restore.calls.filter((c) => c.call === 'DRM_IOCTL_GEM_CHANGE_HANDLE');
    expect(change.map((c) => [c.args.handle, c.args.new_handle])).toEqual([
      [1, 2],
      [1, 3],
    ]);
  });

  it('spec §9.8: the plugin stops at the failing GEM_VA; the file nevertheless holds every saved handle and mapping', () => {
    expect(upstream.restore.ok).toBe(false);
    expect(upstream.restore.failure).toMatch(/^GEM_VA MAP of handle 3 at 0x7f0000200000/);
    expect(upstream.restored).toEqual(upstream.dumped);
    expect(upstream.oopses).toEqual([]);
    expect(upstream.defects).toEqual([]);
  });

  it('spec §8.2 (2026): with GEM_CHANGE_HANDLE disabled the restore fails cleanly at the first GEM_CHANGE_HANDLE (-EINVAL)', () => {
    expect(drmCalls(disabled)).toEqual([
      'CRIU_OP(RESTORE)=0',
      'GEM_CREATE=0',
      'PRIME_HANDLE_TO_FD=0',
      `GEM_CHANGE_HANDLE=${-ERRNO.EINVAL}`,
    ]);
    expect(disabled.restore.failure).toMatch(/^GEM_CHANGE_HANDLE 1 → 2 returned -22/);
    expect(disabled.oopses).toEqual([]);
  });
});

describe('spec §8.1: the proposal restores in one ioctl, in stages', () => {
  it('spec §8.1: stage 1 RESTORE skips the BO imported from amdkfd, the KFD RESTORE gives its dma-buf, stage 2 RESTORE_RETRY, then RESTORE', () => {
    expect(drmCalls(v3)).toEqual([
      'CRIU_OP(RESTORE)=0',
      'CRIU_OP(RESTORE)=0',
      `CRIU_OP(RESTORE_RETRY)=${-ERRNO.EINVAL}`,
      `CRIU_OP(RESTORE)=${OOPS_RET}`,
    ]);
    const first = v3.restore.calls.find((c) => c.call === 'DRM_IOCTL_AMDGPU_CRIU_OP')!;
    const flags = (first.decoded.bos as { flags: number }[]).map((b) => b.flags);
    // bucket 0 (saved handle 2) restored now; bucket 1 (saved handle 3) IS_IMPORT | SKIP
    expect(flags).toEqual([0, 3]);
  });

  it('spec §8.1: the IS_IMPORT bucket oopses the kernel (amdgpu_criu.c:358) — a result, not a crash of gpucr', () => {
    expect(v3.restore.ok).toBe(false);
    const last = v3.restore.calls[v3.restore.calls.length - 1]!;
    expect(last.ret).toBe(OOPS_RET);
    expect(v3.oopses).toHaveLength(1);
    expect(v3.oopses[0]).toMatch(/^amdgpu_criu\.c:358 amdgpu_criu_restore: /);
  });

  it('spec §8.1: the BO of stage 1 is restored at the lowest free handle, not its saved one; its creation reference and dma-buf fd are defects', () => {
    expect(Object.keys(v3.dumped.handles)).toEqual(['2', '3']);
    expect(Object.keys(v3.restored.handles)).toEqual(['1']);
    expect(v3.restored.handles[1]!.mappings).toEqual(v3.dumped.handles[2]!.mappings);
    expect(v3.defects.map((d) => d.where)).toEqual([
      'amdgpu_criu.c:341 amdgpu_criu_restore',
      'amdgpu_criu.c:342 amdgpu_criu_restore',
      'amdgpu_criu.c:346 amdgpu_criu_restore',
    ]);
  });

  it('spec §8.1: both designs dumped the same render-node state (handles 2 and 3, three mappings and the shared KFD mapping)', () => {
    expect(upstream.dumped).toEqual(v3.dumped);
    expect(upstream.dumped.handles[3]!.kfd_va).toBe(SCENARIO.shared_va);
    expect(upstream.dumped.handles[2]!.mappings).toHaveLength(3);
  });
});

describe('the generated comparison and example logs are current', () => {
  beforeAll(() => {
    if (!WRITE) return;
    writeFileSync(PAGE, replaceBlock(readFileSync(PAGE, 'utf8'), MARKER, comparisonMarkdown(runs)));
    mkdirSync(EXAMPLES, { recursive: true });
    for (const [name, text] of Object.entries(designLogFiles(runs))) writeFileSync(join(EXAMPLES, name), text);
  });

  it('docs/design-variants.md carries comparisonMarkdown()', () => {
    expect(extractBlock(readFileSync(PAGE, 'utf8'), MARKER), 'stale: run with GPUCR_WRITE_DOCS=1').toBe(
      comparisonMarkdown(runs),
    );
  });

  for (const [name, text] of Object.entries(designLogFiles(runs)))
    it(`docs/examples/${name} is the run's log and replays with every assertion holding`, () => {
      const file = join(EXAMPLES, name);
      expect(readFileSync(file, 'utf8'), 'stale: run with GPUCR_WRITE_DOCS=1').toBe(text);
      const main = join(ROOT, 'dist/src/cli/main.js');
      expect(existsSync(main), 'dist/src/cli/main.js: run npm run build').toBe(true);
      const r = spawnSync(process.execPath, [main, 'replay', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
});
