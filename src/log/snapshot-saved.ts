/**
 * The dumps a world keeps for a later `criu.restore {dump}` (`saved`, src/criu/saved-dump.ts),
 * checked when a snapshot loads as `gpucr restore` checks an image directory: each dump's
 * shape against its schema, that it is kept under the id of a criu.dump object of the world,
 * every plugin image as its writer checks it before writing a file (each message field against
 * criu-amdgpu.proto, the plugin's rules, the pages, the rules across images: checkImageDir),
 * and CRIU core's tasks as gpucr-core.json's reader checks them (each pid once).
 *
 * Without these checks a snapshot could hold images that no directory can hold (two images with
 * one file id, a message field of another type), and a `criu.restore {dump}` took them where
 * `gpucr restore` refuses the same images read from a directory.
 */
import { checkImageDir, ImageError } from '../criu/images/index.js';
import { type SavedDump, savedDumpSpec } from '../criu/saved-dump.js';
import { duplicatePid } from '../criu/tasks-image.js';
import { InputError } from '../errors.js';
import { CRIU_DUMP } from '../ioctls/criu/orchestrate.js';
import { checkShape, type WorldRefs } from './snapshot-contexts.js';
import { fail, record } from './snapshot-fields.js';

/** `saved` of a decoded world (absent when nothing was dumped without a directory). */
export function checkSaved(saved: unknown, refs: WorldRefs, where: string): void {
  if (saved === undefined) return;
  for (const [id, dump] of Object.entries(record(saved, where))) {
    const at = `${where}.${id}`;
    refs.check([{ path: '', store: 'objects', id, kind: CRIU_DUMP }], at);
    checkShape(savedDumpSpec.schema, dump, at, 'one of images, memory, tasks');
    checkDump(dump as SavedDump, at);
  }
}

function checkDump(dump: SavedDump, at: string): void {
  try {
    checkImageDir(dump.images);
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    // The image's own words (file, field, and what it found, in hex where the plugin's are).
    const moved = new InputError(`${at}.images: ${e.where}`, e.expected, e.found);
    moved.message = `${at}.images: ${e.message}`;
    throw moved;
  }
  const twice = duplicatePid(dump.tasks);
  if (twice >= 0) fail(`${at}.tasks[${twice}].pid`, 'a pid no other task has', dump.tasks[twice]!.pid);
}
