import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run } from '../helpers/git.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// Hostile and malformed input: every case gets its documented 4xx with a JSON {error}, and
// afterwards nothing exists that did not exist before: no app, container, image, repo,
// workspace, deploy row, nor the file an `ext::` URL would have touched.

const APP = uniqueName('hostile');
const NEW = uniqueName('hostile-new');
const MARKER = path.join(os.tmpdir(), `minpaas-marker-${Math.random().toString(36).slice(2)}`);
const GOOD_REPO = 'http://127.0.0.1:9/nothing-listens-here.git';
const ZERO = '0'.repeat(40);

let t: TestServer;
let repo: AppRepo;
let before: unknown;

interface Case {
  what: string;
  method: string;
  path: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `type` (default application/json). */
  raw?: string;
  type?: string;
  status: number;
  error?: RegExp;
}

const deploy = (over: Record<string, unknown>): Record<string, unknown> => ({ app: NEW, runtime: 'node', repo: GOOD_REPO, ...over });
const deployCase = (what: string, over: Record<string, unknown>, error?: RegExp): Case => ({
  what,
  method: 'POST',
  path: '/deploy',
  json: deploy(over),
  status: 400,
  ...(error ? { error } : {}),
});
/** A /deploy body lacking `key`. */
const without = (key: string, error: RegExp): Case => {
  const json = deploy({});
  delete json[key];
  return { what: `no ${key}`, method: 'POST', path: '/deploy', json, status: 400, error };
};

const cases: Case[] = [
  // App names, in a /deploy body…
  ...(
    [
      'app; rm -rf /', '../x', '-x', 'a'.repeat(300), 'a'.repeat(31), 'café', 'ａｐｐ', '🚀app', 'MyApp', 'app-', '', 'app name',
      'app\nname', '1app', 'app.git', 'app/x', `$(touch ${MARKER})`, 'app_x',
    ] as const
  ).map((name) => deployCase(`app name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}…(${name.length})` : name)}`, { app: name }, /invalid app name/)),
  ...([123, null, ['app'], { name: 'app' }, true] as const).map((name) => deployCase(`app name of type ${JSON.stringify(name)}`, { app: name }, /invalid app name/)),
  without('app', /invalid app name/),
  // …and in paths.
  { what: 'path name ../x', method: 'GET', path: '/apps/..%2Fx', status: 400, error: /invalid app name/ },
  { what: 'path name with ;', method: 'GET', path: '/apps/app%3B%20rm%20-rf%20%2F/config', status: 400 },
  { what: 'path name -x', method: 'DELETE', path: '/apps/-x', status: 400 },
  { what: 'path name uppercase', method: 'DELETE', path: '/apps/MyApp', status: 400 },
  { what: 'path name bad percent-encoding', method: 'GET', path: '/apps/%E0%A4%A/releases', status: 400 },
  { what: 'unknown app', method: 'GET', path: '/apps/no-such-app', status: 404, error: /no app named no-such-app/ },
  { what: 'unknown app rollback', method: 'POST', path: '/apps/no-such-app/rollback', json: { release: 1 }, status: 404 },
  { what: 'unknown app config', method: 'PATCH', path: '/apps/no-such-app/config', json: { A: 'b' }, status: 404 },
  { what: 'unknown app delete', method: 'DELETE', path: '/apps/no-such-app', status: 404 },
  { what: 'unknown app logs', method: 'GET', path: '/apps/no-such-app/logs', status: 404 },
  { what: 'unknown app deploy log', method: 'GET', path: '/apps/no-such-app/deploys/1/log', status: 404 },
  // Repo URLs: only http(s).
  ...(
    [
      'file:///etc', `ext::sh -c touch% ${MARKER}`, `ext::sh%20-c%20touch%20${MARKER}`, 'ssh://git@127.0.0.1/x.git', 'git@github.com:owner/x.git',
      'git://127.0.0.1/x.git', `-uhttp://127.0.0.1:9/x.git`, `--upload-pack=touch ${MARKER}`, 'http://127.0.0.1/x .git', 'http://127.0.0.1/x\n.git',
      'http://127.0.0.1/x\t.git', 'http:/x', '/etc/passwd', 'javascript:alert(1)', `http://${'a'.repeat(3000)}`, '',
    ] as const
  ).map((url) => deployCase(`repo ${JSON.stringify(url.length > 40 ? `${url.slice(0, 10)}…(${url.length})` : url)}`, { repo: url }, /repo/i)),
  ...([42, null, ['http://x/y.git']] as const).map((url) => deployCase(`repo of type ${JSON.stringify(url)}`, { repo: url }, /repo/)),
  without('repo', /repo/),
  // Branches that could read as options.
  ...([`--upload-pack=touch ${MARKER}`, '-b', 'a..b', 'main;rm', 'x.lock', 'main/', 123] as const).map((branch) =>
    deployCase(`branch ${JSON.stringify(branch)}`, { branch }, /branch/),
  ),
  // Env names and values.
  ...([{ PORT: '1' }, { '1A': 'x' }, { 'A-B': 'x' }, { '': 'x' }, { 'A B': 'x' }, { A: 1 }, { A: true }, { A: {} }, { A: null }, ['A=b'], 'A=b', 7] as const).map(
    (env) => deployCase(`env ${JSON.stringify(env)}`, { env }),
  ),
  deployCase('env PORT says why', { env: { PORT: '8080' } }, /PORT is set by MinPaas/),
  // Runtimes.
  ...(['ruby', 'NODE', '', ['node'], 1] as const).map((runtime) => deployCase(`runtime ${JSON.stringify(runtime)}`, { runtime }, /runtime/)),
  without('runtime', /runtime/),
  // A valid request whose clone fails: a 422, and the new app is gone again.
  { what: 'unreachable repo', method: 'POST', path: '/deploy', json: deploy({}), status: 422, error: /could not clone/ },
  // Bodies.
  { what: 'empty object', method: 'POST', path: '/deploy', json: {}, status: 400 },
  { what: 'array body', method: 'POST', path: '/deploy', json: [deploy({})], status: 400, error: /JSON object/ },
  { what: 'null body', method: 'POST', path: '/deploy', raw: 'null', status: 400, error: /JSON object/ },
  { what: 'string body', method: 'POST', path: '/deploy', raw: '"deploy"', status: 400 },
  { what: 'no body', method: 'POST', path: '/deploy', status: 400 },
  { what: 'invalid JSON', method: 'POST', path: '/deploy', raw: '{"app": "x",', status: 400, error: /not valid JSON/ },
  { what: '10 MB body', method: 'POST', path: '/deploy', raw: JSON.stringify({ ...deploy({}), pad: 'x'.repeat(10 << 20) }), status: 413, error: /too large/ },
  { what: 'text/plain body', method: 'POST', path: '/deploy', raw: JSON.stringify(deploy({})), type: 'text/plain', status: 400, error: /Content-Type/ },
  { what: 'form body', method: 'POST', path: '/deploy', raw: `app=${NEW}&runtime=node&repo=${GOOD_REPO}`, type: 'application/x-www-form-urlencoded', status: 400 },
  // Rollback bodies.
  ...([{}, { release: 0 }, { release: -1 }, { release: 1.5 }, { release: 'abc' }, { release: 'v' }, { release: null }, { release: [1] }, [1], 1] as const).map(
    (json): Case => ({ what: `rollback ${JSON.stringify(json)}`, method: 'POST', path: `/apps/${APP}/rollback`, json, status: 400 }),
  ),
  { what: 'rollback invalid JSON', method: 'POST', path: `/apps/${APP}/rollback`, raw: '{release: 1}', status: 400 },
  { what: 'rollback to a missing release', method: 'POST', path: `/apps/${APP}/rollback`, json: { release: 99 }, status: 404, error: /no release v99/ },
  // Config changes.
  ...([{ PORT: '1' }, { '1A': 'x' }, { 'A-B': 'x' }, { A: 1 }, { A: ['x'] }, [], {}, 'A=b', { A: 'x'.repeat(33 * 1024) }] as const).map(
    (json): Case => ({ what: `config ${JSON.stringify(json).slice(0, 30)}`, method: 'PATCH', path: `/apps/${APP}/config`, json, status: 400 }),
  ),
  { what: 'config invalid JSON', method: 'PATCH', path: `/apps/${APP}/config`, raw: '{"A":}', status: 400 },
  { what: 'config 2 MB body', method: 'PATCH', path: `/apps/${APP}/config`, raw: JSON.stringify({ A: 'x'.repeat(2 << 20) }), status: 413 },
  // Log tails and deploy ids.
  ...(['-1', 'abc', '1.5', '10001', 'Infinity', '1e9'] as const).map(
    (tail): Case => ({ what: `tail=${tail}`, method: 'GET', path: `/apps/${APP}/logs?tail=${tail}`, status: 400, error: /tail/ }),
  ),
  { what: 'follow with tail=abc', method: 'GET', path: `/apps/${APP}/logs?follow=1&tail=abc`, status: 400, error: /tail/ },
  { what: 'follow an unknown app', method: 'GET', path: '/apps/no-such-app/logs?follow=1', status: 404 },
  { what: 'deploy id abc', method: 'GET', path: `/apps/${APP}/deploys/abc/log`, status: 404 },
  { what: 'deploy id 999999', method: 'GET', path: `/apps/${APP}/deploys/999999/log`, status: 404 },
];

async function send(c: { method: string; path: string; json?: unknown; raw?: string; type?: string }, authorization?: string | null) {
  const body = c.raw ?? (c.json === undefined ? undefined : JSON.stringify(c.json));
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization ?? `Bearer ${TEST_TOKEN}`;
  if (body !== undefined) headers['content-type'] = c.type ?? 'application/json';
  const res = await fetch(`${t.url}${c.path}`, { method: c.method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
const list = (dir: string): Promise<string[]> => fs.readdir(dir).then((names) => names.sort(), () => []);

/** Everything a refused request must leave as it was. */
async function state(): Promise<unknown> {
  const apps = (await t.api('GET', '/apps')).json as { name: string; release: number; updatedAt: string; env: unknown }[];
  return {
    apps: apps.map((a) => [a.name, a.release, a.updatedAt, a.env]),
    containers: (await t.docker.listOwnedContainers()).map((c) => `${c.name} ${c.id} ${c.running}`).sort(),
    images: (await t.docker.listOwnedImages()).map((i) => i.id).sort(),
    repos: await list(path.join(t.dataDir, 'repos')),
    workspaces: await list(path.join(t.dataDir, 'workspaces')),
    dataDir: await list(t.dataDir),
    beside: await exists(path.join(t.dataDir, '..', 'x.git')),
    releases: t.server.store.listReleases(APP).length,
    newApp: t.server.store.getApp(NEW) ?? null,
    newDeploys: t.server.store.listDeploys(NEW).length,
    marker: await exists(MARKER),
  };
}

async function lsRemote(token: string | null): Promise<{ code: number; main: string }> {
  const url = token === null ? `http://127.0.0.1:${t.server.port}/${APP}.git` : t.remote(APP, token);
  const r = await run('git', ['ls-remote', url, 'refs/heads/main'], { cwd: repo.dir });
  return { code: r.code, main: r.stdout.split(/\s/)[0] ?? '' };
}

/** A raw request to the git remote with node:http. */
function gitRequest(method: string, pathname: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.server.port, method, path: pathname, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  t = await startTestServer();
  repo = await AppRepo.create(nodeApp('hostile v1'));
  const push = await repo.push(t.remote(APP));
  expect(push.code, push.output).toBe(0);
  before = await state();
  expect((before as { marker: boolean }).marker).toBe(false);
});

afterAll(async () => {
  await t?.cleanup();
  await repo?.remove();
  await fs.rm(MARKER, { force: true });
});

describe('hostile and malformed API input', () => {
  it('has enough cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it('a refused rollback leaves no deploy behind', async () => {
    const deploys = t.server.store.listDeploys(APP);
    expect((await send({ method: 'POST', path: `/apps/${APP}/rollback`, json: { release: 99 } })).status).toBe(404);
    expect((await send({ method: 'POST', path: `/apps/${APP}/rollback`, json: { release: 0 } })).status).toBe(400);
    expect(t.server.store.listDeploys(APP)).toEqual(deploys);
  });

  it.each(cases.map((c) => [c.what, c] as const))('%s → refused, nothing created', async (_what, c) => {
    const res = await send(c);
    expect(res.status, res.text).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof res.json?.error, res.text).toBe('string');
    expect(res.json.error.length).toBeGreaterThan(10);
    if (c.error) expect(res.json.error).toMatch(c.error);
    expect(await state()).toEqual(before);
  });
});

describe('the token', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/apps'],
    ['POST', '/deploy', deploy({ app: APP })],
    ['GET', `/apps/${APP}`],
    ['DELETE', `/apps/${APP}`],
    ['GET', `/apps/${APP}/logs?tail=5`],
    ['GET', `/apps/${APP}/logs?follow=1`],
    ['GET', `/apps/${APP}/config`],
    ['PATCH', `/apps/${APP}/config`, { GREETING: 'pwned' }],
    ['GET', `/apps/${APP}/releases`],
    ['POST', `/apps/${APP}/rollback`, { release: 1 }],
    ['GET', `/apps/${APP}/deploys`],
    ['GET', `/apps/${APP}/deploys/1/log`],
    ['GET', '/no-such-endpoint'],
  ];
  const wrong: [string, string | null][] = [
    ['no token', null],
    ['a wrong token', 'Bearer wrong-token'],
    ['the token plus a suffix', `Bearer ${TEST_TOKEN}x`],
    ['Basic auth with a wrong password', `Basic ${Buffer.from(`x:${TEST_TOKEN}x`).toString('base64')}`],
    ['an empty Bearer', 'Bearer '],
  ];

  it.each(wrong)('every route with %s → 401, and nothing changed', async (_what, authorization) => {
    for (const [method, pathname, json] of routes) {
      const res = await send({ method, path: pathname, json }, authorization);
      expect(res.status, `${method} ${pathname}: ${res.text}`).toBe(401);
      expect(res.json?.error, `${method} ${pathname}`).toMatch(/token/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(await state()).toEqual(before);
  });

  it('/healthz answers without a token', async () => {
    const res = await send({ method: 'GET', path: '/healthz' }, null);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
  });
});

describe('the git remote', () => {
  it('fetch and push without or with a wrong token are refused', async () => {
    const main = (await lsRemote(TEST_TOKEN)).main;
    expect(main).toMatch(/^[0-9a-f]{40}$/);
    for (const service of ['git-upload-pack', 'git-receive-pack']) {
      const auths: Record<string, string>[] = [{}, { authorization: `Basic ${Buffer.from('x:wrong').toString('base64')}` }, { authorization: `Bearer ${TEST_TOKEN}` }];
      for (const auth of auths) {
        const res = await gitRequest('GET', `/${APP}.git/info/refs?service=${service}`, auth);
        expect(res.status, `${service} ${JSON.stringify(auth)}`).toBe(401);
      }
    }
    expect((await lsRemote(null)).code).not.toBe(0);
    expect((await lsRemote('wrong-token')).code).not.toBe(0);
    await repo.commit(nodeApp('pushed without the token'), 'unauthorised');
    expect((await repo.push(`http://127.0.0.1:${t.server.port}/${APP}.git`)).code).not.toBe(0);
    expect((await repo.push(t.remote(APP, 'wrong-token'))).code).not.toBe(0);
    expect((await repo.push(t.remote(APP, 'wrong-token'), ':main')).code).not.toBe(0);
    expect((await lsRemote(TEST_TOKEN)).main).toBe(main);
    expect(await state()).toEqual(before);
  });

  it('an unauthenticated receive-pack POST that deletes main is a 401 and main stays', async () => {
    const main = (await lsRemote(TEST_TOKEN)).main;
    const line = `${main} ${ZERO} refs/heads/main\0 report-status\n`;
    const body = Buffer.from(`${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`);
    const auths: Record<string, string>[] = [{}, { authorization: `Basic ${Buffer.from('x:wrong').toString('base64')}` }];
    for (const auth of auths) {
      const res = await gitRequest('POST', `/${APP}.git/git-receive-pack`, { 'content-type': 'application/x-git-receive-pack-request', ...auth }, body);
      expect(res.status, res.text).toBe(401);
    }
    const after = await lsRemote(TEST_TOKEN);
    expect(after.code).toBe(0);
    expect(after.main).toBe(main);
    expect(await state()).toEqual(before);
  });

  it('pushes to invalid app names are refused and create nothing', async () => {
    for (const name of ['Bad_Name', '..%2Fx', '-x', '%2E%2E']) {
      const push = await repo.push(`http://x:${TEST_TOKEN}@127.0.0.1:${t.server.port}/${name}.git`);
      expect(push.code, `${name}: ${push.output}`).not.toBe(0);
      const res = await gitRequest('GET', `/${name}.git/info/refs?service=git-receive-pack`, {
        authorization: `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}`,
      });
      expect(res.status, name).toBe(400);
      expect(res.text).toMatch(/invalid app name/);
    }
    expect(await exists(path.join(t.dataDir, 'x.git'))).toBe(false);
    expect(await state()).toEqual(before);
  });

  it('no ext:: URL ran its command', async () => {
    expect(await exists(MARKER)).toBe(false);
  });
});
