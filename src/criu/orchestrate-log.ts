/**
 * Orchestration events as log lines (docs/log-format.md "Orchestration events"): the
 * orchestration line (criu.dump / criu.restore) with its result, then every call it issued as
 * its own line with `by` = the orchestration line's number.
 */
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import { formatRecord } from '../log/writer.js';
import { applyInPlace } from '../world/step.js';
import type { Call, World } from '../world/types.js';
import type { OrchestratedCall } from './orchestrate.js';

/** The out of an orchestration line as written (issued calls are written as their own lines). */
export function orchestrationOut(out: Record<string, unknown>): Record<string, unknown> {
  const { issued: _issued, ...rest } = out;
  return rest;
}

/**
 * The lines of one orchestration event that is line `line` of its log: itself, then the
 * issued calls with `by: line`.
 */
export function orchestrationLines(event: Call, ret: number, out: Record<string, unknown>, line: number): string[] {
  const issued = (out.issued as OrchestratedCall[] | undefined) ?? [];
  const lines = [formatRecord(event, { ret, out: orchestrationOut(out) })];
  for (const c of issued) {
    const call: Call = { call: c.call, args: c.args };
    if (c.pid !== undefined) call.pid = c.pid;
    if (c.fd !== undefined) call.fd = c.fd;
    lines.push(formatRecord(call, { ret: c.ret, out: c.out }, line));
  }
  return lines;
}

/**
 * A whole log of the built-in scenario (src/scenarios/rocm-two-gpus.ts) followed by
 * `criu.dump` of the application, its exit, and `criu.restore` of the dump (same pid), each
 * orchestration event followed by the calls it issued with `by`
 * (docs/examples/criu-roundtrip.jsonl, docs/checkpoint-restore.md).
 */
export function scenarioRoundtripLog(lines: readonly string[], world: World, app: number): string {
  const out = [...lines];
  const apply = (call: Call) => {
    const r = applyInPlace(world, call);
    const line = out.length + 1;
    if (Array.isArray(r.out.issued)) out.push(...orchestrationLines(call, r.ret, r.out, line));
    else out.push(formatRecord(call, r));
    return { line, ...r };
  };
  const dump = apply({ call: 'criu.dump', args: decodeArgs(callDef('criu.dump')!.args, { pid: app }, 'args') });
  apply({ pid: app, call: 'exit', args: {} });
  const restore = {
    call: 'criu.restore',
    args: decodeArgs(callDef('criu.restore')!.args, { dump: dump.out.object }, 'args'),
  };
  const r = applyInPlace(world, restore);
  const line = out.length + 1;
  // the dump is named by a reference to the criu.dump line's out.object
  const [first, ...rest] = orchestrationLines(restore, r.ret, r.out, line);
  const rec = JSON.parse(first!) as Record<string, unknown>;
  rec.args = { dump: `$${dump.line}.object` };
  out.push(JSON.stringify(rec), ...rest);
  return `${out.join('\n')}\n`;
}
