import { describe, expect, it } from 'vitest';
import { decodeGithub, decodeGitlab, hasSkipMarker } from '../../src/forges/events.js';
import { githubPullRequest, githubPush, gitlabMergeRequest, gitlabPush } from '../fixtures/forge-payloads.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const url = 'https://github.com/octo-org/web.git';

describe('GitHub payloads', () => {
  it('ping and unused events', () => {
    expect(decodeGithub('ping', { zen: 'x' })).toEqual({ kind: 'ping' });
    expect(decodeGithub('issues', { action: 'opened' })).toEqual({ kind: 'other', name: 'issues' });
  });

  it('push: branch, the pushed commit, its message, where statuses go', () => {
    const e = decodeGithub('push', githubPush({ fullName: 'octo-org/web', cloneUrl: url, ref: 'refs/heads/main', before: A, after: B, message: 'fix [skip ci]' }));
    expect(e).toEqual({ kind: 'push', ref: 'refs/heads/main', branch: 'main', after: B, deleted: false, message: 'fix [skip ci]', statusRepo: 'octo-org/web' });
  });

  it('push: tags have no branch, deletions are marked', () => {
    const tag = decodeGithub('push', githubPush({ fullName: 'o/r', cloneUrl: url, ref: 'refs/tags/v1', before: A, after: B, message: 'm' }));
    expect(tag).toMatchObject({ branch: null });
    const deleted = decodeGithub('push', { ...githubPush({ fullName: 'o/r', cloneUrl: url, ref: 'refs/heads/x', before: A, after: '0'.repeat(40), message: '' }), head_commit: null, deleted: true });
    expect(deleted).toMatchObject({ branch: 'x', deleted: true, message: '' });
  });

  it('pull_request: intents, fork and author association', () => {
    const base = { number: 5, fullName: 'octo-org/web', cloneUrl: url, headSha: B, headRef: 'feature' };
    expect(decodeGithub('pull_request', githubPullRequest({ ...base, action: 'opened' }))).toEqual({
      kind: 'pull',
      intent: 'deploy',
      action: 'opened',
      number: 5,
      headSha: B,
      headRef: 'feature',
      fetchRef: 'refs/pull/5/head',
      fork: false,
      association: 'MEMBER',
      statusRepo: 'octo-org/web',
    });
    expect(decodeGithub('pull_request', githubPullRequest({ ...base, action: 'synchronize' }))).toMatchObject({ intent: 'deploy' });
    expect(decodeGithub('pull_request', githubPullRequest({ ...base, action: 'reopened' }))).toMatchObject({ intent: 'deploy' });
    expect(decodeGithub('pull_request', githubPullRequest({ ...base, action: 'closed' }))).toMatchObject({ intent: 'close' });
    expect(decodeGithub('pull_request', githubPullRequest({ ...base, action: 'labeled' }))).toMatchObject({ intent: 'ignore' });
    const fork = decodeGithub('pull_request', githubPullRequest({ ...base, action: 'opened', headFullName: 'someone/web', association: 'NONE' }));
    expect(fork).toMatchObject({ fork: true, association: 'NONE' });
    const gone = githubPullRequest({ ...base, action: 'opened' });
    (gone.pull_request.head as { repo: unknown }).repo = null;
    expect(decodeGithub('pull_request', gone)).toMatchObject({ fork: true });
  });

  it('refuses malformed payloads with a 400', () => {
    expect(() => decodeGithub('push', null)).toThrow(/must be an object/);
    expect(() => decodeGithub('push', { ref: 'refs/heads/main', after: 'not-a-sha' })).toThrow(/not a commit id/);
    expect(() => decodeGithub('push', { after: B })).toThrow(/ref must be a string/);
    expect(() => decodeGithub('pull_request', { action: 'opened', number: 1, pull_request: { head: {}, base: {} } })).toThrow(/head.sha/);
    try {
      decodeGithub('push', []);
    } catch (err) {
      expect((err as { status: number }).status).toBe(400);
    }
  });
});

describe('GitLab payloads', () => {
  const gitUrl = 'https://gitlab.example.com/group/web.git';

  it('Push Hook and Tag Push Hook', () => {
    const push = decodeGitlab('Push Hook', gitlabPush({ projectId: 15, gitUrl, ref: 'refs/heads/main', before: A, after: B, message: 'x [skip deploy]' }));
    expect(push).toEqual({ kind: 'push', ref: 'refs/heads/main', branch: 'main', after: B, deleted: false, message: 'x [skip deploy]', statusRepo: '15' });
    const tag = decodeGitlab('Tag Push Hook', { ...gitlabPush({ projectId: 15, gitUrl, ref: 'refs/tags/v1', before: A, after: B, message: '' }), object_kind: 'tag_push' });
    expect(tag).toMatchObject({ branch: null });
  });

  it('Merge Request Hook: open/reopen deploy, update only with new commits, close/merge remove', () => {
    const mr = (action: string, extra = {}) => decodeGitlab('Merge Request Hook', gitlabMergeRequest({ action, iid: 3, projectId: 15, gitUrl, headSha: B, sourceBranch: 'f', ...extra }));
    expect(mr('open')).toMatchObject({ kind: 'pull', intent: 'deploy', number: 3, headSha: B, headRef: 'f', fetchRef: 'refs/merge-requests/3/head', fork: false, association: null, statusRepo: '15' });
    expect(mr('reopen')).toMatchObject({ intent: 'deploy' });
    expect(mr('update')).toMatchObject({ intent: 'ignore' });
    expect(mr('update', { oldrev: A })).toMatchObject({ intent: 'deploy' });
    expect(mr('close')).toMatchObject({ intent: 'close' });
    expect(mr('merge')).toMatchObject({ intent: 'close' });
    expect(mr('approved')).toMatchObject({ intent: 'ignore' });
    expect(mr('open', { sourceProjectId: 99 })).toMatchObject({ fork: true });
  });
});

describe('skip markers', () => {
  it('[skip deploy], [skip ci], [ci skip] anywhere, any case', () => {
    for (const m of ['x [skip deploy]', '[skip ci] y', 'a\n\n[CI SKIP]', 'Skip: [Skip Deploy]']) expect(hasSkipMarker(m), m).toBe(true);
    for (const m of ['skip deploy', '[skip]', 'deploy', '[skipci]']) expect(hasSkipMarker(m), m).toBe(false);
  });
});
