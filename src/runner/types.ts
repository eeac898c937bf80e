import type { Resources } from '../domain/resources.js';
import type { Address, EnvVars } from '../domain/types.js';

/** One process (a replica of a process type) of a release to run as a container. */
export interface ContainerRequest {
  app: string;
  release: number;
  /** Procfile process type and replica: the container's name and $DYNO (`web.1`). */
  type: string;
  replica: number;
  /** The type's command, run by a shell; null runs the image's own CMD (web). */
  command: string | null;
  /** Image ID (immutable) to run. */
  imageId: string;
  env: EnvVars;
  /** The port a web process listens on inside the container ($PORT); null for workers. */
  appPort: number | null;
  resources: Resources;
}

/** A one-off container of a release (release phase, `minpaas run`), removed when it ends. */
export interface OneOffRequest {
  app: string;
  release: number;
  imageId: string;
  env: EnvVars;
  resources: Resources;
  /** A shell command line (the release phase) or an argument vector (`minpaas run`). */
  command: string | string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface OneOffResult {
  /** Null when it was killed (timeout or the client went away). */
  exitCode: number | null;
  timedOut: boolean;
}

export type OutputSink = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

export interface RunningContainer {
  name: string;
  /** Where the container answers; the router's target. Null for workers (no port). */
  address: Address | null;
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
  /** When it last started (ISO time), for uptimes; null when unknown. */
  startedAt: string | null;
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
  /** Resolves once a worker has stayed up for `seconds`; throws HEALTH_CHECK_FAILED when it exits before. */
  waitStable(container: RunningContainer, seconds: number): Promise<void>;
  /** Runs a one-off container to its end, streaming its output; it is removed afterwards. */
  runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult>;
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
