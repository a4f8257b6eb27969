/** The event log: reader, references, replay, writer, snapshots (docs/log-format.md). */
export { canonicalHash, canonicalJson, fromCanonical, sha256, sortedJson, toCanonical } from './canonical.js';
export { LogError, preview, TornRecordError } from './errors.js';
export { humanOut, humanValue, retName } from './format.js';
export {
  type LogHeader,
  type LogItem,
  type LogLine,
  LogParser,
  type ReadOptions,
  readLog,
  VARIANT_VALUES,
} from './reader.js';
export { readLogBatches, readLogLines, referencedLinesOfFile } from './read-file.js';
export { lookupField, parseRef, type Ref, type RefTarget, referencedLines } from './refs.js';
export { type RepairResult, repairLog } from './repair.js';
export {
  type Change,
  compareIds,
  type Divergence,
  type InvariantFailure,
  type InvolvedProcess,
  type Involvement,
  involvement,
  Replayer,
  type ReplayerOptions,
  type ReplayFileOptions,
  type ReplayOptions,
  type ReplayReport,
  replay,
  replayFile,
} from './replay.js';
export {
  checkContinuation,
  restoreSnapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type Snapshot,
  snapshot,
  snapshotText,
  worldHash,
} from './snapshot.js';
export { type SplitLog, splitLog } from './split.js';
export { MAX_DEPTH, matches } from './values.js';
export { encodeHeader, encodeValue, formatRecord, LogWriter, type RecordResult, type WriterOptions } from './writer.js';
