import { stripAnsi } from '../domain/ansi.js';

/** Heroku's shapes for push output. */
export const STEP_PREFIX = '-----> ';
export const FAILURE_PREFIX = ' !     ';
export const step = (text: string): string => `${STEP_PREFIX}${text}`;
export const failure = (text: string): string => `${FAILURE_PREFIX}${text}`;
export const detail = (text: string): string => `       ${text}`;
export const warning = (text: string): string => failure(`Warning: ${text}`);

export type LineSink = (line: string) => void;

export { stripAnsi };

/**
 * A line printed by a build (a Dockerfile's RUN step): `-----> ` lines are stages and
 * ` !     ` lines failures, as the app's own Dockerfile or the platform's print them;
 * everything else is indented detail.
 */
export function shapeBuildLine(line: string): string {
  const clean = stripAnsi(line);
  if (clean.startsWith(STEP_PREFIX) || clean.startsWith(FAILURE_PREFIX)) return clean;
  return detail(clean);
}

/**
 * The log of one deploy: every line goes to the live sink (the pusher's terminal, an API
 * client) and the last `maxLines` are kept for the deploys history: a failure is at the
 * end, so the end is what must not be cut. ANSI codes never get in.
 */
export class DeployLog {
  private lines: string[] = [];
  private dropped = 0;

  constructor(
    private readonly sink?: LineSink,
    private readonly maxLines = 20_000,
  ) {}

  /** Live followers besides the deploy's own sink (the dashboard's live deploy view). */
  private readonly followers = new Set<LineSink>();

  /** Every later line also goes to `follower`; returns how to stop. */
  subscribe(follower: LineSink): () => void {
    this.followers.add(follower);
    return () => {
      this.followers.delete(follower);
    };
  }

  write = (raw: string): void => {
    const line = stripAnsi(raw);
    this.lines.push(line);
    // Cut in batches, so a long build does not copy the array on every line.
    if (this.lines.length > this.maxLines * 1.25) {
      const cut = this.lines.length - this.maxLines;
      this.lines = this.lines.slice(cut);
      this.dropped += cut;
    }
    this.sink?.(line);
    for (const follower of this.followers) follower(line);
  };

  /** A line of build output (see shapeBuildLine). */
  build = (line: string): void => {
    this.write(shapeBuildLine(line));
  };

  step(text: string): void {
    this.write(step(text));
  }

  fail(text: string): void {
    this.write(failure(text));
  }

  warn(text: string): void {
    this.write(warning(text));
  }

  detail(text: string): void {
    this.write(detail(text));
  }

  /**
   * An error's detail lines, except those the user saw live moments ago (a build's tail
   * was streamed as it ran: printing it again would show the failure twice).
   */
  detailsOnce(details: readonly string[]): void {
    const recent = new Set(this.lines.slice(-500).map((l) => l.trim()));
    for (const line of details) {
      if (!recent.has(stripAnsi(line).trim())) this.detail(line);
    }
  }

  /** The kept lines; when earlier ones were dropped, a first line says how many. */
  text(): string {
    const kept = this.lines.slice(-this.maxLines);
    const dropped = this.dropped + (this.lines.length - kept.length);
    const lines = dropped > 0 ? [detail(`(${dropped} earlier lines cut; the last ${kept.length} are kept)`), ...kept] : kept;
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}
