import { randomBytes } from 'node:crypto';
import { containerName, hostConfigFor, networkName, oneOffName, type ContainerState, type DockerEngine } from '../docker/index.js';
import { dynoName, WEB_TYPE } from '../domain/processes.js';
import { sleep } from '../sleep.js';
import type { Resources } from '../domain/resources.js';
import { MinPaasError } from '../errors.js';
import { waitForHttp } from './health.js';
import type { ContainerRequest, ContainerStatus, Healthy, LogStream, OneOffRequest, OneOffResult, OutputSink, Runner, RunningContainer } from './types.js';

/**
 * A Procfile command as a container's CMD: by bash where the image has it (as Heroku
 * runs Procfile commands, and as the platform bakes `web` in), else by sh (slim
 * Dockerfile images).
 */
export function shellCommand(command: string): string[] {
  return ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; else exec sh -c "$1"; fi', 'sh', command];
}

export interface DockerRunnerOptions {
  /** Seconds Docker waits after SIGTERM before it kills a retired container. */
  stopTimeoutSeconds: number;
  /** Hardening applied to every app container. */
  hostConfig: Record<string, unknown>;
  /** Told each app network's subnets before its first container starts (the control plane's guard). */
  onNetwork?: (subnets: string[]) => void;
}

/** Log lines of a failed container shown to the user. */
const CRASH_LOG_LINES = 20;

function toStatus(state: ContainerState): ContainerStatus {
  return {
    name: state.name,
    app: state.app,
    status: state.status,
    running: state.running,
    restartCount: state.restartCount,
    startedAt: state.startedAt,
    address: state.ip !== null && state.appPort !== null ? { host: state.ip, port: state.appPort } : null,
  };
}

/**
 * The Runner on this machine's Docker engine: each release is one container on its app's
 * own bridge network, reached by the host (the router, health checks) at its address.
 */
export class DockerRunner implements Runner {
  constructor(
    private readonly docker: DockerEngine,
    private readonly options: DockerRunnerOptions,
  ) {}

  async start(req: ContainerRequest): Promise<RunningContainer> {
    const name = containerName(req.app, req.release, req.type, req.replica);
    // A crash mid-deploy may have left a container of this name: it is ours, it never served.
    await this.docker.remove(name);
    const network = await this.ensureNetwork(req.app);
    const web = req.type === WEB_TYPE && req.appPort !== null;
    try {
      await this.docker.run({
        name,
        image: req.imageId,
        env: { ...req.env, DYNO: dynoName(req.type, req.replica), ...(web ? { PORT: String(req.appPort) } : {}) },
        appPort: web ? req.appPort : null,
        ...(req.command !== null ? { cmd: shellCommand(req.command) } : {}),
        network,
        labels: this.docker.labels(req.app, req.release),
        hostConfig: { ...this.options.hostConfig, ...hostConfigFor(req.resources) },
      });
      const state = await this.docker.inspect(name);
      if (state?.ip) return { name, address: web ? { host: state.ip, port: req.appPort! } : null };
      // Exited before we could read its address: the same failure a health check reports.
      const reason = (await this.crashReason(name)) ?? `the container has no address on ${network}`;
      throw new MinPaasError('HEALTH_CHECK_FAILED', `health check failed: ${reason}`, await this.crashLog(name));
    } catch (err) {
      await this.docker.remove(name);
      throw err;
    }
  }

  /** Per app, the network being made: the replicas of a first deploy start side by side. */
  private readonly ensuring = new Map<string, Promise<string>>();

  /**
   * The app's network, made once however many starts ask at the same time (Docker
   * accepts two networks of one name, and then refuses to use either: "ambiguous").
   */
  private ensureNetwork(app: string): Promise<string> {
    const pending = this.ensuring.get(app);
    if (pending) return pending;
    const made = (async () => {
      const network = await this.docker.networks.ensure(networkName(app), app);
      this.options.onNetwork?.(network.subnets);
      return network.name;
    })().finally(() => this.ensuring.delete(app));
    this.ensuring.set(app, made);
    return made;
  }

  async waitStable(container: RunningContainer, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const reason = await this.crashReason(container.name);
      if (reason) throw new MinPaasError('HEALTH_CHECK_FAILED', `${container.name} did not stay up ${seconds} s: ${reason.replace(' before it answered HTTP', '')}`, await this.crashLog(container.name));
      if (Date.now() >= deadline) return;
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
    }
  }

  async runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult> {
    const name = oneOffName(req.app, req.release, randomBytes(4).toString('hex'));
    const network = await this.ensureNetwork(req.app);
    return this.docker.runOneOff(
      {
        name,
        image: req.imageId,
        env: { ...req.env, DYNO: `run.${name.slice(-8)}` },
        appPort: null,
        cmd: typeof req.command === 'string' ? shellCommand(req.command) : req.command,
        network,
        labels: this.docker.labels(req.app, req.release),
        hostConfig: { ...this.options.hostConfig, ...hostConfigFor(req.resources) },
      },
      onOutput,
      req.timeoutMs,
      req.signal,
    );
  }

  async waitHealthy(container: RunningContainer, timeoutMs: number): Promise<Healthy> {
    if (!container.address) throw new Error(`${container.name} has no port to check`);
    const health = await waitForHttp({ ...container.address, timeoutMs, giveUp: () => this.crashReason(container.name) });
    if (health.ok) return { status: health.status, elapsedMs: health.elapsedMs };
    throw new MinPaasError('HEALTH_CHECK_FAILED', `health check failed: ${health.reason}`, await this.crashLog(container.name));
  }

  keepRunning(name: string): Promise<void> {
    return this.docker.keepRunning(name);
  }

  containersOf(app: string): Promise<string[]> {
    return this.docker.listOwnedContainerNames(app);
  }

  async listAll(): Promise<ContainerStatus[]> {
    return (await this.docker.listOwnedContainers()).map(toStatus);
  }

  async inspect(name: string): Promise<ContainerStatus | null> {
    const state = await this.docker.inspect(name);
    return state ? toStatus(state) : null;
  }

  async restart(name: string): Promise<ContainerStatus | null> {
    await this.docker.start(name);
    return this.inspect(name);
  }

  async retire(names: string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        await this.docker.stop(name, this.options.stopTimeoutSeconds);
        await this.docker.remove(name);
      }),
    );
  }

  remove(name: string): Promise<void> {
    return this.docker.remove(name);
  }

  async removeApp(app: string): Promise<void> {
    for (const c of await this.docker.listOwnedContainerNames(app)) await this.docker.remove(c);
    for (const n of await this.docker.networks.listOwned(app)) await this.docker.networks.remove(n.id);
  }

  async knownApps(): Promise<string[]> {
    const [containers, networks] = await Promise.all([this.docker.listOwnedContainers(), this.docker.networks.listOwned()]);
    const apps = [...containers.map((c) => c.app), ...networks.map((n) => n.app)];
    return [...new Set(apps.filter((a): a is string => a !== null))].sort();
  }

  async logs(name: string, tail: number): Promise<string> {
    await this.assertExists(name);
    return this.docker.logs(name, tail);
  }

  async followLogs(name: string, tail: number): Promise<LogStream> {
    await this.assertExists(name);
    return this.docker.followLogs(name, tail);
  }

  async updateLimits(name: string, resources: Resources): Promise<void> {
    await this.docker.update(name, hostConfigFor(resources, await this.docker.hostCapacity()));
  }

  watchStarts(onStart: (name: string) => void): Promise<() => void> {
    return this.docker.networks.watchStarts(onStart);
  }

  private async assertExists(name: string): Promise<void> {
    const state = await this.docker.inspect(name);
    if (!state) throw new MinPaasError('CONFLICT', `the container ${name} is gone; deploy the app again`);
  }

  private async crashReason(name: string): Promise<string | null> {
    const state = await this.docker.inspect(name);
    if (!state) return 'the container disappeared';
    if (!state.running && state.status !== 'created') return `the app exited (code ${state.exitCode}) before it answered HTTP`;
    return null;
  }

  /** The container's last log lines, as the details of a failed health check. */
  private async crashLog(name: string): Promise<string[]> {
    try {
      const lines = (await this.docker.logs(name, CRASH_LOG_LINES)).split('\n').filter((l) => l.trim() !== '');
      return lines.length ? ['app log:', ...lines] : [];
    } catch {
      return [];
    }
  }
}
