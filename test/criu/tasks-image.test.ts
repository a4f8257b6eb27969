/**
 * gpucr-core.json (src/criu/tasks-image.ts): written and read back, with the dumping world's GPUs
 * as a log header gives them; a bad field is an ImageError naming it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../src/criu/images/index.js';
import { CORE_IMAGE, type CoreTopology, readCoreImage, writeCoreImage } from '../../src/criu/tasks-image.js';
import { readLog } from '../../src/log/reader.js';

const core = {
  tasks: [
    { pid: 100, fds: [{ fd: 3, id: 3 }] },
    { pid: 101, fds: [{ fd: 0, id: 4 }] },
  ],
  memory: [{ pid: 100, gpu_id: 0x1001, addr: 0x7f0000000000n, content: { 0: 7, 3: 0xffff } }],
};

/** Two GPUs unlike the defaults in every field: an MI300X in SPX mode (8 XCCs) and an APU-like one. */
const topology: CoreTopology = {
  page_size: 4096,
  gpus: [
    {
      gpu_id: 0xa3e1,
      render_minor: 128,
      vram_size: 192n << 30n,
      doorbell_slice_size: 4096,
      xnack_capable: true,
      large_bar: true,
      is_apu: false,
      gpuvm_base: 0x20000n,
      mmio_remap_bus_addr: 0xfd000000n,
      gc_version: '9.4.3',
      num_xcc: 8,
      hive_id: 0x8a3f_1c2e_0000_0001n,
      properties: { device_id: 0x74a1, simd_count: 1216, fw_version: 151 },
    },
    {
      gpu_id: 0x5c17,
      render_minor: 129,
      vram_size: 0xffff_ffff_ffff_f000n,
      doorbell_slice_size: 8192,
      xnack_capable: false,
      large_bar: false,
      is_apu: true,
      gpuvm_base: 0x4000n,
      mmio_remap_bus_addr: 0n,
      gc_version: '11.0.3',
      num_xcc: 2,
      properties: { num_cp_queues: 8 },
    },
  ],
};

describe('gpucr-core.json', () => {
  it('reads back what was written (tasks, fds, userptr pages); a file without topology has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-'));
    writeCoreImage(dir, core);
    const back = readCoreImage(dir);
    expect(back).toEqual(core);
    expect(back).not.toHaveProperty('topology');
    expect(readCoreImage(mkdtempSync(join(tmpdir(), 'gpucr-none-')))).toBeUndefined();
  });

  it('a topology of two GPUs with their own gc_version, num_xcc, hive and properties reads back equal, in the same bytes each time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-topo-'));
    writeCoreImage(dir, { ...core, topology });
    const bytes = readFileSync(join(dir, CORE_IMAGE), 'utf8');
    expect(readCoreImage(dir)).toEqual({ ...core, topology });
    // the same dump writes the same bytes (a fresh copy of the input: no shared object order)
    writeCoreImage(dir, structuredClone({ ...core, topology }));
    expect(readFileSync(join(dir, CORE_IMAGE), 'utf8')).toBe(bytes);
  });

  it('the dumping world’s variants read back as written; a file without them has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-variants-'));
    const variants = { 'kfd-restore-mqd-size': 'num-xcc', resume: 'at-restore-file' } as const;
    writeCoreImage(dir, { ...core, topology, variants });
    expect(readCoreImage(dir)).toEqual({ ...core, topology, variants });
    writeCoreImage(dir, core);
    expect(readCoreImage(dir)).not.toHaveProperty('variants');
  });

  it('the topology is written as a log header gives it: read as a header, the GPUs are the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-header-'));
    writeCoreImage(dir, { ...core, topology });
    const written = (JSON.parse(readFileSync(join(dir, CORE_IMAGE), 'utf8')) as { topology: unknown }).topology;
    const { header } = readLog(`${JSON.stringify({ gpucr: 1, topology: written })}\n`, 'h.jsonl');
    expect(header.topology).toEqual({ ...topology, processes: [] });
  });

  it.each([
    ['not JSON', '{', 'file'],
    ['a negative pid', '{"tasks":[{"pid":-1,"fds":[]}],"memory":[]}', 'tasks[0].pid'],
    ['a repeated pid', '{"tasks":[{"pid":1,"fds":[]},{"pid":1,"fds":[]}],"memory":[]}', 'tasks[1].pid'],
    ['an fd that is not a number', '{"tasks":[{"pid":1,"fds":[{"fd":"3","id":3}]}],"memory":[]}', 'tasks[0].fds[0].fd'],
    ['a decimal address', '{"tasks":[],"memory":[{"pid":1,"gpu_id":1,"addr":"4096","pages":{}}]}', 'memory[0].addr'],
    [
      'a page value past u32',
      '{"tasks":[],"memory":[{"pid":1,"gpu_id":1,"addr":"0x0","pages":{"0":4294967296}}]}',
      'memory[0].pages.0',
    ],
    ['a topology that is not an object', '{"tasks":[],"memory":[],"topology":[]}', 'topology'],
    [
      'a GPU gc_version that is not major.minor.revision',
      '{"tasks":[],"memory":[],"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"gc_version":"9.x"}]}}',
      'topology.gpus[0].gc_version',
    ],
    [
      'a GPU of 17 XCCs',
      '{"tasks":[],"memory":[],"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"num_xcc":17}]}}',
      'topology.gpus[0].num_xcc',
    ],
    [
      'a GPU of hive 0 (a GPU without a hive has no hive_id)',
      '{"tasks":[],"memory":[],"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"hive_id":0}]}}',
      'topology.gpus[0].hive_id',
    ],
    [
      'processes in the topology (the tasks say which)',
      '{"tasks":[],"memory":[],"topology":{"gpus":[],"processes":[]}}',
      'topology.processes',
    ],
    ['a key the file does not have (topology misspelt)', '{"tasks":[],"memory":[],"topolgy":{"gpus":[]}}', 'topolgy'],
    ['a __proto__ key at the top', '{"tasks":[],"memory":[],"__proto__":{}}', '__proto__'],
    ['variants that are not an object', '{"tasks":[],"memory":[],"variants":"num-xcc"}', 'variants'],
    ['an unknown variant', '{"tasks":[],"memory":[],"variants":{"frob":"on"}}', 'variants.frob'],
    ['a variant named __proto__', '{"tasks":[],"memory":[],"variants":{"__proto__":"x"}}', 'variants.__proto__'],
    [
      'a variant value its variant does not have',
      '{"tasks":[],"memory":[],"variants":{"kfd-restore-mqd-size":"two-xcc"}}',
      'variants.kfd-restore-mqd-size',
    ],
  ])('%s → ImageError naming the field', (_what, text, field) => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-bad-'));
    writeFileSync(join(dir, CORE_IMAGE), text);
    let err: unknown;
    try {
      readCoreImage(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).field).toBe(field);
    expect((err as ImageError).message).toMatch(
      new RegExp(`^${CORE_IMAGE}: ${field.replace(/[.[\]]/g, '\\$&')}: expected `),
    );
  });
});
