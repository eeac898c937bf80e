import type { Resources } from '../domain/resources.js';
import type { Address, EnvVars } from '../domain/types.js';

/** One release of an app to run as a container. */
export interface ContainerRequest {
  app: string;
  release: number;
  /** Image ID (immutable) to run. */
  imageId: string;
  env: EnvVars;
  /** The port the app listens on inside the container ($PORT). */
  appPort: number;
  resources: Resources;
}

export interface RunningContainer {
  name: string;
  /** Where the container answers; the router's target. */
  address: Address;
}

export interface Healthy {
  /** The HTTP status of the first answer (any status means the app is up). */
  status: number;
  elapsedMs: number;
}

export interface ContainerStatus {
  name: string;
  app: string | null;
  /** running, restarting, exited, created, dead… */
  status: string;
  running: boolean;
  restartCount: number;
  /** Null while it is not running. */
  address: Address | null;
}

export interface LogStream {
  stream: NodeJS.ReadableStream;
  stop: () => void;
}

/**
 * Where releases run: containers only. It knows nothing of routes, the store or deploy
 * output. Docker on this machine is the one implementation; a Swarm runner would be another.
 */
export interface Runner {
  /** Start the release (replacing a leftover of the same name, which never served). */
  start(req: ContainerRequest): Promise<RunningContainer>;
  /** Resolves once the container answers HTTP; throws HEALTH_CHECK_FAILED with its last log lines. */
  waitHealthy(container: RunningContainer, timeoutMs: number): Promise<Healthy>;
  /** From now on the container is restarted when it crashes. */
  keepRunning(name: string): Promise<void>;
  /** Names of every container of the app, serving or not. */
  containersOf(app: string): Promise<string[]>;
  /** Every container this installation owns, with its app. */
  listAll(): Promise<ContainerStatus[]>;
  inspect(name: string): Promise<ContainerStatus | null>;
  /** Starts a stopped container again; returns its state after. */
  restart(name: string): Promise<ContainerStatus | null>;
  /** Stop (SIGTERM, then the stop timeout) and remove. */
  retire(names: string[]): Promise<void>;
  /** Remove at once; a missing container is fine. */
  remove(name: string): Promise<void>;
  /** Every container of the app and whatever else it holds (its network). */
  removeApp(app: string): Promise<void>;
  /** Apps that have anything (containers, networks) on this runner. */
  knownApps(): Promise<string[]>;
  logs(name: string, tail: number): Promise<string>;
  followLogs(name: string, tail: number): Promise<LogStream>;
  /** Changes the running container's limits in place (no restart). */
  updateLimits(name: string, resources: Resources): Promise<void>;
  /** Calls `onStart(name)` whenever one of its containers (re)starts; returns a stop function. */
  watchStarts(onStart: (name: string) => void): Promise<() => void>;
}
