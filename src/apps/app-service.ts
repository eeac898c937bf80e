import fs from 'node:fs/promises';
import type { Images } from '../build/images.js';
import { assertAppName, isValidAppName } from '../domain/names.js';
import { assertWithinHost, effectiveResources, formatSize, type HostCapacity, type Resources } from '../domain/resources.js';
import { releaseRecord, type AppRecord, type AppRow, type BuilderName, type SchedulerName, type Deploy, type DeployStatus, type EnvVars, type Release, type ReleaseRecord } from '../domain/types.js';
import { MinPaasError, notFound } from '../errors.js';
import type { RepoStore } from '../git/repos.js';
import type { DeployPipeline, DeployResult } from '../deploy/pipeline.js';
import type { CreateAppCommand, DeployCommand } from '../http/commands.js';
import type { Router } from '../router/types.js';
import type { AppRuntimeStatus, ContainerStatuses } from '../runner/container-statuses.js';
import type { ServiceRunner } from '../runner/swarm-types.js';
import type { LogStream, Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { pageOf, type AppPage } from './app-page.js';
import { applyConfigChanges, type ConfigChanges } from './config-changes.js';
import type { Limits } from './resource-changes.js';

export interface AppServiceDeps {
  store: Store;
  images: Images;
  runner: Runner;
  router: Router;
  pipeline: DeployPipeline;
  repos: RepoStore;
  publicUrl: (port: number) => string;
  defaultResources: Resources;
  /** What the engine's host has: limits above it are refused before Docker is asked. */
  hostCapacity: () => Promise<HostCapacity>;
  /** Container states of many apps from one Docker list. */
  statuses: ContainerStatuses;
  /** Runs first when an app is destroyed (its preview apps go with it). */
  beforeDestroy?: (app: string) => Promise<void>;
  /** The state of an app with a release, from all its processes (crashed when no web process runs). */
  processStatus?: (app: AppRow) => Promise<{ status: string; restartCount: number }>;
  /** The Swarm scheduler: logs, limits and deletion of swarm apps go through it. */
  swarm?: ServiceRunner;
  /** How long a rolling update of a swarm app's services may take (limits changes). */
  rolloutTimeoutMs?: number;
}

/** What an app record needs from the store besides the app row, by app name: shared with the store's cache (frozen), read, never changed. */
interface RecordFacts {
  envs: ReadonlyMap<string, Readonly<EnvVars>>;
  images: ReadonlyMap<string, string>;
  lastDeploys: ReadonlyMap<string, DeployStatus>;
}

/** Before the first release: new, deploying, or failed (its last deploy failed). */
function statusWithoutRelease(last: DeployStatus | undefined): string {
  if (!last) return 'new';
  return last === 'running' ? 'deploying' : last === 'failed' ? 'failed' : 'new';
}

/**
 * What the admin API and CLI can do with apps. It takes typed commands (the HTTP layer
 * decodes request bodies); the pipeline owns the app lock, for deploys and for the
 * changes here that must not overlap one.
 */
export class AppService {
  constructor(private readonly deps: AppServiceDeps) {}

  /** Every app (or one page), with container states from one Docker list and store facts from three queries. */
  async list(page: AppPage = {}): Promise<AppRecord[]> {
    const apps = pageOf(this.deps.store.sharedApps(), page);
    const statuses = await this.deps.statuses.forApps(apps);
    const { store } = this.deps;
    const facts: RecordFacts = { envs: store.envOfAll(), images: store.currentImages(), lastDeploys: store.lastDeployStatuses() };
    return apps.map((a) => this.record(a, statuses.get(a.name)!, facts));
  }

  /** One app: its state from all its processes (crashed, degraded…) when the process model knows them. */
  async get(name: string): Promise<AppRecord> {
    const app = this.app(name);
    const fromProcesses = app.release !== null && this.deps.processStatus ? await this.deps.processStatus(app) : undefined;
    return this.record(app, fromProcesses ?? (await this.deps.statuses.forApps([app])).get(app.name)!);
  }

  /**
   * POST /apps: an app before its first deploy (port allocated, no release), so config
   * can be set before the first push.
   */
  async create(cmd: CreateAppCommand): Promise<AppRecord> {
    const { name, runtime, builder, scheduler } = cmd;
    const exists = (): MinPaasError => new MinPaasError('CONFLICT', `an app named ${name} exists already`);
    if (this.deps.store.getApp(name)) throw exists();
    if (scheduler === 'swarm') await this.swarm().assertReady();
    const { created } = await this.deps.pipeline.ensureApp(name, { ...(runtime ? { runtime } : {}), ...(builder ? { builder } : {}), ...(scheduler ? { scheduler } : {}) });
    if (!created) throw exists();
    return this.get(name);
  }

  /** builder:set: how the next build of the app is made. Refused while it deploys. */
  async setBuilder(name: string, builder: BuilderName): Promise<AppRecord> {
    const app = this.app(name);
    await this.deps.pipeline.exclusive(app.name, async () => this.deps.store.setBuilder(app.name, builder));
    return this.get(app.name);
  }

  /**
   * scheduler:set: where the app runs. Before its first release only the choice is
   * stored; after, it is a deploy of the serving release on the other scheduler (the
   * router switches when the new side answers), committed with the release.
   */
  async setScheduler(name: string, scheduler: SchedulerName): Promise<AppRecord> {
    const app = this.app(name);
    if (scheduler === 'swarm') await this.swarm().assertReady();
    if (app.release === null) {
      await this.deps.pipeline.exclusive(app.name, async () => this.deps.store.setScheduler(app.name, scheduler));
      return this.get(app.name);
    }
    if (app.scheduler === scheduler) return this.get(app.name);
    const outcome = await this.deps.pipeline.redeploy(app.name, 'scheduler', 'config', async (current) => {
      if (current.scheduler === scheduler) throw new MinPaasError('CONFLICT', `${current.name} runs on ${scheduler} already`);
      const base = this.currentRelease(current);
      return { base, env: base.env, description: `Move to ${scheduler}`, scheduler, runReleasePhase: false };
    });
    await outcome.settled;
    return this.get(app.name);
  }

  private swarm(): ServiceRunner {
    if (!this.deps.swarm) throw new MinPaasError('SWARM_UNAVAILABLE', 'this MinPaas runs no Swarm scheduler; keep the app on docker-local');
    return this.deps.swarm;
  }

  /** POST /deploy: clone → the same pipeline as a push. */
  async deployFromRepo(cmd: DeployCommand, onLine?: (line: string) => void, signal?: AbortSignal): Promise<AppRecord> {
    const { app, runtime, builder, repo, branch, env } = cmd;
    const outcome: DeployResult = await this.deps.pipeline.buildAndDeploy({
      app,
      source: 'api',
      // Shown and stored without credentials: they are used for this clone only.
      from: { kind: 'clone', url: repo.url, shown: repo.shown, credentials: repo.credentials, branch },
      ...(runtime ? { runtime } : {}),
      ...(builder ? { builder } : {}),
      env,
      wait: false,
      ...(onLine ? { onLine } : {}),
      ...(signal ? { signal } : {}),
    });
    // API clients read the state right after the answer: let the old release finish retiring.
    await outcome.settled;
    return this.get(app);
  }

  getConfig(name: string): EnvVars {
    return this.deps.store.getEnv(this.app(name).name);
  }

  /** Sets and unsets vars: a new release on the same image when the app runs, else just stored. */
  async patchConfig(name: string, changes: ConfigChanges): Promise<{ config: EnvVars; release: number | null }> {
    const app = this.app(name);
    if (app.release === null) {
      return this.deps.pipeline.exclusive(app.name, async () => {
        const { env } = applyConfigChanges(this.deps.store.getEnv(app.name), changes);
        this.deps.store.setEnv(app.name, env);
        return { config: env, release: null };
      });
    }
    const outcome = await this.deps.pipeline.redeploy(app.name, 'config', 'config', async (current) => {
      const base = this.currentRelease(current);
      const { env, changed } = applyConfigChanges(this.deps.store.getEnv(current.name), changes);
      if (!changed) {
        throw new MinPaasError('INVALID_INPUT', `nothing to change: ${Object.keys(changes).join(', ')} already ${Object.keys(changes).length > 1 ? 'have' : 'has'} the given value (or is not set)`);
      }
      const keys = Object.keys(changes);
      const described = keys.length > 3 ? `${keys.slice(0, 3).join(', ')}…` : keys.join(', ');
      return { base, env, description: `Config change ${described}` };
    });
    await outcome.settled;
    return { config: outcome.release.env, release: outcome.release.number };
  }

  releases(name: string): ReleaseRecord[] {
    return this.deps.store.listReleases(this.app(name).name).map(releaseRecord);
  }

  /** A new release with release N's image and config; its release command runs only when asked. */
  async rollback(name: string, number: number, runReleasePhase = false): Promise<AppRecord> {
    const app = this.app(name);
    const outcome = await this.deps.pipeline.redeploy(app.name, 'rollback', 'rollback', async (current) => {
      const base = this.deps.store.getRelease(current.name, number);
      if (!base) throw notFound(`${current.name} has no release v${number}`);
      return { base, env: base.env, description: `Rollback to v${number}`, runReleasePhase };
    });
    await outcome.settled;
    return this.get(app.name);
  }

  async logs(name: string, tail: number, process?: string): Promise<string> {
    const app = this.app(name);
    if (app.scheduler === 'swarm' && app.release !== null) return this.swarm().logs(app.name, tail, process);
    const container = this.containerOf(app, process);
    if (!container) return '';
    return this.deps.runner.logs(container, tail);
  }

  async followLogs(name: string, tail: number, process?: string): Promise<LogStream> {
    const app = this.app(name);
    if (app.scheduler === 'swarm' && app.release !== null) return this.swarm().followLogs(app.name, tail, process);
    const container = this.containerOf(app, process);
    if (!container) throw new MinPaasError('CONFLICT', `${app.name} has no running release yet`);
    return this.deps.runner.followLogs(container, tail);
  }

  /** The container of one process (`worker.1`), or the app's main one (web.1) when none is named. */
  private containerOf(app: AppRow, process: string | undefined): string | null {
    if (process === undefined) return app.container;
    const found = this.deps.store.listProcesses(app.name).find((p) => `${p.type}.${p.replica}` === process);
    if (!found) throw notFound(`${app.name} runs no process ${process}; minpaas ps ${app.name} lists them`);
    return found.container;
  }

  deploys(name: string): Deploy[] {
    return this.deps.store.listDeploys(this.app(name).name);
  }

  deployLog(name: string, id: number | null): string {
    const app = this.app(name);
    const log = id === null ? undefined : this.deps.store.getDeployLog(app.name, id);
    if (log === undefined) throw notFound(`${app.name} has no deploy ${id ?? 'by that id'}`);
    return log;
  }

  /**
   * Containers, route, network, images, repo, workspace and records: all gone. A repo or
   * workspace left under a name without a record (e.g. by an older version) goes too.
   */
  async destroy(name: string): Promise<void> {
    const valid = assertAppName(name);
    const app = this.deps.store.getApp(valid);
    if (!app) {
      if (await this.removeLeftovers(valid)) return;
      throw notFound(`no app named ${valid}`);
    }
    await this.deps.pipeline.exclusive(app.name, async () => {
      await this.deps.beforeDestroy?.(app.name);
      await this.deps.router.remove(app.name);
      await this.deps.runner.removeApp(app.name);
      await this.deps.swarm?.removeApp(app.name);
      this.deps.store.deleteApp(app.name);
      await this.deps.repos.remove(app.name);
      await fs.rm(this.deps.pipeline.workspaceOf(app.name), { recursive: true, force: true });
      await this.deps.images.removeAll(app.name);
    });
  }

  /**
   * PATCH /apps/APP/resources {memory?, cpus?}: applied to the running container in
   * place (no rebuild, no restart) and to every later release. null = back to the default.
   */
  async setResources(name: string, changes: Partial<Limits>): Promise<AppRecord> {
    const app = this.app(name);
    const limits: Limits = { memoryLimit: app.memoryLimit, cpuLimit: app.cpuLimit, ...changes };
    // Decided before Docker is asked: Docker's own refusal would come back as a 500.
    const asked = (value: number | null | undefined): number | null => (value ? value : null);
    assertWithinHost({ memoryBytes: asked(changes.memoryLimit), cpus: asked(changes.cpuLimit) }, await this.deps.hostCapacity());
    await this.deps.pipeline.exclusive(app.name, async () => {
      const resources = effectiveResources({ ...app, ...limits }, this.deps.defaultResources);
      // Swarm: a rolling update of every service. Here: every process of the serving release, in place.
      if (app.scheduler === 'swarm' && app.release !== null) await this.swarm().updateLimits(app.name, resources, this.deps.rolloutTimeoutMs ?? 120_000);
      else for (const p of this.deps.store.listProcesses(app.name)) await this.deps.runner.updateLimits(p.container, resources);
      this.deps.store.setLimits(app.name, limits);
    });
    return this.get(app.name);
  }

  /**
   * At start-up: a repo or workspace that has no app record (left by an older version, or
   * a crash between the two) gets one (status new), so it is listed and can be deleted.
   */
  async adoptLeftovers(): Promise<string[]> {
    const names = new Set([...(await this.deps.repos.names()), ...(await this.deps.pipeline.workspaceNames())]);
    const adopted: string[] = [];
    for (const name of [...names].sort()) {
      if (!isValidAppName(name) || this.deps.store.getApp(name)) continue;
      if ((await this.deps.pipeline.ensureApp(name)).created) adopted.push(name);
    }
    return adopted;
  }

  /** Removes a repo and workspace that have no app record; false when there were none. */
  private async removeLeftovers(name: string): Promise<boolean> {
    const workspace = this.deps.pipeline.workspaceOf(name);
    const hasWorkspace = await fs.stat(workspace).then(() => true, () => false);
    if (!(await this.deps.repos.exists(name)) && !hasWorkspace) return false;
    await this.deps.pipeline.exclusive(name, async () => {
      await this.deps.repos.remove(name);
      await fs.rm(workspace, { recursive: true, force: true });
    });
    return true;
  }

  private app(name: string): AppRow {
    const valid = assertAppName(name);
    const app = this.deps.store.getApp(valid);
    if (!app) throw notFound(`no app named ${valid}`);
    return app;
  }

  private currentRelease(app: AppRow): Release {
    const release = app.release === null ? undefined : this.deps.store.getRelease(app.name, app.release);
    if (!release) throw new MinPaasError('CONFLICT', `${app.name} has no release yet: push or deploy it first`);
    return release;
  }

  /** One app's facts from the store; `list` reads them for every app in three queries instead. */
  private factsOf(app: AppRow): RecordFacts {
    const { store } = this.deps;
    const image = app.release === null ? undefined : store.getRelease(app.name, app.release)?.imageTag;
    const last = store.listDeploys(app.name, 1)[0];
    return {
      envs: new Map([[app.name, store.getEnv(app.name)]]),
      images: new Map(image ? [[app.name, image]] : []),
      lastDeploys: new Map(last ? [[app.name, last.status]] : []),
    };
  }

  private record(app: AppRow, runtimeStatus: AppRuntimeStatus, facts: RecordFacts = this.factsOf(app)): AppRecord {
    const { restartCount } = runtimeStatus;
    const status = app.release === null ? statusWithoutRelease(facts.lastDeploys.get(app.name)) : runtimeStatus.status;
    const resources = effectiveResources(app, this.deps.defaultResources);
    return {
      name: app.name,
      runtime: app.runtime,
      builder: app.builder,
      scheduler: app.scheduler,
      repo: app.repo,
      branch: app.branch,
      container: app.container,
      image: facts.images.get(app.name) ?? null,
      port: app.port,
      url: this.deps.publicUrl(app.port),
      env: facts.envs.get(app.name) ?? {},
      release: app.release,
      status,
      restarts: restartCount,
      resources: { memory: formatSize(resources.memoryBytes), cpus: resources.cpus },
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
    };
  }
}
