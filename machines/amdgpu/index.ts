/** The amdgpu render-node machines: GEM objects and their per-VM bo_va (spec §1, §8, §11.4). */
export * from './bo-va.js';
export * from './gem-bo.js';
