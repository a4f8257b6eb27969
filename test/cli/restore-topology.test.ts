/**
 * `gpucr restore --topology` and `gpucr roundtrip --topology` with the plugin's KFD_*_CHECK
 * variables (src/cli/criu.ts, src/criu/restore-maps.ts): the restore maps the images' GPUs
 * onto the local ones as set_restore_gpu_maps does (spec §9.5 step 3.3, §9.10), the switches
 * go into the written log, and bad input is exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';
import { runCli } from './in-process.js';

const gpucr = (...args: string[]) => runCli(args);
const dir = mkdtempSync(join(tmpdir(), 'gpucr-remap-'));
const demoLines = runDemo().lines;
const demo = join(dir, 'demo.jsonl');
writeFileSync(demo, `${demoLines.join('\n')}\n`);
/** The demo's GPUs, as its header gives them. */
const GPUS = (JSON.parse(demoLines[0]!) as { topology: { gpus: { gpu_id: number; render_minor: number }[] } }).topology
  .gpus;
const imgs = join(dir, 'imgs');

function topologyFile(name: string, gpus: object[]): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify({ gpus }));
  return f;
}

/** The devices of the CRIU_OP(RESTORE) line of a written restore log. */
function restoredDevices(log: string): { user_gpu_id: number; actual_gpu_id: number }[] {
  const { events } = readLog(readFileSync(log, 'utf8'), log);
  const restore = events.find((e) => e.call === 'AMDKFD_IOC_CRIU_OP' && e.args?.op === KFD_CRIU_OP.RESTORE)!;
  return restore.args!.devices as { user_gpu_id: number; actual_gpu_id: number }[];
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('gpucr restore --topology (spec §9.5 step 3.3, §9.10)', () => {
  it('checkpoint of the demo, for the restores below', async () => {
    expect(GPUS.length).toBe(2);
    expect((await gpucr('checkpoint', demo, '--pid', '100', '-D', imgs)).code).toBe(0);
  });

  it('spec §9.10: onto GPUs with other ids the restore maps them, and its log replays', async () => {
    const other = GPUS.map((g, i) => ({ gpu_id: 0x7001 + i, render_minor: 140 + i }));
    const log = join(dir, 'moved.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--topology', topologyFile('other.json', other), '--log', log);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const devices = restoredDevices(log);
    expect(devices.map((d) => d.user_gpu_id).sort()).toEqual(GPUS.map((g) => g.gpu_id).sort());
    expect(devices.map((d) => d.actual_gpu_id).sort()).toEqual([0x7001, 0x7002]);
    // the map is printed, one line per restored /dev/kfd, as the buckets carry it
    const hex = (n: number) => `0x${n.toString(16)}`;
    expect(r.stdout).toContain(
      `  pid 100: gpu ${devices.map((d) => `${hex(d.user_gpu_id)} → ${hex(d.actual_gpu_id)}`).join(', ')}\n`,
    );
    const { header, events } = readLog(readFileSync(log, 'utf8'), log);
    expect(replay(header, events).ok).toBe(true);
  });

  it("spec §9.10: one GPU fewer fails the map, exit 1 with the plugin's reason", async () => {
    const r = await gpucr('restore', '-D', imgs, '--topology', topologyFile('one.json', [GPUS[0]!]));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Failed to map GPUs: Number of devices mismatch (checkpointed:2 local:1)');
  });

  it('spec §9.10: less VRAM fails unless KFD_VRAM_SIZE_CHECK=0, which the log records and its replay needs', async () => {
    const small = topologyFile(
      'small.json',
      GPUS.map((g) => ({ ...g, vram_size: '0x10000000' })),
    );
    expect((await gpucr('restore', '-D', imgs, '--topology', small)).code).toBe(1);
    vi.stubEnv('KFD_VRAM_SIZE_CHECK', '0');
    const log = join(dir, 'small.jsonl');
    expect((await gpucr('restore', '-D', imgs, '--topology', small, '--log', log)).code).toBe(0);
    const text = readFileSync(log, 'utf8');
    const { header, events } = readLog(text, log);
    expect(events[0]!.args!.env).toEqual(['KFD_VRAM_SIZE_CHECK=0']);
    expect(replay(header, events).ok).toBe(true);
    // without the switch the replayed restore fails the map where the log says it succeeded
    const stripped = readLog(text.replace('"env":["KFD_VRAM_SIZE_CHECK=0"]', '"env":[]'), log);
    const rep = replay(stripped.header, stripped.events);
    expect(rep.ok).toBe(false);
    expect(rep.divergence?.line).toBe(2);
  });

  it('gpucr roundtrip --topology restores onto the other GPUs and compares under the user ids', async () => {
    const other = GPUS.map((g, i) => ({ gpu_id: 0x6001 + i, render_minor: 150 + i }));
    const r = await gpucr('roundtrip', demo, '--pid', '100', '--topology', topologyFile('rt.json', other));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^equivalent/);
    const one = await gpucr('roundtrip', demo, '--pid', '100', '--topology', topologyFile('rt1.json', [other[0]!]));
    expect(one.code).toBe(1);
    expect(one.stdout).toContain('restore failed: Failed to map GPUs');
  });

  it('spec §9.10: images of GPUs with other properties restore onto those GPUs (the restore world takes them from the dump), and the log keeps them', async () => {
    const props = join(dir, 'props.jsonl');
    const [head, ...rest] = demoLines;
    const h = JSON.parse(head!) as { topology: { gpus: Record<string, unknown>[] } };
    h.topology.gpus.forEach((g, i) => (g.properties = { device_id: 0x7300 + i, fw_version: 7 }));
    writeFileSync(props, `${[JSON.stringify(h), ...rest].join('\n')}\n`);
    const pimgs = join(dir, 'pimgs');
    expect((await gpucr('checkpoint', props, '--pid', '100', '-D', pimgs)).code).toBe(0);
    const log = join(dir, 'props-restore.jsonl');
    const r = await gpucr('restore', '-D', pimgs, '--log', log);
    expect(r.stdout).toMatch(/done/);
    expect(r.code).toBe(0);
    const { header, events } = readLog(readFileSync(log, 'utf8'), log);
    expect(header.topology.gpus.map((g) => g.properties)).toEqual([
      { device_id: 0x7300, fw_version: 7 },
      { device_id: 0x7301, fw_version: 7 },
    ]);
    expect(replay(header, events).ok).toBe(true);
    // the default GPUs of --topology are other devices: no map
    const plain = await gpucr('restore', '-D', pimgs, '--topology', topologyFile('plain.json', GPUS));
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('Failed to map GPUs');
  });

  it('bad input is exit 2 naming where: a switch value, the topology file, a GPU of it, an env entry of a log', async () => {
    vi.stubEnv('KFD_VRAM_SIZE_CHECK', 'maybe');
    const env = await gpucr('restore', '-D', imgs);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('environment[0]: expected 0, 1, YES or NO');
    vi.unstubAllEnvs();
    const missing = await gpucr('restore', '-D', imgs, '--topology', join(dir, 'none.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('none.json');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"gpus": [');
    expect((await gpucr('restore', '-D', imgs, '--topology', broken)).stderr).toContain('expected a JSON topology');
    const zero = await gpucr(
      'restore',
      '-D',
      imgs,
      '--topology',
      topologyFile('zero.json', [{ gpu_id: 0, render_minor: 128 }]),
    );
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('zero.json: topology.gpus[0].gpu_id');
    for (const r of [missing, zero]) expect(r.stderr).not.toMatch(/\n\s+at /);
    // a log whose criu.restore names an unknown switch
    const log = join(dir, 'moved.jsonl');
    const bad = join(dir, 'bad-env.jsonl');
    writeFileSync(bad, readFileSync(log, 'utf8').replace('"env":[]', '"env":["KFD_BOGUS_CHECK=1"]'));
    const rep = await gpucr('replay', bad);
    expect(rep.code).toBe(2);
    expect(rep.stderr).toContain('args.env[0]');
  });
});
