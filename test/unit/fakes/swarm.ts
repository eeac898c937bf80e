import { edgeName, serviceName } from '../../../src/docker/index.js';
import type { EdgePort } from '../../../src/deploy/run-swarm-release.js';
import { MinPaasError } from '../../../src/errors.js';
import type { Address } from '../../../src/domain/types.js';
import type { ServiceChange, ServiceRequest, ServiceRunner, SwarmNode, SwarmTask } from '../../../src/runner/swarm-types.js';
import type { LogStream, OneOffRequest, OneOffResult, OutputSink, RunningContainer } from '../../../src/runner/types.js';
import { InjectedFailure } from './ports.js';

/** In-memory stand-ins for the Swarm scheduler and the edges into its tasks, for unit tests of the Run stage. */

export interface FakeService {
  release: number;
  replicas: number;
  image: string;
  command: string | null;
}

export type SwarmStep = 'publish' | 'typesOf' | 'remove' | 'undo';

export class FakeServiceRunner implements ServiceRunner {
  /** Services by name (`APP-type`). */
  readonly services = new Map<string, FakeService & { app: string; type: string }>();
  readonly calls: string[] = [];
  readonly requests: ServiceRequest[] = [];
  readonly undone: ServiceChange[] = [];
  readonly oneOffs: OneOffRequest[] = [];
  readonly failing = new Set<SwarmStep>();
  /** Process types whose deploy or scale fails (as a task that never answered would). */
  readonly failingTypes = new Set<string>();
  oneOffResult: OneOffResult = { exitCode: 0, timedOut: false };
  oneOffOutput: string[] = [];
  /** Set: this engine is no swarm manager. */
  unavailable = false;
  /** MINPAAS_REGISTRY: publish answers a reference there. */
  registry: string | null = null;
  /** Each spec a deploy replaced, so undo can roll back to it. */
  private readonly previous = new Map<string, FakeService>();

  private fail(step: SwarmStep): void {
    if (this.failing.has(step)) throw new InjectedFailure(`injected ${step} failure`);
  }

  /** A service that already runs (an earlier release's). */
  add(app: string, type: string, service: FakeService): void {
    this.services.set(serviceName(app, type), { ...service, app, type });
  }

  async assertReady(): Promise<void> {
    this.calls.push('assertReady');
    if (this.unavailable) throw new MinPaasError('SWARM_UNAVAILABLE', 'this Docker engine is not a swarm manager: run docker swarm init');
  }

  async isManager(): Promise<boolean> {
    return !this.unavailable;
  }

  async publish(imageId: string, imageTag: string): Promise<string> {
    this.calls.push(`publish ${imageId}`);
    this.fail('publish');
    return this.registry ? `${this.registry}/${imageTag}` : imageTag;
  }

  async deploy(req: ServiceRequest, timeoutMs: number): Promise<ServiceChange> {
    const name = serviceName(req.app, req.type);
    this.calls.push(`deploy ${name} v${req.release} x${req.replicas} ${timeoutMs}ms`);
    this.requests.push(req);
    if (this.failingTypes.has(req.type)) throw new MinPaasError('HEALTH_CHECK_FAILED', `${name}: the app exited (code 1) before it answered HTTP; Swarm rolled it back`);
    const existing = this.services.get(name);
    if (existing) this.previous.set(name, { ...existing });
    this.services.set(name, { app: req.app, type: req.type, release: req.release, replicas: req.replicas, image: req.image, command: req.command });
    return { app: req.app, type: req.type, created: !existing };
  }

  async undo(change: ServiceChange): Promise<void> {
    const name = serviceName(change.app, change.type);
    this.calls.push(`undo ${name}`);
    this.undone.push(change);
    this.fail('undo');
    if (change.created) {
      this.services.delete(name);
      return;
    }
    const before = this.previous.get(name);
    if (before) this.services.set(name, { ...before, app: change.app, type: change.type });
  }

  async scale(app: string, type: string, release: number, replicas: number, timeoutMs: number): Promise<void> {
    const name = serviceName(app, type);
    this.calls.push(`scale ${name} v${release} x${replicas} ${timeoutMs}ms`);
    const service = this.services.get(name);
    if (!service) throw new Error(`${name} has no service to scale`);
    if (this.failingTypes.has(type)) throw new MinPaasError('HEALTH_CHECK_FAILED', `${name}: a new task exited (code 1)`);
    service.replicas = replicas;
  }

  async typesOf(app: string): Promise<string[]> {
    this.fail('typesOf');
    return [...this.services.values()].filter((s) => s.app === app).map((s) => s.type).sort();
  }

  async remove(app: string, type: string): Promise<void> {
    this.calls.push(`remove ${serviceName(app, type)}`);
    this.fail('remove');
    this.services.delete(serviceName(app, type));
  }

  async removeApp(app: string): Promise<void> {
    this.calls.push(`removeApp ${app}`);
    for (const [name, s] of this.services) if (s.app === app) this.services.delete(name);
  }

  async knownApps(): Promise<string[]> {
    return [...new Set([...this.services.values()].map((s) => s.app))].sort();
  }

  async runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult> {
    this.calls.push(`oneOff ${typeof req.command === 'string' ? req.command : req.command.join(' ')}`);
    this.oneOffs.push(req);
    for (const line of this.oneOffOutput) onOutput('stdout', Buffer.from(`${line}\n`));
    return this.oneOffResult;
  }

  /** Replica counts by service name, e.g. `{ 'shop-web': 2 }`. */
  replicas(): Record<string, number> {
    return Object.fromEntries([...this.services].map(([name, s]) => [name, s.replicas]));
  }

  /** Release of each service, e.g. `{ 'shop-web': 2 }`. */
  releases(): Record<string, number> {
    return Object.fromEntries([...this.services].map(([name, s]) => [name, s.release]));
  }

  async tasks(): Promise<SwarmTask[]> {
    throw new Error('not used by these tests');
  }
  async logs(): Promise<string> {
    throw new Error('not used by these tests');
  }
  async followLogs(): Promise<LogStream> {
    throw new Error('not used by these tests');
  }
  async nodes(): Promise<SwarmNode[]> {
    throw new Error('not used by these tests');
  }
  async drain(): Promise<void> {
    throw new Error('not used by these tests');
  }
  async activate(): Promise<void> {
    throw new Error('not used by these tests');
  }
  async updateLimits(): Promise<void> {
    throw new Error('not used by these tests');
  }
}

/** Edges at a fixed address per app: ensuring one again finds the same container. */
export class FakeEdges implements EdgePort {
  readonly calls: string[] = [];
  failing = false;

  constructor(readonly address: Address = { host: '10.9.0.2', port: 40001 }) {}

  async ensure(app: string, release: number, service: string, appPort: number): Promise<RunningContainer> {
    this.calls.push(`ensure ${app} v${release} ${service} ${appPort}`);
    if (this.failing) throw new InjectedFailure('injected edge failure');
    return { name: edgeName(app, appPort), address: this.address };
  }
}
