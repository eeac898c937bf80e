import type { BuildDeployRequest, DeployResult } from '../deploy/pipeline.js';
import type { AppRow, EnvVars } from '../domain/types.js';
import { isMinPaasError } from '../errors.js';
import type { GitCredentials } from '../git/fetch-commit.js';

export interface CommitDeploy {
  app: string;
  repo: string;
  /** Recorded as the app's branch. */
  branch: string;
  commit: string;
  /** Where the commit lives if the server refuses fetching it by id. */
  fetchRef: string;
  credentials: GitCredentials | null;
  /** Config set with this deploy (previews: the parent's plus MINPAAS_PR_NUMBER). */
  env?: EnvVars;
  /** Under the app's lock, before the build (previews: the parent's limits). */
  beforeBuild?: (app: AppRow) => Promise<void>;
  /** Told the deploy's id as soon as it is recorded. */
  onStarted: (deployId: number) => void;
}

export interface CommitDeployed {
  deployId: number;
  release: number;
  url: string;
}

/** What webhooks need from the deploy machinery, and nothing more. */
export interface ForgeDeployer {
  /** A deploy of `app` runs or waits (a git push, an API call). */
  isBusy(app: string): boolean;
  deploy(req: CommitDeploy): Promise<CommitDeployed>;
  /** Removes an app with everything it had; nothing when it does not exist. */
  destroy(app: string): Promise<void>;
}

export interface PipelineDeployerDeps {
  pipeline: { buildAndDeploy(req: BuildDeployRequest): Promise<DeployResult> };
  locks: { isBusy(app: string): boolean; acquire(app: string): Promise<() => void> };
  apps: { destroy(name: unknown): Promise<void> };
  appExists: (app: string) => boolean;
  publicUrl: (port: number) => string;
  fetchTimeoutMs: number;
}

/** Webhook deploys through the same pipeline as `git push` and `POST /deploy`. */
export function pipelineDeployer(deps: PipelineDeployerDeps): ForgeDeployer {
  return {
    isBusy: (app) => deps.locks.isBusy(app),
    async deploy(req) {
      const outcome = await deps.pipeline.buildAndDeploy({
        app: req.app,
        source: 'webhook',
        from: { kind: 'commit', url: req.repo, commit: req.commit, ref: req.fetchRef, branch: req.branch, credentials: req.credentials },
        // Webhook deploys wait their turn like pushes: the forge already has its answer.
        wait: true,
        ...(req.env ? { env: req.env } : {}),
        ...(req.beforeBuild ? { beforeBuild: req.beforeBuild } : {}),
        onStarted: req.onStarted,
      });
      await outcome.settled;
      return { deployId: outcome.deployId, release: outcome.release.number, url: deps.publicUrl(outcome.app.port) };
    },
    async destroy(app) {
      for (let attempt = 0; deps.appExists(app); attempt++) {
        // Let a running deploy of it (a push, say) finish first.
        (await deps.locks.acquire(app))();
        try {
          await deps.apps.destroy(app);
          return;
        } catch (err) {
          if (!(isMinPaasError(err) && err.code === 'DEPLOY_IN_PROGRESS') || attempt >= 5) throw err;
        }
      }
    },
  };
}
