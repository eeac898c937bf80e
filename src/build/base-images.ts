import type { DockerEngine } from '../docker/index.js';
import type { RuntimeName } from '../domain/types.js';
import { errorMessage, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';

/** Images that scripts/base-images.sh builds from Debian's packages. */
export const LOCAL_BASE_IMAGES: Record<RuntimeName, string> = {
  node: 'minpaas-base/node:bookworm',
  python: 'minpaas-base/python:bookworm',
};

/**
 * Picks the base image a runtime builds FROM: the configured one when it is present or
 * can be pulled; otherwise, when the setting was left at its default (no registry
 * reachable), the locally built one.
 */
export class BaseImages {
  private readonly pullFailed = new Set<string>();

  constructor(
    private readonly docker: DockerEngine,
    private readonly configured: Record<RuntimeName, string>,
    private readonly fallbackAllowed: boolean,
    private readonly log: Logger,
  ) {}

  async resolve(runtime: RuntimeName): Promise<string> {
    const wanted = this.configured[runtime];
    if (await this.docker.imageId(wanted)) return wanted;
    let pullError = 'pull failed earlier';
    if (!this.pullFailed.has(wanted)) {
      try {
        await this.docker.pullImage(wanted);
        return wanted;
      } catch (err) {
        pullError = errorMessage(err);
        // Remember: a registry that is unreachable stays so, and each try costs seconds.
        this.pullFailed.add(wanted);
        this.log.warn({ image: wanted, err: pullError }, 'base image pull failed');
      }
    }
    const local = LOCAL_BASE_IMAGES[runtime];
    if (this.fallbackAllowed && (await this.docker.imageId(local))) return local;
    throw new MinPaasError(
      'BUILD_FAILED',
      `base image ${wanted} for the ${runtime} runtime is not available (${pullError}); ` +
        'build local base images with `bash scripts/base-images.sh` or set ' +
        `MINPAAS_${runtime.toUpperCase()}_BASE_IMAGE to an image this host has`,
    );
  }
}
