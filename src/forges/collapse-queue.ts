/** One unit of webhook work for one app: a deploy of a commit, or a preview's removal. */
export interface QueuedJob {
  run(): Promise<void>;
  /** Called instead of `run` when a newer job for the same app replaced this one. */
  superseded(by: QueuedJob): void;
}

export type Submitted = 'started' | 'queued';

/**
 * Per app, at most one job runs and at most one waits. A job that arrives while one runs
 * takes the waiting place, replacing (superseding) whatever waited there: a burst of
 * pushes during a deploy ends in exactly one more deploy, of the newest commit.
 */
export class CollapseQueue {
  private readonly running = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, QueuedJob>();

  constructor(private readonly onError: (key: string, err: unknown) => void) {}

  submit(key: string, job: QueuedJob): Submitted {
    if (!this.running.has(key)) {
      this.start(key, job);
      return 'started';
    }
    const previous = this.waiting.get(key);
    this.waiting.set(key, job);
    previous?.superseded(job);
    return 'queued';
  }

  /** Settles when nothing runs or waits for `key` (tests, shutdown). */
  async idle(key: string): Promise<void> {
    while (this.running.has(key)) await this.running.get(key);
  }

  private start(key: string, job: QueuedJob): void {
    const done = this.runOne(key, job).finally(() => {
      this.running.delete(key);
      const next = this.waiting.get(key);
      if (next) {
        this.waiting.delete(key);
        this.start(key, next);
      }
    });
    this.running.set(key, done);
  }

  private async runOne(key: string, job: QueuedJob): Promise<void> {
    try {
      await job.run();
    } catch (err) {
      // A job reports its own failures; this only keeps a bug from becoming an unhandled rejection.
      this.onError(key, err);
    }
  }
}
