/**
 * The benchmark log: one process on one GPU keeps about `bos` BOs alive and churns
 * through allocate, map, unmap, free, queue and event calls, as a recorded log would
 * carry them (literal handles, every `ret` asserted). Deterministic for a given size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

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

/**
 * The lines of the benchmark log, header first: `events` events after it. A generator, so
 * that a log of any length can be written without holding it (writeBenchLog).
 */
export function* benchLogLines(events: number, bos: number): Generator<string> {
  let n = 0;
  const line = (o: unknown) => {
    n++;
    return JSON.stringify(o);
  };
  // Lines are yielded while fewer than the header and `events` were: a round's calls stop there.
  const room = () => n < events + 1;
  yield line({ gpucr: 1, topology: { gpus: [{ gpu_id: GPU, render_minor: 128, vram_size: '0x100000000000' }] } });
  const opening = [
    { pid: PID, call: 'open', args: { path: '/dev/kfd' }, ret: 0, out: { fd: 3 } },
    { pid: PID, call: 'open', args: { path: '/dev/dri/renderD128' }, ret: 0, out: { fd: 4 } },
    { pid: PID, call: 'AMDKFD_IOC_ACQUIRE_VM', fd: KFD_FD, args: { drm_fd: 4, gpu_id: GPU }, ret: 0 },
  ];
  for (const o of opening) if (room()) yield line(o);
  const ioctl = (call: string, args: Record<string, unknown>) => line({ pid: PID, call, fd: KFD_FD, args, ret: 0 });
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
  for (let i = 0; i < bos && room(); i++) yield alloc(i);
  for (let i = 0; i < bos && room(); i++) yield map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', i);
  for (let round = 0; room(); round++) {
    const slot = (round * 7919) % bos;
    const calls: (() => string)[] = [];
    switch (round % 4) {
      case 0:
        calls.push(
          () => map('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', slot),
          () => map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', slot),
        );
        break;
      case 1:
        calls.push(
          () => map('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', slot),
          () => ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: handle(slot) }),
          () => alloc(slot),
          () => map('AMDKFD_IOC_MAP_MEMORY_TO_GPU', slot),
        );
        break;
      case 2:
        calls.push(
          () =>
            ioctl('AMDKFD_IOC_CREATE_QUEUE', {
              ring_base_address: '0x7ffe00000000',
              ring_size: 4096,
              gpu_id: GPU,
              queue_type: 'COMPUTE_AQL',
              queue_percentage: 100,
            }),
          () => ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 }),
        );
        break;
      default:
        calls.push(
          () => ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1 }),
          () => ioctl('AMDKFD_IOC_SET_EVENT', { event_id: 1 }),
          () => ioctl('AMDKFD_IOC_RESET_EVENT', { event_id: 1 }),
          () => ioctl('AMDKFD_IOC_DESTROY_EVENT', { event_id: 1 }),
        );
    }
    for (const call of calls) if (room()) yield call();
  }
}

export function generateBenchLog(events: number, bos: number): BenchLog {
  return { lines: [...benchLogLines(events, bos)], events };
}

/** Write the benchmark log to `path` a megabyte at a time; returns its size in bytes. */
export function writeBenchLog(path: string, events: number, bos: number): number {
  const fd = openSync(path, 'w');
  let chunk: string[] = [];
  let pending = 0;
  let size = 0;
  const flush = () => {
    const bytes = Buffer.from(`${chunk.join('\n')}\n`);
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    size += bytes.length;
    chunk = [];
    pending = 0;
  };
  try {
    for (const l of benchLogLines(events, bos)) {
      chunk.push(l);
      pending += l.length + 1;
      if (pending >= 1 << 20) flush();
    }
    if (chunk.length) flush();
  } finally {
    closeSync(fd);
  }
  return size;
}
