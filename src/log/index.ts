/** The event log: reader, references, replay (docs/log-format.md). */
export { LogError, preview } from './errors.js';
export { humanOut, humanValue, retName } from './format.js';
export {
  type LogHeader,
  type LogItem,
  type LogLine,
  LogParser,
  readLog,
  readLogLines,
  VARIANT_VALUES,
} from './reader.js';
export { lookupField, parseRef, type Ref, type RefTarget, referencedLines } from './refs.js';
export { type Divergence, Replayer, type ReplayOptions, type ReplayReport, replay, replayFile } from './replay.js';
export { MAX_DEPTH, matches } from './values.js';
