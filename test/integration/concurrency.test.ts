import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { serveGitRepos } from '../helpers/git-http-server.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Deploys of one app never run at once: pushes queue on the app's lock, API calls get a
// 409, and a push whose branch moved while it waited is refused before it builds.
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function clone(remote: string): Promise<AppRepo> {
  const repo = await AppRepo.create({ '.keep': '' });
  repos.push(repo);
  await repo.git('fetch', '-q', remote, 'main');
  await repo.git('reset', '-q', '--hard', 'FETCH_HEAD');
  return repo;
}

/** The store, Docker and the git remote must tell one story about what serves. */
async function expectConsistent(app: string, body: RegExp): Promise<void> {
  const record = t.server.store.getApp(app)!;
  const release = t.server.store.getRelease(app, record.release!)!;
  const remoteMain = (await repos[0]!.git('ls-remote', t.remote(app), 'refs/heads/main')).stdout.split('\t')[0];
  expect(release.commit).toBe(remoteMain);
  expect((await httpGet(record.port))?.body).toMatch(body);
  await eventually(async () => {
    const containers = await t.docker.listOwnedContainers(app);
    expect(containers.map((c) => c.name)).toEqual([record.container]);
    expect(containers[0]!.running).toBe(true);
  });
  expect(t.server.store.listDeploys(app).filter((d) => d.status === 'running')).toEqual([]);
}

describe('ten concurrent pushes to one app', () => {
  const app = uniqueName('race');

  it('serialise: one deploys, the others are told the branch moved, and everything agrees', async () => {
    const origin = await AppRepo.create(nodeApp('base'));
    repos.unshift(origin);
    expect((await origin.push(t.remote(app))).code).toBe(0);

    const clones = await Promise.all(Array.from({ length: 10 }, () => clone(t.remote(app))));
    const shas = await Promise.all(clones.map((c, i) => c.commit(nodeApp(`racer ${i}`), `racer ${i}`)));
    const pushes = await Promise.all(clones.map((c) => c.push(t.remote(app))));

    const winners = pushes.flatMap((p, i) => (p.code === 0 ? [i] : []));
    expect(winners, pushes.map((p) => p.output).join('\n=====\n')).toHaveLength(1);
    const winner = winners[0]!;
    for (const [i, push] of pushes.entries()) {
      if (i === winner) continue;
      expect(push.output).toMatch(/main moved to [0-9a-f]{7} \(another push deployed it\) while this push waited; fetch, merge and push again/);
      expect(push.output).not.toContain('Building image');
    }
    const waited = pushes.filter((p) => p.output.includes('Waiting for the deploy of')).length;
    expect(waited).toBeGreaterThan(0);
    expect(t.server.store.getRelease(app, t.server.store.getApp(app)!.release!)!.commit).toBe(shas[winner]);
    await expectConsistent(app, new RegExp(`^racer ${winner} `));
  });
});

describe('pushes and API deploys to one app at once', () => {
  const app = uniqueName('mixed');

  it('each deploys or is told clearly; what serves is the last release, and store and Docker agree', async () => {
    const origin = await AppRepo.create(nodeApp('base'));
    repos.unshift(origin);
    expect((await origin.push(t.remote(app))).code).toBe(0);
    const source = await serveGitRepos();
    try {
      const apiRepo = await source.bare('api-source');
      const apiWork = await AppRepo.create(nodeApp('from the api'));
      repos.push(apiWork);
      expect((await apiWork.push(apiRepo.dir, 'main')).code).toBe(0);
      const clones = await Promise.all(Array.from({ length: 5 }, () => clone(t.remote(app))));
      await Promise.all(clones.map((c, i) => c.commit(nodeApp(`pusher ${i}`), `pusher ${i}`)));

      const [pushes, deploys] = await Promise.all([
        Promise.all(clones.map((c) => c.push(t.remote(app)))),
        Promise.all([0, 1, 2].map(() => t.api('POST', '/deploy', { app, runtime: 'node', repo: apiRepo.url }))),
      ]);

      for (const push of pushes) {
        if (push.code !== 0) expect(push.output).toMatch(/moved to [0-9a-f]{7} \(another push deployed it\)/);
      }
      for (const res of deploys) {
        expect([200, 409], res.text).toContain(res.status);
        if (res.status === 409) expect(res.json.error).toMatch(/a deploy of .* is already running; try again when it has finished/);
      }
      const released = pushes.filter((p) => p.code === 0).length + deploys.filter((d) => d.status === 200).length;
      expect(released).toBeGreaterThan(0);
      // Every accepted request made exactly one release, and nothing is left running.
      expect(t.server.store.listReleases(app)).toHaveLength(1 + released);
      const record = t.server.store.getApp(app)!;
      // The last release came from a push (the app's repo is then null) or from the API.
      const expected = record.repo === null ? /^pusher \d / : /^from the api /;
      expect((await httpGet(record.port))?.body).toMatch(expected);
      await eventually(async () => {
        const containers = await t.docker.listOwnedContainers(app);
        expect(containers.map((c) => c.name)).toEqual([record.container]);
      });
      expect(t.server.store.listDeploys(app).filter((d) => d.status === 'running')).toEqual([]);
    } finally {
      await source.close();
    }
  });
});

describe('a push that waits behind a failing one', () => {
  const app = uniqueName('queue');
  /** The clone whose push deployed; the next test builds on it. */
  let deployed: AppRepo | undefined;

  it('deploys once the failing deploy is done', async () => {
    const origin = await AppRepo.create(nodeApp('base'));
    repos.unshift(origin);
    expect((await origin.push(t.remote(app))).code).toBe(0);
    const [slowBad, good] = await Promise.all([clone(t.remote(app)), clone(t.remote(app))]);
    deployed = good;
    await slowBad.commit(
      nodeApp('never', {
        'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: 'sleep 3; exit 1' } }),
      }),
      'slow and broken',
    );
    const goodSha = await good.commit(nodeApp('good after wait'), 'good');
    const first = slowBad.push(t.remote(app));
    // The second push arrives while the first one builds.
    await eventually(async () => expect(t.server.store.listDeploys(app)[0]?.status).toBe('running'), 20_000, 20);
    const second = await good.push(t.remote(app));
    const firstResult = await first;
    expect(firstResult.code).not.toBe(0);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain(`Waiting for the deploy of ${app} that is running`);
    expect(t.server.store.getRelease(app, t.server.store.getApp(app)!.release!)!.commit).toBe(goodSha);
    await expectConsistent(app, /^good after wait /);
  });

  it('API changes during a push get a 409 that says why, and change nothing', async () => {
    const before = t.server.store.getApp(app)!;
    // Not repos[last]: concurrent clones land in that list in any order.
    const repo = deployed!;
    await repo.commit(nodeApp('pushed while patching', {
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: 'sleep 2' } }),
    }), 'slowish');
    const push = repo.push(t.remote(app));
    await eventually(async () => expect(t.server.store.listDeploys(app)[0]?.status).toBe('running'), 20_000, 20);
    const patches = await Promise.all([1, 2, 3].map((i) => t.api('PATCH', `/apps/${app}/config`, { N: String(i) })));
    for (const res of patches) {
      expect(res.status).toBe(409);
      expect(res.json.error).toMatch(/a deploy of .* is already running/);
    }
    expect((await push).code).toBe(0);
    expect(t.server.store.getEnv(app)).toEqual(t.server.store.getRelease(app, before.release!)!.env);
    await expectConsistent(app, /^pushed while patching /);
  });
});
