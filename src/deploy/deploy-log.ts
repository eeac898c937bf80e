/** Heroku's shapes for push output. */
export const step = (text: string): string => `-----> ${text}`;
export const failure = (text: string): string => ` !     ${text}`;
export const detail = (text: string): string => `       ${text}`;

export type LineSink = (line: string) => void;

/**
 * The log of one deploy: every line goes to the live subscribers (the pusher's terminal,
 * an API client) and is kept for the deploys history.
 */
export class DeployLog {
  private readonly lines: string[] = [];
  private readonly sinks = new Set<LineSink>();
  private static readonly MAX_LINES = 20_000;

  constructor(sink?: LineSink) {
    if (sink) this.sinks.add(sink);
  }

  subscribe(sink: LineSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  write = (line: string): void => {
    if (this.lines.length < DeployLog.MAX_LINES) this.lines.push(line);
    for (const sink of this.sinks) sink(line);
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

  text(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }

  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}
