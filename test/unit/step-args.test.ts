/**
 * `applyInPlace` and `step` hand the handler a copy of the call's argument struct, but not of
 * its byte buffers (src/world/step.ts: the CRIU ops' priv_data stands for user memory behind a
 * pointer, which handlers read or replace and never write into). These tests hold the
 * handlers to that: every call of a dump and of a restore — CHECKPOINT writing priv_data,
 * RESTORE reading it — is applied again from the same starting world and must leave the
 * caller's arguments, bytes included, exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import type { OrchestratedCall } from '../../src/criu/orchestrate.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';
import { applyInPlace, step } from '../../src/world/step.js';
import type { Call, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';
import { readLog } from '../../src/log/reader.js';
import { generateBenchLog } from '../bench/gen-log.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';

/** A value as text with its types visible (bigints, byte buffers by content). */
function typed(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex')}` : x,
  );
}

/** The recorded calls as fresh calls whose args are deep copies (the recorded ones stay untouched). */
function asCalls(calls: readonly OrchestratedCall[]): Call[] {
  return calls.map((c) => {
    const call: Call = { call: c.call, args: structuredClone(c.args) };
    if (c.pid !== undefined) call.pid = c.pid;
    if (c.fd !== undefined) call.fd = c.fd;
    return call;
  });
}

/** Applies `calls` to `w` in order, checking each call's args afterwards and each result against the recording. */
function applyChecked(w: World, calls: Call[], recorded: readonly OrchestratedCall[], how: 'inPlace' | 'step'): World {
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!;
    const before = typed(c.args);
    let ret: number;
    if (how === 'inPlace') ret = applyInPlace(w, c).ret;
    else {
      const r = step(w, c);
      w = r.world;
      ret = r.ret;
    }
    expect(ret, `${c.call} (call ${i})`).toBe(recorded[i]!.ret);
    expect(typed(c.args), `${c.call} (call ${i}) changed its args`).toBe(before);
  }
  return w;
}

describe('a call leaves its arguments as the caller gave them: the ioctls of a replay', () => {
  it('ALLOC, MAP and UNMAP (which fill in n_devices and n_success), FREE, queues (ring_size raised to 1024), events', () => {
    const lines = generateBenchLog(400, 20).lines;
    // A ring smaller than KFD_MIN_QUEUE_RING_SIZE, which CREATE_QUEUE raises in its kdata.
    const text = `${lines.join('\n').replaceAll('"ring_size":4096', '"ring_size":512')}\n`;
    expect(text).toContain('"ring_size":512');
    const { header, events } = readLog(text, 'bench.jsonl');
    for (const how of ['inPlace', 'step'] as const) {
      let w = createWorld(header.topology, header.variants);
      for (const ev of events) {
        const c: Call = { call: ev.call, args: ev.args!, pid: ev.pid! };
        if (ev.fd !== undefined) c.fd = ev.fd;
        const before = typed(c.args);
        const r = how === 'inPlace' ? applyInPlace(w, c) : step(w, c);
        if (how === 'step') w = (r as ReturnType<typeof step>).world;
        expect(r.ret, `line ${ev.line} ${ev.call} (${how})`).toBe(ev.ret);
        expect(typed(c.args), `line ${ev.line} ${ev.call} changed its args (${how})`).toBe(before);
      }
    }
  });
});

describe('a call leaves its arguments as the caller gave them (byte buffers are shared, not copied)', () => {
  const r = roundtrip(scenarioWorld(), APP);
  const dumpCalls = r.dump.calls;
  const restoreCalls = r.restore!.calls;

  it('the dump and the restore include CRIU_OP calls with priv_data buffers', () => {
    const withBytes = [...dumpCalls, ...restoreCalls].filter(
      (c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.priv_data instanceof Uint8Array,
    );
    expect(withBytes.map((c) => c.args.op)).toEqual(
      expect.arrayContaining([KFD_CRIU_OP.CHECKPOINT, KFD_CRIU_OP.RESTORE]),
    );
  });

  it.each(['inPlace', 'step'] as const)('the dump’s calls applied again (%s)', (how) => {
    applyChecked(scenarioWorld(), asCalls(dumpCalls), dumpCalls, how);
  });

  it.each(['inPlace', 'step'] as const)('the restore’s calls applied again to a fresh world (%s)', (how) => {
    const fresh = createWorld(r.restored!.topology, r.restored!.variants);
    // the criu.restore stage object is the one object the plain calls do not create
    fresh.next.object += 1;
    applyChecked(fresh, asCalls(restoreCalls), restoreCalls, how);
  });
});
