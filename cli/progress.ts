/**
 * A progress bar on stderr for long runs (folders, evaluation), drawn only when stderr is a
 * terminal and JSON output was not asked for; otherwise it does nothing.
 */
const BAR_WIDTH = 30;
const REDRAW_MS = 100;
/** No rate is shown before this much time has passed (one image in 1 ms is not 1000/s). */
const MIN_RATE_MS = 1000;

export class Progress {
  private done = 0;
  private last = 0;
  private readonly started = Date.now();

  constructor(private readonly total: number, private readonly what: string, private readonly enabled: boolean) {}

  static forTerminal(total: number, what: string, json: boolean): Progress {
    return new Progress(total, what, !json && process.stderr.isTTY === true);
  }

  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Sets how many are done and redraws (at most every 100 ms, and at the end). */
  update(done: number): void {
    this.done = done;
    const now = Date.now();
    if (!this.enabled || (now - this.last < REDRAW_MS && this.done < this.total)) return;
    this.last = now;
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    process.stderr.write(`\r${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${this.done}/${this.total} ${this.what}${this.rate(now)}`);
  }

  /** ' 12.3/s' once enough time has passed to say, else ''. */
  rate(now: number): string {
    const elapsed = now - this.started;
    return elapsed < MIN_RATE_MS ? '' : ` ${((this.done * 1000) / elapsed).toFixed(1)}/s`;
  }

  /** Clears the bar line. */
  end(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
