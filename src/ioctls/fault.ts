/**
 * `fault {site, errno, after, count}`: arm a fault-injection site (src/world/faults.ts,
 * docs/ttm-i915-events.md "Fault sites"). Kernel-internal: no pid.
 */
import { ERRNO } from '../uapi/errno.js';
import { armFault, FAULT_SITES, FAULT_SITE_NAMES, type FaultSite } from '../world/faults.js';
import { register } from './registry.js';
import { enumOf, nullable, u32 } from './schema.js';

/** MAX_ERRNO (include/linux/err.h). */
const MAX_ERRNO = 4095;

/** The errno a site fails with when the event gives none (errno 0). */
export const DEFAULT_FAULT_ERRNO: Record<FaultSite, number> = {
  'ttm.backup_page': ERRNO.ENOMEM,
  'ttm.copy_page': ERRNO.EINTR,
  'ttm.restore_alloc': ERRNO.ENOMEM,
  'ttm.no_swap': ERRNO.ENOSPC,
  'i915.copy': ERRNO.EIO,
  'i915.gt_wedged': ERRNO.EIO,
  'i915.populate': ERRNO.ENOMEM,
  'xe.copy': ERRNO.EIO,
  'ttm.alloc': ERRNO.ENOMEM,
};

interface FaultArgs {
  site: number;
  errno: number;
  after: number;
  count: number | null;
}

export const faultCall = register<FaultArgs>({
  name: 'fault',
  kind: 'internal',
  needsPid: false,
  models:
    'fault injection (CONFIG_FAULT_INJECTION style): after `after` further successful passes through a named site, the next `count` passes fail with -errno',
  checks: [
    'errno above MAX_ERRNO (4095) → -EINVAL',
    'count 0 disarms the site; count absent means 1; errno 0 means the site’s default errno',
  ],
  args: {
    site: enumOf(FAULT_SITES, ''),
    errno: enumOf(ERRNO, ''),
    after: u32,
    count: nullable(u32),
  },
  out: [],
  run({ w }, a) {
    const site = FAULT_SITE_NAMES.find((s) => FAULT_SITES[s] === a.site);
    if (site === undefined) return -ERRNO.EINVAL;
    if (a.errno > MAX_ERRNO) return -ERRNO.EINVAL;
    const errno = a.errno === 0 ? DEFAULT_FAULT_ERRNO[site] : a.errno;
    armFault(w, site, { errno, after: a.after, count: a.count ?? 1 });
    return 0;
  },
});
