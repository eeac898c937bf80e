import http from 'node:http';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../../src/apps/app-service.js';
import { dashboardAuth, PAGE_ACCESS } from '../../src/dashboard/access.js';
import { Dashboard } from '../../src/dashboard/routes.js';
import type { DashboardApps } from '../../src/dashboard/service.js';
import { LiveDeploys } from '../../src/deploy/live-deploys.js';
import type { AppRecord, ReleaseRecord } from '../../src/domain/types.js';
import { apiRoutes } from '../../src/http/api-routes.js';
import { log } from '../../src/log.js';
import { OWNER_TOKEN, startHarness, type Harness } from '../helpers/access-harness.js';

/**
 * Per-user dashboard logins against the real access layer (store, Authenticator, Viewer,
 * audit log); the app service is an in-memory stand-in over the store that records changes.
 */
const changes: string[] = [];

/** The API route each dashboard access rule mirrors (method and a sample path). */
const API_EQUIVALENT: Record<keyof typeof PAGE_ACCESS, [string, string]> = {
  list: ['GET', '/apps'],
  read: ['GET', '/apps/web'],
  config: ['PATCH', '/apps/web/config'],
  rollback: ['POST', '/apps/web/rollback'],
};

function appsOver(h: Harness): DashboardApps {
  const record = (name: string): AppRecord => ({ name, runtime: 'node', builder: 'platform', status: 'running', release: 2, url: 'http://127.0.0.1:1', restarts: 0, resources: { memory: '512m', cpus: 1 }, container: null, env: {} }) as unknown as AppRecord;
  const releases = (app: string): ReleaseRecord[] =>
    [2, 1].map((number) => ({ app, number, imageTag: 'i', imageId: 'sha256:x', env: {}, commit: null, kind: 'build', description: `release ${number}`, processTypes: {}, listenPort: null, createdAt: '' }) as unknown as ReleaseRecord);
  return {
    list: async () => h.store.listApps().map((a) => record(a.name)),
    get: async (name) => record(name),
    releases,
    deploys: () => [],
    deployLog: () => '',
    config: (name) => h.store.getEnv(name),
    changeConfig: async (app, c) => {
      changes.push(`config ${app} ${JSON.stringify(c)}`);
      return 3;
    },
    rollback: async (app, n) => {
      changes.push(`rollback ${app} ${n}`);
      return record(app);
    },
    logs: async () => 'a log line\n',
    followLogs: async () => {
      const stream = new PassThrough();
      stream.write('first line\n');
      return { stream, stop: () => stream.destroy() };
    },
  };
}

let h: Harness;
let server: http.Server;
let base: string;

beforeAll(async () => {
  h = await startHarness();
  for (const [name, port] of [['alpha', 5101], ['beta', 5102]] as const) {
    h.store.createApp({ name, runtime: 'node', repo: null, branch: null, port });
    h.store.setEnv(name, { SECRET: `${name}-hunter2` });
  }
  const dashboard = new Dashboard({ apps: appsOver(h), auth: dashboardAuth(h.access.authenticator, h.access.guard, h.store), log, live: new LiveDeploys(), streamRecheckMs: 50 });
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    void dashboard.handle(req, res, url.pathname, url.searchParams);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await h?.close();
});

const get = (path: string, cookie: string): Promise<Response> => fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
const page = async (path: string, cookie: string): Promise<string> => (await get(path, cookie)).text();
const post = (path: string, form: Record<string, string>, cookie = ''): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, cookie }, body: new URLSearchParams(form).toString() });

async function login(token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await post('/ui/login', { token });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page('/', cookie))![1]!;
  return { cookie, csrf };
}

describe('dashboard access rules', () => {
  it('each page and change needs the role of the API route that does the same', () => {
    const routes = apiRoutes({} as AppService);
    for (const [page, [method, path]] of Object.entries(API_EQUIVALENT)) {
      const route = routes.find((r) => r.method === method && r.path.test(path));
      expect(route, `${method} ${path}`).toBeDefined();
      expect(PAGE_ACCESS[page as keyof typeof PAGE_ACCESS], page).toEqual(route!.access);
    }
  });

  it('a read user sees only their app, config names without values, and no change offered; changes are refused', async () => {
    const reader = await h.tokenFor('reader', { alpha: 'read' });
    const { cookie, csrf } = await login(reader.token);
    const list = await page('/', cookie);
    expect(list).toContain('/ui/apps/alpha');
    expect(list).not.toContain('beta');
    expect(list).toContain('reader');
    for (const path of ['/ui/apps/beta', '/ui/apps/beta/logs', '/ui/apps/beta/deploys/1', '/ui/apps/nosuch']) expect((await get(path, cookie)).status, path).toBe(404);
    const app = await page('/ui/apps/alpha', cookie);
    expect(app).toContain('SECRET');
    expect(app).not.toContain('alpha-hunter2');
    expect(app).not.toContain('Reveal');
    expect(app).not.toContain('action="/ui/apps/alpha/config"');
    expect(app).not.toContain('action="/ui/apps/alpha/rollback"');
    expect(app).toContain('shows config names only');
    expect(await page('/ui/apps/alpha?reveal=SECRET', cookie)).not.toContain('alpha-hunter2');
    expect((await get('/ui/apps/alpha/logs', cookie)).status).toBe(200);
    const refused = await post('/ui/apps/alpha/config', { csrf, key: 'SECRET', value: 'x' }, cookie);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('needs admin');
    expect((await post('/ui/apps/alpha/rollback', { csrf, release: '1' }, cookie)).status).toBe(403);
    expect((await post('/ui/apps/beta/config', { csrf, key: 'A', value: 'x' }, cookie)).status).toBe(404);
    expect(changes).toEqual([]);
    // Refused attempts are in the audit log, as the API's are.
    const audit = h.store.auth.listAudit({ apps: null, limit: 50, before: null }).filter((e) => e.user === 'reader');
    expect(audit.map((e) => [e.action, e.app, e.status])).toEqual(
      expect.arrayContaining([
        ['config.set', 'alpha', 403],
        ['rollback', 'alpha', 403],
        ['config.set', 'beta', 404],
      ]),
    );
  });

  it('a deploy user may roll back but not change config; an admin may do both, and the audit log names them', async () => {
    const deployer = await login((await h.tokenFor('deployer', { alpha: 'deploy' })).token);
    const app = await page('/ui/apps/alpha', deployer.cookie);
    expect(app).toContain('action="/ui/apps/alpha/rollback"');
    expect(app).not.toContain('action="/ui/apps/alpha/config"');
    expect(app).toContain('Reveal');
    expect((await post('/ui/apps/alpha/config', { csrf: deployer.csrf, key: 'A', value: '1' }, deployer.cookie)).status).toBe(403);
    expect((await post('/ui/apps/alpha/rollback', { csrf: deployer.csrf, release: '1' }, deployer.cookie)).status).toBe(303);
    const admin = await login((await h.tokenFor('alpha-admin', { alpha: 'admin' })).token);
    expect(await page('/ui/apps/alpha', admin.cookie)).toContain('action="/ui/apps/alpha/config"');
    expect((await post('/ui/apps/alpha/config', { csrf: admin.csrf, key: 'A', value: '1' }, admin.cookie)).status).toBe(303);
    expect((await get('/ui/apps/beta', admin.cookie)).status).toBe(404);
    expect(changes).toEqual(['rollback alpha 1', 'config alpha {"A":"1"}']);
    const audit = h.store.auth.listAudit({ apps: ['alpha'], limit: 10, before: null });
    expect(audit.map((e) => [e.user, e.action, e.status, e.detail])).toEqual(
      expect.arrayContaining([
        ['deployer', 'rollback', 200, { release: 1 }],
        ['alpha-admin', 'config.set', 200, { set: ['A'], unset: [] }],
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain('"1"');
  });

  it('the owner token sees every app and its values', async () => {
    const { cookie } = await login(OWNER_TOKEN);
    const list = await page('/', cookie);
    expect(list).toContain('/ui/apps/alpha');
    expect(list).toContain('/ui/apps/beta');
    expect(await page('/ui/apps/beta?reveal=SECRET', cookie)).toContain('beta-hunter2');
  });

  it('revoking the token, or removing its user, ends the session on the next request', async () => {
    const t = await h.tokenFor('leaver', { alpha: 'admin' });
    const { cookie, csrf } = await login(t.token);
    expect((await get('/', cookie)).status).toBe(200);
    h.store.auth.revokeToken(t.id);
    const next = await get('/ui/apps/alpha', cookie);
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toBe('/ui/login');
    expect(next.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await post('/ui/apps/alpha/config', { csrf, key: 'B', value: '2' }, cookie)).status).toBe(403);
    expect((await post('/ui/login', { token: t.token })).status).toBe(401);
    const other = await h.tokenFor('removed', { alpha: 'read' });
    const s = await login(other.token);
    h.store.auth.removeUser('removed');
    expect((await get('/', s.cookie)).status).toBe(303);
    expect(changes).not.toContain('config alpha {"B":"2"}');
  });

  it('an expired token cannot log in, and a session ends when its token expires', async () => {
    const t = await h.tokenFor('brief', { alpha: 'read' }, { expiresAt: new Date(Date.now() + 1500).toISOString() });
    const { cookie } = await login(t.token);
    expect((await get('/', cookie)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await get('/', cookie)).status).toBe(303);
    expect((await post('/ui/login', { token: t.token })).status).toBe(401);
  });

  it('an open live stream ends once its token is revoked or the role is taken away', async () => {
    const follow = async (cookie: string): Promise<{ first: string; ended: Promise<void> }> => {
      const res = await get('/ui/apps/alpha/logs/stream', cookie);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      const ended = (async () => {
        while (!(await reader.read()).done);
      })();
      return { first, ended };
    };
    const within = (p: Promise<void>, ms: number): Promise<void> => Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms))]);
    const t = await h.tokenFor('watcher', { alpha: 'read' });
    const watcher = await login(t.token);
    const stream = await follow(watcher.cookie);
    expect(stream.first).toContain('first line');
    h.store.auth.revokeToken(t.id);
    await within(stream.ended, 2000);
    expect((await get('/', watcher.cookie)).status).toBe(303);
    const other = await login((await h.tokenFor('demoted', { alpha: 'read' })).token);
    const second = await follow(other.cookie);
    h.store.auth.revoke('alpha', 'demoted');
    await within(second.ended, 2000);
  });
});
