/** Heroku's shapes for push output. */
export const step = (text: string): string => `-----> ${text}`;
export const failure = (text: string): string => ` !     ${text}`;
export const detail = (text: string): string => `       ${text}`;

export type LineSink = (line: string) => void;

/**
 * The log of one deploy: every line goes to the live sink (the pusher's terminal, an API
 * client) and the last `maxLines` are kept for the deploys history: a failure is at the
 * end, so the end is what must not be cut.
 */
export class DeployLog {
  private lines: string[] = [];
  private dropped = 0;

  constructor(
    private readonly sink?: LineSink,
    private readonly maxLines = 20_000,
  ) {}

  write = (line: string): void => {
    this.lines.push(line);
    // Cut in batches, so a long build does not copy the array on every line.
    if (this.lines.length > this.maxLines * 1.25) {
      const cut = this.lines.length - this.maxLines;
      this.lines = this.lines.slice(cut);
      this.dropped += cut;
    }
    this.sink?.(line);
  };

  step(text: string): void {
    this.write(step(text));
  }

  fail(text: string): void {
    this.write(failure(text));
  }

  detail(text: string): void {
    this.write(detail(text));
  }

  /** The kept lines; when earlier ones were dropped, a first line says how many. */
  text(): string {
    const kept = this.lines.slice(-this.maxLines);
    const dropped = this.dropped + (this.lines.length - kept.length);
    const lines = dropped > 0 ? [detail(`(${dropped} earlier lines not kept)`), ...kept] : kept;
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}
