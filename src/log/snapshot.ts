/**
 * World snapshots (docs/log-format.md, "Snapshots"): the whole world in the
 * canonical encoding (canonical.ts), versioned, with a content hash.
 *
 *   {"format":"gpucr-snapshot","hash":"sha256:…","version":1,"world":{…}}
 *
 * `hash` is the sha256 of the canonical text of `world`, so two worlds are equal
 * exactly when their hashes are. `restoreSnapshot` checks the version, the hash and
 * the structure (every reference between tasks, files, GEM objects and machine
 * objects resolves; every machine object is in a state its machine has) and gives a
 * fresh, mutable World that replay can continue from (the structure: snapshot-world.ts).
 */
import { InputError } from '../errors.js';
import { DEFAULT_VARIANTS, type World } from '../world/types.js';
import { canonicalHash, canonicalJson, fromCanonical } from './canonical.js';
import { LogError } from './errors.js';
import type { LogHeader } from './header.js';
import { checkWorld } from './snapshot-world.js';
import { isRecord } from './values.js';

export const SNAPSHOT_FORMAT = 'gpucr-snapshot';
export const SNAPSHOT_VERSION = 4;

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  /** `sha256:<hex>` of the canonical text of `world`. */
  hash: string;
  /** The world in the canonical encoding (a JSON tree). */
  world: unknown;
}

/** The content hash of a world: `sha256:<hex>` of its canonical text. */
export function worldHash(w: World): string {
  return canonicalHash(w);
}

/** A snapshot of the world (the world is not kept: the snapshot holds an encoded copy). */
export function snapshot(w: World): Snapshot {
  const text = canonicalJson(w);
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    hash: canonicalHash(w),
    world: JSON.parse(text) as unknown,
  };
}

/** The snapshot as the text a file holds: canonical JSON and a newline. */
export function snapshotText(w: World): string {
  const text = canonicalJson(w);
  return `{"format":"${SNAPSHOT_FORMAT}","hash":"${canonicalHash(w)}","version":${SNAPSHOT_VERSION},"world":${text}}\n`;
}

const SNAPSHOT_KEYS = ['format', 'hash', 'version', 'world'];

/** Rebuild a World from a snapshot (its text or its parsed JSON); any problem is an InputError. */
export function restoreSnapshot(input: string | unknown, where = 'snapshot'): World {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new InputError(where, 'a JSON snapshot', (e as Error).message);
    }
  }
  if (!isRecord(json)) throw new InputError(where, `a snapshot object {"format":"${SNAPSHOT_FORMAT}",…}`, json);
  for (const k of Object.keys(json))
    if (!SNAPSHOT_KEYS.includes(k)) throw new InputError(`${where}.${k}`, `one of ${SNAPSHOT_KEYS.join(', ')}`, k);
  if (json.format !== SNAPSHOT_FORMAT) throw new InputError(`${where}.format`, `"${SNAPSHOT_FORMAT}"`, json.format);
  if (json.version !== SNAPSHOT_VERSION)
    throw new InputError(`${where}.version`, `the snapshot version ${SNAPSHOT_VERSION}`, json.version);
  if (typeof json.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(json.hash))
    throw new InputError(`${where}.hash`, 'sha256:<64 hex digits>', json.hash);
  const decoded = fromCanonical(json.world, `${where}.world`);
  const w = checkWorld(decoded, `${where}.world`);
  const actual = canonicalHash(w);
  if (actual !== json.hash)
    throw new InputError(`${where}.hash`, `the hash of the world it holds (${actual})`, json.hash);
  return w;
}

/**
 * Whether a log can be replayed on a world: a log whose header names a snapshot
 * (`"snapshot":"sha256:…"`) needs exactly that world, and a log replayed on a world
 * from a snapshot needs the same topology and variants. Problems are LogErrors on
 * line 1 of the log.
 */
export function checkContinuation(header: LogHeader, world: World | undefined, file: string): void {
  if (!world) {
    if (header.snapshot !== undefined)
      throw new LogError(file, 1, 1, 'snapshot', `--from <the snapshot of world ${header.snapshot}>`, undefined);
    return;
  }
  if (header.snapshot !== undefined) {
    const hash = worldHash(world);
    if (hash !== header.snapshot)
      throw new LogError(file, 1, 1, 'snapshot', `the hash of the --from snapshot (${hash})`, header.snapshot);
  }
  if (canonicalJson(header.topology) !== canonicalJson(world.topology))
    throw new LogError(file, 1, 1, 'topology', 'the topology of the --from snapshot', 'another topology');
  const variants = { ...DEFAULT_VARIANTS, ...header.variants };
  if (canonicalJson(variants) !== canonicalJson(world.variants))
    throw new LogError(
      file,
      1,
      1,
      'variants',
      `the variants of the --from snapshot (${canonicalJson(world.variants)})`,
      canonicalJson(variants),
    );
}
