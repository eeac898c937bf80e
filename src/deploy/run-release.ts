import { effectiveFormation, RELEASE_TYPE, type Formation, type ProcessPlacement } from '../domain/processes.js';
import type { Resources } from '../domain/resources.js';
import type { AppRow, Release, SchedulerName } from '../domain/types.js';
import { isOneOffName } from '../docker/labels.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Router, ServeReport } from '../router/types.js';
import type { ServiceRunner } from '../runner/swarm-types.js';
import type { Runner } from '../runner/types.js';
import type { NewRelease, SourceInfo, Store } from '../store/store.js';
import type { DeployLog } from './deploy-log.js';
import { armRestarts, processSpecs, routeFor, startProcesses } from './processes.js';
import { runReleasePhase } from './release-phase.js';
import { UndoStack } from './undo.js';

export { routeFor } from './processes.js';

/** What the Run stage needs of the store: its commit point and the app's process state. */
export type RunStore = Pick<Store, 'commitRelease' | 'getFormation' | 'listProcesses'>;

export interface RunPorts {
  runner: Runner;
  router: Router;
  store: RunStore;
  log: Logger;
  healthTimeoutMs: number;
  /** Told how long the health check, the switch and the old release's drain took (/metrics). */
  measured?: (step: 'health_check' | 'switch' | 'drain', ms: number) => void;
  /** How long a worker must stay up to count as started (MINPAAS_WORKER_STARTUP). */
  workerStartupSeconds: number;
  /** Most the release command may take (MINPAAS_RELEASE_TIMEOUT). */
  releaseTimeoutMs: number;
  /** The Swarm scheduler, when there is one: an app moving off it leaves its services there until the commit. */
  swarm?: ServiceRunner;
}

/** One release to run: the app as the lock found it, and the release row to commit. */
export interface RunPlan {
  app: AppRow;
  release: NewRelease;
  appPort: number;
  resources: Resources;
  deployId: number;
  source: SourceInfo | null;
  /** Run the Procfile's `release:` command first (every deploy but rollbacks, unless asked). */
  runReleasePhase: boolean;
  /** Where the release runs; another than the app's is a move, committed with the release. */
  scheduler: SchedulerName;
}

export interface RunOutcome {
  release: Release;
  processes: ProcessPlacement[];
  /**
   * Settles (never rejects) once the route is persisted, the restart policies armed and
   * the old containers stopped and removed. The release serves before that.
   */
  settled: Promise<void>;
}

function switchLine(app: AppRow, webCount: number, report: ServeReport): string {
  const web = `${webCount} web process${webCount === 1 ? '' : 'es'}`;
  if (report.added) return `Routed port ${app.port} to ${web}`;
  return report.drained
    ? `Switched traffic; old release drained in ${report.drainMs} ms (${web})`
    : `Switched traffic; old release still busy after ${report.drainMs} ms, stopping it anyway (${web})`;
}

function formationLine(formation: Formation): string {
  return Object.entries(formation).map(([type, count]) => `${type}=${count}`).join(' ');
}

/**
 * The Run stage, top to bottom: release command → start every process of the formation
 * → wait until each is up → switch traffic to the web group → commit the release →
 * (after the answer) persist the route and retire the old containers. Until the commit,
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
    // Registered first, so it runs last: a first release that fails leaves no network behind.
    if (app.release === null) undo.push("remove what the runner made for the app's first release", () => runner.removeApp(app.name));
    const releaseCommand = release.processTypes[RELEASE_TYPE];
    if (plan.runReleasePhase && releaseCommand) {
      const req = { app: app.name, release: release.number, imageId: release.imageId, env: release.env, resources: plan.resources, timeoutMs: ports.releaseTimeoutMs };
      await runReleasePhase(runner, req, releaseCommand, out);
    }
    const formation = effectiveFormation(release.processTypes, store.getFormation(app.name));
    out.step(`Starting v${release.number}: ${formationLine(formation)}`);
    const ctx = { ...ports, app, release, appPort: plan.appPort, resources: plan.resources };
    const processes = await startProcesses(ctx, processSpecs(formation), undo, out);
    arming = armRestarts(runner, logger, processes);
    undo.push('let the restart policies settle', () => arming);

    // Registered first: a switch can half-happen (switched, then lost while draining).
    const previous = store.listProcesses(app.name);
    undo.push('route back to the previous release', () => (previous.length ? router.serve(routeFor(app, previous)) : router.remove(app.name)));
    const route = routeFor(app, processes);
    const switchStarted = performance.now();
    const switched = await router.serve(route).catch((err: unknown) => {
      throw new Error(`the router could not switch to the new release: ${errorMessage(err)}`);
    });
    // serve() returns once the old targets drained: the switch itself is what is left.
    ports.measured?.('switch', Math.max(0, performance.now() - switchStarted - switched.drainMs));
    if (!switched.added) ports.measured?.('drain', switched.drainMs);
    out.step(switchLine(app, route.targets.length, switched));

    const committed = store.commitRelease({ release, processes, deployId: plan.deployId, source: plan.source, scheduler: 'docker-local' });
    // Listed under the lock, stopped after it: the next deploy's containers are never among them.
    const mine = new Set(processes.map((p) => p.container));
    const stale = (await runner.containersOf(app.name).catch((err: unknown) => {
      logger.warn({ err: errorMessage(err) }, 'could not list the old containers; the next start-up removes them');
      return [] as string[];
    })).filter((name) => !mine.has(name) && !isOneOffName(name));
    const leftSwarm = app.scheduler === 'swarm' ? ports.swarm : undefined;
    return { release: committed, processes, settled: afterCommit(ports, logger, arming, stale, leftSwarm && (() => leftSwarm.removeApp(app.name))) };
  } catch (err) {
    await undo.runAll();
    throw err;
  }
}

/** After the commit: the route into the router's file, then the old containers go. */
async function afterCommit(ports: RunPorts, logger: Logger, arming: Promise<void>, stale: string[], removeServices?: () => Promise<void>): Promise<void> {
  await ports.router.persist().catch((err: unknown) => {
    logger.error({ err: errorMessage(err) }, 'could not write the router config; it is written again on the next change or start-up');
  });
  await arming;
  await ports.runner.retire(stale).catch((err: unknown) => {
    logger.warn({ err: errorMessage(err) }, 'retiring the old release failed; the next start-up removes its containers');
  });
  await removeServices?.().catch((err: unknown) => {
    logger.warn({ err: errorMessage(err) }, "removing the app's swarm services failed; the next start-up removes them");
  });
}
