/**
 * gpucr's public API: build a world from a topology, apply calls, read results and
 * object states, choose design variants, read and replay logs.
 *
 * ```ts
 * import { createWorld, parseTopology, step } from 'gpucr';
 * let world = createWorld(parseTopology({ gpus: [{ gpu_id: 0x1002, render_minor: 128 }] }, undefined));
 * const r = step(world, { pid: 100, call: 'open', args: { path: '/dev/kfd' } });
 * world = r.world; // r.ret === 0, r.out.fd === 3
 * ```
 */
import './ioctls/all.js';

export type { BoContext } from '../machines/kfd/bo.js';
export type { EventContext } from '../machines/kfd/event.js';
export * as machines from '../machines/kfd/index.js';
export type { PddContext } from '../machines/kfd/pdd.js';
export type { ProcessContext } from '../machines/kfd/process.js';
export type { QueueContext } from '../machines/kfd/queue.js';
export type { SvmRangeContext } from '../machines/kfd/svm-range.js';
export * as priv from './criu/kfd-priv.js';
export { InputError } from './errors.js';
export { allCalls, type CallDef, callDef } from './ioctls/registry.js';
export { decodeArgs, encodeField, type FieldType, type Schema } from './ioctls/schema.js';
export * from './invariants/index.js';
export * from './log/index.js';
export * as uapi from './uapi/index.js';
export { contextOf, inState, MACHINES } from './world/objects.js';
export { step } from './world/step.js';
export { parseTopology } from './world/topology.js';
export * from './world/types.js';
export {
  bo,
  boByHandle,
  createWorld,
  fileOf,
  gpuById,
  kfdProcessOf,
  liveTask,
  pdd,
  pddByGpuId,
  pddByUserGpuId,
} from './world/world.js';
