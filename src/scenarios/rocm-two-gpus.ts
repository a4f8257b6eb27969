/**
 * The built-in scenario: a ROCm-like process on two GPUs builds the state CRIU
 * saves, then CRIU (its ptrace parent) takes PROCESS_INFO → CHECKPOINT → UNPAUSE
 * on the drained /dev/kfd fd, as the amdgpu plugin does (spec §9.4).
 *
 * Events are written as a log would write them; `$<line>.<field>` references are
 * resolved by the replayer, so the same list is also a valid log (lines count
 * from 2: line 1 is the header).
 */
import { humanValue } from '../log/format.js';
import { createQueueArgs } from '../mbt/sample-queue.js';
import type { ProcessSpec } from '../world/types.js';

export const GPU_A = 0xa3e1;
export const GPU_B = 0x5c17;
export const APP = 100;
export const CRIU = 99;

export interface ScenarioEvent {
  pid?: number;
  call: string;
  fd?: number | string;
  args: Record<string, unknown>;
}

export interface Scenario {
  header: {
    gpucr: 1;
    topology: { page_size: number; gpus: Record<string, unknown>[] };
    processes?: Partial<ProcessSpec>[];
  };
  events: ScenarioEvent[];
}

const MiB = 1 << 20;
const KFD_FD = 3;

/** The scenario's events as they are added, each add giving its log line. */
class ScenarioLog {
  readonly events: ScenarioEvent[] = [];

  add(e: ScenarioEvent): number {
    this.events.push(e);
    return this.events.length + 1; // the log line of this event
  }

  /** A call of the application. */
  app(call: string, args: Record<string, unknown>, fd?: number): number {
    return this.add({ pid: APP, call, ...(fd === undefined ? {} : { fd }), args });
  }
}

/** `$<line>.<field>`: an earlier event's out field, resolved by the replayer. */
const ref = (line: number, field: string) => `$${line}.${field}`;

/** The application's BOs, allocated in this order: ALLOC_MEMORY_OF_GPU arguments by name. */
const BOS = {
  vram: { va_addr: '0x7f0000000000', size: 8 * MiB, gpu_id: GPU_A, flags: ['VRAM', 'WRITABLE', 'EXECUTABLE'] },
  gtt: { va_addr: '0x7f0001000000', size: 2 * MiB, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE', 'PUBLIC'] },
  userptr: {
    va_addr: '0x7f0002000000',
    size: MiB,
    gpu_id: GPU_B,
    mmap_offset: '0x7ffd00000000',
    flags: ['USERPTR', 'WRITABLE'],
  },
  doorbell: { va_addr: '0x7f0003000000', size: 8192, gpu_id: GPU_A, flags: ['DOORBELL', 'WRITABLE'] },
  mmio: { va_addr: '0x7f0004000000', size: 4096, gpu_id: GPU_B, flags: ['MMIO_REMAP', 'WRITABLE'] },
  ring: { va_addr: '0x7f0005000000', size: 64 * 1024, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] },
  eventPage: { va_addr: '0x7f0006000000', size: 32768, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] },
} as const;

/**
 * The application builds the state CRIU saves: /dev/kfd and both render nodes open, a
 * compute VM on each GPU, the BOs allocated and mapped (GPU A's VRAM on both GPUs, peer
 * access; the rest on its own GPU), a few pages written, an AQL queue and three events.
 */
function applicationState(log: ScenarioLog): void {
  log.app('open', { path: '/dev/kfd' }); // fd 3
  log.app('open', { path: '/dev/dri/renderD128' }); // fd 4
  log.app('open', { path: '/dev/dri/renderD129' }); // fd 5
  log.app('AMDKFD_IOC_GET_VERSION', {}, KFD_FD);
  log.app('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU_A }, KFD_FD);
  log.app('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }, KFD_FD);
  const line = {} as Record<keyof typeof BOS, number>;
  for (const [name, args] of Object.entries(BOS))
    line[name as keyof typeof BOS] = log.app(
      'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      { ...args, flags: [...args.flags] },
      KFD_FD,
    );
  const handle = (bo: keyof typeof BOS) => ref(line[bo], 'handle');
  log.app('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: handle('vram'), device_ids: [GPU_A, GPU_B] }, KFD_FD);
  for (const bo of ['gtt', 'userptr', 'doorbell', 'mmio', 'ring', 'eventPage'] as const)
    log.app('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: handle(bo), device_ids: [BOS[bo].gpu_id] }, KFD_FD);
  log.app('gpu_write', { handle: handle('vram'), page: 0, value: 0xc0ffee }, KFD_FD);
  log.app('gpu_write', { handle: handle('vram'), page: 2047, value: 0xdecaf }, KFD_FD);
  log.app('gpu_write', { handle: handle('gtt'), page: 1, value: 42 }, KFD_FD);
  // The sample AQL queue on the ring BO, its addresses written as 0x strings like the rest.
  log.app('AMDKFD_IOC_CREATE_QUEUE', humanValue(undefined, createQueueArgs(GPU_A)) as Record<string, unknown>, KFD_FD);
  log.app(
    'AMDKFD_IOC_CREATE_EVENT',
    { event_page_offset: handle('eventPage'), event_type: 'SIGNAL', auto_reset: 1 },
    KFD_FD,
  );
  log.app('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 0 }, KFD_FD);
  log.app('AMDKFD_IOC_CREATE_EVENT', { event_type: 'MEMORY', auto_reset: 1 }, KFD_FD);
}

/** CRIU, the ptrace parent, checkpoints through the drained /dev/kfd fd of the application (spec §9.4). */
function criuCheckpoint(log: ScenarioLog): void {
  const kfd = `${APP}:${KFD_FD}`;
  const criu = (args: Record<string, unknown>) => log.add({ pid: CRIU, call: 'AMDKFD_IOC_CRIU_OP', fd: kfd, args });
  const info = criu({ op: 'PROCESS_INFO' });
  criu({
    op: 'CHECKPOINT',
    devices: [],
    bos: [],
    priv_data: '',
    num_devices: ref(info, 'num_devices'),
    num_bos: ref(info, 'num_bos'),
    num_objects: ref(info, 'num_objects'),
    priv_data_size: ref(info, 'priv_data_size'),
  });
  criu({ op: 'UNPAUSE' });
}

/** Build the scenario: the log header (two 16 GiB GPUs, CRIU the application's ptrace parent) and its events. */
export function rocmTwoGpus(): Scenario {
  const log = new ScenarioLog();
  applicationState(log);
  criuCheckpoint(log);
  return {
    header: {
      gpucr: 1,
      topology: {
        page_size: 4096,
        gpus: [
          { gpu_id: GPU_A, render_minor: 128, vram_size: '17179869184' },
          { gpu_id: GPU_B, render_minor: 129, vram_size: '17179869184' },
        ],
      },
      processes: [{ pid: APP, ptrace_parent: CRIU }],
    },
    events: log.events,
  };
}
