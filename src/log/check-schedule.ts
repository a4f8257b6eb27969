/**
 * When `--check` runs the invariants: after every event, or with `checkEvery` n > 1 after
 * every n-th event and the last (src/log/replay.ts, docs/invariants.md "Checking a long
 * log"). A check costs time in proportion to the live objects, so checking every event of a
 * log of millions is out of reach; checking every n-th finds the same first violation as
 * long as a violation, once there, stays until the next check. A violation found at a check
 * is narrowed down by a second replay that checks every event since the last check that
 * held, up to the failing line: the report is then the one checking every event gives.
 */
import type { Divergence, InvariantFailure, ReplayReport } from './divergence.js';
import type { Replayer } from './replayer.js';

/**
 * When the invariants run: after every `every`-th event, and after every event from the
 * `from`-th on (the second pass that narrows a violation down: `every` Infinity).
 */
export interface CheckSchedule {
  every: number;
  from?: number;
}

/** The schedule of a replay's options (after every event unless `checkEvery` says otherwise). */
export function scheduleOf(opts: { checkEvery?: number }): CheckSchedule {
  return { every: opts.checkEvery ?? 1 };
}

/**
 * The second pass of a failure met after events the schedule did not check: the window to
 * check every event of (from the event after the last check that held, up to the failing
 * line), or undefined when every event before the failing one was checked (the failure is
 * the first). A divergence counts too: checking every event could have stopped earlier, at
 * a violation after one of the events skipped.
 */
export function narrowing(
  rp: Replayer,
  failure: Divergence | InvariantFailure,
): { from: number; until: number } | undefined {
  if (!rp.checking || rp.checkedAt >= rp.events - 1) return undefined;
  return { from: rp.checkedAt + 1, until: failure.line };
}

/** The end of the events: the last one checked if the schedule skipped it. */
export function endOfLog(rp: Replayer): { report: ReplayReport; failure?: InvariantFailure } {
  const violation = rp.checkLast();
  return violation ? { report: rp.report({ violation }), failure: violation } : { report: rp.report() };
}
