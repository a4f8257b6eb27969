/**
 * A directory of amdgpu plugin images (spec §9.1): write all of them, or read and check all of
 * them together (each message image, its pages images, and what restore needs across files).
 *
 * Files other than `amdgpu-*` are ignored (a CRIU image directory holds CRIU's own images too);
 * an `amdgpu-*` file that no image accounts for is an error.
 *
 * What a directory holds and the cross-file rules: dir-layout.ts; the writer: dir-write.ts;
 * the reader: dir-read.ts.
 */
export {
  type DmabufImageSet,
  type ImageDir,
  type ImageDirOptions,
  type KfdImageSet,
  kfdBoHasPages,
  type RenderDImageSet,
} from './dir-layout.js';
export { readImageDir } from './dir-read.js';
export { checkImageDir, writeImageDir } from './dir-write.js';
