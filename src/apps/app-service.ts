import fs from 'node:fs/promises';
import type { DockerEngine } from '../docker/index.js';
import { optionalBuilder, parseBuilder } from '../domain/builders.js';
import { assertAppName, isValidAppName } from '../domain/names.js';
import { assertBranch, parseRepoSource } from '../domain/repo-url.js';
import { assertWithinHost, effectiveResources, formatSize, type Resources } from '../domain/resources.js';
import type { AppRecord, AppRow, Deploy, DeployStatus, EnvVars, Release, RuntimeName } from '../domain/types.js';
import { invalid, MinPaasError, notFound } from '../errors.js';
import { cloneRepo } from '../git/clone.js';
import type { RepoStore } from '../git/repos.js';
import type { DeployPipeline, DeployOutcome } from '../deploy/pipeline.js';
import type { DeployLocks } from '../deploy/lock.js';
import { isRuntimeName } from '../runtimes/index.js';
import type { ContainerStatuses } from '../scheduler/container-statuses.js';
import type { AppRuntimeStatus, Scheduler } from '../scheduler/types.js';
import type { Store } from '../store/store.js';
import { applyConfigChanges, parseConfigChanges, parseEnv } from './config-changes.js';
import { pageOf, type AppPage } from './app-page.js';
import { parseResourceChanges } from './resource-changes.js';

export interface AppServiceDeps {
  store: Store;
  docker: DockerEngine;
  scheduler: Scheduler;
  pipeline: DeployPipeline;
  locks: DeployLocks;
  repos: RepoStore;
  publicUrl: (port: number) => string;
  cloneTimeoutMs: number;
  defaultResources: Resources;
  /** Container states of many apps from one Docker list. */
  statuses: ContainerStatuses;
  /** Runs first when an app is destroyed (its preview apps go with it). */
  beforeDestroy?: (app: string) => Promise<void>;
}

export interface DeployFromRepoInput {
  app?: unknown;
  runtime?: unknown;
  repo?: unknown;
  env?: unknown;
  branch?: unknown;
  builder?: unknown;
}

export interface CreateAppInput {
  name?: unknown;
  runtime?: unknown;
  builder?: unknown;
}

/** What an app record needs from the store besides the app row, by app name. */
interface RecordFacts {
  envs: Map<string, EnvVars>;
  images: Map<string, string>;
  lastDeploys: Map<string, DeployStatus>;
}

/** Before the first release: new, deploying, or failed (its last deploy failed). */
function statusWithoutRelease(last: DeployStatus | undefined): string {
  if (!last) return 'new';
  return last === 'running' ? 'deploying' : last === 'failed' ? 'failed' : 'new';
}

/**
 * What the admin API and CLI can do with apps. Inputs are validated here, at the
 * boundary, before anything is touched.
 */
export class AppService {
  constructor(private readonly deps: AppServiceDeps) {}

  /** All apps by name, or one page of them (`limit` after the name `after`): one Docker call either way. */
  async list(page: AppPage = {}): Promise<AppRecord[]> {
    const apps = pageOf(this.deps.store.listApps(), page);
    const statuses = await this.deps.statuses.forApps(apps);
    const { store } = this.deps;
    const facts: RecordFacts = { envs: store.envOfAll(), images: store.currentImages(), lastDeploys: store.lastDeployStatuses() };
    return apps.map((a) => this.record(a, statuses.get(a.name)!, facts));
  }

  async get(name: unknown): Promise<AppRecord> {
    const app = this.app(name);
    return this.record(app, (await this.deps.statuses.forApps([app])).get(app.name)!);
  }

  /**
   * POST /apps: an app before its first deploy (port allocated, no release), so config
   * can be set before the first push.
   */
  async create(input: CreateAppInput): Promise<AppRecord> {
    const name = assertAppName(input.name);
    let runtime: RuntimeName | undefined;
    if (input.runtime !== undefined && input.runtime !== null) {
      if (!isRuntimeName(input.runtime)) throw invalid('runtime must be "node" or "python" (or left out: the first push detects it)');
      runtime = input.runtime;
    }
    const builder = optionalBuilder(input.builder);
    const exists = (): MinPaasError => new MinPaasError('CONFLICT', `an app named ${name} exists already`);
    if (this.deps.store.getApp(name)) throw exists();
    const { created } = await this.deps.pipeline.ensureApp(name, { ...(runtime ? { runtime } : {}), ...(builder ? { builder } : {}) });
    if (!created) throw exists();
    return this.get(name);
  }

  /** builder:set: how the next build of the app is made. Refused while it deploys. */
  async setBuilder(name: unknown, body: unknown): Promise<AppRecord> {
    const app = this.app(name);
    const builder = parseBuilder((body as { builder?: unknown } | null)?.builder);
    const unlock = this.deps.locks.tryAcquire(app.name);
    try {
      this.deps.store.setBuilder(app.name, builder);
    } finally {
      unlock();
    }
    return this.get(app.name);
  }

  /** POST /deploy: clone → the same pipeline as a push. */
  async deployFromRepo(input: DeployFromRepoInput, onLine?: (line: string) => void): Promise<AppRecord> {
    const app = assertAppName(input.app);
    const builder = optionalBuilder(input.builder);
    // A Dockerfile build needs no runtime; the platform's does.
    const runtimeGiven = input.runtime !== undefined && input.runtime !== null;
    if ((runtimeGiven || builder !== 'dockerfile') && !isRuntimeName(input.runtime)) throw invalid('runtime must be "node" or "python"');
    const runtime = runtimeGiven ? (input.runtime as RuntimeName) : undefined;
    const source = parseRepoSource(input.repo);
    const branch = input.branch === undefined || input.branch === null ? null : assertBranch(input.branch);
    const env = parseEnv(input.env);
    const outcome: DeployOutcome = await this.deps.pipeline.buildAndDeploy({
      app,
      source: 'api',
      ...(runtime ? { runtime } : {}),
      // Shown and stored without credentials: they are used for this clone only.
      repo: source.shown,
      branch,
      env,
      ...(builder ? { builder } : {}),
      wait: false,
      ...(onLine ? { onLine } : {}),
      fetch: async (dir, log) => {
        log.step(`Cloning ${source.shown}${branch ? ` (${branch})` : ''}`);
        return cloneRepo({ url: source.url, shown: source.shown, credentials: source.credentials, branch, dest: dir, timeoutMs: this.deps.cloneTimeoutMs });
      },
    });
    // API clients read the state right after the answer: let the old release finish retiring.
    await outcome.settled;
    return this.get(app);
  }

  getConfig(name: unknown): EnvVars {
    return this.deps.store.getEnv(this.app(name).name);
  }

  /** Sets and unsets vars: a new release on the same image when the app runs, else just stored. */
  async patchConfig(name: unknown, body: unknown): Promise<{ config: EnvVars; release: number | null }> {
    const app = this.app(name);
    const changes = parseConfigChanges(body);
    if (app.release === null) {
      const unlock = this.deps.locks.tryAcquire(app.name);
      try {
        const { env } = applyConfigChanges(this.deps.store.getEnv(app.name), changes);
        this.deps.store.setEnv(app.name, env);
        return { config: env, release: null };
      } finally {
        unlock();
      }
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

  releases(name: unknown): Release[] {
    return this.deps.store.listReleases(this.app(name).name);
  }

  /** A new release with release N's image and config. */
  async rollback(name: unknown, body: unknown): Promise<AppRecord> {
    const app = this.app(name);
    const raw = (body as { release?: unknown } | null)?.release;
    const number = typeof raw === 'string' && /^v?\d+$/.test(raw) ? Number(raw.replace(/^v/, '')) : raw;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
      throw invalid('rollback needs {"release": N} with N a release number, e.g. 2');
    }
    const outcome = await this.deps.pipeline.redeploy(app.name, 'rollback', 'rollback', async (current) => {
      const base = this.deps.store.getRelease(current.name, number);
      if (!base) throw notFound(`${current.name} has no release v${number}`);
      return { base, env: base.env, description: `Rollback to v${number}` };
    });
    await outcome.settled;
    return this.get(app.name);
  }

  async logs(name: unknown, tail: number): Promise<string> {
    return this.deps.scheduler.logs(this.app(name), { tail });
  }

  async followLogs(name: unknown, tail: number): Promise<{ stream: NodeJS.ReadableStream; stop: () => void }> {
    return this.deps.scheduler.followLogs(this.app(name), { tail });
  }

  deploys(name: unknown): Deploy[] {
    return this.deps.store.listDeploys(this.app(name).name);
  }

  deployLog(name: unknown, id: unknown): string {
    const app = this.app(name);
    const deployId = Number(id);
    const log = Number.isInteger(deployId) ? this.deps.store.getDeployLog(app.name, deployId) : undefined;
    if (log === undefined) throw notFound(`${app.name} has no deploy ${String(id)}`);
    return log;
  }

  /**
   * Containers, route, images, repo, workspace and records: all gone. A repo or workspace
   * left under a name without a record (e.g. by an older version) goes too.
   */
  async destroy(name: unknown): Promise<void> {
    const valid = assertAppName(name);
    const app = this.deps.store.getApp(valid);
    if (!app) {
      if (await this.removeLeftovers(valid)) return;
      throw notFound(`no app named ${valid}`);
    }
    const unlock = this.deps.locks.tryAcquire(app.name);
    try {
      await this.deps.beforeDestroy?.(app.name);
      await this.deps.scheduler.remove(app);
      this.deps.store.deleteApp(app.name);
      await this.deps.repos.remove(app.name);
      await fs.rm(this.deps.pipeline.workspaceOf(app.name), { recursive: true, force: true });
      for (const image of await this.deps.docker.listOwnedImages(app.name)) {
        await this.deps.docker.removeImage(image.id);
      }
    } finally {
      unlock();
    }
  }

  /**
   * PATCH /apps/APP/resources {memory?, cpus?}: applied to the running container in
   * place (no rebuild, no restart) and to every later release. null = back to the default.
   */
  async setResources(name: unknown, body: Record<string, unknown>): Promise<AppRecord> {
    const app = this.app(name);
    const limits = parseResourceChanges(body, app);
    // Decided before Docker is asked: Docker's own refusal would come back as a 500.
    const asked = (given: boolean, value: number | null): number | null => (given && value ? value : null);
    assertWithinHost(
      { memoryBytes: asked('memory' in body, limits.memoryLimit), cpus: asked('cpus' in body, limits.cpuLimit) },
      await this.deps.docker.hostCapacity(),
    );
    const unlock = this.deps.locks.tryAcquire(app.name);
    try {
      const next = { ...app, ...limits };
      await this.deps.scheduler.applyResources(app, effectiveResources(next, this.deps.defaultResources));
      this.deps.store.setLimits(app.name, limits);
    } finally {
      unlock();
    }
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
    const unlock = this.deps.locks.tryAcquire(name);
    try {
      await this.deps.repos.remove(name);
      await fs.rm(workspace, { recursive: true, force: true });
    } finally {
      unlock();
    }
    return true;
  }

  private app(name: unknown): AppRow {
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
    const image = app.release === null ? undefined : store.getRelease(app.name, app.release)?.image;
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
