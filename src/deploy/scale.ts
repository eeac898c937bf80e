import { effectiveFormation, scalableTypes, WEB_TYPE, type Formation, type ProcessPlacement } from '../domain/processes.js';
import type { Resources } from '../domain/resources.js';
import type { AppRow, Release } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Router } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import type { DeployLog } from './deploy-log.js';
import { armRestarts, routeFor, startProcesses, type ProcessSpec } from './processes.js';
import { UndoStack } from './undo.js';

export interface ScalePorts {
  runner: Runner;
  router: Router;
  store: Pick<Store, 'getFormation' | 'listProcesses' | 'commitScale'>;
  log: Logger;
  healthTimeoutMs: number;
  workerStartupSeconds: number;
}

export interface ScalePlan {
  app: AppRow;
  release: Release;
  appPort: number;
  resources: Resources;
  /** The counts asked for (checked against the release's types by the caller). */
  changes: Formation;
  deployId: number;
}

/** What changes: the replicas to start (numbered after those that run) and those to stop (the highest). */
export function scaleDiff(running: ProcessPlacement[], target: Formation): { start: ProcessSpec[]; stop: ProcessPlacement[] } {
  const start: ProcessSpec[] = [];
  const stop: ProcessPlacement[] = [];
  for (const type of scalableTypes(target)) {
    const mine = running.filter((p) => p.type === type).sort((a, b) => a.replica - b.replica);
    const want = target[type] ?? 0;
    stop.push(...mine.slice(want));
    const taken = new Set(mine.slice(0, want).map((p) => p.replica));
    for (let replica = 1; taken.size < want; replica++) {
      if (taken.has(replica)) continue;
      taken.add(replica);
      start.push({ type, replica });
    }
  }
  return { start, stop };
}

/**
 * Scaling the serving release, under the app's lock: new replicas start and pass their
 * check first; the web group then switches to the new set of replicas (blue/green, like
 * a deploy: the old group drains); only then do the replicas scaled away stop. A failure
 * before the commit removes what it started and leaves the route as it was.
 */
export async function scaleProcesses(ports: ScalePorts, plan: ScalePlan, out: DeployLog): Promise<ProcessPlacement[]> {
  const { runner, router, store } = ports;
  const { app, release } = plan;
  const logger = ports.log.child({ app: app.name, release: release.number, scale: plan.changes });
  const undo = new UndoStack(logger);
  const running = store.listProcesses(app.name).filter((p) => scalableTypes(release.processTypes).includes(p.type));
  const target = effectiveFormation(release.processTypes, { ...store.getFormation(app.name), ...plan.changes });
  const { start, stop } = scaleDiff(running, target);
  let kept: ProcessPlacement[];
  let arming: Promise<void>;
  try {
    const ctx = { ...ports, app, release, appPort: plan.appPort, resources: plan.resources };
    if (start.length) out.step(`Starting ${start.map((s) => `${s.type}.${s.replica}`).join(', ')}`);
    const started = await startProcesses(ctx, start, undo, out);
    arming = armRestarts(runner, logger, started);
    undo.push('let the restart policies settle', () => arming);
    const stopping = new Set(stop.map((p) => p.container));
    kept = [...running.filter((p) => !stopping.has(p.container)), ...started];
    if (start.some((s) => s.type === WEB_TYPE) || stop.some((p) => p.type === WEB_TYPE)) {
      undo.push('route back to the replicas that served', () => router.serve(routeFor(app, running)));
      const report = await router.serve(routeFor(app, kept));
      out.step(`Web group now ${routeFor(app, kept).targets.length} replica(s); the previous group drained in ${report.drainMs} ms`);
    }
    store.commitScale(app.name, plan.changes, kept, plan.deployId, release.number);
  } catch (err) {
    await undo.runAll();
    throw err;
  }
  // Committed: what follows is logged when it fails (start-up reconciliation catches up), never undone.
  await arming;
  await router.persist().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'could not write the router config; it is written again on the next change or start-up'));
  if (stop.length) {
    out.step(`Stopping ${stop.map((p) => `${p.type}.${p.replica}`).join(', ')}`);
    await runner.retire(stop.map((p) => p.container)).catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'stopping the replicas scaled away failed; the next start-up removes them'));
  }
  return kept;
}
