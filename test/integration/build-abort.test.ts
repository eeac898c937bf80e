import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run } from '../helpers/git.js';
import { serveGitRepos } from '../helpers/git-http-server.js';
import { eventually } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

/** A build stops when the client that asked for it goes away, instead of running on for nobody. */

let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

/** A build whose install step prints and sleeps for two minutes; the app name is in its command line. */
async function slowBuildRepo(app: string): Promise<AppRepo> {
  const install = `for i in $(seq 1 120); do echo still building ${app}; sleep 1; done`;
  const repo = await AppRepo.create(
    nodeApp('slow', { 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install } }) }),
  );
  repos.push(repo);
  return repo;
}

/** The install step's shell, seen in the host's process list (a container's processes are host processes). */
async function buildContainerRuns(app: string): Promise<boolean> {
  const ps = await run('ps', ['-eww', '-o', 'args']);
  return ps.stdout.split('\n').some((line) => line.includes(`still building ${app}`) && !line.startsWith('git '));
}

describe('a build whose client goes away', () => {
  it('git push killed mid-build: the build container stops and nothing is released', async () => {
    const app = uniqueName('abort-push');
    const repo = await slowBuildRepo(app);
    // Its own process group, so the kill reaches git-remote-http too, as Ctrl-C would.
    const git = spawn('git', ['push', t.remote(app), 'main'], { cwd: repo.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    git.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await eventually(async () => expect(output).toContain(`still building ${app}`), 120_000, 100);
    expect(await buildContainerRuns(app)).toBe(true);
    process.kill(-git.pid!, 'SIGKILL');
    await eventually(async () => expect(await buildContainerRuns(app)).toBe(false), 60_000, 500);
    await eventually(async () => expect(t.server.store.getApp(app)?.release ?? null).toBeNull(), 30_000, 200);
    expect(await t.docker.listOwnedImages(app)).toEqual([]);
  });

  it('an API deploy whose client disconnects: the build stops too', async () => {
    const app = uniqueName('abort-api');
    const repo = await slowBuildRepo(app);
    const src = await serveGitRepos();
    try {
      const bare = await src.bare('source');
      expect((await repo.push(bare.dir, 'main')).code).toBe(0);
      const client = new AbortController();
      const res = await fetch(`${t.url}/deploy?stream=1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ app, runtime: 'node', repo: bare.url }),
        signal: client.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(`still building ${app}`)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the deploy ended before its build ran: ${text}`);
        text += new TextDecoder().decode(value);
      }
      expect(await buildContainerRuns(app)).toBe(true);
      client.abort();
      await eventually(async () => expect(await buildContainerRuns(app)).toBe(false), 60_000, 500);
      expect(t.server.store.getApp(app)?.release ?? null).toBeNull();
    } finally {
      await src.close();
    }
  });
});
