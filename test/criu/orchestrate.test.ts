/**
 * The orchestration events criu.dump / criu.restore through the call layer and the log:
 * stages, issued calls with `by`, the retry loop, the resume stage (spec §9.3–§9.6, §9.8).
 */
import { describe, expect, it } from 'vitest';
import type { CriuDumpContext } from '../../machines/criu/dump.js';
import type { ProcessContext } from '../../machines/kfd/process.js';
import { orchestrationLines } from '../../src/criu/orchestrate-log.js';
import { selectInvariants } from '../../src/invariants/index.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { APP, CRIU } from '../../src/scenarios/rocm-two-gpus.js';
import { contextOf, inState } from '../../src/world/objects.js';
import { applyInPlace } from '../../src/world/step.js';
import type { Call, World } from '../../src/world/types.js';
import { pddHandles } from '../../src/world/world.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';

const HEADER = {
  gpucr: 1,
  topology: { page_size: 4096, gpus: [{ gpu_id: 0xa3e1, render_minor: 128, vram_size: '17179869184' }] },
  processes: [{ pid: APP, ptrace_parent: CRIU }],
};

function logText(events: Record<string, unknown>[], variants?: Record<string, unknown>): string {
  const h = variants ? { ...HEADER, variants } : HEADER;
  return [JSON.stringify(h), ...events.map((e) => JSON.stringify(e))].join('\n');
}

/** The shortest history that restores a process: open /dev/kfd, dump it, restore it as pid 200. */
const SHORTEST = [
  { pid: APP, call: 'open', args: { path: '/dev/kfd' } },
  { call: 'criu.dump', args: { pid: APP } },
  { call: 'criu.restore', args: { dump: '$3.object', pid: 200 } },
];

function run(events: Record<string, unknown>[], variants?: Record<string, unknown>) {
  const { header, events: evs } = readLog(logText(events, variants), 'test');
  return replay(header, evs, { invariants: selectInvariants(['criu.resume-late']) });
}

function issue(w: World, name: string, raw: Record<string, unknown>, pid?: number) {
  const call: Call = { call: name, args: decodeArgs(callDef(name)!.args, raw, 'args') };
  if (pid !== undefined) call.pid = pid;
  return { call, ...applyInPlace(w, call) };
}

describe('criu.dump / criu.restore orchestration events', () => {
  it('spec §9.6: default — RESUME at RESUME_DEVICES_LATE keeps criu.resume-late', () => {
    const rep = run(SHORTEST);
    expect(rep.ok).toBe(true);
  });

  it('spec §9.6: variant resume "at-restore-file" breaks criu.resume-late at the criu.restore line (3-event log)', () => {
    const rep = run(SHORTEST, { resume: 'at-restore-file' });
    expect(rep.ok).toBe(false);
    expect(rep.violation?.line).toBe(4);
    expect(rep.violation?.violations[0]?.message).toMatch(/restoreFiles/);
  });

  it('the 3-event log is minimal: without any one event the variant breaks nothing', () => {
    for (let i = 0; i < SHORTEST.length; i++) {
      const evs = SHORTEST.filter((_e, j) => j !== i).map((e) =>
        e.call === 'criu.restore' && i < 2 ? { ...e, args: { dump: 'none', pid: 200 } } : e,
      );
      expect(run(evs, { resume: 'at-restore-file' }).violation).toBeUndefined();
    }
  });

  it('spec §9.4: a dump issues GET_VERSION on CRIU’s own /dev/kfd, PROCESS_INFO, CHECKPOINT, then UNPAUSE at DUMP_DEVICES_LATE', () => {
    const w = scenarioWorld();
    const r = issue(w, 'criu.dump', { pid: APP });
    expect(r.ret).toBe(0);
    const calls = r.out.issued as { call: string; pid: number; stage: string; args: Record<string, unknown> }[];
    const names = calls.map((c) => `${c.stage} ${c.call}`);
    const gv = names.indexOf('DUMP_EXT_FILE AMDKFD_IOC_GET_VERSION');
    const ckpt = calls.findIndex(
      (c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.stage === 'DUMP_EXT_FILE' && c.args.op === 1,
    );
    expect(gv).toBeGreaterThanOrEqual(0);
    expect(ckpt).toBeGreaterThan(gv);
    expect(names[names.length - 1]).toBe('DUMP_DEVICES_LATE AMDKFD_IOC_CRIU_OP');
    expect(calls.every((c) => c.pid === CRIU)).toBe(true);
    expect(inState(w, r.out.object as string, 'done')).toBe(true);
    const p = contextOf<ProcessContext>(w, w.tasks[APP]!.kfd_process!);
    expect(p.queues_paused).toBe(false);
  });

  it('spec §9.8: a dma-buf fd whose exporter is never dumped fails the dump at DUMP_DEVICES_LATE (after UNPAUSE)', () => {
    const w = scenarioWorld();
    // export a KFD BO: the app holds a dma-buf of a BO no render-node file has a handle for
    const bo = Object.values(w.tasks[APP]!.pdds).length;
    expect(bo).toBeGreaterThan(0);
    const pddId = w.tasks[APP]!.pdds[0]!;
    const pdd = contextOf<{ user_gpu_id: number }>(w, pddId);
    const idr = pddHandles(w, pddId)[0]![0];
    const ex = issue(
      w,
      'AMDKFD_IOC_EXPORT_DMABUF',
      { handle: (BigInt(pdd.user_gpu_id) << 32n) + BigInt(idr), flags: 0 },
      APP,
    );
    const call = { ...ex.call, fd: 3 };
    const e = applyInPlace(w, call);
    expect(e.ret).toBe(0);
    const r = issue(w, 'criu.dump', { pid: APP });
    expect(r.ret).toBe(-5);
    expect(r.out.failure).toMatch(/Not all dma buffers/);
    const obj = r.out.object as string;
    expect(inState(w, obj, 'failed')).toBe(true);
    expect(contextOf<CriuDumpContext>(w, obj).deferred).toBe(1);
  });
});

describe('orchestration lines with by (docs/log-format.md)', () => {
  function restoreLog() {
    const w = scenarioWorld();
    const d = issue(w, 'criu.dump', { pid: APP });
    issue(w, 'exit', {}, APP);
    const r = issue(w, 'criu.restore', { dump: d.out.object as string });
    expect(r.ret).toBe(0);
    return orchestrationLines(r.call, r.ret, r.out, 2);
  }

  it('an orchestration line is followed by its issued calls, each with by = its line', () => {
    const lines = restoreLog().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]!.call).toBe('criu.restore');
    expect(lines[0]!.by).toBeUndefined();
    expect(lines.slice(1).every((l) => l.by === 2)).toBe(true);
    expect(lines.slice(1).some((l) => l.call === 'AMDKFD_IOC_CRIU_OP')).toBe(true);
  });
});
