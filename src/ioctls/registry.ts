/**
 * The calls gpucr understands: every ioctl handler, syscall and kernel-internal
 * event registers a CallDef here under its log name (design "Event log format").
 */
import type { Call, OpenFile, Task, World } from '../world/types.js';
import type { Schema } from './schema.js';

/** What a handler sees: the world draft, the calling task and the file it works on. */
export interface Kernel {
  w: World;
  /** The calling task (undefined for kernel-internal events without a pid). */
  task: Task;
  /** The file named by `fd`, for ioctls. */
  file: OpenFile | undefined;
  call: Call;
}

export interface CallDef<A = Record<string, unknown>> {
  /** The log name: the uapi ioctl name verbatim, a syscall, or a namespaced internal event. */
  name: string;
  kind: 'ioctl' | 'syscall' | 'internal';
  /** For ioctls: which driver's dispatcher runs it. */
  driver?: 'kfd';
  /** The kernel function this models and its spec section, e.g. "kfd_ioctl_acquire_vm (spec §7.2)". */
  models: string;
  /** The checks in the kernel's order, each "condition → errno" (docs/kfd-ioctls.md is generated from these). */
  checks: readonly string[];
  args: Schema;
  /** Fields of the argument struct that are copied back to the caller (IOC_OUT), and syscall results. */
  out: readonly string[];
  /** The event needs a pid (every call but kernel-internal ones). */
  needsPid: boolean;
  run(k: Kernel, a: A): number;
}

const CALLS = new Map<string, CallDef>();

export function register<A>(def: CallDef<A>): CallDef<A> {
  if (CALLS.has(def.name)) throw new Error(`call ${def.name} registered twice`);
  CALLS.set(def.name, def as unknown as CallDef);
  return def;
}

export function callDef(name: string): CallDef | undefined {
  return CALLS.get(name);
}

export function allCalls(): CallDef[] {
  return [...CALLS.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Thrown deep inside kernel helpers to return an errno from the handler (like `return -E…` up the stack). */
export class KernelReturn extends Error {
  constructor(readonly ret: number) {
    super(`kernel returned ${ret}`);
  }
}

export function fail(ret: number): never {
  throw new KernelReturn(ret);
}
