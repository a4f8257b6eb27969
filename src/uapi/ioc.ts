/**
 * Linux ioctl request encoding, asm-generic flavour (x86-64, arm64, riscv …).
 *
 * Mirrors `include/uapi/asm-generic/ioctl.h`: a request word is
 * `dir << 30 | size << 16 | type << 8 | nr`, all unsigned 32-bit.
 */

/** Width of the command-number field (`_IOC_NRBITS`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_NRBITS = 8;
/** Width of the type ("magic") field (`_IOC_TYPEBITS`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_TYPEBITS = 8;
/** Width of the argument-size field (`_IOC_SIZEBITS`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_SIZEBITS = 14;
/** Width of the direction field (`_IOC_DIRBITS`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_DIRBITS = 2;

/** Mask of the nr field (`_IOC_NRMASK`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_NRMASK = (1 << _IOC_NRBITS) - 1;
/** Mask of the type field (`_IOC_TYPEMASK`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_TYPEMASK = (1 << _IOC_TYPEBITS) - 1;
/** Mask of the size field (`_IOC_SIZEMASK`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_SIZEMASK = (1 << _IOC_SIZEBITS) - 1;
/** Mask of the dir field (`_IOC_DIRMASK`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_DIRMASK = (1 << _IOC_DIRBITS) - 1;

/** Bit position of nr (`_IOC_NRSHIFT`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_NRSHIFT = 0;
/** Bit position of type (`_IOC_TYPESHIFT`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
/** Bit position of size (`_IOC_SIZESHIFT`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
/** Bit position of dir (`_IOC_DIRSHIFT`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

/** No data transfer (`_IOC_NONE`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_NONE = 0;
/** User space writes, kernel reads (`_IOC_WRITE`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_WRITE = 1;
/** Kernel writes, user space reads (`_IOC_READ`, include/uapi/asm-generic/ioctl.h). */
export const _IOC_READ = 2;

/** An ioctl "type" (magic): a one-character string such as `'K'` or its code (include/uapi/asm-generic/ioctl.h). */
export type IocType = string | number;

/** Decoded fields of a request word (the `_IOC_DIR/_IOC_TYPE/_IOC_NR/_IOC_SIZE` macros of include/uapi/asm-generic/ioctl.h). */
export interface IocFields {
  dir: number;
  type: number;
  nr: number;
  size: number;
}

function typeCode(type: IocType): number {
  if (typeof type === 'string') {
    if (type.length !== 1) throw new RangeError(`ioctl type must be one character, got '${type}'`);
    return type.charCodeAt(0);
  }
  return type;
}

function checkField(what: string, value: number, mask: number): void {
  if (!Number.isInteger(value) || value < 0 || value > mask) {
    throw new RangeError(`ioctl ${what} ${value} does not fit in its field (max ${mask})`);
  }
}

/** Builds a request word (`_IOC(dir,type,nr,size)`, include/uapi/asm-generic/ioctl.h); throws RangeError if a field overflows. */
export function _IOC(dir: number, type: IocType, nr: number, size: number): number {
  const t = typeCode(type);
  checkField('dir', dir, _IOC_DIRMASK);
  checkField('type', t, _IOC_TYPEMASK);
  checkField('nr', nr, _IOC_NRMASK);
  checkField('size', size, _IOC_SIZEMASK);
  return ((dir << _IOC_DIRSHIFT) | (t << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)) >>> 0;
}

/** Request without argument (`_IO(type,nr)`, include/uapi/asm-generic/ioctl.h). */
export function _IO(type: IocType, nr: number): number {
  return _IOC(_IOC_NONE, type, nr, 0);
}

/** Request whose argument the kernel writes (`_IOR(type,nr,size)`, include/uapi/asm-generic/ioctl.h). */
export function _IOR(type: IocType, nr: number, size: number): number {
  return _IOC(_IOC_READ, type, nr, size);
}

/** Request whose argument the kernel reads (`_IOW(type,nr,size)`, include/uapi/asm-generic/ioctl.h). */
export function _IOW(type: IocType, nr: number, size: number): number {
  return _IOC(_IOC_WRITE, type, nr, size);
}

/** Request with an in/out argument (`_IOWR(type,nr,size)`, include/uapi/asm-generic/ioctl.h). */
export function _IOWR(type: IocType, nr: number, size: number): number {
  return _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
}

/** Direction bits of a request (`_IOC_DIR(nr)`, include/uapi/asm-generic/ioctl.h). */
export function _IOC_DIR(request: number): number {
  return (request >>> _IOC_DIRSHIFT) & _IOC_DIRMASK;
}

/** Type byte of a request (`_IOC_TYPE(nr)`, include/uapi/asm-generic/ioctl.h). */
export function _IOC_TYPE(request: number): number {
  return (request >>> _IOC_TYPESHIFT) & _IOC_TYPEMASK;
}

/** Command number of a request (`_IOC_NR(nr)`, include/uapi/asm-generic/ioctl.h). */
export function _IOC_NR(request: number): number {
  return (request >>> _IOC_NRSHIFT) & _IOC_NRMASK;
}

/** Argument size of a request (`_IOC_SIZE(nr)`, include/uapi/asm-generic/ioctl.h). */
export function _IOC_SIZE(request: number): number {
  return (request >>> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
}

/** Splits a request word into dir/type/nr/size (inverse of `_IOC`, include/uapi/asm-generic/ioctl.h). */
export function iocDecode(request: number): IocFields {
  if (!Number.isInteger(request) || request < 0 || request > 0xffffffff) {
    throw new RangeError(`ioctl request ${request} is not an unsigned 32-bit integer`);
  }
  return {
    dir: _IOC_DIR(request),
    type: _IOC_TYPE(request),
    nr: _IOC_NR(request),
    size: _IOC_SIZE(request),
  };
}
