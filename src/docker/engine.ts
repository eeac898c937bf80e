import type Docker from 'dockerode';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { BuildStreamParser, type BuildEvent } from './build-stream.js';
import { demuxBuffer, LogTail } from './log-frames.js';
import { cgroupMemoryUsage } from './cgroup-memory.js';
import { LABEL_APP, LABEL_BUILD_CACHE, LABEL_BUILD_LAYER, LABEL_RELEASE, NETWORK_PREFIX, ownedFilter, ownedLabels } from './labels.js';
import { DockerNetworks } from './networks.js';
import { buildLimitOptions } from './resources.js';
import { sleep } from '../sleep.js';
import { isNotFound, isNotModified } from './status.js';
import { SwarmEngine } from './swarm.js';

/** Docker's label on every Swarm task's container. */
const SWARM_TASK_LABEL = 'com.docker.swarm.task';

/** Most bytes a non-follow log read answers with (its newest part). */
export const LOG_READ_MAX_BYTES = 2 * 1024 * 1024;

export interface BuildRequest {
  context: Readable;
  tag: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Aborts the build (timeout or a client that went away). */
  signal?: AbortSignal;
  /** Memory and CPUs the build's steps may use (null = no limit). */
  limits?: { memoryBytes: number | null; cpus: number | null };
}

export interface ContainerSpec {
  name: string;
  /** Image ID (immutable) or tag. */
  image: string;
  env: Record<string, string>;
  /** The port the app listens on inside the container (web only); nothing is published on the host. */
  appPort: number | null;
  /** Replaces the image's CMD (process types other than the one baked in). */
  cmd?: string[];
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
  /** ISO time of its last start; null before the first. */
  startedAt: string | null;
  /** The container's IPv4 address on its network while it runs (Docker may change it on a restart). */
  ip: string | null;
  /** The port the app listens on inside the container (its exposed port). */
  appPort: number | null;
  app: string | null;
  release: number | null;
}

/** A container as Docker's list shows it (no inspect). */
export interface ContainerSummary {
  id: string;
  name: string;
  /** Docker's state word: running, restarting, exited, created, dead… */
  state: string;
  /** Docker's status text ("Up 3 minutes", "Restarting (1) 2 seconds ago"): changes when the container restarts. */
  statusText: string;
  hostPort: number | null;
  app: string | null;
  release: number | null;
}

export interface OwnedImage {
  id: string;
  tags: string[];
  app: string | null;
  release: number | null;
  /** A build stage's result, kept as the app's build cache (no release runs it). */
  buildCache: boolean;
  /** Unix seconds. */
  created: number;
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
    this.swarm = new SwarmEngine(docker, instance);
  }

  /** Services, tasks, nodes and pushes (the Swarm scheduler). */
  readonly swarm: SwarmEngine;

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

  /** An image's ID and labels, or null when it is not there. */
  async imageInfo(ref: string): Promise<{ id: string; labels: Record<string, string> } | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, labels: info.Config?.Labels ?? {} };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Labels of every image tagged in `repo` (e.g. minpaas-base/node-runtime), by tag. */
  async imagesOfRepo(repo: string): Promise<{ tag: string; labels: Record<string, string> }[]> {
    const list = await this.docker.listImages({ filters: { reference: [`${repo}:*`] } });
    return list.flatMap((i) => (i.RepoTags ?? []).filter((t) => t.startsWith(`${repo}:`)).map((tag) => ({ tag, labels: i.Labels ?? {} })));
  }

  /** The commands that made an image's layers, newest first (`docker history --no-trunc`). */
  async imageHistory(ref: string): Promise<string[]> {
    const layers = (await this.docker.getImage(ref).history()) as { CreatedBy?: string }[];
    return layers.map((l) => l.CreatedBy ?? '');
  }

  /**
   * Runs `cmd` in a throwaway container of `image` (no network) and returns its output;
   * rejects when it exits non-zero. For probes such as `node --version`.
   */
  async runToCompletion(image: string, cmd: string[]): Promise<string> {
    const container = await this.docker.createContainer({ Image: image, Cmd: cmd, Entrypoint: [], HostConfig: { NetworkMode: 'none' } });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      const output = demuxBuffer(raw);
      if (StatusCode !== 0) throw new Error(`${cmd.join(' ')} exited with ${StatusCode}: ${output.trim().slice(-300)}`);
      return output;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
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
      ...(req.limits ? buildLimitOptions(req.limits.memoryBytes, req.limits.cpus) : {}),
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
    const id = await this.create(spec);
    await this.startContainer(id);
    return id;
  }

  /** Creates the container `run` would start (so it can join more networks first). */
  async create(spec: ContainerSpec): Promise<string> {
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.appPort !== null ? { ExposedPorts: { [`${spec.appPort}/tcp`]: {} } } : {}),
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
    return container.id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    await this.docker.getContainer(nameOrId).start();
  }

  /**
   * Runs a one-off container to its end (release phase, `minpaas run`): its output goes
   * to `onOutput` as it comes, it is killed after `timeoutMs` (or when `signal` aborts)
   * and removed in every case. Resolves to its exit code (null when killed).
   */
  async runOneOff(spec: ContainerSpec, onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void, timeoutMs: number, signal?: AbortSignal): Promise<{ exitCode: number | null; timedOut: boolean }> {
    try {
      await this.run(spec);
    } catch (err) {
      // Created but not started (say, its command does not exist): it goes too.
      await this.remove(spec.name);
      throw err;
    }
    const container = this.docker.getContainer(spec.name);
    let timedOut = false;
    let killed = false;
    const kill = (): void => {
      killed = true;
      void container.kill().catch(() => undefined);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    try {
      const raw = (await container.logs({ stdout: true, stderr: true, follow: true })) as unknown as Readable;
      const sink = (name: 'stdout' | 'stderr'): Writable =>
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            onOutput(name, chunk);
            done();
          },
        });
      const ended = new Promise<void>((resolve) => {
        raw.on('end', resolve);
        raw.on('close', resolve);
        raw.on('error', () => resolve());
      });
      this.docker.modem.demuxStream(raw, sink('stdout'), sink('stderr'));
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      await ended;
      return { exitCode: killed ? null : StatusCode, timedOut };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      await this.remove(spec.name);
    }
  }

  private capacity: { memoryBytes: number; cpus: number } | undefined;
  private readonly openLogStreams = new Set<() => void>();

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
    // The app's own bridge network first: a Swarm edge is on an overlay too, which the host cannot reach.
    const networks = Object.entries(info.NetworkSettings?.Networks ?? {}).filter(([, n]) => n.IPAddress);
    const ip = (networks.find(([name]) => name.startsWith(NETWORK_PREFIX)) ?? networks[0])?.[1].IPAddress || null;
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
      startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? info.State.StartedAt : null,
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

  /**
   * Containers carrying this installation's labels, but not Swarm's tasks: a task's
   * container inherits the app image's labels, and it is Swarm's to stop, never ours.
   */
  private async ownedContainers(app?: string): Promise<Docker.ContainerInfo[]> {
    const list = await this.docker.listContainers({ all: true, filters: ownedFilter(this.instance, app) });
    return list.filter((c) => c.Labels?.[SWARM_TASK_LABEL] === undefined);
  }

  async listOwnedContainers(app?: string): Promise<ContainerState[]> {
    const list = await this.ownedContainers(app);
    const states = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== null);
  }

  /**
   * Removes untagged layers that MinPaas builds left behind (a failed step's parents),
   * once they are older than `olderThanMinutes`: a build running now still needs its own.
   */
  async pruneBuildLayers(olderThanMinutes: number): Promise<number> {
    const filters = { dangling: ['true'], label: [`${LABEL_BUILD_LAYER}=true`], until: [`${olderThanMinutes}m`] };
    // Docker runs one prune at a time and answers 409 to another (the clean-up after two
    // deploys, or after a deploy and a start-up): wait for it and prune again.
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.docker.pruneImages({ filters });
        return result.ImagesDeleted?.length ?? 0;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409 || attempt >= 20) throw err;
        await sleep(250);
      }
    }
  }

  /**
   * One Docker call, no inspect per container: what `docker ps -a` knows (state, status
   * text, published port, labels). Restart counts need an inspect; callers cache those.
   */
  async listOwnedContainerSummaries(app?: string): Promise<ContainerSummary[]> {
    const list = await this.ownedContainers(app);
    return list.map((c) => {
      const hostPort = c.Ports?.find((p) => p.PublicPort && p.IP !== '::')?.PublicPort;
      const release = c.Labels?.[LABEL_RELEASE];
      return {
        id: c.Id,
        name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
        state: c.State,
        statusText: c.Status,
        hostPort: hostPort ?? null,
        app: c.Labels?.[LABEL_APP] ?? null,
        release: release ? Number(release) : null,
      };
    });
  }

  /**
   * The container's memory use in bytes: from its cgroup file when Docker runs on this host
   * (fast), else Docker's one-shot stats (~1 s here); null when it is not running.
   */
  async memoryUsage(id: string): Promise<number | null> {
    const fromCgroup = await cgroupMemoryUsage(id);
    if (fromCgroup !== null) return fromCgroup;
    try {
      const stats = (await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })) as { memory_stats?: { usage?: number } };
      return stats.memory_stats?.usage ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Names only: one Docker call, no inspect per container. */
  async listOwnedContainerNames(app?: string): Promise<string[]> {
    const list = await this.ownedContainers(app);
    return list.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''));
  }

  async listOwnedImages(app?: string): Promise<OwnedImage[]> {
    const list = await this.docker.listImages({ all: false, filters: ownedFilter(this.instance, app) });
    return list.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      app: i.Labels?.[LABEL_APP] ?? null,
      release: i.Labels?.[LABEL_RELEASE] ? Number(i.Labels[LABEL_RELEASE]) : null,
      buildCache: i.Labels?.[LABEL_BUILD_CACHE] === 'true',
      created: i.Created,
    }));
  }

  /**
   * The last `tail` log lines (stdout and stderr interleaved), as text: streamed from
   * Docker and cut to the last `maxBytes`, so a huge log never sits in memory whole.
   */
  async logs(nameOrId: string, tail: number, maxBytes = LOG_READ_MAX_BYTES): Promise<string> {
    const container = this.docker.getContainer(nameOrId);
    const info = await container.inspect();
    const raw = await new Promise<Readable>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/containers/${info.Id}/logs?`,
          method: 'GET',
          isStream: true,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
          options: { stdout: true, stderr: true, tail, follow: false },
        },
        (err, data) => (err ? reject(err) : resolve(data as Readable)),
      );
    });
    const kept = new LogTail(maxBytes, !info.Config.Tty);
    for await (const chunk of raw) kept.push(chunk as Buffer);
    return kept.text();
  }

  /** A live text stream of the container's logs, from the last `tail` lines on. */
  async followLogs(nameOrId: string, tail: number): Promise<{ stream: Readable; stop: () => void }> {
    const raw = (await this.docker
      .getContainer(nameOrId)
      .logs({ stdout: true, stderr: true, tail, follow: true })) as unknown as Readable;
    const out = new PassThrough();
    let stopped = false;
    // The demuxer may still hold frames when the stream is stopped: those are dropped,
    // not written to an ended stream (which would throw).
    const sink = new Writable({
      write(chunk, _encoding, done) {
        if (!stopped && !out.writableEnded) out.write(chunk);
        done();
      },
    });
    this.docker.modem.demuxStream(raw, sink, sink);
    const stop = (): void => {
      stopped = true;
      this.openLogStreams.delete(stop);
      raw.destroy();
      out.end();
    };
    raw.on('end', () => {
      this.openLogStreams.delete(stop);
      if (!out.writableEnded) out.end();
    });
    raw.on('error', (err) => {
      this.openLogStreams.delete(stop);
      out.destroy(err);
    });
    this.openLogStreams.add(stop);
    return { stream: out, stop };
  }

  /** Follow-mode log streams not yet stopped (each holds a socket to the engine). */
  get openLogStreamCount(): number {
    return this.openLogStreams.size;
  }

  /** Stops every follow-mode log stream (shutdown). */
  closeLogStreams(): void {
    for (const stop of [...this.openLogStreams]) stop();
  }
}
