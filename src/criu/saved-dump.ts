/**
 * What a `criu.dump` without `dir` keeps in its world (`w.saved`, by the dump's object id) for a
 * later `criu.restore {dump}` (src/ioctls/criu/orchestrate.ts): CRIU's image directory in memory,
 * that is the plugin's images and what CRIU core's images say (the tasks and the CRIU file id of
 * each of their fds, the pages of userptr BOs: tasks-image.ts).
 *
 * A snapshot holds it, so it has a schema like a machine context (machines/context-schema.ts),
 * and a snapshot load checks it as a restore from a directory checks the files
 * (src/log/snapshot-saved.ts).
 */
import { contextSchema, INT_MAX } from '../../machines/context-schema.js';
import type { CriuDmabufNode, CriuKfd, CriuRenderNode, ImageDir } from './images/index.js';
import type { DumpedTask, ProcessMemory } from './orchestrate-common.js';

export interface SavedDump {
  images: ImageDir;
  memory: ProcessMemory[];
  tasks: DumpedTask[];
}

/**
 * The image sets and CRIU core's part, field by field. The plugin's messages are left to their
 * encoder (checkImageDir, images/dir-write.ts), which checks each field against
 * criu-amdgpu.proto and then the plugin's rules, as it does before writing a file.
 */
export const savedDumpSpec = contextSchema<SavedDump>()((kit) => {
  const { z, u32 } = kit;
  const fileId = u32.max(INT_MAX);
  const contents = z.array(kit.pageValues.optional()).optional();
  return z.strictObject({
    images: z.strictObject({
      kfd: z.array(z.strictObject({ id: fileId, kfd: z.custom<CriuKfd>(), contents })),
      renderD: z.array(z.strictObject({ id: fileId, renderD: z.custom<CriuRenderNode>(), contents })),
      dmabuf: z.array(z.strictObject({ id: fileId, dmabuf: z.custom<CriuDmabufNode>() })),
    }),
    memory: z.array(z.strictObject({ pid: u32, gpu_id: u32, addr: kit.u64, content: z.record(kit.intKey(0), u32) })),
    tasks: z.array(
      z.strictObject({
        pid: u32.max(INT_MAX),
        fds: z.array(z.strictObject({ fd: u32.max(INT_MAX), id: u32.max(INT_MAX) })),
      }),
    ),
  });
});
