/**
 * CLI output: byte-stable JSON for tools and one-line messages for people (docs/cli.md).
 */
import { callDef } from '../ioctls/registry.js';
import { encodeField, type Schema } from '../ioctls/schema.js';
import { humanOut, retName } from '../log/format.js';
import type { Divergence, ReplayReport } from '../log/replay.js';
import type { World } from '../world/types.js';

/**
 * JSON with keys sorted at every level, bigints and byte buffers in the log encoding,
 * no whitespace: the same value always prints the same bytes.
 */
export function stableJson(v: unknown): string {
  return JSON.stringify(sortKeys(encodeField(undefined, v), 0));
}

function sortKeys(v: unknown, depth: number): unknown {
  if (depth > 256) throw new Error('stableJson: value nested too deeply');
  if (Array.isArray(v)) return v.map((x) => sortKeys(x, depth + 1));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      Object.defineProperty(out, k, {
        value: sortKeys((v as Record<string, unknown>)[k], depth + 1),
        enumerable: true,
      });
    }
    return out;
  }
  return v;
}

function argsSchema(call: string): Schema {
  return callDef(call)?.args ?? {};
}

/** A divergence in log encoding (encodeField with the call's schema types). */
export function encodeDivergence(d: Divergence): Record<string, unknown> {
  const struct = { t: 'struct', fields: argsSchema(d.call) } as const;
  const expected: Record<string, unknown> = {};
  if (d.expected.ret !== undefined) expected.ret = d.expected.ret;
  if (d.expected.out !== undefined) expected.out = encodeField(struct, d.expected.out);
  const out: Record<string, unknown> = {
    line: d.line,
    call: d.call,
    expected,
    actual: { ret: d.actual.ret, out: encodeField(struct, d.actual.out) },
    mismatch: d.mismatch,
  };
  if (d.by !== undefined) out.by = d.by;
  return out;
}

/** A small, deterministic summary of the final world: live processes, open files, objects by kind. */
export function worldSummary(w: World): Record<string, unknown> {
  const objects: Record<string, number> = {};
  for (const id of Object.keys(w.objects)) {
    const kind = w.objects[id]!.kind;
    objects[kind] = (objects[kind] ?? 0) + 1;
  }
  return {
    processes: Object.values(w.tasks).filter((t) => t.alive).length,
    files: Object.keys(w.files).length,
    objects,
  };
}

/** The --json report of `gpucr replay`. */
export function replayJson(file: string, rep: ReplayReport): string {
  const out: Record<string, unknown> = {
    file,
    ok: rep.ok,
    events: rep.events,
    world: worldSummary(rep.world),
  };
  if (rep.divergence) out.divergence = encodeDivergence(rep.divergence);
  return stableJson(out);
}

/** `trace.jsonl:6: CALL: expected ret 0 out {...}, got ret -EINVAL out {...}` */
export function divergenceMessage(file: string, d: Divergence): string {
  const schema = argsSchema(d.call);
  const exp: string[] = [];
  if (d.expected.ret !== undefined) exp.push(`ret ${retName(d.expected.ret)}`);
  if (d.expected.out !== undefined) exp.push(`out ${humanOut(schema, d.expected.out)}`);
  const by = d.by !== undefined ? ` (issued by line ${d.by})` : '';
  return `${file}:${d.line}: ${d.call}${by}: expected ${exp.join(' ')}, got ret ${retName(d.actual.ret)} out ${humanOut(schema, d.actual.out)}`;
}
