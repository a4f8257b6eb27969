/**
 * Event generators for composed-world exploration, per family (issue 7 item 1): each
 * family builds its setup calls on a fresh world and offers actions in every world; an
 * action is a short sequence of calls (arming a fault, then the call; or every ioctl of an
 * orchestrated checkpoint). docs/known-bugs.md lists the families and what they find.
 */
import { type Invariant, selectInvariants } from '../../invariants/index.js';
import type { LogHeader } from '../../log/reader.js';
import { parseTopology } from '../../world/topology.js';
import type { Call, Variants, World } from '../../world/types.js';
import { createWorld } from '../../world/world.js';
import { type Action, type WorldModel, worldModel } from '../world-explorer.js';
import { AMDGPU_TOPOLOGY, amdgpuFamily } from './amdgpu.js';
import type { Bounds } from './bounds.js';
import { criuFamily, criuTopology } from './criu.js';
import { i915Family } from './i915.js';
import { kfdFamily, kfdTopology } from './kfd.js';
import { ttmFamily } from './ttm.js';

export {
  BOUND_NAMES,
  type BoundName,
  type Bounds,
  checkBounds,
  effectiveBounds,
  FAMILY_BOUNDS,
  parseBoundsOption,
} from './bounds.js';

/** What a family contributes: setup calls (applied to the world it is given), actions, final worlds. */
export interface FamilyParts {
  setup: Call[];
  actions: (w: World) => Action[];
  /** Worlds where the configuration may rest (asks for the deadlock check, WorldModel.final). */
  final?: (w: World) => boolean;
}

interface FamilyDef {
  /** The topology under the bounds (src/explore/families/bounds.ts). */
  topology(bounds: Bounds): { gpus: readonly object[]; processes?: readonly object[] };
  build(world: World, bounds: Bounds): FamilyParts;
}

const DEFS = {
  ttm: { topology: () => ({ gpus: [] }), build: (_w, bounds) => ttmFamily(bounds) },
  i915: { topology: () => ({ gpus: [] }), build: (_w, bounds) => i915Family(bounds) },
  kfd: { topology: kfdTopology, build: kfdFamily },
  amdgpu: { topology: () => AMDGPU_TOPOLOGY, build: amdgpuFamily },
  criu: { topology: criuTopology, build: criuFamily },
} satisfies Record<string, FamilyDef>;

export const FAMILIES = ['ttm', 'i915', 'kfd', 'amdgpu', 'criu'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Every known-bug variant at its fixed value (docs/known-bugs.md): the baseline against
 * which each bug is shown alone. The model's defaults keep the kernel's and the plugin's
 * behaviour where no fix exists (kfd-process-info, kfd-map-failure, kfd-restore-aql, kfd-restore-mqd-size,
 * dump-abort).
 */
export const FIXED_BASELINE: Partial<Variants> = {
  ttm: 'fixed',
  i915: 'final',
  'kfd-restore-devices': 'fixed',
  'amdgpu-criu': 'upstream',
  resume: 'at-resume-devices-late',
  'kfd-process-info': 'evict-once',
  'kfd-map-failure': 'unwind',
  'kfd-restore-aql': 'checkpointed-size',
  'kfd-restore-mqd-size': 'num-xcc',
  'dump-abort': 'unpause',
};

/**
 * The model of a family under the given variants, checking the named invariants (default:
 * all), its configuration under `bounds` (checked: checkBounds; default: the family's own).
 */
export function familyModel(
  family: Family,
  variants: Partial<Variants>,
  invariantNames: string[] = [],
  bounds: Bounds = {},
): WorldModel {
  const def: FamilyDef = DEFS[family];
  const t = def.topology(bounds);
  const topology = parseTopology({ gpus: t.gpus }, t.processes);
  const header: LogHeader = { gpucr: 1, topology, variants };
  const invariants: Invariant[] = selectInvariants(invariantNames);
  const parts = def.build(createWorld(topology, variants), bounds);
  const model = worldModel(header, parts.setup, parts.actions, invariants);
  return parts.final ? { ...model, final: parts.final } : model;
}
