import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Formation, ProcessPlacement } from '../../../src/domain/processes.js';
import type { Address, AppRow, Placement, Release } from '../../../src/domain/types.js';
import { MinPaasError } from '../../../src/errors.js';
import type { Route, Router, ServeReport } from '../../../src/router/types.js';
import type { ContainerRequest, ContainerStatus, Healthy, LogStream, OneOffRequest, OneOffResult, OutputSink, Runner, RunningContainer } from '../../../src/runner/types.js';
import type { ReleaseCommit } from '../../../src/store/store.js';

/** In-memory stand-ins for the Runner, the Router and the Store, for unit tests of the Run stage. */

export class InjectedFailure extends Error {}

/** A logger whose lines the test can read. */
export function captureLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  return { log, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

interface FakeContainer {
  app: string;
  running: boolean;
  address: Address | null;
  restartCount: number;
  keepRunning: boolean;
}

export type RunnerStep = 'start' | 'health' | 'stable' | 'keepRunning' | 'list' | 'retire' | 'remove' | 'restart';

export class FakeRunner implements Runner {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  readonly failing = new Set<RunnerStep>();
  private onStart: ((name: string) => void) | undefined;

  private fail(step: RunnerStep): void {
    if (this.failing.has(step)) throw new InjectedFailure(`injected ${step} failure`);
  }

  /** A container that already runs (e.g. the serving release before a deploy). */
  add(name: string, app: string, address: Address | null, running = true): void {
    this.containers.set(name, { app, running, address, restartCount: 0, keepRunning: true });
  }

  /** Containers whose health check (or worker start-up) fails, by name. */
  readonly failingContainers = new Set<string>();
  /** What each start was asked (type, command, env…). */
  readonly requests: ContainerRequest[] = [];
  /** One-off runs: what they were asked, and what they answer. */
  readonly oneOffs: OneOffRequest[] = [];
  oneOffResult: OneOffResult = { exitCode: 0, timedOut: false };
  oneOffOutput: string[] = [];

  async start(req: ContainerRequest): Promise<RunningContainer> {
    const name = `minpaas-${req.app}-v${req.release}-${req.type}-${req.replica}`;
    this.calls.push(`start ${name}`);
    this.requests.push(req);
    this.fail('start');
    // Web replicas at 10.0.RELEASE.(replica+1); workers have no address.
    const address = req.appPort !== null ? { host: `10.0.${req.release}.${req.replica + 1}`, port: req.appPort } : null;
    this.containers.set(name, { app: req.app, running: true, address, restartCount: 0, keepRunning: false });
    return { name, address };
  }

  async waitHealthy(container: RunningContainer): Promise<Healthy> {
    this.calls.push(`health ${container.name}`);
    if (this.failing.has('health') || this.failingContainers.has(container.name)) {
      throw new MinPaasError('HEALTH_CHECK_FAILED', 'health check failed: the app exited (code 1) before it answered HTTP');
    }
    return { status: 200, elapsedMs: 120 };
  }

  async waitStable(container: RunningContainer, seconds: number): Promise<void> {
    this.calls.push(`stable ${container.name} ${seconds}s`);
    if (this.failing.has('stable') || this.failingContainers.has(container.name)) {
      throw new MinPaasError('HEALTH_CHECK_FAILED', `${container.name} did not stay up ${seconds} s: the app exited (code 1)`);
    }
  }

  async runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult> {
    this.calls.push(`oneOff ${typeof req.command === 'string' ? req.command : req.command.join(' ')}`);
    this.oneOffs.push(req);
    for (const line of this.oneOffOutput) onOutput('stdout', Buffer.from(`${line}\n`));
    return this.oneOffResult;
  }

  async keepRunning(name: string): Promise<void> {
    this.calls.push(`keepRunning ${name}`);
    this.fail('keepRunning');
    const c = this.containers.get(name);
    if (c) c.keepRunning = true;
  }

  async containersOf(app: string): Promise<string[]> {
    this.fail('list');
    return [...this.containers].filter(([, c]) => c.app === app).map(([name]) => name);
  }

  async listAll(): Promise<ContainerStatus[]> {
    return [...this.containers.keys()].map((name) => this.status(name)!);
  }

  private status(name: string): ContainerStatus | null {
    const c = this.containers.get(name);
    if (!c) return null;
    return { name, app: c.app, status: c.running ? 'running' : 'exited', running: c.running, restartCount: c.restartCount, startedAt: null, address: c.running ? c.address : null };
  }

  async inspect(name: string): Promise<ContainerStatus | null> {
    return this.status(name);
  }

  async restart(name: string): Promise<ContainerStatus | null> {
    this.calls.push(`restart ${name}`);
    this.fail('restart');
    const c = this.containers.get(name);
    if (c) c.running = true;
    return this.status(name);
  }

  async retire(names: string[]): Promise<void> {
    this.calls.push(`retire ${names.join(',')}`);
    this.fail('retire');
    for (const name of names) this.containers.delete(name);
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    this.fail('remove');
    this.containers.delete(name);
  }

  /** Apps with a network but no container (e.g. a first deploy that failed). */
  readonly networks = new Set<string>();

  async removeApp(app: string): Promise<void> {
    this.calls.push(`removeApp ${app}`);
    for (const [name, c] of this.containers) if (c.app === app) this.containers.delete(name);
    this.networks.delete(app);
  }

  async knownApps(): Promise<string[]> {
    return [...new Set([...[...this.containers.values()].map((c) => c.app), ...this.networks])].sort();
  }

  async logs(): Promise<string> {
    return '';
  }

  async followLogs(): Promise<LogStream> {
    throw new Error('not used by these tests');
  }

  async updateLimits(): Promise<void> {}

  async watchStarts(onStart: (name: string) => void): Promise<() => void> {
    this.onStart = onStart;
    return () => (this.onStart = undefined);
  }

  /** Docker restarted a container and gave it another address. */
  restartAt(name: string, address: Address): void {
    const c = this.containers.get(name)!;
    c.address = address;
    c.restartCount++;
    this.onStart?.(name);
  }
}

export type RouterStep = 'serve' | 'serve-half' | 'persist' | 'remove' | 'ensureRunning';

export class FakeRouter implements Router {
  /** What serves now, by app. */
  readonly live = new Map<string, Route>();
  /** What the config file says. */
  persisted = new Map<string, Route>();
  readonly calls: string[] = [];
  readonly failing = new Set<RouterStep>();
  /** How many serve() calls fail before they work again (undefined: all while failing). */
  failServeTimes: number | undefined;

  private fail(step: RouterStep): void {
    if (this.failing.has(step)) throw new InjectedFailure(`injected ${step} failure`);
  }

  /** Where the app's requests go now, as "host:port", or null. */
  target(app: string): string | null {
    const t = this.live.get(app)?.targets[0];
    return t ? `${t.host}:${t.port}` : null;
  }

  /** Every target of the app's web group, as "host:port". */
  targets(app: string): string[] {
    return (this.live.get(app)?.targets ?? []).map((t) => `${t.host}:${t.port}`);
  }

  async ensureRunning(routes: Route[]): Promise<void> {
    this.calls.push(`ensureRunning ${routes.map((r) => r.app).join(',')}`);
    this.fail('ensureRunning');
    this.live.clear();
    for (const r of routes) this.live.set(r.app, r);
    this.persisted = new Map(this.live);
  }

  async serve(route: Route): Promise<ServeReport> {
    this.calls.push(`serve ${route.app} ${route.targets.map((t) => `${t.host}:${t.port}`).join(',')}`);
    const failNow = this.failServeTimes === undefined || this.failServeTimes > 0;
    if (failNow && this.failing.has('serve-half')) {
      if (this.failServeTimes !== undefined) this.failServeTimes--;
      // Switched, then lost while draining.
      this.live.set(route.app, route);
      throw new InjectedFailure('injected failure after the switch');
    }
    if (failNow && this.failing.has('serve')) {
      if (this.failServeTimes !== undefined) this.failServeTimes--;
      throw new InjectedFailure('injected serve failure');
    }
    const added = !this.live.has(route.app);
    this.live.set(route.app, route);
    return { added, drained: true, drainMs: 42 };
  }

  async remove(app: string): Promise<void> {
    this.calls.push(`remove ${app}`);
    this.fail('remove');
    this.live.delete(app);
  }

  routes(): Route[] {
    return [...this.live.values()];
  }

  async persist(): Promise<void> {
    this.calls.push('persist');
    this.fail('persist');
    this.persisted = new Map(this.live);
  }

  startWatchdog(): void {}
  close(): void {}
  async stopProcess(): Promise<void> {}
}

/** The part of the Store the Run stage and reconciliation use, in memory. */
export class FakeStore {
  readonly apps = new Map<string, AppRow>();
  readonly releases: Release[] = [];
  readonly deploys = new Map<number, { status: 'running' | 'succeeded' | 'failed'; release: number | null }>();
  readonly processes = new Map<string, ProcessPlacement[]>();
  readonly formations = new Map<string, Formation>();
  failCommit = false;

  getFormation(app: string): Formation {
    return { ...this.formations.get(app) };
  }

  listProcesses(app?: string): Array<ProcessPlacement & { app: string }> {
    return [...this.processes].filter(([name]) => app === undefined || name === app).flatMap(([name, list]) => list.map((p) => ({ ...p, app: name })));
  }

  commitScale(app: string, formation: Formation, processes: ProcessPlacement[], deployId: number, release: number): void {
    if (this.failCommit) throw new InjectedFailure('injected commit failure (SQLITE_BUSY)');
    this.formations.set(app, { ...this.formations.get(app), ...formation });
    this.setProcesses(app, processes);
    this.deploys.set(deployId, { status: 'succeeded', release });
  }

  setProcessAddress(app: string, container: string, address: Address): void {
    this.setProcesses(app, (this.processes.get(app) ?? []).map((p) => (p.container === container ? { ...p, address } : p)));
  }

  private setProcesses(app: string, processes: ProcessPlacement[]): void {
    this.processes.set(app, processes.map((p) => ({ ...p })));
    const main = processes.find((p) => p.address !== null) ?? processes[0];
    const row = this.apps.get(app)!;
    this.apps.set(app, { ...row, container: main?.container ?? null, address: main?.address ?? null });
  }

  addApp(name: string, port: number, current?: { release: number; placement: Placement }): AppRow {
    const t = new Date(0).toISOString();
    const app: AppRow = {
      name,
      runtime: 'node',
      builder: 'platform',
      scheduler: 'docker-local',
      repo: null,
      branch: null,
      port,
      release: current?.release ?? null,
      container: current?.placement.container ?? null,
      address: current?.placement.address ?? null,
      memoryLimit: null,
      cpuLimit: null,
      createdAt: t,
      updatedAt: t,
    };
    this.apps.set(name, app);
    if (current) this.processes.set(name, [{ type: 'web', replica: 1, container: current.placement.container, address: current.placement.address }]);
    return app;
  }

  startDeploy(): number {
    const id = this.deploys.size + 1;
    this.deploys.set(id, { status: 'running', release: null });
    return id;
  }

  commitRelease(commit: ReleaseCommit): Release {
    if (this.failCommit) throw new InjectedFailure('injected commit failure (SQLITE_BUSY)');
    const release: Release = { ...commit.release, createdAt: new Date(0).toISOString() };
    this.releases.push(release);
    const app = this.apps.get(release.app)!;
    this.apps.set(app.name, { ...app, release: release.number });
    this.setProcesses(app.name, commit.processes);
    this.deploys.set(commit.deployId, { status: 'succeeded', release: release.number });
    return release;
  }

  listApps(): AppRow[] {
    return [...this.apps.values()];
  }


  failInterruptedDeploys(): number {
    let n = 0;
    for (const d of this.deploys.values()) {
      if (d.status === 'running') {
        d.status = 'failed';
        n++;
      }
    }
    return n;
  }
}
