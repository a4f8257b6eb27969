/**
 * CRIU + amdgpu plugin orchestration (spec §9.3–§9.6, §9.8, §11.5): a dump of a process tree
 * into the plugin's images (src/criu/dump.ts) and a restore of those images
 * (src/criu/restore.ts, src/criu/restore-drm.ts), each driving its stage machine
 * (machines/criu/dump.ts, machines/criu/restore.ts) and issuing every ioctl as an ordinary
 * call through applyInPlace on the world it is given, so that the calls can be logged as
 * their own lines with `by` = the orchestration line (docs/log-format.md).
 */
export { dumpTask, dumpTree } from './dump.js';
export {
  type DumpedTask,
  type DumpResult,
  gpuActivated,
  Issuer,
  type OrchestratedCall,
  type ProcessMemory,
} from './orchestrate-common.js';
export { restoreImages, type RestoreOptions, type RestoreResult } from './restore.js';
