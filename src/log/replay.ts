/**
 * Replay: a fold of `step` over a validated log, checking the recorded results
 * (design "Layers" 4; docs/log-format.md, "Assertions").
 *
 * - `$<line>.<field>` references resolve against the actual outs of earlier lines.
 *   Only the outs of lines that some later line references are kept, so memory is
 *   proportional to what the log needs, not to its length.
 * - `ret`, when given, must equal the actual return value exactly; each key of `out`,
 *   when given, must match the actual out field (values.ts `matches`); out fields
 *   the log does not give are not compared.
 * - The first divergence stops the replay. A reference to a field that the actual
 *   out of its line lacks is bad input (a LogError naming both lines), not a divergence.
 */
import { InputError } from '../errors.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField } from '../ioctls/schema.js';
import { applyInPlace } from '../world/step.js';
import type { Call, World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { LogError, preview } from './errors.js';
import { retName } from './format.js';
import { formatPath, parsePath } from './json.js';
import { type LogHeader, type LogLine, readLogLines } from './reader.js';
import { lookupField, type RefTarget, referencedLines, setAt } from './refs.js';
import { matches, typeAt } from './values.js';

export interface Divergence {
  /** Line of the event whose result differs from the log. */
  line: number;
  call: string;
  /** The `by` of that line, if it was issued by an orchestration event. */
  by?: number;
  /** What the log asserted (decoded values; only the parts it gives). */
  expected: { ret?: number; out?: Record<string, unknown> };
  /** What the model returned (decoded values; the whole out). */
  actual: { ret: number; out: Record<string, unknown> };
  /** What differs: "ret" and/or "out.<field>" for each asserted out field that does not hold. */
  mismatch: string[];
}

export interface ReplayReport {
  /** True when every assertion held. */
  ok: boolean;
  /** Events stepped (the diverging one included). */
  events: number;
  divergence?: Divergence;
  /** The world after the last stepped event (the diverging one included). */
  world: World;
}

export interface ReplayOptions {
  /** Name of the log in messages (default "<log>"). */
  file?: string;
  /** Lines whose outs later lines reference; computed from the events when absent. */
  referenced?: ReadonlySet<number>;
}

/** Replays events one at a time; holds the world and the referenced outs. */
export class Replayer {
  world: World;
  events = 0;
  /** The result of the last stepped event. */
  last?: { ret: number; out: Record<string, unknown> };
  private readonly outs = new Map<number, RefTarget>();

  constructor(
    header: LogHeader,
    readonly file: string,
    readonly referenced: ReadonlySet<number>,
  ) {
    this.world = createWorld(header.topology, header.variants);
  }

  /** Step one event and check its assertions; the divergence, if any. */
  feed(ev: LogLine): Divergence | undefined {
    const args = ev.refs.length === 0 ? ev.args! : this.resolve(ev);
    const call: Call = { call: ev.call, args };
    if (ev.pid !== undefined) call.pid = ev.pid;
    if (ev.fd !== undefined) call.fd = ev.fd;
    let r: ReturnType<typeof applyInPlace>;
    try {
      // The fold never looks back, so the world is changed in place (no copy per event).
      r = applyInPlace(this.world, call);
    } catch (e) {
      if (e instanceof InputError && !(e instanceof LogError)) {
        const path = parsePath(e.where);
        throw new LogError(this.file, ev.line, 1, path ? formatPath(path) : e.where, e.expected, e.found);
      }
      throw e;
    }
    this.events += 1;
    this.last = { ret: r.ret, out: r.out };
    if (this.referenced.has(ev.line)) this.outs.set(ev.line, { call: ev.call, ret: r.ret, out: r.out });

    let mismatch: string[] | undefined;
    if (ev.ret !== undefined && ev.ret !== r.ret) mismatch = ['ret'];
    if (ev.out !== undefined) {
      for (const k of Object.keys(ev.out)) {
        if (!Object.hasOwn(r.out, k) || !matches(ev.out[k], r.out[k])) (mismatch ??= []).push(`out.${k}`);
      }
    }
    if (!mismatch) return undefined;
    const expected: Divergence['expected'] = {};
    if (ev.ret !== undefined) expected.ret = ev.ret;
    if (ev.out !== undefined) expected.out = ev.out;
    const d: Divergence = {
      line: ev.line,
      call: ev.call,
      expected,
      actual: { ret: r.ret, out: r.out },
      mismatch,
    };
    if (ev.by !== undefined) d.by = ev.by;
    return d;
  }

  /** The arguments of a line with references, resolved against the kept outs and decoded. */
  private resolve(ev: LogLine): Record<string, unknown> {
    const def = callDef(ev.call);
    if (!def) throw new Error(`replay: ${ev.call} is not registered`);
    const args = structuredClone(ev.rawArgs!);
    for (const r of ev.refs) {
      const target = this.outs.get(r.line);
      if (!target) throw new Error(`replay: the out of line ${r.line} was not kept (referenced set is incomplete)`);
      const v = lookupField(target.out, r.field);
      if (v === undefined) {
        throw new LogError(
          this.file,
          ev.line,
          r.column,
          formatPath(['args', ...r.path]),
          `field ${r.field.join('.')} in the actual out of line ${r.line} (${target.call} returned ${retName(target.ret)} with out ${preview(encodeField(undefined, target.out))})`,
          r.text,
        );
      }
      setAt(args, r.path, encodeField(typeAt(def.args, r.path), v));
    }
    try {
      return decodeArgs(def.args, args, 'args');
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // Only a resolved reference can fail here: the reader decoded everything else.
      const path = parsePath(e.where);
      const ref = ev.refs.find((r) => path && formatPath(['args', ...r.path]) === formatPath(path));
      const from = ref ? ` (from ${ref.text})` : '';
      throw new LogError(this.file, ev.line, ref?.column ?? 1, e.where, `${e.expected}${from}`, e.found);
    }
  }

  report(divergence?: Divergence): ReplayReport {
    const rep: ReplayReport = {
      ok: divergence === undefined,
      events: this.events,
      world: this.world,
    };
    if (divergence) rep.divergence = divergence;
    return rep;
  }
}

/** Replay validated events (from readLog) on a fresh world built from the header. */
export function replay(header: LogHeader, events: Iterable<LogLine>, opts: ReplayOptions = {}): ReplayReport {
  let list: Iterable<LogLine> = events;
  let referenced = opts.referenced;
  if (!referenced) {
    const arr = Array.isArray(events) ? (events as LogLine[]) : [...events];
    referenced = referencedLines(arr);
    list = arr;
  }
  const rp = new Replayer(header, opts.file ?? '<log>', referenced);
  for (const ev of list) {
    const d = rp.feed(ev);
    if (d) return rp.report(d);
  }
  return rp.report();
}

/**
 * Replay a log file in two streaming passes: the first validates every line and
 * collects the referenced lines (so bad input is reported before anything is
 * replayed), the second replays. Neither keeps the log in memory.
 */
export async function replayFile(path: string, opts: { file?: string } = {}): Promise<ReplayReport> {
  const file = opts.file ?? path;
  let header: LogHeader | undefined;
  const referenced = new Set<number>();
  for await (const item of readLogLines(path, file)) {
    if (item.header) header = item.header;
    else for (const r of item.event.refs) referenced.add(r.line);
  }
  let rp: Replayer | undefined;
  for await (const item of readLogLines(path, file)) {
    if (item.header) {
      rp = new Replayer(item.header, file, referenced);
      continue;
    }
    const d = rp!.feed(item.event);
    if (d) return rp!.report(d);
  }
  return (rp ?? new Replayer(header!, file, referenced)).report();
}
