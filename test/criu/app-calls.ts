/**
 * An application's calls for tests that build a process by hand: one call of the given
 * task, its arguments in the log's form (decoded by the call's schema), that must succeed.
 */
import { expect } from 'vitest';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace } from '../../src/world/step.js';
import type { Call, FdRef, World } from '../../src/world/types.js';

/** Apply `name` by task `pid` (on `fd` when given); expects 0 and returns the call's out. */
export function appCall(
  w: World,
  pid: number,
  name: string,
  raw: Record<string, unknown>,
  fd?: FdRef,
): Record<string, unknown> {
  const c: Call = { call: name, pid, args: decodeArgs(callDef(name)!.args, raw, name) };
  if (fd !== undefined) c.fd = fd;
  const r = applyInPlace(w, c);
  expect(r.ret, name).toBe(0);
  return r.out;
}
