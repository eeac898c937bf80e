import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubSignature } from '../../src/forges/signature.js';
import { githubPullRequest, githubPush, gitlabMergeRequest, gitlabPush } from '../fixtures/forge-payloads.js';
import { nodeApp } from '../fixtures/apps.js';
import { privateGitServer, statusApiServer, type PrivateGitServer, type ReceivedStatus } from '../helpers/forge-servers.js';
import { AppRepo, run } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * Signed GitHub and GitLab deliveries against a real MinPaas: the repo is served by
 * `git http-backend` behind Basic auth (a private repo: the connection's token must reach
 * git), commit statuses go to a local stand-in for the forges' status APIs.
 */

const GH_TOKEN = 'ghp_testtoken0123456789abcdef';
const FULL_NAME = 'octo-org/web';
const GL_PROJECT = 4242;

/** The preview fixture also prints MINPAAS_PR_NUMBER. */
function previewApp(message: string): Record<string, string> {
  const files = nodeApp(message);
  files['server.js'] = files['server.js']!.replace("' greeting=' + (process.env.GREETING || '')", "' greeting=' + (process.env.GREETING || '') + ' pr=' + (process.env.MINPAAS_PR_NUMBER || '')");
  return files;
}

let ts: TestServer;
let git: PrivateGitServer;
let statuses: Awaited<ReturnType<typeof statusApiServer>>;
let repo: AppRepo;
let bare: { dir: string; url: string };
let app: string;
let secret: string;

async function deliver(
  forge: 'github' | 'gitlab',
  target: string,
  event: string,
  payload: unknown,
  o: { id?: string; body?: string; signature?: string | null; token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: any }> {
  const body = o.body ?? JSON.stringify(payload, null, 2);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': forge === 'github' ? 'GitHub-Hookshot/abc' : 'GitLab/17.0' };
  const id = o.id ?? crypto.randomUUID();
  if (forge === 'github') {
    headers['x-github-event'] = event;
    headers['x-github-delivery'] = id;
    const signature = o.signature === undefined ? githubSignature(secret, body) : o.signature;
    if (signature !== null) headers['x-hub-signature-256'] = signature;
  } else {
    headers['x-gitlab-event'] = event;
    headers['x-gitlab-event-uuid'] = id;
    const token = o.token === undefined ? secret : o.token;
    if (token !== null) headers['x-gitlab-token'] = token;
  }
  const res = await fetch(`${ts.url}/hooks/${forge}/${target}`, { method: 'POST', headers: { ...headers, ...o.headers }, body });
  return { status: res.status, json: await res.json() };
}

async function pushCommit(files: Record<string, string | null>, message: string, ref = 'main'): Promise<string> {
  const sha = await repo.commit(files, message);
  const pushed = await repo.push(bare.dir, `HEAD:${ref}`, '--force');
  expect(pushed.code, pushed.output).toBe(0);
  return sha;
}

const pushPayload = (after: string, message: string, ref = 'refs/heads/main') =>
  githubPush({ fullName: FULL_NAME, cloneUrl: bare.url, ref, before: '0'.repeat(39) + '1', after, message });

async function served(name: string): Promise<string> {
  const rec = await ts.api('GET', `/apps/${name}`);
  expect(rec.status).toBe(200);
  return (await httpGet(rec.json.port))?.body ?? '';
}

const deploysOf = (name: string) => ts.server.store.listDeploys(name);

/** Every process's command line, from /proc. */
async function commandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of (await fs.readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`).catch(() => null);
    if (raw?.length) lines.push(raw.toString('utf8').split('\0').join(' '));
  }
  return lines;
}
const statusesFor = (sha: string): ReceivedStatus[] => statuses.received.filter((s) => s.path.endsWith(`/statuses/${sha}`));

beforeAll(async () => {
  git = await privateGitServer({ user: 'x-access-token', password: GH_TOKEN });
  statuses = await statusApiServer();
  ts = await startTestServer({
    MINPAAS_GITHUB_API_URL: `${statuses.url}/gh`,
    MINPAAS_GITLAB_API_URL: `${statuses.url}/gl/api/v4`,
    MINPAAS_MAX_PREVIEWS: '1',
  });
  app = uniqueName('hook');
  bare = await git.bare(app);
  repo = await AppRepo.create(nodeApp('v1'));
  expect((await repo.push(bare.dir, 'main')).code).toBe(0);
  // The app exists first: one deploy through the API while the repo is still public.
  git.authRequired = false;
  const first = await ts.api('POST', '/deploy', { app, runtime: 'node', repo: bare.url });
  expect(first.status, first.text).toBe(200);
  git.authRequired = true;
});

afterAll(async () => {
  await ts?.cleanup();
  await git?.close();
  await statuses?.close();
  await repo?.remove();
});

describe('connecting an app', () => {
  it('answers the secret once, with the webhook settings; never shows it (or the token) again', async () => {
    const refused = await ts.api('PUT', `/apps/${app}/forge`, { forge: 'github', repo: `http://u:p@127.0.0.1/${app}.git` });
    expect(refused.status).toBe(400);
    expect((await ts.api('PUT', `/apps/${app}/forge`, { forge: 'bitbucket', repo: bare.url })).status).toBe(400);
    expect((await ts.api('PUT', `/apps/${uniqueName('nope')}/forge`, { forge: 'github', repo: bare.url })).status).toBe(404);
    expect((await ts.api('GET', `/apps/${app}/forge`)).status).toBe(404);
    const res = await ts.api('PUT', `/apps/${app}/forge`, { forge: 'github', repo: bare.url, branch: 'main', token: GH_TOKEN });
    expect(res.status, res.text).toBe(201);
    secret = res.json.webhook.secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(res.json.webhook).toMatchObject({ url: `${ts.url}/hooks/github/${app}`, contentType: 'application/json', events: ['push', 'pull_request'] });
    expect(res.text).not.toContain(GH_TOKEN);
    const shown = await ts.api('GET', `/apps/${app}/forge`);
    expect(shown.json).toMatchObject({ forge: 'github', repo: bare.url, branch: 'main', hasToken: true });
    expect(shown.text).not.toContain(secret);
    expect(shown.text).not.toContain(GH_TOKEN);
  });

  it('ping answers 200', async () => {
    const res = await deliver('github', app, 'ping', { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Repository', events: ['push', 'pull_request'] } });
    expect(res).toMatchObject({ status: 200, json: { status: 'ok' } });
  });
});

describe('signatures', () => {
  it('refuses missing, wrong and re-serialised-body signatures with 401 and deploys nothing', async () => {
    const sha = await pushCommit(nodeApp('unsigned'), 'should never deploy');
    const before = deploysOf(app).length;
    const payload = pushPayload(sha, 'should never deploy');
    const pretty = JSON.stringify(payload, null, 2);
    expect((await deliver('github', app, 'push', payload, { signature: null })).status).toBe(401);
    expect((await deliver('github', app, 'push', payload, { signature: `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    expect((await deliver('github', app, 'push', payload, { signature: githubSignature('another-secret', pretty) })).status).toBe(401);
    // Signed over the body as sent, then re-serialised (same JSON, other bytes): refused.
    expect((await deliver('github', app, 'push', payload, { body: JSON.stringify(payload), signature: githubSignature(secret, pretty) })).status).toBe(401);
    expect((await deliver('gitlab', app, 'Push Hook', payload)).status).toBe(401);
    // Unknown, unconnected or hostile app names look the same from outside: 401.
    for (const target of [uniqueName('nosuch'), '..%2F..%2Fetc', 'UPPER', 'a'.repeat(300)]) {
      expect((await deliver('github', target, 'push', payload)).status, target).toBe(401);
    }
    // Only the webhook routes skip the bearer token.
    expect((await fetch(`${ts.url}/apps/${app}/forge`)).status).toBe(401);
    const huge = await fetch(`${ts.url}/hooks/github/${app}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(11 * 1024 * 1024, 0x20) });
    expect(huge.status).toBe(413);
    expect(deploysOf(app).length).toBe(before);
  });
});

describe('push', () => {
  it('deploys exactly the pushed commit, answers 202 with the deploy id, and posts pending then success', async () => {
    const wanted = await pushCommit(nodeApp('v2'), 'v2');
    // The branch moves on before the delivery: v2, not the branch head, must deploy.
    await pushCommit(nodeApp('v3-not-pushed-yet'), 'v3');
    const id = crypto.randomUUID();
    const res = await deliver('github', app, 'push', pushPayload(wanted, 'v2'), { id });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'deploying', app, commit: wanted });
    expect(typeof res.json.deployId).toBe('number');
    await ts.server.forges.webhooks.idle(app);
    expect(await served(app)).toContain('v2 ');
    const deploy = ts.server.store.getDeploy(app, res.json.deployId)!;
    expect(deploy).toMatchObject({ status: 'succeeded', source: 'webhook', commit: wanted });
    expect(git.authorizations).toContain(`Basic ${Buffer.from(`x-access-token:${GH_TOKEN}`).toString('base64')}`);
    expect(ts.server.store.getDeployLog(app, deploy.id)).not.toContain(GH_TOKEN);

    const posted = statusesFor(wanted);
    expect(posted.map((s) => s.body.state)).toEqual(['pending', 'success']);
    expect(posted[0]!.path).toBe(`/gh/repos/${FULL_NAME}/statuses/${wanted}`);
    expect(posted[0]!.headers.authorization).toBe(`Bearer ${GH_TOKEN}`);
    const url = (await ts.api('GET', `/apps/${app}`)).json.url;
    expect(posted[1]!.body).toMatchObject({ context: 'minpaas', target_url: url });

    // The same delivery again (a replay or a redelivery): ignored.
    const replay = await deliver('github', app, 'push', pushPayload(wanted, 'v2'), { id });
    expect(replay).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    await ts.server.forges.webhooks.idle(app);
    expect(deploysOf(app).filter((d) => d.commit === wanted)).toHaveLength(1);
  });

  it('skips commits marked [skip deploy] or [skip ci], other branches and tags', async () => {
    const before = deploysOf(app).length;
    for (const message of ['docs only [skip deploy]', 'typo [skip ci]']) {
      const sha = await pushCommit(nodeApp('skipped'), message);
      const res = await deliver('github', app, 'push', pushPayload(sha, message));
      expect(res).toMatchObject({ status: 202, json: { status: 'skipped' } });
    }
    const sha = await repo.commit(nodeApp('other-branch'), 'elsewhere');
    expect((await deliver('github', app, 'push', pushPayload(sha, 'elsewhere', 'refs/heads/feature'))).json).toMatchObject({ status: 'ignored' });
    expect((await deliver('github', app, 'push', pushPayload(sha, 'tag', 'refs/tags/v1.0'))).json).toMatchObject({ status: 'ignored' });
    await ts.server.forges.webhooks.idle(app);
    expect(deploysOf(app).length).toBe(before);
    expect(await served(app)).toContain('v2 ');
  });

  it('collapses a burst of five pushes during a deploy to the newest: two deploys, the fifth commit serves', async () => {
    const before = deploysOf(app).length;
    const shas: string[] = [];
    git.requests = 0;
    for (let i = 1; i <= 5; i++) shas.push(await pushCommit(nodeApp(`burst${i}`), `burst ${i}`));
    // The first deploy waits in its fetch until all five deliveries are answered.
    git.closeGate();
    const answers = [await deliver('github', app, 'push', pushPayload(shas[0]!, 'burst 1'))];
    expect(answers[0]!.json.status).toBe('deploying');
    for (let i = 1; i < 5; i++) answers.push(await deliver('github', app, 'push', pushPayload(shas[i]!, `burst ${i + 1}`)));
    expect(answers.slice(1).map((a) => a.json.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
    // git is waiting at the gate now: the token is on no process's command line.
    await eventually(async () => expect(git.requests).toBeGreaterThan(0));
    const lines = await commandLines();
    expect(lines.some((l) => l.includes('git') && l.includes(bare.url))).toBe(true);
    const basic = Buffer.from(`x-access-token:${GH_TOKEN}`).toString('base64');
    expect(lines.filter((l) => l.includes(GH_TOKEN) || l.includes(basic))).toEqual([]);
    git.openGate();
    await eventually(async () => expect(deploysOf(app).length - before).toBe(2), 240_000, 500);
    await ts.server.forges.webhooks.idle(app);
    const burst = deploysOf(app).slice(0, deploysOf(app).length - before);
    expect(burst.map((d) => [d.commit, d.status]).reverse()).toEqual([
      [shas[0], 'succeeded'],
      [shas[4], 'succeeded'],
    ]);
    expect(await served(app)).toContain('burst5 ');
  });

  it('a failing deploy is recorded failed, keeps the old release, and posts failure with the deploy log link', async () => {
    // Unparseable package.json: refused before the build (server.js alone would start with `node server.js`).
    const broken = await pushCommit({ 'package.json': '{ "name": "broken", ' }, 'broken package.json');
    const res = await deliver('github', app, 'push', pushPayload(broken, 'broken package.json'));
    expect(res.json.status).toBe('deploying');
    await ts.server.forges.webhooks.idle(app);
    expect(ts.server.store.getDeploy(app, res.json.deployId)).toMatchObject({ status: 'failed' });
    expect(await served(app)).toContain('burst5 ');
    const failure = statusesFor(broken).find((s) => s.body.state === 'failure');
    expect(failure?.body.target_url).toBe(`${ts.url}/apps/${app}/deploys/${res.json.deployId}/log`);
    // Restore a serving tree on main for what follows.
    await pushCommit(nodeApp('burst5'), 'fixed');
  });
});

describe('preview apps', () => {
  const pr = 7;
  let preview: string;

  const prPayload = (action: string, headSha: string, extra: Partial<Parameters<typeof githubPullRequest>[0]> = {}) =>
    githubPullRequest({ action, number: pr, fullName: FULL_NAME, cloneUrl: bare.url, headSha, headRef: 'feature', ...extra });

  async function pushPr(number: number, message: string): Promise<string> {
    return pushCommit(previewApp(message), message, `refs/pull/${number}/head`);
  }

  it('opened: a preview with the parent config, MINPAAS_PR_NUMBER and limits, listed under the parent', async () => {
    expect((await ts.api('PATCH', `/apps/${app}/config`, { GREETING: 'parent-config' })).status).toBe(200);
    expect((await ts.api('PATCH', `/apps/${app}/resources`, { memory: '300m' })).status).toBe(200);
    const head = await pushPr(pr, 'preview-one');
    const res = await deliver('github', app, 'pull_request', prPayload('opened', head));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'deploying', pr, app: `${app}-pr-${pr}` });
    preview = res.json.app;
    await ts.server.forges.webhooks.idle(preview);
    expect(await served(preview)).toMatch(/preview-one .*greeting=parent-config pr=7/);
    const rec = (await ts.api('GET', `/apps/${preview}`)).json;
    expect(rec.resources.memory).toBe('300m');
    // The first container of the preview already runs with the parent's limit.
    const inspected = JSON.parse((await run('docker', ['inspect', rec.container])).stdout)[0];
    expect(inspected.HostConfig.Memory).toBe(300 * 1024 * 1024);
    const listed = (await ts.api('GET', `/apps/${app}/previews`)).json;
    expect(listed.previews).toMatchObject([{ number: pr, app: preview, commit: head, status: 'live', url: rec.url }]);
    expect(statusesFor(head).map((s) => [s.body.state, s.body.context])).toEqual([
      ['pending', 'minpaas/preview'],
      ['success', 'minpaas/preview'],
    ]);
  });

  it('refuses a preview beyond MINPAAS_MAX_PREVIEWS with a clear status', async () => {
    const head = await pushPr(8, 'preview-two');
    const res = await deliver('github', app, 'pull_request', githubPullRequest({ action: 'opened', number: 8, fullName: FULL_NAME, cloneUrl: bare.url, headSha: head, headRef: 'other' }));
    expect(res).toMatchObject({ status: 202, json: { status: 'refused' } });
    expect(res.json.reason).toContain('MINPAAS_MAX_PREVIEWS');
    expect((await ts.api('GET', `/apps/${app}-pr-8`)).status).toBe(404);
    await eventually(async () => expect(statusesFor(head).map((s) => s.body.state)).toEqual(['failure']));
  });

  it('does not deploy a fork pull request by a non-member, and reports it', async () => {
    const head = await pushPr(9, 'from-a-fork');
    const res = await deliver('github', app, 'pull_request', githubPullRequest({ action: 'opened', number: 9, fullName: FULL_NAME, cloneUrl: bare.url, headSha: head, headRef: 'patch-1', headFullName: 'stranger/web', association: 'NONE' }));
    expect(res).toMatchObject({ status: 202, json: { status: 'skipped', pr: 9 } });
    expect((await ts.api('GET', `/apps/${app}-pr-9`)).status).toBe(404);
    const listed = (await ts.api('GET', `/apps/${app}/previews`)).json;
    expect(listed.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ pr: 9, outcome: 'skipped' })]));
  });

  it('synchronize redeploys the new head; closed destroys the preview with everything it had', async () => {
    const head = await pushPr(pr, 'preview-updated');
    const res = await deliver('github', app, 'pull_request', prPayload('synchronize', head));
    expect(res.json.status).toBe('deploying');
    await ts.server.forges.webhooks.idle(preview);
    expect(await served(preview)).toContain('preview-updated ');
    expect(ts.server.store.listReleases(preview)[0]!.commit).toBe(head);

    const closed = await deliver('github', app, 'pull_request', prPayload('closed', head));
    expect(closed).toMatchObject({ status: 202, json: { status: 'destroying', app: preview } });
    await ts.server.forges.webhooks.idle(preview);
    expect((await ts.api('GET', `/apps/${preview}`)).status).toBe(404);
    expect(await ts.docker.listOwnedImages(preview)).toEqual([]);
    expect((await ts.api('GET', `/apps/${app}/previews`)).json.previews).toEqual([]);
  });
});

describe('GitLab', () => {
  it('push and merge requests with X-Gitlab-Token; statuses to the GitLab API', async () => {
    const conn = await ts.api('PUT', `/apps/${app}/forge`, { forge: 'gitlab', repo: bare.url, branch: 'main', token: `x-access-token:${GH_TOKEN}` });
    expect(conn.status).toBe(201);
    secret = conn.json.webhook.secret;
    expect(conn.json.webhook.events).toEqual(['Push events', 'Merge request events']);
    const sha = await pushCommit(nodeApp('gitlab-v1'), 'from gitlab');
    const payload = gitlabPush({ projectId: GL_PROJECT, gitUrl: bare.url, ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, message: 'from gitlab' });
    expect((await deliver('gitlab', app, 'Push Hook', payload, { token: 'wrong' })).status).toBe(401);
    expect((await deliver('gitlab', app, 'Push Hook', payload, { token: null })).status).toBe(401);
    const id = crypto.randomUUID();
    const res = await deliver('gitlab', app, 'Push Hook', payload, { id });
    expect(res).toMatchObject({ status: 202, json: { status: 'deploying', commit: sha } });
    expect((await deliver('gitlab', app, 'Push Hook', payload, { id })).json.status).toBe('duplicate');
    // A GitLab retry: a new event UUID, the same Idempotency-Key.
    const key = crypto.randomUUID();
    expect((await deliver('gitlab', app, 'Push Hook', { ...payload, after: '0'.repeat(40) }, { headers: { 'idempotency-key': key } })).json.status).toBe('ignored');
    expect((await deliver('gitlab', app, 'Push Hook', payload, { headers: { 'idempotency-key': key } })).json.status).toBe('duplicate');
    await ts.server.forges.webhooks.idle(app);
    expect(await served(app)).toContain('gitlab-v1 ');
    const posted = statusesFor(sha);
    expect(posted.map((s) => s.body.state)).toEqual(['pending', 'success']);
    expect(posted[0]!.path).toBe(`/gl/api/v4/projects/${GL_PROJECT}/statuses/${sha}`);
    expect(posted[0]!.headers['private-token']).toBe(GH_TOKEN);

    const head = await pushCommit(previewApp('mr-preview'), 'mr', 'refs/merge-requests/3/head');
    const mr = (action: string, extra = {}) => gitlabMergeRequest({ action, iid: 3, projectId: GL_PROJECT, gitUrl: bare.url, headSha: head, sourceBranch: 'mr-branch', ...extra });
    const fork = await deliver('gitlab', app, 'Merge Request Hook', gitlabMergeRequest({ action: 'open', iid: 4, projectId: GL_PROJECT, gitUrl: bare.url, headSha: head, sourceBranch: 'x', sourceProjectId: 99 }));
    expect(fork.json.status).toBe('skipped');
    const opened = await deliver('gitlab', app, 'Merge Request Hook', mr('open'));
    expect(opened.json).toMatchObject({ status: 'deploying', app: `${app}-pr-3` });
    await ts.server.forges.webhooks.idle(opened.json.app);
    expect(await served(opened.json.app)).toContain('mr-preview ');
    // A title edit is an `update` without `oldrev`: nothing to redeploy.
    expect((await deliver('gitlab', app, 'Merge Request Hook', mr('update'))).json.status).toBe('ignored');
    const merged = await deliver('gitlab', app, 'Merge Request Hook', mr('merge'));
    expect(merged.json.status).toBe('destroying');
    await ts.server.forges.webhooks.idle(opened.json.app);
    expect((await ts.api('GET', `/apps/${opened.json.app}`)).status).toBe(404);
  });

  it('disconnect: the hook answers 401 afterwards', async () => {
    expect((await ts.api('DELETE', `/apps/${app}/forge?forge=github`)).status).toBe(409);
    expect((await ts.api('DELETE', `/apps/${app}/forge?forge=gitlab`)).status).toBe(200);
    expect((await deliver('gitlab', app, 'Push Hook', {})).status).toBe(401);
  });
});

describe('destroying the parent', () => {
  it('destroys its previews with it', async () => {
    const conn = await ts.api('PUT', `/apps/${app}/forge`, { forge: 'github', repo: bare.url, token: GH_TOKEN });
    expect(conn.status).toBe(201);
    secret = conn.json.webhook.secret;
    const head = await pushCommit(previewApp('doomed'), 'doomed', 'refs/pull/11/head');
    const opened = await deliver('github', app, 'pull_request', githubPullRequest({ action: 'opened', number: 11, fullName: FULL_NAME, cloneUrl: bare.url, headSha: head, headRef: 'doomed' }));
    expect(opened.json.status).toBe('deploying');
    await ts.server.forges.webhooks.idle(opened.json.app);
    expect(await served(opened.json.app)).toContain('doomed ');
    expect((await ts.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect((await ts.api('GET', `/apps/${opened.json.app}`)).status).toBe(404);
    expect(await ts.docker.listOwnedImages(opened.json.app)).toEqual([]);
  });
});
