import fs from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../docker/index.js';
import { imageTag } from '../docker/index.js';
import type { EnvVars } from '../domain/types.js';
import type { Runtime } from '../runtimes/index.js';
import type { BaseImages } from './base-images.js';
import { renderBuildEnv } from './build-env.js';
import { buildContext, PLATFORM_DOCKERFILE } from './context.js';
import { assertSelfContained } from './source-tree.js';
import type { NodeBuildPlanner } from './node-build.js';
import { procfileWeb, withCommand } from './procfile-command.js';
import { runBuild, type BuiltImage } from './run-build.js';

export type { BuiltImage } from './run-build.js';

export interface BuildJob {
  app: string;
  release: number;
  sourceDir: string;
  runtime: Runtime;
  /** The app's config: it reaches the build steps, never the image (see build-env.ts). */
  env?: EnvVars;
  onLine: (line: string) => void;
  signal?: AbortSignal;
  /** Extra build args of this runtime's Dockerfile (e.g. python's package index). */
  buildArgs?: Record<string, string>;
}

/**
 * The labels as one LABEL line at the end of the Dockerfile: the builder's `labels`
 * option would add one step (an intermediate container, ~0.15 s) per label.
 */
export function withLabels(dockerfile: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`);
  return `${dockerfile.trimEnd()}\nLABEL ${pairs.join(' ')}\n`;
}

/** Build stage: source tree + the runtime's platform Dockerfile → image `minpaas/APP:vN`. */
export class ImageBuilder {
  private readonly dockerfiles = new Map<string, string>();

  constructor(
    private readonly docker: DockerEngine,
    private readonly baseImages: BaseImages,
    private readonly projectRoot: string,
    private readonly timeoutMs: number,
    /** Memory and CPUs of each build (MINPAAS_BUILD_MEMORY, MINPAAS_BUILD_CPUS). */
    private readonly limits: { memoryBytes: number | null; cpus: number | null } = { memoryBytes: null, cpus: null },
    private readonly nodePlanner?: NodeBuildPlanner,
  ) {}

  async build(job: BuildJob): Promise<BuiltImage> {
    await assertSelfContained(job.sourceDir);
    const tag = imageTag(job.app, job.release);
    const { dockerfile, buildArgs } = await this.plan(job);
    const context = buildContext(job.sourceDir, dockerfile, renderBuildEnv(job.env ?? {}));
    const built = await runBuild(
      this.docker,
      { context, tag, dockerfile: PLATFORM_DOCKERFILE, buildArgs, limits: this.limits },
      { timeoutMs: this.timeoutMs, signal: job.signal, onLine: job.onLine },
    );
    await this.dropOlderBuildCaches(job.app).catch(() => undefined);
    return built;
  }

  /**
   * The Dockerfile (labels, the Procfile's web command) and build args of a job: the base
   * image, and for Node the runtime image and commands the planner picked.
   */
  private async plan(job: BuildJob): Promise<{ dockerfile: string; buildArgs: Record<string, string> }> {
    const configured = await this.baseImages.resolve(job.runtime.name);
    job.onLine(`Base image: ${configured}`);
    const web = await procfileWeb(job.sourceDir);
    const node = job.runtime.name === 'node' && this.nodePlanner ? await this.nodePlanner.prepare(job.sourceDir, configured, job.onLine) : null;
    if (web) job.onLine(`-----> Procfile: web runs \`${web}\``);
    let dockerfile = withLabels(await this.dockerfile(job.runtime), this.docker.labels(job.app, job.release));
    if (web) dockerfile = withCommand(dockerfile, web);
    const base = node ? { BASE_IMAGE: node.base, ...node.buildArgs } : { BASE_IMAGE: configured };
    const buildArgs = { ...job.buildArgs, ...base, ...this.cacheLabels(job.app) };
    return { dockerfile, buildArgs };
  }

  /**
   * A build leaves its build stage's result as the app's build cache; the one just made
   * replaces the others (their layers that it shares stay, being its own).
   */
  private async dropOlderBuildCaches(app: string): Promise<void> {
    const caches = (await this.docker.listOwnedImages(app)).filter((i) => i.buildCache).sort((a, b) => b.created - a.created);
    for (const old of caches.slice(1)) await this.docker.removeImage(old.id).catch(() => false);
  }

  /** Build args naming the app's build cache image (see the build stage of each runtime's Dockerfile). */
  private cacheLabels(app: string): Record<string, string> {
    return { MINPAAS_INSTANCE: this.docker.instance, MINPAAS_APP: app };
  }

  /** Dockerfiles are read once: they belong to the platform, not to a deploy. */
  private async dockerfile(runtime: Runtime): Promise<string> {
    let text = this.dockerfiles.get(runtime.name);
    if (text === undefined) {
      text = await fs.readFile(path.join(this.projectRoot, runtime.dockerfile), 'utf8');
      this.dockerfiles.set(runtime.name, text);
    }
    return text;
  }
}
