import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// Apps before their first deploy, failed first pushes, and what a push leaves under an
// app name (issue 8 item 5, issue 7 item 10).
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer({ MINPAAS_HEALTH_TIMEOUT: '8' });
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

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli([...args, '--url', t.url, '--token', TEST_TOKEN], { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
const repoDir = (app: string): string => path.join(t.dataDir, 'repos', `${app}.git`);
const workspace = (app: string): string => path.join(t.dataDir, 'workspaces', app);

/** Binds 0.0.0.0 only when BIND_ALL is set: on its own it cannot pass the health check. */
const needsConfig = nodeApp('configured first', {
  'server.js': `const http = require('http');
const host = process.env.BIND_ALL === 'yes' ? '0.0.0.0' : '127.0.0.1';
http.createServer((req, res) => res.end('configured first greeting=' + (process.env.GREETING || '') + '\\n'))
  .listen(Number(process.env.PORT), host, () => console.log('listening on ' + host));
`,
});

function rawGit(method: string, pathname: string, body?: Buffer): Promise<{ status: number; body: Buffer; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}` };
    const req = http.request({ host: '127.0.0.1', port: t.server.port, method, path: pathname, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('an app before its first deploy', () => {
  it('apps:create makes an empty app; config set before the first push reaches it, and the push serves', async () => {
    const app = uniqueName('first');
    const created = await cli('apps:create', app, '--runtime', 'node');
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain(`Created ${app}`);
    const record = (await t.api('GET', `/apps/${app}`)).json;
    expect(record).toMatchObject({ name: app, runtime: 'node', builder: 'platform', release: null, status: 'new', container: null });
    expect(record.port).toBeGreaterThan(0);
    expect((await t.api('GET', '/apps')).json.map((a: { name: string }) => a.name)).toContain(app);

    const config = await t.api('PATCH', `/apps/${app}/config`, { BIND_ALL: 'yes', GREETING: 'early' });
    expect(config.status, config.text).toBe(200);
    expect(config.json).toEqual({ config: { BIND_ALL: 'yes', GREETING: 'early' }, release: null });
    expect(t.server.store.listDeploys(app)).toHaveLength(0);

    const repo = await newRepo(needsConfig);
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    expect(push.output).not.toContain('Created app');
    expect((await httpGet(record.port))?.body).toBe('configured first greeting=early\n');
    expect((await t.api('GET', `/apps/${app}`)).json).toMatchObject({ release: 1, port: record.port, status: 'running' });
  });

  it('POST /apps refuses a taken name (409), a bad name or runtime or builder (400)', async () => {
    const app = uniqueName('taken');
    expect((await t.api('POST', '/apps', { name: app })).status).toBe(201);
    const again = await t.api('POST', '/apps', { name: app });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/exists already/);
    expect((await t.api('POST', '/apps', { name: 'Bad_Name' })).status).toBe(400);
    expect((await t.api('POST', '/apps', { name: uniqueName('x'), runtime: 'ruby' })).json.error).toMatch(/runtime must be/);
    expect((await t.api('POST', '/apps', { name: uniqueName('x'), builder: 'kaniko' })).json.error).toMatch(/builder must be/);
    // builder:set refuses unknown builders and unknown apps, and changes nothing.
    expect((await t.api('PUT', `/apps/${app}/builder`, { builder: 'kaniko' })).status).toBe(400);
    expect((await t.api('PUT', `/apps/${app}/builder`, {})).status).toBe(400);
    expect((await t.api('PUT', `/apps/${uniqueName('none')}/builder`, { builder: 'dockerfile' })).status).toBe(404);
    expect((await t.api('GET', `/apps/${app}`)).json.builder).toBe('platform');
    for (const body of [[], 'x', { name: '' }, { name: 'a'.repeat(31) }, { name: app.toUpperCase() }]) {
      expect((await t.api('POST', '/apps', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
  });

  it('a failed first push keeps the app (status failed, no release), its config and its deploy log; DELETE removes everything', async () => {
    const app = uniqueName('failfirst');
    const repo = await newRepo(needsConfig);
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/health check failed/);
    const record = (await t.api('GET', `/apps/${app}`)).json;
    expect(record).toMatchObject({ name: app, release: null, status: 'failed', container: null });
    const deploys = (await t.api('GET', `/apps/${app}/deploys`)).json;
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({ status: 'failed' });
    const log = await t.api('GET', `/apps/${app}/deploys/${deploys[0].id}/log`);
    expect(log.text).toMatch(/Building image/);
    expect(log.text).toMatch(/health check failed/);
    expect(await t.docker.listOwnedContainers(app)).toEqual([]);

    // Config is stored (no deploy), and the next push uses it.
    expect((await t.api('PATCH', `/apps/${app}/config`, { BIND_ALL: 'yes' })).json).toMatchObject({ release: null });
    const second = await repo.push(t.remote(app));
    expect(second.code, second.output).toBe(0);
    expect((await httpGet(record.port))?.body).toBe('configured first greeting=\n');

    const del = await t.api('DELETE', `/apps/${app}`);
    expect(del.status, del.text).toBe(200);
    expect((await t.api('GET', `/apps/${app}`)).status).toBe(404);
    expect(await exists(repoDir(app))).toBe(false);
    expect(await exists(workspace(app))).toBe(false);
    expect(await t.docker.listOwnedContainers(app)).toEqual([]);
    expect(await t.docker.listOwnedImages(app)).toEqual([]);
  });

  it('a duplicate Procfile entry refuses the push with the line, before any build', async () => {
    const app = uniqueName('dupproc');
    const repo = await newRepo(nodeApp('dup', { Procfile: 'web: node server.js\nworker: node w.js\nweb: node other.js\n' }));
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.output).toContain('remote:  !     Procfile line 3: process type web is defined twice; keep one line per type');
    expect(push.output).not.toContain('Building image');
  });
});

describe('what a push leaves under an app name', () => {
  it('a bare info/refs request creates nothing and answers as an empty repo', async () => {
    const app = uniqueName('probe');
    const res = await rawGit('GET', `/${app}.git/info/refs?service=git-receive-pack`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/x-git-receive-pack-advertisement');
    expect(res.body.toString()).toContain('# service=git-receive-pack');
    expect(res.body.toString()).toContain('capabilities^{}');
    expect(await exists(repoDir(app))).toBe(false);
    expect((await t.api('GET', `/apps/${app}`)).status).toBe(404);
    // Fetching an app that has no repo stays a 404.
    expect((await rawGit('GET', `/${app}.git/info/refs?service=git-upload-pack`)).status).toBe(404);
  });

  it('a push of only a non-main branch creates a listed app (no release) that DELETE removes with its repo', async () => {
    const app = uniqueName('branchonly');
    const repo = await newRepo(nodeApp('feature only'));
    const push = await repo.push(t.remote(app), 'main:feature');
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('Branch feature stored, not deployed');
    expect((await t.api('GET', '/apps')).json.find((a: { name: string }) => a.name === app)).toMatchObject({ release: null, status: 'new' });
    expect(await exists(repoDir(app))).toBe(true);
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect(await exists(repoDir(app))).toBe(false);
    expect((await t.api('GET', `/apps/${app}`)).status).toBe(404);
  });

  it('a push that stores no ref (refs/notes) leaves no repo behind', async () => {
    const app = uniqueName('noref');
    const repo = await newRepo(nodeApp('notes'));
    const push = await repo.push(t.remote(app), 'HEAD:refs/notes/x');
    expect(push.code).not.toBe(0);
    expect((await t.api('GET', `/apps/${app}`)).status).toBe(404);
    // The repo goes once the request has closed.
    for (let i = 0; i < 50 && (await exists(repoDir(app))); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await exists(repoDir(app))).toBe(false);
  });

  it('a repo and a workspace without an app record (left by an older version) get records at start-up: listed, deletable', async () => {
    const [repoOnly, workspaceOnly] = [uniqueName('oldrepo'), uniqueName('oldws')];
    await fs.mkdir(path.join(repoDir(repoOnly), 'objects'), { recursive: true });
    await fs.writeFile(path.join(repoDir(repoOnly), 'HEAD'), 'ref: refs/heads/main\n');
    await fs.mkdir(workspace(workspaceOnly), { recursive: true });
    // What start-up runs.
    expect(await t.server.apps.adoptLeftovers()).toEqual([repoOnly, workspaceOnly].sort());
    const listed = (await t.api('GET', '/apps')).json.filter((a: { name: string }) => a.name === repoOnly || a.name === workspaceOnly);
    expect(listed.map((a: { status: string; release: null }) => [a.status, a.release])).toEqual([['new', null], ['new', null]]);
    for (const app of [repoOnly, workspaceOnly]) expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect(await exists(repoDir(repoOnly))).toBe(false);
    expect(await exists(workspace(workspaceOnly))).toBe(false);
    expect(await t.server.apps.adoptLeftovers()).toEqual([]);
  });

  it('DELETE removes a repo and workspace that have no app record (e.g. made after start-up by a crash); then it is a 404', async () => {
    const app = uniqueName('orphan');
    await fs.mkdir(path.join(repoDir(app), 'objects'), { recursive: true });
    await fs.writeFile(path.join(repoDir(app), 'HEAD'), 'ref: refs/heads/main\n');
    await fs.mkdir(workspace(app), { recursive: true });
    const del = await t.api('DELETE', `/apps/${app}`);
    expect(del.status, del.text).toBe(200);
    expect(await exists(repoDir(app))).toBe(false);
    expect(await exists(workspace(app))).toBe(false);
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(404);
  });
});
