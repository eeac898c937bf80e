import type { DeployPipeline } from '../deploy/pipeline.js';
import { dynoName, effectiveFormation, WEB_TYPE, type Formation } from '../domain/processes.js';
import { effectiveResources, type Resources } from '../domain/resources.js';
import type { AppRow, Release } from '../domain/types.js';
import { invalid, MinPaasError, notFound } from '../errors.js';
import type { ServiceRunner, SwarmTask } from '../runner/swarm-types.js';
import type { ContainerStatus, OneOffResult, OutputSink, Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { assertAppName } from '../domain/names.js';

export interface ProcessServiceDeps {
  store: Store;
  runner: Runner;
  pipeline: DeployPipeline;
  defaultResources: Resources;
  /** A one-off run's timeout when the request sets none. */
  runTimeoutMs: number;
  /** The Swarm scheduler: `ps` and one-off runs of swarm apps. */
  swarm?: ServiceRunner;
}

/** One row of `ps`. */
export interface ProcessRecord {
  type: string;
  replica: number;
  /** `web.1`: the process's $DYNO. */
  name: string;
  container: string;
  /** Docker's word (running, restarting, exited…) or `missing`. */
  status: string;
  /** Seconds since it last started, while it runs. */
  uptime: number | null;
  restarts: number;
}

export interface PsRecord {
  app: string;
  release: number | null;
  /** running; crashed when every web process is down; none without processes. */
  status: string;
  formation: Formation;
  processes: ProcessRecord[];
}

/** A one-off run: an argument vector, at most this many seconds. */
export interface RunCommand {
  command: string[];
  timeoutSeconds?: number;
}

export function decodeRun(body: Record<string, unknown>): RunCommand {
  const { command, timeout } = body;
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string') || command.length > 1000) {
    throw invalid('run needs {"command": ["cmd", "arg", …]}: a non-empty array of strings');
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 86_400)) {
    throw invalid('timeout must be a whole number of seconds from 1 to 86400');
  }
  return { command: command as string[], ...(typeof timeout === 'number' ? { timeoutSeconds: timeout } : {}) };
}

/** A process restarted after a crash counts as up only once it has stayed up this long (a restart loop flickers through running). */
export const STABLE_AFTER_RESTART_SECONDS = 5;

type ProcessState = Pick<ProcessRecord, 'type' | 'status' | 'restarts' | 'uptime'>;

function isUp(p: ProcessState): boolean {
  if (p.status !== 'running') return false;
  return p.restarts === 0 || p.uptime === null || p.uptime >= STABLE_AFTER_RESTART_SECONDS;
}

/** The app's state from its processes: crashed when it has web processes and none of them is up. */
export function processesStatus(processes: ProcessState[]): string {
  if (processes.length === 0) return 'none';
  const web = processes.filter((p) => p.type === WEB_TYPE);
  if (web.length > 0 && !web.some(isUp)) return 'crashed';
  return processes.every(isUp) ? 'running' : 'degraded';
}

function uptimeOf(state: ContainerStatus | null): number | null {
  if (!state?.running || !state.startedAt) return null;
  return Math.max(0, Math.round((Date.now() - Date.parse(state.startedAt)) / 1000));
}

/** Formation, `ps` and one-off runs: what the processes API and CLI do. */
export class ProcessService {
  constructor(private readonly deps: ProcessServiceDeps) {}

  /** GET /apps/APP/formation: the count of every type of the serving release (stored counts before it). */
  formation(name: string): Formation {
    const app = this.app(name);
    const release = this.release(app);
    const stored = this.deps.store.getFormation(app.name);
    return release ? effectiveFormation(release.processTypes, stored) : stored;
  }

  /** PATCH /apps/APP/formation: scales under the app's lock; answers the formation after. */
  async scale(name: string, changes: Formation): Promise<Formation> {
    const app = this.app(name);
    await this.deps.pipeline.scale(app.name, changes);
    return this.formation(app.name);
  }

  /** GET /apps/APP/ps: every process of the serving release with its container's state. */
  async ps(name: string): Promise<PsRecord> {
    const app = this.app(name);
    if (app.scheduler === 'swarm' && this.deps.swarm && app.release !== null) {
      const processes = swarmProcesses(await this.deps.swarm.tasks(app.name));
      return { app: app.name, release: app.release, status: processesStatus(processes), formation: this.formation(app.name), processes };
    }
    const processes = await Promise.all(
      this.deps.store.listProcesses(app.name).map(async (p): Promise<ProcessRecord> => {
        const state = await this.deps.runner.inspect(p.container);
        return { type: p.type, replica: p.replica, name: dynoName(p.type, p.replica), container: p.container, status: state?.status ?? 'missing', uptime: uptimeOf(state), restarts: state?.restartCount ?? 0 };
      }),
    );
    return { app: app.name, release: app.release, status: processesStatus(processes), formation: this.formation(app.name), processes };
  }

  /** The status apps:info shows for an app with a release (see processesStatus). */
  async status(app: AppRow): Promise<{ status: string; restartCount: number }> {
    const ps = await this.ps(app.name);
    return { status: ps.status, restartCount: ps.processes.reduce((n, p) => n + p.restarts, 0) };
  }

  /**
   * POST /apps/APP/run: a one-off container of the serving release, with its config and
   * the app's limits, streaming its output; removed when it ends, times out or the client leaves.
   */
  async run(name: string, cmd: RunCommand, onOutput: OutputSink, signal?: AbortSignal): Promise<OneOffResult> {
    const { app, release } = this.runnable(name);
    const swarm = app.scheduler === 'swarm' ? this.deps.swarm : undefined;
    const runner: Pick<Runner, 'runOneOff'> = swarm ?? this.deps.runner;
    return runner.runOneOff(
      {
        app: app.name,
        release: release.number,
        // A swarm task may run on any node: the image every node can pull.
        imageId: swarm ? await swarm.publish(release.imageId, release.imageTag) : release.imageId,
        env: release.env,
        resources: effectiveResources(app, this.deps.defaultResources),
        command: cmd.command,
        timeoutMs: cmd.timeoutSeconds !== undefined ? cmd.timeoutSeconds * 1000 : this.deps.runTimeoutMs,
        ...(signal ? { signal } : {}),
      },
      onOutput,
    );
  }

  /** The app and the release a one-off runs: refused (404, 409) before any output is streamed. */
  runnable(name: string): { app: AppRow; release: Release } {
    const app = this.app(name);
    const release = this.release(app);
    if (!release) throw new MinPaasError('CONFLICT', `${app.name} has no release yet: push or deploy it first`);
    return { app, release };
  }

  private app(name: string): AppRow {
    const valid = assertAppName(name);
    const app = this.deps.store.getApp(valid);
    if (!app) throw notFound(`no app named ${valid}`);
    return app;
  }

  private release(app: AppRow): Release | undefined {
    return app.release === null ? undefined : this.deps.store.getRelease(app.name, app.release);
  }
}

/** `ps` of a swarm app: each replica slot's current task (a slot's failed tasks count as its restarts). */
export function swarmProcesses(tasks: SwarmTask[]): ProcessRecord[] {
  const current = tasks.filter((t) => t.desiredState === 'running' && t.replica !== null);
  return current.map((t) => {
    const restarts = tasks.filter((o) => o.type === t.type && o.replica === t.replica && o.desiredState === 'shutdown' && o.state === 'failed').length;
    const uptime = t.state === 'running' && t.updatedAt ? Math.max(0, Math.round((Date.now() - Date.parse(t.updatedAt)) / 1000)) : null;
    return { type: t.type, replica: t.replica!, name: dynoName(t.type, t.replica!), container: t.service, status: t.state, uptime, restarts };
  });
}
