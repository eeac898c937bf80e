import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { BuildStreamParser, type BuildEvent } from './build-stream.js';
import { demuxBuffer } from './log-frames.js';
import { LABEL_APP, LABEL_BUILD_LAYER, LABEL_RELEASE, ownedFilter, ownedLabels } from './labels.js';
import { DockerNetworks } from './networks.js';
import { isNotFound, isNotModified } from './status.js';

export interface BuildRequest {
  context: Readable;
  tag: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Aborts the build (timeout or a client that went away). */
  signal?: AbortSignal;
}

export interface ContainerSpec {
  name: string;
  /** Image ID (immutable) or tag. */
  image: string;
  env: Record<string, string>;
  /** The port the app listens on inside the container; nothing is published on the host. */
  appPort: number;
  /** The Docker network the container joins (its app's own network). */
  network: string;
  labels: Record<string, string>;
  /** Extra HostConfig fields (resource limits). */
  hostConfig?: Docker.HostConfig;
}


export interface ContainerState {
  id: string;
  name: string;
  image: string;
  running: boolean;
  restarting: boolean;
  /** Docker's state word: running, restarting, exited, created, dead… */
  status: string;
  exitCode: number;
  restartCount: number;
  /** The container's IPv4 address on its network while it runs (Docker may change it on a restart). */
  ip: string | null;
  /** The port the app listens on inside the container (its exposed port). */
  appPort: number | null;
  app: string | null;
  release: number | null;
}

export interface OwnedImage {
  id: string;
  tags: string[];
  app: string | null;
  release: number | null;
}

/**
 * Every Docker call MinPaas makes goes through here (the only importer of dockerode is
 * this folder). Methods speak in MinPaas terms and hide Docker's quirks.
 */
export class DockerEngine {
  /** `instance` names this installation; it only ever lists and deletes what carries it. */
  /** Each app's own network; container start events. */
  readonly networks: DockerNetworks;

  constructor(
    private readonly docker: Docker,
    readonly instance: string,
  ) {
    this.networks = new DockerNetworks(docker, instance);
  }

  /** The labels of everything created for a release of an app. */
  labels(app: string, release: number): Record<string, string> {
    return ownedLabels(this.instance, app, release);
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async imageId(ref: string): Promise<string | null> {
    try {
      return (await this.docker.getImage(ref).inspect()).Id;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async pullImage(ref: string): Promise<void> {
    const stream = await this.docker.pull(ref);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: Error | null, events: BuildEvent[]) => {
        const failed = events?.find((e) => e.error);
        if (err || failed) reject(err ?? new Error(failed?.error));
        else resolve();
      }),
    );
  }

  /**
   * Builds with the classic builder (its JSON lines stream readably; BuildKit's do not)
   * and hands each log line to `onLine`. Resolves to the image ID; rejects with the
   * builder's error message when a step fails.
   */
  async build(req: BuildRequest, onLine: (line: string) => void): Promise<string> {
    const parser = new BuildStreamParser();
    const stream = await this.docker.buildImage(req.context, {
      t: req.tag,
      dockerfile: req.dockerfile,
      buildargs: req.buildArgs,
      rm: true,
      forcerm: true,
      version: '1',
      abortSignal: req.signal,
    } as Docker.ImageBuildOptions);
    const abort = (): void => {
      (stream as Readable).destroy?.(new Error('build aborted'));
    };
    req.signal?.addEventListener('abort', abort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null) => (err ? reject(err) : resolve()),
          (event: BuildEvent) => parser.push(event).forEach(onLine),
        );
      });
    } finally {
      req.signal?.removeEventListener('abort', abort);
    }
    parser.flush().forEach(onLine);
    if (req.signal?.aborted) throw new Error('build aborted');
    const outcome = parser.outcome();
    if (outcome.error) throw new Error(outcome.error);
    const id = outcome.imageId ?? (await this.imageId(req.tag));
    if (!id) throw new Error('the builder reported no image');
    return id;
  }

  /**
   * Creates and starts a container on `spec.network`; returns its ID. No host port is
   * published: the router reaches it at its own address (Docker's userland proxy halved
   * throughput), and other apps' networks cannot reach it at all.
   */
  async run(spec: ContainerSpec): Promise<string> {
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      ExposedPorts: { [`${spec.appPort}/tcp`]: {} },
      HostConfig: {
        NetworkMode: spec.network,
        // No restarts until the release proved healthy: a crash on start must stay a
        // crash, with its exit code, not a restart loop (see keepRunning).
        RestartPolicy: { Name: 'no' },
        // Without an init, node as PID 1 ignores SIGTERM and every stop takes 10 s.
        Init: true,
        ...spec.hostConfig,
      },
    });
    await container.start();
    return container.id;
  }

  private capacity: { memoryBytes: number; cpus: number } | undefined;

  /** The engine host's CPUs and memory (read once). */
  async hostCapacity(): Promise<{ memoryBytes: number; cpus: number }> {
    if (!this.capacity) {
      const info = (await this.docker.info()) as { NCPU: number; MemTotal: number };
      this.capacity = { memoryBytes: info.MemTotal, cpus: info.NCPU };
    }
    return this.capacity;
  }

  /** Changes a container's resource limits in place. */
  async update(nameOrId: string, hostConfig: Record<string, unknown>): Promise<void> {
    await this.docker.getContainer(nameOrId).update(hostConfig);
  }

  /** From now on Docker restarts the container when it crashes (and after a reboot). */
  async keepRunning(nameOrId: string): Promise<void> {
    await this.docker.getContainer(nameOrId).update({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } });
  }

  async inspect(nameOrId: string): Promise<ContainerState | null> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(nameOrId).inspect();
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress || null;
    const exposed = Object.keys(info.Config?.ExposedPorts ?? {}).map((key) => Number.parseInt(key, 10));
    const labels = info.Config?.Labels ?? {};
    const release = labels[LABEL_RELEASE];
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Image,
      running: info.State.Running,
      restarting: info.State.Restarting,
      status: info.State.Status,
      exitCode: info.State.ExitCode,
      restartCount: info.RestartCount,
      ip: info.State.Running ? ip : null,
      appPort: exposed.find((port) => Number.isInteger(port)) ?? null,
      app: labels[LABEL_APP] ?? null,
      release: release ? Number(release) : null,
    };
  }

  async start(nameOrId: string): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).start();
    } catch (err) {
      if (!isNotModified(err)) throw err;
    }
  }

  async stop(nameOrId: string, timeoutSeconds = 10): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).stop({ t: timeoutSeconds });
    } catch (err) {
      if (!isNotFound(err) && !isNotModified(err)) throw err;
    }
  }

  /** Removes a container, running or not; a missing one is fine. */
  async remove(nameOrId: string): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).remove({ force: true, v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** False when the image is gone already or still in use by a container (Docker's 409). */
  async removeImage(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
      return true;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (isNotFound(err) || status === 409) return false;
      throw err;
    }
  }

  async listOwnedContainers(app?: string): Promise<ContainerState[]> {
    const list = await this.docker.listContainers({ all: true, filters: ownedFilter(this.instance, app) });
    const states = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== null);
  }

  /**
   * Removes untagged layers that MinPaas builds left behind (a failed step's parents),
   * once they are older than `olderThanMinutes`: a build running now still needs its own.
   */
  async pruneBuildLayers(olderThanMinutes: number): Promise<number> {
    const result = await this.docker.pruneImages({
      filters: { dangling: ['true'], label: [`${LABEL_BUILD_LAYER}=true`], until: [`${olderThanMinutes}m`] },
    });
    return result.ImagesDeleted?.length ?? 0;
  }

  /** Names only: one Docker call, no inspect per container. */
  async listOwnedContainerNames(app?: string): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: ownedFilter(this.instance, app) });
    return list.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''));
  }

  async listOwnedImages(app?: string): Promise<OwnedImage[]> {
    const list = await this.docker.listImages({ all: false, filters: ownedFilter(this.instance, app) });
    return list.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      app: i.Labels?.[LABEL_APP] ?? null,
      release: i.Labels?.[LABEL_RELEASE] ? Number(i.Labels[LABEL_RELEASE]) : null,
    }));
  }

  /** The last `tail` log lines (stdout and stderr interleaved), as text. */
  async logs(nameOrId: string, tail: number): Promise<string> {
    const container = this.docker.getContainer(nameOrId);
    const info = await container.inspect();
    const raw = (await container.logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return info.Config.Tty ? raw.toString('utf8') : demuxBuffer(raw);
  }

  /** A live text stream of the container's logs, from the last `tail` lines on. */
  async followLogs(nameOrId: string, tail: number): Promise<{ stream: Readable; stop: () => void }> {
    const raw = (await this.docker
      .getContainer(nameOrId)
      .logs({ stdout: true, stderr: true, tail, follow: true })) as unknown as Readable;
    const out = new PassThrough();
    this.docker.modem.demuxStream(raw, out, out);
    raw.on('end', () => out.end());
    raw.on('error', (err) => out.destroy(err));
    const stop = (): void => {
      raw.destroy();
      out.end();
    };
    return { stream: out, stop };
  }
}
