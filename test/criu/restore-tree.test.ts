/**
 * The tree restore (src/criu/restore.ts) on short hand-written logs of two tasks, the peer's
 * turn first (spec §9.5, §9.6, §9.8): defects the composed-coverage explorer found
 * (src/explore/coverage-suite-criu.ts), each as the log that showed it.
 */
import { describe, expect, it } from 'vitest';
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import { selectInvariants } from '../../src/invariants/index.js';
import '../../src/ioctls/all.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { unexplained } from './design-differences.js';
import { buildHistory, type Op } from './history.js';

const APP = 100;
const PEER = 101;
const HEADER = {
  gpucr: 1,
  topology: { page_size: 4096, gpus: [{ gpu_id: 0x1001, render_minor: 128 }] },
  processes: [
    { pid: APP, ptrace_parent: 99 },
    { pid: PEER, ptrace_parent: 99, caps: ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE', 'CAP_SYS_PTRACE'] },
  ],
};

/** Replays `setup`, dumps both tasks, lets both exit and restores them in `order`. */
function dumpAndRestore(setup: Record<string, unknown>[], order: number[]) {
  const dumpLine = setup.length + 2;
  const events = [
    ...setup,
    { call: 'criu.dump', args: { pid: APP, pids: [PEER], criu: 99 } },
    { pid: APP, call: 'exit', args: {} },
    { pid: PEER, call: 'exit', args: {} },
    { call: 'criu.restore', args: { dump: `$${dumpLine}.object`, criu: 99, order } },
  ];
  const text = [JSON.stringify(HEADER), ...events.map((e) => JSON.stringify(e))].join('\n');
  const { header, events: evs } = readLog(text, 'tree.jsonl');
  return replay(header, evs, { invariants: selectInvariants(['criu.resume-late']) });
}

/** The last criu.restore object of a world and its state. */
function restoreObject(w: ReturnType<typeof dumpAndRestore>['world']) {
  const [, rec] = Object.entries(w.objects)
    .filter(([, o]) => o.kind === 'criu.restore')
    .at(-1)!;
  return { state: String(rec.value), context: rec.context as CriuRestoreContext };
}

describe('tree restore, the peer first', () => {
  it('spec §9.6: a task whose /dev/kfd is open but not yet RESTOREd is not counted as activated (both tasks with /dev/kfd)', () => {
    const rep = dumpAndRestore(
      [
        { pid: APP, call: 'open', args: { path: '/dev/kfd' } },
        { pid: PEER, call: 'open', args: { path: '/dev/kfd' } },
      ],
      [PEER, APP],
    );
    expect(rep.divergence).toBeUndefined();
    expect(rep.violation).toBeUndefined();
    const r = restoreObject(rep.world);
    expect(r.state).toBe('done');
    // RESUME_DEVICES_LATE activates both tasks: recorded there, not earlier
    expect(r.context.activated_in).toBe('resumeDevicesLate');
  });

  it('spec §9.5 step 3 (amdgpu_plugin_restore_file: restore_maps are filled by the task’s /dev/kfd): a peer holding only a render node fails at FORKING with -ENODEV, no internal error', () => {
    const rep = dumpAndRestore(
      [
        { pid: APP, call: 'open', args: { path: '/dev/kfd' } },
        { pid: PEER, call: 'open', args: { path: '/dev/dri/renderD128' } },
      ],
      [PEER, APP],
    );
    expect(rep.violation).toBeUndefined();
    const r = restoreObject(rep.world);
    expect(r.state).toBe('failed');
    expect(r.context.passes).toBe(0);
  });

  it('spec §9.5, §9.8: that render node failing at FORKING (no GPU map, before any GEM_CHANGE_HANDLE, here disabled) is the restore’s -EIO (coverage, not a regression)', () => {
    const text = (order: number[]) =>
      [
        JSON.stringify({ ...HEADER, variants: { 'gem-change-handle': 'disabled' } }),
        ...[
          { pid: APP, call: 'open', args: { path: '/dev/kfd' } },
          { pid: PEER, call: 'open', args: { path: '/dev/dri/renderD128' } },
          ...[1, 2].map(() => ({
            pid: PEER,
            call: 'DRM_IOCTL_AMDGPU_GEM_CREATE',
            fd: 3,
            args: { bo_size: 4096, alignment: 4096, domains: 4, domain_flags: 0 },
          })),
          { pid: PEER, call: 'DRM_IOCTL_GEM_CLOSE', fd: 3, args: { handle: 1 } },
          { call: 'criu.dump', args: { pid: APP, pids: [PEER], criu: 99 } },
          { pid: APP, call: 'exit', args: {} },
          { pid: PEER, call: 'exit', args: {} },
          { call: 'criu.restore', args: { dump: '$7.object', criu: 99, order }, ret: -5 },
        ].map((e) => JSON.stringify(e)),
      ].join('\n');
    const { header, events } = readLog(text([PEER, APP]), 'tree.jsonl');
    const rep = replay(header, events);
    expect(rep.divergence).toBeUndefined();
    const r = restoreObject(rep.world);
    expect(r.state).toBe('failed');
    expect(r.context.passes).toBe(0);
  });
});

describe('tree dump: the KFD BO handle', () => {
  it('spec §9.4 h, §9.8: a peer importing a KFD BO under another handle number does not rename the KFD entry (restore makes progress)', () => {
    // the application: a KFD BO imported on its render node as handle 2 (handle 1 is a GEM
    // BO, then imported by KFD); the peer imports the KFD BO's dma-buf as its handle 1
    const ops: Op[] = [
      { op: 'alloc', p: 0, gpu: 0, kind: 'GTT', pages: 1 },
      { op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' },
      { op: 'share', from: 'kfd', index: 0, peer: 'render', appCloses: false, closeFd: false },
      { op: 'renderToKfd', p: 0, gem: 0, gpu: 0, closeFd: false, map: false },
    ];
    for (const order of [
      [APP, PEER],
      [PEER, APP],
    ]) {
      const h = buildHistory(ops, true);
      const r = roundtrip(h.world, [APP, PEER], { order });
      expect(r.dump.images.kfd[0]!.kfd.bo_entries.map((b) => b.handle)).toEqual([2, 1]);
      expect(r.restore?.failure).toBeNull();
      // the peer's import under another number is dumped as its own BO (docs/checkpoint-restore.md);
      // the GEM BO KFD imported comes back as KFD's allocation, without VRAM_CLEARED
      expect(unexplained(h.world, r.differences, APP).every((d) => d.startsWith('shared'))).toBe(true);
      expect(r.differences).toContain(`task ${APP}.render 1001 handles.1.flags: 8 → 0`);
    }
  });
});
