/**
 * Terminal niceties of the CLI (docs/cli.md, "Colour and progress"): colour only
 * when the stream is a terminal, and a progress bar only for work that takes longer
 * than a second on a terminal. Neither ever reaches a pipe or a file, so what tools
 * read (`--json`, redirected output) is the same bytes on every run.
 *
 * Colour: NO_COLOR (set and not empty) turns it off; otherwise FORCE_COLOR (set and
 * not "0" or "false") turns it on; otherwise it is on when the stream is a TTY and
 * TERM is not "dumb".
 */
import { SingleBar } from 'cli-progress';
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Stream {
  isTTY?: boolean;
}

export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force.toLowerCase() !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** picocolors' functions, active or not for this stream. */
export function colors(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): Colors {
  return pc.createColors(colorEnabled(stream, env));
}

export interface ProgressOptions {
  /** Where the bar is drawn (default stderr). */
  stream?: NodeJS.WritableStream & Stream;
  /** Milliseconds of work before a bar appears (default 1000). */
  delayMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** False turns the bar off (--quiet). */
  enabled?: boolean;
}

/**
 * A progress bar that appears only after `delayMs` of work, and only on a TTY.
 * `update(done, total)` is cheap to call often; `stop()` clears the bar.
 */
export class Progress {
  private bar: SingleBar | undefined;
  private readonly start: number;
  private readonly now: () => number;
  private readonly delay: number;
  private readonly stream: NodeJS.WritableStream & Stream;
  private readonly on: boolean;
  private phase = '';

  constructor(opts: ProgressOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.delay = opts.delayMs ?? 1000;
    this.stream = opts.stream ?? process.stderr;
    this.on = opts.enabled !== false && this.stream.isTTY === true;
  }

  /** Whether a bar has been drawn. */
  get shown(): boolean {
    return this.bar !== undefined;
  }

  update(label: string, done: number, total: number): void {
    if (!this.on) return;
    if (!this.bar) {
      if (this.now() - this.start < this.delay) return;
      this.bar = new SingleBar({
        stream: this.stream,
        format: '{label} [{bar}] {percentage}% {value}/{total}',
        barsize: 30,
        hideCursor: false,
        clearOnComplete: true,
        gracefulExit: false,
        noTTYOutput: false,
      });
      this.bar.start(Math.max(total, 1), done, { label });
      this.phase = label;
      return;
    }
    if (label !== this.phase) {
      this.phase = label;
      this.bar.setTotal(Math.max(total, 1));
    }
    this.bar.update(done, { label });
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}
