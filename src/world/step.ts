/**
 * Applying a call to the world (design "Layers" 3).
 *
 * `step(world, call) → { world, ret, out }` is pure and deterministic: the handler
 * writes an immer draft and the world it returns shares what did not change.
 * `applyInPlace(world, call)` runs the same handler on the world itself, for folds
 * that never look at an earlier world (replay, exploration); it needs a world that
 * was never frozen (from `createWorld` or `thaw`).
 *
 * Kernel partial effects (a RESTORE that fails half-way, a MAP that fails on its
 * third GPU) are kept, as the kernel keeps them: an errno is a return value, not a
 * rollback.
 */
import { produce } from 'immer';
import { InputError } from '../errors.js';
import '../ioctls/all.js';
import { kfdIoctl } from '../ioctls/kfd/dispatch.js';
import { type CallDef, callDef, KernelReturn } from '../ioctls/registry.js';
import type { FieldType, Schema } from '../ioctls/schema.js';
import type { Call, StepResult, World } from './types.js';
import { taskOf } from './world.js';

export interface CallResult {
  /** 0 or a negative errno, exactly as the kernel returns it. */
  ret: number;
  out: Record<string, unknown>;
}

function defOf(call: Call): CallDef {
  const def = callDef(call.call);
  if (!def) throw new InputError('call', 'a call gpucr models', call.call);
  if (def.needsPid && call.pid === undefined) throw new InputError('pid', `a pid for ${call.call}`, undefined);
  return def;
}

/** Run a call's handler on `w` (a draft or a mutable world); `kdata` is the argument struct it may write. */
function run(w: World, def: CallDef, call: Call, kdata: Record<string, unknown>): number {
  const task = call.pid === undefined ? (undefined as never) : taskOf(w, call.pid);
  const k = { w, task, file: undefined, call };
  try {
    return def.kind === 'ioctl' && def.driver === 'kfd' ? kfdIoctl(k, def, kdata) : def.run(k, kdata);
  } catch (e) {
    if (e instanceof KernelReturn) return e.ret;
    throw e;
  }
}

/** The out fields the call copies back (IOC_OUT fields and syscall results). */
function outOf(def: CallDef, kdata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of def.out) if (kdata[f] !== undefined && kdata[f] !== null) out[f] = kdata[f];
  return out;
}

/**
 * The argument struct a handler may write (copy_from_user into kdata): a copy of the
 * decoded arguments, which hold only numbers, bigints, strings, booleans, null, byte
 * buffers, arrays and plain objects. A hand copy: structuredClone serialises, several
 * times slower on these small structs, and every event pays it (issue 4).
 *
 * Byte buffers are not copied. They stand for user memory behind a pointer of the struct
 * (the CRIU ops' priv_data), which the kernel does not copy with the struct: it reads it
 * (copy_from_user at use) or writes it (copy_to_user), and handlers do the same by reading
 * it or storing a new buffer in the field, never by writing into it. A copy here cost a
 * round trip of 100,000 BOs 27 MB, and with it a full collection (issue 5).
 */
function copyArgs<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(copyArgs) as T;
  if (v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyArgs((v as Record<string, unknown>)[k]);
  return out as T;
}

/** The fields of a schema that may hold a list or a struct (the others hold numbers, bigints, strings, booleans, null). */
const NESTED = new WeakMap<Schema, string[]>();
function nestedFields(schema: Schema): string[] {
  let f = NESTED.get(schema);
  if (!f) {
    const nested = (t: FieldType): boolean =>
      t.t === 'array' || t.t === 'struct' || (t.t === 'nullable' && nested(t.of));
    NESTED.set(schema, (f = Object.keys(schema).filter((k) => nested(schema[k]!))));
  }
  return f;
}

/**
 * kdata for a call: the top level copied by a spread (which copies an object of a known
 * shape at once, where a loop over its keys allocates the key list and stores key by key),
 * then every field the schema gives a list or a struct copied in depth. A handler writes
 * only fields of the call's struct, so a field outside the schema is never written.
 */
function kdataOf(def: CallDef, args: Record<string, unknown>): Record<string, unknown> {
  if (typeof args !== 'object' || args === null) return copyArgs(args);
  const out = { ...args };
  for (const k of nestedFields(def.args)) {
    const v = out[k];
    if (typeof v === 'object' && v !== null) out[k] = copyArgs(v);
  }
  return out;
}

export function step(world: World, call: Call): StepResult {
  const def = defOf(call);
  const kdata = kdataOf(def, call.args);
  let ret = 0;
  const next = produce(world, (w) => {
    ret = run(w as World, def, call, kdata);
  });
  return { world: next, ret, out: outOf(def, kdata) };
}

/** Apply a call to `world` itself. The caller's `call.args` are not modified. */
export function applyInPlace(world: World, call: Call): CallResult {
  const def = defOf(call);
  const kdata = kdataOf(def, call.args);
  const ret = run(world, def, call, kdata);
  return { ret, out: outOf(def, kdata) };
}

/** A mutable deep copy of a world (worlds returned by `step` are frozen). */
export function thaw(world: World): World {
  return structuredClone(world);
}
