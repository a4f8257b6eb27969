/**
 * The Replayer: replays validated events one at a time on a world it holds (changed in
 * place, the fold never looks back), checking each against the log's assertions and the
 * invariants. It keeps the actual outs of the lines later lines reference (resolve.ts) and
 * the calls each orchestration line issued, which the lines it issued (`by`) stand for.
 * replay.ts runs it over a whole log.
 */
import { InputError } from '../errors.js';
import { checkInvariants, type Invariant } from '../invariants/index.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import type { Call, World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { type Divergence, divergenceOf, type InvariantFailure, type ReplayReport } from './divergence.js';
import { InconsistentWorldError, LogError } from './errors.js';
import type { LogLine } from './event-fields.js';
import type { LogHeader } from './header.js';
import { formatPath, parsePath } from './json.js';
import type { RefTarget } from './refs.js';
import { resolveArgs } from './resolve.js';

export interface ReplayerOptions {
  /** The world to continue from (a restored snapshot); default a fresh world from the header. */
  world?: World;
  /** Invariants to check after every event (or as `checkEvery` says). */
  invariants?: readonly Invariant[];
  /**
   * Check the invariants after every `checkEvery`-th event only (default 1: after every
   * event), and after every event from the `checkFrom`-th on (default: none). `checkLast`
   * checks the last event when the schedule skipped it.
   */
  checkEvery?: number;
  checkFrom?: number;
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
  private readonly checkEvery: number;
  private readonly checkFrom: number;
  /** Events replayed when the invariants last ran (and held); 0 before any check. */
  checkedAt = 0;
  private lastEvent?: LogLine;
  /** The world came from the caller (a `--from` snapshot), not from the header. */
  private readonly given: boolean;

  constructor(
    header: LogHeader,
    readonly file: string,
    readonly referenced: ReadonlySet<number>,
    opts: ReplayerOptions = {},
  ) {
    this.world = opts.world ?? createWorld(header.topology, header.variants);
    this.given = opts.world !== undefined;
    this.invariants = opts.invariants ?? [];
    this.checkEvery = opts.checkEvery ?? 1;
    this.checkFrom = opts.checkFrom ?? Infinity;
    // A replay that checks from an event on knows that the events before it held.
    if (opts.checkFrom !== undefined) this.checkedAt = opts.checkFrom - 1;
  }

  /** Whether this replay checks invariants at all. */
  get checking(): boolean {
    return this.invariants.length > 0;
  }

  /** The actual result of a referenced line (kept only for lines in `referenced`). */
  outOf(line: number): RefTarget | undefined {
    return this.outs.get(line);
  }

  /** Step one event without checking its assertions; its result. */
  apply(ev: LogLine): { ret: number; out: Record<string, unknown> } {
    const issued = ev.by === undefined ? undefined : this.issued.get(ev.by);
    if (issued) return this.checkIssued(ev, issued);
    const args = ev.refs.length === 0 ? ev.args! : resolveArgs(ev, this.outs, this.file);
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
      throw this.onGivenWorld(e, ev);
    }
    this.events += 1;
    this.lastLine = ev.line;
    this.lastCall = call;
    this.last = r;
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
    return divergenceOf(ev, this.apply(ev));
  }

  /**
   * What to throw for `e`, thrown inside gpucr while applying or checking `ev`: on a world the
   * caller gave (a `--from` snapshot), a failure that is not bad input says the world's objects
   * disagree (InconsistentWorldError); otherwise `e` itself.
   */
  private onGivenWorld(e: unknown, ev: LogLine): unknown {
    return this.given && !(e instanceof InputError) ? new InconsistentWorldError(this.file, ev.line, ev.call, e) : e;
  }

  /** Run the invariants on the current world; the failure of the last event, if any. */
  check(ev: LogLine): InvariantFailure | undefined {
    if (this.invariants.length === 0) return undefined;
    let violations: ReturnType<typeof checkInvariants>;
    try {
      violations = checkInvariants(this.world, this.invariants);
    } catch (e) {
      throw this.onGivenWorld(e, ev);
    }
    if (violations.length === 0) {
      this.checkedAt = this.events;
      return undefined;
    }
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
    this.lastEvent = ev;
    const due = this.events % this.checkEvery === 0 || this.events >= this.checkFrom;
    const violation = due ? this.check(ev) : undefined;
    return violation ? { violation } : {};
  }

  /** At the end of the events: check after the last one if the schedule skipped it. */
  checkLast(): InvariantFailure | undefined {
    if (this.lastEvent === undefined || this.checkedAt === this.events) return undefined;
    return this.check(this.lastEvent);
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
