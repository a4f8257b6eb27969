/**
 * protobuf and size-prefix layer of the plugin's image files (spec §9.1, §9.2).
 *
 * The schema is criu-amdgpu.proto, read as text (proto-text.ts) and parsed once by
 * protobufjs. Encoding uses it as written. Decoding uses a copy in which `required` reads as
 * `optional`, so that a missing field is reported by its full path (`device_entries[2].simd_count`)
 * rather than protobufjs's bare field name; presence is then checked here, field by field.
 * Unknown field numbers, and known fields sent with another wire type, are rejected (the reader
 * knows exactly one schema). protobufjs bounds every length by the bytes actually present, so
 * no allocation is proportional to a count read from the file.
 */
import protobuf from 'protobufjs';
import { CRIU_AMDGPU_PROTO } from './proto-text.js';
import { ImageError, SIZE_PREFIX_BYTES } from './types.js';

/** The messages of criu-amdgpu.proto, in file order. */
export const MESSAGE_NAMES = [
  'dev_iolink',
  'kfd_device_entry',
  'kfd_bo_entry',
  'criu_kfd',
  'drm_bo_entry',
  'drm_vm_entry',
  'criu_render_node',
  'criu_dmabuf_node',
] as const;
export type MessageName = (typeof MESSAGE_NAMES)[number];

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

interface Schemas {
  strict: protobuf.Root;
  relaxed: protobuf.Root;
}
let schemas: Schemas | undefined;

function parse(text: string): protobuf.Root {
  const root = protobuf.parse(text, { keepCase: true }).root;
  root.resolveAll();
  return root;
}

function roots(): Schemas {
  schemas ??= {
    strict: parse(CRIU_AMDGPU_PROTO),
    relaxed: parse(CRIU_AMDGPU_PROTO.replace(/\brequired\b/g, 'optional')),
  };
  return schemas;
}

/** The protobufjs type of a message of the schema as written (required fields stay required). */
export function messageType(name: MessageName): protobuf.Type {
  return roots().strict.lookupType(name);
}

// ---------------------------------------------------------------------------------------------
// Size prefix

/** Prepends the 8-byte little-endian size_t payload size (`open_img_file`/`write_img_file`). */
export function withSizePrefix(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIZE_PREFIX_BYTES + payload.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(payload.length), true);
  out.set(payload, SIZE_PREFIX_BYTES);
  return out;
}

/** Reads the size prefix of a whole file's bytes. */
export function readSizePrefix(bytes: Uint8Array, file: string): bigint {
  if (bytes.length < SIZE_PREFIX_BYTES) {
    throw new ImageError(
      file,
      'size prefix',
      `an 8-byte little-endian size_t before the payload (spec §9.1)`,
      bytes.length,
      `a file of ${bytes.length} byte${bytes.length === 1 ? '' : 's'}`,
    );
  }
  return new DataView(bytes.buffer, bytes.byteOffset, SIZE_PREFIX_BYTES).getBigUint64(0, true);
}

/** Checks the size prefix against the file's length and returns the payload (a view, not a copy). */
export function splitSizePrefix(bytes: Uint8Array, file: string): Uint8Array {
  const size = readSizePrefix(bytes, file);
  checkPrefixMatches(size, BigInt(bytes.length), file);
  return bytes.subarray(SIZE_PREFIX_BYTES);
}

/** Throws unless `prefix` equals the file length minus the 8 prefix bytes. */
export function checkPrefixMatches(prefix: bigint, fileLength: bigint, file: string): void {
  const payload = fileLength - BigInt(SIZE_PREFIX_BYTES);
  if (prefix !== payload) {
    throw new ImageError(
      file,
      'size prefix',
      `${payload} (the file's length ${fileLength} minus the 8 prefix bytes)`,
      prefix,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function tagOf(raw: Uint8Array): { field: number; wire: number } {
  let tag = 0;
  let shift = 0;
  for (let i = 0; i < raw.length && i < 5; i++) {
    const b = raw[i]!;
    tag += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return { field: Math.floor(tag / 8), wire: tag % 8 };
}

/** A field of the schema, resolved once per message type. */
interface FieldDesc {
  name: string;
  kind: 'uint32' | 'uint64' | 'bytes' | 'message';
  repeated: boolean;
  type: protobuf.Type | undefined;
}

const descCache = new Map<protobuf.Type, FieldDesc[]>();

function fieldsOf(type: protobuf.Type): FieldDesc[] {
  let d = descCache.get(type);
  if (d === undefined) {
    d = type.fieldsArray.map((f) => {
      const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
      const kind = sub ? 'message' : f.type;
      if (kind !== 'message' && kind !== 'uint32' && kind !== 'uint64' && kind !== 'bytes') {
        throw new Error(`criu-amdgpu.proto: field type ${f.type} is not handled`);
      }
      return { name: f.name, kind, repeated: f.repeated, type: sub };
    });
    descCache.set(type, d);
  }
  return d;
}

const join = (path: string, name: string) => (path === '' ? name : `${path}.${name}`);

function toBigint(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  const l = v as { low: number; high: number };
  const high = l.high >>> 0;
  // Below 2^53 one conversion from a double is exact (and much cheaper than BigInt shifts).
  if (high < 0x20_0000) return BigInt(high * 0x1_0000_0000 + (l.low >>> 0));
  return (BigInt(high) << 32n) | BigInt(l.low >>> 0);
}

function scalarFrom(kind: FieldDesc['kind'], v: unknown): unknown {
  if (kind === 'uint32') return v;
  if (kind === 'uint64') return toBigint(v);
  return new Uint8Array(v as Uint8Array);
}

function fromPb(type: protobuf.Type, m: Record<string, unknown>, file: string, path: string): Record<string, unknown> {
  const unknowns = (m as { $unknowns?: Uint8Array[] }).$unknowns;
  if (unknowns !== undefined && unknowns.length > 0) {
    const { field, wire } = tagOf(unknowns[0]!);
    const declared = type.fieldsById[field];
    throw new ImageError(
      file,
      path === '' ? 'payload' : path,
      `only the fields of message ${type.name}, each with its declared wire type`,
      field,
      declared
        ? `field ${field} (${declared.name}) with wire type ${wire}`
        : `field number ${field} (wire type ${wire}), which ${type.name} does not have`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(type)) {
    const v = m[f.name];
    if (f.repeated) {
      const arr = (v as unknown[] | undefined) ?? [];
      if (f.type) {
        const p = join(path, f.name);
        const sub = f.type;
        out[f.name] = arr.map((x, i) => fromPb(sub, x as Record<string, unknown>, file, `${p}[${i}]`));
      } else {
        out[f.name] = arr.map((x) => scalarFrom(f.kind, x));
      }
    } else {
      if (!Object.hasOwn(m, f.name)) {
        throw new ImageError(
          file,
          join(path, f.name),
          'the field (required in criu-amdgpu.proto, spec §9.2)',
          undefined,
        );
      }
      out[f.name] = f.type
        ? fromPb(f.type, v as Record<string, unknown>, file, join(path, f.name))
        : scalarFrom(f.kind, v);
    }
  }
  return out;
}

/**
 * Decodes a protobuf payload as message `name` into a plain object (uint64 → bigint, bytes →
 * Uint8Array). Malformed wire data, unknown fields and missing required fields throw ImageError.
 */
export function decodePayload(name: MessageName, payload: Uint8Array, file: string): Record<string, unknown> {
  const type = roots().relaxed.lookupType(name);
  let m: Record<string, unknown>;
  try {
    const r = protobuf.Reader.create(payload);
    r.discardUnknown = false;
    m = type.decode(r) as unknown as Record<string, unknown>;
  } catch (e) {
    throw new ImageError(
      file,
      'payload',
      `a protobuf ${name} message (criu-amdgpu.proto)`,
      undefined,
      `undecodable wire data (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  return fromPb(type, m, file, '');
}

// ---------------------------------------------------------------------------------------------
// Encoding

function toPb(type: protobuf.Type, obj: unknown, file: string, path: string): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ImageError(file, path === '' ? type.name : path, `a ${type.name} message object`, obj);
  }
  const o = obj as Record<string, unknown>;
  const fields = fieldsOf(type);
  let keys = 0;
  for (const k in o) if (Object.hasOwn(o, k)) keys++;
  if (keys > fields.length) {
    const extra = Object.keys(o).find((k) => !Object.hasOwn(type.fields, k))!;
    throw new ImageError(file, join(path, extra), `a field of message ${type.name}`, extra);
  }
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = o[f.name];
    if (f.repeated) {
      if (!Array.isArray(v)) throw new ImageError(file, join(path, f.name), 'an array', v);
      const p = join(path, f.name);
      out[f.name] = v.map((x, i) => toValue(f, x, file, p, i));
    } else {
      out[f.name] = toValue(f, v, file, path, -1);
    }
  }
  return out;
}

const U64_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** One value of field `f`; `index` ≥ 0 for an element of a repeated field whose path is `path`. */
function toValue(f: FieldDesc, v: unknown, file: string, path: string, index: number): unknown {
  const where = () => (index >= 0 ? `${path}[${index}]` : join(path, f.name));
  if (f.type) return toPb(f.type, v, file, where());
  if (f.kind === 'uint32') {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
      throw new ImageError(file, where(), 'a uint32 (an integer number 0 … 2^32−1)', v);
    }
    return v;
  }
  if (f.kind === 'uint64') {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
      throw new ImageError(file, where(), 'a uint64 (a bigint 0n … 2^64−1)', v);
    }
    if (v <= U64_SAFE) return Number(v);
    return { low: Number(v & 0xffff_ffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true };
  }
  if (!(v instanceof Uint8Array)) throw new ImageError(file, where(), 'a Uint8Array', v);
  return v;
}

/** Encodes a plain object as message `name` (type-checking every field) into a protobuf payload. */
export function encodePayload(name: MessageName, obj: unknown, file: string): Uint8Array {
  const type = messageType(name);
  return type.encode(toPb(type, obj, file, '')).finish();
}
