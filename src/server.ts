import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { AppService } from './apps/app-service.js';
import { loadOrCreateInstanceId, loadOrCreateToken } from './auth/token.js';
import { BaseImages } from './build/base-images.js';
import { ImageBuilder } from './build/image-builder.js';
import { Images } from './build/images.js';
import type { Config } from './config.js';
import { DeployLocks } from './deploy/lock.js';
import { ImageRetention } from './deploy/image-retention.js';
import { AddressFollower } from './deploy/address-follower.js';
import { DeployPipeline } from './deploy/pipeline.js';
import { Receiver } from './deploy/receive.js';
import { reconcile, type ReconcilePorts } from './deploy/reconcile.js';
import { createPushHandler } from './deploy/push-deploy.js';
import { createDockerClient, DockerEngine } from './docker/index.js';
import { portInUse } from './domain/ports.js';
import { errorMessage } from './errors.js';
import { GitHttp, isGitRequest } from './git/git-http.js';
import { HookBridge } from './git/hook-bridge.js';
import { RepoStore } from './git/repos.js';
import { apiRoutes } from './http/api-routes.js';
import { createHttpServer } from './http/server.js';
import { log as rootLog, type Logger } from './log.js';
import { AppNetworkGuard } from './http/network-guard.js';
import { createRouter } from './router/haproxy-router.js';
import type { Router } from './router/types.js';
import { DockerRunner } from './runner/docker-runner.js';
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
  /** Stops the control plane; the router (and so every app) keeps serving. */
  close(): Promise<void>;
}

/** Container hardening for every app: no privilege escalation, no capabilities. */
const APP_HOST_CONFIG = {
  SecurityOpt: ['no-new-privileges:true'],
  CapDrop: ['ALL'],
};

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

function createBuilder(config: Config, docker: DockerEngine): ImageBuilder {
  const bases = new BaseImages(
    docker,
    { node: config.nodeBaseImage, python: config.pythonBaseImage },
    config.baseImagesDefaulted,
    rootLog.child({ component: 'base-images' }),
  );
  return new ImageBuilder(docker, bases, config.projectRoot, config.buildTimeoutMs);
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
  router: Router;
  images: Images;
  pipeline: DeployPipeline;
  apps: AppService;
  repos: RepoStore;
}

/** Every part, wired: nothing runs yet. */
function assemble(config: Config, store: Store, docker: DockerEngine): Parts {
  const guard = new AppNetworkGuard(async () => (await docker.networks.listOwned(undefined, true)).flatMap((n) => n.subnets), rootLog.child({ component: 'http' }));
  const runner = new DockerRunner(docker, { stopTimeoutSeconds: 10, hostConfig: APP_HOST_CONFIG, onNetwork: (subnets) => guard.add(subnets) });
  const router = createRouter(config, rootLog.child({ component: 'router' }));
  const publicUrl = (port: number): string => `http://${config.publicHost}:${port}`;
  const defaultResources = { memoryBytes: config.defaultMemoryBytes, cpus: config.defaultCpus };
  const retention = new ImageRetention(store, docker, config.keepReleases, rootLog.child({ component: 'images' }));
  const images = new Images(docker, createBuilder(config, docker), retention);
  const repos = new RepoStore(path.join(config.dataDir, 'repos'), path.join(config.projectRoot, 'hooks'), config.maxPushBytes);
  const pipeline = new DeployPipeline({
    store,
    receiver: new Receiver(120_000),
    images,
    runner,
    router,
    locks: new DeployLocks(),
    workspaces: path.join(config.dataDir, 'workspaces'),
    healthTimeoutMs: config.healthTimeoutMs,
    portInUse: (port) => portInUse(config.appBind, port),
    publicUrl,
    defaultResources,
    log: rootLog.child({ component: 'deploy' }),
  });
  const apps = new AppService({ store, images, runner, router, pipeline, repos, publicUrl, defaultResources });
  return { guard, runner, router, images, pipeline, apps, repos };
}

/** The push hook's socket and the one HTTP port (admin API + git remote), guarded against app containers. */
async function listenAll(config: Config, parts: Parts, token: string): Promise<{ server: http.Server; hooks: HookBridge; port: number }> {
  const hooks = new HookBridge(path.join(config.dataDir, 'run', 'hook.sock'), createPushHandler(parts.pipeline), rootLog.child({ component: 'git' }));
  await hooks.listen();
  const git = new GitHttp(parts.repos, token, rootLog.child({ component: 'git' }));
  const server = createHttpServer({
    token,
    routes: apiRoutes(parts.apps),
    git: { matches: isGitRequest, handle: (req, res) => git.handle(req, res) },
    log: rootLog.child({ component: 'http' }),
  });
  await parts.guard.attach(server);
  return { server, hooks, port: await listen(server, config.port, config.host) };
}

/**
 * The composition root: config → store, docker, runner, router, pipeline, servers. It
 * only wires parts together; start-up reconciliation is deploy/reconcile.ts.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = rootLog.child({ component: 'server' });
  fs.mkdirSync(config.dataDir, { recursive: true });
  const tokenSource = loadOrCreateToken(config.dataDir, config.token);
  const store = new Store(path.join(config.dataDir, 'minpaas.db'));
  const docker = await connectDocker(config, store);
  const parts = assemble(config, store, docker);
  const { runner, router, guard } = parts;

  const runLog = rootLog.child({ component: 'runner' });
  await catchUp({ runner, router, store, log: runLog }, parts.images, log);
  router.startWatchdog();
  const follower = new AddressFollower({ runner, router, store, log: runLog, queued: (app, fn) => parts.pipeline.queued(app, fn) });
  await follower.start();
  await parts.repos.wireAll();
  const { server, hooks, port } = await listenAll(config, parts, tokenSource.token);
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
    async close() {
      router.close();
      follower.close();
      guard.close();
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
