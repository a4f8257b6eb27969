/**
 * The benchmark log: one process on one GPU keeps about `bos` BOs alive and churns
 * through allocate, map, unmap, free, queue and event calls, as a recorded log would
 * carry them (literal handles, every `ret` asserted). Deterministic for a given size.
 */
const GPU = 0x1002;
const PID = 100;
const KFD_FD = 3;
const BASE = 0x7f0000000000n;
const STRIDE = 0x200000n;

export interface BenchLog {
  lines: string[];
  events: number;
}

function handle(idr: number): string {
  return `0x${((BigInt(GPU) << 32n) + BigInt(idr)).toString(16)}`;
}

export function generateBenchLog(events: number, bos: number): BenchLog {
  const lines: string[] = [];
  const push = (o: unknown) => lines.push(JSON.stringify(o));
  push({ gpucr: 1, topology: { gpus: [{ gpu_id: GPU, render_minor: 128, vram_size: '0x100000000000' }] } });
  push({ pid: PID, call: 'open', args: { path: '/dev/kfd' }, ret: 0, out: { fd: 3 } });
  push({ pid: PID, call: 'open', args: { path: '/dev/dri/renderD128' }, ret: 0, out: { fd: 4 } });
  push({ pid: PID, call: 'AMDKFD_IOC_ACQUIRE_VM', fd: KFD_FD, args: { drm_fd: 4, gpu_id: GPU }, ret: 0 });
  const ioctl = (call: string, args: Record<string, unknown>) => push({ pid: PID, call, fd: KFD_FD, args, ret: 0 });
  const alloc = (slot: number) =>
    ioctl('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', {
      va_addr: `0x${(BASE + BigInt(slot) * STRIDE).toString(16)}`,
      size: 4096,
      gpu_id: GPU,
      flags: ['VRAM', 'WRITABLE'],
    });
  const map = (call: string, slot: number) => ioctl(call, { handle: handle(slot), device_ids: [GPU] });
  // The idr handle of slot i is i: allocation takes the lowest free id, and a freed
  // slot is reallocated before any other is freed.
  for (let i = 0; i < bos && lines.length - 1 < events; i++) alloc(i);
  for (let i = 0; i < bos && lines.length - 1 < events; i++) map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', i);
  let round = 0;
  while (lines.length - 1 < events) {
    const slot = (round * 7919) % bos;
    switch (round % 4) {
      case 0:
        map('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', slot);
        map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', slot);
        break;
      case 1:
        map('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', slot);
        ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: handle(slot) });
        alloc(slot);
        map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', slot);
        break;
      case 2:
        ioctl('AMDKFD_IOC_CREATE_QUEUE', {
          ring_base_address: '0x7ffe00000000',
          ring_size: 4096,
          gpu_id: GPU,
          queue_type: 'COMPUTE_AQL',
          queue_percentage: 100,
        });
        ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 });
        break;
      default:
        ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1 });
        ioctl('AMDKFD_IOC_SET_EVENT', { event_id: 1 });
        ioctl('AMDKFD_IOC_RESET_EVENT', { event_id: 1 });
        ioctl('AMDKFD_IOC_DESTROY_EVENT', { event_id: 1 });
    }
    round++;
  }
  return { lines: lines.slice(0, events + 1), events };
}
