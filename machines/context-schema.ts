/**
 * Schemas of machine contexts, for what gpucr reads back rather than builds: a world
 * snapshot (src/log/snapshot-contexts.ts, snapshot-indexes.ts). A snapshot's hash proves only that its bytes are
 * the ones hashed, so a hand-made one can hold a context its machine never builds (a
 * string for a bigint, a missing field, an object id that is not in the world); a handler
 * given one would throw, and the CLI would report an internal error instead of bad input.
 *
 * Each machine's file that declares its context declares its schema next to it with
 * `contextSchema<Context>()(…)`, which the compiler checks: the schema's parsed type must
 * be exactly the context type, so a field added to one and not the other fails the build.
 * `refs` names the context's fields that hold ids of other world members, checked once
 * every store of the snapshot is read.
 *
 * zod is loaded, and the schemas built, on first use (`schemaKit()`, a spec's `schema`):
 * loading zod and building every schema took about 120 ms, which every command paid at
 * start-up while only a snapshot load and `gpucr docs` use them. zod's CommonJS build is
 * required synchronously, as the snapshot load is synchronous.
 */
import { createRequire } from 'node:module';
import type { z } from 'zod';

export type { z };

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
  /** The schema, built on first use. */
  readonly schema: z.ZodType<C>;
  /** The ids the context holds; none when omitted. */
  readonly refs?: (context: C) => ContextRef[];
}

/** Whether A and B are the same type (not merely assignable either way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** INT_MAX: the largest handle an IDR gives (idr_alloc's end 0 means INT_MAX + 1). */
export const INT_MAX = 2 ** 31 - 1;

/** The integer key form: "3", never "03", "+3" or "-0". */
const INT_KEY = /^(?:0|[1-9]\d*)$/;

/** zod and the schemas every spec is built from. */
function makeKit(zod: typeof z) {
  /**
   * A record key that is an integer ≥ min (≤ max when given), written as JavaScript writes an
   * integer key: "3", never "03", "+3" or "-0", which would be other properties than the one
   * handlers look up.
   */
  const intKey = (min: number, max?: number) => {
    const n = zod.coerce.number<string>().int().min(min);
    return zod
      .string()
      .regex(INT_KEY, 'an integer key written without a sign or leading zeros')
      .pipe(max === undefined ? n : n.max(max));
  };
  return {
    z: zod,
    /** A non-negative integer below 2^32 (u32, and the counts and ids the kernel keeps in one). */
    u32: zod
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1),
    /** Any safe integer (ret values, signed counters). */
    int: zod.number().int(),
    /** A u64 (addresses, sizes): a bigint in 0 .. 2^64-1. */
    u64: zod
      .bigint()
      .min(0n)
      .max(2n ** 64n - 1n),
    /** A world id `<prefix>#<n>` (an object of a kind, `file`, `gem`). */
    worldId: zod.string().regex(/^[\w.]+#\d+$/),
    intKey,
    /** Page contents by page index (absent = 0): what TTM, i915 and Xe objects keep per page. */
    pageValues: zod.record(intKey(0), zod.number()),
  };
}

export type SchemaKit = ReturnType<typeof makeKit>;

let kit: SchemaKit | undefined;

/** zod and the shared schemas (u32, u64, worldId, intKey, pageValues), loaded on first use. */
export function schemaKit(): SchemaKit {
  return (kit ??= makeKit((createRequire(import.meta.url)('zod') as { z: typeof z }).z));
}

/** What contextSchema gives for a schema that does not parse to exactly its context type. */
export interface ContextSchemaMismatch<Parsed, C> {
  readonly mismatch: { parsed: Parsed; context: C };
}

/**
 * `contextSchema<C>()(build, refs?)`: the spec of context type C, its schema `build(kit)`,
 * built on first use. A schema whose parsed type is not exactly C gives a
 * ContextSchemaMismatch instead, which has no `schema`: every use of it fails to compile
 * (registerMachine, checkShape), naming both types.
 */
export function contextSchema<C>() {
  return <S extends z.ZodType>(
    build: (kit: SchemaKit) => S,
    refs?: (context: C) => ContextRef[],
  ): Same<z.output<S>, C> extends true ? ContextSpec<C> : ContextSchemaMismatch<z.output<S>, C> => {
    let built: z.ZodType<C> | undefined;
    const spec = {
      get schema(): z.ZodType<C> {
        // The parsed type is C (checked above), which the generic S does not show.
        return (built ??= build(schemaKit()) as unknown as z.ZodType<C>);
      },
    };
    return (refs ? Object.assign(spec, { refs }) : spec) as never;
  };
}

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
