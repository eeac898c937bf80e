/** One line of pre-receive's stdin: `<old-sha> <new-sha> <ref>`. */
export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

export const DEPLOY_BRANCHES: readonly string[] = ['main', 'master'];
const ZERO = /^0+$/;

/** Parses pre-receive stdin; node-git-server's own push metadata is wrong in edge cases. */
export function parseRefUpdates(text: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (refs\/\S+)$/.exec(line.trim());
    if (m) updates.push({ oldSha: m[1]!, newSha: m[2]!, ref: m[3]! });
  }
  return updates;
}

export interface PushPlan {
  /** The update to deploy, if the push touches a deploy branch. */
  deploy: RefUpdate | null;
  /** Lines for the pusher about refs that are stored but not deployed. */
  notes: string[];
  /** Set when the whole push must be refused. */
  refusal: string | null;
}

/**
 * Which update of a push deploys: `main` (or `master`) does; other branches and tags are
 * stored only. Deleting a deploy branch is refused: the running app came from it.
 */
export function planPush(updates: RefUpdate[]): PushPlan {
  const notes: string[] = [];
  let deploy: RefUpdate | null = null;
  for (const u of updates) {
    const branch = u.ref.startsWith('refs/heads/') ? u.ref.slice('refs/heads/'.length) : null;
    const isDeployBranch = branch !== null && DEPLOY_BRANCHES.includes(branch);
    if (isDeployBranch && ZERO.test(u.newSha)) {
      return { deploy: null, notes, refusal: `deleting ${branch} is not allowed: it is the branch MinPaas deploys` };
    }
    if (isDeployBranch && deploy) {
      return { deploy: null, notes, refusal: 'push either main or master, not both at once' };
    }
    if (isDeployBranch) deploy = u;
    else if (branch !== null) notes.push(`Branch ${branch} stored, not deployed (push main or master to deploy)`);
    else notes.push(`${u.ref} stored, not deployed`);
  }
  return { deploy, notes, refusal: null };
}
