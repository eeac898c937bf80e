import type http from 'node:http';
import path from 'node:path';
import { AppService } from './apps/app-service.js';
import { createAccessLayer, type AccessLayer } from './auth/access-layer.js';
import type { Authenticator } from './auth/authenticator.js';
import { ProcessService } from './apps/process-service.js';
import type { AppRow } from './domain/types.js';
import { processRoutes } from './http/process-routes.js';
import { loadOrCreateInstanceId, loadOrCreateToken } from './auth/token.js';
import { BaseImages } from './build/base-images.js';
import { DockerfileBuilder } from './build/dockerfile-builder.js';
import { ImageBuilder } from './build/image-builder.js';
import { Images } from './build/images.js';
import { nodeBuildPlanner } from './build/node-build.js';
import { pipBuildArgs } from './build/pip-index.js';
import type { Config } from './config.js';
import { restrictToOwner } from './data-dir.js';
import { AddressFollower } from './deploy/address-follower.js';
import { ImageRetention } from './deploy/image-retention.js';
import { DeployLocks } from './deploy/lock.js';
import { DeployPipeline } from './deploy/pipeline.js';
import { createPushHandler } from './deploy/push-deploy.js';
import { Dashboard } from './dashboard/routes.js';
import { dashboardApps } from './dashboard/service.js';
import { dashboardAuth } from './dashboard/access.js';
import { Receiver } from './deploy/receive.js';
import { reconcile, type ReconcilePorts } from './deploy/reconcile.js';
import { containerGuardsHostConfig, createDockerClient, DockerEngine } from './docker/index.js';
import { portInUse } from './domain/ports.js';
import { errorMessage } from './errors.js';
import { createForges, type Forges } from './forges/index.js';
import { GitHttp, isGitRequest } from './git/git-http.js';
import { HookBridge } from './git/hook-bridge.js';
import { RepoStore } from './git/repos.js';
import { apiRoutes, type Route } from './http/api-routes.js';
import { AppNetworkGuard } from './http/network-guard.js';
import { operatorEndpoints } from './http/operator-wiring.js';
import { createHttpServer } from './http/server.js';
import { log as rootLog, type Logger } from './log.js';
import { domainRoutes } from './http/domain-routes.js';
import { Metrics } from './metrics/registry.js';
import { controlSocketPath, createRouter, type HaproxyRouter } from './router/haproxy-router.js';
import { createTls, listenOnSocket, type Tls } from './tls/wiring.js';
import type { Router } from './router/types.js';
import { ContainerStatuses } from './runner/container-statuses.js';
import { DockerRunner } from './runner/docker-runner.js';
import { createSwarm, reportSwarm } from './swarm-wiring.js';
import { RegistryClient } from './registry/registry-client.js';
import { NodeService } from './apps/node-service.js';
import { nodeRoutes } from './http/node-routes.js';
import { rolloutTimeoutMs } from './deploy/run-swarm-release.js';
import { MAX_REPLICAS } from './domain/processes.js';
import { dropUnusedKeys, loadSecrets } from './secrets/rotation.js';
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
  /** Who a token belongs to (the dashboard logs in with one). */
  authenticator: Authenticator;
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
/** An edge is one HAProxy process in front of a Swarm app's tasks. */
const EDGE_MEMORY_BYTES = 128 * 1024 * 1024;

async function connectDocker(config: Config, store: Store): Promise<DockerEngine> {
  const docker = new DockerEngine(createDockerClient(), loadOrCreateInstanceId(config.dataDir));
  try {
    await docker.ping();
  } catch (err) {
    store.close();
    throw new Error(`no Docker engine answers (${errorMessage(err)}); run the set-up script or start dockerd`);
  }
  return docker;
}

/** The platform's build (its runtime Dockerfiles, Node provisioning) and the opt-in Dockerfile build. */
function createImages(config: Config, store: Store, docker: DockerEngine): Images {
  const bases = new BaseImages(
    docker,
    { node: config.nodeBaseImage, python: config.pythonBaseImage },
    config.baseImagesDefaulted,
    rootLog.child({ component: 'base-images' }),
  );
  const buildLimits = { memoryBytes: config.limits.buildMemoryBytes, cpus: config.limits.buildCpus };
  const builder = new ImageBuilder(docker, bases, config.projectRoot, config.buildTimeoutMs, buildLimits, nodeBuildPlanner(docker, config.dataDir));
  const dockerfileBuilder = new DockerfileBuilder(docker, config.buildTimeoutMs, buildLimits);
  const registry = config.swarm.registry ? new RegistryClient(config.swarm.registry) : undefined;
  const retention = new ImageRetention(store, docker, config.keepReleases, rootLog.child({ component: 'images' }), registry);
  return new Images(docker, builder, dockerfileBuilder, retention, config.pipIndexUrl ? pipBuildArgs(config.pipIndexUrl) : {});
}

/** Start-up reconciliation and image clean-up; failures are logged, not fatal. */
async function catchUp(ports: ReconcilePorts, images: Images, log: Logger): Promise<void> {
  try {
    await reconcile(ports);
    const orphans = await images.removeOrphans();
    if (orphans.length) log.info({ images: orphans }, 'removed images no release uses');
  } catch (err) {
    // The API stays up so the problem can be seen and fixed (e.g. an app port another
    // program took); the watchdog keeps trying to bring the router back.
    log.error({ err: errorMessage(err) }, 'start-up reconciliation failed; apps may not be routed until this is fixed');
  }
}

interface Parts {
  guard: AppNetworkGuard;
  runner: DockerRunner;
  swarm: ReturnType<typeof createSwarm>;
  nodes: NodeService;
  router: HaproxyRouter;
  metrics: Metrics;
  images: Images;
  locks: DeployLocks;
  pipeline: DeployPipeline;
  apps: AppService;
  processes: ProcessService;
  repos: RepoStore;
  publicUrl: (port: number) => string;
  tls: Tls | null;
}

/** Every part, wired: nothing runs yet. */
function assemble(config: Config, store: Store, docker: DockerEngine, beforeDestroy: (app: string) => Promise<void>): Parts {
  const guard = new AppNetworkGuard(async () => (await docker.networks.listOwned(undefined, true)).flatMap((n) => n.subnets), rootLog.child({ component: 'http' }));
  const hostConfig = { ...APP_HOST_CONFIG, ...containerGuardsHostConfig(config.limits) };
  const runner = new DockerRunner(docker, { stopTimeoutSeconds: 10, hostConfig, onNetwork: (subnets) => guard.add(subnets) });
  const swarm = createSwarm(config, docker, { ...hostConfig, Memory: EDGE_MEMORY_BYTES, MemorySwap: EDGE_MEMORY_BYTES }, (subnets) => guard.add(subnets), rootLog.child({ component: 'swarm' }));
  const router = createRouter(config, rootLog.child({ component: 'router' }));
  const tls = createTls(config, store, router, rootLog.child({ component: 'tls' }));
  // Ports are unique per app: with a domain, the app's URL is its host name.
  const publicUrl = (port: number): string => {
    const app = tls ? store.appOnPort(port) : undefined;
    return tls && app ? tls.domains.urlOf(app) : `http://${config.publicHost}:${port}`;
  };
  const defaultResources = { memoryBytes: config.defaultMemoryBytes, cpus: config.defaultCpus };
  const images = createImages(config, store, docker);
  const statuses = new ContainerStatuses(docker);
  const metrics = new Metrics({
    apps: () => store.listApps(),
    statuses: (all) => statuses.forApps(all),
    memoryUsage: (id) => docker.memoryUsage(id),
    traffic: () => router.trafficStats(),
    log: rootLog.child({ component: 'metrics' }),
  });
  const repos = new RepoStore(path.join(config.dataDir, 'repos'), path.join(config.projectRoot, 'hooks'), config.maxPushBytes);
  const locks = new DeployLocks();
  const pipeline = new DeployPipeline({
    metrics,
    store,
    receiver: new Receiver(120_000),
    images,
    runner,
    router,
    locks,
    workspaces: path.join(config.dataDir, 'workspaces'),
    healthTimeoutMs: config.healthTimeoutMs,
    workerStartupSeconds: config.workerStartupSeconds,
    releaseTimeoutMs: config.releaseTimeoutMs,
    portInUse: (port) => portInUse(config.appBind, port),
    publicUrl,
    defaultResources,
    defaultScheduler: config.swarm.defaultScheduler,
    swarm,
    log: rootLog.child({ component: 'deploy' }),
  });
  const hostCapacity = (): Promise<{ memoryBytes: number; cpus: number }> => docker.hostCapacity();
  const processes = new ProcessService({ store, runner, pipeline, defaultResources, runTimeoutMs: config.runTimeoutMs, swarm: swarm.runner });
  const processStatus = (app: AppRow): Promise<{ status: string; restartCount: number }> => processes.status(app);
  const apps = new AppService({ store, images, runner, router, pipeline, repos, publicUrl, defaultResources, hostCapacity, statuses, beforeDestroy, processStatus, swarm: swarm.runner, rolloutTimeoutMs: rolloutTimeoutMs(config.healthTimeoutMs, MAX_REPLICAS) });
  const nodes = new NodeService({ swarm: swarm.runner, rolloutTimeoutMs: rolloutTimeoutMs(config.healthTimeoutMs, MAX_REPLICAS) });
  return { guard, runner, swarm, nodes, router, metrics, images, locks, pipeline, apps, processes, repos, publicUrl, tls };
}

/**
 * The push hook's socket and the one HTTP port (admin API, webhooks, git remote), guarded
 * against app containers.
 */
async function listenAll(
  config: Config,
  parts: Parts,
  forges: Forges,
  access: AccessLayer,
  store: Store,
  token: string,
): Promise<{ server: http.Server; hooks: HookBridge; port: number; routes: Route[]; socketServer: http.Server | null }> {
  const hooks = new HookBridge(path.join(config.dataDir, 'run', 'hook.sock'), createPushHandler(parts.pipeline), rootLog.child({ component: 'git' }));
  await hooks.listen();
  const git = new GitHttp(parts.repos, access.git, rootLog.child({ component: 'git' }), (name) => store.getApp(name) !== undefined);
  const challenges = parts.tls?.challenges;
  const routes = [...apiRoutes(parts.apps), ...processRoutes(parts.processes), ...nodeRoutes(parts.nodes), ...domainRoutes(parts.tls?.domains ?? null), ...forges.routes, ...access.routes];
  const httpDeps = {
    token,
    guard: access.guard,
    routes,
    hooks: forges.hooks,
    operator: operatorEndpoints(routes, parts.metrics, config.metricsToken),
    dashboard: new Dashboard({ apps: dashboardApps(parts.apps), auth: dashboardAuth(access.authenticator, access.guard, store), log: rootLog.child({ component: 'dashboard' }) }),
    git: { matches: isGitRequest, handle: (req: http.IncomingMessage, res: http.ServerResponse) => git.handle(req, res) },
    log: rootLog.child({ component: 'http' }),
    ...(challenges ? { acmeChallenge: (t: string) => challenges.get(t) } : {}),
  };
  const server = createHttpServer(httpDeps);
  await parts.guard.attach(server);
  // With a domain, the router reaches the control plane (API, git, ACME answers) on a unix socket.
  const socketServer = parts.tls ? createHttpServer(httpDeps) : null;
  if (socketServer) await listenOnSocket(socketServer, controlSocketPath(config.dataDir));
  return { server, hooks, port: await listen(server, config.port, config.host), routes, socketServer };
}

/**
 * The composition root: config → store, docker, runner, router, pipeline, servers. It
 * only wires parts together; start-up reconciliation is deploy/reconcile.ts.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = rootLog.child({ component: 'server' });
  const modesFixed = await restrictToOwner(config.dataDir);
  if (modesFixed > 0) log.warn({ files: modesFixed }, 'made files in the data dir readable by the server user only');
  const tokenSource = loadOrCreateToken(config.dataDir, config.token);
  const secrets = loadSecrets(config.secretKeyFile);
  const store = new Store(path.join(config.dataDir, 'minpaas.db'), secrets.cipher);
  dropUnusedKeys(secrets);
  const docker = await connectDocker(config, store);
  // Bound once the forges exist (they deploy through `apps`): an app's previews go with it.
  let forges: Forges | undefined;
  const parts = assemble(config, store, docker, async (app) => forges?.webhooks.destroyPreviewsOf(app));
  const { runner, router, guard } = parts;

  const runLog = rootLog.child({ component: 'runner' });
  await parts.tls?.domains.prepare();
  await reportSwarm(parts.swarm.runner, config, log);
  await catchUp({ runner, router, store, swarm: parts.swarm.runner, log: runLog }, parts.images, log);
  router.startWatchdog();
  const follower = new AddressFollower({ runner, router, store, log: runLog, queued: (app, fn) => parts.pipeline.queued(app, fn) });
  await follower.start();
  await parts.repos.wireAll();
  const adopted = await parts.apps.adoptLeftovers().catch((err: unknown) => {
    log.warn({ err: errorMessage(err) }, 'could not list repos and workspaces without an app record');
    return [] as string[];
  });
  if (adopted.length) log.info({ apps: adopted }, 'made app records for repos and workspaces that had none');

  let listening = config.port;
  const controlUrl = (): string => config.forges.publicUrl ?? parts.tls?.domains.controlUrl() ?? `http://${config.publicHost}:${listening}`;
  forges = createForges({
    settings: config.forges,
    store,
    pipeline: parts.pipeline,
    locks: parts.locks,
    apps: parts.apps,
    publicUrl: parts.publicUrl,
    controlUrl,
    fetchTimeoutMs: 120_000,
    log: rootLog.child({ component: 'forges' }),
  });
  const access = createAccessLayer({ store, secrets, ownerToken: tokenSource.token, failuresPerMinute: config.authFailuresPerMinute, log: rootLog.child({ component: 'audit' }) });
  const { server, hooks, port, routes, socketServer } = await listenAll(config, parts, forges, access, store, tokenSource.token);
  listening = port;
  // After the control plane listens: the scheduler's first round answers ACME challenges.
  await parts.tls?.domains.start().catch((err: unknown) => log.error({ err: errorMessage(err) }, 'could not load the host routes into the router'));
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
    apps: parts.apps,
    forges,
    authenticator: access.authenticator,
    routes,
    async close() {
      router.close();
      parts.tls?.domains.close();
      socketServer?.closeAllConnections();
      if (socketServer) await new Promise<void>((resolve) => socketServer.close(() => resolve()));
      follower.close();
      guard.close();
      docker.closeLogStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hooks.close();
      store.close();
    },
  };
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
