/**
 * A GPU's KFD topology properties in the log header (`properties`, docs/log-format.md
 * "topology"): read strictly, kept through header encoding and snapshots, recorded by a dump in
 * each kfd_device_entry (spec §9.4 g) and compared by the restore's GPU remapping
 * (`device_properties_match`, spec §9.10).
 */
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { headerGpuOfEntry } from '../../src/criu/restore-maps.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { encodeHeader } from '../../src/log/writer.js';
import { DEFAULT_DEVICE_PROPERTIES } from '../../src/world/topology.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';
import { restoredDevices } from './restored-devices.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';

const header = (gpu: object) =>
  JSON.stringify({ gpucr: 1, topology: { gpus: [{ gpu_id: 0x1001, render_minor: 128, ...gpu }] } });

/** The scenario's world with its GPUs' properties changed by `f`. */
function withProperties(f: (i: number) => Record<string, number> | undefined) {
  const w = scenarioWorld();
  w.topology.gpus.forEach((g, i) => {
    const p = f(i);
    if (p) g.properties = p;
  });
  return w;
}

describe('docs/log-format.md topology: a GPU’s properties', () => {
  it('read as given, kept by the header encoding and by a snapshot', () => {
    const { header: h } = readLog(`${header({ properties: { device_id: '0x73bf', fw_version: 2 } })}\n`, 'p.jsonl');
    expect(h.topology.gpus[0]!.properties).toEqual({ device_id: 0x73bf, fw_version: 2 });
    const again = readLog(`${JSON.stringify(encodeHeader(h))}\n`, 'again.jsonl').header;
    expect(again.topology).toEqual(h.topology);
    const w = withProperties(() => ({ device_id: 0x73bf }));
    expect(restoreSnapshot(snapshotText(w)).topology).toEqual(w.topology);
    // a GPU without properties has no key at all: the bytes of earlier logs and snapshots stay
    expect(Object.hasOwn(readLog(`${header({})}\n`, 'q.jsonl').header.topology.gpus[0]!, 'properties')).toBe(false);
  });

  it('bad input names the property: an unknown key, a value that is not a u32', () => {
    const err = (gpu: object) => {
      try {
        readLog(`${header(gpu)}\n`, 'p.jsonl');
      } catch (e) {
        return (e as LogError).message;
      }
      return 'no error';
    };
    expect(err({ properties: { device: 1 } })).toContain('topology.gpus[0].properties.device: expected one of');
    expect(err({ properties: { simd_count: -1 } })).toContain(
      'topology.gpus[0].properties.simd_count: expected an unsigned 32-bit integer, found -1',
    );
    expect(err({ properties: [] })).toContain('topology.gpus[0].properties: expected an object');
  });
});

describe('spec §9.4 g, §9.10: the dump records the properties, the restore maps by them', () => {
  it('spec §9.4 g (save_devices): each device entry carries its GPU’s properties over the defaults', () => {
    const w = withProperties((i) => ({ device_id: 0x7000 + i, fw_version: 5 }));
    const r = roundtrip(w, APP);
    const entries = r.dump.images.kfd[0]!.kfd.device_entries;
    expect(entries.map((e) => [e.gpu_id, e.device_id, e.fw_version, e.simd_count])).toEqual(
      w.topology.gpus.map((g, i) => [g.gpu_id, 0x7000 + i, 5, DEFAULT_DEVICE_PROPERTIES.simd_count]),
    );
    // the CLI's restore world of these images: the same GPUs, properties included
    expect(entries.map(headerGpuOfEntry).map((g) => g.properties)).toEqual([
      { device_id: 0x7000, fw_version: 5 },
      { device_id: 0x7001, fw_version: 5 },
    ]);
    expect(r.differences).toEqual([]);
  });

  it('spec §9.10 (device_properties_match): another device_id on the local GPU fails the map, same ids or not', () => {
    const w = scenarioWorld();
    const topology = {
      ...w.topology,
      gpus: w.topology.gpus.map((g, i) => (i === 0 ? { ...g, properties: { device_id: 0x1234 } } : g)),
    };
    expect(roundtrip(w, APP, { topology }).restore?.failure).toMatch(/^Failed to map GPUs: /);
  });

  it('spec §9.10: GPUs told apart by device_id restore each onto the local GPU of its kind, whatever the ids', () => {
    const w = withProperties((i) => ({ device_id: 0x7000 + i }));
    const [a, b] = w.topology.gpus.map((g) => g.gpu_id) as [number, number];
    // the local system: the same ids, the device ids swapped
    const topology = {
      ...w.topology,
      gpus: w.topology.gpus.map((g, i) => ({ ...g, properties: { device_id: 0x7001 - i } })),
    };
    const r = roundtrip(w, APP, { topology });
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
    expect(new Map(restoredDevices(r).map((d) => [d.user_gpu_id, d.actual_gpu_id]))).toEqual(
      new Map([
        [a, b],
        [b, a],
      ]),
    );
  });

  it('spec §9.10 (KFD_FW_VER_CHECK): an older local firmware fails unless the check is off', () => {
    const w = withProperties(() => ({ fw_version: 9 }));
    const topology = { ...w.topology, gpus: w.topology.gpus.map((g) => ({ ...g, properties: { fw_version: 8 } })) };
    expect(roundtrip(w, APP, { topology }).restore?.failure).toMatch(/^Failed to map GPUs: /);
    expect(roundtrip(w, APP, { topology, remap: { fwVersionCheck: false } }).restore?.failure).toBeNull();
  });
});
