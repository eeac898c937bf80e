import type { QuarantineEnv } from './archive.js';
import type { RefUpdate } from './push-policy.js';
import { runGit } from './run-git.js';

const ZERO = /^0+$/;

/** git's type of an object ("commit", "tag", "tree", "blob"), looked up with the push's quarantine. */
export async function objectType(gitDir: string, sha: string, quarantine: QuarantineEnv): Promise<string | null> {
  try {
    const env = { ...process.env, GIT_DIR: gitDir, ...quarantine };
    return (await runGit(['cat-file', '-t', sha], { env })).stdout.trim();
  } catch {
    return null;
  }
}

/**
 * Branches hold commits. git itself refuses a tag object on refs/heads/* only after the
 * pre-receive hook, which would have deployed it already; so a push that sets a branch
 * to anything but a commit is refused before anything is built. Returns the refusal.
 */
export async function nonCommitBranchUpdate(gitDir: string, updates: RefUpdate[], quarantine: QuarantineEnv): Promise<string | null> {
  for (const u of updates) {
    if (!u.ref.startsWith('refs/heads/') || ZERO.test(u.newSha)) continue;
    const type = await objectType(gitDir, u.newSha, quarantine);
    if (type !== 'commit') {
      const branch = u.ref.slice('refs/heads/'.length);
      return `${branch} must point at a commit, but ${u.newSha.slice(0, 7)} is ${type ? `a ${type} object` : 'not an object this push sent'}: push a commit (for a tag: git push minpaas TAG^{commit}:${branch})`;
    }
  }
  return null;
}
