import { dynoName, scalableTypes, WEB_TYPE, type Formation, type ProcessPlacement } from '../domain/processes.js';
import type { Resources } from '../domain/resources.js';
import type { AppRow, Release } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Route } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import type { DeployLog } from './deploy-log.js';
import type { UndoStack } from './undo.js';

/** One process to start: a replica of a type of a release. */
export interface ProcessSpec {
  type: string;
  replica: number;
}

export interface StartContext {
  runner: Runner;
  log: Logger;
  healthTimeoutMs: number;
  /** How long a worker must stay up to count as started. */
  workerStartupSeconds: number;
  /** Told how long each web replica took to answer its health check (/metrics). */
  measured?: (step: 'health_check', ms: number) => void;
  app: AppRow;
  release: Pick<Release, 'number' | 'imageId' | 'env' | 'processTypes'>;
  appPort: number;
  resources: Resources;
}

/** The app's route as its web processes serve it (by replica); none: nothing serves (503). */
export function routeFor(app: Pick<AppRow, 'name' | 'port'>, processes: ProcessPlacement[]): Route {
  const web = processes.filter((p) => p.type === WEB_TYPE && p.address !== null).sort((a, b) => a.replica - b.replica);
  return { app: app.name, port: app.port, targets: web.map((p) => p.address!) };
}

/** Every replica of every type of the formation, web first. */
export function processSpecs(formation: Formation): ProcessSpec[] {
  return scalableTypes(formation).flatMap((type) => Array.from({ length: formation[type] ?? 0 }, (_, i) => ({ type, replica: i + 1 })));
}

/**
 * Starts the processes side by side and waits until each is up: a web replica answers
 * HTTP, a worker stays up `workerStartupSeconds`. Each registers its removal as the undo
 * the moment it exists; the first failure is thrown once all have settled (none left
 * half-started), and the caller's undo removes the others.
 */
export async function startProcesses(ctx: StartContext, specs: ProcessSpec[], undo: UndoStack, out: DeployLog): Promise<ProcessPlacement[]> {
  const results = await Promise.allSettled(specs.map((spec) => startOne(ctx, spec, undo, out)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<ProcessPlacement>).value);
}

async function startOne(ctx: StartContext, spec: ProcessSpec, undo: UndoStack, out: DeployLog): Promise<ProcessPlacement> {
  const { runner, release } = ctx;
  const web = spec.type === WEB_TYPE;
  const container = await runner.start({
    app: ctx.app.name,
    release: release.number,
    type: spec.type,
    replica: spec.replica,
    // The platform bakes `web` into the image's CMD; other types run their own command.
    command: web ? null : (release.processTypes[spec.type] ?? null),
    imageId: release.imageId,
    env: release.env,
    appPort: web ? ctx.appPort : null,
    resources: ctx.resources,
  });
  undo.push(`remove ${container.name}`, () => runner.remove(container.name));
  const name = dynoName(spec.type, spec.replica);
  if (web) {
    const healthy = await runner.waitHealthy(container, ctx.healthTimeoutMs);
    ctx.measured?.('health_check', healthy.elapsedMs);
    out.step(`Health check passed: ${name} (HTTP ${healthy.status} after ${(healthy.elapsedMs / 1000).toFixed(1)} s)`);
  } else {
    await runner.waitStable(container, ctx.workerStartupSeconds);
    out.step(`Up for ${ctx.workerStartupSeconds} s: ${name}`);
  }
  return { type: spec.type, replica: spec.replica, container: container.name, address: container.address };
}

/** Docker takes ~0.2 s per container to change the restart policy: done while traffic switches. */
export function armRestarts(runner: Runner, log: Logger, processes: ProcessPlacement[]): Promise<void> {
  return Promise.all(
    processes.map((p) =>
      runner.keepRunning(p.container).catch((err: unknown) => {
        log.error({ container: p.container, err: errorMessage(err) }, 'could not set the restart policy; the process will not be restarted if it crashes');
      }),
    ),
  ).then(() => undefined);
}
