/**
 * What a replay reports (docs/log-format.md, "Divergence and invariant violations"): the
 * first event whose result differs from what the log asserts (a Divergence), or after
 * which an invariant does not hold (an InvariantFailure), and the report of the whole
 * replay. How a recorded result is compared with the actual one is here too (`divergenceOf`):
 * `ret` exactly, each `out` field the log gives by values.ts `matches`.
 */
import type { NamedViolation } from '../invariants/index.js';
import type { World } from '../world/types.js';
import type { LogLine } from './event-fields.js';
import type { Involvement } from './involvement.js';
import { matches } from './values.js';

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

/**
 * The divergence of event `ev` whose actual result is `r`, if any. Runs for every event;
 * the Divergence is built only once an assertion does not hold.
 */
export function divergenceOf(ev: LogLine, r: { ret: number; out: Record<string, unknown> }): Divergence | undefined {
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
