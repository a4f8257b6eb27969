/**
 * The entries of the known-bug benchmark (issue 7 item 5, docs/known-bugs.md), shared by
 * test/bugs/known-bugs.test.ts and test/explore/world-symmetry.test.ts.
 *
 * The entries of issue 7 item 5 after the first two are shown against FIXED_BASELINE
 * (every known bug fixed) with one bug put back, so that each is found alone: the model's
 * defaults keep the kernel's and the plugin's behaviour where no fix exists.
 */
import { type Family, FIXED_BASELINE } from '../../src/explore/families.js';
import type { Bounds } from '../../src/explore/families/index.js';
import type { Variants } from '../../src/world/types.js';

export interface Entry {
  name: string;
  family: Family;
  buggy: Partial<Variants>;
  fixed: Partial<Variants>;
  depth: number;
  invariant: string;
  /** Length of the shortest counterexample, in actions. */
  shortest: number;
  /** The family's configuration where it is not the default (`gpucr check --bounds`). */
  bounds?: Bounds;
}

const B = FIXED_BASELINE;

export const ENTRIES: Entry[] = [
  {
    name: 'spec A.9 F1: ttm=unfixed-restore-drop keeps a stale restore state',
    family: 'ttm',
    buggy: { ttm: 'unfixed-restore-drop' },
    fixed: { ttm: 'fixed' },
    depth: 6,
    invariant: 'ttm.restore-implies-backed-up',
    shortest: 4,
  },
  {
    name: 'spec C.8: i915=v2-restore-put drops the backup reference and keeps the pointer',
    family: 'i915',
    buggy: { i915: 'v2-restore-put' },
    fixed: { i915: 'final' },
    depth: 4,
    invariant: 'i915.backup-reference',
    shortest: 2,
  },
  {
    name: 'spec §5.4: kfd-restore-devices=fget-leak leaks the drm file reference',
    family: 'kfd',
    buggy: { ...B, 'kfd-restore-devices': 'fget-leak' },
    fixed: B,
    depth: 5,
    invariant: 'kfd.file-refs',
    shortest: 2,
  },
  {
    name: 'spec §6.2: PROCESS_INFO twice leaves the queues evicted after the one UNPAUSE',
    family: 'kfd',
    buggy: { ...B, 'kfd-process-info': 'evict-again' },
    fixed: B,
    depth: 5,
    invariant: 'kfd.criu-queues-released',
    shortest: 3,
  },
  {
    name: 'spec §7.3: an AQL BO is restored at a quarter of its requested size',
    family: 'kfd',
    buggy: { ...B, 'kfd-restore-aql': 'halved-again' },
    fixed: B,
    depth: 5,
    invariant: 'kfd.vram-usage',
    shortest: 1,
  },
  {
    name: 'spec §8.1: amdgpu-criu=criu-ioctl-v3 oopses on an imported BO',
    family: 'amdgpu',
    buggy: { ...B, 'amdgpu-criu': 'criu-ioctl-v3' },
    fixed: B,
    depth: 4,
    invariant: 'amdgpu.no-oops',
    shortest: 2,
  },
  {
    name: 'spec §9.6: resume=at-restore-file activates the GPU before the VMAs are final',
    family: 'criu',
    buggy: { ...B, resume: 'at-restore-file' },
    fixed: B,
    depth: 4,
    invariant: 'criu.resume-late',
    shortest: 1,
  },
  {
    name: 'spec §9.4: an aborted dump leaves the queues paused',
    family: 'criu',
    buggy: { ...B, 'dump-abort': 'leave-paused' },
    fixed: B,
    depth: 4,
    invariant: 'criu.dump-unpaused',
    shortest: 2,
  },
  {
    name: 'spec §5.4 step 5: kfd-restore-mqd-size=one-xcc refuses the MQDs CHECKPOINT saved for 8 XCCs',
    family: 'criu',
    buggy: { ...B, 'kfd-restore-mqd-size': 'one-xcc' },
    fixed: B,
    depth: 4,
    invariant: 'criu.restore-accepts-checkpoint',
    shortest: 1,
    bounds: { xccs: 8 },
  },
  {
    name: 'kernel source: kfd-map-failure=keep-mapped leaves an AQL BO half mapped, and RESTORE refuses its checkpoint',
    family: 'criu',
    buggy: { ...B, 'kfd-map-failure': 'keep-mapped' },
    fixed: B,
    depth: 4,
    invariant: 'criu.restore-accepts-checkpoint',
    shortest: 2,
    bounds: { bos: 1 },
  },
];
