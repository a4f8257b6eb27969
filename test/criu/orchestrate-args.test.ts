/**
 * The orchestration's calls carry their arguments as the call's schema decodes them: the
 * Issuer takes arguments that are already decoded as they are (src/criu/orchestrate-common.ts),
 * so each recorded call's args must be exactly what decoding its log form gives back (the
 * same values, fields and field order), as the log and its replay read them.
 */
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import type { OrchestratedCall } from '../../src/criu/orchestrate.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs, encodeField } from '../../src/ioctls/schema.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { buildProcess } from '../bench/roundtrip.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';

/** A value as text with its types and key order (bigints, buffers) visible. */
function typed(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex')}` : x,
  );
}

function expectDecoded(calls: readonly OrchestratedCall[]): void {
  for (const c of calls) {
    const def = callDef(c.call)!;
    const again = decodeArgs(def.args, encodeField(undefined, c.args) as Record<string, unknown>, c.call);
    expect(typed(c.args), c.call).toBe(typed(again));
  }
}

describe('orchestrated calls carry decoded arguments', () => {
  it('dump and restore of the built-in scenario', () => {
    const r = roundtrip(scenarioWorld(), APP);
    expect(r.equivalent).toBe(true);
    expectDecoded(r.dump.calls);
    expectDecoded(r.restore!.calls);
    expect(r.restore!.calls.some((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && Array.isArray(c.args.bos))).toBe(true);
  });

  it('dump and restore of the round trip benchmark process (KFD BOs with content, a render-node BO)', () => {
    const r = roundtrip(buildProcess(130), 100, { inPlace: true });
    expect(r.equivalent).toBe(true);
    expectDecoded(r.dump.calls);
    expectDecoded(r.restore!.calls);
    expect(r.restore!.calls.filter((c) => c.call === 'gpu_write').length).toBeGreaterThan(1);
  });
});
