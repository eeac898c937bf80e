import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Viewer } from '../../src/auth/access.js';
import { OWNER_TOKEN_NAME, OWNER_USER, type Principal } from '../../src/auth/authenticator.js';
import type { DashboardAuth } from '../../src/dashboard/access.js';
import { Dashboard } from '../../src/dashboard/routes.js';
import type { DashboardApps } from '../../src/dashboard/service.js';
import { LoginThrottle } from '../../src/dashboard/throttle.js';
import { LiveDeploys } from '../../src/deploy/live-deploys.js';
import type { AppRecord } from '../../src/domain/types.js';
import { log } from '../../src/log.js';
import type { AuthStore } from '../../src/store/auth-store.js';

/** The dashboard's request handling over HTTP, with an in-memory app service that records changes. */
const TOKEN = 'unit-token-0123456789';
const changes: string[] = [];
const record = { name: 'web', runtime: 'node', builder: 'platform', status: 'running', release: 2, url: 'http://127.0.0.1:1', restarts: 0, resources: { memory: '512m', cpus: 1 }, container: null } as unknown as AppRecord;
const fake: DashboardApps = {
  list: async () => [record],
  get: async () => record,
  releases: () => [],
  deploys: () => [],
  deployLog: () => '',
  config: () => ({ SECRET: 'hunter2' }),
  changeConfig: async (app, c) => {
    changes.push(`config ${app} ${JSON.stringify(c)}`);
    return 3;
  },
  rollback: async (app, n) => {
    changes.push(`rollback ${app} ${n}`);
    return record;
  },
  logs: async () => '',
  followLogs: async () => {
    throw new Error('not used');
  },
};

/** The owner token only (per-user logins and roles: dashboard-access.test.ts). An owner's Viewer never reads the store. */
const owner: Principal = { user: OWNER_USER, owner: true, tokenId: null, tokenName: OWNER_TOKEN_NAME };
const auth: DashboardAuth = {
  login: async (token) => (token === TOKEN ? owner : null),
  current: (p) => p,
  viewer: (p) => new Viewer(p, {} as AuthStore),
  appExists: () => true,
  audit: () => undefined,
};

let server: http.Server;
let base: string;

beforeAll(async () => {
  const dashboard = new Dashboard({ apps: fake, auth, log, live: new LiveDeploys() });
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    void dashboard.handle(req, res, url.pathname, url.searchParams);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers }, body: new URLSearchParams(form).toString() });

async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await post('/ui/login', { token: TOKEN });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${base}/ui/apps/web`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

describe('dashboard routes', () => {
  const posts: [string, Record<string, string>][] = [
    ['/ui/apps/web/config', { key: 'A', value: '1' }],
    ['/ui/apps/web/rollback', { release: '1' }],
    ['/ui/logout', {}],
  ];

  it('every POST is refused without the CSRF token, with a wrong one, or from another origin; nothing is changed', async () => {
    const { cookie, csrf } = await login();
    for (const [path, form] of posts) {
      expect((await post(path, form, { cookie })).status, path).toBe(403);
      expect((await post(path, { ...form, csrf: `${csrf}x` }, { cookie })).status, path).toBe(403);
      expect((await post(path, { ...form, csrf }, { cookie, origin: 'http://evil.example' })).status, path).toBe(403);
    }
    expect(changes).toEqual([]);
    // …and the same requests, done right, go through.
    for (const [path, form] of posts) expect((await post(path, { ...form, csrf }, { cookie })).status, path).toBe(303);
    expect(changes).toEqual(['config web {"A":"1"}', 'rollback web 1']);
  });

  it('pages escape values and keep config masked and the token out; the session logs out', async () => {
    const { cookie } = await login();
    const page = await (await fetch(`${base}/ui/apps/web`, { headers: { cookie } })).text();
    expect(page).not.toContain('hunter2');
    expect(page).not.toContain(TOKEN);
    const revealed = await (await fetch(`${base}/ui/apps/web?reveal=SECRET`, { headers: { cookie } })).text();
    expect(revealed).toContain('hunter2');
    const res = await fetch(`${base}/ui/apps/web`, { headers: { cookie } });
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('after too many wrong tokens from one address, logins are answered 429 with Retry-After (the right token too)', async () => {
    let now = 0;
    const throttled = new Dashboard({ apps: fake, auth, log, live: new LiveDeploys(), throttle: new LoginThrottle(3, 60_000, () => now) });
    const s = http.createServer((req, res) => void throttled.handle(req, res, new URL(req.url!, 'http://x').pathname, new URLSearchParams()));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const tryToken = (token: string): Promise<Response> =>
      fetch(`${at}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: at }, body: `token=${token}` });
    try {
      for (let i = 0; i < 3; i++) expect((await tryToken('wrong')).status).toBe(401);
      const refused = await tryToken(TOKEN);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(refused.headers.get('set-cookie')).toBeNull();
      now = 60_001;
      expect((await tryToken(TOKEN)).status).toBe(303);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('a wrong token gets a 401 page and no cookie; unknown pages are 404', async () => {
    const res = await post('/ui/login', { token: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const { cookie } = await login();
    expect((await fetch(`${base}/ui/nope`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${base}/ui/apps/web/config`, { headers: { cookie } })).status).toBe(405);
  });
});
