import fs from 'node:fs/promises';
import path from 'node:path';
import type { DockerfileBuilder } from '../build/dockerfile-builder.js';
import type { ImageBuilder } from '../build/image-builder.js';
import { assertSelfContained } from '../build/source-tree.js';
import type { DockerEngine } from '../docker/index.js';
import { allocatePort } from '../domain/ports.js';
import { effectiveResources, type Resources } from '../domain/resources.js';
import type { AppRow, BuilderName, DeploySource, EnvVars, Release, ReleaseKind, RuntimeName } from '../domain/types.js';
import { errorMessage, internalError, isMinPaasError, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import { timed, type DeployMetrics } from '../metrics/deploy-metrics.js';
import { directoryFiles, runtimeByName, type Runtime } from '../runtimes/index.js';
import type { Scheduler } from '../scheduler/types.js';
import type { NewRelease, Store } from '../store/store.js';
import { planBuild, type BuildPlan } from './build-plan.js';
import { DeployLog, type LineSink } from './deploy-log.js';
import type { DeployLocks, Unlock } from './lock.js';

/** What a failed deploy tells its caller: a typed error as it is, anything else INTERNAL with the deploy id. */
export function publicDeployError(err: unknown, deployId: number | null): MinPaasError {
  if (isMinPaasError(err)) return err;
  return internalError(deployId === null ? 'before the deploy was recorded' : `deploy ${deployId}`);
}

/** Receive stage: puts the app's source into `dir`; returns the commit it came from. */
export type SourceFetcher = (dir: string, log: DeployLog) => Promise<string | null>;

export interface BuildDeployRequest {
  app: string;
  source: DeploySource;
  fetch: SourceFetcher;
  /** The runtime the user declared (API deploys); pushes detect it. */
  runtime?: RuntimeName;
  /** The builder the user asked for with this deploy (stored with the app); else the app's own. */
  builder?: BuilderName;
  repo: string | null;
  branch: string | null;
  /** Config to set with this deploy (API deploys' `env`). */
  env?: EnvVars;
  /** Pushes wait for a running deploy; API calls get a 409. */
  wait: boolean;
  /** Runs first, under the app's lock; throwing refuses the request before it counts as a deploy. */
  beforeBuild?: (app: AppRow) => Promise<void>;
  /** Runs once the release serves, still under the app's lock. */
  onReleased?: () => void;
  /** Told the deploy's id once it is recorded (webhooks answer with it before the build). */
  onStarted?: (deployId: number) => void;
  onLine?: LineSink;
}

export interface DeployOutcome {
  release: Release;
  app: AppRow;
  deployId: number;
  /**
   * Settles once the old container is stopped and removed. The release serves before
   * that: a push reports success without waiting for the old one to stop.
   */
  settled: Promise<void>;
}

interface RunOptions {
  app: string;
  source: DeploySource;
  wait: boolean;
  onLine?: LineSink | undefined;
  createIfMissing: boolean;
  builder?: BuilderName | undefined;
  check?: ((app: AppRow) => Promise<void>) | undefined;
  onStarted?: ((deployId: number) => void) | undefined;
}

/** A release that serves; `finishing` settles when the scheduler's background work is done. */
interface Released {
  release: Release;
  finishing: Promise<void>;
}

export interface PipelineDeps {
  store: Store;
  docker: DockerEngine;
  builder: ImageBuilder;
  /** Builds apps that opted into their own Dockerfile. */
  dockerfileBuilder: DockerfileBuilder;
  /** Build args of python builds (the package index settings). */
  pythonBuildArgs?: Record<string, string>;
  scheduler: Scheduler;
  locks: DeployLocks;
  workspaces: string;
  appBind: string;
  portInUse: (port: number) => Promise<boolean>;
  publicUrl: (port: number) => string;
  log: Logger;
  /** Container limits of apps that set none. */
  defaultResources: Resources;
  /** Deploy counters and step durations (/metrics). */
  metrics?: DeployMetrics;
  /** Called after every successful release (image clean-up). */
  afterRelease?: (app: string) => Promise<void>;
}

/**
 * Receive → Build → Release → Run. Every deploy, whether a push, an API call, a config
 * change or a rollback, goes through `run()`, which holds the app's lock, records the
 * deploy, and commits the release only once the new container serves.
 */
export class DeployPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  workspaceOf(app: string): string {
    return path.join(this.deps.workspaces, app);
  }

  /** The app names that have a workspace. */
  async workspaceNames(): Promise<string[]> {
    const entries = await fs.readdir(this.deps.workspaces, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** A deploy that builds a new image from source. */
  async buildAndDeploy(req: BuildDeployRequest): Promise<DeployOutcome> {
    return this.run({ ...req, createIfMissing: true, check: req.beforeBuild }, async (log, app, deployId) => {
      log.step('Receiving source');
      const dir = this.workspaceOf(app.name);
      const commit = await req.fetch(dir, log);
      if (commit) log.detail(`commit ${commit.slice(0, 12)}`);
      await assertSelfContained(dir);
      const plan = await planBuild(directoryFiles(dir), app, this.chooseBuilder(app, req.builder), req.runtime);
      for (const warning of plan.warnings) log.warn(warning);
      log.step(plan.detected);
      const { runtime } = plan;
      const number = this.deps.store.nextReleaseNumber(app.name);
      log.step('Building image');
      // The config is known before the build: the build sees it too (never its image).
      const env = { ...this.deps.store.getEnv(app.name), ...req.env };
      const image = await timed(this.deps.metrics, 'build', () => this.buildImage(app.name, number, dir, plan, env, log));
      log.step(`Built ${image.tag}`);
      try {
        const released = await this.release(app, log, deployId, {
          number,
          image: image.tag,
          imageId: image.id,
          env,
          commit,
          kind: 'build',
          description: commit ? `Deploy ${commit.slice(0, 7)}` : 'Deploy',
          processTypes: plan.processTypes,
          listenPort: plan.listenPort,
          containerPort: plan.listenPort,
          source: { runtime: runtime.name, repo: req.repo, branch: req.branch },
        });
        req.onReleased?.();
        return released;
      } catch (err) {
        // The image never served: it must not linger.
        await this.deps.docker.removeImage(image.tag).catch(() => undefined);
        throw err;
      }
    });
  }

  /** A release of an existing image with other config: config changes and rollbacks. */
  async redeploy(
    appName: string,
    source: DeploySource,
    kind: ReleaseKind,
    pick: (app: AppRow) => Promise<{ base: Release; env: EnvVars; description: string }>,
    onLine?: LineSink,
  ): Promise<DeployOutcome> {
    let picked: { base: Release; env: EnvVars; description: string } | undefined;
    const check = async (app: AppRow): Promise<void> => {
      picked = await pick(app);
      if (!(await this.deps.docker.imageId(picked.base.imageId))) {
        throw new MinPaasError('RELEASE_UNAVAILABLE', `the image of v${picked.base.number} was removed; push or deploy again instead`);
      }
    };
    return this.run({ app: appName, source, wait: false, onLine, createIfMissing: false, check }, async (log, app, deployId) => {
      const { base, env, description } = picked!;
      const number = this.deps.store.nextReleaseNumber(app.name);
      log.step(`${description}: v${number} from the image of v${base.number}`);
      return this.release(app, log, deployId, {
        number,
        image: base.image,
        imageId: base.imageId,
        env,
        commit: base.commit,
        kind,
        description,
        processTypes: base.processTypes,
        listenPort: base.listenPort,
        containerPort: base.listenPort ?? runtimeByName(app.runtime).containerPort,
        source: null,
      });
    });
  }

  /** A deploy's `builder` choice is stored with the app before it builds, as `builder:set` would. */
  private chooseBuilder(app: AppRow, requested: BuilderName | undefined): BuilderName {
    if (requested && requested !== app.builder) this.deps.store.setBuilder(app.name, requested);
    return requested ?? app.builder;
  }

  private async buildImage(app: string, release: number, sourceDir: string, plan: BuildPlan, env: EnvVars, log: DeployLog): Promise<{ tag: string; id: string }> {
    if (plan.dockerfile !== undefined) {
      return this.deps.dockerfileBuilder.build({ app, release, sourceDir, dockerfile: plan.dockerfile, web: plan.procfileWeb, onLine: log.build });
    }
    const runtime: Runtime = plan.runtime;
    const buildArgs = runtime.name === 'python' ? this.deps.pythonBuildArgs : undefined;
    return this.deps.builder.build({ app, release, sourceDir, runtime, env, onLine: log.build, ...(buildArgs ? { buildArgs } : {}) });
  }

  private async release(
    app: AppRow,
    log: DeployLog,
    deployId: number,
    r: Omit<NewRelease, 'app'> & {
      containerPort: number;
      /** What a build learned about the app's source; null for releases of an existing image. */
      source: { runtime: RuntimeName; repo: string | null; branch: string | null } | null;
    },
  ): Promise<Released> {
    const { store, scheduler } = this.deps;
    let release: Release | undefined;
    const resources = effectiveResources(app, this.deps.defaultResources);
    const { finishing } = await scheduler.deploy(
      { app, release: r.number, image: r.imageId, env: r.env, containerPort: r.containerPort, resources },
      {
        onLine: log.write,
        measured: (step, ms) => this.deps.metrics?.stepTook(step, ms),
        commit: (placement) => {
          store.tx(() => {
            const { containerPort: _port, source: _source, ...row } = r;
            release = store.recordRelease({ app: app.name, ...row }, placement);
            if (r.source) store.updateSource(app.name, r.source);
            // The deploy succeeds in the same transaction: a crash cannot leave a live
            // release whose deploy is recorded as failed.
            store.finishDeploy(deployId, r.number, r.commit);
          });
          this.deps.metrics?.released(app.name, r.kind);
        },
      },
    );
    return { release: release!, finishing };
  }

  /**
   * Lock, checks, deploy row, the work, outcome. `check` refuses a request before it is
   * recorded as a deploy. `createIfMissing` lets pushes and API deploys create their app;
   * a first deploy that fails keeps it (status failed, no release) with its config and
   * deploy log, so it can be fixed and pushed again, or deleted; only one whose repo could
   * not be cloned leaves nothing.
   */
  private async run(opts: RunOptions, work: (log: DeployLog, app: AppRow, deployId: number) => Promise<Released>): Promise<DeployOutcome> {
    const { app: appName, source, wait, onLine, createIfMissing, check, builder } = opts;
    const { store, locks } = this.deps;
    const log = new DeployLog(onLine);
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
      await check?.(app);
      deployId = store.startDeploy(appName, source, null).id;
      opts.onStarted?.(deployId);
      const { release, finishing } = await work(log, app, deployId);
      const current = store.getApp(appName)!;
      log.step(`Released v${release.number}: ${this.deps.publicUrl(current.port)}`);
      logger.info({ release: release.number, deployId }, 'released');
      this.deps.metrics?.deployFinished(appName, source, 'succeeded');
      // Listed under the lock, stopped after it: the next deploy's container is never among them.
      const stale = await this.deps.scheduler.staleContainers(appName, current.container!).catch((err: unknown) => {
        logger.warn({ err: errorMessage(err) }, 'could not list the old containers; the next start-up removes them');
        return [] as string[];
      });
      const settled = Promise.all([finishing, this.retire(appName, stale, logger)]).then(() => undefined);
      return { release, app: current, deployId, settled };
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
        store.deleteApp(appName);
        await fs.rm(this.workspaceOf(appName), { recursive: true, force: true }).catch(() => undefined);
      }
      throw err;
    } finally {
      if (deployId !== null && store.getApp(appName)) store.saveDeployLog(deployId, log.text());
      unlock();
    }
  }

  /** After a release: the old container stops (it has drained), then old images go. */
  private async retire(app: string, stale: string[], logger: Logger): Promise<void> {
    try {
      await this.deps.scheduler.retire(stale);
      await this.deps.afterRelease?.(app);
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'retiring the old release failed');
    }
  }

  /**
   * The app's record, created (with its port) when missing: by its first deploy, by
   * `POST /apps`, or by the first push of any branch, so whatever exists under an app
   * name is listed and can be deleted.
   */
  async ensureApp(name: string, fields: { runtime?: RuntimeName; builder?: BuilderName } = {}): Promise<{ app: AppRow; created: boolean }> {
    const { store } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const existing = store.getApp(name);
      if (existing) return { app: existing, created: false };
      const port = await allocatePort(name, store.usedPorts(), this.deps.portInUse);
      try {
        // Without a declared runtime it is provisional until the first build detects it.
        const app = store.createApp({ name, runtime: fields.runtime ?? 'node', repo: null, branch: null, port, ...(fields.builder ? { builder: fields.builder } : {}) });
        return { app, created: true };
      } catch (err) {
        // Another new app took the same port (or the same name) while we probed: look again.
        if (attempt >= 3 || !String((err as Error).message).includes('UNIQUE')) throw err;
      }
    }
  }
}
