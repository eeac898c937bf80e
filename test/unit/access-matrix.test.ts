import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../src/http/api-routes.js';
import type { AppRole } from '../../src/store/auth-store.js';
import { basic, bearer, OWNER_TOKEN, request, startHarness, type Harness } from '../helpers/access-harness.js';

/**
 * The role matrix: every route of the table (and both git operations) × every kind of
 * caller, with the exact status. Generated from the route table: a route without an
 * access rule does not compile, one without a sample request here fails.
 */

type Caller = 'owner' | 'admin' | 'deploy' | 'read' | 'otherAdmin' | 'revoked' | 'expired' | 'none';
const CALLERS: Caller[] = ['owner', 'admin', 'deploy', 'read', 'otherAdmin', 'revoked', 'expired', 'none'];
const ROLE_OF: Partial<Record<Caller, AppRole>> = { admin: 'admin', deploy: 'deploy', read: 'read' };
const RANK: Record<AppRole, number> = { read: 1, deploy: 2, admin: 3 };

let h: Harness;
const tokens = {} as Record<Caller, string | undefined>;
const users = {} as Record<Caller, string>;
let fresh = 0;
const freshName = (prefix: string): string => `${prefix}${++fresh}`;

interface Sample {
  path: string;
  body?: unknown;
}

/** A request for each route; targets that a success would consume are made fresh per call. */
const SAMPLES: Record<string, (caller: Caller) => Promise<Sample> | Sample> = {
  'GET ^\\/apps$': () => ({ path: '/apps' }),
  'POST ^\\/apps$': () => ({ path: '/apps', body: { name: freshName('new-app-') } }),
  'PUT ^\\/apps\\/([^/]+)\\/builder$': () => ({ path: '/apps/alpha/builder', body: { builder: 'platform' } }),
  'PUT ^\\/apps\\/([^/]+)\\/scheduler$': () => ({ path: '/apps/alpha/scheduler', body: { scheduler: 'swarm' } }),
  'GET ^\\/nodes$': () => ({ path: '/nodes' }),
  'POST ^\\/nodes\\/([^/]+)\\/drain$': () => ({ path: '/nodes/node-1/drain' }),
  'POST ^\\/nodes\\/([^/]+)\\/activate$': () => ({ path: '/nodes/node-1/activate' }),
  'POST ^\\/deploy$': () => ({ path: '/deploy', body: { app: 'alpha', runtime: 'node', repo: 'https://example.invalid/r.git' } }),
  'GET ^\\/apps\\/([^/]+)$': () => ({ path: '/apps/alpha' }),
  'DELETE ^\\/apps\\/([^/]+)$': () => ({ path: '/apps/alpha' }),
  'GET ^\\/apps\\/([^/]+)\\/logs$': () => ({ path: '/apps/alpha/logs' }),
  'GET ^\\/apps\\/([^/]+)\\/config$': () => ({ path: '/apps/alpha/config' }),
  'PATCH ^\\/apps\\/([^/]+)\\/config$': () => ({ path: '/apps/alpha/config', body: { MATRIX: 'x' } }),
  'PATCH ^\\/apps\\/([^/]+)\\/resources$': () => ({ path: '/apps/alpha/resources', body: { memory: '256m' } }),
  'GET ^\\/apps\\/([^/]+)\\/releases$': () => ({ path: '/apps/alpha/releases' }),
  'POST ^\\/apps\\/([^/]+)\\/rollback$': () => ({ path: '/apps/alpha/rollback', body: { release: 1 } }),
  'GET ^\\/apps\\/([^/]+)\\/deploys$': () => ({ path: '/apps/alpha/deploys' }),
  'GET ^\\/apps\\/([^/]+)\\/deploys\\/([^/]+)\\/log$': () => ({ path: '/apps/alpha/deploys/1/log' }),
  'PUT ^\\/apps\\/([^/]+)\\/forge$': () => ({ path: '/apps/alpha/forge', body: { forge: 'github', repo: 'https://github.com/o/r' } }),
  'GET ^\\/apps\\/([^/]+)\\/forge$': () => ({ path: '/apps/alpha/forge' }),
  'DELETE ^\\/apps\\/([^/]+)\\/forge$': () => ({ path: '/apps/alpha/forge' }),
  'GET ^\\/apps\\/([^/]+)\\/previews$': () => ({ path: '/apps/alpha/previews' }),
  'GET ^\\/domains$': () => ({ path: '/domains' }),
  'GET ^\\/apps\\/([^/]+)\\/domains$': () => ({ path: '/apps/alpha/domains' }),
  'POST ^\\/apps\\/([^/]+)\\/domains$': () => ({ path: '/apps/alpha/domains', body: { host: 'www.example.com' } }),
  'DELETE ^\\/apps\\/([^/]+)\\/domains$': () => ({ path: '/apps/alpha/domains', body: { host: 'www.example.com' } }),
  'DELETE ^\\/apps\\/([^/]+)\\/domains\\/([^/]+)$': () => ({ path: '/apps/alpha/domains/www.example.com' }),
  'POST ^\\/apps\\/([^/]+)\\/certs$': () => ({ path: '/apps/alpha/certs', body: { cert: 'x', key: 'y' } }),
  'PUT ^\\/apps\\/([^/]+)\\/https-redirect$': () => ({ path: '/apps/alpha/https-redirect', body: { enabled: true } }),
  'GET ^\\/apps\\/([^/]+)\\/formation$': () => ({ path: '/apps/alpha/formation' }),
  'PATCH ^\\/apps\\/([^/]+)\\/formation$': () => ({ path: '/apps/alpha/formation', body: { web: 2 } }),
  'GET ^\\/apps\\/([^/]+)\\/ps$': () => ({ path: '/apps/alpha/ps' }),
  'POST ^\\/apps\\/([^/]+)\\/run$': () => ({ path: '/apps/alpha/run', body: { command: ['true'] } }),
  'GET ^\\/users$': () => ({ path: '/users' }),
  'POST ^\\/users$': () => ({ path: '/users', body: { name: freshName('new-user-') } }),
  'DELETE ^\\/users\\/([^/]+)$': () => {
    const name = freshName('doomed-');
    h.store.auth.addUser(name, false);
    return { path: `/users/${name}` };
  },
  'GET ^\\/audit$': () => ({ path: '/audit' }),
  'GET ^\\/tokens$': () => ({ path: '/tokens' }),
  'POST ^\\/tokens$': () => ({ path: '/tokens', body: { name: 'matrix' } }),
  // The caller's own token (anyone may revoke their own).
  'DELETE ^\\/tokens\\/([^/]+)$': async (caller) => ({ path: `/tokens/${(await h.tokenFor(users[caller] ?? 'owner')).id}` }),
  'GET ^\\/apps\\/([^/]+)\\/access$': () => ({ path: '/apps/alpha/access' }),
  'PUT ^\\/apps\\/([^/]+)\\/access\\/([^/]+)$': () => {
    const name = freshName('grantee-');
    h.store.auth.addUser(name, false);
    return { path: `/apps/alpha/access/${name}`, body: { role: 'read' } };
  },
  'DELETE ^\\/apps\\/([^/]+)\\/access\\/([^/]+)$': () => {
    const name = freshName('grantee-');
    h.store.auth.addUser(name, false);
    h.store.auth.grant('alpha', name, 'read');
    return { path: `/apps/alpha/access/${name}` };
  },
  
  'POST ^\\/secrets\\/rotate-key$': () => ({ path: '/secrets/rotate-key' }),
};

/**
 * The rule each route must have, written out here independently of the route table: a
 * rule changed there (or a route added without one here) fails this test.
 */
const NEEDS: Record<string, 'owner' | 'user' | AppRole> = {
  'GET ^\\/apps$': 'user',
  'POST ^\\/apps$': 'owner',
  'PUT ^\\/apps\\/([^/]+)\\/builder$': 'admin',
  'PUT ^\\/apps\\/([^/]+)\\/scheduler$': 'admin',
  'GET ^\\/nodes$': 'owner',
  'POST ^\\/nodes\\/([^/]+)\\/drain$': 'owner',
  'POST ^\\/nodes\\/([^/]+)\\/activate$': 'owner',
  'POST ^\\/deploy$': 'deploy',
  'GET ^\\/apps\\/([^/]+)$': 'read',
  'DELETE ^\\/apps\\/([^/]+)$': 'admin',
  'GET ^\\/apps\\/([^/]+)\\/logs$': 'read',
  'GET ^\\/apps\\/([^/]+)\\/config$': 'read',
  'PATCH ^\\/apps\\/([^/]+)\\/config$': 'admin',
  'PATCH ^\\/apps\\/([^/]+)\\/resources$': 'admin',
  'GET ^\\/apps\\/([^/]+)\\/releases$': 'read',
  'POST ^\\/apps\\/([^/]+)\\/rollback$': 'deploy',
  'GET ^\\/apps\\/([^/]+)\\/deploys$': 'read',
  'GET ^\\/apps\\/([^/]+)\\/deploys\\/([^/]+)\\/log$': 'read',
  'PUT ^\\/apps\\/([^/]+)\\/forge$': 'admin',
  'GET ^\\/apps\\/([^/]+)\\/forge$': 'admin',
  'DELETE ^\\/apps\\/([^/]+)\\/forge$': 'admin',
  'GET ^\\/apps\\/([^/]+)\\/previews$': 'read',
  'GET ^\\/domains$': 'owner',
  'GET ^\\/apps\\/([^/]+)\\/domains$': 'read',
  'POST ^\\/apps\\/([^/]+)\\/domains$': 'admin',
  'DELETE ^\\/apps\\/([^/]+)\\/domains$': 'admin',
  'DELETE ^\\/apps\\/([^/]+)\\/domains\\/([^/]+)$': 'admin',
  'POST ^\\/apps\\/([^/]+)\\/certs$': 'admin',
  'PUT ^\\/apps\\/([^/]+)\\/https-redirect$': 'admin',
  'GET ^\\/apps\\/([^/]+)\\/formation$': 'read',
  'PATCH ^\\/apps\\/([^/]+)\\/formation$': 'deploy',
  'GET ^\\/apps\\/([^/]+)\\/ps$': 'read',
  'POST ^\\/apps\\/([^/]+)\\/run$': 'deploy',
  'GET ^\\/users$': 'owner',
  'POST ^\\/users$': 'owner',
  'DELETE ^\\/users\\/([^/]+)$': 'owner',
  'GET ^\\/audit$': 'user',
  'GET ^\\/tokens$': 'user',
  'POST ^\\/tokens$': 'user',
  'DELETE ^\\/tokens\\/([^/]+)$': 'user',
  'GET ^\\/apps\\/([^/]+)\\/access$': 'admin',
  'PUT ^\\/apps\\/([^/]+)\\/access\\/([^/]+)$': 'admin',
  'DELETE ^\\/apps\\/([^/]+)\\/access\\/([^/]+)$': 'admin',
  'POST ^\\/secrets\\/rotate-key$': 'owner',
};

const keyOf = (r: Route): string => `${r.method} ${r.path.source}`;

/** The status the access rule demands for `caller`, or 'ok' (the owner's own status). */
function expected(need: 'owner' | 'user' | AppRole, caller: Caller): number | 'ok' {
  if (caller === 'revoked' || caller === 'expired' || caller === 'none') return 401;
  if (caller === 'owner') return 'ok';
  if (need === 'user') return 'ok';
  if (need === 'owner') return 403;
  if (caller === 'otherAdmin') return 404;
  return RANK[ROLE_OF[caller]!] >= RANK[need] ? 'ok' : 403;
}

beforeAll(async () => {
  h = await startHarness();
  for (const app of ['alpha', 'beta']) h.store.createApp({ name: app, runtime: 'node', repo: null, branch: null, port: app === 'alpha' ? 5001 : 5002 });
  h.store.setEnv('alpha', { DATABASE_URL: 'postgres://u:matrix-secret@db/x' });
  await h.repos.ensure('alpha');
  tokens.owner = OWNER_TOKEN;
  users.owner = 'owner';
  for (const c of ['admin', 'deploy', 'read'] as const) {
    users[c] = `${c}-a`;
    tokens[c] = (await h.tokenFor(users[c], { alpha: ROLE_OF[c]! })).token;
  }
  users.otherAdmin = 'admin-b';
  tokens.otherAdmin = (await h.tokenFor('admin-b', { beta: 'admin' })).token;
  users.revoked = 'revoked-u';
  const revoked = await h.tokenFor('revoked-u', { alpha: 'admin' });
  h.store.auth.revokeToken(revoked.id);
  tokens.revoked = revoked.token;
  users.expired = 'expired-u';
  tokens.expired = (await h.tokenFor('expired-u', { alpha: 'admin' }, { expiresAt: new Date(Date.now() - 1000).toISOString() })).token;
  tokens.none = undefined;
});

afterAll(async () => {
  await h?.close();
});

describe('role matrix (API)', () => {
  it('every route has a sample request and every change names an audit action', () => {
    for (const route of h.routes) {
      expect(SAMPLES[keyOf(route)], `no sample for ${keyOf(route)}: add one`).toBeDefined();
      expect(route.access.need, `${keyOf(route)}: its rule differs from the one this test expects (NEEDS)`).toBe(NEEDS[keyOf(route)]);
      if (route.method !== 'GET') expect(route.audit?.action, `${keyOf(route)} changes something but names no audit action`).toBeTruthy();
    }
  });

  it.each(CALLERS)('each route × %s answers the exact status its rule demands', async (caller) => {
    const failures: string[] = [];
    for (const route of h.routes) {
      const sample = SAMPLES[keyOf(route)]!;
      const wanted = expected(NEEDS[keyOf(route)]!, caller);
      let okStatus: number | undefined;
      if (wanted === 'ok') {
        const base = await sample('owner');
        okStatus = (await request(h.url, route.method, base.path, bearer(OWNER_TOKEN), base.body)).status;
        expect(okStatus, `${keyOf(route)} as owner`).toBeGreaterThanOrEqual(200);
        expect(okStatus, `${keyOf(route)} as owner`).toBeLessThan(300);
      }
      const s = await sample(caller);
      const got = await request(h.url, route.method, s.path, tokens[caller] ? bearer(tokens[caller]!) : undefined, s.body);
      const want = wanted === 'ok' ? okStatus! : wanted;
      if (got.status !== want) failures.push(`${route.method} ${s.path} as ${caller}: ${got.status}, want ${want} (${got.text.slice(0, 120)})`);
    }
    expect(failures).toEqual([]);
  });
});

describe('role matrix (git)', () => {
  const ops = [
    { op: 'fetch', path: '/alpha.git/info/refs?service=git-upload-pack', need: 'read' as const },
    { op: 'push', path: '/alpha.git/info/refs?service=git-receive-pack', need: 'deploy' as const },
  ];
  it.each(ops.flatMap((o) => CALLERS.map((c) => [o.op, c, o] as const)))('%s as %s', async (_op, caller, o) => {
    const got = await request(h.url, 'GET', o.path, tokens[caller] ? basic(tokens[caller]!) : undefined);
    const want = expected(o.need, caller);
    expect(got.status, got.text).toBe(want === 'ok' ? 200 : want);
  });
});

describe('what each caller sees', () => {
  it('GET /apps lists only visible apps; read sees config keys, not values', async () => {
    const names = async (c: Caller): Promise<string[]> => (JSON.parse((await request(h.url, 'GET', '/apps', bearer(tokens[c]!))).text) as { name: string }[]).map((a) => a.name);
    expect(await names('otherAdmin')).toEqual(['beta']);
    expect(await names('read')).toEqual(['alpha']);
    expect((await names('owner')).slice(0, 2)).toEqual(['alpha', 'beta']);
    const asRead = await request(h.url, 'GET', '/apps/alpha/config', bearer(tokens.read!));
    expect(asRead.text).not.toContain('matrix-secret');
    expect(JSON.parse(asRead.text)).toHaveProperty('DATABASE_URL');
    for (const p of ['/apps', '/apps/alpha', '/apps/alpha/releases']) expect((await request(h.url, 'GET', p, bearer(tokens.read!))).text, p).not.toContain('matrix-secret');
    expect((await request(h.url, 'GET', '/apps/alpha/config', bearer(tokens.deploy!))).text).toContain('matrix-secret');
  });

  it("a role on an app holds on its preview apps", async () => {
    h.store.createApp({ name: 'alpha-pr-1', runtime: 'node', repo: null, branch: null, port: 5003 });
    h.store.forges.reservePreview({ parent: 'alpha', number: 1, app: 'alpha-pr-1', headRef: 'feature', commit: 'abc' }, 5);
    expect((await request(h.url, 'GET', '/apps/alpha-pr-1', bearer(tokens.read!))).status).toBe(200);
    expect((await request(h.url, 'DELETE', '/apps/alpha-pr-1', bearer(tokens.read!))).status).toBe(403);
    expect((await request(h.url, 'GET', '/apps/alpha-pr-1', bearer(tokens.otherAdmin!))).status).toBe(404);
  });

  it('an unknown app is a 404 for owners and non-owners alike, so names do not leak', async () => {
    expect((await request(h.url, 'GET', '/apps/beta', bearer(tokens.admin!))).status).toBe(404);
    expect((await request(h.url, 'GET', '/apps/no-such-app', bearer(tokens.admin!))).status).toBe(404);
    expect((await request(h.url, 'GET', '/beta.git/info/refs?service=git-upload-pack', basic(tokens.admin!))).status).toBe(404);
  });

  it('revocation and user removal take effect at once, for the API and git, even for a token just used', async () => {
    const t = await h.tokenFor('short-lived', { alpha: 'deploy' });
    expect((await request(h.url, 'GET', '/apps/alpha', bearer(t.token))).status).toBe(200);
    expect((await request(h.url, 'DELETE', `/tokens/${t.id}`, bearer(t.token))).status).toBe(200);
    expect((await request(h.url, 'GET', '/apps/alpha', bearer(t.token))).status).toBe(401);
    expect((await request(h.url, 'GET', '/alpha.git/info/refs?service=git-upload-pack', basic(t.token))).status).toBe(401);
    const u = await h.tokenFor('leaver', { alpha: 'read' });
    expect((await request(h.url, 'GET', '/alpha.git/info/refs?service=git-upload-pack', basic(u.token))).status).toBe(200);
    expect((await request(h.url, 'DELETE', '/users/leaver', bearer(OWNER_TOKEN))).status).toBe(200);
    expect((await request(h.url, 'GET', '/alpha.git/info/refs?service=git-upload-pack', basic(u.token))).status).toBe(401);
  });

  it('a token is shown once and only its salted hash is stored', async () => {
    const created = JSON.parse((await request(h.url, 'POST', '/tokens', bearer(tokens.admin!), { name: 'laptop', expires: '90d' })).text) as { id: string; token: string; expiresAt: string };
    expect(created.token).toMatch(/^mp_[0-9a-f]{16}_/);
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const listed = (await request(h.url, 'GET', '/tokens', bearer(tokens.admin!))).text;
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.token.split('_')[2]);
    const row = h.store.auth.getToken(created.id)!;
    expect(row.hash.toString('hex')).not.toContain(Buffer.from(created.token.split('_')[2]!).toString('hex'));
    expect(row.salt.length).toBe(16);
  });
});
