/** Where something answers on the network: an IP literal and a port. */
export interface Address {
  host: string;
  port: number;
}

/** Where a release runs: written with the release in one transaction. */
export interface Placement {
  container: string;
  address: Address;
}

export type RuntimeName = 'python' | 'node';
/** How an app's image is built: the platform's runtime Dockerfile (the default) or the app's own Dockerfile. */
export type BuilderName = 'platform' | 'dockerfile';
/** Where an app's processes run: containers on this engine (the default) or services on a Docker Swarm. */
export type SchedulerName = 'docker-local' | 'swarm';
export const SCHEDULERS: readonly SchedulerName[] = ['docker-local', 'swarm'];
/** Procfile process types: name → command. */
export type ProcessTypes = Record<string, string>;
export type EnvVars = Record<string, string>;

/** What the store keeps about an app. */
export interface AppRow {
  name: string;
  runtime: RuntimeName;
  /** Source repo URL for apps deployed through the API; null for git-push apps. */
  repo: string | null;
  branch: string | null;
  /** Stable public port, owned by the router; never changes for the app's lifetime. */
  port: number;
  /** Number of the release that serves now, or null before the first deploy. */
  release: number | null;
  /** The serving container's name and its network address (the router's target). */
  container: string | null;
  address: Address | null;
  /** Container limits: null = the default, 0 = no limit. */
  memoryLimit: number | null;
  cpuLimit: number | null;
  builder: BuilderName;
  scheduler: SchedulerName;
  createdAt: string;
  updatedAt: string;
}

export type ReleaseKind = 'build' | 'config' | 'rollback';

export interface Release {
  app: string;
  number: number;
  /** The tag it was built as (`minpaas/APP:vN`); config releases share their base's. */
  imageTag: string;
  /** The image ID (immutable): what runs. */
  imageId: string;
  env: EnvVars;
  commit: string | null;
  kind: ReleaseKind;
  description: string;
  /** The process types of the build (Procfile, `web` always present); carried over by config releases and rollbacks. */
  processTypes: ProcessTypes;
  /** Port the app listens on inside its container ($PORT); null = its runtime's default. */
  listenPort: number | null;
  createdAt: string;
}

/** A release as the API shows it (`image` is its tag). */
export type ReleaseRecord = Omit<Release, 'imageTag'> & { image: string };

export function releaseRecord({ imageTag, ...rest }: Release): ReleaseRecord {
  return { ...rest, image: imageTag };
}

export type DeployStatus = 'running' | 'succeeded' | 'failed';
export type DeploySource = 'push' | 'api' | 'config' | 'rollback' | 'webhook' | 'scale' | 'scheduler';

export interface Deploy {
  id: number;
  app: string;
  source: DeploySource;
  status: DeployStatus;
  commit: string | null;
  release: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** An app as the API shows it. */
export interface AppRecord {
  name: string;
  runtime: RuntimeName;
  builder: BuilderName;
  scheduler: SchedulerName;
  repo: string | null;
  branch: string | null;
  container: string | null;
  image: string | null;
  port: number;
  url: string;
  env: EnvVars;
  release: number | null;
  status: string;
  /** How often Docker restarted the container after a crash. */
  restarts: number;
  resources: { memory: string; cpus: number | null };
  createdAt: string;
  updatedAt: string;
}
