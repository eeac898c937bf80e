import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Issue 7, items 7 and 12 on the real engine: builds run under their own memory limit,
// and image retention counts builds, not releases.

let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer({ MINPAAS_KEEP_RELEASES: '2', MINPAAS_BUILD_MEMORY: '256m', MINPAAS_BUILD_CPUS: '1' });
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

describe('build limits (item 7)', () => {
  it('an install step that takes more than MINPAAS_BUILD_MEMORY fails the build; the app keeps serving', async () => {
    const app = uniqueName('buildmem');
    const repo = await newRepo(nodeApp('lean'));
    expect((await repo.push(t.remote(app))).code).toBe(0);
    // 600 MB touched inside a 256 MB build: the kernel kills it.
    const greedy = `node -e "const b = Buffer.alloc(600 * 1024 * 1024, 1); console.log(b.length)"`;
    await repo.commit(nodeApp('greedy', { 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: greedy } }) }), 'greedy');
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).not.toBe(0);
    expect(push.output).toMatch(/build failed/);
    // Killed by the kernel's OOM killer inside the build's cgroup.
    expect(push.output).toMatch(/Killed|SIGKILL|code:? 137/);
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^lean /);
  });
});

describe('image retention counts builds (item 12)', () => {
  it('with MINPAAS_KEEP_RELEASES=2, two config changes after two builds still leave v1 to roll back to', async () => {
    const app = uniqueName('keepbuilds');
    const repo = await newRepo(nodeApp('b1'));
    expect((await repo.push(t.remote(app))).code).toBe(0);
    await repo.commit(nodeApp('b2'), 'b2');
    expect((await repo.push(t.remote(app))).code).toBe(0);
    for (const value of ['one', 'two']) {
      const res = await t.api('PATCH', `/apps/${app}/config`, { GREETING: value });
      expect(res.status, res.text).toBe(200);
    }
    // v3 and v4 are config releases on v2's image: v1's image is one of the last two builds.
    await eventually(async () => expect((await t.docker.listOwnedImages(app)).flatMap((i) => i.tags).sort()).toEqual([`minpaas/${app}:v1`, `minpaas/${app}:v2`]));
    const rollback = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
    expect(rollback.status, rollback.text).toBe(200);
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^b1 /);
    // A third build pushes v1 out: the last two builds are v6 and v2.
    await repo.commit(nodeApp('b3'), 'b3');
    expect((await repo.push(t.remote(app))).code).toBe(0);
    await eventually(async () => expect((await t.docker.listOwnedImages(app)).flatMap((i) => i.tags).sort()).toEqual([`minpaas/${app}:v2`, `minpaas/${app}:v6`]));
  });
});
