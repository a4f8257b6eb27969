/**
 * `gpucr demo`: the README's main job. Replays the built-in ROCm-like two-GPU
 * scenario (src/scenarios/rocm-two-gpus.ts) through the handlers and prints what
 * CRIU's PROCESS_INFO → CHECKPOINT → UNPAUSE got: device buckets, BO buckets and
 * the size of the kernel's priv_data blob. Then the CRIU orchestration dumps the
 * process into the amdgpu plugin's images, restores them into a fresh world, and
 * checks that the restored process is the same.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { encodeField } from '../ioctls/schema.js';
import { retName } from '../log/format.js';
import { readLog } from '../log/reader.js';
import { referencedLines } from '../log/refs.js';
import { Replayer } from '../log/replay.js';
import { writeImageDir } from '../criu/images/index.js';
import { roundtrip } from '../criu/roundtrip.js';
import { APP, rocmTwoGpus } from '../scenarios/rocm-two-gpus.js';
import type { World } from '../world/types.js';
import { flagNames, KFD_INVALID_FD, KFD_IOC_ALLOC_MEM_FLAGS } from '../uapi/index.js';
import { stableJson } from './output.js';

const hex = (v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v));

/** The scenario as log text (no assertions), then replayed keeping every result. */
export function runDemo(): {
  lines: string[];
  results: { line: number; call: string; ret: number; out: Record<string, unknown> }[];
  world: World;
} {
  const s = rocmTwoGpus();
  const text = [JSON.stringify(s.header), ...s.events.map((e) => JSON.stringify(e))].join('\n');
  const { header, events } = readLog(text, '<demo>');
  const rp = new Replayer(header, '<demo>', new Set([...referencedLines(events), ...events.map((e) => e.line)]));
  const results: { line: number; call: string; ret: number; out: Record<string, unknown> }[] = [];
  for (const ev of events) {
    rp.feed(ev);
    results.push({ line: ev.line, call: ev.call, ret: rp.last!.ret, out: rp.last!.out });
  }
  const lines = [JSON.stringify(s.header)];
  s.events.forEach((e, i) => {
    const r = results[i]!;
    lines.push(stableJson({ ...e, ret: r.ret, out: encodeField(undefined, r.out) }));
  });
  return { lines, results, world: rp.world };
}

/** Dump the demo process with the CRIU orchestration, restore it into a fresh world, compare. */
function fullRoundtrip(world: World, dir: string): { lines: string[]; equivalent: boolean } {
  const rt = roundtrip(world, APP);
  const say: string[] = [];
  if (!rt.dump.ok) return { lines: [`criu dump failed: ${rt.dump.failure}`], equivalent: false };
  const files = writeImageDir(join(dir, 'images'), rt.dump.images, { pageSize: world.topology.page_size });
  const format = (calls: { call: string; ret: number }[]) =>
    calls.map((c, i) => `${i + 1} ${c.call} ${retName(c.ret)}`).join('\n');
  writeFileSync(join(dir, 'dump-calls.txt'), `${format(rt.dump.calls)}\n`);
  if (rt.restore) writeFileSync(join(dir, 'restore-calls.txt'), `${format(rt.restore.calls)}\n`);
  say.push(
    `CRIU dump (criu.dump): ${rt.dump.calls.length} ioctls issued, ${files.length} image files in ${join(dir, 'images')}`,
    `CRIU restore into a fresh world (criu.restore): ${rt.restore ? `${rt.restore.calls.length} ioctls issued, ${rt.restore.ok ? 'completed' : `failed: ${rt.restore.failure}`}` : 'not run'}`,
    rt.equivalent
      ? 'round trip: the restored process is equivalent to the dumped one (handles, sizes, flags, addresses, mappings, queues, events, content, vram_usage)'
      : `round trip: NOT equivalent:\n  ${rt.differences.join('\n  ')}`,
    `logs: ${join(dir, 'checkpoint.jsonl')} (the scenario with every result), ${join(dir, 'dump-calls.txt')}, ${join(dir, 'restore-calls.txt')}`,
  );
  return { lines: say, equivalent: rt.equivalent };
}

interface Bucket {
  addr: bigint;
  size: bigint;
  offset: bigint;
  gpu_id: number;
  alloc_flags: number;
  dmabuf_fd: number;
}

/** One replayed event of the demo with its result. */
type DemoResult = ReturnType<typeof runDemo>['results'][number];

/** What CRIU got from PROCESS_INFO (`info`) and CHECKPOINT (`ckpt`): counts, device and BO buckets, priv_data's size. */
function checkpointLines(info: DemoResult, ckpt: DemoResult): string[] {
  const lines = [
    `PROCESS_INFO (line ${info.line}): pid ${info.out.pid}, ${info.out.num_devices} devices, ${info.out.num_bos} BOs, ` +
      `${info.out.num_objects} objects, priv_data_size ${info.out.priv_data_size}`,
    `CHECKPOINT (line ${ckpt.line}): ${retName(ckpt.ret)}`,
    '  device buckets:',
  ];
  for (const d of ckpt.out.devices as { user_gpu_id: number; actual_gpu_id: number }[])
    lines.push(`    user_gpu_id ${hex(d.user_gpu_id)}  actual_gpu_id ${hex(d.actual_gpu_id)}`);
  lines.push('  BO buckets:');
  for (const b of ckpt.out.bos as Bucket[]) {
    const flags = flagNames(KFD_IOC_ALLOC_MEM_FLAGS, b.alloc_flags).join('|');
    const fd = b.dmabuf_fd === KFD_INVALID_FD ? '-' : String(b.dmabuf_fd);
    lines.push(
      `    gpu ${hex(b.gpu_id)}  addr ${hex(b.addr)}  size ${hex(b.size)}  offset ${hex(b.offset)}  dmabuf_fd ${fd}  ${flags}`,
    );
  }
  lines.push(`  priv_data: ${(ckpt.out.priv_data as Uint8Array).length} bytes`);
  return lines;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('replay the built-in two-GPU ROCm-like process and checkpoint it with CRIU_OP')
    .option('--log <file>', 'write the recorded log (every event with its ret and out)')
    .option(
      '-D, --dir <dir>',
      'where to write the images and logs of the round trip (default: a new temporary directory)',
    )
    .option('--json', 'print the checkpoint result as JSON')
    .action((opts: { log?: string; json?: boolean; dir?: string }) => {
      const { lines, results, world } = runDemo();
      if (opts.log) writeFileSync(opts.log, `${lines.join('\n')}\n`);
      const failed = results.filter((r) => r.ret !== 0);
      const info = results.find((r) => r.call === 'AMDKFD_IOC_CRIU_OP' && r.out.pid !== undefined && !r.out.bos)!;
      const ckpt = results.filter((r) => r.call === 'AMDKFD_IOC_CRIU_OP').find((r) => Array.isArray(r.out.bos))!;
      if (opts.json) {
        process.stdout.write(
          `${stableJson(encodeField(undefined, { process_info: info.out, checkpoint: ckpt.out, failed }))}\n`,
        );
        process.exitCode = failed.length ? 1 : 0;
        return;
      }
      const say = (s: string) => process.stdout.write(`${s}\n`);
      say(`gpucr demo: ${results.length} events replayed, ${failed.length} failed`);
      for (const f of failed) say(`  line ${f.line} ${f.call}: ${retName(f.ret)}`);
      for (const l of checkpointLines(info, ckpt)) say(l);
      if (opts.log) say(`recorded log: ${opts.log}`);
      const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gpucr-demo-'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'checkpoint.jsonl'), `${lines.join('\n')}\n`);
      const rt = fullRoundtrip(world, dir);
      for (const l of rt.lines) say(l);
      process.exitCode = failed.length || !rt.equivalent ? 1 : 0;
    });
}
