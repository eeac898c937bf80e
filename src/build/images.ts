import type { DockerEngine } from '../docker/index.js';
import type { ImageRetention } from '../deploy/image-retention.js';
import type { BuildJob, BuiltImage, ImageBuilder } from './image-builder.js';

/**
 * The one owner of app images: build (and tag) them, tell whether one still exists,
 * discard one that never served, prune old ones after a release (ImageRetention's
 * policy), remove orphans at start-up and everything of a deleted app.
 */
export class Images {
  constructor(
    private readonly docker: DockerEngine,
    private readonly builder: ImageBuilder,
    private readonly retention: ImageRetention,
  ) {}

  build(job: BuildJob): Promise<BuiltImage> {
    return this.builder.build(job);
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

  /** Every image of a deleted app. */
  async removeAll(app: string): Promise<void> {
    for (const image of await this.docker.listOwnedImages(app)) await this.docker.removeImage(image.id);
  }
}
