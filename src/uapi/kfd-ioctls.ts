/**
 * The /dev/kfd ioctl table (`AMDKFD_IOC_*` of include/uapi/linux/kfd_ioctl.h,
 * spec §2.2). Request numbers are computed with `_IOC` from the argument struct
 * sizes in KFD_STRUCTS, never typed in.
 */
import { _IOC, _IOC_NONE, _IOC_READ, _IOC_WRITE } from './ioc.js';
import { kfdStructAt } from './kfd-structs.js';
import { checkKfdMinor, KFD_IOCTL_MINOR_VERSION } from './kfd-version.js';

/** Data direction of a KFD ioctl: `AMDKFD_IO`/`IOR`/`IOW`/`IOWR` (include/uapi/linux/kfd_ioctl.h). */
export type KfdIoctlDir = 'none' | 'r' | 'w' | 'rw';

/** One /dev/kfd ioctl (include/uapi/linux/kfd_ioctl.h; spec §2.2). */
export interface KfdIoctl {
  /** Full macro name, e.g. `AMDKFD_IOC_CRIU_OP`. */
  name: string;
  nr: number;
  dir: KfdIoctlDir;
  /** Argument struct tag (key of KFD_STRUCTS), or null for `AMDKFD_IO`. */
  struct: string | null;
  /** Request word for the modelled KFD version (`AMDKFD_IOWR(nr, struct …)`). */
  request: number;
  /** First KFD minor version that has the ioctl (spec §2.1). */
  sinceMinor?: number;
  /** Deprecated by the kernel (kfd_ioctl.h comments; the DBG_* ones return -EPERM). */
  deprecated?: boolean;
}

/** Ioctl type byte of /dev/kfd (`AMDKFD_IOCTL_BASE`, include/uapi/linux/kfd_ioctl.h). */
export const AMDKFD_IOCTL_BASE = 'K';

/** First valid command number (`AMDKFD_COMMAND_START`, include/uapi/linux/kfd_ioctl.h). */
export const AMDKFD_COMMAND_START = 0x01;

type Row = readonly [
  short: string,
  nr: number,
  dir: KfdIoctlDir,
  struct: string | null,
  opts?: { sinceMinor?: number; deprecated?: boolean },
];

const ROWS = [
  ['GET_VERSION', 0x01, 'r', 'kfd_ioctl_get_version_args'],
  ['CREATE_QUEUE', 0x02, 'rw', 'kfd_ioctl_create_queue_args'],
  ['DESTROY_QUEUE', 0x03, 'rw', 'kfd_ioctl_destroy_queue_args'],
  ['SET_MEMORY_POLICY', 0x04, 'w', 'kfd_ioctl_set_memory_policy_args'],
  ['GET_CLOCK_COUNTERS', 0x05, 'rw', 'kfd_ioctl_get_clock_counters_args'],
  ['GET_PROCESS_APERTURES', 0x06, 'r', 'kfd_ioctl_get_process_apertures_args', { deprecated: true }],
  ['UPDATE_QUEUE', 0x07, 'w', 'kfd_ioctl_update_queue_args'],
  ['CREATE_EVENT', 0x08, 'rw', 'kfd_ioctl_create_event_args'],
  ['DESTROY_EVENT', 0x09, 'w', 'kfd_ioctl_destroy_event_args'],
  ['SET_EVENT', 0x0a, 'w', 'kfd_ioctl_set_event_args'],
  ['RESET_EVENT', 0x0b, 'w', 'kfd_ioctl_reset_event_args'],
  ['WAIT_EVENTS', 0x0c, 'rw', 'kfd_ioctl_wait_events_args'],
  ['DBG_REGISTER_DEPRECATED', 0x0d, 'w', 'kfd_ioctl_dbg_register_args', { deprecated: true }],
  ['DBG_UNREGISTER_DEPRECATED', 0x0e, 'w', 'kfd_ioctl_dbg_unregister_args', { deprecated: true }],
  ['DBG_ADDRESS_WATCH_DEPRECATED', 0x0f, 'w', 'kfd_ioctl_dbg_address_watch_args', { deprecated: true }],
  ['DBG_WAVE_CONTROL_DEPRECATED', 0x10, 'w', 'kfd_ioctl_dbg_wave_control_args', { deprecated: true }],
  ['SET_SCRATCH_BACKING_VA', 0x11, 'rw', 'kfd_ioctl_set_scratch_backing_va_args'],
  ['GET_TILE_CONFIG', 0x12, 'rw', 'kfd_ioctl_get_tile_config_args'],
  ['SET_TRAP_HANDLER', 0x13, 'w', 'kfd_ioctl_set_trap_handler_args'],
  ['GET_PROCESS_APERTURES_NEW', 0x14, 'rw', 'kfd_ioctl_get_process_apertures_new_args'],
  ['ACQUIRE_VM', 0x15, 'w', 'kfd_ioctl_acquire_vm_args'],
  ['ALLOC_MEMORY_OF_GPU', 0x16, 'rw', 'kfd_ioctl_alloc_memory_of_gpu_args'],
  ['FREE_MEMORY_OF_GPU', 0x17, 'w', 'kfd_ioctl_free_memory_of_gpu_args'],
  ['MAP_MEMORY_TO_GPU', 0x18, 'rw', 'kfd_ioctl_map_memory_to_gpu_args'],
  ['UNMAP_MEMORY_FROM_GPU', 0x19, 'rw', 'kfd_ioctl_unmap_memory_from_gpu_args'],
  ['SET_CU_MASK', 0x1a, 'w', 'kfd_ioctl_set_cu_mask_args'],
  ['GET_QUEUE_WAVE_STATE', 0x1b, 'rw', 'kfd_ioctl_get_queue_wave_state_args'],
  ['GET_DMABUF_INFO', 0x1c, 'rw', 'kfd_ioctl_get_dmabuf_info_args'],
  ['IMPORT_DMABUF', 0x1d, 'rw', 'kfd_ioctl_import_dmabuf_args'],
  ['ALLOC_QUEUE_GWS', 0x1e, 'rw', 'kfd_ioctl_alloc_queue_gws_args'],
  ['SMI_EVENTS', 0x1f, 'rw', 'kfd_ioctl_smi_events_args', { sinceMinor: 3 }],
  ['SVM', 0x20, 'rw', 'kfd_ioctl_svm_args', { sinceMinor: 5 }],
  ['SET_XNACK_MODE', 0x21, 'rw', 'kfd_ioctl_set_xnack_mode_args', { sinceMinor: 5 }],
  ['CRIU_OP', 0x22, 'rw', 'kfd_ioctl_criu_args', { sinceMinor: 7 }],
  ['AVAILABLE_MEMORY', 0x23, 'rw', 'kfd_ioctl_get_available_memory_args', { sinceMinor: 9 }],
  ['EXPORT_DMABUF', 0x24, 'rw', 'kfd_ioctl_export_dmabuf_args', { sinceMinor: 12 }],
  ['RUNTIME_ENABLE', 0x25, 'rw', 'kfd_ioctl_runtime_enable_args', { sinceMinor: 13 }],
  ['DBG_TRAP', 0x26, 'rw', 'kfd_ioctl_dbg_trap_args', { sinceMinor: 13 }],
  ['CREATE_PROCESS', 0x27, 'none', null, { sinceMinor: 19 }],
] as const satisfies readonly Row[];

/** Full name of a /dev/kfd ioctl (`AMDKFD_IOC_*`, include/uapi/linux/kfd_ioctl.h). */
export type KfdIoctlName = `AMDKFD_IOC_${(typeof ROWS)[number][0]}`;

const DIR_BITS: Record<KfdIoctlDir, number> = {
  none: _IOC_NONE,
  r: _IOC_READ,
  w: _IOC_WRITE,
  rw: _IOC_READ | _IOC_WRITE,
};

function requestAt(row: Row, minor: number): number | undefined {
  const [, nr, dir, struct, opts] = row;
  if (opts?.sinceMinor !== undefined && opts.sinceMinor > minor) return undefined;
  if (struct === null) return _IOC(DIR_BITS[dir], AMDKFD_IOCTL_BASE, nr, 0);
  const layout = kfdStructAt(struct, minor);
  if (!layout) throw new Error(`kfd ioctl ${row[0]}: struct ${struct} missing at minor ${minor}`);
  return _IOC(DIR_BITS[dir], AMDKFD_IOCTL_BASE, nr, layout.size);
}

function buildTable(): Record<KfdIoctlName, KfdIoctl> {
  const out = {} as Record<KfdIoctlName, KfdIoctl>;
  for (const row of ROWS as readonly Row[]) {
    const [short, nr, dir, struct, opts] = row;
    const name = `AMDKFD_IOC_${short}` as KfdIoctlName;
    const entry: KfdIoctl = {
      name,
      nr,
      dir,
      struct,
      request: requestAt(row, Number.POSITIVE_INFINITY)!,
    };
    if (opts?.sinceMinor !== undefined) entry.sinceMinor = opts.sinceMinor;
    if (opts?.deprecated) entry.deprecated = true;
    out[name] = Object.freeze(entry);
  }
  return out;
}

/** Every /dev/kfd ioctl, keyed by full name (include/uapi/linux/kfd_ioctl.h; spec §2.2). */
export const AMDKFD_IOCTLS: Readonly<Record<KfdIoctlName, KfdIoctl>> = Object.freeze(buildTable());

const BY_NR = new Map<number, KfdIoctl>(Object.values<KfdIoctl>(AMDKFD_IOCTLS).map((e) => [e.nr, e]));

/** The ioctl with command number `nr`, if any (include/uapi/linux/kfd_ioctl.h; spec §2.2). */
export function kfdIoctlByNr(nr: number): KfdIoctl | undefined {
  return BY_NR.get(nr);
}

/** The ioctl called `name` — full (`AMDKFD_IOC_SVM`) or without the `AMDKFD_IOC_` prefix (include/uapi/linux/kfd_ioctl.h). */
export function kfdIoctlByName(name: string): KfdIoctl | undefined {
  const full = name.startsWith('AMDKFD_IOC_') ? name : `AMDKFD_IOC_${name}`;
  return Object.hasOwn(AMDKFD_IOCTLS, full) ? AMDKFD_IOCTLS[full as KfdIoctlName] : undefined;
}

/**
 * Request word of ioctl `name` as the kfd_ioctl.h of KFD minor `minor` defines it
 * (the size field follows the struct's layout at that version); throws a
 * RangeError if the ioctl did not exist yet (include/uapi/linux/kfd_ioctl.h).
 */
export function kfdIoctlRequest(name: string, minor: number = KFD_IOCTL_MINOR_VERSION): number {
  checkKfdMinor(minor);
  const entry = kfdIoctlByName(name);
  const row = (ROWS as readonly Row[]).find((r) => `AMDKFD_IOC_${r[0]}` === entry?.name);
  const request = row && requestAt(row, minor);
  if (request === undefined) throw new RangeError(`${name} does not exist in KFD 1.${minor}`);
  return request;
}

/**
 * `AMDKFD_COMMAND_END` of KFD minor `minor`: one past the highest ioctl number
 * present (include/uapi/linux/kfd_ioctl.h: 0x24 at 1.11; spec §2.2: 0x27 at
 * 1.15, 0x28 once CREATE_PROCESS exists). For minors before 1.9 the value
 * follows the `sinceMinor` tags derived from the spec §2.1 history.
 */
export function kfdCommandEnd(minor: number): number {
  checkKfdMinor(minor);
  let end = AMDKFD_COMMAND_START;
  for (const e of Object.values<KfdIoctl>(AMDKFD_IOCTLS)) {
    if ((e.sinceMinor ?? 0) <= minor) end = Math.max(end, e.nr + 1);
  }
  return end;
}

/** One past the last ioctl number of the modelled version (`AMDKFD_COMMAND_END`, include/uapi/linux/kfd_ioctl.h). */
export const AMDKFD_COMMAND_END = kfdCommandEnd(KFD_IOCTL_MINOR_VERSION);
