import fs from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../docker/index.js';
import { imageTag } from '../docker/index.js';
import { errorMessage, MinPaasError } from '../errors.js';
import type { Runtime } from '../runtimes/index.js';
import type { BaseImages } from './base-images.js';
import { buildContext, PLATFORM_DOCKERFILE } from './context.js';

export interface BuiltImage {
  tag: string;
  id: string;
}

export interface BuildJob {
  app: string;
  release: number;
  sourceDir: string;
  runtime: Runtime;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * The labels as one LABEL line at the end of the Dockerfile: the builder's `labels`
 * option would add one step (an intermediate container, ~0.15 s) per label.
 */
export function withLabels(dockerfile: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`);
  return `${dockerfile.trimEnd()}\nLABEL ${pairs.join(' ')}\n`;
}

/** How many log lines a build failure carries back to the user. */
const FAILURE_TAIL = 30;

/** Build stage: source tree + the runtime's platform Dockerfile → image `minpaas/APP:vN`. */
export class ImageBuilder {
  private readonly dockerfiles = new Map<string, string>();

  constructor(
    private readonly docker: DockerEngine,
    private readonly baseImages: BaseImages,
    private readonly projectRoot: string,
    private readonly timeoutMs: number,
  ) {}

  async build(job: BuildJob): Promise<BuiltImage> {
    const base = await this.baseImages.resolve(job.runtime.name);
    const tag = imageTag(job.app, job.release);
    job.onLine(`Base image: ${base}`);
    const tail: string[] = [];
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > FAILURE_TAIL) tail.shift();
      job.onLine(line);
    };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = job.signal ? AbortSignal.any([job.signal, timeout]) : timeout;
    try {
      const id = await this.docker.build(
        {
          context: buildContext(job.sourceDir, withLabels(await this.dockerfile(job.runtime), this.docker.labels(job.app, job.release))),
          tag,
          dockerfile: PLATFORM_DOCKERFILE,
          buildArgs: { BASE_IMAGE: base },
          signal,
        },
        onLine,
      );
      return { tag, id };
    } catch (err) {
      // A half-built image must not linger under the release's tag.
      await this.docker.removeImage(tag).catch(() => false);
      if (job.signal?.aborted) throw new MinPaasError('BUILD_FAILED', 'build stopped: the client that asked for it went away; nothing was released', tail);
      if (timeout.aborted) {
        const minutes = Math.round(this.timeoutMs / 6000) / 10;
        throw new MinPaasError('BUILD_FAILED', `build timed out after ${minutes} min (MINPAAS_BUILD_TIMEOUT); nothing was released`, tail);
      }
      throw new MinPaasError('BUILD_FAILED', `build failed: ${errorMessage(err)}`, tail);
    }
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
