/** CREATE_QUEUE and DESTROY_QUEUE (spec §7.2, §5.2.1). */
import { ERRNO } from '../../uapi/errno.js';
import {
  KFD_MAX_QUEUE_PERCENTAGE,
  KFD_MAX_QUEUE_PRIORITY,
  KFD_MIN_QUEUE_RING_SIZE,
  KFD_MMAP_GPU_ID,
  KFD_MMAP_TYPE,
  KFD_IOC_QUEUE_TYPE as QT,
} from '../../uapi/index.js';
import { send } from '../../world/objects.js';
import { gpuById, pdd, pddByUserGpuId } from '../../world/world.js';
import { KernelReturn, register } from '../registry.js';
import { enumOf, u32, u64 } from '../schema.js';
import { bindProcessToDevice } from './kernel/process.js';
import { KFD_QUEUE_FORMAT, KFD_QUEUE_TYPE, pqmCreateQueue, pqmDestroyQueue } from './kernel/queues.js';

/** TASK_SIZE_MAX on x86-64: access_ok() refuses user pointers beyond it. */
const TASK_SIZE_MAX = 0x00007ffffffff000n;
/** SDMA engines per device that SDMA_BY_ENG_ID may name. [model default] */
const SDMA_ENGINES = 2;

interface CreateQueueArgs {
  ring_base_address: bigint;
  write_pointer_address: bigint;
  read_pointer_address: bigint;
  doorbell_offset: bigint;
  ring_size: number;
  gpu_id: number;
  queue_type: number;
  queue_percentage: number;
  queue_priority: number;
  queue_id: number;
  eop_buffer_address: bigint;
  eop_buffer_size: bigint;
  ctx_save_restore_address: bigint;
  ctx_save_restore_size: number;
  ctl_stack_size: number;
  sdma_engine_id: number;
}

function accessOk(addr: bigint, size: bigint): boolean {
  return addr + size <= TASK_SIZE_MAX;
}

// set_queue_properties_from_user (kfd_chardev.c), spec §7.2: returns 0 or the errno.
function queuePropertiesFromUser(a: CreateQueueArgs): number {
  if ((a.queue_percentage & 0xff) > KFD_MAX_QUEUE_PERCENTAGE) return -ERRNO.EINVAL;
  if (a.queue_priority > KFD_MAX_QUEUE_PRIORITY) return -ERRNO.EINVAL;
  // access_ok(ring_base_address, sizeof(uint64_t)): the ring's first 8 bytes, not the whole ring.
  if (a.ring_base_address && !accessOk(a.ring_base_address, 8n)) return -ERRNO.EFAULT;
  if (a.ring_size !== 0 && (a.ring_size & (a.ring_size - 1)) !== 0) return -ERRNO.EINVAL;
  if (a.ring_size < KFD_MIN_QUEUE_RING_SIZE) a.ring_size = KFD_MIN_QUEUE_RING_SIZE;
  if (!accessOk(a.read_pointer_address, 4n)) return -ERRNO.EFAULT;
  if (!accessOk(a.write_pointer_address, 4n)) return -ERRNO.EFAULT;
  if (a.eop_buffer_address && !accessOk(a.eop_buffer_address, 4n)) return -ERRNO.EFAULT;
  if (a.ctx_save_restore_address && !accessOk(a.ctx_save_restore_address, 4n)) return -ERRNO.EFAULT;
  if (!Object.values(QT).includes(a.queue_type as never)) return -ERRNO.ENOTSUPP;
  return 0;
}

/** The ioctl's queue_type → the kernel's (type, format). */
function kernelQueueType(queueType: number): { type: number; format: number } {
  switch (queueType) {
    case QT.COMPUTE:
      return { type: KFD_QUEUE_TYPE.COMPUTE, format: KFD_QUEUE_FORMAT.PM4 };
    case QT.COMPUTE_AQL:
      return { type: KFD_QUEUE_TYPE.COMPUTE, format: KFD_QUEUE_FORMAT.AQL };
    case QT.SDMA:
      return { type: KFD_QUEUE_TYPE.SDMA, format: KFD_QUEUE_FORMAT.PM4 };
    case QT.SDMA_XGMI:
      return { type: KFD_QUEUE_TYPE.SDMA_XGMI, format: KFD_QUEUE_FORMAT.PM4 };
    default:
      return { type: KFD_QUEUE_TYPE.SDMA_BY_ENG_ID, format: KFD_QUEUE_FORMAT.PM4 };
  }
}

// kfd_ioctl_create_queue (kfd_chardev.c), spec §7.2
export const createQueue = register<CreateQueueArgs>({
  name: 'AMDKFD_IOC_CREATE_QUEUE',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_create_queue (kfd_chardev.c), spec §7.2',
  checks: [
    '(queue_percentage & 0xFF) > 100 → -EINVAL',
    'queue_priority > 15 → -EINVAL',
    'ring base beyond user space (its first 8 bytes, as access_ok checks) → -EFAULT',
    'ring_size not a power of two (and not 0) → -EINVAL; smaller than 1024 is raised to 1024',
    'read/write pointer, EOP or context-save address beyond user space → -EFAULT',
    'unknown queue_type → -ENOTSUPP (524)',
    'no pdd for gpu_id (user id) → -EINVAL',
    'kfd_bind_process_to_device fails → -ESRCH',
    'SDMA_BY_ENG_ID with sdma_engine_id out of range → -EINVAL',
    'pqm_create_queue: 127 queues on the device (255 on GC 9.4.3, 9.4.4, 9.5.0: no HWS limit) → -ENOSPC; then no free queue slot in the process (1024) → -ENOMEM',
  ],
  args: {
    ring_base_address: u64,
    write_pointer_address: u64,
    read_pointer_address: u64,
    doorbell_offset: u64,
    ring_size: u32,
    gpu_id: u32,
    queue_type: enumOf(QT, 'KFD_IOC_QUEUE_TYPE_'),
    queue_percentage: u32,
    queue_priority: u32,
    queue_id: u32,
    eop_buffer_address: u64,
    eop_buffer_size: u64,
    ctx_save_restore_address: u64,
    ctx_save_restore_size: u32,
    ctl_stack_size: u32,
    sdma_engine_id: u32,
  },
  out: ['queue_id', 'doorbell_offset', 'ring_size'],
  run({ w, task }, a) {
    const bad = queuePropertiesFromUser(a);
    if (bad) return bad;
    const pddId = pddByUserGpuId(w, task, a.gpu_id);
    if (!pddId) return -ERRNO.EINVAL;
    const gpuId = pdd(w, pddId).gpu_id;
    try {
      bindProcessToDevice(w, task, gpuId);
    } catch (e) {
      if (e instanceof KernelReturn) return -ERRNO.ESRCH;
      throw e;
    }
    if (a.queue_type === QT.SDMA_BY_ENG_ID && a.sdma_engine_id >= SDMA_ENGINES) return -ERRNO.EINVAL;
    send(w, pddId, { type: 'ALLOC_DOORBELLS' });
    const { type, format } = kernelQueueType(a.queue_type);
    const qid = pqmCreateQueue(
      w,
      task,
      pddId,
      {
        type,
        format,
        q_address: a.ring_base_address,
        q_size: BigInt(a.ring_size),
        read_ptr_addr: a.read_pointer_address,
        write_ptr_addr: a.write_pointer_address,
        doorbell_off: 0n,
        eop_ring_buffer_address: a.eop_buffer_address,
        eop_ring_buffer_size: Number(a.eop_buffer_size),
        ctx_save_restore_area_address: a.ctx_save_restore_address,
        ctx_save_restore_area_size: a.ctx_save_restore_size,
        ctl_stack_size: type === KFD_QUEUE_TYPE.COMPUTE ? a.ctl_stack_size : 0,
        priority: a.queue_priority,
        q_percent: a.queue_percentage,
        sdma_id: 0,
        gws: 0,
        sdma_engine_id: a.sdma_engine_id,
        mqd: '',
        ctl_stack: '',
      },
      null,
    );
    const slice = BigInt(gpuById(w, gpuId)!.doorbell_slice_size);
    a.queue_id = qid;
    // SOC15: the doorbell's byte offset inside the process doorbell slice.
    a.doorbell_offset = KFD_MMAP_TYPE.DOORBELL | KFD_MMAP_GPU_ID(a.gpu_id) | ((BigInt(qid) * 8n) & (slice - 1n));
    return 0;
  },
});

// kfd_ioctl_destroy_queue (kfd_chardev.c), spec §7.2
export const destroyQueue = register<{ queue_id: number; pad: number }>({
  name: 'AMDKFD_IOC_DESTROY_QUEUE',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_destroy_queue → pqm_destroy_queue (kfd_chardev.c), spec §7.2',
  checks: ['no queue with queue_id → -EINVAL'],
  args: { queue_id: u32, pad: u32 },
  out: [],
  run({ w, task }, a) {
    pqmDestroyQueue(w, task, a.queue_id);
    return 0;
  },
});
