import fs from 'node:fs/promises';
import path from 'node:path';
import type { Images } from '../build/images.js';
import { assertSelfContained } from '../build/source-tree.js';
import { allocatePort } from '../domain/ports.js';
import { assertScalable, type Formation } from '../domain/processes.js';
import { effectiveResources, type Resources } from '../domain/resources.js';
import type { AppRow, BuilderName, DeploySource, EnvVars, Release, ReleaseKind, RuntimeName, SchedulerName } from '../domain/types.js';
import { errorMessage, internalError, isMinPaasError, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import { timed, type DeployMetrics } from '../metrics/deploy-metrics.js';
import type { Router } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import { directoryFiles, runtimeByName } from '../runtimes/index.js';
import type { NewRelease, SourceInfo, Store } from '../store/store.js';
import { planBuild } from './build-plan.js';
import { DeployLog, type LineSink } from './deploy-log.js';
import { liveDeploys } from './live-deploys.js';
import type { DeployLocks, Unlock } from './lock.js';
import { sourceOrigin, type Receiver, type SourceSpec } from './receive.js';
import { runRelease, type RunOutcome, type RunPorts } from './run-release.js';
import { scaleProcesses } from './scale.js';
import { scaleServices } from './scale-services.js';
import { runSwarmRelease, type EdgePort } from './run-swarm-release.js';
import type { ServiceRunner } from '../runner/swarm-types.js';

/** What a failed deploy tells its caller: a typed error as it is, anything else INTERNAL with the deploy id. */
export function publicDeployError(err: unknown, deployId: number | null): MinPaasError {
  if (isMinPaasError(err)) return err;
  return internalError(deployId === null ? 'before the deploy was recorded' : `deploy ${deployId}`);
}

export interface BuildDeployRequest {
  app: string;
  source: DeploySource;
  /** Where the code comes from (the Receive stage). */
  from: SourceSpec;
  /** The runtime the user declared (API deploys); pushes detect it. */
  runtime?: RuntimeName;
  /** The builder the user asked for with this deploy (stored with the app); else the app's own. */
  builder?: BuilderName;
  /** Config to set with this deploy (API deploys' `env`). */
  env?: EnvVars;
  /** Pushes wait for a running deploy; API calls get a 409. */
  wait: boolean;
  onLine?: LineSink;
  /** Aborts the build when the client that asked for it goes away. */
  signal?: AbortSignal;
  /** Under the app's lock, before the request counts as a deploy (previews: the parent's limits). */
  beforeBuild?: (app: AppRow) => Promise<void>;
  /** Told the deploy's id once it is recorded (webhooks answer with it before the build). */
  onStarted?: (deployId: number) => void;
}

export interface DeployResult {
  release: Release;
  app: AppRow;
  deployId: number;
  /**
   * Settles once the old container is stopped and removed. The release serves before
   * that: a push reports success without waiting for the old one to stop.
   */
  settled: Promise<void>;
}

interface RunOptions<P> {
  app: string;
  source: DeploySource;
  wait: boolean;
  onLine?: LineSink | undefined;
  createIfMissing: boolean;
  builder?: BuilderName | undefined;
  /** Runs first, under the lock: throws to refuse the request, or returns what the work needs. */
  prepare: (app: AppRow) => Promise<P>;
  onStarted?: ((deployId: number) => void) | undefined;
}

export interface PipelineDeps {
  store: Store;
  receiver: Receiver;
  images: Images;
  runner: Runner;
  router: Router;
  locks: DeployLocks;
  workspaces: string;
  healthTimeoutMs: number;
  portInUse: (port: number) => Promise<boolean>;
  publicUrl: (port: number) => string;
  log: Logger;
  /** Container limits of apps that set none. */
  defaultResources: Resources;
  /** Deploy counters and step durations (/metrics). */
  metrics?: DeployMetrics;
  workerStartupSeconds: number;
  releaseTimeoutMs: number;
  /** Where new apps run (MINPAAS_DEFAULT_SCHEDULER). */
  defaultScheduler: SchedulerName;
  /** The Swarm scheduler and the edges into its tasks; absent, swarm apps are refused. */
  swarm?: { runner: ServiceRunner; edges: EdgePort };
}

/** What a config change or rollback releases: the release whose image it reuses, and its config. */
export interface RedeployPick {
  base: Release;
  env: EnvVars;
  description: string;
  /** Rollbacks skip the release command unless asked. */
  runReleasePhase?: boolean;
  /** A move to another scheduler (`scheduler:set`): the release runs there. */
  scheduler?: SchedulerName;
}

/**
 * Receive → Build → Release → Run. Every deploy, whether a push, an API call, a webhook, a
 * config change or a rollback, goes through `run()`, which holds the app's lock, records
 * the deploy, and commits the release only once the new container serves.
 */
export class DeployPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /**
   * Runs `fn` holding the app's lock, or answers 409 when a deploy holds it: for changes
   * that must not overlap a deploy (config without a release, limits, deletion).
   */
  async exclusive<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const unlock = this.deps.locks.tryAcquire(app);
    try {
      return await fn();
    } finally {
      unlock();
    }
  }

  /** Runs `fn` holding the app's lock, waiting for a deploy that holds it to finish. */
  async queued<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const unlock = await this.deps.locks.acquire(app);
    try {
      return await fn();
    } finally {
      unlock();
    }
  }

  workspaceOf(app: string): string {
    return path.join(this.deps.workspaces, app);
  }

  /** The app names that have a workspace. */
  async workspaceNames(): Promise<string[]> {
    const entries = await fs.readdir(this.deps.workspaces, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** A deploy that builds a new image from source. */
  async buildAndDeploy(req: BuildDeployRequest): Promise<DeployResult> {
    const { receiver, images, store } = this.deps;
    const prepare = async (app: AppRow): Promise<void> => {
      await receiver.check(req.from);
      await req.beforeBuild?.(app);
    };
    return this.run({ ...req, createIfMissing: true, prepare }, async (log, app, deployId) => {
      log.step('Receiving source');
      const dir = this.workspaceOf(app.name);
      const commit = await receiver.fetch(req.from, dir, log);
      log.detail(`commit ${commit.slice(0, 12)}`);
      await assertSelfContained(dir);
      const plan = await planBuild(directoryFiles(dir), app, this.chooseBuilder(app, req.builder), req.runtime);
      for (const warning of plan.warnings) log.warn(warning);
      log.step(plan.detected);
      const number = store.nextReleaseNumber(app.name);
      log.step('Building image');
      // The config is known before the build: the build sees it too (never its image).
      const env = { ...store.getEnv(app.name), ...req.env };
      const image = await timed(this.deps.metrics, 'build', () =>
        images.build({ app: app.name, release: number, sourceDir: dir, plan, env, onLine: log.build, ...(req.signal ? { signal: req.signal } : {}) }),
      );
      log.step(`Built ${image.tag}`);
      try {
        const released = await this.release(app, log, deployId, {
          number,
          imageTag: image.tag,
          imageId: image.id,
          env,
          commit,
          kind: 'build',
          description: `Deploy ${commit.slice(0, 7)}`,
          processTypes: plan.processTypes,
          listenPort: plan.listenPort,
          appPort: plan.listenPort,
          source: { runtime: plan.runtime.name, ...sourceOrigin(req.from) },
          runReleasePhase: true,
        });
        receiver.released(req.from);
        return released;
      } catch (err) {
        await images.discard(image.tag);
        throw err;
      }
    });
  }

  /** A release of an existing image with other config: config changes and rollbacks. */
  async redeploy(
    appName: string,
    source: DeploySource,
    kind: ReleaseKind,
    pick: (app: AppRow) => Promise<RedeployPick>,
    onLine?: LineSink,
  ): Promise<DeployResult> {
    const prepare = async (app: AppRow): Promise<RedeployPick> => {
      const picked = await pick(app);
      if (!(await this.deps.images.exists(picked.base.imageId))) {
        throw new MinPaasError('RELEASE_UNAVAILABLE', `the image of v${picked.base.number} was removed; push or deploy again instead`);
      }
      return picked;
    };
    return this.run({ app: appName, source, wait: false, onLine, createIfMissing: false, prepare }, async (log, app, deployId, picked) => {
      const { base, env, description, runReleasePhase, scheduler } = picked;
      const number = this.deps.store.nextReleaseNumber(app.name);
      log.step(`${description}: v${number} from the image of v${base.number}`);
      return this.release(app, log, deployId, {
        number,
        imageTag: base.imageTag,
        imageId: base.imageId,
        env,
        commit: base.commit,
        kind,
        description,
        processTypes: base.processTypes,
        listenPort: base.listenPort,
        appPort: base.listenPort ?? runtimeByName(app.runtime).appPort,
        source: null,
        runReleasePhase: runReleasePhase ?? kind !== 'rollback',
        ...(scheduler ? { scheduler } : {}),
      });
    });
  }

  /** A deploy's `builder` choice is stored with the app before it builds, as `builder:set` would. */
  private chooseBuilder(app: AppRow, requested: BuilderName | undefined): BuilderName {
    if (requested && requested !== app.builder) this.deps.store.setBuilder(app.name, requested);
    return requested ?? app.builder;
  }

  private async release(
    app: AppRow,
    log: DeployLog,
    deployId: number,
    r: Omit<NewRelease, 'app'> & {
      appPort: number;
      /** What a build learned about the app's source; null for releases of an existing image. */
      source: SourceInfo | null;
      runReleasePhase: boolean;
      scheduler?: SchedulerName;
    },
  ): Promise<RunOutcome> {
    const { appPort, source, runReleasePhase, scheduler, ...release } = r;
    const plan = { app, release: { app: app.name, ...release }, appPort, resources: effectiveResources(app, this.deps.defaultResources), deployId, source, runReleasePhase, scheduler: scheduler ?? app.scheduler };
    const outcome = plan.scheduler === 'swarm' ? await runSwarmRelease(this.swarmPorts(), plan, log) : await runRelease(this.runPorts(), plan, log);
    this.deps.metrics?.released(app.name, release.kind);
    return outcome;
  }

  private runPorts(): RunPorts {
    const { runner, router, store, log, healthTimeoutMs, workerStartupSeconds, releaseTimeoutMs, metrics } = this.deps;
    const measured = metrics ? { measured: (step: 'health_check' | 'switch' | 'drain', ms: number) => metrics.stepTook(step, ms) } : {};
    return { runner, router, store, log, healthTimeoutMs, workerStartupSeconds, releaseTimeoutMs, ...measured, ...(this.deps.swarm ? { swarm: this.deps.swarm.runner } : {}) };
  }

  /** The Run stage's ports for a Swarm app; without a Swarm scheduler, the deploy is refused. */
  private swarmPorts(): RunPorts & { swarm: ServiceRunner; edges: EdgePort } {
    const swarm = this.deps.swarm;
    if (!swarm) throw new MinPaasError('SWARM_UNAVAILABLE', 'this MinPaas runs no Swarm scheduler; keep the app on docker-local');
    return { ...this.runPorts(), swarm: swarm.runner, edges: swarm.edges };
  }

  /**
   * `ps:scale`: under the app's lock (409 while a deploy runs), recorded in the deploys
   * history (source `scale`) with its log. Before the first release only the counts are stored.
   */
  async scale(appName: string, changes: Formation): Promise<void> {
    const { store } = this.deps;
    const unlock = this.deps.locks.tryAcquire(appName);
    const log = new DeployLog();
    let deployId: number | null = null;
    try {
      const app = store.getApp(appName);
      if (!app) throw new MinPaasError('NOT_FOUND', `no app named ${appName}`);
      const release = app.release === null ? undefined : store.getRelease(app.name, app.release);
      assertScalable(changes, release?.processTypes ?? null);
      if (!release) return store.setFormation(app.name, changes);
      deployId = store.startDeploy(app.name, 'scale', release.commit).id;
      const appPort = release.listenPort ?? runtimeByName(app.runtime).appPort;
      const resources = effectiveResources(app, this.deps.defaultResources);
      const scalePlan = { app, release, appPort, resources, changes, deployId };
      if (app.scheduler === 'swarm') await scaleServices({ ...this.swarmPorts(), store }, scalePlan, log);
      else await scaleProcesses({ ...this.runPorts(), store }, scalePlan, log);
      log.step(`Scaled ${app.name}: ${Object.entries(changes).map(([t, n]) => `${t}=${n}`).join(' ')}`);
    } catch (caught) {
      // As for deploys: an internal failure is a 500 naming the deploy, its message only in the server log.
      const err = publicDeployError(caught, deployId);
      log.fail(err.message);
      if (!isMinPaasError(caught)) this.deps.log.error({ app: appName, changes, err: errorMessage(caught), deployId }, 'scaling failed');
      if (deployId !== null) store.failDeploy(deployId, err.message);
      throw err;
    } finally {
      if (deployId !== null) store.saveDeployLog(deployId, log.text());
      unlock();
    }
  }

  /**
   * Lock, checks, deploy row, the work, outcome. `prepare` (under the lock) refuses a
   * request before it is recorded as a deploy, or returns what the work needs.
   * `createIfMissing` lets pushes, API deploys and webhooks create their app; a first
   * deploy that fails keeps it (status failed, no release) with its config and deploy
   * log, so it can be fixed and pushed again, or deleted; only one whose repo could not be
   * cloned leaves nothing.
   */
  private async run<P>(
    opts: RunOptions<P>,
    work: (log: DeployLog, app: AppRow, deployId: number, prepared: P) => Promise<RunOutcome>,
  ): Promise<DeployResult> {
    const { app: appName, source, wait, onLine, createIfMissing, prepare, builder } = opts;
    const { store, locks } = this.deps;
    const log = liveDeploys.track(appName, new DeployLog(onLine));
    let unlock: Unlock;
    if (wait) unlock = await locks.acquire(appName, () => log.step(`Waiting for the deploy of ${appName} that is running`));
    else unlock = locks.tryAcquire(appName);
    const logger = this.deps.log.child({ app: appName, source });
    let deployId: number | null = null;
    let created = false;
    try {
      let app = store.getApp(appName);
      if (!app) {
        if (!createIfMissing) throw new MinPaasError('NOT_FOUND', `no app named ${appName}`);
        ({ app, created } = await this.ensureApp(appName, builder ? { builder } : {}));
        log.step(`Created app ${appName} (port ${app.port})`);
      }
      const prepared = await prepare(app);
      deployId = store.startDeploy(appName, source, null).id;
      opts.onStarted?.(deployId);
      const { release, settled } = await work(log, app, deployId, prepared);
      const current = store.getApp(appName)!;
      log.step(`Released v${release.number}: ${this.deps.publicUrl(current.port)}`);
      logger.info({ release: release.number, deployId }, 'released');
      this.deps.metrics?.deployFinished(appName, source, 'succeeded');
      return { release, app: current, deployId, settled: settled.then(() => this.pruneImages(appName, logger)) };
    } catch (caught) {
      // An internal failure (not a MinPaasError) is a 500 INTERNAL naming the deploy: its
      // message stays in the server log, never in the push output, the answer or the store.
      const err = publicDeployError(caught, deployId);
      const message = err.message;
      log.fail(message);
      log.detailsOnce(err.details ?? []);
      if (isMinPaasError(caught)) logger.info({ err: message, deployId }, 'deploy failed');
      else logger.error({ err: errorMessage(caught), stack: (caught as Error)?.stack, deployId }, 'deploy failed on an internal error');
      if (deployId !== null) store.failDeploy(deployId, message);
      if (deployId !== null) this.deps.metrics?.deployFinished(appName, source, 'failed');
      // A new app whose source could not even be cloned is no app: nothing is left of the request.
      if (created && isMinPaasError(err) && err.code === 'CLONE_FAILED' && store.getApp(appName)?.release === null) {
        await this.forgetNewApp(appName, logger);
      }
      throw err;
    } finally {
      if (deployId !== null && store.getApp(appName)) store.saveDeployLog(deployId, log.text());
      unlock();
    }
  }

  /** The record, the workspace and whatever the runner made (its network) of an app that never was. */
  private async forgetNewApp(appName: string, logger: Logger): Promise<void> {
    this.deps.store.deleteApp(appName);
    await fs.rm(this.workspaceOf(appName), { recursive: true, force: true }).catch(() => undefined);
    await this.deps.runner.removeApp(appName).catch((e: unknown) => logger.warn({ err: errorMessage(e) }, 'could not remove what the failed first deploy left'));
  }

  /** Once the old container is gone, its image may go too. */
  private async pruneImages(app: string, logger: Logger): Promise<void> {
    try {
      await this.deps.images.prune(app);
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'removing old images failed');
    }
  }

  /**
   * The app's record, created (with its port) when missing: by its first deploy, by
   * `POST /apps`, or by the first push of any branch, so whatever exists under an app
   * name is listed and can be deleted.
   */
  async ensureApp(name: string, fields: { runtime?: RuntimeName; builder?: BuilderName; scheduler?: SchedulerName } = {}): Promise<{ app: AppRow; created: boolean }> {
    const { store } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const existing = store.getApp(name);
      if (existing) return { app: existing, created: false };
      const port = await allocatePort(name, store.usedPorts(), this.deps.portInUse);
      try {
        // Without a declared runtime it is provisional until the first build detects it.
        const app = store.createApp({ name, runtime: fields.runtime ?? 'node', repo: null, branch: null, port, scheduler: fields.scheduler ?? this.deps.defaultScheduler, ...(fields.builder ? { builder: fields.builder } : {}) });
        return { app, created: true };
      } catch (err) {
        // Another new app took the same port (or the same name) while we probed: look again.
        if (attempt >= 3 || !String((err as Error).message).includes('UNIQUE')) throw err;
      }
    }
  }
}
