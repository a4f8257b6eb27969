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
 * - With invariants (`--check`), they run after every event; the first event after
 *   which one does not hold stops the replay, like a divergence.
 * - The first failure stops the replay. Its report names the objects involved: the
 *   kfd process of the caller (and of the file the call was issued on), and every
 *   task, object, file and GEM object the failing event changed. Those are found by
 *   replaying the log again up to the line before (replay is deterministic), so the
 *   normal path pays nothing for them.
 * - A reference to a field that the actual out of its line lacks is bad input (a
 *   LogError naming both lines), not a divergence.
 */
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { checkInvariants, type Invariant, type NamedViolation } from '../invariants/index.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField } from '../ioctls/schema.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import type { Call, World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { LogError, preview } from './errors.js';
import { retName } from './format.js';
import { formatPath, parsePath } from './json.js';
import { readLogBatches, readLogLines, referencedLinesOfFile } from './read-file.js';
import type { LogHeader, LogLine, ReadOptions } from './reader.js';
import { lookupField, type RefTarget, referencedLines, setAt } from './refs.js';
import { checkContinuation } from './snapshot.js';
import { matches, typeAt } from './values.js';
import { type Involvement, involvement } from './involvement.js';

export { type Change, compareIds, type InvolvedProcess, type Involvement, involvement } from './involvement.js';

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
  involved?: Involvement;
}

/** The first event after which an invariant did not hold. */
export interface InvariantFailure {
  line: number;
  call: string;
  by?: number;
  /** The event's actual result. */
  actual: { ret: number; out: Record<string, unknown> };
  /** Every violation after that event (of the invariants checked). */
  violations: NamedViolation[];
  involved?: Involvement;
}

export interface ReplayReport {
  /** True when every assertion and every checked invariant held. */
  ok: boolean;
  /** Events stepped (the failing one included). */
  events: number;
  /** The line of the last event stepped (1 when none). */
  lastLine: number;
  divergence?: Divergence;
  violation?: InvariantFailure;
  /** Set when the replay stopped at `until` before the end of the log. */
  until?: number;
  /** The world after the last stepped event (the failing one included). */
  world: World;
}

export interface ReplayerOptions {
  /** The world to continue from (a restored snapshot); default a fresh world from the header. */
  world?: World;
  /** Invariants to check after every event. */
  invariants?: readonly Invariant[];
}

/** One call an orchestration event issued (out.issued of criu.dump / criu.restore): the call and its result. */
type IssuedByLine = Call & CallResult;

/** Replays events one at a time; holds the world and the referenced outs. */
export class Replayer {
  world: World;
  events = 0;
  lastLine = 1;
  /** The result of the last stepped event. */
  last?: { ret: number; out: Record<string, unknown> };
  /** The last stepped event as the model received it (references resolved, arguments decoded). */
  lastCall?: Call;
  private readonly outs = new Map<number, RefTarget>();
  /** The calls each orchestration line issued (its out.issued), and how many lines with `by` consumed. */
  private readonly issued = new Map<number, { calls: IssuedByLine[]; next: number }>();
  private readonly invariants: readonly Invariant[];

  constructor(
    header: LogHeader,
    readonly file: string,
    readonly referenced: ReadonlySet<number>,
    opts: ReplayerOptions = {},
  ) {
    this.world = opts.world ?? createWorld(header.topology, header.variants);
    this.invariants = opts.invariants ?? [];
  }

  /** The actual result of a referenced line (kept only for lines in `referenced`). */
  outOf(line: number): RefTarget | undefined {
    return this.outs.get(line);
  }

  /** Step one event without checking its assertions; its result. */
  apply(ev: LogLine): { ret: number; out: Record<string, unknown> } {
    const issued = ev.by === undefined ? undefined : this.issued.get(ev.by);
    if (issued) return this.checkIssued(ev, issued);
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
    this.lastLine = ev.line;
    this.lastCall = call;
    this.last = { ret: r.ret, out: r.out };
    if (this.referenced.has(ev.line)) this.outs.set(ev.line, { call: ev.call, ret: r.ret, out: r.out });
    if (Array.isArray(r.out.issued)) this.issued.set(ev.line, { calls: r.out.issued as IssuedByLine[], next: 0 });
    return this.last;
  }

  /**
   * A line issued by an orchestration event (`by`): it is not applied again (the
   * orchestration line already applied it); it must name the call the orchestration issued
   * at the same position, and its result is that call's (docs/log-format.md "Orchestration").
   */
  private checkIssued(
    ev: LogLine,
    q: { calls: IssuedByLine[]; next: number },
  ): { ret: number; out: Record<string, unknown> } {
    const c = q.calls[q.next];
    q.next += 1;
    if (!c || c.call !== ev.call || c.pid !== ev.pid)
      throw new LogError(
        this.file,
        ev.line,
        1,
        'call',
        c
          ? `${c.call}${c.pid === undefined ? '' : ` by pid ${c.pid}`}, the call ${q.next} line ${ev.by} issued`
          : `no line: line ${ev.by} issued ${q.calls.length} calls`,
        `${ev.call}${ev.pid === undefined ? '' : ` by pid ${ev.pid}`}`,
      );
    const call: Call = { call: c.call, args: c.args };
    if (c.pid !== undefined) call.pid = c.pid;
    if (c.fd !== undefined) call.fd = c.fd;
    this.events += 1;
    this.lastLine = ev.line;
    this.lastCall = call;
    this.last = { ret: c.ret, out: c.out };
    if (this.referenced.has(ev.line)) this.outs.set(ev.line, { call: ev.call, ret: c.ret, out: c.out });
    return this.last;
  }

  /** Step one event and check its assertions; the divergence, if any. */
  feed(ev: LogLine): Divergence | undefined {
    const r = this.apply(ev);
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

  /** Run the invariants on the current world; the failure of the last event, if any. */
  check(ev: LogLine): InvariantFailure | undefined {
    if (this.invariants.length === 0) return undefined;
    const violations = checkInvariants(this.world, this.invariants);
    if (violations.length === 0) return undefined;
    const f: InvariantFailure = { line: ev.line, call: ev.call, actual: this.last!, violations };
    if (ev.by !== undefined) f.by = ev.by;
    return f;
  }

  /** Feed (or only apply, without assertions) and check: the first failure of this event, if any. */
  step(ev: LogLine, assertions = true): { divergence?: Divergence; violation?: InvariantFailure } {
    if (assertions) {
      const divergence = this.feed(ev);
      if (divergence) return { divergence };
    } else this.apply(ev);
    const violation = this.check(ev);
    return violation ? { violation } : {};
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

  report(failure: { divergence?: Divergence; violation?: InvariantFailure } = {}): ReplayReport {
    const rep: ReplayReport = {
      ok: failure.divergence === undefined && failure.violation === undefined,
      events: this.events,
      lastLine: this.lastLine,
      world: this.world,
    };
    if (failure.divergence) rep.divergence = failure.divergence;
    if (failure.violation) rep.violation = failure.violation;
    return rep;
  }
}

// ---- whole logs --------------------------------------------------------------------------

export interface ReplayOptions {
  /** Name of the log in messages (default "<log>"). */
  file?: string;
  /** Lines whose outs later lines reference; computed from the events when absent. */
  referenced?: ReadonlySet<number>;
  /** Continue from this world (a restored snapshot) instead of a fresh one; it is changed in place. */
  world?: World;
  /** Check these invariants after every event. */
  invariants?: readonly Invariant[];
  /** Stop after the event on this line. */
  until?: number;
  /** Name the objects a failure involves (default true; costs a second replay up to the failing line). */
  involve?: boolean;
  /** False: apply the events without checking their ret/out assertions. */
  assertions?: boolean;
}

function failureOf(r: {
  divergence?: Divergence;
  violation?: InvariantFailure;
}): Divergence | InvariantFailure | undefined {
  return r.divergence ?? r.violation;
}

/**
 * What replay and replayFile do with each event, whatever the events come from: stop at
 * `until`, or step and stop at the first failure. Undefined to go on; otherwise the final
 * report and, for a failure, the failure to name the involved objects of (each caller
 * replays its own source again up to the failing line for that: see `involve`).
 */
function loopStep(
  rp: Replayer,
  ev: LogLine,
  opts: { until?: number; assertions?: boolean },
): { report: ReplayReport; failure?: Divergence | InvariantFailure } | undefined {
  if (opts.until !== undefined && ev.line > opts.until) {
    const report = rp.report();
    report.until = opts.until;
    return { report };
  }
  const r = rp.step(ev, opts.assertions !== false);
  const failure = failureOf(r);
  return failure ? { report: rp.report(r), failure } : undefined;
}

/** Name what a failure involves: the world before the failing line (`before`) against the world after it. */
function involve(failure: Divergence | InvariantFailure, before: World, rp: Replayer): void {
  failure.involved = involvement(before, rp.world, rp.lastCall!);
}

/** Replay validated events (from readLog) on a fresh world built from the header (or `opts.world`). */
export function replay(header: LogHeader, events: Iterable<LogLine>, opts: ReplayOptions = {}): ReplayReport {
  const list: LogLine[] = Array.isArray(events) ? (events as LogLine[]) : [...events];
  const referenced = opts.referenced ?? referencedLines(list);
  checkContinuation(header, opts.world, opts.file ?? '<log>');
  const involveOn = opts.involve !== false;
  const start = opts.world && involveOn ? structuredClone(opts.world) : undefined;
  const make = (world?: World) => {
    const o: ReplayerOptions = { invariants: opts.invariants ?? [] };
    if (world) o.world = world;
    return new Replayer(header, opts.file ?? '<log>', referenced, o);
  };
  const rp = make(opts.world);
  for (const ev of list) {
    const end = loopStep(rp, ev, opts);
    if (!end) continue;
    if (end.failure && involveOn) {
      const again = make(start ? structuredClone(start) : undefined);
      for (const e of list) {
        if (e.line >= ev.line) break;
        again.apply(e);
      }
      involve(end.failure, again.world, rp);
    }
    return end.report;
  }
  return rp.report();
}

export interface ReplayFileOptions {
  /** Name of the log in messages (default: the path). */
  file?: string;
  /** Continue from this world (a restored snapshot); it is changed in place. */
  world?: World;
  invariants?: readonly Invariant[];
  until?: number;
  involve?: boolean;
  /** Progress: bytes read and replayed of the file's size ('validate' only for a log with `\\u` escapes, read twice). */
  onProgress?: (phase: 'validate' | 'replay', done: number, total: number) => void;
  /** False: apply the events without checking their ret/out assertions (gpucr state). */
  assertions?: boolean;
  /** Called with the header once it has been validated, before any event is replayed. */
  onHeader?: (header: LogHeader) => void;
}

/**
 * Replay a log file in one streaming pass that validates each line as it reaches it.
 * A byte scan first (referencedLinesOfFile, no JSON parse) finds the lines whose outs
 * later lines reference, so that only those are kept; a log whose `\u` escapes could hide
 * a reference is validated in a first full pass instead. Neither keeps the log in memory.
 * A malformed line is bad input (a LogError) whenever the replay reaches it; a failure on
 * an earlier line stops the replay first (docs/log-format.md, "Replay").
 */
export async function replayFile(path: string, opts: ReplayFileOptions = {}): Promise<ReplayReport> {
  const file = opts.file ?? path;
  const progress = opts.onProgress;
  let referenced = await referencedLinesOfFile(path, file);
  if (referenced === null) {
    referenced = new Set<number>();
    for await (const batch of readLogBatches(path, file))
      for (const item of batch) if (item.event) for (const r of item.event.refs) referenced.add(r.line);
  }
  let size = 0;
  let bytes = 0;
  let lastReport = 0;
  const readOpts: ReadOptions & { keep: ReadonlySet<number> } = { keep: referenced };
  if (progress) {
    size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    readOpts.onLine = (n) => {
      bytes += n;
      if (bytes - lastReport >= 1 << 16) {
        lastReport = bytes;
        progress('replay', Math.min(bytes, size), size);
      }
    };
  }
  const involveOn = opts.involve !== false;
  const start = opts.world && involveOn ? structuredClone(opts.world) : undefined;
  const make = (h: LogHeader, world?: World) => {
    const o: ReplayerOptions = { invariants: opts.invariants ?? [] };
    if (world) o.world = world;
    return new Replayer(h, file, referenced, o);
  };
  let rp: Replayer | undefined;
  for await (const batch of readLogBatches(path, file, readOpts)) {
    for (const item of batch) {
      if (item.header) {
        checkContinuation(item.header, opts.world, file);
        opts.onHeader?.(item.header);
        rp = make(item.header, opts.world);
        continue;
      }
      const ev = item.event;
      const end = loopStep(rp!, ev, opts);
      if (!end) continue;
      if (end.failure && involveOn) {
        let again: Replayer | undefined;
        for await (const it of readLogLines(path, file)) {
          if (it.header) again = make(it.header, start ? structuredClone(start) : undefined);
          else if (it.event.line >= ev.line) break;
          else again!.apply(it.event);
        }
        involve(end.failure, again!.world, rp!);
      }
      return end.report;
    }
  }
  return rp!.report();
}
