/**
 * Schemas of machine contexts, for what gpucr reads back rather than builds: a world
 * snapshot (src/log/snapshot-stores.ts). A snapshot's hash proves only that its bytes are
 * the ones hashed, so a hand-made one can hold a context its machine never builds (a
 * string for a bigint, a missing field, an object id that is not in the world); a handler
 * given one would throw, and the CLI would report an internal error instead of bad input.
 *
 * Each machine's file that declares its context declares its schema next to it with
 * `contextSchema<Context>()(…)`, which the compiler checks: the schema's parsed type must
 * be exactly the context type, so a field added to one and not the other fails the build.
 * `refs` names the context's fields that hold ids of other world members, checked once
 * every store of the snapshot is read.
 */
import { z } from 'zod';

export { z };

/**
 * A world member a context names: an object (optionally of one kind), a file, a GEM object,
 * a task (by pid) or a GPU of the topology (by actual gpu_id).
 */
export interface ContextRef {
  /** The field, as the snapshot path below `.context` (`queues[2]`, `handles.file#3`). */
  path: string;
  store: 'objects' | 'files' | 'gems' | 'tasks' | 'gpus';
  /** The id; a pid or a gpu_id as its decimal text. */
  id: string;
  /** For `objects` and `files`: the kind the object or file must have. */
  kind?: string;
}

export interface ContextSpec<C = unknown> {
  readonly schema: z.ZodType<C>;
  /** The ids the context holds; none when omitted. */
  readonly refs?: (context: C) => ContextRef[];
}

/** Whether A and B are the same type (not merely assignable either way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * `contextSchema<C>()(schema, refs?)`: the spec of context type C. A schema whose parsed type
 * is not exactly C asks for a third argument of type `never`, which no call can give: the
 * compile error names the mismatch.
 */
export function contextSchema<C>() {
  return <S extends z.ZodType>(
    schema: S,
    refs?: (context: C) => ContextRef[],
    ..._exact: Same<z.output<S>, C> extends true ? [] : [mismatch: never]
  ): ContextSpec<C> => {
    // The parsed type is C (checked above), which the generic S does not show.
    const typed = schema as unknown as z.ZodType<C>;
    return refs ? { schema: typed, refs } : { schema: typed };
  };
}

/** A non-negative integer below 2^32 (u32, and the counts and ids the kernel keeps in one). */
export const u32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
/** Any safe integer (ret values, signed counters). */
export const int = z.number().int();
/** A u64 (addresses, sizes): a bigint in 0 .. 2^64-1. */
export const u64 = z
  .bigint()
  .min(0n)
  .max(2n ** 64n - 1n);
/** A world id `<prefix>#<n>` (an object of a kind, `file`, `gem`). */
export const worldId = z.string().regex(/^[\w.]+#\d+$/);
/** INT_MAX: the largest handle an IDR gives (idr_alloc's end 0 means INT_MAX + 1). */
export const INT_MAX = 2 ** 31 - 1;

/**
 * A record key that is an integer ≥ min (≤ max when given), written as JavaScript writes an integer key:
 * "3", never "03", "+3" or "-0", which would be other properties than the one handlers look up.
 */
export function intKey(min: number, max?: number) {
  const n = z.coerce.number<string>().int().min(min);
  return z
    .string()
    .regex(/^(?:0|[1-9]\d*)$/, 'an integer key written without a sign or leading zeros')
    .pipe(max === undefined ? n : n.max(max));
}

/** Page contents by page index (absent = 0): what TTM, i915 and Xe objects keep per page. */
export const pageValues = z.record(intKey(0), z.number());

/** One ref; `kind` only when given (a ref has no member set to undefined). */
function ref(path: string, store: ContextRef['store'], id: string, kind?: string): ContextRef {
  return kind === undefined ? { path, store, id } : { path, store, id, kind };
}

/** Refs of a list of ids: `path[i]` each. */
export function listRefs(
  path: string,
  ids: readonly string[],
  store: ContextRef['store'],
  kind?: string,
): ContextRef[] {
  return ids.map((id, i) => ref(`${path}[${i}]`, store, id, kind));
}

/** Refs of a record's values, each an id: `path.<key>` each (an fd table, an IDR, a queue table). */
export function recordRefs(
  path: string,
  ids: Readonly<Record<string | number, string>>,
  store: ContextRef['store'],
  kind?: string,
): ContextRef[] {
  return Object.entries(ids).map(([key, id]) => ref(`${path}.${key}`, store, id, kind));
}

/** The ref of a task (`pid`) or a GPU (`gpu_id`) field. */
export function numberRef(path: string, n: number, store: 'tasks' | 'gpus'): ContextRef {
  return ref(path, store, String(n));
}

/** The ref of an id field that may be null (none when it is). */
export function nullableRef(path: string, id: string | null, store: ContextRef['store'], kind?: string): ContextRef[] {
  return id === null ? [] : [ref(path, store, id, kind)];
}
