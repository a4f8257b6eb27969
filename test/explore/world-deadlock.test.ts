/**
 * The explorer's deadlock check (issue 7 item 2): a world that is not final and in which no
 * action changes anything is reported like a violation, with a shortest log to it.
 */
import { describe, expect, it } from 'vitest';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { DEADLOCK, exploreWorlds, worldModel } from '../../src/explore/world-explorer.js';
import { readLog } from '../../src/log/reader.js';
import { inState } from '../../src/world/objects.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Call, World } from '../../src/world/types.js';

const call = (name: string, args: Record<string, unknown>): Call => ({
  call: name,
  args: decodeArgs(callDef(name)!.args, args, 'args'),
});
const header = { gpucr: 1 as const, topology: parseTopology({ gpus: [] }, undefined), variants: {} };
const tt = (w: World) => Object.keys(w.objects).find((id) => w.objects[id]!.kind === 'ttm.tt')!;

function model(names: string[], final: (w: World) => boolean) {
  const m = worldModel(
    header,
    [call('ttm.create', { num_pages: 2, caching: 'wc', backup: true })],
    () => names.map((n) => ({ name: n, calls: [call(`ttm.${n}`, { tt: 1 })] })),
    [],
  );
  return { ...m, final };
}

describe('deadlock check', () => {
  it('a tt that fini destroyed can never be populated again: a deadlock after one action', () => {
    const populated = (w: World) => inState(w, tt(w), 'populated');
    const r = exploreWorlds(model(['populate', 'fini'], populated));
    expect(r.violation).not.toBeNull();
    expect(r.violation!.violations.map((v) => v.invariant)).toEqual([DEADLOCK]);
    expect(r.violation!.actions).toEqual(['fini']);
    const { events } = readLog(r.violation!.log, 'deadlock.jsonl');
    expect(events.map((e) => e.call)).toEqual(['ttm.create', 'ttm.fini']);
  });

  it('populate and unpopulate always progress: no deadlock', () => {
    const populated = (w: World) => inState(w, tt(w), 'populated');
    const r = exploreWorlds(model(['populate', 'unpopulate'], populated), { maxDepth: 4 });
    expect(r.violation).toBeNull();
    expect(r.states).toBeGreaterThan(1);
  });

  it('without final worlds there is no deadlock check', () => {
    const r = exploreWorlds({ ...model(['populate', 'fini'], () => false), final: undefined });
    expect(r.violation).toBeNull();
  });
});
