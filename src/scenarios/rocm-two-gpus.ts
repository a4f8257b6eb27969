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

/** Build the scenario; `ref(line, field)` names an earlier event's out field. */
export function rocmTwoGpus(): Scenario {
  const events: ScenarioEvent[] = [];
  const add = (e: ScenarioEvent): number => {
    events.push(e);
    return events.length + 1; // the log line of this event
  };
  const ref = (line: number, field: string) => `$${line}.${field}`;
  const app = (call: string, args: Record<string, unknown>, fd?: number) =>
    add({ pid: APP, call, ...(fd === undefined ? {} : { fd }), args });

  app('open', { path: '/dev/kfd' }); // fd 3
  app('open', { path: '/dev/dri/renderD128' }); // fd 4
  app('open', { path: '/dev/dri/renderD129' }); // fd 5
  app('AMDKFD_IOC_GET_VERSION', {}, 3);
  app('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU_A }, 3);
  app('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }, 3);
  const vram = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    {
      va_addr: '0x7f0000000000',
      size: 8 * MiB,
      gpu_id: GPU_A,
      flags: ['VRAM', 'WRITABLE', 'EXECUTABLE'],
    },
    3,
  );
  const gtt = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    {
      va_addr: '0x7f0001000000',
      size: 2 * MiB,
      gpu_id: GPU_A,
      flags: ['GTT', 'WRITABLE', 'PUBLIC'],
    },
    3,
  );
  const userptr = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    {
      va_addr: '0x7f0002000000',
      size: MiB,
      gpu_id: GPU_B,
      mmap_offset: '0x7ffd00000000',
      flags: ['USERPTR', 'WRITABLE'],
    },
    3,
  );
  const doorbell = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { va_addr: '0x7f0003000000', size: 8192, gpu_id: GPU_A, flags: ['DOORBELL', 'WRITABLE'] },
    3,
  );
  const mmio = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { va_addr: '0x7f0004000000', size: 4096, gpu_id: GPU_B, flags: ['MMIO_REMAP', 'WRITABLE'] },
    3,
  );
  const ring = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { va_addr: '0x7f0005000000', size: 64 * 1024, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] },
    3,
  );
  const eventPage = app(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { va_addr: '0x7f0006000000', size: 32768, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] },
    3,
  );
  // VRAM of GPU A is used by both GPUs (peer access); the rest on its own GPU.
  app('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: ref(vram, 'handle'), device_ids: [GPU_A, GPU_B] }, 3);
  for (const [line, gpu] of [
    [gtt, GPU_A],
    [userptr, GPU_B],
    [doorbell, GPU_A],
    [mmio, GPU_B],
    [ring, GPU_A],
    [eventPage, GPU_A],
  ] as const)
    app('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: ref(line, 'handle'), device_ids: [gpu] }, 3);
  app('gpu_write', { handle: ref(vram, 'handle'), page: 0, value: 0xc0ffee }, 3);
  app('gpu_write', { handle: ref(vram, 'handle'), page: 2047, value: 0xdecaf }, 3);
  app('gpu_write', { handle: ref(gtt, 'handle'), page: 1, value: 42 }, 3);
  // The sample AQL queue on the ring BO, its addresses written as 0x strings like the rest.
  app('AMDKFD_IOC_CREATE_QUEUE', humanValue(undefined, createQueueArgs(GPU_A)) as Record<string, unknown>, 3);
  app(
    'AMDKFD_IOC_CREATE_EVENT',
    { event_page_offset: ref(eventPage, 'handle'), event_type: 'SIGNAL', auto_reset: 1 },
    3,
  );
  app('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 0 }, 3);
  app('AMDKFD_IOC_CREATE_EVENT', { event_type: 'MEMORY', auto_reset: 1 }, 3);
  // CRIU, the ptrace parent, works on the drained /dev/kfd fd of the application.
  const kfd = `${APP}:3`;
  const info = add({
    pid: CRIU,
    call: 'AMDKFD_IOC_CRIU_OP',
    fd: kfd,
    args: { op: 'PROCESS_INFO' },
  });
  add({
    pid: CRIU,
    call: 'AMDKFD_IOC_CRIU_OP',
    fd: kfd,
    args: {
      op: 'CHECKPOINT',
      devices: [],
      bos: [],
      priv_data: '',
      num_devices: ref(info, 'num_devices'),
      num_bos: ref(info, 'num_bos'),
      num_objects: ref(info, 'num_objects'),
      priv_data_size: ref(info, 'priv_data_size'),
    },
  });
  add({ pid: CRIU, call: 'AMDKFD_IOC_CRIU_OP', fd: kfd, args: { op: 'UNPAUSE' } });
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
    events,
  };
}
