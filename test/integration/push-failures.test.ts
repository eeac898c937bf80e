import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp, pythonApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Broken pushes: git push exits non-zero, the output says why, the previous release keeps
// serving, and nothing of the failed attempt is left behind.
let t: TestServer;
const app = uniqueName('broken');
let repo: AppRepo;
let port: number;

beforeAll(async () => {
  t = await startTestServer({ MINPAAS_HEALTH_TIMEOUT: '6' });
  repo = await AppRepo.create(nodeApp('good v1'));
  const push = await repo.push(t.remote(app));
  expect(push.code, push.output).toBe(0);
  port = t.server.store.getApp(app)!.port;
});

afterAll(async () => {
  await t?.cleanup();
  await repo?.remove();
});

const crashApp = nodeApp('crash', {
  'server.js': "console.log('crashing on purpose'); process.exit(3);\n",
});
const ignoresPortApp = nodeApp('wrong port', {
  'server.js': "require('http').createServer((q, s) => s.end('hi')).listen(4567, () => console.log('listening on 4567, not $PORT'));\n",
});
const failingInstall = nodeApp('bad build', {
  'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: 'echo install-fails-on-purpose; exit 7' } }),
});
// npm's own default (`node server.js`) would start it: without server.js nothing can.
const noStartScript = { ...nodeApp('no start'), 'package.json': JSON.stringify({ name: 'x', version: '1.0.0' }), 'server.js': null };
const pythonNoRequirements = (() => {
  const files: Record<string, string | null> = { ...pythonApp('py'), 'requirements.txt': null, 'package.json': null, 'server.js': null };
  return files;
})();
const badRequirements = { ...pythonApp('py'), 'requirements.txt': 'this is not a requirement!!\n', 'package.json': null, 'server.js': null };

describe.each([
  ['a build step fails', failingInstall, /build failed: .*returned a non-zero code: 7/, /install-fails-on-purpose/],
  ['pip cannot install requirements', badRequirements, /build failed/, /requirement/i],
  ['python without requirements.txt', pythonNoRequirements, /app.py alone is not enough: add a requirements.txt \(it may be empty\)/, null],
  ['node without a start script', noStartScript, /node runtime does not know how to start the app: add a "start" script/, null],
  ['the app crashes on start', crashApp, /health check failed: the app exited \(code 3\)/, /crashing on purpose/],
  ['the app ignores PORT', ignoresPortApp, /health check failed: the app did not answer HTTP within 6 s; does it listen on \$PORT\?/, /listening on 4567/],
] as const)('when %s', (_what, files, reason, detail) => {
  it('the push is rejected with the reason, v1 keeps serving, nothing is left behind', async () => {
    const imagesBefore = (await t.docker.listOwnedImages(app)).map((i) => i.tags.join(',')).sort();
    const headBefore = (await repo.git('ls-remote', t.remote(app), 'refs/heads/main')).stdout;
    await repo.commit(files as Record<string, string | null>, 'broken');

    const push = await repo.push(t.remote(app));

    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/remote: +!     \S/);
    expect(push.output).toMatch(reason);
    if (detail) expect(push.output).toMatch(detail);
    expect(push.output).toContain('pre-receive hook declined');
    // The branch keeps its old commit; the old release serves, untouched.
    expect((await repo.git('ls-remote', t.remote(app), 'refs/heads/main')).stdout).toBe(headBefore);
    expect((await httpGet(port))?.body).toMatch(/^good v1 /);
    const record = t.server.store.getApp(app)!;
    expect(record.release).toBe(1);
    expect(t.server.store.listReleases(app)).toHaveLength(1);
    expect(t.server.store.listDeploys(app)[0]!.status).toBe('failed');
    const containers = await t.docker.listOwnedContainers(app);
    expect(containers.map((c) => c.name)).toEqual([`minpaas-${app}-v1-web-1`]);
    expect((await t.docker.listOwnedImages(app)).map((i) => i.tags.join(',')).sort()).toEqual(imagesBefore);
    // Back to the good tree for the next case.
    await repo.git('reset', '-q', '--hard', 'HEAD~1');
  });
});

it('after all of that, a good push still deploys v2', async () => {
  await repo.commit(nodeApp('good v2'), 'good again');
  const push = await repo.push(t.remote(app));
  expect(push.code, push.output).toBe(0);
  expect((await httpGet(port))?.body).toMatch(/^good v2 /);
  expect(t.server.store.getApp(app)!.release).toBe(2);
});
