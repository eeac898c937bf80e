import { invalid } from '../errors.js';

/**
 * Webhook payloads of GitHub and GitLab, decoded into the few facts a deploy needs. Field
 * names follow the forges' documented payloads (GitHub "Webhook events and payloads",
 * GitLab "Webhook events"); anything malformed is a 400.
 */

export type ForgeName = 'github' | 'gitlab';
export const FORGES: readonly ForgeName[] = ['github', 'gitlab'];

export interface PushEvent {
  kind: 'push';
  /** The branch pushed to, or null for a tag push. */
  branch: string | null;
  ref: string;
  /** The pushed commit: what gets deployed. */
  after: string;
  /** The branch was deleted (nothing to deploy). */
  deleted: boolean;
  /** The head commit's message (skip markers live here). */
  message: string;
  /** Where commit statuses go: GitHub `owner/name`, GitLab's project id. */
  statusRepo: string | null;
}

export interface PullEvent {
  kind: 'pull';
  /** What it means for the preview app. */
  intent: 'deploy' | 'close' | 'ignore';
  action: string;
  number: number;
  headSha: string;
  headRef: string;
  /** The ref the forge keeps the PR's head at in the base repo. */
  fetchRef: string;
  /** The head lives in another repository than the base. */
  fork: boolean;
  /** GitHub's `author_association` (OWNER, MEMBER, COLLABORATOR, …); null on GitLab. */
  association: string | null;
  statusRepo: string | null;
}

export type ForgeEvent = { kind: 'ping' } | PushEvent | PullEvent | { kind: 'other'; name: string };

const ZERO_SHA = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const SKIP_MARKERS = /\[(skip deploy|skip ci|ci skip)\]/i;

/** `[skip deploy]`, `[skip ci]` or `[ci skip]` in a commit message. */
export function hasSkipMarker(message: string): boolean {
  return SKIP_MARKERS.test(message);
}

type Obj = Record<string, unknown>;

function obj(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`webhook payload: ${what} must be an object`);
  return value as Obj;
}

function str(o: Obj, key: string, what = key): string {
  const v = o[key];
  if (typeof v !== 'string') throw invalid(`webhook payload: ${what} must be a string`);
  return v;
}

function sha(o: Obj, key: string, what = key): string {
  const v = str(o, key, what);
  if (!SHA.test(v) && !ZERO_SHA.test(v)) throw invalid(`webhook payload: ${what} is not a commit id`);
  return v;
}

function optionalObj(value: unknown): Obj | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : null;
}

function prNumber(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1e9) throw invalid('webhook payload: the pull request number is missing');
  return value;
}

function branchOf(ref: string): string | null {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
}

/** GitHub: the `X-GitHub-Event` header names the event. */
export function decodeGithub(event: string, payload: unknown): ForgeEvent {
  if (event === 'ping') return { kind: 'ping' };
  const body = obj(payload, 'the body');
  const fullName = optionalObj(body.repository)?.full_name;
  const statusRepo = typeof fullName === 'string' ? fullName : null;
  if (event === 'push') {
    const ref = str(body, 'ref');
    const after = sha(body, 'after');
    const head = optionalObj(body.head_commit);
    return {
      kind: 'push',
      ref,
      branch: branchOf(ref),
      after,
      deleted: body.deleted === true || ZERO_SHA.test(after),
      message: typeof head?.message === 'string' ? head.message : '',
      statusRepo,
    };
  }
  if (event === 'pull_request') {
    const action = str(body, 'action');
    const pr = obj(body.pull_request, 'pull_request');
    const number = prNumber(body.number ?? pr.number);
    const head = obj(pr.head, 'pull_request.head');
    const base = obj(pr.base, 'pull_request.base');
    const headRepo = optionalObj(head.repo)?.full_name;
    const baseRepo = optionalObj(base.repo)?.full_name;
    const intent = ['opened', 'reopened', 'synchronize'].includes(action) ? 'deploy' : action === 'closed' ? 'close' : 'ignore';
    return {
      kind: 'pull',
      intent,
      action,
      number,
      headSha: sha(head, 'sha', 'pull_request.head.sha'),
      headRef: str(head, 'ref', 'pull_request.head.ref'),
      fetchRef: `refs/pull/${number}/head`,
      // A deleted fork has head.repo null: that is a fork too.
      fork: typeof headRepo !== 'string' || headRepo !== baseRepo,
      association: typeof pr.author_association === 'string' ? pr.author_association : null,
      statusRepo,
    };
  }
  return { kind: 'other', name: event };
}

/** GitLab: the `X-Gitlab-Event` header names the event (`Push Hook`, `Merge Request Hook`, …). */
export function decodeGitlab(event: string, payload: unknown): ForgeEvent {
  const body = obj(payload, 'the body');
  const project = optionalObj(body.project);
  const projectId = body.project_id ?? project?.id;
  const statusRepo = typeof projectId === 'number' || typeof projectId === 'string' ? String(projectId) : null;
  if (event === 'Push Hook' || event === 'Tag Push Hook') {
    const ref = str(body, 'ref');
    const after = sha(body, 'after');
    const commits = Array.isArray(body.commits) ? body.commits.map(optionalObj) : [];
    const head = commits.find((c) => c?.id === after) ?? commits[commits.length - 1] ?? null;
    return {
      kind: 'push',
      ref,
      branch: event === 'Tag Push Hook' ? null : branchOf(ref),
      after,
      deleted: ZERO_SHA.test(after),
      message: typeof head?.message === 'string' ? head.message : '',
      statusRepo,
    };
  }
  if (event === 'Merge Request Hook') {
    const attrs = obj(body.object_attributes, 'object_attributes');
    const action = typeof attrs.action === 'string' ? attrs.action : '';
    const number = prNumber(attrs.iid);
    const last = obj(attrs.last_commit, 'object_attributes.last_commit');
    // `update` also fires for title or label edits; `oldrev` is set only when commits were pushed.
    const pushed = action === 'update' && typeof attrs.oldrev === 'string';
    const intent = action === 'open' || action === 'reopen' || pushed ? 'deploy' : action === 'close' || action === 'merge' ? 'close' : 'ignore';
    return {
      kind: 'pull',
      intent,
      action,
      number,
      headSha: sha(last, 'id', 'object_attributes.last_commit.id'),
      headRef: str(attrs, 'source_branch', 'object_attributes.source_branch'),
      fetchRef: `refs/merge-requests/${number}/head`,
      fork: attrs.source_project_id !== attrs.target_project_id,
      association: null,
      statusRepo,
    };
  }
  return { kind: 'other', name: event };
}
