/**
 * Splitting a log at a line (docs/log-format.md, "Snapshots"): the world after the
 * prefix as a snapshot, and the rest as a log of its own that continues from it.
 *
 * The tail's header is the log's header plus `"snapshot":"sha256:…"`; its events are
 * renumbered from line 2. A reference to a line of the tail is renumbered; a
 * reference to a line of the prefix is replaced by the value that line actually
 * returned (the tail cannot see the prefix's outs). `by` is renumbered, or dropped
 * when the issuing event is in the prefix. Replaying the tail with `--from` the
 * snapshot gives the same world as replaying the whole log.
 */
import { callDef } from '../ioctls/registry.js';
import { encodeField } from '../ioctls/schema.js';
import { LogError, preview } from './errors.js';
import { formatPath } from './json.js';
import { type LogLine, readLog } from './reader.js';
import { lookupField, referencedLines, setAt } from './refs.js';
import { Replayer } from './replay.js';
import { snapshotText, worldHash } from './snapshot.js';
import { typeAt } from './values.js';
import { encodeHeader, encodeValue } from './writer.js';

export interface SplitLog {
  /** The snapshot text of the world after line `at`. */
  snapshot: string;
  /** Its hash (also the tail header's `snapshot`). */
  hash: string;
  /** The tail log's text (header and the events after line `at`, renumbered from 2). */
  tail: string;
}

/** Split a log text after line `at` (1 = before the first event). Assertions are not checked. */
export function splitLog(text: string, at: number, file = '<log>'): SplitLog {
  const { header, events } = readLog(text, file);
  const rp = new Replayer(header, file, referencedLines(events));
  for (const ev of events) if (ev.line <= at) rp.apply(ev);
  const hash = worldHash(rp.world);
  const lines = [JSON.stringify(encodeHeader({ ...header, snapshot: hash }))];
  const renumber = (line: number) => line - at + 1;
  for (const ev of events) if (ev.line > at) lines.push(tailRecord(ev, at, renumber, rp, file));
  return { snapshot: snapshotText(rp.world), hash, tail: `${lines.join('\n')}\n` };
}

function tailRecord(ev: LogLine, at: number, renumber: (n: number) => number, rp: Replayer, file: string): string {
  const def = callDef(ev.call)!;
  let args: unknown;
  if (ev.refs.length === 0) args = encodeValue({ t: 'struct', fields: def.args }, ev.args, true);
  else {
    const raw = structuredClone(ev.rawArgs!);
    for (const r of ev.refs) {
      if (r.line > at) {
        setAt(raw, r.path, `$${renumber(r.line)}.${r.field.join('.')}`);
        continue;
      }
      const target = rp.outOf(r.line)!;
      const v = lookupField(target.out, r.field);
      if (v === undefined)
        throw new LogError(
          file,
          ev.line,
          r.column,
          formatPath(['args', ...r.path]),
          `field ${r.field.join('.')} in the actual out of line ${r.line} (out ${preview(encodeField(undefined, target.out))})`,
          r.text,
        );
      setAt(raw, r.path, encodeField(typeAt(def.args, r.path), v));
    }
    args = raw;
  }
  const rec: Record<string, unknown> = {};
  if (ev.pid !== undefined) rec.pid = ev.pid;
  rec.call = ev.call;
  if (ev.fd !== undefined) rec.fd = typeof ev.fd === 'number' ? ev.fd : `${ev.fd.pid}:${ev.fd.fd}`;
  rec.args = args;
  if (ev.ret !== undefined) rec.ret = ev.ret;
  if (ev.out !== undefined) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(ev.out))
      out[k] = encodeValue(Object.hasOwn(def.args, k) ? def.args[k] : undefined, ev.out[k], false);
    rec.out = out;
  }
  if (ev.by !== undefined && ev.by > at) rec.by = renumber(ev.by);
  return JSON.stringify(rec);
}
