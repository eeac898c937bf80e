import { isValidAppName } from '../domain/names.js';
import { extractCommit } from '../git/archive.js';
import type { PushHandler } from '../git/hook-bridge.js';
import { planPush } from '../git/push-policy.js';
import { RefGuard } from '../git/ref-guard.js';
import { failure, step } from './deploy-log.js';
import type { DeployPipeline } from './pipeline.js';

/** What a push to the git remote does: deploy main/master, store anything else. */
export function createPushHandler(pipeline: DeployPipeline, refs: RefGuard = new RefGuard()): PushHandler {
  return async (push, out, gone) => {
    if (!isValidAppName(push.app)) {
      out(failure(`invalid app name ${JSON.stringify(push.app)}`));
      return false;
    }
    const plan = planPush(push.updates);
    for (const note of plan.notes) out(step(note));
    if (plan.refusal) {
      out(failure(plan.refusal));
      return false;
    }
    const update = plan.deploy;
    if (!update) return true;
    try {
      await pipeline.buildAndDeploy({
        app: push.app,
        source: 'push',
        wait: true,
        repo: null,
        branch: null,
        onLine: out,
        signal: gone,
        // Under the app's lock: a push that waited behind another must still be current.
        beforeBuild: () => refs.assertUnmoved(push.gitDir, update),
        // Still under the lock, so the next push in line knows the branch is about to move.
        onReleased: () => refs.accepted(push.gitDir, update),
        fetch: async (dir) => {
          await extractCommit(push.gitDir, update.newSha, dir, push.quarantine);
          return update.newSha;
        },
      });
      return true;
    } catch {
      // The pipeline has already told the pusher why.
      return false;
    }
  };
}
