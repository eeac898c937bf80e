import type { ImageRetention } from '../deploy/image-retention.js';
import type { BuildPlan } from '../deploy/build-plan.js';
import type { DockerEngine } from '../docker/index.js';
import type { EnvVars } from '../domain/types.js';
import type { DockerfileBuilder } from './dockerfile-builder.js';
import type { BuiltImage, ImageBuilder } from './image-builder.js';

/** One build of an app's source, as the pipeline planned it. */
export interface ImageBuild {
  app: string;
  release: number;
  sourceDir: string;
  plan: BuildPlan;
  /** The app's config: it reaches the platform build's steps, never the image. */
  env: EnvVars;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * The one owner of app images: build (and tag) them — with the platform's Dockerfile or,
 * for apps that opted in, their own —, tell whether one still exists, discard one that
 * never served, prune old ones after a release (ImageRetention's policy), remove orphans
 * at start-up and everything of a deleted app.
 */
export class Images {
  constructor(
    private readonly docker: DockerEngine,
    private readonly builder: ImageBuilder,
    private readonly dockerfileBuilder: DockerfileBuilder,
    private readonly retention: ImageRetention,
    /** Build args of python builds (the package index settings). */
    private readonly pythonBuildArgs: Record<string, string> = {},
  ) {}

  build(job: ImageBuild): Promise<BuiltImage> {
    const { app, release, sourceDir, plan, env, onLine } = job;
    const signal = job.signal ? { signal: job.signal } : {};
    if (plan.dockerfile !== undefined) {
      return this.dockerfileBuilder.build({ app, release, sourceDir, dockerfile: plan.dockerfile, web: plan.procfileWeb, onLine, ...signal });
    }
    const buildArgs = plan.runtime.name === 'python' ? { buildArgs: this.pythonBuildArgs } : {};
    return this.builder.build({ app, release, sourceDir, runtime: plan.runtime, env, onLine, ...buildArgs, ...signal });
  }

  async exists(imageId: string): Promise<boolean> {
    return (await this.docker.imageId(imageId)) !== null;
  }

  /** An image that never served (its release failed): it must not linger. */
  async discard(imageTag: string): Promise<void> {
    await this.docker.removeImage(imageTag).catch(() => false);
  }

  /** After a release: old images of the app beyond the retention limit go. */
  prune(app: string): Promise<string[]> {
    return this.retention.prune(app);
  }

  /** At start-up: images no release refers to. */
  removeOrphans(): Promise<string[]> {
    return this.retention.removeOrphans();
  }

  /** Every image of a deleted app, its build cache included. */
  async removeAll(app: string): Promise<void> {
    await this.retention.removeEverything(app);
  }
}
