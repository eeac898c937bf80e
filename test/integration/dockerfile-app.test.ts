import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { serveGitRepos } from '../helpers/git-http-server.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// Apps that opted into their own Dockerfile: same labels, health check, swap, rollback.
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli([...args, '--url', t.url, '--token', TEST_TOKEN], { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const ESC = '\u001b';
/** Its own build: a different workdir, port 8080 from EXPOSE, coloured build output. */
const ownDockerfile = `FROM minpaas-base/node:bookworm
WORKDIR /srv
COPY server.js .
RUN printf '${ESC}[1;32m-----> Custom stage from the app Dockerfile${ESC}[0m\\n' \\
 && printf 'plain ${ESC}[31mred${ESC}[0m detail\\n'
EXPOSE 8080
CMD ["node", "server.js"]
`;

describe('an app with its own Dockerfile', () => {
  const app = uniqueName('ownfile');
  let repo: AppRepo;
  let port: number;

  it('is ignored without the opt-in, with a warning that says how to opt in', async () => {
    repo = await AppRepo.create(nodeApp('platform v1', { Dockerfile: ownDockerfile }));
    repos.push(repo);
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('remote:  !     Warning: the Dockerfile in the repository is ignored');
    expect(push.output).toContain('minpaas builder:set APP dockerfile');
    expect(push.output).not.toContain('Custom stage');
    port = t.server.store.getApp(app)!.port;
    expect((await httpGet(port))?.body).toBe('platform v1 port=3000 greeting=\n');
  });

  it('builder:set APP dockerfile: the next push builds it; $PORT is its EXPOSE port; stages shown, ANSI and Docker steps not', async () => {
    const set = await cli('builder:set', app, 'dockerfile');
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('now builds with its own Dockerfile');
    expect((await t.api('GET', `/apps/${app}`)).json.builder).toBe('dockerfile');

    await repo.commit(nodeApp('own v2', { Dockerfile: ownDockerfile }), 'v2');
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain("remote: -----> Building the app's own Dockerfile ($PORT=8080)");
    expect(push.output).toMatch(/remote: -----> Custom stage from the app Dockerfile\s*\n/);
    expect(push.output).toMatch(/remote:        plain red detail\s*\n/);
    expect(push.output).not.toContain(ESC);
    expect(push.output).not.toMatch(/Step \d+\/\d+ :|---> Running in|Removing intermediate container|Successfully (built|tagged)/);
    expect(push.output).toContain('remote: -----> Health check passed');
    expect((await httpGet(port))?.body).toBe('own v2 port=8080 greeting=\n');
    // The stored log has no ANSI codes either.
    const deploy = (await t.api('GET', `/apps/${app}/deploys`)).json[0];
    expect((await t.api('GET', `/apps/${app}/deploys/${deploy.id}/log`)).text).not.toContain(ESC);
    // Labelled like every MinPaas image; the release records its port and web command.
    expect((await t.docker.listOwnedImages(app)).some((i) => i.tags.includes(`minpaas/${app}:v2`))).toBe(true);
    const [v2] = (await t.api('GET', `/apps/${app}/releases`)).json;
    expect(v2).toMatchObject({ number: 2, listenPort: 8080, processTypes: { web: 'node server.js' } });
  });

  it('config changes and rollbacks keep each release port: back to v1 (platform image), then to v2 (own image)', async () => {
    const config = await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'hi' });
    expect(config.status, config.text).toBe(200);
    expect((await httpGet(port))?.body).toBe('own v2 port=8080 greeting=hi\n');
    const back = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
    expect(back.status, back.text).toBe(200);
    expect((await httpGet(port))?.body).toBe('platform v1 port=3000 greeting=\n');
    const forth = await t.api('POST', `/apps/${app}/rollback`, { release: 3 });
    expect(forth.status, forth.text).toBe(200);
    expect((await httpGet(port))?.body).toBe('own v2 port=8080 greeting=hi\n');
    const releases = (await t.api('GET', `/apps/${app}/releases`)).json;
    expect(releases.map((r: { number: number; listenPort: number | null }) => [r.number, r.listenPort])).toEqual([[5, 8080], [4, 3000], [3, 8080], [2, 8080], [1, 3000]]);
    expect(releases[0].processTypes).toEqual({ web: 'node server.js' });
  });
});

it('POST /apps with builder dockerfile and a repo without a Dockerfile: a clear error that names the way back', async () => {
  const app = uniqueName('nofile');
  expect((await t.api('POST', '/apps', { name: app, builder: 'dockerfile' })).json).toMatchObject({ builder: 'dockerfile', release: null });
  const repo = await AppRepo.create(nodeApp('no dockerfile'));
  repos.push(repo);
  const push = await repo.push(t.remote(app));
  expect(push.code).not.toBe(0);
  expect(push.output).toContain(`builds its own Dockerfile, but the repository has no Dockerfile at its top level; add one, or switch back with: minpaas builder:set ${app} platform`);
  expect((await cli('builder:set', app, 'buildpack')).code).toBe(0);
  expect((await t.api('GET', `/apps/${app}`)).json.builder).toBe('platform');
  expect((await cli('builder:set', app, 'kaniko')).err).toMatch(/builder must be "platform"/);
});

it('POST /deploy {builder: "dockerfile"} without a runtime builds the repo\'s Dockerfile and stores the builder', async () => {
  const src = await serveGitRepos();
  const repo = await AppRepo.create(nodeApp('deployed own', { Dockerfile: ownDockerfile }));
  repos.push(repo);
  try {
    const { dir, url } = await src.bare('own');
    expect((await repo.push(dir, 'main')).code).toBe(0);
    const app = uniqueName('apiown');
    const res = await t.api('POST', '/deploy', { app, repo: url, builder: 'dockerfile' });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ name: app, builder: 'dockerfile', release: 1, status: 'running' });
    expect((await httpGet(res.json.port))?.body).toBe('deployed own port=8080 greeting=\n');
    // Without the builder, a runtime stays required.
    const bad = await t.api('POST', '/deploy', { app: uniqueName('apinort'), repo: url });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/runtime must be/);
  } finally {
    await src.close();
  }
});
