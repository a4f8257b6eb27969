/**
 * Marked blocks in hand-written pages: the text between `<!-- NAME:begin -->` and
 * `<!-- NAME:end -->` is generated (a diagram, a reference table) and rewritten on its
 * own, so that the prose around it stays as written.
 */

/** `<!-- NAME:begin -->` / `<!-- NAME:end -->` */
export function markers(name: string): { begin: string; end: string } {
  return { begin: `<!-- ${name}:begin -->`, end: `<!-- ${name}:end -->` };
}

export class MarkerError extends Error {}

/**
 * The text between the begin and end markers (exclusive of the marker lines, with
 * the newline after the begin marker dropped). Throws MarkerError if the markers are
 * missing, repeated or out of order.
 */
export function extractBlock(text: string, name: string): string {
  const { start, stop } = locate(text, name);
  return text.slice(start, stop);
}

/** `text` with the block between the markers replaced by `content` (which ends with a newline). */
export function replaceBlock(text: string, name: string, content: string): string {
  const { start, stop } = locate(text, name);
  const body = content.endsWith('\n') || content === '' ? content : `${content}\n`;
  return text.slice(0, start) + body + text.slice(stop);
}

function locate(text: string, name: string): { start: number; stop: number } {
  const { begin, end } = markers(name);
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < 0) throw new MarkerError(`no ${begin} … ${end} markers`);
  if (text.indexOf(begin, b + 1) >= 0 || text.indexOf(end, e + 1) >= 0)
    throw new MarkerError(`the ${name} markers appear more than once`);
  if (e < b) throw new MarkerError(`${end} comes before ${begin}`);
  let start = b + begin.length;
  if (text[start] === '\r') start++;
  if (text[start] === '\n') start++;
  return { start, stop: Math.max(start, e) };
}
