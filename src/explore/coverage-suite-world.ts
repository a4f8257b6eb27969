/**
 * What the composed-coverage configurations of coverage-suite-{kfd,amdgpu,criu}.ts
 * share: an application (pid 100) traced by CRIU (pid 99) on two GPUs (render minors
 * 128 and 129, 4 KiB pages), explored with every invariant checked.
 */
import { selectInvariants } from '../invariants/index.js';
import type { LogHeader } from '../log/reader.js';
import { parseTopology } from '../world/topology.js';
import type { Call, Variants, World } from '../world/types.js';
import type { SuiteConfig } from './coverage-suite.js';
import type { Raw } from './families/common.js';
import { type Action, worldModel } from './world-explorer.js';

export const GPU_A = 0xa3e1;
export const GPU_B = 0x5c17;
export const APP = 100;
export const CRIU = 99;

/** One configuration's world, built when it is explored. */
export interface TwoGpuWorld {
  /** The two gpu_ids, render minors 128 and 129 ([GPU_A, GPU_B] unless given). */
  gpus?: [number, number];
  /** The topology's processes (log-header form). */
  processes: Raw[];
  variants: Partial<Variants>;
  setup: Call[];
  actions: (w: World) => Action[];
}

/** A configuration of the suite on two GPUs; `expect` names the invariants a known-bug configuration breaks. */
export function twoGpuConfig(
  name: string,
  maxDepth: number,
  expect: string[] | undefined,
  world: () => TwoGpuWorld,
): SuiteConfig {
  return {
    name,
    maxDepth,
    ...(expect ? { expect } : {}),
    build: () => {
      const { gpus: [a, b] = [GPU_A, GPU_B], processes, variants, setup, actions } = world();
      const topology = parseTopology(
        {
          page_size: 4096,
          gpus: [
            { gpu_id: a, render_minor: 128 },
            { gpu_id: b, render_minor: 129 },
          ],
        },
        processes,
      );
      const header: LogHeader = { gpucr: 1, topology, variants };
      return worldModel(header, setup, actions, selectInvariants([]));
    },
  };
}
