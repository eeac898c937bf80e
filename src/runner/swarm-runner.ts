import { randomBytes } from 'node:crypto';
import {
  avoidNode,
  constraintsOf,
  demuxBuffer,
  jobSpec,
  LABEL_APP,
  LABEL_PROCESS,
  LABEL_RELEASE,
  serviceName,
  serviceSpec,
  taskLabels,
  withConstraint,
  withLimits,
  withReplicas,
  type ServiceState,
  type SwarmEngine,
  type TaskState,
} from '../docker/index.js';
import { dynoName } from '../domain/processes.js';
import type { ContainerGuards, Resources } from '../domain/resources.js';
import { MinPaasError, notFound } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';
import { tasksProgress, taskFailure, updateProgress, type Progress } from './rollout.js';
import { shellCommand } from './docker-runner.js';
import { parseDetailedLine } from './swarm-logs.js';
import { followServiceLogs, readServiceLogs, runJob } from './swarm-output.js';
import type { LogStream, OneOffRequest, OneOffResult, OutputSink } from './types.js';
import type { ServiceChange, ServiceRequest, ServiceRunner, SwarmNode, SwarmTask } from './swarm-types.js';

export interface SwarmRunnerOptions {
  /** The installation's attachable overlay network (services and edges join it). */
  overlay: string;
  /** MINPAAS_REGISTRY: images are pushed there so every node can pull them; null = this node's images only. */
  registry: string | null;
  guards: ContainerGuards;
  stopGraceSeconds: number;
  /** How long a new task may take to answer its first health check (MINPAAS_HEALTH_TIMEOUT). */
  healthStartSeconds: number;
  /** Told the overlay's and docker_gwbridge's subnets once (the control plane's guard). */
  onNetwork?: (subnets: string[]) => void;
  log: Logger;
}

const POLL_MS = 250;
const FAILED_LOG_LINES = 20;
const ONE_OFF = /-run-[0-9a-f]{8}$/;

/** The Swarm scheduler: one service per process type, rolled by Swarm itself, waited on here. */
export class SwarmRunner implements ServiceRunner {
  private overlayReady: Promise<void> | null = null;

  constructor(
    private readonly swarm: SwarmEngine,
    private readonly options: SwarmRunnerOptions,
  ) {}

  async isManager(): Promise<boolean> {
    return (await this.swarm.state()).manager;
  }

  async assertReady(): Promise<void> {
    const state = await this.swarm.state();
    if (!state.manager) {
      const why = state.localState === 'active' ? 'this Docker engine is a swarm worker, not a manager' : 'this Docker engine is not part of a swarm';
      throw new MinPaasError('SWARM_UNAVAILABLE', `${why}: run \`docker swarm init\` on it (or join it to a swarm as a manager), or keep the app on docker-local`);
    }
    this.overlayReady ??= this.prepareOverlay().catch((err: unknown) => {
      this.overlayReady = null;
      throw err;
    });
    await this.overlayReady;
  }

  private async prepareOverlay(): Promise<void> {
    const subnets = await this.swarm.ensureOverlay(this.options.overlay);
    this.options.onNetwork?.([...subnets, ...(await this.swarm.gatewaySubnets())]);
  }

  async publish(imageId: string, imageTag: string): Promise<string> {
    if (!this.options.registry) return imageTag;
    const ref = `${this.options.registry}/${imageTag}`;
    try {
      return await this.swarm.push(imageId, ref);
    } catch (err) {
      throw new MinPaasError('REGISTRY_FAILED', `could not push ${ref} to the registry ${this.options.registry}: ${(err as Error).message}`);
    }
  }

  async deploy(req: ServiceRequest, timeoutMs: number): Promise<ServiceChange> {
    const name = serviceName(req.app, req.type);
    const existing = await this.owned(name, req.app);
    const spec = this.specFor(req);
    if (!existing) {
      const since = Date.now();
      await this.swarm.createService(spec);
      const progress = await this.waitFor(name, timeoutMs, (_s, tasks) => tasksProgress(tasks, req.release, req.replicas, since));
      if (progress.kind !== 'done') {
        const details = await this.failedLog(name, progress);
        await this.swarm.removeService(name);
        throw healthFailure(name, progress, timeoutMs, details);
      }
      return { app: req.app, type: req.type, created: true };
    }
    const since = Date.now();
    await this.swarm.updateService(name, existing.version, spec);
    // With no replica there is nothing to roll (Swarm may report no update at all): done once no task runs.
    const progress = await this.waitFor(name, timeoutMs, (s, tasks) => (req.replicas === 0 ? tasksProgress(tasks, req.release, 0, since) : updateProgress(s, since, tasks, req.release)));
    if (progress.kind === 'done') return { app: req.app, type: req.type, created: false };
    const details = await this.failedLog(name, progress);
    // Swarm rolls back by itself when a new task fails; a timeout is rolled back here.
    if (progress.kind === 'pending') await this.rollback(name, timeoutMs);
    throw healthFailure(name, progress, timeoutMs, details);
  }

  async undo(change: ServiceChange, timeoutMs: number): Promise<void> {
    const name = serviceName(change.app, change.type);
    if (change.created) return this.swarm.removeService(name);
    await this.rollback(name, timeoutMs);
  }

  private async rollback(name: string, timeoutMs: number): Promise<void> {
    const service = await this.swarm.service(name);
    if (!service) return;
    const since = Date.now();
    await this.swarm.updateService(name, service.version, service.spec, true);
    await this.waitFor(name, timeoutMs, (s) => (s.update && Date.parse(s.update.startedAt ?? '') >= since - 1000 && s.update.state === 'rollback_completed' ? { kind: 'done' } : { kind: 'pending' }));
  }

  async scale(app: string, type: string, release: number, replicas: number, timeoutMs: number): Promise<void> {
    const name = serviceName(app, type);
    const service = await this.owned(name, app);
    if (!service) throw new Error(`${name} has no service to scale`);
    const since = Date.now();
    await this.swarm.updateService(name, service.version, withReplicas(service.spec, replicas));
    const progress = await this.waitFor(name, timeoutMs, (_s, tasks) => tasksProgress(tasks, release, replicas, since));
    if (progress.kind !== 'done') throw healthFailure(name, progress, timeoutMs, await this.failedLog(name, progress));
  }

  async typesOf(app: string): Promise<string[]> {
    return (await this.processServices(app)).map((s) => s.labels[LABEL_PROCESS]!).sort();
  }

  async remove(app: string, type: string): Promise<void> {
    if (await this.owned(serviceName(app, type), app)) await this.swarm.removeService(serviceName(app, type));
  }

  async removeApp(app: string): Promise<void> {
    if (!(await this.isManager())) return;
    const services = await this.swarm.listServices(app);
    for (const s of services) await this.swarm.removeService(s.name);
    if (services.length) await this.tasksGone(app);
  }

  /**
   * Waits (bounded) until Swarm has stopped and removed the app's task containers on this
   * node: until then their images are in use, and removing the app's images would only
   * untag them.
   */
  private async tasksGone(app: string): Promise<void> {
    const deadline = Date.now() + (this.options.stopGraceSeconds + 20) * 1000;
    while (Date.now() < deadline && (await this.swarm.taskContainers(app)).length > 0) await sleep(500);
  }

  async knownApps(): Promise<string[]> {
    if (!(await this.isManager())) return [];
    const apps = (await this.swarm.listServices()).map((s) => s.labels[LABEL_APP]).filter((a): a is string => !!a);
    return [...new Set(apps)].sort();
  }

  async tasks(app: string): Promise<SwarmTask[]> {
    const out: SwarmTask[] = [];
    for (const service of await this.processServices(app)) {
      const type = service.labels[LABEL_PROCESS]!;
      for (const t of await this.swarm.tasks(service.name)) out.push(toSwarmTask(service.name, type, t));
    }
    return out.sort((a, b) => a.type.localeCompare(b.type) || (a.replica ?? 0) - (b.replica ?? 0));
  }

  async runOneOff(req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult> {
    await this.assertReady();
    const name = `${req.app}-run-${randomBytes(4).toString('hex')}`;
    const spec = jobSpec({
      name,
      image: req.imageId,
      env: { ...req.env, DYNO: `run.${name.slice(-8)}` },
      args: typeof req.command === 'string' ? shellCommand(req.command) : req.command,
      labels: { ...this.swarm.labels(req.app), [LABEL_RELEASE]: String(req.release), [LABEL_PROCESS]: 'run' },
      containerLabels: taskLabels(this.swarm.instance, req.app, req.release, 'run'),
      network: this.options.overlay,
      resources: req.resources,
      guards: this.options.guards,
      stopGraceSeconds: this.options.stopGraceSeconds,
    });
    return runJob(this.swarm, name, spec, req, onOutput);
  }

  async logs(app: string, tail: number, process?: string): Promise<string> {
    const services = await this.logServices(app, process);
    return readServiceLogs(this.swarm, services, tail, (type, t) => this.replicaOf(type, t), process);
  }

  async followLogs(app: string, tail: number, process?: string): Promise<LogStream> {
    const services = await this.logServices(app, process);
    if (!services.length) throw new MinPaasError('CONFLICT', `${app} has no running release yet`);
    return followServiceLogs(this.swarm, services, tail, (type, t) => this.replicaOf(type, t), process);
  }

  private readonly slots = new Map<string, number | null>();

  /** `web.2` for a task id (looked up once per task). */
  private async replicaOf(service: { name: string; type: string }, task: string | null): Promise<string | null> {
    if (!task) return null;
    if (!this.slots.has(task)) for (const t of await this.swarm.tasks(service.name)) this.slots.set(t.id, t.slot);
    const slot = this.slots.get(task);
    return slot === undefined || slot === null ? service.type : dynoName(service.type, slot);
  }

  private async logServices(app: string, process?: string): Promise<Array<{ name: string; type: string }>> {
    const services = (await this.processServices(app)).map((s) => ({ name: s.name, type: s.labels[LABEL_PROCESS]! }));
    if (process === undefined) return services;
    const type = process.split('.')[0]!;
    const found = services.filter((s) => s.type === type);
    if (!found.length) throw notFound(`${app} runs no process ${process}; minpaas ps ${app} lists them`);
    return found;
  }

  async nodes(): Promise<SwarmNode[]> {
    await this.assertReady();
    const [nodes, tasks] = await Promise.all([this.swarm.nodes(), this.swarm.runningTasks()]);
    return nodes.map((n) => ({ ...n, tasks: tasks.filter((t) => t.nodeId === n.id && t.state === 'running').length }));
  }

  async drain(node: string, timeoutMs: number): Promise<void> {
    const id = await this.nodeId(node);
    // Our tasks move first, by rolling updates that start each replacement before stopping the old task.
    const running = await this.swarm.runningTasks();
    for (const service of await this.swarm.listServices()) {
      if (ONE_OFF.test(service.name) || !running.some((t) => t.serviceId === service.id && t.nodeId === id)) continue;
      await this.respec(service, withConstraint(service.spec, avoidNode(id), true), timeoutMs);
    }
    await this.swarm.setNodeAvailability(id, 'drain');
  }

  async activate(node: string): Promise<void> {
    const id = await this.nodeId(node);
    await this.swarm.setNodeAvailability(id, 'active');
    for (const service of await this.swarm.listServices()) {
      // Lifting a constraint moves no task (Swarm starts no update for it): nothing to wait for.
      if (constraintsOf(service.spec).includes(avoidNode(id))) await this.swarm.updateService(service.name, service.version, withConstraint(service.spec, avoidNode(id), false));
    }
  }

  async updateLimits(app: string, resources: Resources, timeoutMs: number): Promise<void> {
    for (const service of await this.processServices(app)) await this.respec(service, withLimits(service.spec, resources, this.options.guards.pidsLimit), timeoutMs);
  }

  /** A rolling update to `spec`, waited on; a failure (rolled back by Swarm) is thrown. */
  private async respec(service: ServiceState, spec: Record<string, unknown>, timeoutMs: number): Promise<void> {
    const since = Date.now();
    await this.swarm.updateService(service.name, service.version, spec);
    const release = Number(service.labels[LABEL_RELEASE] ?? 0);
    const progress = await this.waitFor(service.name, timeoutMs, (s, tasks) => updateProgress(s, since, tasks, release));
    if (progress.kind !== 'done') throw healthFailure(service.name, progress, timeoutMs, await this.failedLog(service.name, progress));
  }

  private async nodeId(node: string): Promise<string> {
    await this.assertReady();
    const found = (await this.swarm.nodes()).find((n) => n.id === node || n.hostname === node);
    if (!found) throw notFound(`no swarm node ${node}; minpaas nodes lists them`);
    return found.id;
  }

  private specFor(req: ServiceRequest): Record<string, unknown> {
    const web = req.appPort !== null;
    return serviceSpec({
      name: serviceName(req.app, req.type),
      image: req.image,
      // Swarm fills in each task's slot: $DYNO is `web.2` as on docker-local.
      env: { ...req.env, DYNO: `${req.type}.{{.Task.Slot}}`, ...(web ? { PORT: String(req.appPort) } : {}) },
      args: req.command !== null ? shellCommand(req.command) : null,
      labels: { ...this.swarm.labels(req.app), [LABEL_RELEASE]: String(req.release), [LABEL_PROCESS]: req.type },
      containerLabels: taskLabels(this.swarm.instance, req.app, req.release, req.type),
      replicas: req.replicas,
      network: this.options.overlay,
      appPort: req.appPort,
      resources: req.resources,
      guards: this.options.guards,
      healthStartSeconds: this.options.healthStartSeconds,
      stopGraceSeconds: this.options.stopGraceSeconds,
    });
  }

  /** The app's service of that name, or null; one of that name that is not ours is refused. */
  private async owned(name: string, app: string): Promise<ServiceState | null> {
    const service = await this.swarm.service(name);
    if (service && (service.labels[LABEL_APP] !== app || service.labels['minpaas.instance'] !== this.swarm.instance)) {
      throw new MinPaasError('CONFLICT', `the swarm already has a service named ${name} that this MinPaas did not create; rename the app or remove that service`);
    }
    return service;
  }

  private async processServices(app: string): Promise<ServiceState[]> {
    if (!(await this.isManager())) return [];
    return (await this.swarm.listServices(app)).filter((s) => !ONE_OFF.test(s.name) && s.labels[LABEL_PROCESS]);
  }

  private async waitFor(name: string, timeoutMs: number, check: (s: ServiceState, tasks: TaskState[]) => Progress): Promise<Progress> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const service = await this.swarm.service(name);
      if (!service) return { kind: 'failed', reason: `the service ${name} was removed`, task: null };
      const progress = check(service, await this.swarm.tasks(name));
      if (progress.kind !== 'pending' || Date.now() >= deadline) return progress;
      await sleep(POLL_MS);
    }
  }

  /** The failed task's last lines, as the details of the error. */
  private async failedLog(name: string, progress: Progress): Promise<string[]> {
    const task = progress.kind === 'failed' ? progress.task : null;
    if (!task) return [];
    try {
      const text = demuxBuffer((await this.swarm.serviceLogs(name, { follow: false, tail: 200 })) as Buffer);
      const lines = text.split('\n').map(parseDetailedLine).filter((l) => l.task === task.id && l.text.trim() !== '').map((l) => l.text);
      const tail = lines.slice(-FAILED_LOG_LINES);
      return tail.length ? ['app log:', ...tail] : [];
    } catch (err) {
      this.options.log.debug({ service: name, err: (err as Error).message }, 'could not read the failed task log');
      return [];
    }
  }
}

function healthFailure(name: string, progress: Progress, timeoutMs: number, details: string[]): MinPaasError {
  const reason = progress.kind === 'failed' ? progress.reason : `no task answered within ${Math.round(timeoutMs / 1000)} s`;
  return new MinPaasError('HEALTH_CHECK_FAILED', `health check failed: ${name}: ${reason}`, details);
}

function toSwarmTask(service: string, type: string, t: TaskState): SwarmTask {
  const release = Number(t.labels[LABEL_RELEASE]);
  return { service, type, replica: t.slot, node: t.nodeId, state: t.state, desiredState: t.desiredState, release: Number.isFinite(release) ? release : null, error: t.error ?? (t.exitCode ? taskFailure(t) : null), updatedAt: t.updatedAt };
}
