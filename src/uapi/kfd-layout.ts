/**
 * C struct layout (x86-64 SysV ABI, natural alignment) for the uapi structs of
 * `include/uapi/linux/kfd_ioctl.h`, computed from field lists rather than typed in.
 *
 * Fields and structs newer than some KFD minor version carry `sinceMinor`, and a
 * renamed field carries `renamed`, so that the layout of any older minor version
 * can be recomputed (`layoutAtMinor`).
 */

/** Scalar C types of the uapi headers (`__u8`…`__s64`, include/uapi/asm-generic/int-ll64.h). */
export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 's64';

/** One field of a struct layout (offsets as `offsetof` on x86-64, include/uapi/linux/kfd_ioctl.h). */
export interface FieldLayout {
  name: string;
  offset: number;
  size: number;
  type: ScalarType | 'array' | 'struct';
  /** Element count of an array field; 0 for a flexible array member. */
  count?: number;
  /** Element type of an array, or the struct tag of a struct field. */
  elem?: string;
  /** First KFD minor version that has this field (kfd_ioctl.h version history). */
  sinceMinor?: number;
  /** The field had another name before KFD minor `sinceMinor` (kfd_ioctl.h version history). */
  renamed?: { from: string; sinceMinor: number };
  /** Member of an anonymous union (all members share one offset). */
  inUnion?: boolean;
}

/** Layout of one struct: `sizeof`, `_Alignof` and every field (include/uapi/linux/kfd_ioctl.h). */
export interface StructLayout {
  name: string;
  size: number;
  align: number;
  fields: FieldLayout[];
  /** First KFD minor version that has this struct (kfd_ioctl.h version history). */
  sinceMinor?: number;
}

/** Per-field options of a field spec (kfd_ioctl.h version history). */
export interface FieldOpts {
  sinceMinor?: number;
  renamed?: { from: string; sinceMinor: number };
}

/**
 * A field spec: `[name, type, count?, opts?]` where type is a scalar or
 * `'struct <tag>'`, count an array length (0 = flexible array member), or an
 * anonymous union `{ union: FieldSpec[] }` (C11 anonymous members, kfd_ioctl.h).
 */
export type FieldSpec =
  | readonly [name: string, type: ScalarType | `struct ${string}`, count?: number, opts?: FieldOpts]
  | { readonly union: readonly FieldSpec[]; readonly sinceMinor?: number };

const SCALAR_SIZE: Record<ScalarType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, s64: 8 };

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

interface Placed {
  fields: FieldLayout[];
  size: number;
  align: number;
}

function resolveType(
  type: string,
  lookup: (tag: string) => StructLayout | undefined,
): { size: number; align: number; elem?: string } {
  if (type in SCALAR_SIZE) {
    const s = SCALAR_SIZE[type as ScalarType];
    return { size: s, align: s };
  }
  const m = /^struct (\w+)$/.exec(type);
  const layout = m?.[1] === undefined ? undefined : lookup(m[1]);
  if (!m || !layout) throw new Error(`unknown field type '${type}'`);
  return { size: layout.size, align: layout.align, elem: m[1] };
}

function placeField(
  spec: FieldSpec,
  offset: number,
  minor: number,
  lookup: (tag: string) => StructLayout | undefined,
): Placed {
  if ('union' in spec) {
    const members = spec.union.map((m) => placeField(m, 0, minor, lookup));
    const align = Math.max(1, ...members.map((m) => m.align));
    const at = alignUp(offset, align);
    const size = alignUp(Math.max(0, ...members.map((m) => m.size)), align);
    const fields = members.flatMap((m) => m.fields.map((f) => ({ ...f, offset: f.offset + at, inUnion: true })));
    return { fields, size: at - offset + size, align };
  }
  const [name, type, count, opts] = spec;
  if (opts?.sinceMinor !== undefined && opts.sinceMinor > minor) return { fields: [], size: 0, align: 1 };
  const t = resolveType(type, lookup);
  const at = alignUp(offset, t.align);
  const renamedLater = opts?.renamed && opts.renamed.sinceMinor > minor;
  const field: FieldLayout = {
    name: renamedLater && opts?.renamed ? opts.renamed.from : name,
    offset: at,
    size: count === undefined ? t.size : t.size * count,
    type: count !== undefined ? 'array' : t.elem !== undefined ? 'struct' : (type as ScalarType),
  };
  if (count !== undefined) {
    field.count = count;
    field.elem = t.elem ?? type;
  } else if (t.elem !== undefined) field.elem = t.elem;
  if (opts?.sinceMinor !== undefined) field.sinceMinor = opts.sinceMinor;
  if (opts?.renamed && !renamedLater) field.renamed = { ...opts.renamed };
  return { fields: [field], size: at - offset + field.size, align: t.align };
}

/**
 * Lays out a C struct with x86-64 natural alignment (every member aligned to its
 * own size, struct size rounded up to the largest alignment), as gcc does for
 * include/uapi/linux/kfd_ioctl.h. Fields newer than `minor` are left out.
 */
export function layoutStruct(
  name: string,
  specs: readonly FieldSpec[],
  lookup: (tag: string) => StructLayout | undefined = () => undefined,
  minor = Number.POSITIVE_INFINITY,
): StructLayout {
  let offset = 0;
  let align = 1;
  const fields: FieldLayout[] = [];
  for (const spec of specs) {
    if ('union' in spec && spec.sinceMinor !== undefined && spec.sinceMinor > minor) continue;
    const placed = placeField(spec, offset, minor, lookup);
    fields.push(...placed.fields);
    offset += placed.size;
    align = Math.max(align, placed.align);
  }
  return { name, size: alignUp(offset, align), align, fields };
}
