import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { ForgeName } from './events.js';

export type CommitState = 'pending' | 'success' | 'failure';

/** Where a status goes: a commit of a GitHub repo (`owner/name`) or a GitLab project (its id). */
export interface StatusTarget {
  forge: ForgeName;
  repo: string;
  commit: string;
  token: string;
  /** The status' name on the forge, e.g. `minpaas` or `minpaas/preview`. */
  context: string;
}

export interface StatusApiUrls {
  github: string;
  gitlab: string;
}

const GITLAB_STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failed' };

/**
 * Posts commit statuses to GitHub's (`POST /repos/OWNER/NAME/statuses/SHA`) or GitLab's
 * (`POST /projects/ID/statuses/SHA`) API at a configurable base URL. A status that cannot
 * be posted is logged and never fails the deploy.
 */
export class StatusReporter {
  constructor(
    private readonly urls: StatusApiUrls,
    private readonly log: Logger,
  ) {}

  async post(target: StatusTarget, state: CommitState, description: string, targetUrl: string | null): Promise<void> {
    const { url, headers, body } = this.request(target, state, description.slice(0, 140), targetUrl);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'MinPaas', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (!res.ok) this.log.warn({ forge: target.forge, repo: target.repo, state, status: res.status }, 'the forge refused the commit status');
    } catch (err) {
      this.log.warn({ forge: target.forge, repo: target.repo, state, err: errorMessage(err) }, 'could not post the commit status');
    }
  }

  private request(t: StatusTarget, state: CommitState, description: string, targetUrl: string | null): { url: string; headers: Record<string, string>; body: object } {
    const link = targetUrl ? { target_url: targetUrl } : {};
    if (t.forge === 'github') {
      const [owner = '', name = ''] = t.repo.split('/');
      return {
        url: `${this.urls.github.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${t.commit}`,
        headers: { Authorization: `Bearer ${t.token}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
        body: { state, description, context: t.context, ...link },
      };
    }
    return {
      url: `${this.urls.gitlab.replace(/\/+$/, '')}/projects/${encodeURIComponent(t.repo)}/statuses/${t.commit}`,
      headers: { 'PRIVATE-TOKEN': t.token },
      body: { state: GITLAB_STATES[state], description, name: t.context, ...link },
    };
  }
}
