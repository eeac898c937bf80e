import type { MeasuredStep } from '../metrics/deploy-metrics.js';
import type { Resources } from '../domain/resources.js';
import type { AppRow, EnvVars } from '../domain/types.js';
import type { Placement } from '../store/store.js';

/** A release to run: which image, with which config, for which app. */
export interface RunRequest {
  app: AppRow;
  release: number;
  /** Image ID (immutable) to run. */
  image: string;
  env: EnvVars;
  containerPort: number;
  resources: Resources;
}

export interface RunHooks {
  onLine: (line: string) => void;
  /** Told how long the health check, the switch and the drain took (metrics). */
  measured?: (step: MeasuredStep, ms: number) => void;
  /**
   * Called once the new container serves: the caller's commit point (store transaction).
   * If it throws, the scheduler switches back and removes the new container.
   */
  commit: (placement: Placement) => void;
}

export interface Deployed {
  placement: Placement;
  /** Work that need not delay the answer (e.g. arming the restart policy); never rejects. */
  finishing: Promise<void>;
}

export interface AppRuntimeStatus {
  /** running, restarting, exited, crashed, missing, stopped, none (never deployed). */
  status: string;
  restartCount: number;
}

export interface LogOptions {
  tail: number;
}

/**
 * Where releases run. `docker-local` is the only one today; an app row names its
 * scheduler so a Swarm backend can be one more implementation of this interface.
 */
export interface Scheduler {
  readonly name: string;
  /** Start the release, wait until it answers HTTP, route to it and wait until the old one drained. */
  deploy(req: RunRequest, hooks: RunHooks): Promise<Deployed>;
  /** The app's containers other than `keep`: the drained old release and any leftovers. */
  staleContainers(app: string, keep: string): Promise<string[]>;
  /** Stop and remove those containers (a missing one is fine). */
  retire(containers: string[]): Promise<void>;
  status(app: AppRow): Promise<AppRuntimeStatus>;
  logs(app: AppRow, opts: LogOptions): Promise<string>;
  followLogs(app: AppRow, opts: LogOptions): Promise<{ stream: NodeJS.ReadableStream; stop: () => void }>;
  /** Change the running container's limits in place (no restart, no new release). */
  applyResources(app: AppRow, resources: Resources): Promise<void>;
  /** Stop and remove every container of the app and its route. */
  remove(app: AppRow): Promise<void>;
  /** Make running containers and routes match the store (start-up). */
  reconcile(apps: AppRow[]): Promise<ReconcileReport>;
}

export interface ReconcileReport {
  /** Apps whose container had to be started again (or whose port moved). */
  restarted: string[];
  /** Apps whose current container is gone; they need a redeploy. */
  missing: string[];
  /** Containers MinPaas owned but no release uses: removed. */
  removedOrphans: string[];
  /** New placements to record, by app. */
  placements: Record<string, Placement>;
}
