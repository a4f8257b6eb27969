/**
 * The errno values gpucr's ioctl handlers return.
 *
 * Numbers are those of `include/uapi/asm-generic/errno-base.h` and
 * `include/uapi/asm-generic/errno.h` (x86-64 uses the generic table), plus
 * ENOTSUPP (524), which is kernel-internal (`include/linux/errno.h`) but is what
 * amdkfd's CREATE_QUEUE returns for an unknown queue type (spec §7.2).
 */

/** errno name → positive number (include/uapi/asm-generic/errno-base.h, errno.h; ENOTSUPP from include/linux/errno.h). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ENOTSUPP: 524,
} as const;

/** A name of the ERRNO table (include/uapi/asm-generic/errno*.h). */
export type ErrnoName = keyof typeof ERRNO;

/** Names that exist only inside the kernel, never in the uapi errno headers (include/linux/errno.h). */
export const KERNEL_INTERNAL_ERRNOS: readonly ErrnoName[] = ['ENOTSUPP'];

const BY_NUMBER = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, n]) => [n, name]),
);

/** Name of an errno given as positive or negative (kernel) number, else the number as a string (include/uapi/asm-generic/errno*.h). */
export function errnoName(n: number): string {
  return BY_NUMBER.get(Math.abs(n)) ?? String(n);
}

/** True if `name` is in the ERRNO table (include/uapi/asm-generic/errno*.h). */
export function isErrnoName(name: string): name is ErrnoName {
  return Object.hasOwn(ERRNO, name);
}

/** The kernel's return value for an error: `-ERRNO[name]` (include/uapi/asm-generic/errno*.h). */
export function err(name: ErrnoName): number {
  const n = ERRNO[name];
  if (n === undefined) throw new RangeError(`unknown errno name '${String(name)}'`);
  return -n;
}
