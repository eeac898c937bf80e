import type { DeployLog } from './deploy-log.js';

interface Tracked {
  log: DeployLog;
  trackedAt: number;
}

/**
 * The logs of deploys that run now, so a page can follow a build while it runs (the
 * store only gets a deploy's log when it ends). The pipeline registers each DeployLog
 * as it creates it; a deploy row is matched to its log by app and time: the log is made
 * before the app's lock is taken and the row after, so the row's log is the newest one
 * tracked at or before the row's start. A few logs per app are kept; older ones go.
 */
export class LiveDeploys {
  private readonly byApp = new Map<string, Tracked[]>();
  static readonly KEEP_PER_APP = 3;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Far longer than deploys run (the default build timeout is 15 min). A deploy still running
   * after this is no longer followed live; its page shows the stored log once it ends.
   */
  static readonly MAX_AGE_MS = 6 * 3600_000;

  track(app: string, log: DeployLog): DeployLog {
    const t = this.now();
    // Memory stays bounded however many apps come and go: old logs of every app go.
    for (const [name, list] of this.byApp) {
      const kept = list.filter((x) => t - x.trackedAt <= LiveDeploys.MAX_AGE_MS);
      if (kept.length) this.byApp.set(name, kept);
      else this.byApp.delete(name);
    }
    const list = this.byApp.get(app) ?? [];
    list.push({ log, trackedAt: t });
    this.byApp.set(app, list.slice(-LiveDeploys.KEEP_PER_APP));
    return log;
  }

  /** How many logs are held (for tests). */
  get size(): number {
    let n = 0;
    for (const list of this.byApp.values()) n += list.length;
    return n;
  }

  /** The log of the app's deploy that started at `startedAt` (ISO), if still held. */
  find(app: string, startedAt: string): DeployLog | undefined {
    const started = Date.parse(startedAt);
    const candidates = (this.byApp.get(app) ?? []).filter((t) => t.trackedAt <= started);
    return candidates.at(-1)?.log;
  }
}

/** One per process: the pipeline writes to it, the dashboard reads it. */
export const liveDeploys = new LiveDeploys();
