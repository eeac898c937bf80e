import { MinPaasError } from '../errors.js';
import type { RefUpdate } from './push-policy.js';
import { sleep } from '../sleep.js';
import { runGit } from './run-git.js';

const ZERO_SHA = '0'.repeat(40);
/** How long to wait for git to move a ref after an accepted push before assuming it failed. */
const SETTLE_MS = 5000;

/**
 * Keeps concurrent pushes honest. Their pre-receive hooks queue on the app's deploy lock;
 * when one gets its turn, the branch may have moved under it (an earlier push deployed).
 * git would then refuse its ref update only after we had deployed it, leaving the app
 * running a commit the branch does not have. So, under the lock, the branch must still
 * be where the pusher saw it, or the push is refused before anything is built.
 */
export class RefGuard {
  /** Refs an accepted push is about to move (git updates them after the hook exits). */
  private readonly pending = new Map<string, string>();

  async assertUnmoved(gitDir: string, update: RefUpdate): Promise<void> {
    const key = `${gitDir}\u0000${update.ref}`;
    let current = await this.read(gitDir, update.ref);
    const expected = this.pending.get(key);
    if (expected !== undefined) {
      const deadline = Date.now() + SETTLE_MS;
      while (current !== expected && Date.now() < deadline) {
        await sleep(50);
        current = await this.read(gitDir, update.ref);
      }
      this.pending.delete(key);
    }
    if (current !== update.oldSha) {
      const branch = update.ref.replace(/^refs\/heads\//, '');
      throw new MinPaasError(
        'DEPLOY_IN_PROGRESS',
        `${branch} moved to ${current.slice(0, 7)} (another push deployed it) while this push waited; fetch, merge and push again`,
      );
    }
  }

  /** Records that a push of `update` was accepted: git will move the ref shortly. */
  accepted(gitDir: string, update: RefUpdate): void {
    this.pending.set(`${gitDir}\u0000${update.ref}`, update.newSha);
  }

  private async read(gitDir: string, ref: string): Promise<string> {
    try {
      return (await runGit(['rev-parse', '--verify', '--quiet', ref], { env: { ...process.env, GIT_DIR: gitDir } })).stdout.trim();
    } catch {
      return ZERO_SHA;
    }
  }
}
