import type { DockerEngine, OwnedImage } from '../docker/index.js';
import type { Release } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { RegistryClient } from '../registry/registry-client.js';
import type { Store } from '../store/store.js';

/** Untagged build layers younger than this may belong to a build that runs right now. */
const BUILD_LAYER_GRACE_MINUTES = 10;

/**
 * The images of the last `keep` builds (build releases, newest first) and the one that
 * serves. Config changes and rollbacks reuse an image: they add none, so they must not
 * push an older build out of reach of a rollback.
 */
export function imagesToKeep(
  releasesNewestFirst: readonly Pick<Release, 'number' | 'imageId' | 'kind'>[],
  keep: number,
  current: number | null,
): Set<string> {
  const builds = new Set<string>();
  for (const r of releasesNewestFirst) {
    if (builds.size >= keep) break;
    if (r.kind === 'build') builds.add(r.imageId);
  }
  for (const r of releasesNewestFirst) if (r.number === current) builds.add(r.imageId);
  return builds;
}

/**
 * Keeps each app's disk use bounded: the images of its last N builds (and of the one
 * that serves) stay, older MinPaas images of the app go. Images that carry no MinPaas
 * label of this installation are never looked at.
 */
export class ImageRetention {
  constructor(
    private readonly store: Store,
    private readonly docker: DockerEngine,
    private readonly keep: number,
    private readonly log: Logger,
    /** MINPAAS_REGISTRY: a pushed tag of an image that goes is deleted there too (Swarm apps). */
    private readonly registry?: Pick<RegistryClient, 'owns' | 'deleteTag'>,
  ) {}

  /** After a release. Returns what was removed. */
  async prune(app: string): Promise<string[]> {
    const layers = await this.docker.pruneBuildLayers(BUILD_LAYER_GRACE_MINUTES);
    if (layers > 0) this.log.info({ layers }, 'removed build layers failed builds left behind');
    const releases = this.store.listReleases(app);
    const newest = releases[0]?.number ?? 0;
    const current = this.store.getApp(app)?.release;
    const keepIds = imagesToKeep(releases, this.keep, current ?? null);
    const owned = await this.docker.listOwnedImages(app);
    const doomed = owned.filter(
      // A release number above the newest is a build in progress: not ours to judge yet.
      // Build caches are the image builder's: it keeps each app's newest.
      (img) => !img.buildCache && !keepIds.has(img.id) && (img.release === null || img.release <= newest),
    );
    return this.removeAll(doomed);
  }

  /** At start-up: images no release refers to (a build a crash interrupted, a deleted app). */
  async removeOrphans(): Promise<string[]> {
    const known = this.store.releaseImageIds();
    const apps = new Set(this.store.listApps().map((a) => a.name));
    const owned = await this.docker.listOwnedImages();
    // An existing app's newest build cache stays: its next push reuses the install layer.
    const orphans = owned.filter((img) => !known.has(img.id) && !(img.buildCache && img.app !== null && apps.has(img.app)));
    return this.removeAll(orphans);
  }

  /** A deleted app's every image (build cache and registry copies included). */
  async removeEverything(app: string): Promise<string[]> {
    return this.removeAll(await this.docker.listOwnedImages(app));
  }

  private async removeAll(images: OwnedImage[]): Promise<string[]> {
    const removed: string[] = [];
    for (const img of images) {
      const refs = img.tags.length ? img.tags : [img.id];
      try {
        let gone = false;
        for (const ref of refs) gone = (await this.docker.removeImage(ref)) || gone;
        if (gone) removed.push(refs.join(','));
        if (gone) await this.forgetPushed(refs);
      } catch (err) {
        this.log.warn({ image: refs.join(','), err: errorMessage(err) }, 'could not remove an old image');
      }
    }
    return removed;
  }

  /** The registry's copies go with the local image, so a rollback to it is refused the same way. */
  private async forgetPushed(refs: string[]): Promise<void> {
    for (const ref of refs.filter((r) => this.registry?.owns(r))) {
      await this.registry!.deleteTag(ref).catch((err: unknown) => this.log.warn({ image: ref, err: errorMessage(err) }, 'could not delete an old image from the registry'));
    }
  }
}
