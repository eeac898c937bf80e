import type { Slot } from '../router/types.js';

export type RuntimeName = 'python' | 'node';
/** How an app's image is built: the platform's runtime Dockerfile (the default) or the app's own Dockerfile. */
export type BuilderName = 'platform' | 'dockerfile';
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
  /** Which scheduler runs the app (only `docker-local` today). */
  scheduler: string;
  /** Number of the release that serves now, or null before the first deploy. */
  release: number | null;
  /** Serving container's name and its ephemeral host port (the router's target). */
  container: string | null;
  containerPort: number | null;
  routeSlot: Slot;
  /** Container limits: null = the default, 0 = no limit. */
  memoryLimit: number | null;
  cpuLimit: number | null;
  builder: BuilderName;
  createdAt: string;
  updatedAt: string;
}

export type ReleaseKind = 'build' | 'config' | 'rollback';

export interface Release {
  app: string;
  number: number;
  image: string;
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

export type DeployStatus = 'running' | 'succeeded' | 'failed';
export type DeploySource = 'push' | 'api' | 'config' | 'rollback' | 'webhook';

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
