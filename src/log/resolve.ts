/**
 * The arguments of an event line with `$<line>.<field>` references (docs/log-format.md,
 * "References"), resolved against the actual outs of the earlier lines in this replay and
 * decoded by the call's schema. A reference to a field that the actual out of its line
 * lacks, or whose value the field does not take, is bad input: a LogError naming both lines.
 */
import { InputError } from '../errors.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField } from '../ioctls/schema.js';
import { LogError, preview } from './errors.js';
import type { LogLine } from './event-fields.js';
import { retName } from './format.js';
import { formatPath, parsePath } from './json.js';
import { lookupField, type RefTarget, setAt } from './refs.js';
import { typeAt } from './values.js';

/** The decoded arguments of `ev`, its references looked up in `outs` (the kept outs of earlier lines). */
export function resolveArgs(ev: LogLine, outs: ReadonlyMap<number, RefTarget>, file: string): Record<string, unknown> {
  const def = callDef(ev.call);
  if (!def) throw new Error(`replay: ${ev.call} is not registered`);
  const args = structuredClone(ev.rawArgs!);
  for (const r of ev.refs) {
    const target = outs.get(r.line);
    if (!target) throw new Error(`replay: the out of line ${r.line} was not kept (referenced set is incomplete)`);
    const v = lookupField(target.out, r.field);
    if (v === undefined) {
      throw new LogError(
        file,
        ev.line,
        r.column,
        formatPath(['args', ...r.path]),
        `field ${r.field.join('.')} in the actual out of line ${r.line} (${target.call} returned ${retName(target.ret)} with out ${preview(encodeField(undefined, target.out))})`,
        r.text,
      );
    }
    setAt(args, r.path, encodeField(typeAt(def.args, r.path), v));
  }
  try {
    return decodeArgs(def.args, args, 'args');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // Only a resolved reference can fail here: the reader decoded everything else.
    const path = parsePath(e.where);
    const ref = ev.refs.find((r) => path && formatPath(['args', ...r.path]) === formatPath(path));
    const from = ref ? ` (from ${ref.text})` : '';
    throw new LogError(file, ev.line, ref?.column ?? 1, e.where, `${e.expected}${from}`, e.found);
  }
}
