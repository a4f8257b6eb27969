/**
 * The composed coverage suite (issue 7 item 4): the explorer's families and small
 * extra configurations (here for TTM, i915 and Xe; coverage-suite-{kfd,amdgpu,criu}.ts
 * for the others) which, explored together, take every transition of every machine. A transition that no handler can cause is listed in
 * UNREACHABLE with the reason, never left out silently.
 *
 * A configuration is a log header (variants), setup calls and the actions offered in
 * every state, as in src/explore/families.ts: an action may arm one fault site just
 * before its call, and any site still armed is disarmed first.
 */
import { MAX_PAGE_ORDER } from '../../machines/ttm/pool-pages.js';
import '../ioctls/all.js';
import { selectInvariants } from '../invariants/index.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import type { LogHeader } from '../log/reader.js';
import { parseTopology } from '../world/topology.js';
import type { Call, Variants, World } from '../world/types.js';
import { ExplorationCoverage } from './coverage.js';
import { AMDGPU_CONFIGS } from './coverage-suite-amdgpu.js';
import { CRIU_CONFIGS } from './coverage-suite-criu.js';
import { KFD_CONFIGS } from './coverage-suite-kfd.js';
import { FAMILIES, type Family, FIXED_BASELINE, familyModel } from './families.js';
import { type Action, type WorldExploreResult, type WorldModel, worldModel } from './world-explorer.js';

type Raw = Record<string, unknown>;
/** [action name, call, args, optional fault to arm first: [site, after] or [site, after, count]] */
export type ActionSpec = [string, string, Raw, ([string, number] | [string, number, number])?];

function call(name: string, args: Raw): Call {
  const def = callDef(name);
  if (!def) throw new Error(`no call ${name}`);
  return { call: name, args: decodeArgs(def.args, args, 'args') };
}

/** The event generator of a list of action specs. */
export function specActions(specs: ActionSpec[]): (w: World) => Action[] {
  const built = specs.map(([name, c, args, fault]) => ({
    name,
    call: call(c, args),
    fault: fault ? call('fault', { site: fault[0], after: fault[1], ...(fault[2] ? { count: fault[2] } : {}) }) : null,
  }));
  return (w) => {
    const armed = Object.entries(w.faults ?? {})
      .filter(([, f]) => f && (f as { count: number }).count > 0)
      .map(([site]) => call('fault', { site, count: 0 }));
    return built.map((b) => ({ name: b.name, calls: [...armed, ...(b.fault ? [b.fault] : []), b.call] }));
  };
}

export interface SuiteConfig {
  name: string;
  build(): WorldModel;
  maxDepth: number;
  maxStates?: number;
  /**
   * The invariants a known-bug configuration breaks (docs/known-bugs.md): some transitions
   * exist only in a buggy variant; its exploration stops at the violation.
   */
  expect?: string[];
}

/** A configuration from setup call specs and action specs, checking every invariant. */
export function specConfig(
  name: string,
  variants: Partial<Variants>,
  setup: [string, Raw][],
  specs: ActionSpec[],
  maxDepth: number,
): SuiteConfig {
  return {
    name,
    maxDepth,
    build: () => {
      const header: LogHeader = { gpucr: 1, topology: parseTopology({ gpus: [] }, undefined), variants };
      return worldModel(
        header,
        setup.map(([c, a]) => call(c, a)),
        specActions(specs),
        selectInvariants([]),
      );
    },
  };
}

const TT = 1;
/** A tt without a backup (a driver without ttm_backup): the legacy swapout path. */
const TTM_LEGACY: ActionSpec[] = [
  ['populate', 'ttm.populate', { tt: TT }],
  ['populate, swapin read fails', 'ttm.populate', { tt: TT }, ['ttm.copy_page', 0]],
  ['unpopulate', 'ttm.unpopulate', { tt: TT }],
  ['write p0', 'gpu_write', { tt: TT, page: 0, value: 1 }],
  ['swapout', 'ttm.swapout', { tt: TT }],
  ['swapout, page 0 fails', 'ttm.swapout', { tt: TT }, ['ttm.backup_page', 0]],
  ['swapin', 'ttm.swapin', { tt: TT }],
  ['swapin, read fails', 'ttm.swapin', { tt: TT }, ['ttm.copy_page', 0]],
  ['backup', 'ttm.backup', { tt: TT }],
  ['clear_backed_up', 'ttm.clear_backed_up', { tt: TT }],
  ['fini', 'ttm.fini', { tt: TT }],
];

/** Purge, partial backups and restores over a backup-capable tt. */
const TTM_BACKUP: ActionSpec[] = [
  ['populate', 'ttm.populate', { tt: TT }],
  ['write p0', 'gpu_write', { tt: TT, page: 0, value: 1 }],
  ['backup purge', 'ttm.backup', { tt: TT, purge: true }],
  ['backup, no swap', 'ttm.backup', { tt: TT }, ['ttm.no_swap', 0]],
  ['backup, page 0 fails', 'ttm.backup', { tt: TT }, ['ttm.backup_page', 0]],
  ['restore', 'ttm.restore', { tt: TT, interruptible: true }],
  ['restore, 1st alloc fails', 'ttm.restore', { tt: TT, interruptible: true }, ['ttm.restore_alloc', 0]],
  ['restore, allocs after the 1st fail', 'ttm.restore', { tt: TT, interruptible: true }, ['ttm.restore_alloc', 1, 2]],
  // every order of the first block fails, down to order 0 (MAX_PAGE_ORDER + 1 passes at most)
  ['populate, alloc fails', 'ttm.populate', { tt: TT }, ['ttm.alloc', 0, MAX_PAGE_ORDER + 1]],
  ['fini', 'ttm.fini', { tt: TT }],
];

const OBJ = 2;
const BIG = 3;
/** One i915 LMEM object through pins, the region passes, suspend/resume and eviction by a big object. */
const I915_ONE: ActionSpec[] = [
  ['pin', 'i915.pin', { obj: OBJ }],
  ['unpin', 'i915.unpin', { obj: OBJ }],
  ['write', 'gpu_write', { obj: OBJ, page: 0, value: 3 }],
  ['backup_region gpu pinned', 'i915.backup_region', { allow_gpu: true, pinned: true }],
  ['backup_region gpu', 'i915.backup_region', { allow_gpu: true, pinned: false }],
  ['backup_region memcpy pinned', 'i915.backup_region', { allow_gpu: false, pinned: true }],
  ['backup_region memcpy', 'i915.backup_region', { allow_gpu: false, pinned: false }],
  ['backup_region, copy fails', 'i915.backup_region', { allow_gpu: true, pinned: true }, ['i915.copy', 0]],
  ['backup_region, populate fails', 'i915.backup_region', { allow_gpu: true, pinned: false }, ['i915.populate', 0]],
  ['restore_region gpu', 'i915.restore_region', { allow_gpu: true }],
  ['restore_region memcpy', 'i915.restore_region', { allow_gpu: false }],
  ['restore_region, copy fails', 'i915.restore_region', { allow_gpu: true }, ['i915.copy', 0]],
  ['recover_region', 'i915.recover_region', {}],
  ['suspend', 'i915.suspend', {}],
  ['resume', 'i915.resume', {}],
  ['resume, GT wedged', 'i915.resume', {}, ['i915.gt_wedged', 0]],
  ['fill LMEM', 'i915.create', { pages: 1024 }],
  ['fill LMEM, copy fails', 'i915.create', { pages: 1024 }, ['i915.copy', 0]],
  ['destroy big', 'i915.destroy', { obj: BIG }],
  ['read (moves back)', 'gpu_read', { obj: OBJ, page: 0 }],
  ['read, move back fails', 'gpu_read', { obj: OBJ, page: 0 }, ['i915.copy', 0]],
  ['destroy', 'i915.destroy', { obj: OBJ }],
];

const I915_FLAGS: string[][] = [
  ['USER'],
  ['PINNED'],
  ['PINNED', 'PM_VOLATILE'],
  ['PM_VOLATILE'],
  ['PINNED', 'PM_EARLY'],
];

const XE_BO = 2;
/** xe's pinned and user BOs through evict_all and the early and late restores, with copy faults. */
const XE_ONE: ActionSpec[] = [
  ['evict_all', 'xe.evict_all', {}],
  ['evict_all, copy fails', 'xe.evict_all', {}, ['xe.copy', 0]],
  ['evict_all, 2nd copy fails', 'xe.evict_all', {}, ['xe.copy', 1]],
  ['restore_early', 'xe.restore_early', {}],
  ['restore_early, copy fails', 'xe.restore_early', {}, ['xe.copy', 0]],
  ['restore_late', 'xe.restore_late', {}],
  ['restore_late, copy fails', 'xe.restore_late', {}, ['xe.copy', 0]],
  ['write', 'gpu_write', { obj: XE_BO, page: 0, value: 4 }],
  ['read, move back fails', 'gpu_read', { obj: XE_BO, page: 0 }, ['xe.copy', 0]],
  ['destroy', 'xe.destroy', { obj: XE_BO }],
];

const XE_FLAGS: string[][] = [
  [],
  ['USER'],
  ['PINNED'],
  ['PINNED', 'USER'],
  ['PINNED', 'LATE_RESTORE'],
  ['PINNED', 'NORESTORE'],
];

/** Two pinned BOs, the second restored late: a failing copy of one leaves the other on an evicted list. */
const XE_TWO: ActionSpec[] = [
  ...XE_ONE.slice(0, 7),
  ['evict_all, 3rd copy fails', 'xe.evict_all', {}, ['xe.copy', 2]],
  ['restore_late, 2nd copy fails', 'xe.restore_late', {}, ['xe.copy', 1]],
];

/** How deep each family is explored in the suite (the extra configurations cover the rest). */
const FAMILY_DEPTH: Record<Family, number> = { ttm: 6, i915: 5, kfd: 5, amdgpu: 4, criu: 4 };

/** The suite: every family with every known bug fixed (FIXED_BASELINE), then the extra configurations. */
export const SUITE: SuiteConfig[] = [
  ...FAMILIES.map((f) => ({
    name: `family ${f}`,
    build: () => familyModel(f, FIXED_BASELINE),
    maxDepth: FAMILY_DEPTH[f],
  })),
  specConfig('ttm legacy swap', {}, [['ttm.create', { num_pages: 2, caching: 'wc', backup: false }]], TTM_LEGACY, 6),
  specConfig(
    'ttm purge and partial backup',
    {},
    [['ttm.create', { num_pages: 2, caching: 'wc', backup: true }]],
    TTM_BACKUP,
    5,
  ),
  ...I915_FLAGS.map((flags) =>
    specConfig(`i915 object ${flags.join('|')}`, {}, [['i915.create', { pages: 2, flags }]], I915_ONE, 4),
  ),
  ...XE_FLAGS.map((flags) =>
    specConfig(`xe BO ${flags.join('|') || '(none)'}`, {}, [['xe.create', { pages: 2, flags }]], XE_ONE, 5),
  ),
  specConfig('xe without BOs', {}, [], XE_ONE.slice(0, 7), 3),
  specConfig(
    'xe two pinned BOs, early and late',
    {},
    [
      ['xe.create', { pages: 1, flags: ['PINNED'] }],
      ['xe.create', { pages: 1, flags: ['PINNED', 'LATE_RESTORE'] }],
    ],
    XE_TWO,
    4,
  ),
  specConfig(
    'xe external and late pinned BOs',
    {},
    [
      ['xe.create', { pages: 1, flags: ['PINNED', 'USER'] }],
      ['xe.create', { pages: 1, flags: ['PINNED', 'LATE_RESTORE'] }],
    ],
    XE_TWO,
    4,
  ),
  ...KFD_CONFIGS,
  ...AMDGPU_CONFIGS,
  ...CRIU_CONFIGS,
];

/**
 * Transitions no call sequence can cause through the handlers, with the reason. The
 * composed suite's test requires every other transition of every machine it drives.
 */
export const UNREACHABLE: Record<string, string> = {};

/** Machines no configuration of the suite drives, with the reason (reported at their coverage, not left out). */
export const NOT_CONFIGURED: Record<string, string> = {};

export interface SuiteRun {
  config: string;
  result: WorldExploreResult;
}

/** Explore every configuration of the suite into one coverage. */
export function runSuite(configs: SuiteConfig[] = SUITE): { coverage: ExplorationCoverage; runs: SuiteRun[] } {
  const coverage = new ExplorationCoverage();
  const runs = configs.map((c) => ({
    config: c.name,
    result: coverage.explore(c.build(), { maxDepth: c.maxDepth, ...(c.maxStates ? { maxStates: c.maxStates } : {}) }),
  }));
  return { coverage, runs };
}
