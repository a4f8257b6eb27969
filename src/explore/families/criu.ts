/**
 * The `criu` family: CRIU dump and restore orchestration with the amdgpu plugin's stages
 * (`criu.dump`, `criu.restore`, src/criu/orchestrate.ts) on a process with a GPU, a BO and
 * a queue (docs/known-bugs.md).
 *
 * Setup: pid 100 (ptrace child of CRIU, pid 99) opens /dev/kfd and renderD128, acquires
 * the VM, allocates and maps a GTT ring BO and creates an AQL queue on it.
 *
 * Actions: the app creates a render-node BO without CPU access (GEM_MMAP of it fails, so a
 * dump of the render node aborts, spec §9.4) or closes handle 1; opens /dev/kfd a second
 * time (one kfd_process, two files: dumped twice, spec §6.2); CRIU dumps it; CRIU dumps it
 * and restores that dump into pid 200 (one action: a restore names the dump of the same
 * run, so both calls go together; offered while pid 200 does not exist).
 *
 * Bounds (src/explore/families/bounds.ts): `processes` applications, pid 100, 101, …, each
 * set up alike and offered the same actions but the restore (pid 100's dump alone is
 * restored into pid 200); `xccs`, the XCCs of the GPU (one by default; more make it an
 * MI300-like GC 9.4.3 partition, whose queues CHECKPOINT saves with one MQD per XCC); `bos`,
 * an AQL queue BO of each app at its ring's VA (none by default), whose MAP is offered: its
 * entry at `va + size` maps and the one at `va` conflicts with the ring (docs/conformance.md
 * "Kernel findings" 2, the variant kfd-map-failure).
 */
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { call, ONE_GPU } from './common.js';
import type { FamilyParts } from './index.js';
import { QUEUE_RING } from '../../mbt/sample-queue.js';
import { mapGttRing, openKfdWithVm, QUEUE_ARGS, SetupBuilder } from './kfd.js';
import { type Bounds, boundOf } from './bounds.js';

const APP = 100;
const CRIU = 99;
const RESTORED = 200;

/** The applications' pids under the `processes` bound: 100, 101, … */
const appPids = (bounds: Bounds) => Array.from({ length: boundOf('criu', bounds, 'processes')! }, (_, i) => APP + i);

/** An app's setup; the handle of its AQL BO over the ring when the `bos` bound asks for one. */
function setupApp(b: SetupBuilder, app: number, aqlBo: boolean): bigint | undefined {
  openKfdWithVm(b, app);
  mapGttRing(b, app);
  b.run('AMDKFD_IOC_CREATE_QUEUE', QUEUE_ARGS, app, 3);
  if (!aqlBo) return undefined;
  // Two 64 KiB entries: the one at va is the ring's range, the one at va + size is free.
  const aql = {
    flags: ['GTT', 'WRITABLE', 'AQL_QUEUE_MEM'],
    gpu_id: ONE_GPU.gpu_id,
    size: 131072,
    va_addr: QUEUE_RING,
  };
  return b.run('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', aql, app, 3).handle as bigint;
}

/** The actions of application `APP`; names of applications after the first say their pid. */
function appActions(app: number, first: boolean, aql: bigint | undefined): [string, Call][] {
  const actions: [string, Call][] = [
    [
      'GEM_CREATE without CPU access',
      call(
        'DRM_IOCTL_AMDGPU_GEM_CREATE',
        { bo_size: 4096, alignment: 4096, domains: ['VRAM'], domain_flags: ['NO_CPU_ACCESS'] },
        app,
        4,
      ),
    ],
    ['GEM_CLOSE 1', call('DRM_IOCTL_GEM_CLOSE', { handle: 1 }, app, 4)],
    ['open /dev/kfd again', call('open', { path: '/dev/kfd' }, app)],
    ['dump', call('criu.dump', { pid: app })],
  ];
  if (aql !== undefined)
    actions.push([
      'MAP the AQL BO over the ring',
      call('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { device_ids: [ONE_GPU.gpu_id], handle: aql }, app, 3),
    ]);
  return first ? actions : actions.map(([name, c]) => [`${name} (pid ${app})`, c]);
}

export function criuFamily(world: World, bounds: Bounds = {}): FamilyParts {
  const b = new SetupBuilder(world);
  const pids = appPids(bounds);
  const aqlBo = boundOf('criu', bounds, 'bos')! > 0;
  const aqls = pids.map((pid) => setupApp(b, pid, aqlBo));
  const fixed = pids.flatMap((pid, i) => appActions(pid, i === 0, aqls[i]));
  const actions = (w: World): Action[] => {
    const out: Action[] = fixed.map(([name, c]) => ({ name, calls: [c] }));
    if (!w.tasks[RESTORED]) {
      // the dump's object is the next one created (createObject: `<kind>#<next.object>`)
      const dump = `criu.dump#${w.next.object}`;
      out.push({
        name: 'dump, restore into 200',
        calls: [call('criu.dump', { pid: APP }), call('criu.restore', { dump, pid: RESTORED, criu: CRIU })],
      });
    }
    return out;
  };
  return { setup: b.calls, actions };
}

export function criuTopology(bounds: Bounds = {}) {
  const xccs = boundOf('criu', bounds, 'xccs')!;
  return {
    // a GPU of several XCCs is an MI300's partition (GC 9.4.3): CHECKPOINT saves an MQD per XCC
    gpus: [xccs === 1 ? ONE_GPU : { ...ONE_GPU, gc_version: '9.4.3', num_xcc: xccs }],
    processes: [...appPids(bounds), RESTORED].map((pid) => ({ pid, ptrace_parent: CRIU })),
  };
}
export const CRIU_TOPOLOGY = criuTopology();
