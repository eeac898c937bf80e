import { isValidAppName } from '../domain/names.js';
import { nonCommitBranchUpdate } from '../git/commit-check.js';
import type { PushHandler } from '../git/hook-bridge.js';
import { planPush } from '../git/push-policy.js';
import { failure, step } from './deploy-log.js';
import type { DeployPipeline } from './pipeline.js';

/** What a push to the git remote does: deploy main/master, store anything else. */
export function createPushHandler(pipeline: DeployPipeline): PushHandler {
  return async (push, out, gone) => {
    if (!isValidAppName(push.app)) {
      out(failure(`invalid app name ${JSON.stringify(push.app)}`));
      return false;
    }
    // Only a commit may deploy (a tag object pushed to a branch would build, then git
    // would refuse the ref update with the new release already serving).
    const notCommit = await nonCommitBranchUpdate(push.gitDir, push.updates, push.quarantine);
    if (notCommit) {
      out(failure(notCommit));
      return false;
    }
    const plan = planPush(push.updates);
    for (const note of plan.notes) out(step(note));
    if (plan.refusal) {
      out(failure(plan.refusal));
      return false;
    }
    const update = plan.deploy;
    if (!update) {
      // A push of other branches or tags only: the app exists from now on (listed, deletable).
      const { created } = await pipeline.ensureApp(push.app);
      if (created) out(step(`Created app ${push.app}`));
      return true;
    }
    try {
      await pipeline.buildAndDeploy({
        app: push.app,
        source: 'push',
        from: { kind: 'push', gitDir: push.gitDir, update, quarantine: push.quarantine },
        wait: true,
        onLine: out,
        signal: gone,
      });
      return true;
    } catch {
      // The pipeline has already told the pusher why.
      return false;
    }
  };
}
