/**
 * The amdgpu plugin's state during one CRIU dump of a process tree (spec §9.4, §9.8): its
 * static lists, which span every task CRIU dumps in the one dumper process — the shared-BO
 * list (`record_shared_bo`), the deferred dma-buf fds (`dmabuf_list`), the /dev/kfd files to
 * unpause at DUMP_DEVICES_LATE — plus the images and calls the dump has produced so far.
 */
import { createObject, send } from '../world/objects.js';
import type { World } from '../world/types.js';
import { type ImageDir, NO_GEM_HANDLE } from './images/index.js';
import { type DumpedTask, type DumpResult, Issuer, type ProcessMemory } from './orchestrate-common.js';

/** A plugin fd of a dumped task (the ioctls' fd argument in its { pid, fd } form). */
export type TaskFd = { pid: number; fd: number };

/** The plugin's state during one dump of a tree (its static lists, spec §9.4, §9.8). */
export class TreeDump {
  readonly x: Issuer;
  readonly obj: string;
  readonly images: ImageDir = { kfd: [], renderD: [], dmabuf: [] };
  readonly memory: ProcessMemory[] = [];
  readonly tasks: DumpedTask[] = [];
  /** shared-BO list: gem id → GEM handle of the first dumped render-node file holding it (record_shared_bo). */
  readonly shared = new Map<string, number>();
  /**
   * The plugin's shared_bos as it is: handle number → has_exporter (record_shared_bo: the
   * first record of a number wins; shared_bo_has_exporter). Read by the `plugin-shared-bos:
   * by-number` variant.
   */
  readonly sharedNumbers = new Map<number, boolean>();
  /**
   * The render node of each GPU (a bucket's gpu_id → CRIU's fd) the plugin opened itself
   * (`node_get_drm_render_device`, cached for the plugin's life): under `plugin-kfd-handles:
   * dumper`, save_bos names KFD BOs by their handles in these files. Closed when the dump ends
   * (the plugin's process exits).
   */
  readonly ownRender = new Map<number, number>();
  /** gem id → the KFD bucket whose dma-buf it is (save_bos: handle = get_gem_handle). */
  readonly kfdGemHandle = new Map<string, { image: number; bo: number }>();
  /** dma-buf fds waiting for their exporter's render-node file (dmabuf_list), and the task's fd of each. */
  readonly deferred: { id: number; gem: string; ref: TaskFd }[] = [];
  /** Render-node files dumped so far, in dump order (record_dumped_fd(fd, is_drm = true)). */
  readonly drmRefs: TaskFd[] = [];
  /** /dev/kfd files dumped (DUMP_DEVICES_LATE unpauses them), and those PROCESS_INFO paused. */
  readonly kfdRefs: TaskFd[] = [];
  readonly paused: TaskFd[] = [];
  /** open file id → CRIU file id. */
  readonly ids = new Map<string, number>();
  /**
   * checkpoint_maps: actual gpu_id → user gpu_id, from the device buckets of every /dev/kfd
   * file CHECKPOINT dumped so far (save_devices), so that images keep the ids of the node the
   * application was first launched on (spec §9.2: render-node images carry user gpu ids).
   */
  readonly checkpointMaps = new Map<number, number>();

  constructor(
    readonly w: World,
    readonly criu: number,
    readonly pids: readonly number[],
  ) {
    this.x = new Issuer(w);
    this.obj = createObject(w, 'criu.dump', { pid: pids[0] ?? 0, pids: [...pids] });
  }

  result(failure: string | null): DumpResult {
    for (const fd of this.ownRender.values()) this.x.issue('plugin exit', this.criu, 'close', undefined, { fd });
    this.ownRender.clear();
    const { obj: object, images, memory, tasks } = this;
    return { ok: failure === null, failure, object, images, memory, calls: this.x.calls, tasks };
  }

  fail(why: string): DumpResult {
    send(this.w, this.obj, { type: 'FILE_FAILED' });
    // The plugin leaves them paused (spec §9.4); the dump-abort "unpause" variant unpauses them as it gives up.
    if (this.w.variants['dump-abort'] === 'unpause')
      for (const ref of this.paused)
        this.x.issue('dump abort', this.criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'UNPAUSE' });
    return this.result(why);
  }

  /** record_shared_bo(handle, is_imported): a number already listed keeps its first record. */
  recordSharedBo(handle: number, isImported: boolean): void {
    if (handle !== NO_GEM_HANDLE && !this.sharedNumbers.has(handle)) this.sharedNumbers.set(handle, !isImported);
  }

  /** shared_bo_has_exporter(handle). */
  hasExporter(handle: number): boolean {
    return this.sharedNumbers.get(handle) === true;
  }

  /** A CRIU file id for a file first seen now. */
  newId(taskIndex: number, fd: number): number {
    if (taskIndex === 0) return fd;
    let max = -1;
    for (const id of this.ids.values()) max = Math.max(max, id);
    return max + 1;
  }
}
