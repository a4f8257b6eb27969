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
  writeImageDir,
} from './dir.js';
export {
  type AmbiguousHandle,
  ambiguousHandles,
  type FileHolders,
  handlesFetchedBy,
  type HandleLookup,
  type KfdMapConflict,
  kfdMapConflicts,
  type MergedRenderFiles,
  mergedRenderFiles,
  type RestoreNotes,
  restoreNotes,
  unpublishedHandles,
  type VaConflict,
  vaConflicts,
} from './restore-notes.js';
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
