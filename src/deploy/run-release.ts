import type { Resources } from '../domain/resources.js';
import type { Address, AppRow, Release } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Route, Router, ServeReport } from '../router/types.js';
import type { Runner, RunningContainer } from '../runner/types.js';
import type { NewRelease, SourceInfo, Store } from '../store/store.js';
import type { DeployLog } from './deploy-log.js';
import { UndoStack } from './undo.js';

/** What the Run stage needs of the store: its commit point. */
export type RunStore = Pick<Store, 'commitRelease'>;

export interface RunPorts {
  runner: Runner;
  router: Router;
  store: RunStore;
  log: Logger;
  healthTimeoutMs: number;
  /** Told how long the health check, the switch and the old release's drain took (/metrics). */
  measured?: (step: 'health_check' | 'switch' | 'drain', ms: number) => void;
}

/** One release to run: the app as the lock found it, and the release row to commit. */
export interface RunPlan {
  app: AppRow;
  release: NewRelease;
  appPort: number;
  resources: Resources;
  deployId: number;
  source: SourceInfo | null;
}

export interface RunOutcome {
  release: Release;
  container: RunningContainer;
  /**
   * Settles (never rejects) once the route is persisted, the restart policy armed and the
   * old containers stopped and removed. The release serves before that.
   */
  settled: Promise<void>;
}

/** The app's route as it serves at `address` (no address: nothing serves). */
export function routeOf(app: Pick<AppRow, 'name' | 'port'>, address: Address | null): Route {
  return { app: app.name, port: app.port, targets: address ? [address] : [] };
}

function switchLine(container: string, app: AppRow, report: ServeReport): string {
  if (report.added) return `Routed port ${app.port} to ${container}`;
  return report.drained
    ? `Switched traffic; old release drained in ${report.drainMs} ms`
    : `Switched traffic; old release still busy after ${report.drainMs} ms, stopping it anyway`;
}

/**
 * The Run stage, top to bottom: start → wait healthy → switch traffic → commit the release
 * → (after the answer) persist the route and retire the old containers. Until the commit,
 * every step has registered its undo and a failure runs them in reverse, so the previous
 * release serves as before and nothing of the attempt is left. After the commit the
 * release is live: a failure to persist or retire is logged (start-up reconciliation
 * catches up) and does not fail the deploy. The caller holds the app's lock.
 */
export async function runRelease(ports: RunPorts, plan: RunPlan, out: DeployLog): Promise<RunOutcome> {
  const { runner, router, store } = ports;
  const { app, release } = plan;
  const logger = ports.log.child({ app: app.name, release: release.number });
  const undo = new UndoStack(logger);
  let arming: Promise<void> = Promise.resolve();
  try {
    out.step(`Starting v${release.number}`);
    const container = await runner.start({
      app: app.name,
      release: release.number,
      imageId: release.imageId,
      env: release.env,
      appPort: plan.appPort,
      resources: plan.resources,
    });
    undo.push('remove the new container', () => runner.remove(container.name));

    const healthy = await runner.waitHealthy(container, ports.healthTimeoutMs);
    ports.measured?.('health_check', healthy.elapsedMs);
    out.step(`Health check passed (HTTP ${healthy.status} after ${(healthy.elapsedMs / 1000).toFixed(1)} s)`);
    // Docker takes ~0.2 s to change the restart policy: done while traffic switches.
    arming = runner.keepRunning(container.name).catch((err: unknown) => {
      logger.error({ container: container.name, err: errorMessage(err) }, 'could not set the restart policy; the app will not be restarted if it crashes');
    });
    undo.push('let the restart policy settle', () => arming);

    // Registered first: a switch can half-happen (switched, then lost while draining).
    undo.push('route back to the previous release', () =>
      app.address ? router.serve(routeOf(app, app.address)) : router.remove(app.name),
    );
    const switchStarted = performance.now();
    const switched = await router.serve(routeOf(app, container.address)).catch((err: unknown) => {
      throw new Error(`the router could not switch to the new release: ${errorMessage(err)}`);
    });
    // serve() returns once the old targets drained: the switch itself is what is left.
    ports.measured?.('switch', Math.max(0, performance.now() - switchStarted - switched.drainMs));
    if (!switched.added) ports.measured?.('drain', switched.drainMs);
    out.step(switchLine(container.name, app, switched));

    const committed = store.commitRelease({
      release,
      placement: { container: container.name, address: container.address },
      deployId: plan.deployId,
      source: plan.source,
    });
    // Listed under the lock, stopped after it: the next deploy's container is never among them.
    const stale = (await runner.containersOf(app.name).catch((err: unknown) => {
      logger.warn({ err: errorMessage(err) }, 'could not list the old containers; the next start-up removes them');
      return [] as string[];
    })).filter((name) => name !== container.name);
    return { release: committed, container, settled: afterCommit(ports, logger, arming, stale) };
  } catch (err) {
    await undo.runAll();
    throw err;
  }
}

/** After the commit: the route into the router's file, then the old containers go. */
async function afterCommit(ports: RunPorts, logger: Logger, arming: Promise<void>, stale: string[]): Promise<void> {
  await ports.router.persist().catch((err: unknown) => {
    logger.error({ err: errorMessage(err) }, 'could not write the router config; it is written again on the next change or start-up');
  });
  await arming;
  await ports.runner.retire(stale).catch((err: unknown) => {
    logger.warn({ err: errorMessage(err) }, 'retiring the old release failed; the next start-up removes its containers');
  });
}
