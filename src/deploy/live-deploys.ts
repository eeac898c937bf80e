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

  track(app: string, log: DeployLog): DeployLog {
    const list = this.byApp.get(app) ?? [];
    list.push({ log, trackedAt: this.now() });
    this.byApp.set(app, list.slice(-LiveDeploys.KEEP_PER_APP));
    return log;
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
