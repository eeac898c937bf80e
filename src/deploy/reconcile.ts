import type { AppRow } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Route, Router } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { routeOf } from './run-release.js';

export type ReconcileStore = Pick<Store, 'listApps' | 'setPlacement' | 'failInterruptedDeploys'>;

export interface ReconcilePorts {
  runner: Runner;
  router: Router;
  store: ReconcileStore;
  log: Logger;
}

export interface ReconcileReport {
  /** Deploys a crash left running, now marked failed. */
  interrupted: number;
  /** Apps whose container had to be started again. */
  restarted: string[];
  /** Apps whose current container is gone; they need a redeploy. */
  missing: string[];
  /** Containers MinPaas owned but no release uses: removed. */
  removedOrphans: string[];
  /** Apps the store does not know that still had something on the runner (a network): removed. */
  removedApps: string[];
  /** Apps whose container came back at another address: the store and the router follow. */
  moved: string[];
}

/** Every app with a release, routed to where the store says it runs. */
export function routesFromApps(apps: AppRow[]): Route[] {
  return apps.filter((a) => a.address !== null).map((a) => routeOf(a, a.address));
}

/**
 * Start-up: make the containers and the router match the store (the source of truth).
 * Interrupted deploys are marked failed; containers no release uses are removed; current
 * containers that stopped are started again; addresses are read back from the runner (a
 * restart may have moved one) and the router is made to serve exactly the store's routes.
 */
export async function reconcile(ports: ReconcilePorts): Promise<ReconcileReport> {
  const { runner, router, store } = ports;
  const report: ReconcileReport = { interrupted: 0, restarted: [], missing: [], removedOrphans: [], removedApps: [], moved: [] };
  report.interrupted = store.failInterruptedDeploys('interrupted: MinPaas stopped while this deploy was running');
  const current = new Map(store.listApps().filter((a) => a.container).map((a) => [a.container!, a]));
  for (const c of await runner.listAll()) {
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
  for (const app of current.values()) {
    let state = await runner.inspect(app.container!);
    if (!state) {
      report.missing.push(app.name);
      continue;
    }
    if (!state.running) {
      state = (await runner.restart(app.container!)) ?? state;
      report.restarted.push(app.name);
    }
    const address = state.address;
    if (address && (address.host !== app.address?.host || address.port !== app.address?.port)) {
      store.setPlacement(app.name, { container: app.container!, address });
      report.moved.push(app.name);
    }
  }
  await router.ensureRunning(routesFromApps(store.listApps()));
  logReport(ports.log, report);
  return report;
}

function logReport(log: Logger, report: ReconcileReport): void {
  if (report.interrupted) log.warn({ interrupted: report.interrupted }, 'marked interrupted deploys as failed');
  if (report.restarted.length) log.warn({ apps: report.restarted }, 'restarted app containers that were not running');
  if (report.missing.length) log.error({ apps: report.missing }, 'app containers are missing; redeploy these apps');
  if (report.removedOrphans.length) log.info({ containers: report.removedOrphans }, 'removed containers no release uses');
  if (report.removedApps.length) log.info({ apps: report.removedApps }, 'removed what apps that no longer exist left on the runner');
  if (report.moved.length) log.info({ apps: report.moved }, 'app containers have new addresses; routes follow');
}
