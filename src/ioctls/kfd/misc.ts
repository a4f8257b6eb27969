/** GET_VERSION and SET_XNACK_MODE (spec §2.1, §7.2). */
import type { ProcessContext } from '../../../machines/kfd/process.js';
import { ERRNO } from '../../uapi/errno.js';
import { KFD_IOCTL_MAJOR_VERSION, KFD_IOCTL_MINOR_VERSION } from '../../uapi/index.js';
import { contextOf, send } from '../../world/objects.js';
import { pdd } from '../../world/world.js';
import { register } from '../registry.js';
import { s32, u32 } from '../schema.js';
import { xnackModeSupported } from './kernel/process.js';

// kfd_ioctl_get_version (kfd_chardev.c), spec §2.1
export const getVersion = register<{ major_version: number; minor_version: number }>({
  name: 'AMDKFD_IOC_GET_VERSION',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_get_version (kfd_chardev.c), spec §2.1',
  checks: [],
  args: { major_version: u32, minor_version: u32 },
  out: ['major_version', 'minor_version'],
  run(_k, a) {
    a.major_version = KFD_IOCTL_MAJOR_VERSION;
    a.minor_version = KFD_IOCTL_MINOR_VERSION;
    return 0;
  },
});

// kfd_ioctl_set_xnack_mode (kfd_chardev.c), spec §7.2
export const setXnackMode = register<{ xnack_enabled: number }>({
  name: 'AMDKFD_IOC_SET_XNACK_MODE',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_set_xnack_mode (kfd_chardev.c), spec §7.2',
  checks: [
    'xnack_enabled < 0: query, returns the current mode',
    'the process has user queues → -EBUSY',
    'XNACK on requested but a GPU cannot run with it (kfd_process_xnack_mode) → -EPERM',
  ],
  args: { xnack_enabled: s32 },
  out: ['xnack_enabled'],
  run({ w, task }, a) {
    const p = contextOf<ProcessContext>(w, task.kfd_process!);
    if (a.xnack_enabled < 0) {
      a.xnack_enabled = p.xnack_enabled ? 1 : 0;
      return 0;
    }
    if (task.pdds.some((id) => pdd(w, id).queues.length > 0)) return -ERRNO.EBUSY;
    if (a.xnack_enabled && !xnackModeSupported(w)) return -ERRNO.EPERM;
    send(w, task.kfd_process!, { type: 'SET_XNACK', enabled: a.xnack_enabled !== 0 });
    return 0;
  },
});
