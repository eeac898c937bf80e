import type { RepoCredentials } from '../domain/repo-url.js';
import { extractCommit, type QuarantineEnv } from '../git/archive.js';
import { cloneRepo } from '../git/clone.js';
import { fetchCommit, type GitCredentials } from '../git/fetch-commit.js';
import type { RefUpdate } from '../git/push-policy.js';
import { RefGuard } from '../git/ref-guard.js';
import type { DeployLog } from './deploy-log.js';

/**
 * Where a build's source comes from: a push (its commit in the app's repo), a clone of a
 * branch (`POST /deploy`), or one exact commit of a forge's repo (webhooks).
 */
export type SourceSpec =
  | { kind: 'push'; gitDir: string; update: RefUpdate; quarantine: QuarantineEnv }
  | {
      kind: 'clone';
      /** Without user-info: the credentials travel apart (see cloneRepo). */
      url: string;
      /** How the URL is shown and stored (user-info redacted). */
      shown: string;
      credentials: RepoCredentials | null;
      branch: string | null;
    }
  | {
      kind: 'commit';
      url: string;
      commit: string;
      /** Where the commit lives if the server refuses fetching it by id. */
      ref: string;
      /** Recorded as the app's branch. */
      branch: string;
      credentials: GitCredentials | null;
    };

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
    const timeoutMs = this.cloneTimeoutMs;
    switch (spec.kind) {
      case 'push':
        await extractCommit(spec.gitDir, spec.update.newSha, dir, spec.quarantine);
        return spec.update.newSha;
      case 'clone':
        log.step(`Cloning ${spec.shown}${spec.branch ? ` (${spec.branch})` : ''}`);
        return cloneRepo({ url: spec.url, shown: spec.shown, credentials: spec.credentials, branch: spec.branch, dest: dir, timeoutMs });
      case 'commit':
        log.step(`Fetching ${spec.commit.slice(0, 12)} from ${spec.url}`);
        return fetchCommit({ url: spec.url, commit: spec.commit, ref: spec.ref, dest: dir, timeoutMs, credentials: spec.credentials });
    }
  }

  /** The release serves: the next push in line learns that git is about to move the branch. */
  released(spec: SourceSpec): void {
    if (spec.kind === 'push') this.refs.accepted(spec.gitDir, spec.update);
  }
}

/** What the app row records about a source: the repo (never its credentials) and branch; nothing for a push. */
export function sourceOrigin(spec: SourceSpec): { repo: string | null; branch: string | null } {
  if (spec.kind === 'clone') return { repo: spec.shown, branch: spec.branch };
  if (spec.kind === 'commit') return { repo: spec.url, branch: spec.branch };
  return { repo: null, branch: null };
}
