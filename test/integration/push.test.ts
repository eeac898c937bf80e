import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp, pythonApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// The Heroku loop for real: git push → build on the Docker engine → container → HAProxy port.
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function newRepo(files: Record<string, string>): Promise<AppRepo> {
  const repo = await AppRepo.create(files);
  repos.push(repo);
  return repo;
}

describe.each([
  ['node', nodeApp, 3000],
  ['python', pythonApp, 8000],
] as const)('git push of a %s app', (runtime, makeApp, appPort) => {
  const app = uniqueName(`push-${runtime}`);

  it('deploys v1, streaming Heroku-shaped output, and serves on the stable port', async () => {
    const repo = await newRepo(makeApp('hello v1'));
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain(`remote: -----> Detected ${runtime} app`);
    expect(push.output).toContain('remote: -----> Building image');
    expect(push.output).not.toMatch(/Step \d+\/\d+ : /);
    expect(push.output).toMatch(/remote: +Base image: \S+/);
    expect(push.output).toContain('remote: -----> Health check passed');
    const record = t.server.store.getApp(app)!;
    expect(push.output).toContain(`remote: -----> Released v1: http://127.0.0.1:${record.port}`);
    expect(record.runtime).toBe(runtime);
    const res = await httpGet(record.port);
    // PORT reached the app through its environment.
    expect(res?.body).toBe(`hello v1 port=${appPort} greeting=\n`);
  });

  it('a second push with new code and new config serves at the same URL and records v2', async () => {
    const before = t.server.store.getApp(app)!;
    t.server.store.setEnv(app, { GREETING: 'hi there' });
    const repo = repos[repos.length - 1]!;
    await repo.commit(makeApp('hello v2'), 'v2');
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('Released v2');
    const after = t.server.store.getApp(app)!;
    expect(after.port).toBe(before.port);
    expect(after.release).toBe(2);
    expect((await httpGet(after.port))?.body).toBe(`hello v2 port=${appPort} greeting=hi there\n`);
    const releases = t.server.store.listReleases(app);
    expect(releases.map((r) => r.number)).toEqual([2, 1]);
    expect(releases[0]!.env).toEqual({ GREETING: 'hi there' });
    // v1's container is retired once it drained; only v2's is left, and it runs.
    const containers = await eventually(async () => {
      const list = await t.docker.listOwnedContainers(app);
      expect(list.map((c) => c.name)).toEqual([`minpaas-${app}-v2-web-1`]);
      return list;
    });
    expect(containers[0]!.running).toBe(true);
  });
});

describe('what a push does not deploy', () => {
  it('a push to another branch is stored, not deployed, and says so', async () => {
    const app = uniqueName('branch');
    const repo = await newRepo(nodeApp('on main'));
    expect((await repo.push(t.remote(app))).code).toBe(0);
    await repo.git('checkout', '-q', '-b', 'feature');
    await repo.commit(nodeApp('on feature'), 'feature work');
    const push = await repo.push(t.remote(app), 'feature');
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('Branch feature stored, not deployed');
    expect(push.output).not.toContain('Building image');
    const record = t.server.store.getApp(app)!;
    expect(record.release).toBe(1);
    expect((await httpGet(record.port))?.body).toMatch(/^on main/);
  });

  it('a push of a ref that is neither branch nor tag is refused with a message (node-git-server would hang)', async () => {
    const app = uniqueName('notes');
    const repo = await newRepo(nodeApp('notes'));
    const push = await repo.push(t.remote(app), 'HEAD:refs/notes/x');
    expect(push.code).not.toBe(0);
    expect(push.output).toContain('remote: MinPaas: only branches (refs/heads/...) and tags (refs/tags/...) can be pushed');
    expect(t.server.store.getApp(app)).toBeUndefined();
  });

  it('a Dockerfile in the repo is ignored: the platform Dockerfile builds it', async () => {
    const app = uniqueName('dockerfile');
    const repo = await newRepo(nodeApp('platform built', { Dockerfile: 'FROM scratch\nRUN exit 1\n' }));
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('remote:  !     Warning: the Dockerfile in the repository is ignored: the platform builds this app (to build it instead: minpaas builder:set APP dockerfile)');
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^platform built/);
  });
});
