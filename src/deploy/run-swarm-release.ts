import { effectiveFormation, RELEASE_TYPE, scalableTypes, WEB_TYPE, type Formation, type ProcessPlacement } from '../domain/processes.js';
import { serviceName } from '../docker/index.js';
import { isOneOffName } from '../docker/labels.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Route } from '../router/types.js';
import type { ServiceChange, ServiceRunner } from '../runner/swarm-types.js';
import type { RunningContainer } from '../runner/types.js';
import type { DeployLog } from './deploy-log.js';
import { routeFor } from './processes.js';
import { runReleasePhase } from './release-phase.js';
import type { RunOutcome, RunPlan, RunPorts } from './run-release.js';
import { UndoStack } from './undo.js';

/** The way into an app's Swarm tasks from the host's router (src/router/swarm-edge.ts). */
export interface EdgePort {
  /** The edge, once it knows a task to send requests to (bounded by `timeoutMs`). */
  ensure(app: string, release: number, service: string, appPort: number, timeoutMs: number): Promise<RunningContainer>;
}

export interface SwarmRunPorts extends RunPorts {
  swarm: ServiceRunner;
  edges: EdgePort;
}

/** How long one service may take to roll: each replica in turn gets the health timeout. */
export function rolloutTimeoutMs(healthTimeoutMs: number, replicas: number): number {
  return (healthTimeoutMs + 15_000) * Math.max(1, replicas + 1);
}

function sameTargets(a: Route | undefined, b: Route): boolean {
  return !!a && a.targets.length === b.targets.length && a.targets.every((t, i) => t.host === b.targets[i]!.host && t.port === b.targets[i]!.port);
}

/**
 * The Run stage for a Swarm app: release command (a one-off task) → a rolling update of
 * each process type's service (Swarm starts each new task first, keeps it out of DNS
 * until it answers, and rolls the service back by itself when one fails) → the host's
 * router to the app's edge (once: deploys do not move it) → commit. As in runRelease,
 * every step registers its undo until the commit, so a failure leaves the previous
 * release serving. After the commit: services of types the release no longer has, and
 * containers of the app on this engine (a move from docker-local), go.
 */
export async function runSwarmRelease(ports: SwarmRunPorts, plan: RunPlan, out: DeployLog): Promise<RunOutcome> {
  const { swarm, router, store } = ports;
  const { app, release } = plan;
  const logger = ports.log.child({ app: app.name, release: release.number, scheduler: 'swarm' });
  const undo = new UndoStack(logger);
  try {
    await swarm.assertReady();
    if (app.release === null) undo.push("remove what the first release made", () => Promise.all([swarm.removeApp(app.name), ports.runner.removeApp(app.name)]).then(() => undefined));
    const image = await swarm.publish(release.imageId, release.imageTag);
    if (image !== release.imageTag) out.step(`Pushed ${image.replace(/@sha256:[0-9a-f]+$/, '')}`);
    const releaseCommand = release.processTypes[RELEASE_TYPE];
    if (plan.runReleasePhase && releaseCommand) {
      const req = { app: app.name, release: release.number, imageId: image, env: release.env, resources: plan.resources, timeoutMs: ports.releaseTimeoutMs };
      await runReleasePhase(swarm, req, releaseCommand, out);
    }
    const formation = effectiveFormation(release.processTypes, store.getFormation(app.name));
    out.step(`Rolling out v${release.number} on the swarm: ${Object.entries(formation).map(([t, n]) => `${t}=${n}`).join(' ')}`);
    for (const type of scalableTypes(formation)) {
      const change = await rollOut(ports, plan, image, type, formation);
      undo.push(`roll ${serviceName(app.name, type)} back`, () => swarm.undo(change, rolloutTimeoutMs(ports.healthTimeoutMs, formation[type] ?? 1)));
      out.step(`${serviceName(app.name, type)}: ${formation[type]} task(s) of v${release.number} up${type === WEB_TYPE ? ' and answering' : ''}`);
    }

    // web=0 has no task to wait for: the edge answers 503, as the router does for local apps.
    const webTasks = formation[WEB_TYPE] ?? 0;
    const edge = await ports.edges.ensure(app.name, release.number, serviceName(app.name, WEB_TYPE), plan.appPort, webTasks > 0 ? ports.healthTimeoutMs : 0);
    const processes: ProcessPlacement[] = [{ type: WEB_TYPE, replica: 1, container: edge.name, address: edge.address }];
    const route = routeFor(app, processes);
    if (!sameTargets(router.routes().find((r) => r.app === app.name), route)) {
      const previous = store.listProcesses(app.name);
      undo.push('route back to the previous release', () => (previous.length ? router.serve(routeFor(app, previous)) : router.remove(app.name)));
      const switched = await router.serve(route).catch((err: unknown) => {
        throw new Error(`the router could not switch to the swarm edge: ${errorMessage(err)}`);
      });
      out.step(switched.added ? `Routed port ${app.port} to the swarm` : `Switched traffic to the swarm; the old containers drained in ${switched.drainMs} ms`);
    }
    const committed = store.commitRelease({ release, processes, deployId: plan.deployId, source: plan.source, scheduler: 'swarm' });
    return { release: committed, processes, settled: afterCommit(ports, logger, app.name, edge.name, formation) };
  } catch (err) {
    await undo.runAll();
    throw err;
  }
}

function rollOut(ports: SwarmRunPorts, plan: RunPlan, image: string, type: string, formation: Formation): Promise<ServiceChange> {
  const { release } = plan;
  const web = type === WEB_TYPE;
  const replicas = formation[type] ?? 1;
  return ports.swarm.deploy(
    {
      app: plan.app.name,
      release: release.number,
      type,
      replicas,
      // The platform bakes `web` into the image's CMD; other types run their own command.
      command: web ? null : (release.processTypes[type] ?? null),
      image,
      env: release.env,
      appPort: web ? plan.appPort : null,
      resources: plan.resources,
    },
    rolloutTimeoutMs(ports.healthTimeoutMs, replicas),
  );
}

/** After the commit: the route into the router's file; what the app no longer runs goes. */
async function afterCommit(ports: SwarmRunPorts, logger: Logger, app: string, edge: string, formation: Formation): Promise<void> {
  await ports.router.persist().catch((err: unknown) => {
    logger.error({ err: errorMessage(err) }, 'could not write the router config; it is written again on the next change or start-up');
  });
  const wanted = new Set(scalableTypes(formation));
  try {
    for (const type of await ports.swarm.typesOf(app)) if (!wanted.has(type)) await ports.swarm.remove(app, type);
    const stale = (await ports.runner.containersOf(app)).filter((name) => name !== edge && !isOneOffName(name));
    await ports.runner.retire(stale);
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'removing what the app no longer runs failed; the next deploy or start-up removes it');
  }
}
