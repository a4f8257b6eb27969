/**
 * Rendering results for people: return values with errno names, u64 values as 0x
 * hex (docs/cli.md). Machine output uses the log encoding instead (encodeField).
 */
import type { FieldType, Schema } from '../ioctls/schema.js';
import { errnoName } from '../uapi/errno.js';
import { isRecord } from './values.js';

/** 0, or a negative errno by name: -EINVAL; a number the errno table lacks stays a number. */
export function retName(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = errnoName(ret);
  return /^E[A-Z0-9]+$/.test(name) ? `-${name}` : String(ret);
}

/**
 * A value in log JSON form, except that u64 fields and bigints are "0x…" hex strings
 * and byte buffers longer than 32 bytes are shown as `<N bytes: first 16 in hex...>`.
 */
export function humanValue(type: FieldType | undefined, v: unknown, depth = 0): unknown {
  if (depth > 64) return '...';
  if (type?.t === 'nullable') return v === null ? null : humanValue(type.of, v, depth);
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  if (typeof v === 'number' && type?.t === 'u64' && Number.isSafeInteger(v) && v >= 0) return `0x${v.toString(16)}`;
  if (v instanceof Uint8Array)
    return v.length <= 32
      ? Buffer.from(v).toString('hex')
      : `<${v.length} bytes: ${Buffer.from(v.subarray(0, 16)).toString('hex')}...>`;
  if (Array.isArray(v)) return v.map((x) => humanValue(type?.t === 'array' ? type.of : undefined, x, depth + 1));
  if (isRecord(v)) {
    const fields = type?.t === 'struct' ? type.fields : undefined;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, {
        value: humanValue(fields && Object.hasOwn(fields, k) ? fields[k] : undefined, v[k], depth + 1),
        enumerable: true,
      });
    }
    return out;
  }
  return v;
}

/** An out object rendered for people, with the types of the call's argument schema. */
export function humanOut(schema: Schema, out: Record<string, unknown>): string {
  return JSON.stringify(humanValue({ t: 'struct', fields: schema }, out));
}
