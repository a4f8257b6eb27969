/**
 * The CRIU amdgpu plugin's image files (spec §9.1–§9.2): protobuf messages with their 8-byte size
 * prefix, pages images holding BO contents, and whole image directories. docs/criu-images.md.
 */
export { decodePayload, encodePayload, MESSAGE_NAMES, type MessageName, messageType } from './codec.js';
export {
  checkImageDir,
  type DmabufImageSet,
  type ImageDir,
  type ImageDirOptions,
  type KfdImageSet,
  kfdBoHasPages,
  readImageDir,
  type RenderDImageSet,
  type AmbiguousHandle,
  ambiguousHandles,
  handlesFetchedBy,
  type HandleLookup,
  type KfdMapConflict,
  kfdMapConflicts,
  unpublishedHandles,
  type FileHolders,
  type MergedRenderFiles,
  mergedRenderFiles,
  type VaConflict,
  vaConflicts,
  writeImageDir,
} from './dir.js';
export { imageDirJson, imageDirText, restoreNoteLines } from './format.js';
export {
  decodeDmabufImage,
  decodeKfdImage,
  decodeKfdPriv,
  decodeRenderDImage,
  encodeDmabufImage,
  encodeKfdImage,
  encodeRenderDImage,
  type KfdImageOptions,
  validateDmabuf,
  validateKfd,
  validateRenderNode,
} from './messages.js';
export { decodePages, encodePages } from './pages.js';
export { CRIU_AMDGPU_PROTO } from './proto-text.js';
export * from './types.js';
