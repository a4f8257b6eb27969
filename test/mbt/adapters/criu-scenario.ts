/** The built-in scenario's world (src/scenarios/rocm-two-gpus.ts), replayed, for the CRIU tests. */
import { expect } from 'vitest';
import '../../../src/ioctls/all.js';
import { readLog } from '../../../src/log/reader.js';
import { Replayer } from '../../../src/log/replay.js';
import { rocmTwoGpus } from '../../../src/scenarios/rocm-two-gpus.js';
import type { World } from '../../../src/world/types.js';

export function scenarioWorld(): World {
  const s = rocmTwoGpus();
  const text = [JSON.stringify(s.header), ...s.events.map((e) => JSON.stringify(e))].join('\n');
  const { header, events } = readLog(text, 'scenario');
  const rp = new Replayer(header, 'scenario', new Set(events.map((e) => e.line)));
  for (const ev of events) expect(rp.feed(ev)).toBeUndefined();
  return rp.world;
}
