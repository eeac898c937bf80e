import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABEL_APP, LABEL_MANAGED, LABEL_INSTANCE, appLabels } from './labels.js';
import { isNotFound } from './status.js';

/** What this engine is in a swarm: a manager can run services; anything else cannot. */
export interface SwarmState {
  /** inactive, pending, active, error, locked. */
  localState: string;
  manager: boolean;
  nodeId: string | null;
}

/** One service as MinPaas reads it back. */
export interface ServiceState {
  id: string;
  name: string;
  version: number;
  labels: Record<string, string>;
  replicas: number;
  /** The spec as stored (sent back, changed, on the next update). */
  spec: Record<string, unknown>;
  /** Docker's UpdateStatus: updating, paused, completed, rollback_started, rollback_paused, rollback_completed. */
  update: { state: string; startedAt: string | null; message: string } | null;
}

export interface TaskState {
  id: string;
  serviceId: string;
  /** Replica number (replicated services); jobs have none. */
  slot: number | null;
  nodeId: string | null;
  /** Docker's task state: new … starting, running, complete, failed, shutdown, rejected, orphaned. */
  state: string;
  desiredState: string;
  error: string | null;
  exitCode: number | null;
  containerId: string | null;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface NodeState {
  id: string;
  hostname: string;
  role: string;
  availability: string;
  state: string;
  address: string | null;
  leader: boolean;
}

/**
 * Swarm calls (services, tasks, nodes, overlay networks, registry pushes). Shapes are
 * Docker's own at the edge of this file only: callers get the states above.
 */
export class SwarmEngine {
  constructor(
    private readonly docker: Docker,
    readonly instance: string,
  ) {}

  async state(): Promise<SwarmState> {
    const info = (await this.docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
    const swarm = info.Swarm ?? {};
    return { localState: swarm.LocalNodeState ?? 'inactive', manager: swarm.ControlAvailable === true, nodeId: swarm.NodeID || null };
  }

  /** The installation's attachable overlay network, created when missing; returns its subnets. */
  async ensureOverlay(name: string): Promise<string[]> {
    const found = await this.overlaySubnets(name);
    if (found) return found;
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: this.instance } });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    const made = await this.overlaySubnets(name);
    if (!made) throw new Error(`overlay network ${name} vanished right after it was created`);
    return made;
  }

  private async overlaySubnets(name: string): Promise<string[] | null> {
    try {
      const info = (await this.docker.getNetwork(name).inspect()) as { IPAM?: { Config?: Array<{ Subnet?: string }> } };
      return (info.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : []));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Subnets of docker_gwbridge: the host side of every task's way out, guarded like app networks. */
  async gatewaySubnets(): Promise<string[]> {
    return (await this.overlaySubnets('docker_gwbridge')) ?? [];
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  labels(app: string): Record<string, string> {
    return appLabels(this.instance, app);
  }

  async service(name: string): Promise<ServiceState | null> {
    try {
      return toService(await this.docker.getService(name).inspect());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async createService(spec: Record<string, unknown>): Promise<string> {
    const created = (await this.docker.createService({ _query: {}, _body: spec } as unknown as Docker.CreateServiceOptions)) as unknown as { id?: string; ID?: string };
    return created.id ?? created.ID ?? '';
  }

  /** A new spec for the service (a rolling update), or `rollback` to its previous spec. */
  async updateService(name: string, version: number, spec: Record<string, unknown>, rollback = false): Promise<void> {
    const query: Record<string, unknown> = { version };
    if (rollback) query.rollback = 'previous';
    await this.docker.getService(name).update({ _query: query, _body: spec } as unknown as Record<string, unknown>);
  }

  async removeService(name: string): Promise<void> {
    try {
      await this.docker.getService(name).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** This installation's services (of one app, or all). */
  async listServices(app?: string): Promise<ServiceState[]> {
    const label = [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${this.instance}`];
    if (app) label.push(`${LABEL_APP}=${app}`);
    const list = (await this.docker.listServices({ filters: { label } })) as unknown as Record<string, unknown>[];
    return list.map(toService);
  }

  async tasks(service: string): Promise<TaskState[]> {
    const list = (await this.docker.listTasks({ filters: { service: [service] } })) as unknown as Record<string, unknown>[];
    return list.map(toTask);
  }

  /** Containers on this node of the app's tasks (any state): Swarm removes them a while after their service. */
  async taskContainers(app: string): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`minpaas.swarm-instance=${this.instance}`, `minpaas.swarm-app=${app}`] } });
    return list.map((c) => c.Id);
  }

  /** Raw (multiplexed) log stream of every task of a service, with task ids in the details. */
  async serviceLogs(name: string, options: { follow: boolean; tail: number }): Promise<Readable | Buffer> {
    return (await this.docker.getService(name).logs({ stdout: true, stderr: true, details: true, follow: options.follow, tail: options.tail } as Docker.ContainerLogsOptions)) as unknown as Readable | Buffer;
  }

  demuxStream(raw: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
    this.docker.modem.demuxStream(raw, stdout, stderr);
  }

  async nodes(): Promise<NodeState[]> {
    const list = (await this.docker.listNodes()) as unknown as Record<string, unknown>[];
    return list.map(toNode);
  }

  /** Tasks of every service on the swarm, for the node listing (running ones). */
  async runningTasks(): Promise<TaskState[]> {
    const list = (await this.docker.listTasks({ filters: { 'desired-state': ['running'] } })) as unknown as Record<string, unknown>[];
    return list.map(toTask);
  }

  async setNodeAvailability(id: string, availability: 'active' | 'drain' | 'pause'): Promise<void> {
    const node = this.docker.getNode(id);
    const info = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    await node.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Availability: availability } } as unknown as Record<string, unknown>);
  }

  /**
   * Tags `imageId` as `ref` and pushes it. Resolves, once the registry has it, to the
   * reference pinned to the pushed digest (`ref@sha256:…`): every node runs exactly that
   * image, and none has to ask the registry what the tag means.
   */
  async push(imageId: string, ref: string): Promise<string> {
    const colon = ref.lastIndexOf(':');
    const repo = ref.slice(0, colon);
    const tag = ref.slice(colon + 1);
    await this.docker.getImage(imageId).tag({ repo, tag });
    const stream = (await this.docker.getImage(ref).push({ authconfig: {} } as unknown as Record<string, unknown>)) as unknown as Readable;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
        if (err) return reject(err);
        const failed = events.find((e) => e.error || e.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'push failed'));
        resolve();
      });
    });
    const digests = ((await this.docker.getImage(ref).inspect()).RepoDigests ?? []).filter((d) => d.startsWith(`${repo}@`));
    const digest = digests[0]?.slice(repo.length + 1);
    return digest ? `${ref}@${digest}` : ref;
  }
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function toService(s: Raw): ServiceState {
  const spec = (s.Spec ?? {}) as Raw;
  const update = s.UpdateStatus as Raw | undefined;
  return {
    id: s.ID as string,
    name: spec.Name as string,
    version: (s.Version?.Index as number | undefined) ?? 0,
    labels: (spec.Labels as Record<string, string> | undefined) ?? {},
    replicas: (spec.Mode?.Replicated?.Replicas as number | undefined) ?? 0,
    spec,
    update: update ? { state: (update.State as string | undefined) ?? '', startedAt: (update.StartedAt as string | undefined) ?? null, message: (update.Message as string | undefined) ?? '' } : null,
  };
}

function toTask(t: Raw): TaskState {
  const status = (t.Status ?? {}) as Raw;
  const exit = status.ContainerStatus?.ExitCode as number | undefined;
  return {
    id: t.ID as string,
    serviceId: t.ServiceID as string,
    slot: (t.Slot as number | undefined) ?? null,
    nodeId: (t.NodeID as string | undefined) || null,
    state: (status.State as string | undefined) ?? 'unknown',
    desiredState: (t.DesiredState as string | undefined) ?? 'unknown',
    error: (status.Err as string | undefined) || null,
    exitCode: exit === undefined ? null : exit,
    containerId: (status.ContainerStatus?.ContainerID as string | undefined) || null,
    labels: (t.Spec?.ContainerSpec?.Labels as Record<string, string> | undefined) ?? {},
    createdAt: (t.CreatedAt as string | undefined) ?? '',
    updatedAt: (t.UpdatedAt as string | undefined) ?? '',
  };
}

function toNode(n: Raw): NodeState {
  return {
    id: n.ID as string,
    hostname: (n.Description?.Hostname as string | undefined) ?? '',
    role: (n.Spec?.Role as string | undefined) ?? 'worker',
    availability: (n.Spec?.Availability as string | undefined) ?? 'active',
    state: (n.Status?.State as string | undefined) ?? 'unknown',
    address: (n.Status?.Addr as string | undefined) || null,
    leader: n.ManagerStatus?.Leader === true,
  };
}
