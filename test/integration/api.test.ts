import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppRepo } from '../helpers/git.js';
import { serveGitRepos, type GitRepoServer } from '../helpers/git-http-server.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// The admin API for real: POST /deploy clones from a smart-HTTP git server started here,
// builds on the Docker engine and serves through HAProxy; then config, releases,
// rollback, logs, deploys, 409 on a concurrent deploy, and DELETE.

/** A node app without dependencies that prints one line per request (for `logs?follow=1`). */
function loggingApp(message: string, packageExtra: Record<string, unknown> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'api-fixture', version: '1.0.0', scripts: { start: 'node server.js', ...packageExtra } }, null, 2),
    'server.js': `const http = require('http');
http.createServer((req, res) => {
  console.log('request ' + req.url);
  res.end(${JSON.stringify(message)} + ' greeting=' + (process.env.GREETING || '') + '\\n');
}).listen(Number(process.env.PORT), () => console.log('booted ${message} on ' + process.env.PORT));
`,
  };
}

let t: TestServer;
let src: GitRepoServer;
let repo: AppRepo;
let repoUrl: string;
let bareDir: string;
const app = uniqueName('api');
const branchApp = uniqueName('api-branch');
const slowApp = uniqueName('api-slow');
let port: number;
let branchPort: number;

beforeAll(async () => {
  t = await startTestServer();
  src = await serveGitRepos();
  ({ dir: bareDir, url: repoUrl } = await src.bare('source'));
  repo = await AppRepo.create(loggingApp('hello v1'));
  expect((await repo.push(bareDir, 'main')).code).toBe(0);
});

afterAll(async () => {
  await t?.cleanup();
  await src?.close();
  await repo?.remove();
});

const body = async (p: number): Promise<string | undefined> => (await httpGet(p))?.body;

/**
 * Open follow-mode log requests from this process (the server runs in it) to the Docker
 * engine: sockets still carrying a `GET /containers/ID/logs?…follow=…` request.
 */
function dockerLogFollows(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => {
    if (!(h instanceof net.Socket) || h.destroyed) return false;
    const request = (h as unknown as { _httpMessage?: { path?: unknown } | null })._httpMessage;
    return /\/containers\/[^/]+\/logs\?.*follow=(true|1)/.test(String(request?.path ?? ''));
  }).length;
}

/** Releases of `app` as the API lists them. */
async function releases(name = app): Promise<{ number: number; imageId: string; env: Record<string, string>; kind: string }[]> {
  const res = await t.api('GET', `/apps/${name}/releases`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

describe('POST /deploy from a git URL', () => {
  it('clones, builds, releases and answers with the app record once it serves', async () => {
    const res = await t.api('POST', '/deploy', { app, runtime: 'node', repo: repoUrl, env: { GREETING: 'hello' } });
    expect(res.status, res.text).toBe(200);
    const rec = res.json;
    port = rec.port;
    expect(rec).toMatchObject({
      name: app,
      runtime: 'node',
      repo: repoUrl,
      container: `minpaas-${app}-v1-web-1`,
      image: `minpaas/${app}:v1`,
      url: `http://127.0.0.1:${port}`,
      env: { GREETING: 'hello' },
      release: 1,
      status: 'running',
    });
    expect(port).toBeGreaterThanOrEqual(10000);
    for (const key of ['createdAt', 'updatedAt']) expect(Number.isNaN(Date.parse(rec[key])), key).toBe(false);
    expect(await body(port)).toBe('hello v1 greeting=hello\n');
    expect((await t.api('GET', `/apps/${app}`)).json).toMatchObject({ name: app, release: 1, port });
  });

  it('a redeploy with a new commit serves the new content on the same port, config kept', async () => {
    await repo.commit(loggingApp('hello v2'), 'v2');
    expect((await repo.push(bareDir, 'main')).code).toBe(0);
    const res = await t.api('POST', '/deploy', { app, runtime: 'node', repo: repoUrl });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ name: app, release: 2, port, status: 'running', env: { GREETING: 'hello' } });
    expect(await body(port)).toBe('hello v2 greeting=hello\n');
  });

  it('deploys another branch when asked', async () => {
    await repo.git('checkout', '-q', '-b', 'feature');
    await repo.commit(loggingApp('on feature'), 'feature');
    expect((await repo.push(bareDir, 'feature')).code).toBe(0);
    await repo.git('checkout', '-q', 'main');
    const res = await t.api('POST', '/deploy', { app: branchApp, runtime: 'node', repo: repoUrl, branch: 'feature' });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ name: branchApp, branch: 'feature', release: 1, status: 'running' });
    branchPort = res.json.port;
    expect(branchPort).not.toBe(port);
    expect(await body(branchPort)).toBe('on feature greeting=\n');
  });

  it('a declared runtime that does not match the files is a 422; v2 keeps serving', async () => {
    const res = await t.api('POST', '/deploy', { app, runtime: 'python', repo: repoUrl });
    expect(res.status, res.text).toBe(422);
    expect(res.json.error).toMatch(/declared as python.*node app/);
    expect(await body(port)).toBe('hello v2 greeting=hello\n');
    expect((await releases()).map((r) => r.number)).toEqual([2, 1]);
  });

  it('a failing build is a 422 with the build log tail; v2 and its config stay', async () => {
    await repo.git('checkout', '-q', '-b', 'broken');
    await repo.commit(loggingApp('broken', { install: 'echo install-fails-on-purpose; exit 7' }), 'broken');
    expect((await repo.push(bareDir, 'broken')).code).toBe(0);
    await repo.git('checkout', '-q', 'main');
    const res = await t.api('POST', '/deploy', { app, runtime: 'node', repo: repoUrl, branch: 'broken', env: { GREETING: 'never' } });
    expect(res.status, res.text).toBe(422);
    expect(res.json.error).toMatch(/build failed/);
    expect(Array.isArray(res.json.details)).toBe(true);
    expect(res.json.details.join('\n')).toContain('install-fails-on-purpose');
    expect(await body(port)).toBe('hello v2 greeting=hello\n');
    expect((await t.api('GET', `/apps/${app}/config`)).json).toEqual({ GREETING: 'hello' });
    expect((await t.api('GET', `/apps/${app}`)).json).toMatchObject({ release: 2, branch: null, container: `minpaas-${app}-v2-web-1` });
    expect((await t.docker.listOwnedContainers(app)).map((c) => c.name)).toEqual([`minpaas-${app}-v2-web-1`]);
  });
});

describe('config, releases and rollback', () => {
  it('PATCH sets a var: a new release on the same image, no build', async () => {
    const res = await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'hi' });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ config: { GREETING: 'hi' }, release: 3 });
    const [v3, v2] = await releases();
    expect(v3).toMatchObject({ number: 3, kind: 'config', env: { GREETING: 'hi' } });
    expect(v3!.imageId).toBe(v2!.imageId);
    expect(await body(port)).toBe('hello v2 greeting=hi\n');
    const deploys = (await t.api('GET', `/apps/${app}/deploys`)).json as { id: number; source: string }[];
    const configDeploy = deploys.find((d) => d.source === 'config')!;
    const log = await t.api('GET', `/apps/${app}/deploys/${configDeploy.id}/log`);
    expect(log.status).toBe(200);
    expect(log.text).not.toContain('Building image');
  });

  it('PATCH with null unsets it; GET shows the config', async () => {
    expect((await t.api('PATCH', `/apps/${app}/config`, { OTHER: 'x' })).status).toBe(200);
    const res = await t.api('PATCH', `/apps/${app}/config`, { GREETING: null });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ config: { OTHER: 'x' }, release: 5 });
    expect(await body(port)).toBe('hello v2 greeting=\n');
    const config = await t.api('GET', `/apps/${app}/config`);
    expect(config.status).toBe(200);
    expect(config.json).toEqual({ OTHER: 'x' });
    expect((await releases())[0]!.imageId).toBe((await releases()).find((r) => r.number === 2)!.imageId);
  });

  it('PORT and invalid names are refused with a 400 and change nothing', async () => {
    for (const change of [{ PORT: '8080' }, { '1A': 'x' }, { 'A-B': 'x' }, { GREETING: 'ok', 'BAD NAME': 'x' }]) {
      const res = await t.api('PATCH', `/apps/${app}/config`, change);
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(typeof res.json.error).toBe('string');
    }
    expect((await t.api('PATCH', `/apps/${app}/config`, { PORT: '1' })).json.error).toMatch(/PORT/);
    expect((await t.api('GET', `/apps/${app}/config`)).json).toEqual({ OTHER: 'x' });
    expect((await releases())[0]!.number).toBe(5);
  });

  it('releases are newest first; rollback to v1 runs its image and config as a new release', async () => {
    const list = await releases();
    expect(list.map((r) => r.number)).toEqual([5, 4, 3, 2, 1]);
    const v1 = list.find((r) => r.number === 1)!;
    const res = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ name: app, release: 6, env: { GREETING: 'hello' }, status: 'running' });
    const [v6] = await releases();
    expect(v6).toMatchObject({ number: 6, kind: 'rollback', imageId: v1.imageId, env: v1.env });
    expect(await body(port)).toBe('hello v1 greeting=hello\n');
  });

  it('rollback to a release that does not exist is a 404', async () => {
    const res = await t.api('POST', `/apps/${app}/rollback`, { release: 99 });
    expect(res.status, res.text).toBe(404);
    expect(res.json.error).toMatch(/v99/);
    expect((await releases())[0]!.number).toBe(6);
  });
});

describe('logs and deploys', () => {
  it('logs?tail=N has what the app printed', async () => {
    const res = await t.api('GET', `/apps/${app}/logs?tail=50`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('booted hello v1');
  });

  it('logs?follow=1 streams a line printed after the request began, until the client leaves', async () => {
    const marker = `/follow-${Math.random().toString(36).slice(2)}`;
    expect(dockerLogFollows()).toBe(0);
    const req = http.get(`${t.url}/apps/${app}/logs?follow=1&tail=0`, { headers: { authorization: `Bearer ${TEST_TOKEN}` }, agent: false });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    let seen = '';
    const got = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "request ${marker}" in the followed logs; got: ${seen}`)), 30_000);
      res.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (seen.includes(`request ${marker}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Printed after the stream began: the app logs each request's URL.
    expect((await httpGet(port, marker))?.status).toBe(200);
    await got;
    expect(seen).not.toContain('booted');
    expect(dockerLogFollows()).toBe(1);
    const closed = new Promise<void>((resolve) => res.on('close', resolve));
    req.on('error', () => undefined);
    req.destroy();
    await closed;
    expect(res.destroyed).toBe(true);
    // The server notices and stops reading from Docker (bounded wait, not a timing check).
    await vi.waitFor(() => expect(dockerLogFollows()).toBe(0), { timeout: 10_000, interval: 100 });
    // The server is unharmed and its later requests work.
    expect((await httpGet(port, `${marker}-after`))?.status).toBe(200);
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    expect((await t.api('GET', `/apps/${app}/logs?tail=5`)).text).toContain(`request ${marker}-after`);
  });

  it('deploys are listed and each keeps its log', async () => {
    const res = await t.api('GET', `/apps/${app}/deploys`);
    expect(res.status).toBe(200);
    const deploys = res.json as { id: number; source: string; status: string; release: number | null; error: string | null }[];
    expect(deploys.filter((d) => d.source === 'api').map((d) => d.status).sort()).toEqual(['failed', 'failed', 'succeeded', 'succeeded']);
    const v1 = deploys.find((d) => d.source === 'api' && d.release === 1)!;
    const log = await t.api('GET', `/apps/${app}/deploys/${v1.id}/log`);
    expect(log.status).toBe(200);
    expect(log.text).toContain(`-----> Cloning ${repoUrl}`);
    expect(log.text).toContain('-----> Building image');
    // Docker's bookkeeping (step headers, layer IDs) is not part of the log.
    expect(log.text).not.toMatch(/Step \d+\/\d+ : |---> Running in|Successfully built/);
    expect(log.text).toContain('-----> Released v1');
    const failed = deploys.find((d) => d.status === 'failed' && /build failed/.test(d.error ?? ''))!;
    expect((await t.api('GET', `/apps/${app}/deploys/${failed.id}/log`)).text).toContain('install-fails-on-purpose');
    expect((await t.api('GET', `/apps/${app}/deploys/999999/log`)).status).toBe(404);
  });
});

describe('one deploy at a time', () => {
  it('a deploy while another deploy of the same app runs is a 409', async () => {
    const slow = await AppRepo.create(loggingApp('slow', { install: 'sleep 3', nonce: slowApp }));
    try {
      const { dir, url } = await src.bare('slow');
      expect((await slow.push(dir, 'main')).code).toBe(0);
      const first = await fetch(`${t.url}/deploy?stream=1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ app: slowApp, runtime: 'node', repo: url }),
      });
      expect(first.status).toBe(200);
      const reader = first.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      // Once the clone step is logged, the first deploy holds the app's lock.
      while (!text.includes('Cloning')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended early: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
      const second = await t.api('POST', '/deploy', { app: slowApp, runtime: 'node', repo: url });
      expect(second.status, second.text).toBe(409);
      expect(second.json.error).toMatch(/already running/);
      expect((await t.api('PATCH', `/apps/${slowApp}/config`, { A: 'b' })).status).toBe(409);
      expect((await t.api('DELETE', `/apps/${slowApp}`)).status).toBe(409);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const last = JSON.parse(text.trimEnd().split('\n').pop()!);
      expect(last.app, text).toMatchObject({ name: slowApp, release: 1, status: 'running' });
      expect(await body(last.app.port)).toBe('slow greeting=\n');
    } finally {
      await slow.remove();
    }
  });
});

describe('listing, health and DELETE', () => {
  it('GET /apps lists the apps; /healthz needs no token', async () => {
    const res = await t.api('GET', '/apps');
    expect(res.status).toBe(200);
    expect((res.json as { name: string }[]).map((a) => a.name).sort()).toEqual([app, branchApp, slowApp].sort());
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
  });

  it('DELETE removes containers, route, images, repo, workspace and records; other apps keep serving', async () => {
    // A branch push through the git remote gives the app a bare repo too (stored, not deployed).
    const push = await repo.push(t.remote(app), 'feature');
    expect(push.code, push.output).toBe(0);
    const repoDir = path.join(t.dataDir, 'repos', `${app}.git`);
    const workspace = path.join(t.dataDir, 'workspaces', app);
    const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
    expect(await exists(repoDir)).toBe(true);
    expect(await exists(workspace)).toBe(true);
    expect((await t.docker.listOwnedImages(app)).length).toBeGreaterThan(0);

    const res = await t.api('DELETE', `/apps/${app}`);
    expect(res.status, res.text).toBe(200);
    expect(await t.docker.listOwnedContainers(app)).toEqual([]);
    expect(await t.docker.listOwnedImages(app)).toEqual([]);
    expect(await httpGet(port)).toBeNull();
    expect(await exists(repoDir)).toBe(false);
    expect(await exists(workspace)).toBe(false);
    expect(t.server.store.getApp(app)).toBeFalsy();
    expect(t.server.store.listReleases(app)).toEqual([]);
    expect(t.server.store.listDeploys(app)).toEqual([]);
    for (const p of ['', '/config', '/releases', '/deploys', '/logs']) {
      expect((await t.api('GET', `/apps/${app}${p}`)).status, p).toBe(404);
    }
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(404);
    expect((await t.api('GET', '/apps')).json.map((a: { name: string }) => a.name)).not.toContain(app);
    expect(await body(branchPort)).toBe('on feature greeting=\n');
  });
});
