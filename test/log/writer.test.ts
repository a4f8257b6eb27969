import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { canonicalJson } from '../../src/log/canonical.js';
import { readLog } from '../../src/log/reader.js';
import { referencedLines } from '../../src/log/refs.js';
import { Replayer, replay, replayFile } from '../../src/log/replay.js';
import { encodeHeader, encodeValue, formatRecord, LogWriter } from '../../src/log/writer.js';
import { tempDir } from '../cli/helpers.js';

const DEMO = readFileSync(new URL('../../docs/examples/kfd-checkpoint-two-gpus.jsonl', import.meta.url), 'utf8');

describe('formatRecord: one stable line per event', () => {
  it('writes keys in the order pid, call, fd, args, ret, out, by, and args in C struct order', () => {
    const line = formatRecord(
      {
        pid: 99,
        call: 'AMDKFD_IOC_CRIU_OP',
        fd: { pid: 100, fd: 3 },
        // Decoded as the reader decodes a line: every field of the struct, zero or NULL.
        args: decodeArgs(callDef('AMDKFD_IOC_CRIU_OP')!.args, { op: 'PROCESS_INFO' }, 'args'),
      },
      { ret: 0, out: { pid: 100, num_devices: 2, priv_data_size: 4288n } },
      7,
    );
    expect(Object.keys(JSON.parse(line))).toEqual(['pid', 'call', 'fd', 'args', 'ret', 'out', 'by']);
    const rec = JSON.parse(line) as { fd: string; args: Record<string, unknown>; out: Record<string, unknown> };
    expect(rec.fd).toBe('100:3');
    // criuArgsSchema order (struct kfd_ioctl_criu_args), with the fields the call left out zero/NULL.
    expect(Object.keys(rec.args)).toEqual([
      'devices',
      'bos',
      'priv_data',
      'priv_data_size',
      'num_devices',
      'num_bos',
      'num_objects',
      'pid',
      'op',
    ]);
    expect(rec.args.op).toBe('PROCESS_INFO');
    // out in the call's out order, whatever order the handler built it in.
    expect(Object.keys(rec.out)).toEqual(['priv_data_size', 'num_devices', 'pid']);
  });

  it('encodes u64 beyond 2^53-1 as 0x strings, byte buffers as hex, flag words by name', () => {
    const line = formatRecord(
      {
        pid: 1,
        call: 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
        fd: 3,
        args: { va_addr: 0x7f0000000000n, size: 2n ** 60n, handle: 0n, mmap_offset: 0n, gpu_id: 5, flags: 0x80000001 },
      },
      { ret: 0, out: { handle: 0xa3ee00000001n, mmap_offset: 4096n } },
    );
    const rec = JSON.parse(line) as { args: Record<string, unknown>; out: Record<string, unknown> };
    expect(rec.args.size).toBe('0x1000000000000000');
    expect(rec.args.va_addr).toBe(0x7f0000000000);
    expect(rec.args.flags).toEqual(['VRAM', 'WRITABLE']);
    expect(rec.out).toEqual({ handle: 0xa3ee00000001, mmap_offset: 4096 });
    const bytes = formatRecord(
      { pid: 1, call: 'AMDKFD_IOC_CRIU_OP', fd: 3, args: { op: 1, priv_data: Uint8Array.from([1, 0, 255]) } },
      { ret: 0, out: {} },
    );
    expect((JSON.parse(bytes) as { args: { priv_data: string } }).args.priv_data).toBe('0100ff');
  });

  it('the same flag word and enumeration twice: the same names, and a list a caller changes is its own', () => {
    const type = { t: 'struct', fields: callDef('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU')!.args } as const;
    const first = encodeValue(type, { flags: 0x80000001 }, true) as { flags: string[] };
    expect(first.flags).toEqual(['VRAM', 'WRITABLE']);
    first.flags.push('changed by the caller');
    const again = encodeValue(type, { flags: 0x80000001 }, true) as { flags: string[] };
    expect(again.flags).toEqual(['VRAM', 'WRITABLE']);
    const q = { t: 'struct', fields: callDef('AMDKFD_IOC_CREATE_QUEUE')!.args } as const;
    for (let i = 0; i < 2; i++) expect(encodeValue(q, { queue_type: 2 }, true)).toEqual({ queue_type: 'COMPUTE_AQL' });
  });

  it('keys outside the schema come after its fields, sorted; a __proto__ key stays an own key', () => {
    const type = { t: 'struct', fields: callDef('AMDKFD_IOC_DESTROY_EVENT')!.args } as const;
    const v = JSON.parse('{"zeta":1,"__proto__":{"x":2},"event_id":3,"alpha":4}') as Record<string, unknown>;
    const out = encodeValue(type, v, true) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['event_id', '__proto__', 'alpha', 'zeta']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"event_id":3,"__proto__":{"x":2},"alpha":4,"zeta":1}');
  });

  it('a flag word with a bit that has no name stays a number', () => {
    const rec = JSON.parse(
      formatRecord(
        { pid: 1, call: 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', fd: 3, args: { flags: 1 << 20 } },
        { ret: 0, out: {} },
      ),
    ) as { args: { flags: unknown } };
    expect(rec.args.flags).toBe(1 << 20);
  });
});

describe('LogWriter', () => {
  it('records a replayed log whose every line carries ret and out, and which replays with every assertion holding', async () => {
    const { header, events } = readLog(DEMO, 'demo');
    const rp = new Replayer(header, 'demo', referencedLines(events));
    const path = join(tempDir('gpucr-writer-'), 'recorded.jsonl');
    const w = LogWriter.create(path, encodeHeader(header), { syncEvery: 8 });
    for (const ev of events) {
      const r = rp.apply(ev);
      expect(w.append(rp.lastCall!, r, ev.by)).toBe(ev.line);
    }
    w.close();
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const read = readLog(text, path, { requireNewline: true });
    expect(read.events.length).toBe(events.length);
    for (const ev of read.events) {
      expect(ev.ret, `line ${ev.line}`).toBeDefined();
      expect(ev.out, `line ${ev.line}`).toBeDefined();
    }
    const rep = await replayFile(path);
    expect(rep.ok).toBe(true);
    expect(rep.events).toBe(events.length);
    // The same world as the original log's replay.
    expect(canonicalJson(rep.world)).toBe(canonicalJson(replay(header, events).world));
    // The header round-trips: same topology and variants.
    expect(canonicalJson(read.header)).toBe(canonicalJson(header));
  });

  it('reports a batch durable only after it is written, every syncEvery records and on flush and close', () => {
    const path = join(tempDir('gpucr-writer-'), 'batches.jsonl');
    const durable: number[] = [];
    const w = LogWriter.create(
      path,
      { gpucr: 1, topology: { gpus: [] } },
      {
        syncEvery: 3,
        onDurable: (line) => {
          durable.push(line);
          // Everything reported durable is in the file, each record with its newline.
          const lines = readFileSync(path, 'utf8').split('\n');
          expect(lines.length - 1).toBeGreaterThanOrEqual(line);
        },
      },
    );
    const ev = { pid: 1, call: 'open', args: { path: '/dev/kfd' } };
    for (let i = 0; i < 7; i++) w.append(ev, { ret: 0, out: { fd: 3 } });
    expect(durable).toEqual([4, 7]);
    w.append(ev, { ret: 0, out: { fd: 3 } });
    w.flush();
    expect(durable).toEqual([4, 7, 9]);
    w.flush(); // nothing new: no report
    w.close();
    expect(durable).toEqual([4, 7, 9]);
    expect(() => w.append(ev, { ret: 0, out: {} })).toThrow(/after close/);
    expect(readFileSync(path, 'utf8').split('\n').length - 1).toBe(9);
  });

  it('refuses a record that is not one line; create truncates; append continues a log', () => {
    const path = join(tempDir('gpucr-writer-'), 'lines.jsonl');
    const w = LogWriter.create(path, { gpucr: 1, topology: { gpus: [] } });
    expect(() => w.appendLine('{"a":1}\n{"b":2}')).toThrow(/one line/);
    w.appendLine('{"pid":1,"call":"open","args":{"path":"/dev/kfd"},"ret":0,"out":{"fd":3}}');
    w.close();
    const again = LogWriter.append(path, 2);
    expect(again.appendLine('{"pid":1,"call":"close","args":{"fd":3},"ret":0,"out":{}}')).toBe(3);
    again.close();
    expect(readLog(readFileSync(path, 'utf8'), path, { requireNewline: true }).events.map((e) => e.call)).toEqual([
      'open',
      'close',
    ]);
    LogWriter.create(path, { gpucr: 1, topology: { gpus: [] } }).close();
    expect(readFileSync(path, 'utf8')).toBe('{"gpucr":1,"topology":{"gpus":[]}}\n');
  });

  it('maxWrite splits a batch into small writes and still writes every byte', () => {
    const path = join(tempDir('gpucr-writer-'), 'small.jsonl');
    const w = LogWriter.create(path, { gpucr: 1, topology: { gpus: [] } }, { maxWrite: 5, syncEvery: 2 });
    for (let i = 0; i < 5; i++)
      w.append({ pid: 1 + i, call: 'open', args: { path: '/dev/kfd' } }, { ret: 0, out: { fd: 3 } });
    w.close();
    const read = readLog(readFileSync(path, 'utf8'), path, { requireNewline: true });
    expect(read.events.map((e) => e.pid)).toEqual([1, 2, 3, 4, 5]);
  });
});
