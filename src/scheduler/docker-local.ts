import type { DockerEngine } from '../docker/index.js';
import { freePort } from '../domain/ports.js';
import { containerName } from '../docker/index.js';
import { hostConfigFor, type Resources } from '../domain/resources.js';
import type { AppRow } from '../domain/types.js';
import { errorMessage, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RouteSpec, Router } from '../router/types.js';
import type { Placement } from '../store/store.js';
import { waitForHttp } from './health.js';
import { CONTAINER_HOST, routesFromApps, withRoute } from './routes.js';
import type { AppRuntimeStatus, Deployed, LogOptions, ReconcileReport, RunHooks, RunRequest, Scheduler } from './types.js';

export interface DockerLocalOptions {
  healthTimeoutMs: number;
  /** Seconds Docker waits after SIGTERM before it kills a retired container. */
  stopTimeoutSeconds: number;
  /** Hardening applied to every app container. */
  hostConfig: Record<string, unknown>;
}

/** Log lines of a failed container shown to the user. */
const CRASH_LOG_LINES = 20;

/**
 * Runs each release as one container on this Docker engine, behind the router's
 * blue/green slots. `apps()` reads the store: the router's config is always generated
 * from it.
 */
export class DockerLocalScheduler implements Scheduler {
  readonly name = 'docker-local';

  constructor(
    private readonly docker: DockerEngine,
    private readonly router: Router,
    private readonly apps: () => AppRow[],
    private readonly options: DockerLocalOptions,
    private readonly log: Logger,
  ) {}

  async deploy(req: RunRequest, hooks: RunHooks): Promise<Deployed> {
    const { app } = req;
    const name = containerName(app.name, req.release);
    // A crash mid-deploy may have left a container of this name: it is ours, it never served.
    await this.docker.remove(name);
    hooks.onLine(`-----> Starting ${name}`);
    const target = { host: CONTAINER_HOST, port: await this.start(name, req) };

    const health = await waitForHttp({
      ...target,
      timeoutMs: this.options.healthTimeoutMs,
      giveUp: () => this.crashReason(name),
    });
    if (!health.ok) {
      const logs = await this.lastLogs(name);
      await this.docker.remove(name);
      throw new MinPaasError('HEALTH_CHECK_FAILED', `health check failed: ${health.reason}`, logs.length ? ['app log:', ...logs] : []);
    }
    // Docker takes ~0.2 s to change the restart policy: done while traffic switches.
    const finishing = this.docker.keepRunning(name).catch((err) => {
      this.log.error({ container: name, err: errorMessage(err) }, 'could not set the restart policy; the app will not be restarted if it crashes');
    });
    hooks.measured?.('health_check', health.elapsedMs);
    hooks.onLine(`-----> Health check passed (HTTP ${health.status} after ${(health.elapsedMs / 1000).toFixed(1)} s)`);

    const oldContainer = app.containerPort !== null ? app.container : null;
    let placement: Placement;
    try {
      const switchStarted = performance.now();
      if (oldContainer) {
        const switched = await this.router.switchTo(app.name, app.routeSlot, target);
        hooks.measured?.('switch', performance.now() - switchStarted - switched.drainMs);
        hooks.measured?.('drain', switched.drainMs);
        placement = { container: name, containerPort: target.port, routeSlot: switched.slot };
        hooks.onLine(
          switched.drained
            ? `-----> Switched traffic; old release drained in ${switched.drainMs} ms`
            : `-----> Switched traffic; old release still busy after ${switched.drainMs} ms, stopping it anyway`,
        );
      } else {
        placement = { container: name, containerPort: target.port, routeSlot: 'blue' };
        await this.router.apply(withRoute(routesFromApps(this.apps()), this.route(app, placement)));
        hooks.measured?.('switch', performance.now() - switchStarted);
        hooks.onLine(`-----> Routed port ${app.port} to ${name}`);
      }
    } catch (err) {
      await finishing;
      // A switch may have half happened: put the router back to what the store says
      // (the old release) before the new container goes.
      await this.router.ensureRunning(routesFromApps(this.apps())).catch((restoreErr) => {
        this.log.error({ app: app.name, err: errorMessage(restoreErr) }, 'could not restore the route after a failed switch');
      });
      await this.docker.remove(name);
      throw new Error(`the router could not switch to the new release: ${errorMessage(err)}`);
    }

    try {
      hooks.commit(placement);
    } catch (err) {
      await finishing;
      await this.undo(app, placement, name);
      throw err;
    }
    // The router keeps its runtime switch until the file shows it, so the rewrite (with its
    // `haproxy -c` check, ~0.1 s) need not delay the answer.
    const configWritten = this.router.writeConfig(routesFromApps(this.apps())).catch((err) => {
      this.log.error({ err: errorMessage(err) }, 'could not rewrite the router config');
    });
    return { placement, finishing: Promise.all([finishing, configWritten]).then(() => undefined) };
  }

  /**
   * Runs the container on a free loopback port and returns that port; another program
   * may take it first, so retry.
   */
  private async start(name: string, req: RunRequest): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const hostPort = await freePort(CONTAINER_HOST);
      try {
        await this.docker.run({
          name,
          image: req.image,
          env: { ...req.env, PORT: String(req.containerPort) },
          containerPort: req.containerPort,
          hostPort,
          labels: this.docker.labels(req.app.name, req.release),
          hostConfig: { ...this.options.hostConfig, ...hostConfigFor(req.resources) },
        });
        return hostPort;
      } catch (err) {
        await this.docker.remove(name);
        if (attempt >= 3 || !/port is already allocated|address already in use/i.test(errorMessage(err))) throw err;
      }
    }
  }

  async applyResources(app: AppRow, resources: Resources): Promise<void> {
    if (!app.container) return;
    await this.docker.update(app.container, hostConfigFor(resources, await this.docker.hostCapacity()));
  }

  async status(app: AppRow): Promise<AppRuntimeStatus> {
    if (!app.container) return { status: 'none', restartCount: 0 };
    const state = await this.docker.inspect(app.container);
    if (!state) return { status: 'missing', restartCount: 0 };
    return { status: state.status, restartCount: state.restartCount };
  }

  async logs(app: AppRow, opts: LogOptions): Promise<string> {
    if (!app.container) return '';
    await this.assertContainer(app);
    return this.docker.logs(app.container, opts.tail);
  }

  async followLogs(app: AppRow, opts: LogOptions): Promise<{ stream: NodeJS.ReadableStream; stop: () => void }> {
    if (!app.container) throw new MinPaasError('CONFLICT', `${app.name} has no running release yet`);
    await this.assertContainer(app);
    return this.docker.followLogs(app.container, opts.tail);
  }

  private async assertContainer(app: AppRow): Promise<void> {
    if (!(await this.docker.inspect(app.container!))) {
      throw new MinPaasError('CONFLICT', `the container of ${app.name} (${app.container}) is gone; deploy the app again`);
    }
  }

  async remove(app: AppRow): Promise<void> {
    for (const c of await this.docker.listOwnedContainers(app.name)) await this.docker.remove(c.id);
    await this.router.apply(routesFromApps(this.apps().filter((a) => a.name !== app.name)));
  }

  /**
   * One label-filtered list, no inspect per container (1,000 apps start in a second): only
   * a container that has to be started again is inspected, for its new published port.
   */
  async reconcile(apps: AppRow[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { restarted: [], missing: [], removedOrphans: [], placements: {} };
    const current = new Map(apps.filter((a) => a.container).map((a) => [a.container!, a]));
    const summaries = await this.docker.listOwnedContainerSummaries();
    const byName = new Map(summaries.map((c) => [c.name, c]));
    for (const c of summaries) {
      if (current.has(c.name)) continue;
      // Owned, but no release uses it: a deploy that died half-way, or a retired one.
      await this.docker.remove(c.id);
      report.removedOrphans.push(c.name);
    }
    for (const app of current.values()) {
      const summary = byName.get(app.container!);
      if (!summary) {
        report.missing.push(app.name);
        continue;
      }
      let hostPort = summary.hostPort;
      if (summary.state !== 'running' && summary.state !== 'restarting') {
        await this.docker.start(summary.id);
        hostPort = (await this.docker.inspect(summary.id))?.hostPort ?? hostPort;
        report.restarted.push(app.name);
      }
      if (hostPort !== null && hostPort !== app.containerPort) {
        report.placements[app.name] = { container: app.container!, containerPort: hostPort, routeSlot: app.routeSlot };
      }
    }
    return report;
  }

  private route(app: AppRow, placement: Placement): RouteSpec {
    return { app: app.name, port: app.port, slot: placement.routeSlot, target: { host: CONTAINER_HOST, port: placement.containerPort } };
  }

  /** The commit failed after the switch: route back to the old container, drop the new one. */
  private async undo(app: AppRow, placement: Placement, name: string): Promise<void> {
    try {
      if (app.containerPort !== null) {
        await this.router.switchTo(app.name, placement.routeSlot, { host: CONTAINER_HOST, port: app.containerPort });
      }
      await this.router.apply(routesFromApps(this.apps()));
    } catch (err) {
      this.log.error({ app: app.name, err }, 'could not restore the route after a failed commit');
    }
    await this.docker.remove(name);
  }

  async staleContainers(app: string, keep: string): Promise<string[]> {
    return (await this.docker.listOwnedContainerNames(app)).filter((name) => name !== keep);
  }

  async retire(containers: string[]): Promise<void> {
    await Promise.all(
      containers.map(async (name) => {
        await this.docker.stop(name, this.options.stopTimeoutSeconds);
        await this.docker.remove(name);
      }),
    );
  }

  private async crashReason(name: string): Promise<string | null> {
    const state = await this.docker.inspect(name);
    if (!state) return 'the container disappeared';
    if (!state.running && state.status !== 'created') {
      return `the app exited (code ${state.exitCode}) before it answered HTTP`;
    }
    return null;
  }

  private async lastLogs(name: string): Promise<string[]> {
    try {
      const text = await this.docker.logs(name, CRASH_LOG_LINES);
      return text.split('\n').filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  }
}
