import type { ContainerSummary, DockerEngine } from '../docker/index.js';
import type { AppRow } from '../domain/types.js';

/** An app's container state as a record shows it. */
export interface AppRuntimeStatus {
  /** running, restarting, exited, …; missing (its container is gone); none (no release yet). */
  status: string;
  restartCount: number;
}

/** Inspects running at once while restart counts are refreshed in the background. */
const REFRESH_CONCURRENCY = 4;

/** An app's runtime status and the id of its current container (null when it has none). */
export interface AppContainerStatus extends AppRuntimeStatus {
  containerId: string | null;
}

interface KnownRestarts {
  /** Docker's status text when the count was read: a restart changes it. */
  statusText: string;
  restartCount: number;
}

/**
 * The runtime status of many apps from ONE label-filtered Docker list. Docker's list has
 * no restart count; those come from an inspect per container, cached by container id and
 * read again (in the background, never while a request waits) only when the container's
 * status text changed since (a restart resets "Up …"). So `GET /apps` over 1,000 apps
 * costs one Docker call, and a restart count is at most one refresh behind.
 */
export class ContainerStatuses {
  private readonly restarts = new Map<string, KnownRestarts>();
  private refreshing: Promise<void> | null = null;

  constructor(private readonly docker: DockerEngine) {}

  /** By app name; an app without a container is `none`, one whose container is gone `missing`. */
  async forApps(apps: AppRow[]): Promise<Map<string, AppContainerStatus>> {
    if (apps.length === 0) return new Map();
    const one = apps.length === 1;
    const summaries = await this.docker.listOwnedContainerSummaries(one ? apps[0]!.name : undefined);
    const byName = new Map(summaries.map((s) => [s.name, s]));
    if (!one) this.forget(summaries);
    const stale: ContainerSummary[] = [];
    const result = new Map<string, AppContainerStatus>();
    for (const app of apps) {
      const summary = app.container ? byName.get(app.container) : undefined;
      if (!app.container) result.set(app.name, { status: 'none', restartCount: 0, containerId: null });
      else if (!summary) result.set(app.name, { status: 'missing', restartCount: 0, containerId: null });
      else {
        const known = this.restarts.get(summary.id);
        if (!known || known.statusText !== summary.statusText) stale.push(summary);
        result.set(app.name, { status: summary.state, restartCount: known?.restartCount ?? 0, containerId: summary.id });
      }
    }
    if (stale.length && one) {
      // One app (GET /apps/APP): its one inspect is cheap, so its count is exact.
      await this.refresh(stale);
      const status = result.get(apps[0]!.name)!;
      status.restartCount = this.restarts.get(stale[0]!.id)?.restartCount ?? 0;
    } else if (stale.length) this.refreshInBackground(stale);
    return result;
  }

  /** Settles when the restart counts being read now are in (tests, and the first listing). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  private refreshInBackground(stale: ContainerSummary[]): void {
    if (this.refreshing) return;
    this.refreshing = this.refresh(stale).finally(() => {
      this.refreshing = null;
    });
  }

  private async refresh(stale: ContainerSummary[]): Promise<void> {
    const queue = [...stale];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const state = await this.docker.inspect(next.id).catch(() => null);
        if (state) this.restarts.set(next.id, { statusText: next.statusText, restartCount: state.restartCount });
      }
    };
    await Promise.all(Array.from({ length: REFRESH_CONCURRENCY }, worker));
  }

  /** Drops counts of containers that are gone (only from a full list). */
  private forget(summaries: ContainerSummary[]): void {
    if (this.restarts.size <= summaries.length) return;
    const ids = new Set(summaries.map((s) => s.id));
    for (const id of this.restarts.keys()) if (!ids.has(id)) this.restarts.delete(id);
  }
}
