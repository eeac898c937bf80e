import type { NodeState } from '../docker/index.js';
import type { Resources } from '../domain/resources.js';
import type { EnvVars } from '../domain/types.js';
import type { LogStream, OneOffRequest, OneOffResult, OutputSink } from './types.js';

/** One process type of a release as a Swarm service (`APP-web`) with its replicas. */
export interface ServiceRequest {
  app: string;
  release: number;
  type: string;
  replicas: number;
  /** The type's command, run by a shell; null runs the image's own CMD (web). */
  command: string | null;
  /** An image reference every node can pull (see publish). */
  image: string;
  env: EnvVars;
  /** Web only: the port the app listens on ($PORT), asked by the health check. */
  appPort: number | null;
  resources: Resources;
}

/** What a deploy of one service did, so it can be undone. */
export interface ServiceChange {
  app: string;
  type: string;
  /** It did not exist before (undo: remove it); else undo rolls it back to its previous spec. */
  created: boolean;
}

export interface SwarmTask {
  /** The service it is a task of (`APP-web`). */
  service: string;
  type: string;
  replica: number | null;
  node: string | null;
  state: string;
  desiredState: string;
  release: number | null;
  error: string | null;
  updatedAt: string;
}

/** A swarm node with how many tasks (every service's, not only MinPaas's) run on it. */
export type SwarmNode = NodeState & { tasks: number };

/**
 * Where Swarm apps run: a service per process type, replaced by rolling updates. Like
 * the Runner, it knows nothing of routes, the store or deploy output.
 */
export interface ServiceRunner {
  /** Throws SWARM_UNAVAILABLE (with what to do) unless this engine is a swarm manager. */
  assertReady(): Promise<void>;
  /** True when this engine is a swarm manager (read at start-up and on each check). */
  isManager(): Promise<boolean>;
  /** The reference the services run: pushed to MINPAAS_REGISTRY when one is set. */
  publish(imageId: string, imageTag: string): Promise<string>;
  /** Creates or rolling-updates the service and waits until it converged; on failure Swarm has rolled it back. */
  deploy(req: ServiceRequest, timeoutMs: number): Promise<ServiceChange>;
  /** Undoes a deploy that succeeded (a later step failed): rolls back, or removes what it created. */
  undo(change: ServiceChange, timeoutMs: number): Promise<void>;
  /** Changes a service's replica count and waits until it runs that many. */
  scale(app: string, type: string, release: number, replicas: number, timeoutMs: number): Promise<void>;
  /** Process types that have a service. */
  typesOf(app: string): Promise<string[]>;
  remove(app: string, type: string): Promise<void>;
  /** Every service and one-off task of the app. */
  removeApp(app: string): Promise<void>;
  /** Apps that have services (start-up clean-up of deleted apps). */
  knownApps(): Promise<string[]>;
  tasks(app: string): Promise<SwarmTask[]>;
  runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult>;
  /** Every task's lines (or one process type's, or one replica's: `web.2`), each prefixed with its replica. */
  logs(app: string, tail: number, process?: string): Promise<string>;
  followLogs(app: string, tail: number, process?: string): Promise<LogStream>;
  nodes(): Promise<SwarmNode[]>;
  /** Moves this installation's tasks off the node (rolling, start-first), then drains it. */
  drain(node: string, timeoutMs: number): Promise<void>;
  activate(node: string): Promise<void>;
  /** Changes the limits of the app's services (a rolling update). */
  updateLimits(app: string, resources: Resources, timeoutMs: number): Promise<void>;
}
