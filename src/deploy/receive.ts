import { extractCommit, type QuarantineEnv } from '../git/archive.js';
import { cloneRepo } from '../git/clone.js';
import type { RefUpdate } from '../git/push-policy.js';
import { RefGuard } from '../git/ref-guard.js';
import type { DeployLog } from './deploy-log.js';

/** Where a build's source comes from: a push (its commit in the app's repo) or a clone. */
export type SourceSpec =
  | { kind: 'push'; gitDir: string; update: RefUpdate; quarantine: QuarantineEnv }
  | { kind: 'clone'; url: string; branch: string | null };

/**
 * The Receive stage. Its three steps run at fixed points of the pipeline, under the app's
 * lock: `check` before the request counts as a deploy, `fetch` first thing in it, and
 * `released` once the release serves.
 */
export class Receiver {
  constructor(
    private readonly cloneTimeoutMs: number,
    /** Shared by every push: it remembers which branches accepted pushes are about to move. */
    private readonly refs: RefGuard = new RefGuard(),
  ) {}

  /** A push that waited behind another must still be current (git would refuse it later). */
  async check(spec: SourceSpec): Promise<void> {
    if (spec.kind === 'push') await this.refs.assertUnmoved(spec.gitDir, spec.update);
  }

  /** Puts the source into `dir`; returns its commit. */
  async fetch(spec: SourceSpec, dir: string, log: DeployLog): Promise<string> {
    if (spec.kind === 'push') {
      await extractCommit(spec.gitDir, spec.update.newSha, dir, spec.quarantine);
      return spec.update.newSha;
    }
    log.step(`Cloning ${spec.url}${spec.branch ? ` (${spec.branch})` : ''}`);
    return cloneRepo({ url: spec.url, branch: spec.branch, dest: dir, timeoutMs: this.cloneTimeoutMs });
  }

  /** The release serves: the next push in line learns that git is about to move the branch. */
  released(spec: SourceSpec): void {
    if (spec.kind === 'push') this.refs.accepted(spec.gitDir, spec.update);
  }
}

/** What the app row records about a source: the repo and branch of a clone, nothing for a push. */
export function sourceOrigin(spec: SourceSpec): { repo: string | null; branch: string | null } {
  return spec.kind === 'clone' ? { repo: spec.url, branch: spec.branch } : { repo: null, branch: null };
}
