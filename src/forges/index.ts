import type { AppService } from '../apps/app-service.js';
import { PreviewService } from '../apps/previews.js';
import type { DeployLocks } from '../deploy/lock.js';
import type { DeployPipeline } from '../deploy/pipeline.js';
import type { Route } from '../http/api-routes.js';
import { forgeRoutes } from '../http/forge-routes.js';
import { hookEndpoints, type HookEndpoints } from '../http/hook-routes.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { ConnectionService } from './connections.js';
import { pipelineDeployer } from './deployer.js';
import type { ForgeSettings } from './settings.js';
import { StatusReporter } from './statuses.js';
import { WebhookService } from './webhooks.js';

export interface ForgeDeps {
  settings: ForgeSettings;
  store: Store;
  pipeline: DeployPipeline;
  locks: DeployLocks;
  apps: AppService;
  /** An app's URL from its port. */
  publicUrl: (port: number) => string;
  /** The control plane as forges reach it (MINPAAS_PUBLIC_URL, or http://PUBLIC_HOST:PORT). */
  controlUrl: () => string;
  fetchTimeoutMs: number;
  log: Logger;
}

export interface Forges {
  routes: Route[];
  hooks: HookEndpoints;
  webhooks: WebhookService;
}

/** Wires connections, webhooks, statuses and previews to the store and the deploy pipeline. */
export function createForges(deps: ForgeDeps): Forges {
  const { store, settings } = deps;
  const previews = new PreviewService(store, settings);
  const webhooks = new WebhookService({
    store,
    previews,
    deployer: pipelineDeployer({
      pipeline: deps.pipeline,
      locks: deps.locks,
      apps: deps.apps,
      appExists: (app) => store.getApp(app) !== undefined,
      publicUrl: deps.publicUrl,
      fetchTimeoutMs: deps.fetchTimeoutMs,
    }),
    statuses: new StatusReporter({ github: settings.githubApiUrl, gitlab: settings.gitlabApiUrl }, deps.log.child({ part: 'statuses' })),
    deployLogUrl: (app, id) => `${deps.controlUrl()}/apps/${app}/deploys/${id}/log`,
    log: deps.log,
  });
  const appUrl = (app: string): string | null => {
    const row = store.getApp(app);
    return row ? deps.publicUrl(row.port) : null;
  };
  return {
    routes: forgeRoutes(new ConnectionService(store, deps.controlUrl), previews, store, appUrl),
    hooks: hookEndpoints(webhooks),
    webhooks,
  };
}
