import type { ProcessPlacement } from '../domain/processes.js';
import type { AppRow } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Route, Router } from '../router/types.js';
import type { ServiceRunner } from '../runner/swarm-types.js';
import type { ContainerStatus, Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { routeFor } from './processes.js';

export type ReconcileStore = Pick<Store, 'listApps' | 'listProcesses' | 'setProcessAddress' | 'failInterruptedDeploys'>;

export interface ReconcilePorts {
  runner: Runner;
  /** The Swarm scheduler: services of apps gone, or moved back to docker-local, are removed. */
  swarm?: Pick<ServiceRunner, 'knownApps' | 'removeApp'>;
  router: Router;
  store: ReconcileStore;
  log: Logger;
}

export interface ReconcileReport {
  /** Deploys a crash left running, now marked failed. */
  interrupted: number;
  /** Containers of serving releases that had to be started again. */
  restarted: string[];
  /** Apps one of whose processes is gone; they need a redeploy. */
  missing: string[];
  /** Containers MinPaas owned but no release uses: removed. */
  removedOrphans: string[];
  /** Apps the store does not know that still had something on the runner (a network): removed. */
  removedApps: string[];
  /** Apps a process of which came back at another address: the store and the router follow. */
  moved: string[];
}

type Processes = Array<ProcessPlacement & { app: string }>;

/** Every app with a release, routed to its web processes as the store has them (none, e.g. web=0: 503). */
export function routesFromApps(apps: AppRow[], processes: Processes): Route[] {
  const byApp = new Map<string, Processes>();
  for (const p of processes) byApp.set(p.app, [...(byApp.get(p.app) ?? []), p]);
  return apps.filter((a) => a.release !== null).map((a) => routeFor(a, byApp.get(a.name) ?? []));
}

/**
 * Start-up: make the containers and the router match the store (the source of truth).
 * Interrupted deploys are marked failed; containers no release uses are removed
 * (one-off runs included: their clients left with the server); processes that stopped are
 * started again; addresses are read back from the runner (a restart may have moved one)
 * and the router is made to serve exactly the store's routes.
 */
export async function reconcile(ports: ReconcilePorts): Promise<ReconcileReport> {
  const { runner, router, store } = ports;
  const report: ReconcileReport = { interrupted: 0, restarted: [], missing: [], removedOrphans: [], removedApps: [], moved: [] };
  report.interrupted = store.failInterruptedDeploys('interrupted: MinPaas stopped while this deploy was running');
  const current = new Map(store.listProcesses().map((p) => [p.container, p]));
  const listed = await runner.listAll();
  for (const c of listed) {
    if (current.has(c.name)) continue;
    // Owned, but no release uses it: a deploy that died half-way, or a retired one.
    await runner.remove(c.name);
    report.removedOrphans.push(c.name);
  }
  const known = new Set(store.listApps().map((a) => a.name));
  for (const app of await runner.knownApps()) {
    if (known.has(app)) continue;
    await runner.removeApp(app);
    report.removedApps.push(app);
  }
  const onSwarm = new Set(store.listApps().filter((a) => a.scheduler === 'swarm').map((a) => a.name));
  for (const app of (await ports.swarm?.knownApps()) ?? []) {
    if (onSwarm.has(app)) continue;
    await ports.swarm!.removeApp(app);
    if (!known.has(app)) report.removedApps.push(app);
  }
  // The list has every container this server owns, in any state: one not in it is gone (no inspect each: 1,000 apps).
  const byName = new Map(listed.map((c) => [c.name, c]));
  for (const p of current.values()) await reconcileProcess(runner, store, p, byName.get(p.container) ?? null, report);
  await router.ensureRunning(routesFromApps(store.listApps(), store.listProcesses()));
  logReport(ports.log, report);
  return report;
}

async function reconcileProcess(runner: Runner, store: ReconcileStore, p: ProcessPlacement & { app: string }, listed: ContainerStatus | null, report: ReconcileReport): Promise<void> {
  let state = listed;
  if (!state) {
    if (!report.missing.includes(p.app)) report.missing.push(p.app);
    return;
  }
  if (!state.running) {
    state = (await runner.restart(p.container)) ?? state;
    report.restarted.push(p.container);
  }
  // Workers have no address to follow.
  const address = p.address ? state.address : null;
  if (address && (address.host !== p.address?.host || address.port !== p.address?.port)) {
    store.setProcessAddress(p.app, p.container, address);
    if (!report.moved.includes(p.app)) report.moved.push(p.app);
  }
}

function logReport(log: Logger, report: ReconcileReport): void {
  if (report.interrupted) log.warn({ interrupted: report.interrupted }, 'marked interrupted deploys as failed');
  if (report.restarted.length) log.warn({ containers: report.restarted }, 'restarted app containers that were not running');
  if (report.missing.length) log.error({ apps: report.missing }, 'app containers are missing; redeploy these apps');
  if (report.removedOrphans.length) log.info({ containers: report.removedOrphans }, 'removed containers no release uses');
  if (report.removedApps.length) log.info({ apps: report.removedApps }, 'removed what apps that no longer exist left on the runner');
  if (report.moved.length) log.info({ apps: report.moved }, 'app containers have new addresses; routes follow');
}
