import type http from 'node:http';
import path from 'node:path';
import { AppService } from './apps/app-service.js';
import { restrictToOwner } from './data-dir.js';
import { loadOrCreateInstanceId, loadOrCreateToken } from './auth/token.js';
import { BaseImages } from './build/base-images.js';
import { DockerfileBuilder } from './build/dockerfile-builder.js';
import { ImageBuilder } from './build/image-builder.js';
import { nodeBuildPlanner } from './build/node-build.js';
import { pipBuildArgs } from './build/pip-index.js';
import type { Config } from './config.js';
import { DeployLocks } from './deploy/lock.js';
import { ImageRetention } from './deploy/image-retention.js';
import { DeployPipeline } from './deploy/pipeline.js';
import { createPushHandler } from './deploy/push-deploy.js';
import { createDockerClient, DockerEngine } from './docker/index.js';
import { portInUse } from './domain/ports.js';
import { containerGuardsHostConfig } from './domain/resources.js';
import { errorMessage } from './errors.js';
import { createForges, type Forges } from './forges/index.js';
import { GitHttp, isGitRequest } from './git/git-http.js';
import { HookBridge } from './git/hook-bridge.js';
import { RepoStore } from './git/repos.js';
import { apiRoutes, type Route } from './http/api-routes.js';
import { createHttpServer } from './http/server.js';
import { operatorEndpoints } from './http/operator-wiring.js';
import { Metrics } from './metrics/registry.js';
import { log as rootLog, type Logger } from './log.js';
import { createRouter } from './router/haproxy-router.js';
import type { Router } from './router/types.js';
import { ContainerStatuses } from './scheduler/container-statuses.js';
import { DockerLocalScheduler } from './scheduler/docker-local.js';
import { routesFromApps } from './scheduler/routes.js';
import { Store } from './store/store.js';

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  tokenGenerated: boolean;
  tokenFile: string;
  store: Store;
  docker: DockerEngine;
  router: Router;
  apps: AppService;
  forges: Forges;
  /** The API route table (the OpenAPI document describes every one). */
  routes: Route[];
  /** Stops the control plane; the router (and so every app) keeps serving. */
  close(): Promise<void>;
}

/** Container hardening for every app: no privilege escalation, no capabilities. */
const APP_HOST_CONFIG = {
  SecurityOpt: ['no-new-privileges:true'],
  CapDrop: ['ALL'],
};

/**
 * The composition root: config → store, docker, router, scheduler, pipeline, servers.
 * Start-up also reconciles: interrupted deploys are marked failed, containers and routes
 * are made to match the store.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = rootLog.child({ component: 'server' });
  const modesFixed = await restrictToOwner(config.dataDir);
  if (modesFixed > 0) log.warn({ files: modesFixed }, 'made files in the data dir readable by the server user only');
  const tokenSource = loadOrCreateToken(config.dataDir, config.token);
  const store = new Store(path.join(config.dataDir, 'minpaas.db'));
  const interrupted = store.failInterruptedDeploys('interrupted: MinPaas stopped while this deploy was running');
  if (interrupted > 0) log.warn({ interrupted }, 'marked interrupted deploys as failed');

  const docker = new DockerEngine(createDockerClient(), loadOrCreateInstanceId(config.dataDir));
  try {
    await docker.ping();
  } catch (err) {
    store.close();
    throw new Error(`no Docker engine answers (${errorMessage(err)}); run the set-up script or start dockerd`);
  }

  const router = createRouter(config);
  const scheduler = new DockerLocalScheduler(
    docker,
    router,
    () => store.listApps(),
    { healthTimeoutMs: config.healthTimeoutMs, stopTimeoutSeconds: 10, hostConfig: { ...APP_HOST_CONFIG, ...containerGuardsHostConfig(config.limits) } },
    rootLog.child({ component: 'scheduler' }),
  );
  const publicUrl = (port: number): string => `http://${config.publicHost}:${port}`;
  const defaultResources = { memoryBytes: config.defaultMemoryBytes, cpus: config.defaultCpus };
  const images = new ImageRetention(store, docker, config.keepReleases, rootLog.child({ component: 'images' }));
  const locks = new DeployLocks();
  const repos = new RepoStore(path.join(config.dataDir, 'repos'), path.join(config.projectRoot, 'hooks'), config.maxPushBytes);
  const builder = new ImageBuilder(
    docker,
    new BaseImages(
      docker,
      { node: config.nodeBaseImage, python: config.pythonBaseImage },
      config.baseImagesDefaulted,
      rootLog.child({ component: 'base-images' }),
    ),
    config.projectRoot,
    config.buildTimeoutMs,
    { memoryBytes: config.limits.buildMemoryBytes, cpus: config.limits.buildCpus },
    nodeBuildPlanner(docker, config.dataDir),
  );
  const statuses = new ContainerStatuses(docker);
  const metrics = new Metrics({
    apps: () => store.listApps(),
    statuses: (all) => statuses.forApps(all),
    memoryUsage: (id) => docker.memoryUsage(id),
    traffic: () => router.trafficStats(),
    log: rootLog.child({ component: 'metrics' }),
  });
  const pipeline = new DeployPipeline({
    metrics,
    store,
    docker,
    builder,
    dockerfileBuilder: new DockerfileBuilder(docker, config.buildTimeoutMs),
    ...(config.pipIndexUrl ? { pythonBuildArgs: pipBuildArgs(config.pipIndexUrl)! } : {}),
    scheduler,
    locks,
    workspaces: path.join(config.dataDir, 'workspaces'),
    appBind: config.appBind,
    portInUse: (port) => portInUse(config.appBind, port),
    publicUrl,
    defaultResources,
    log: rootLog.child({ component: 'deploy' }),
    afterRelease: async (app) => {
      await images.prune(app);
    },
  });
  // Bound once the forges exist (they deploy through `apps`): an app's previews go with it.
  let forges: Forges | undefined;
  const beforeDestroy = async (app: string): Promise<void> => forges?.webhooks.destroyPreviewsOf(app);
  const apps = new AppService({ store, docker, scheduler, pipeline, locks, repos, publicUrl, cloneTimeoutMs: 120_000, defaultResources, beforeDestroy, statuses });

  try {
    await reconcile(store, scheduler, router, log);
    const orphans = await images.removeOrphans();
    if (orphans.length) log.info({ images: orphans }, 'removed images no release uses');
  } catch (err) {
    // The API stays up so the problem can be seen and fixed (e.g. an app port another
    // program took); the watchdog keeps trying to bring the router back.
    log.error({ err: errorMessage(err) }, 'start-up reconciliation failed; apps may not be routed until this is fixed');
  }
  router.startWatchdog(() => routesFromApps(store.listApps()));
  await repos.wireAll();
  const adopted = await apps.adoptLeftovers().catch((err: unknown) => {
    log.warn({ err: errorMessage(err) }, 'could not list repos and workspaces without an app record');
    return [] as string[];
  });
  if (adopted.length) log.info({ apps: adopted }, 'made app records for repos and workspaces that had none');

  const hooks = new HookBridge(path.join(config.dataDir, 'run', 'hook.sock'), createPushHandler(pipeline), rootLog.child({ component: 'git' }));
  await hooks.listen();
  const git = new GitHttp(repos, tokenSource.token, rootLog.child({ component: 'git' }), (name) => store.getApp(name) !== undefined);
  let listening = config.port;
  const controlUrl = (): string => config.forges.publicUrl ?? `http://${config.publicHost}:${listening}`;
  forges = createForges({ settings: config.forges, store, pipeline, locks, apps, publicUrl, controlUrl, fetchTimeoutMs: 120_000, log: rootLog.child({ component: 'forges' }) });
  const routes = [...apiRoutes(apps), ...forges.routes];
  const server = createHttpServer({
    token: tokenSource.token,
    routes,
    hooks: forges.hooks,
    operator: operatorEndpoints(routes, metrics, config.metricsToken),
    git: { matches: isGitRequest, handle: (req, res) => git.handle(req, res) },
    log: rootLog.child({ component: 'http' }),
  });
  const port = await listen(server, config.port, config.host);
  listening = port;
  forges.webhooks.resume();
  log.info({ port, host: config.host, dataDir: config.dataDir }, 'MinPaas is listening');

  return {
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
    port,
    token: tokenSource.token,
    tokenGenerated: tokenSource.generated,
    tokenFile: tokenSource.file,
    store,
    docker,
    router,
    apps,
    forges: forges!,
    routes,
    async close() {
      router.close();
      docker.closeLogStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hooks.close();
      store.close();
    },
  };
}

async function reconcile(store: Store, scheduler: DockerLocalScheduler, router: Router, log: Logger): Promise<void> {
  const report = await scheduler.reconcile(store.listApps());
  for (const [app, placement] of Object.entries(report.placements)) store.setPlacement(app, placement);
  if (report.restarted.length) log.warn({ apps: report.restarted }, 'restarted app containers that were not running');
  if (report.missing.length) log.error({ apps: report.missing }, 'app containers are missing; redeploy these apps');
  if (report.removedOrphans.length) log.info({ containers: report.removedOrphans }, 'removed containers no release uses');
  await router.ensureRunning(routesFromApps(store.listApps()));
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
