/** What the snapshot tests share: example logs, the world a log ends in, and the InputError a call throws. */
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/errors.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { World } from '../../src/world/types.js';

/** The text of docs/examples/<name>. */
export const example = (name: string) => readFileSync(new URL(`../../docs/examples/${name}`, import.meta.url), 'utf8');

/** The world a log's text ends in (its assertions not checked). */
export function worldOf(text: string): World {
  const { header, events } = readLog(text, 'x');
  return replay(header, events, { assertions: false }).world;
}

/** The InputError `f` throws (anything else it throws is rethrown; throwing nothing fails). */
export function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}
