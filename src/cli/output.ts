/**
 * CLI output: byte-stable JSON for tools and one-line messages for people (docs/cli.md).
 */
import { callDef } from '../ioctls/registry.js';
import { encodeField, type Schema } from '../ioctls/schema.js';
import { humanOut, retName } from '../log/format.js';
import type { Divergence, InvariantFailure, ReplayReport } from '../log/replay.js';
import { snapshot, worldHash } from '../log/snapshot.js';
import type { World } from '../world/types.js';
import type { Colors } from './style.js';
import { colors } from './style.js';
import { involvementJson, involvementLines } from './world-view.js';

const plain = colors({ isTTY: false }, {});

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
  if (d.involved) out.involved = involvementJson(d.involved);
  return out;
}

/** An invariant failure in log encoding (the involved objects in the snapshot encoding). */
export function encodeViolation(f: InvariantFailure): Record<string, unknown> {
  const struct = { t: 'struct', fields: argsSchema(f.call) } as const;
  const out: Record<string, unknown> = {
    line: f.line,
    call: f.call,
    actual: { ret: f.actual.ret, out: encodeField(struct, f.actual.out) },
    violations: f.violations.map((v) => ({
      invariant: v.invariant,
      message: v.message,
      objects: [...(v.objects ?? [])],
    })),
  };
  if (f.by !== undefined) out.by = f.by;
  if (f.involved) out.involved = involvementJson(f.involved);
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
    hash: worldHash(w),
    processes: Object.values(w.tasks).filter((t) => t.alive).length,
    files: Object.keys(w.files).length,
    objects,
  };
}

export interface ReplayJsonOptions {
  /** Names of the invariants checked (--check). */
  checked?: readonly string[];
  /** --check-every n > 1: the invariants ran after every n-th event and the last. */
  checkEvery?: number;
  /** Embed the snapshot of the final world (--until). */
  state?: boolean;
}

/** The --json report of `gpucr replay`. */
export function replayJson(file: string, rep: ReplayReport, opts: ReplayJsonOptions = {}): string {
  const out: Record<string, unknown> = {
    file,
    ok: rep.ok,
    events: rep.events,
    last_line: rep.lastLine,
    world: worldSummary(rep.world),
  };
  if (opts.checked) out.checked = [...opts.checked];
  if (opts.checkEvery !== undefined) out.check_every = opts.checkEvery;
  if (rep.until !== undefined) out.until = rep.until;
  if (rep.divergence) out.divergence = encodeDivergence(rep.divergence);
  if (rep.violation) out.violation = encodeViolation(rep.violation);
  if (opts.state) out.state = snapshot(rep.world);
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

/** `trace.jsonl:9: CALL: invariant kfd.file-refs does not hold after this event (ret -EINVAL)` */
export function violationMessage(file: string, f: InvariantFailure): string {
  const names = [...new Set(f.violations.map((v) => v.invariant))];
  const by = f.by !== undefined ? ` (issued by line ${f.by})` : '';
  return `${file}:${f.line}: ${f.call}${by}: invariant${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'do' : 'does'} not hold after this event (ret ${retName(f.actual.ret)})`;
}

/** The failure of a report for people: its first line, then the violations and the objects involved. */
export function failureText(file: string, rep: ReplayReport, c: Colors = plain): string {
  const lines: string[] = [];
  if (rep.divergence) {
    lines.push(c.red(divergenceMessage(file, rep.divergence)));
    if (rep.divergence.involved) lines.push(...involvementLines(rep.divergence.involved, rep.divergence.line, c));
  } else if (rep.violation) {
    lines.push(c.red(violationMessage(file, rep.violation)));
    for (const v of rep.violation.violations) lines.push(`  ${c.magenta(v.invariant)}: ${v.message}`);
    if (rep.violation.involved) lines.push(...involvementLines(rep.violation.involved, rep.violation.line, c));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
