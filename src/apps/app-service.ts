import fs from 'node:fs/promises';
import type { DockerEngine } from '../docker/index.js';
import { assertAppName } from '../domain/names.js';
import { assertBranch, assertRepoUrl } from '../domain/repo-url.js';
import { effectiveResources, formatSize, type Resources } from '../domain/resources.js';
import type { AppRecord, AppRow, Deploy, EnvVars, Release } from '../domain/types.js';
import { invalid, MinPaasError, notFound } from '../errors.js';
import { cloneRepo } from '../git/clone.js';
import type { RepoStore } from '../git/repos.js';
import type { DeployPipeline, DeployOutcome } from '../deploy/pipeline.js';
import type { DeployLocks } from '../deploy/lock.js';
import { isRuntimeName } from '../runtimes/index.js';
import type { Router } from '../router/types.js';
import type { LogStream, Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { applyConfigChanges, parseConfigChanges, parseEnv } from './config-changes.js';
import { parseResourceChanges } from './resource-changes.js';

export interface AppServiceDeps {
  store: Store;
  docker: DockerEngine;
  runner: Runner;
  router: Router;
  pipeline: DeployPipeline;
  locks: DeployLocks;
  repos: RepoStore;
  publicUrl: (port: number) => string;
  cloneTimeoutMs: number;
  defaultResources: Resources;
}

export interface DeployFromRepoInput {
  app?: unknown;
  runtime?: unknown;
  repo?: unknown;
  env?: unknown;
  branch?: unknown;
}

/**
 * What the admin API and CLI can do with apps. Inputs are validated here, at the
 * boundary, before anything is touched.
 */
export class AppService {
  constructor(private readonly deps: AppServiceDeps) {}

  async list(): Promise<AppRecord[]> {
    return Promise.all(this.deps.store.listApps().map((a) => this.record(a)));
  }

  async get(name: unknown): Promise<AppRecord> {
    return this.record(this.app(name));
  }

  /** POST /deploy: clone → the same pipeline as a push. */
  async deployFromRepo(input: DeployFromRepoInput, onLine?: (line: string) => void, signal?: AbortSignal): Promise<AppRecord> {
    const app = assertAppName(input.app);
    if (!isRuntimeName(input.runtime)) throw invalid('runtime must be "node" or "python"');
    const runtime = input.runtime;
    const repo = assertRepoUrl(input.repo);
    const branch = input.branch === undefined || input.branch === null ? null : assertBranch(input.branch);
    const env = parseEnv(input.env);
    const outcome: DeployOutcome = await this.deps.pipeline.buildAndDeploy({
      app,
      source: 'api',
      runtime,
      repo,
      branch,
      env,
      wait: false,
      ...(onLine ? { onLine } : {}),
      ...(signal ? { signal } : {}),
      fetch: async (dir, log) => {
        log.step(`Cloning ${repo}${branch ? ` (${branch})` : ''}`);
        return cloneRepo({ url: repo, branch, dest: dir, timeoutMs: this.deps.cloneTimeoutMs });
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
    const app = this.app(name);
    if (!app.container) return '';
    return this.deps.runner.logs(app.container, tail);
  }

  async followLogs(name: unknown, tail: number): Promise<LogStream> {
    const app = this.app(name);
    if (!app.container) throw new MinPaasError('CONFLICT', `${app.name} has no running release yet`);
    return this.deps.runner.followLogs(app.container, tail);
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

  /** Containers, route, images, repo, workspace and records: all gone. */
  async destroy(name: unknown): Promise<void> {
    const app = this.app(name);
    const unlock = this.deps.locks.tryAcquire(app.name);
    try {
      await this.deps.router.remove(app.name);
      await this.deps.runner.removeApp(app.name);
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
    const unlock = this.deps.locks.tryAcquire(app.name);
    try {
      const next = { ...app, ...limits };
      if (app.container) await this.deps.runner.updateLimits(app.container, effectiveResources(next, this.deps.defaultResources));
      this.deps.store.setLimits(app.name, limits);
    } finally {
      unlock();
    }
    return this.get(app.name);
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

  /** running, restarting, exited, …; `missing` when the container is gone, `none` before the first release. */
  private async runtimeStatus(app: AppRow): Promise<{ status: string; restartCount: number }> {
    if (!app.container) return { status: 'none', restartCount: 0 };
    const state = await this.deps.runner.inspect(app.container);
    return state ? { status: state.status, restartCount: state.restartCount } : { status: 'missing', restartCount: 0 };
  }

  private async record(app: AppRow): Promise<AppRecord> {
    const release = app.release === null ? undefined : this.deps.store.getRelease(app.name, app.release);
    const { status, restartCount } = await this.runtimeStatus(app);
    const resources = effectiveResources(app, this.deps.defaultResources);
    return {
      name: app.name,
      runtime: app.runtime,
      repo: app.repo,
      branch: app.branch,
      container: app.container,
      image: release?.image ?? null,
      port: app.port,
      url: this.deps.publicUrl(app.port),
      env: this.deps.store.getEnv(app.name),
      release: app.release,
      status,
      restarts: restartCount,
      resources: { memory: formatSize(resources.memoryBytes), cpus: resources.cpus },
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
    };
  }
}
